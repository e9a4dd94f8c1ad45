"""A real RQ worker process picks up jobs from the configured queues."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import django_rq
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _database_url_of_this_session() -> str | None:
    """The URL of the database the tests use, so the worker process reaches the same one."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    name = str(db["NAME"])
    if not name or "memory" in name:
        return None  # an in-memory SQLite test database: the worker checks its own file
    return f"sqlite:///{name}"


@pytest.mark.slow
@pytest.mark.django_db
def test_worker_command_runs_a_queued_job():
    queue = django_rq.get_queue("default", commit_mode="auto")
    token = uuid.uuid4().hex
    job = queue.enqueue("assetlink_project.tasks.ping", token)
    env = dict(os.environ)
    if url := _database_url_of_this_session():
        env["DATABASE_URL"] = url
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "worker", "--burst"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        job.refresh()
        assert job.is_finished, job.get_status()
        assert job.return_value() == {"token": token, "database": "ok"}
    finally:
        job.delete()
