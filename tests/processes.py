"""Helpers for tests that start AssetLink processes (workers, gunicorn) of their own."""

from __future__ import annotations

import socket

from django.db import connection


def database_url_of_this_session() -> str | None:
    """The URL of the database the tests use, so a child process reaches the same one."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    name = str(db["NAME"])
    if not name or "memory" in name:
        return None  # an in-memory SQLite test database: the worker checks its own file
    return f"sqlite:///{name}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
