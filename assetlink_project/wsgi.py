"""The WSGI application (`gunicorn assetlink_project.wsgi`), loaded whole before it serves."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assetlink_project.settings")
application = get_wsgi_application()

# The URL configuration and the views it imports, now rather than in a first request.
get_resolver().url_patterns  # noqa: B018 (loads them)
# What is loaded now (modules, classes, settings, ~140,000 objects) lives as long as the
# process: move it out of the cyclic garbage collector's reach. Otherwise a web process's first
# full collections scan all of it — ~90 ms of CPU inside whichever request triggers them, and
# 250–500 ms of latency under load on a shared CPU (bench/api_latency.py saw it as a tail of a
# few requests per process). Later collections scan what requests leave behind only.
gc.collect()
gc.freeze()
