"""The runs layer's engine room, shared by every run kind (link, undo, upload): progress, the
job shell (one run per store at a time under a Redis lock, heartbeat, abort flag, resume of runs
whose worker died, a safe stop when the machine fails under it), and reading a run's progress.

The guarantee every run kind keeps, and this shell enforces around it: for every product (or
file) a run touches, the run ends with it exactly at its planned state or exactly at its state
before — never in between, except while a live worker is still on it, and then a resume (by the
worker's sweeper when the worker died) finishes or rolls it back. A run ends ``succeeded``,
``completed_with_failures`` (some items rolled back or skipped, each with its reason),
``failed`` (nothing could be done, and why) or ``aborted``.

Run kinds plug in through :mod:`reports.registry`; ``linking`` and ``uploads`` use this module,
never the other way round.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import redis
from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from assetlink_project.errors import ApplicationError
from assetlink_project.redis_client import shared_redis
from reports import timings
from reports.models import Run
from reports.progress import Progress
from reports.registry import enqueue_run as enqueue_any

logger = logging.getLogger(__name__)


HEARTBEAT_SECONDS = 0.5


STALE_AFTER = timedelta(seconds=15)


LOCK_TTL = 20  # seconds; extended by the heartbeat, so a dead worker's lock expires soon


def _prefix() -> str:
    return getattr(settings, "LINK_RUN_REDIS_PREFIX", "assetlink:link-run")


class RunError(ApplicationError):
    pass


def is_dead(run: Run, now=None) -> bool:
    now = now or timezone.now()
    if run.status != Run.Status.RUNNING:
        return False
    try:
        if runs_redis().exists(_key(run.pk, "alive")):
            return False
    except redis.RedisError:
        pass
    beat = run.heartbeat_at or run.started_at or run.created_at
    return beat < now - STALE_AFTER and not _lock_held_by_other(run)


def run_resume(*, run: Run, force: bool = False) -> Run:
    """Queue again a run (of any kind) whose worker died, or that failed; it goes on where it
    stopped."""
    run.refresh_from_db()
    if run.status == Run.Status.RUNNING and not (force or is_dead(run)):
        raise RunError(f"Run {run.pk} is running (its worker is alive); nothing to resume.")
    if run.status not in (Run.Status.RUNNING, Run.Status.FAILED, Run.Status.QUEUED):
        raise RunError(f"Run {run.pk} is {run.status}; only a failed or stuck run can resume.")
    Run.objects.filter(pk=run.pk).update(status=Run.Status.QUEUED, phase="queued (resume)")
    transaction.on_commit(lambda: enqueue_any(run))
    run.refresh_from_db()
    return run


def resume_dead_runs(*, exclude: int | None = None) -> list[int]:
    """Queue again every run (link, undo or upload) left ``running`` by a dead worker."""
    resumed = []
    for run in Run.objects.filter(status=Run.Status.RUNNING).exclude(pk=exclude):
        if is_dead(run):
            logger.warning("Run %s (%s) lost its worker; resuming it", run.pk, run.kind)
            run_resume(run=run, force=True)
            resumed.append(run.pk)
    return resumed


def runs_redis():
    # One client (and connection pool) per process: progress reads of a list of running runs
    # reuse connections instead of opening one per run.
    return shared_redis()


def _key(run_id: int, what: str) -> str:
    return f"{_prefix()}:{run_id}:{what}"


def _clear_keys(run_id: int) -> None:
    """A new run starts with no flags (ids of a reset database may come back)."""
    try:
        runs_redis().delete(*(_key(run_id, k) for k in ("abort", "alive", "progress")))
    except redis.RedisError:
        logger.warning("Run %s: Redis unavailable when it was created", run_id)


def store_lock_name(store_id: int) -> str:
    return f"{_prefix()}:store:{store_id}"


def _lock_held_by_other(run: Run) -> bool:
    try:
        return bool(runs_redis().exists(store_lock_name(run.store_id)))
    except redis.RedisError:
        return False


def summarise_run(run: Run) -> dict:
    counts = Counter(run.rows.values_list("action", flat=True))
    summary = dict(sorted(counts.items()))
    Run.objects.filter(pk=run.pk).update(summary=summary, failures=counts.get("failed", 0))
    return summary


def default_client(store):
    from stores.clients import shopify_client

    # SHOPIFY_READ_TIMEOUT (environment or settings): the chaos benchmark's short timeouts.
    timeout = getattr(settings, "SHOPIFY_READ_TIMEOUT", None) or os.environ.get(
        "SHOPIFY_READ_TIMEOUT"
    )
    return shopify_client(store, **({"read_timeout": float(timeout)} if timeout else {}))


class Heartbeat(threading.Thread):
    """Writes progress every HEARTBEAT_SECONDS, keeps the store lock and reads the abort flag."""

    def __init__(self, run_id: int, progress: Progress, client, lock, started: float):
        super().__init__(name=f"run-{run_id}-heartbeat", daemon=True)
        self.run_id, self.progress, self.client, self.lock = run_id, progress, client, lock
        self.started = started
        self.abort = threading.Event()
        self.stop = threading.Event()
        self.lost_lock = threading.Event()
        """Another worker may hold the store now: the run stops at its next safe point."""

    def run(self) -> None:
        try:
            while not self.stop.wait(HEARTBEAT_SECONDS):
                self.beat()
        finally:
            close_old_connections()

    def beat(self) -> None:
        """Redis only: the worker's thread and the database's writers never contend (SQLite)."""
        try:
            if self.lock is not None:
                self.lock.extend(LOCK_TTL, replace_ttl=True)
        except redis.exceptions.LockError as exc:
            logger.error(
                "Run %s lost its store lock (%s); stopping at a safe point", self.run_id, exc
            )
            self.lost_lock.set()
            self.abort.set()
        except redis.RedisError as exc:
            logger.warning("Run %s: could not extend the store lock: %s", self.run_id, exc)
        try:
            r = runs_redis()
            r.set(_key(self.run_id, "progress"), json.dumps(self.live()), ex=3600)
            r.set(_key(self.run_id, "alive"), "1", ex=int(STALE_AFTER.total_seconds()))
            if r.exists(_key(self.run_id, "abort")):
                self.abort.set()
        except redis.RedisError as exc:
            logger.warning("Run %s: heartbeat failed: %s", self.run_id, exc)

    def live(self) -> dict:
        snap = self.progress.snapshot()
        ledger = self.client.ledger
        return {
            "phase": snap["phase"][:40],
            "ops_done": snap["ops_done"],
            "ops_total": snap["ops_total"],
            "products_done": snap["products_done"],
            "products_total": snap["products_total"],
            "failures": snap["failures"],
            "calls": ledger.calls,
            "points_requested": ledger.requested_points,
            "points_actual": ledger.actual_points,
            "throttled": ledger.throttled_seen,
            "eta_seconds": estimate_time_left(snap, ledger, self.client.bucket, self.started),
        }

    def save(self) -> None:
        """Write the progress to the run row (from the run's own thread)."""
        Run.objects.filter(pk=self.run_id).update(heartbeat_at=timezone.now(), **self.live())


def estimate_time_left(snap: dict, ledger, bucket, started: float) -> float | None:
    """Seconds left: the points the remaining products will cost (at this run's points per
    product) beyond what the bucket holds, at its restore rate — or the pace so far, whichever
    is longer (media processing, not points, may be what limits a run)."""
    done, total = snap["products_done"], snap["products_total"]
    if total and done >= total:
        return 0.0
    if not done:
        return None
    by_pace = (time.monotonic() - started) / done * (total - done)
    by_points = 0.0
    if bucket.restore_rate:
        remaining = ledger.actual_points / done * (total - done)
        by_points = max(0.0, remaining - (bucket.available() or 0.0)) / bucket.restore_rate
    return round(max(by_pace, by_points), 1)


def run_under_store_lock(
    run_id: int,
    execute_locked: Callable,
    *,
    abort: Callable,
    client_for: Callable | None = None,
    lock_wait: float | None = None,
) -> str:
    """The job shell every run kind shares: resume dead runs, leave finished or live runs alone,
    wait in line for the store's lock (one run per store at a time; an abort while waiting
    ends the run), then `execute_locked(run, lock, client_for)`."""
    resume_dead_runs_except(run_id)
    run = Run.objects.select_related("store").get(pk=run_id)
    if run.is_terminal:
        return run.status
    if run.status == Run.Status.RUNNING and not is_dead(run):
        return run.status
    lock = runs_redis().lock(
        store_lock_name(run.store_id), timeout=LOCK_TTL, blocking=True, thread_local=False
    )
    waited = 0.0
    while not lock.acquire(blocking_timeout=1):
        waited += 1
        run.refresh_from_db()
        if run.abort_requested_at is not None or run.is_terminal:
            if run.status == Run.Status.QUEUED:
                abort(run=run)
            return run.status
        Run.objects.filter(pk=run_id).update(phase="waiting for the store's previous run")
        if lock_wait is not None and waited >= lock_wait:
            return run.status
    try:
        return execute_locked(run, lock, client_for or default_client)
    finally:
        with contextlib.suppress(redis.RedisError):
            lock.release()


def mark_started(run: Run) -> Run:
    """Record that this worker (re)starts the run; returns the fresh row."""
    now = timezone.now()
    Run.objects.filter(pk=run.pk).update(
        status=Run.Status.RUNNING,
        started_at=run.started_at or now,
        heartbeat_at=now,
        attempts=run.attempts + 1,
        worker=f"{socket.gethostname()}:{threading.get_ident()}",
        phase="starting",
    )
    run.refresh_from_db()
    return run


def drive(
    run: Run,
    *,
    client,
    heartbeat: Heartbeat,
    progress: Progress,
    began: float,
    execute: Callable[[], bool],
    outcome: Callable[[], str],
    after: Callable[[str, str], None] | None = None,
    log: logging.Logger = logger,
    what: str = "Run",
) -> str:
    """The part of a run every kind shares once its executor is built: heartbeat and timings
    around ``execute()`` (False when an abort stopped it); a database error or a lost store
    lock interrupts the run (queued to go on where it stopped), a kill leaves it running for
    the sweeper, any other error fails it; the status is ``outcome()`` (from the rows) unless
    aborted or failed; ``after(status, error)`` settles the rows the run leaves; then the
    summary, the final row and the ledger in the log. Returns the run's status."""
    heartbeat.start()
    timer = timings.RunTimer(progress, client.ledger)
    timer.start(since=began)
    status, error = None, ""
    try:
        if not execute():
            status = Run.Status.ABORTED
    except DatabaseError as exc:
        heartbeat.stop.set()
        return interrupted(run, exc)
    except BaseException as exc:
        if not isinstance(exc, Exception):  # a simulated or real kill: leave it "running"
            heartbeat.stop.set()
            raise
        log.exception("%s %s failed", what, run.pk)
        status, error = Run.Status.FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        heartbeat.stop.set()
        heartbeat.join(timeout=5)
        timings.finish(run, timer)
    if heartbeat.lost_lock.is_set():
        return interrupted(run, RuntimeError("the store's lock was lost"))
    if status is None:
        status = outcome()
    progress.phase = status
    heartbeat.save()
    if after is not None:
        after(status, error)
    summarise_run(run)
    Run.objects.filter(pk=run.pk).update(
        status=status,
        finished_at=timezone.now(),
        phase=str(status),
        error=error,
        eta_seconds=0 if status in Run.ENDED else None,
    )
    log.info("%s %s %s: %s", what, run.pk, status, client.ledger)
    return status


def interrupted(run: Run, cause: BaseException) -> str:
    """The run stopped at a safe point for a reason of the machine, not of Shopify (a
    database error, the store's lock lost): queue it to go on where it stopped. Its journal
    says what is in flight, so going on creates nothing twice. If even that cannot be written,
    its heartbeat goes stale and a worker's sweeper resumes it."""
    logger.warning("Run %s interrupted (%s: %s); queueing it to go on", run.pk,
                   type(cause).__name__, cause)  # fmt: skip
    with contextlib.suppress(redis.RedisError):
        runs_redis().delete(_key(run.pk, "alive"))
    try:
        close_old_connections()
        Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING).update(
            status=Run.Status.QUEUED, phase="interrupted; queued to go on"
        )
        enqueue_any(run)
    except Exception:
        logger.exception("Run %s: could not queue it again; the sweeper will resume it", run.pk)
    return Run.Status.QUEUED


def resume_dead_runs_except(run_id: int) -> None:
    try:
        resume_dead_runs(exclude=run_id)
    except Exception:  # never let housekeeping stop this run
        logger.exception("Could not resume dead runs")


def live_progress(run: Run) -> dict:
    """The progress the worker publishes every HEARTBEAT_SECONDS (empty when not running)."""
    return live_progress_of(run.pk, run.status)


def live_progress_of(run_id: int, status: str) -> dict:
    """live_progress of the run `run_id` in `status` (for rows read without a model)."""
    if status != Run.Status.RUNNING:
        return {}
    try:
        raw = runs_redis().get(_key(run_id, "progress"))
    except redis.RedisError:
        return {}
    return json.loads(raw) if raw else {}


# A run's progress as the API shows it: the columns read as they are, in this order.
PROGRESS_COLUMNS = (
    "kind", "status", "phase", "ops_done", "ops_total", "products_done", "products_total",
    "failures", "calls", "points_requested", "points_actual", "throttled", "eta_seconds",
)  # fmt: skip
# What progress_json reads: Run.objects.values(*PROGRESS_VALUES) gives it without making a model
# instance per run (lists of runs).
PROGRESS_VALUES = (
    "id", "store__shop_domain", *PROGRESS_COLUMNS, "abort_requested_at", "started_at",
    "finished_at", "summary", "error", "undo_of",
)  # fmt: skip


def progress_json(values) -> dict:
    """A run's progress from `values` (a mapping of PROGRESS_VALUES, the live progress of a
    running run applied)."""
    data = {"id": values["id"], "store": values["store__shop_domain"]}
    for name in PROGRESS_COLUMNS:
        data[name] = values[name]
    data.update(
        abort_requested=values["abort_requested_at"] is not None,
        started_at=values["started_at"],
        finished_at=values["finished_at"],
        summary=values["summary"],
        error=values["error"],
        undo_of=values["undo_of"],
    )
    return data


def row_progress(row: dict) -> dict:
    """`row` (of Run.objects.values(*PROGRESS_VALUES, …)) with its live progress applied."""
    live = live_progress_of(row["id"], row["status"])
    return {**row, **live} if live else row


def run_values(run: Run) -> dict:
    """The PROGRESS_VALUES of a model instance."""
    values = {name: getattr(run, name) for name in PROGRESS_VALUES[2:-1]}
    values.update(id=run.pk, store__shop_domain=run.store.shop_domain, undo_of=run.undo_of_id)
    return values


def run_progress(run: Run) -> dict:
    live = live_progress(run)
    for name, value in live.items():
        setattr(run, name, value)
    return progress_json(run_values(run))


def request_abort(run: Run) -> Run:
    """Ask a run to stop at its next safe point (a queued run stops at once): the flag in
    Redis (read by the heartbeat) and in the database (read when Redis is away). Each kind's
    abort adds what its own report needs."""
    now = timezone.now()
    Run.objects.filter(pk=run.pk, abort_requested_at__isnull=True).update(abort_requested_at=now)
    try:
        runs_redis().set(_key(run.pk, "abort"), "1", ex=7 * 24 * 3600)
    except redis.RedisError:
        logger.warning("Run %s: abort flag not in Redis; the worker reads it from the database",
                       run.pk)  # fmt: skip
    Run.objects.filter(pk=run.pk, status=Run.Status.QUEUED).update(
        status=Run.Status.ABORTED, finished_at=now, phase="aborted"
    )
    run.refresh_from_db()
    return run
