"""An upload batch's dry run as a background job, like a plan's (:mod:`linking.dry_runs`: the
same job machinery, heartbeat, cancel and lost-worker rules), on the dry runs' queue of
its own, never behind a run: start, execute
(:func:`uploads.services.batch_dry_run` with a watch that writes its phase and reads cancel),
and the progress the page polls. The batch's result is replaced only when the dry run
completes."""

from __future__ import annotations

from linking import dry_runs as jobs
from stores import permissions, principals
from uploads import services
from uploads.models import UploadBatch, UploadDryRun


def dry_run_start(*, batch: UploadBatch, user=None, scope=None) -> UploadDryRun:
    """Queue a dry run of ``batch`` (the one already queued or running, if any); a caller
    narrowed to one store (``scope``, an API key) only if every store of the batch is within
    its reach."""
    _require_within_reach(batch, user, scope)
    return jobs.start_job(
        batch.dry_runs,
        enqueue,
        created_by=principals.django_user(user),
        stores_total=batch.stores.count(),
    )


def enqueue(dry_run_id: int) -> None:
    jobs.enqueue_job("uploads.tasks.execute_dry_run", dry_run_id, f"upload dry run {dry_run_id}")


def latest(batch: UploadBatch) -> UploadDryRun | None:
    return jobs.latest_of(batch.dry_runs)


def dry_run_cancel(*, dry_run: UploadDryRun, user=None, scope=None) -> UploadDryRun:
    _require_within_reach(dry_run.batch, user, scope)
    return jobs.dry_run_cancel(dry_run=dry_run)


def _require_within_reach(batch: UploadBatch, user, scope) -> None:
    if user is not None:  # None: the command line, whose operator holds the server
        permissions.require_within_reach(
            user, scope, batch.stores.all(), action="dry run this upload batch"
        )


def dry_run_json(dry_run: UploadDryRun, reach=None) -> dict:
    """The progress of a batch's dry run as told to a caller reaching the stores `reach`."""
    outside = jobs.outside_reach(dry_run.batch.stores.all(), reach)
    return {"id": dry_run.pk, "batch": dry_run.batch_id, **jobs.job_json(dry_run, outside)}


def execute(dry_run_id: int) -> str:
    """The job (see :func:`linking.dry_runs.run_job`)."""

    def work(dry_run: UploadDryRun, watch) -> str:
        batch = services.batch_dry_run(batch=dry_run.batch, watch=watch)
        return batch.error if batch.status == UploadBatch.Status.FAILED else ""

    return jobs.run_job(UploadDryRun.objects.select_related("batch"), dry_run_id, work)
