"""A real RQ worker process picks up jobs from the configured queues."""

import subprocess
import sys
import uuid
from pathlib import Path

import django_rq
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_worker_command_runs_a_queued_job():
    queue = django_rq.get_queue("default")
    token = uuid.uuid4().hex
    job = queue.enqueue("assetlink_project.tasks.ping", token)
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "worker", "--burst"],
            cwd=ROOT,
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
