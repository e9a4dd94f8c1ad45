"""Dry runs as background jobs: start (queued on the ``dry_runs`` RQ queue, served by workers
of its own, so a dry run never waits behind a run however busy the link workers are), execute (:func:`linking.services.plan_dry_run` with a watch that writes the
phase of every store to the row and reads cancel), cancel, and the progress the page polls.
The job machinery (:func:`enqueue_job`, :func:`run_job`, cancel, lost workers) serves any
:class:`~linking.models.DryRunJob`: upload batches' dry runs (``uploads.dry_runs``) too.

Lifecycle: ``queued`` → ``running`` → ``succeeded`` | ``failed`` | ``cancelled``. A dry run
writes nothing to Shopify, and its result replaces the plan's only when it is complete (one
transaction, and only if the plan was not edited meanwhile), so cancelling or a dead worker
leaves the previous result as it was. A running dry run whose heartbeat is older than
STALE_AFTER lost its worker: it reads as failed, and a new one can start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from assetlink_project.errors import ApplicationError
from linking import services
from linking.models import DryRun, DryRunJob, Plan
from stores import permissions, principals
from stores.services import setup_for_run

logger = logging.getLogger(__name__)

QUEUE = "dry_runs"
HEARTBEAT_SECONDS = 1.0
STALE_AFTER = timedelta(seconds=30)
LOST = "The worker running this dry run stopped; start it again."


def dry_run_start(*, plan: Plan, user=None) -> DryRun:
    """Queue a dry run of ``plan`` (the one already queued or running, if any)."""
    setup_for_run(plan.workspace)
    return start_job(
        plan.dry_runs,
        enqueue,
        created_by=principals.django_user(user),
        stores_total=plan.stores.count(),
    )


def start_job(dry_runs, enqueue_one: Callable[[int], None], **fields) -> DryRunJob:
    """A new dry run in ``dry_runs`` (a plan's or a batch's), queued by ``enqueue_one`` once
    the transaction commits — or the one already queued or running there."""
    active = latest_of(dry_runs)
    if active is not None and active.is_active:
        return active
    dry_run = dry_runs.create(phase="Queued", **fields)
    transaction.on_commit(lambda: enqueue_one(dry_run.pk))
    return dry_run


def queue_name() -> str:
    """The queue of every dry run, a plan's or an upload batch's (``DRY_RUN_QUEUE``, by default
    ``dry_runs``): workers of its own serve it (Procfile, compose.yaml, ``make serve``)."""
    return getattr(settings, "DRY_RUN_QUEUE", QUEUE)


def enqueue(dry_run_id: int) -> None:
    enqueue_job("linking.tasks.execute_dry_run", dry_run_id, f"dry run {dry_run_id}")


def enqueue_job(task: str, dry_run_id: int, description: str) -> None:
    """Queue a dry run's job on the dry runs' queue (never behind a run: a person waits)."""
    import django_rq

    django_rq.get_queue(queue_name()).enqueue(
        task, dry_run_id, job_timeout=3600, description=description
    )


def dry_run_cancel(*, dry_run: DryRunJob) -> DryRunJob:
    """Stop a dry run: a queued one at once, a running one within a second or two (the
    plan or batch keeps its previous result)."""
    now = timezone.now()
    rows = type(dry_run).objects.filter(pk=dry_run.pk)
    rows.filter(cancel_requested_at__isnull=True).update(cancel_requested_at=now)
    rows.filter(status=DryRunJob.Status.QUEUED).update(
        status=DryRunJob.Status.CANCELLED, finished_at=now, phase="Cancelled"
    )
    dry_run.refresh_from_db()
    return dry_run


def cancel_active(plan: Plan) -> None:
    """The plan changed: a dry run of its old configuration stops (its result would not
    describe the plan)."""
    for dry_run in plan.dry_runs.filter(status__in=DryRun.ACTIVE):
        dry_run_cancel(dry_run=dry_run)


def latest(plan: Plan) -> DryRun | None:
    return latest_of(plan.dry_runs)


def latest_of(dry_runs) -> DryRunJob | None:
    """The newest of ``dry_runs`` (a plan's or a batch's), settled as failed if its worker
    was lost."""
    dry_run = dry_runs.order_by("-created_at", "-id").first()
    if dry_run is not None:
        _settle_if_lost(dry_run)
    return dry_run


def _settle_if_lost(dry_run: DryRunJob) -> None:
    if dry_run.status != DryRunJob.Status.RUNNING:
        return
    beat = dry_run.heartbeat_at or dry_run.started_at or dry_run.created_at
    if beat < timezone.now() - STALE_AFTER:
        type(dry_run).objects.filter(pk=dry_run.pk, status=DryRunJob.Status.RUNNING).update(
            status=DryRunJob.Status.FAILED, finished_at=timezone.now(), error=LOST, phase="Failed"
        )
        dry_run.refresh_from_db()


def dry_run_json(dry_run: DryRun, reach=None) -> dict:
    """The progress of a plan's dry run as told to a caller reaching the stores `reach`."""
    outside = outside_reach(dry_run.plan.stores.all(), reach)
    return {"id": dry_run.pk, "plan": dry_run.plan_id, **job_json(dry_run, outside)}


def outside_reach(stores, reach) -> list:
    """The `stores` of a dry run's plan or batch that a caller reaching `reach` does not reach
    (none when `reach` is None: the command line, the worker)."""
    return [] if reach is None else list(stores.exclude(pk__in=reach))


def job_json(dry_run: DryRunJob, outside=()) -> dict:
    """The progress the page polls (without the id of what is dry-run), naming none of the
    stores `outside` the caller's reach: their phases are left out, and their domains in the
    phase and the error are "another store"."""
    hidden = {store.shop_domain for store in outside}
    return {
        "status": dry_run.status,
        "phase": permissions.without_stores(dry_run.phase, outside),
        "stores": {
            domain: permissions.without_stores(str(phase), outside)
            for domain, phase in (dry_run.stores or {}).items()
            if domain not in hidden
        },
        "stores_done": dry_run.stores_done,
        "stores_total": dry_run.stores_total,
        "cancel_requested": dry_run.cancel_requested_at is not None,
        "created_at": dry_run.created_at,
        "started_at": dry_run.started_at,
        "finished_at": dry_run.finished_at,
        "error": permissions.without_stores(dry_run.error, outside),
    }


class _RowWatch(services.DryRunWatch):
    """Phases go to the row (stores' phases too, from their threads); a heartbeat thread
    keeps ``heartbeat_at`` fresh and reads the cancel flag once a second."""

    def __init__(self, dry_run: DryRunJob):
        self.pk = dry_run.pk
        self.model = type(dry_run)
        self.stores: dict[str, str] = {}
        self.done: set[str] = set()
        self.lock = threading.Lock()
        self.cancel = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"dry-run-{self.pk}", daemon=True)

    def _beat(self) -> None:
        try:
            while not self.stop.wait(HEARTBEAT_SECONDS):
                self.model.objects.filter(pk=self.pk).update(heartbeat_at=timezone.now())
                if self.model.objects.filter(
                    pk=self.pk, cancel_requested_at__isnull=False
                ).exists():
                    self.cancel.set()
        except Exception:  # the heartbeat must not end the job; a stale one reads as lost
            logger.exception("Dry run %s: heartbeat failed", self.pk)
        finally:
            close_old_connections()

    def phase(self, text: str) -> None:
        self.model.objects.filter(pk=self.pk).update(phase=text[:200], heartbeat_at=timezone.now())
        self.check()

    def store_phase(self, domain: str, text: str, *, done: bool = False) -> None:
        with self.lock:  # the stores' threads write in turn: a later phase is never undone
            self.stores[domain] = text
            if done:
                self.done.add(domain)
            self.model.objects.filter(pk=self.pk).update(
                stores=dict(self.stores), stores_done=len(self.done), heartbeat_at=timezone.now()
            )
        self.check()

    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def check(self) -> None:
        if self.cancel.is_set():
            raise services.DryRunCancelled("The dry run was cancelled.")


def execute(dry_run_id: int) -> str:
    """The job of a plan's dry run (see :func:`run_job`)."""

    def work(dry_run: DryRun, watch: services.DryRunWatch) -> str:
        plan = services.plan_dry_run(plan=dry_run.plan, watch=watch)
        return plan.error if plan.status == Plan.Status.FAILED else ""

    return run_job(DryRun.objects.select_related("plan"), dry_run_id, work)


def run_job(rows, dry_run_id: int, work: Callable[[Any, services.DryRunWatch], str]) -> str:
    """Run the dry run ``dry_run_id`` of ``rows`` (a DryRunJob queryset) unless it ended
    (cancelled while queued, or done by an earlier attempt); safe to run twice. ``work`` does
    it, told the phases through the watch (which raises DryRunCancelled once cancelled), and
    returns an error message when it failed."""
    dry_run = rows.filter(pk=dry_run_id).first()
    if dry_run is None or dry_run.status != DryRunJob.Status.QUEUED:
        return dry_run.status if dry_run else "missing"
    model = type(dry_run)
    now = timezone.now()
    model.objects.filter(pk=dry_run.pk).update(
        status=DryRunJob.Status.RUNNING, started_at=now, heartbeat_at=now, phase="Starting"
    )
    watch = _RowWatch(dry_run)
    watch.thread.start()
    status, error, phase = DryRunJob.Status.SUCCEEDED, "", "Done"
    try:
        if dry_run.cancel_requested_at is not None:
            raise services.DryRunCancelled("The dry run was cancelled.")
        error = work(dry_run, watch)
        if error:
            status, phase = DryRunJob.Status.FAILED, "Failed"
    except services.DryRunCancelled as exc:
        status, error, phase = DryRunJob.Status.CANCELLED, exc.message, "Cancelled"
    except ApplicationError as exc:
        status, error, phase = DryRunJob.Status.FAILED, exc.message, "Failed"
    except Exception as exc:
        logger.exception("%s %s failed", model._meta.verbose_name, dry_run.pk)
        status, phase = DryRunJob.Status.FAILED, "Failed"
        error = f"The dry run stopped on an unexpected error ({type(exc).__name__}); try again."
    finally:
        watch.stop.set()
        watch.thread.join(timeout=5)
    model.objects.filter(pk=dry_run.pk).update(
        status=status, error=error[:2000], phase=phase, finished_at=timezone.now()
    )
    logger.info("%s %s: %s", model._meta.verbose_name, dry_run.pk, status)
    return status
