"""RQ jobs of link runs. Jobs take ids, re-read rows and are safe to run twice (see
:func:`linking.runs.execute_run`)."""

from __future__ import annotations

from assetlink_project.logging_context import log_context
from linking import runs
from reports.job_context import run_job_context


def execute_run(run_id: int) -> str:
    with run_job_context(run_id):
        return runs.execute_run(run_id)


def resume_dead_runs() -> list[int]:
    return runs.resume_dead_runs()


def flush_sync_rule(rule_id: int) -> int | None:
    """The debounce job of a sync rule: waits for a quiet moment, then applies the changes."""
    from linking.sync import services as sync

    sync_run = sync.flush(rule_id)
    return sync_run.pk if sync_run else None


def reconcile_sync_rule(rule_id: int) -> int | None:
    from linking.sync import services as sync

    sync_run = sync.reconcile(rule_id)
    return sync_run.pk if sync_run else None


def execute_dry_run(dry_run_id: int) -> str:
    from linking import dry_runs

    with log_context(dry_run_id=dry_run_id):
        return dry_runs.execute(dry_run_id)
