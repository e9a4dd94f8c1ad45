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


@pytest.mark.slow
@pytest.mark.django_db
def test_a_worker_of_every_queue_takes_the_runs_queues_before_default():
    """A sync rule's debounce job (default) queued first does not go before a dry run (links)."""
    default = django_rq.get_queue("default", commit_mode="auto")
    links = django_rq.get_queue("links", commit_mode="auto")
    first = default.enqueue("assetlink_project.tasks.ping", "default")
    second = links.enqueue("assetlink_project.tasks.ping", "links")
    env = dict(os.environ)
    if url := database_url_of_this_session():
        env["DATABASE_URL"] = url
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "worker", "--burst"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        first.refresh()
        second.refresh()
        assert first.is_finished and second.is_finished
        assert second.ended_at <= first.started_at
    finally:
        first.delete()
        second.delete()
