"""`make serve` (python -m assetlink_project.serve) with ASSETLINK_PROFILE=production: it migrates,
collects static files, starts gunicorn and the workers; static files are served hashed and
compressed by the app; plain HTTP is redirected except /healthz and /metrics; SIGTERM stops all."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
from django.conf import settings

from tests.assetlink_project.test_config import PRODUCTION_ENV
from tests.deploy.conftest import REDIS_DB, ROOT
from tests.linking.runs.conftest import _other_redis_db
from tests.processes import free_port

pytestmark = pytest.mark.slow


def test_make_serve_runs_the_production_profile_and_stops_on_sigterm(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(PRODUCTION_ENV)
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        REDIS_URL=_other_redis_db(settings.REDIS_URL, REDIS_DB),
        STATIC_ROOT=str(tmp_path / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        WORKERS_DRY_RUNS="1",
        WORKERS_LINKS="1",
        WORKERS_UPLOADS="1",
        WORKERS_DEFAULT="0",
        METRICS_TOKEN="serve-test-metrics",
    )
    serve = subprocess.Popen(
        [sys.executable, "-m", "assetlink_project.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = serve.stdout.readline()
            if not line:
                break
            output.append(line)
            if "Ctrl-C stops all" in line:
                break
        assert "is serving on port" in "".join(output), "".join(output)[-3000:]
        assert "dry_runs×1, links×1, uploads×1, default×0" in "".join(output)
        base = f"http://127.0.0.1:{port}"
        host = {"Host": "assetlink.example.com"}

        assert requests.get(f"{base}/healthz", headers=host, timeout=5).status_code == 200
        redirect = requests.get(f"{base}/api/session/", headers=host, allow_redirects=False)
        assert redirect.status_code == 301
        assert redirect.headers["Location"].startswith("https://assetlink.example.com/")

        manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["assetlink/app.css"]
        assert hashed != "assetlink/app.css"
        static = requests.get(
            f"{base}/static/{hashed}",
            headers={**host, "X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"},
            timeout=5,
        )
        assert static.status_code == 200 and static.headers["Content-Encoding"] == "gzip"
        assert "immutable" in static.headers["Cache-Control"]
        assert static.text == (ROOT / "pages/static/assetlink/app.css").read_text()

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the workers register with Redis as they start
            metrics = requests.get(
                f"{base}/metrics",
                headers={**host, "Authorization": "Bearer serve-test-metrics"},
                timeout=10,
            )
            assert metrics.status_code == 200
            if "assetlink_workers 3.0" in metrics.text:
                break
            time.sleep(0.5)
        assert "assetlink_workers 3.0" in metrics.text, metrics.text
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(timeout=30)
        finally:
            if serve.poll() is None:
                os.killpg(serve.pid, signal.SIGKILL)
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "gunicorn still listens after SIGTERM"
    leftover = subprocess.run(["pgrep", "-s", str(serve.pid)], capture_output=True, text=True)
    assert leftover.stdout.strip() == "", "processes of make serve outlived it"
