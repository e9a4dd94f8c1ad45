"""RQ jobs of link runs. Jobs take ids, re-read rows and are safe to run twice (see
:func:`linking.runs.execute_run`)."""

from __future__ import annotations

from linking import runs


def execute_run(run_id: int) -> str:
    return runs.execute_run(run_id)


def resume_dead_runs() -> list[int]:
    return runs.resume_dead_runs()
