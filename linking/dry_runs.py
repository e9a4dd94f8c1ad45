"""Dry runs as background jobs: start (queued on the link runs' RQ queue, ahead of the runs
waiting there), execute (:func:`linking.services.plan_dry_run` with a watch that writes the
phase of every store to the row and reads cancel), cancel, and the progress the page polls.

Lifecycle: ``queued`` → ``running`` → ``succeeded`` | ``failed`` | ``cancelled``. A dry run
writes nothing to Shopify, and its result replaces the plan's only when it is complete (one
transaction, and only if the plan was not edited meanwhile), so cancelling or a dead worker
leaves the previous result as it was. A running dry run whose heartbeat is older than
STALE_AFTER lost its worker: it reads as failed, and a new one can start.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.db import close_old_connections, transaction
from django.utils import timezone

from assetlink_project.errors import ApplicationError
from linking import services
from linking.models import DryRun, Plan

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
STALE_AFTER = timedelta(seconds=30)
LOST = "The worker running this dry run stopped; start it again."


def dry_run_start(*, plan: Plan, user=None) -> DryRun:
    """Queue a dry run of ``plan`` (the one already queued or running, if any)."""
    active = latest(plan)
    if active is not None and active.is_active:
        return active
    dry_run = DryRun.objects.create(
        plan=plan,
        created_by=user if getattr(user, "pk", None) and hasattr(user, "username") else None,
        stores_total=plan.stores.count(),
        phase="Queued",
    )
    transaction.on_commit(lambda: enqueue(dry_run.pk))
    return dry_run


def enqueue(dry_run_id: int) -> None:
    import django_rq

    from linking.runs import _queue_name

    django_rq.get_queue(_queue_name()).enqueue(
        "linking.tasks.execute_dry_run",
        dry_run_id,
        job_timeout=3600,
        at_front=True,  # a person is waiting for it; queued link runs are not
        description=f"dry run {dry_run_id}",
    )


def dry_run_cancel(*, dry_run: DryRun) -> DryRun:
    """Stop a dry run: a queued one at once, a running one within a second or two (the
    plan keeps its previous result)."""
    now = timezone.now()
    DryRun.objects.filter(pk=dry_run.pk, cancel_requested_at__isnull=True).update(
        cancel_requested_at=now
    )
    DryRun.objects.filter(pk=dry_run.pk, status=DryRun.Status.QUEUED).update(
        status=DryRun.Status.CANCELLED, finished_at=now, phase="Cancelled"
    )
    dry_run.refresh_from_db()
    return dry_run


def cancel_active(plan: Plan) -> None:
    """The plan changed: a dry run of its old configuration stops (its result would not
    describe the plan)."""
    for dry_run in plan.dry_runs.filter(status__in=DryRun.ACTIVE):
        dry_run_cancel(dry_run=dry_run)


def latest(plan: Plan) -> DryRun | None:
    dry_run = plan.dry_runs.order_by("-created_at", "-id").first()
    if dry_run is not None:
        _settle_if_lost(dry_run)
    return dry_run


def _settle_if_lost(dry_run: DryRun) -> None:
    if dry_run.status != DryRun.Status.RUNNING:
        return
    beat = dry_run.heartbeat_at or dry_run.started_at or dry_run.created_at
    if beat < timezone.now() - STALE_AFTER:
        DryRun.objects.filter(pk=dry_run.pk, status=DryRun.Status.RUNNING).update(
            status=DryRun.Status.FAILED, finished_at=timezone.now(), error=LOST, phase="Failed"
        )
        dry_run.refresh_from_db()


def dry_run_json(dry_run: DryRun) -> dict:
    return {
        "id": dry_run.pk,
        "plan": dry_run.plan_id,
        "status": dry_run.status,
        "phase": dry_run.phase,
        "stores": dry_run.stores,
        "stores_done": dry_run.stores_done,
        "stores_total": dry_run.stores_total,
        "cancel_requested": dry_run.cancel_requested_at is not None,
        "created_at": dry_run.created_at,
        "started_at": dry_run.started_at,
        "finished_at": dry_run.finished_at,
        "error": dry_run.error,
    }


class _RowWatch(services.DryRunWatch):
    """Phases go to the row (stores' phases too, from their threads); a heartbeat thread
    keeps ``heartbeat_at`` fresh and reads the cancel flag once a second."""

    def __init__(self, dry_run: DryRun):
        self.pk = dry_run.pk
        self.stores: dict[str, str] = {}
        self.done: set[str] = set()
        self.lock = threading.Lock()
        self.cancel = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"dry-run-{self.pk}", daemon=True)

    def _beat(self) -> None:
        try:
            while not self.stop.wait(HEARTBEAT_SECONDS):
                DryRun.objects.filter(pk=self.pk).update(heartbeat_at=timezone.now())
                if DryRun.objects.filter(pk=self.pk, cancel_requested_at__isnull=False).exists():
                    self.cancel.set()
        except Exception:  # the heartbeat must not end the job; a stale one reads as lost
            logger.exception("Dry run %s: heartbeat failed", self.pk)
        finally:
            close_old_connections()

    def phase(self, text: str) -> None:
        DryRun.objects.filter(pk=self.pk).update(phase=text[:200], heartbeat_at=timezone.now())
        self.check()

    def store_phase(self, domain: str, text: str, *, done: bool = False) -> None:
        with self.lock:  # the stores' threads write in turn: a later phase is never undone
            self.stores[domain] = text
            if done:
                self.done.add(domain)
            DryRun.objects.filter(pk=self.pk).update(
                stores=dict(self.stores), stores_done=len(self.done), heartbeat_at=timezone.now()
            )
        self.check()

    def cancelled(self) -> bool:
        return self.cancel.is_set()

    def check(self) -> None:
        if self.cancel.is_set():
            raise services.DryRunCancelled("The dry run was cancelled.")


def execute(dry_run_id: int) -> str:
    """The job: run the dry run unless it ended (cancelled while queued, or done by an
    earlier attempt); safe to run twice."""
    dry_run = DryRun.objects.select_related("plan").filter(pk=dry_run_id).first()
    if dry_run is None or dry_run.status != DryRun.Status.QUEUED:
        return dry_run.status if dry_run else "missing"
    now = timezone.now()
    DryRun.objects.filter(pk=dry_run.pk).update(
        status=DryRun.Status.RUNNING, started_at=now, heartbeat_at=now, phase="Starting"
    )
    watch = _RowWatch(dry_run)
    watch.thread.start()
    status, error, phase = DryRun.Status.SUCCEEDED, "", "Done"
    try:
        if dry_run.cancel_requested_at is not None:
            raise services.DryRunCancelled("The dry run was cancelled.")
        plan = services.plan_dry_run(plan=dry_run.plan, watch=watch)
        if plan.status == Plan.Status.FAILED:
            status, error, phase = DryRun.Status.FAILED, plan.error, "Failed"
    except services.DryRunCancelled as exc:
        status, error, phase = DryRun.Status.CANCELLED, exc.message, "Cancelled"
    except ApplicationError as exc:
        status, error, phase = DryRun.Status.FAILED, exc.message, "Failed"
    except Exception as exc:
        logger.exception("Dry run %s failed", dry_run.pk)
        status, phase = DryRun.Status.FAILED, "Failed"
        error = f"The dry run stopped on an unexpected error ({type(exc).__name__}); try again."
    finally:
        watch.stop.set()
        watch.thread.join(timeout=5)
    DryRun.objects.filter(pk=dry_run.pk).update(
        status=status, error=error[:2000], phase=phase, finished_at=timezone.now()
    )
    logger.info("Dry run %s of plan %s: %s", dry_run.pk, dry_run.plan_id, status)
    return status
