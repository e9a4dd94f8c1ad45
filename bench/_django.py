"""Django set-up for the benchmark scripts (run from the repository root)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path


def setup() -> None:
    root = Path(__file__).resolve().parent.parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assetlink_project.settings")
    import django

    django.setup()
    from assetlink_project import embedded_redis

    embedded_redis.start_if_embedded()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
