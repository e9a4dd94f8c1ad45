"""RQ jobs of link runs. Jobs take ids, re-read rows and are safe to run twice (see
:func:`linking.runs.execute_run`)."""

from __future__ import annotations

from linking import runs
from reports.job_context import run_job_context


def execute_run(run_id: int) -> str:
    with run_job_context(run_id):
        return runs.execute_run(run_id)


def resume_dead_runs() -> list[int]:
    return runs.resume_dead_runs()
