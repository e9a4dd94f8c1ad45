"""The production-like stack as separate processes — gunicorn and `manage.py worker` — on the
tests' PostgreSQL database and a Redis database of their own, with the emulators of this module.

PostgreSQL is required (several processes write at once, as in production): CI's DATABASE_URL
points at the machine's PostgreSQL; without it these tests skip with a message. Redis is
REDIS_URL's server, or the embedded one, on database 10 (not the demo's 0, the browser tests' 11
nor the run tests' 13).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings

from tests.linking.runs.conftest import _other_redis_db
from tests.processes import database_url_of_this_session, free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 10


@pytest.fixture
def stack_env(transactional_db, tmp_path):
    """Environment of the stack's processes: the tests' database, Redis database 10 (emptied),
    JSON logs, a metrics token."""
    url = database_url_of_this_session()
    if not (url or "").startswith("postgres://"):
        pytest.skip(
            "tests/deploy run the stack on PostgreSQL: set DATABASE_URL=postgres://USER@HOST:5432/"
            "NAME (CI does; the tests use the test_NAME database)."
        )
    redis_url = _other_redis_db(settings.REDIS_URL, REDIS_DB)
    redis.Redis.from_url(redis_url).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        DJANGO_SETTINGS_MODULE="assetlink_project.settings",
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        LOG_FORMAT="json",
        METRICS_TOKEN="deploy-test-metrics",
        STATIC_ROOT=str(tmp_path / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        PYTHONUNBUFFERED="1",
    )
    yield env
    redis.Redis.from_url(redis_url).flushdb()


class Stack:
    """Processes started by a test, each in a process group of its own; all killed at the end."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen] = {}
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, *args: str, **env) -> subprocess.Popen:
        program = [sys.executable] if args[0] in ("-m", "manage.py") else []
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [*program, *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def gunicorn(self, **env) -> str:
        port = free_port()
        self.start(
            "web",
            str(Path(sys.executable).with_name("gunicorn")),
            "assetlink_project.wsgi",
            PORT=str(port),
            **env,
        )
        base = f"http://127.0.0.1:{port}"
        self.wait_healthy(base, host=env.get("APP_URL", base))
        return base

    def wait_healthy(self, base: str, host: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        headers = {"Host": host.split("://", 1)[1].split("/")[0]}
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{base}/healthz", headers=headers, timeout=2).status_code == 200:
                    return
            if self.procs["web"].poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not become healthy:\n{self.log('web')[-3000:]}")

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def stack(stack_env, tmp_path):
    running = Stack(stack_env, tmp_path / "logs")
    yield running
    running.stop()
