"""A real RQ worker process picks up jobs from the configured queues."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import django_rq
import pytest

from tests.processes import database_url_of_this_session

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.django_db
def test_worker_command_runs_a_queued_job():
    queue = django_rq.get_queue("default", commit_mode="auto")
    token = uuid.uuid4().hex
    job = queue.enqueue("assetlink_project.tasks.ping", token)
    env = dict(os.environ)
    if url := database_url_of_this_session():
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
