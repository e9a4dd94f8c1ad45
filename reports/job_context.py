"""Log context of a run job: every line a job writes names its run, kind, store and workspace
(see assetlink_project.logging_context)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from assetlink_project.logging_context import log_context
from reports.models import Run


@contextlib.contextmanager
def run_job_context(run_id: int) -> Iterator[None]:
    where = (
        Run.objects.filter(pk=run_id)
        .values("kind", "store__shop_domain", "store__workspace_id")
        .first()
        or {}
    )
    with log_context(
        run_id=run_id,
        kind=where.get("kind"),
        store=where.get("store__shop_domain"),
        workspace_id=where.get("store__workspace_id"),
    ):
        yield
