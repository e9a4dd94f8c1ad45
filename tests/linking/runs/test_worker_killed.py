"""A real ``manage.py worker`` (not ``--burst``) is SIGKILLed in the middle of a link run; a
second worker's sweeper thread — nothing the test calls — finds the run dead and resumes it,
and the run ends as planned with nothing lost and nothing duplicated. Shipped defaults."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django_rq
import pytest
import requests

from linking import runs
from reports.models import Run
from tests.assetlink_project.test_worker import _database_url_of_this_session
from tests.linking.runs.conftest import _other_redis_db, dry_run, gallery
from tests.linking.runs.test_failures import check_guarantee, seeded

ROOT = Path(__file__).resolve().parents[3]


def _worker(env: dict, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--sweep-seconds", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill_machine(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its work-horse (rq forks each job into a session of its own, so
    killing the worker's process group alone would leave the job running): as if the machine
    died, no clean-up of any kind."""
    children = subprocess.run(
        ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
    ).stdout.split()
    for pid in [worker.pid, *map(int, children)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=10)


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_s_run_is_resumed_by_another_worker_s_sweeper(sandbox, settings):
    # The production queue names on a Redis database of this test's own (15).
    url = _other_redis_db(settings.REDIS_URL, 15)
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {n: {**cfg, "URL": url} for n, cfg in settings.RQ_QUEUES.items()}
    django_rq.get_queue(runs.QUEUE).connection.flushdb()
    env = dict(os.environ, REDIS_URL=url, PYTHONUNBUFFERED="1",
               SHOPIFY_ADMIN_BASE_URL=settings.SHOPIFY_ADMIN_BASE_URL,
               CLOUDINARY_API_BASE_URL=settings.CLOUDINARY_API_BASE_URL)  # fmt: skip
    if db := _database_url_of_this_session():
        env["DATABASE_URL"] = db
    store = seeded(sandbox)
    plan = dry_run(sandbox, store, link_mode="overwrite")
    before = gallery(sandbox, store)
    # Shopify takes a while to process media: the run is mid-way for seconds.
    requests.post(f"{sandbox.shopify_url}/_control/config", json={"media_delay": 3.0}, timeout=10)
    first = second = None
    log = tempfile.TemporaryFile()  # noqa: SIM115 - the workers write to it until the end
    try:
        run = runs.run_start_from_plan(plan=plan, store=store)
        first = _worker(env, log)
        _wait(
            lambda: (
                runs.live_progress(Run.objects.get(pk=run.pk))
                .get("phase", "")
                .startswith("waiting")
            ),
            60,
            "the run to wait for Shopify",
        )
        _kill_machine(first)
        run.refresh_from_db()
        assert run.status == Run.Status.RUNNING and run.attempts == 1
        requests.post(
            f"{sandbox.shopify_url}/_control/config", json={"media_delay": 0.01}, timeout=10
        )
        second = _worker(env, log)
        _wait(
            lambda: Run.objects.filter(pk=run.pk, status__in=Run.ENDED + (Run.Status.FAILED,))
            .exists(),
            120,
            "the sweeper to resume the run and the run to end",
        )  # fmt: skip
    except AssertionError:
        log.seek(0)
        print(log.read().decode(errors="replace")[-6000:])  # the workers' output, to see why
        raise
    finally:
        requests.post(
            f"{sandbox.shopify_url}/_control/config", json={"media_delay": 0.01}, timeout=10
        )
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, (run.status, run.error)
    assert run.attempts == 2
    ended = check_guarantee(sandbox, store, plan, run, before)
    assert set(ended.values()) == {"after"}
