"""Chaos run: the link_run workload with injected faults and a worker killed mid-run.

Faults on the store (seeded): 5% HTTP 500, 5% THROTTLED answers, 2% responses slower than the
client's read timeout (SHOPIFY_READ_TIMEOUT=2 s, the emulator answers after 3 s — after running
the operation, so a mutation that timed out may well have been applied), 5% retryable userErrors
on every mutation the run makes, 2% answers lost after the mutation ran (HTTP 500); and, once
the run is resumed, the SQLite database locked for longer than the busy timeout. RQ workers run as
separate processes (`manage.py rqworker links`); once a third of the products are done the
worker and its work-horse are killed with SIGKILL, a new worker is started and the dead run is
resumed (`manage.py runs resume --dead`, as soon as its heartbeat has expired).

Prints: products half-changed (at neither their gallery before nor their plan), media lost,
duplicates, assets missing from the report — all targets 0.

    .venv/bin/python -m bench.chaos [--groups 200] [--per-group 5] [--media-delay 1.0]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import Sandbox, isolate_redis, make_workspace, prepare_environment
from bench.link_run import check, plan_and_dry_run

ROOT = Path(__file__).resolve().parent.parent


WORKERS: list[subprocess.Popen] = []


def stop_workers() -> None:
    for worker in WORKERS:
        if worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def start_worker(env: dict, log) -> subprocess.Popen:
    worker = subprocess.Popen(
        # SimpleWorker: the job runs in the worker process itself, so SIGKILL kills the run
        # (rq's default work-horse is forked into a session of its own and would survive).
        [sys.executable, "manage.py", "rqworker", "links", "--worker-class", "rq.SimpleWorker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group
    )
    WORKERS.append(worker)
    return worker


def lock_database(path: str, *, seconds: float) -> float:
    """Hold SQLite's write lock for ``seconds`` (a real lock, not a stub)."""
    import sqlite3

    started = time.monotonic()
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        connection.execute("ROLLBACK")
    finally:
        connection.close()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--per-group", type=int, default=5)
    parser.add_argument("--existing", type=int, default=5)
    parser.add_argument("--media-delay", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db-lock-seconds", type=float, default=35.0)
    args = parser.parse_args()

    db_path = prepare_environment("chaos")
    from bench._django import setup

    setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    redis_url = isolate_redis(db=15)
    from linking import runs
    from reports.models import Run

    sandbox = Sandbox(
        media_delay=args.media_delay,
        groups=args.groups,
        per_group=args.per_group,
        existing=args.existing,
    )
    domain = "bench-chaos.myshopify.com"
    token = sandbox.shop(domain)
    workspace, store = make_workspace(sandbox, domain, token)
    plan = plan_and_dry_run(workspace, store)
    before = sandbox.galleries(domain)
    faults = {"seed": args.seed, "http_500": 0.05, "throttled": 0.05, "slow": 0.02,
              "slow_seconds": 3.0, "shops": [domain],
              # Shopify says "retry" (userErrors), or runs a mutation and the answer is lost
              "user_errors": {"productUpdate": 0.05, "fileUpdate": 0.05,
                              "productReorderMedia": 0.05, "fileDelete": 0.05,
                              "metafieldsSet": 0.05},
              "lost_answers": {"*": 0.02}, "lost_answer_mode": "http_500"}  # fmt: skip
    sandbox.post(sandbox.shopify.url, "faults", faults)
    print(f"faults: {faults}")

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "assetlink_project.settings",
        "DATABASE_URL": f"sqlite:///{db_path}",
        "REDIS_URL": redis_url,
        "SHOPIFY_ADMIN_BASE_URL": settings.SHOPIFY_ADMIN_BASE_URL,
        "CLOUDINARY_API_BASE_URL": settings.CLOUDINARY_API_BASE_URL,
        "SHOPIFY_READ_TIMEOUT": "2",
    }
    log = open(Path(db_path).with_suffix(".workers.log"), "w")  # noqa: SIM115
    started = time.monotonic()
    run = runs.run_start_from_plan(plan=plan, store=store)
    worker = start_worker(env, log)
    kill_at = max(1, run.products_total // 3)
    while True:
        run.refresh_from_db()
        if run.products_done >= kill_at or run.is_terminal:
            break
        time.sleep(0.2)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    killed_at = time.monotonic()
    print(f"killed the worker (SIGKILL) at {run.products_done}/{run.products_total} products, "
          f"{killed_at - started:.1f}s in")  # fmt: skip

    worker = start_worker(env, log)
    while True:
        current = Run.objects.get(pk=run.pk)
        if current.is_terminal:
            raise SystemExit("The run ended before the worker was killed; use more products.")
        if runs.is_dead(current):
            break
        time.sleep(0.5)
    out = subprocess.run(
        [sys.executable, "manage.py", "runs", "resume", "--dead"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    print(f"new worker started; {out.stdout.strip()} ({time.monotonic() - killed_at:.1f}s after "
          "the kill: the heartbeat expires after 15 s)")  # fmt: skip
    # The database is locked for longer than the busy timeout (30 s) while the run goes on: its
    # writes fail with "database is locked", and the run must be queued to go on, not lost.
    while Run.objects.get(pk=run.pk).status != Run.Status.RUNNING:
        time.sleep(0.2)
    locked = lock_database(db_path, seconds=args.db_lock_seconds)
    print(f"database locked (BEGIN EXCLUSIVE) for {locked:.1f}s while the run went on")
    while True:
        run.refresh_from_db()
        if run.is_terminal:
            break
        time.sleep(0.5)
    os.killpg(worker.pid, signal.SIGTERM)
    worker.wait(timeout=30)
    sandbox.requests.delete(f"{sandbox.shopify.url}/_control/faults", timeout=10)
    calls = sandbox.get(f"shops/{domain}/calls")["calls"]
    outcomes = {}
    for call in calls:
        outcomes[call.get("outcome")] = outcomes.get(call.get("outcome"), 0) + 1
    results = check(sandbox, store, before, run)
    print(f"\nrun {run.pk}: {run.status} after {run.attempts} attempts, "
          f"{time.monotonic() - started:.1f}s, summary {run.summary}")  # fmt: skip
    print(f"emulator call outcomes (last {len(calls)} calls): {outcomes}")
    print(f"client (last attempt): {run.calls} calls, THROTTLED seen {run.throttled}")
    print(f"\nproducts half-changed: {results['half_changed']}")
    print(f"media lost: {results['lost']}")
    print(f"duplicates: {results['duplicates']}")
    print(f"assets missing from the report: {results['missing_from_report']}")
    print(f"(products at their gallery before, rolled back or not done: "
          f"{results['differs'] - results['half_changed']}; run outcome {run.status})")  # fmt: skip
    print(f"(failed report rows: {results['failed_rows']}; products: {results['products']})")


if __name__ == "__main__":
    atexit.register(stop_workers)
    try:
        main()
    finally:
        stop_workers()
