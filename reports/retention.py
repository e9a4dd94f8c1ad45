"""Keep data bounded: delete finished runs (their products and report rows) older than a cut-off,
after archiving each run's report as CSV. Runs in progress are never touched; once a run is
pruned it can no longer be undone (undo reads the galleries it saved)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from reports import csv
from reports.models import ReportRow, Run


@dataclass
class PruneResult:
    runs: int = 0
    report_rows: int = 0
    archived: list[Path] = field(default_factory=list)


def prunable_runs(older_than: timedelta, now=None):
    cutoff = (now or timezone.now()) - older_than
    return (
        Run.objects.exclude(status__in=Run.ACTIVE)
        .filter(Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff))
        .select_related("store")
        .order_by("id")
    )


def archive_run(run: Run, directory: Path) -> Path:
    """Write the run's report to DIRECTORY/<shop domain>/<report file name>."""
    path = directory / run.store.shop_domain / csv.filename(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", newline="", encoding="utf-8") as out:
        for chunk in csv.report_lines(run):
            out.write(chunk)
    partial.replace(path)  # a complete file or none
    return path


def prune_runs(
    *, older_than: timedelta, archive_dir: Path | None = None, dry_run: bool = False, now=None
) -> PruneResult:
    """Delete (one transaction per run, so locks stay short on a live database) every finished
    run older than `older_than`, archiving its report first when `archive_dir` is given."""
    result = PruneResult()
    for run in prunable_runs(older_than, now).iterator(chunk_size=200):
        rows = ReportRow.objects.filter(run=run).count()
        if archive_dir is not None:
            result.archived.append(archive_run(run, archive_dir))
        if not dry_run:
            with transaction.atomic():
                Run.objects.filter(pk=run.pk).delete()
        result.runs += 1
        result.report_rows += rows
    return result
