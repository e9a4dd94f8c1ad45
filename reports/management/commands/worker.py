"""`python manage.py worker [--queues links,uploads]`: an RQ worker on AssetLink's queues
(dry_runs, links, uploads, default; all of them unless --queues names some). A worker takes the
first queue's jobs first: without --queues, dry runs (a person waits for them) come first, then
the runs' queues, then `default` (sync rules' jobs, which only queue link runs). Production
runs workers per queue (Procfile), so a dry run never waits behind a run.

Beside the worker, a sweeper thread looks for runs whose worker died (stale heartbeat, store
lock free) every `--sweep-seconds` and queues them again, so a run left behind by a killed worker
resumes by itself once any worker is up. Sweeps of several workers are serialised by a Redis lock.
The same thread deletes webhook deliveries older than WEBHOOK_RETENTION_DAYS once an hour, and
runs the apps' periodic checks (reports.registry), such as queueing the nightly reconciliation
of sync rules that are due.
"""

import contextlib
import logging
import threading
import time

import redis
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

logger = logging.getLogger(__name__)


def sweep_dead_runs() -> list[int]:
    """One sweep: resume every dead run (at most one sweeper at a time across workers)."""
    from reports.engine import resume_dead_runs

    client = redis.Redis.from_url(settings.REDIS_URL)
    lock = client.lock("assetlink:sweep-dead-runs", timeout=60, blocking=False)
    if not lock.acquire(blocking=False):
        return []
    try:
        return resume_dead_runs()
    finally:
        # The lock may have expired during a long sweep; the next sweep takes it again.
        with contextlib.suppress(redis.exceptions.LockError):
            lock.release()


PRUNE_EVERY_SECONDS = 3600


def prune_old_deliveries() -> int:
    from stores.services import webhook_deliveries_prune

    return webhook_deliveries_prune()


def run_periodic_checks() -> None:
    """The apps' periodic checks (reports.registry), e.g. sync rules due for reconciliation."""
    from reports.registry import periodic_checks

    for check in periodic_checks():
        try:
            check()
        except Exception:  # the next sweep tries again
            logger.exception("Periodic check %s failed", getattr(check, "__name__", check))


def _sweep_forever(stop: threading.Event, every: float) -> None:
    pruned_at: float | None = None
    while not stop.wait(every):
        close_old_connections()  # a long-lived thread: drop connections the database closed
        try:
            resumed = sweep_dead_runs()
            if resumed:
                logger.warning("Resumed runs left behind by a dead worker: %s", resumed)
        except Exception:  # keep sweeping; a failed sweep is retried next time
            logger.exception("Sweep for dead runs failed")
        run_periodic_checks()
        if pruned_at is None or time.monotonic() - pruned_at >= PRUNE_EVERY_SECONDS:
            pruned_at = time.monotonic()
            try:
                prune_old_deliveries()
            except Exception:  # retried at the next hour
                logger.exception("Deleting old webhook deliveries failed")


class Command(BaseCommand):
    help = "Run an RQ worker on all AssetLink queues (and resume runs of dead workers)."

    def add_arguments(self, parser):
        parser.add_argument("--burst", action="store_true", help="Exit when the queues are empty.")
        parser.add_argument(
            "--queues",
            default="",
            help="Comma-separated queues to work on, in priority order (default: all of "
            "dry_runs, links, uploads, default). Production runs workers per queue (docs/deploy.md).",
        )
        parser.add_argument(
            "--sweep-seconds",
            type=float,
            default=10.0,
            help="How often to look for runs left behind by a dead worker (0: never).",
        )

    def handle(self, *args, **options):
        queues = [q.strip() for q in options["queues"].split(",") if q.strip()] or sorted(
            settings.RQ_QUEUES, key=lambda name: name == "default"
        )
        unknown = sorted(set(queues) - set(settings.RQ_QUEUES))
        if unknown:
            raise CommandError(
                f"Unknown queue(s) {', '.join(unknown)}; the queues are "
                f"{', '.join(settings.RQ_QUEUES)}."
            )
        stop = threading.Event()
        if options["sweep_seconds"] > 0 and not options["burst"]:
            sweep_dead_runs()  # at start: runs the previous worker left behind
            threading.Thread(
                target=_sweep_forever,
                args=(stop, options["sweep_seconds"]),
                name="dead-run-sweeper",
                daemon=True,
            ).start()
        try:
            call_command("rqworker", *queues, burst=options["burst"], with_scheduler=False)
        finally:
            stop.set()
