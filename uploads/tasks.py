"""RQ jobs of upload runs and upload dry runs. Jobs take ids, re-read rows and are safe to run twice (see
:func:`uploads.runs.execute_upload_run`)."""

from __future__ import annotations

from assetlink_project.logging_context import log_context
from reports.job_context import run_job_context
from uploads import runs


def execute_upload_run(run_id: int) -> str:
    with run_job_context(run_id):
        return runs.execute_upload_run(run_id)


def resume_dead_uploads() -> list[int]:
    return runs.resume_dead_uploads()


def execute_dry_run(dry_run_id: int) -> str:
    from uploads import dry_runs

    with log_context(upload_dry_run_id=dry_run_id):
        return dry_runs.execute(dry_run_id)
