"""RQ jobs of upload runs. Jobs take ids, re-read rows and are safe to run twice (see
:func:`uploads.runs.execute_upload_run`)."""

from __future__ import annotations

from reports.job_context import run_job_context
from uploads import runs


def execute_upload_run(run_id: int) -> str:
    with run_job_context(run_id):
        return runs.execute_upload_run(run_id)


def resume_dead_uploads() -> list[int]:
    return runs.resume_dead_uploads()
