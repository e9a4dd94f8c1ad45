"""Reads of upload batches, their runs and their reports, scoped to what a request may see."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Prefetch, QuerySet

from reports import csv as reports_csv
from reports import engine
from reports import selectors as reports_selectors
from reports.models import Run
from stores import selectors as store_selectors
from stores.models import Store
from uploads.models import UploadBatch, UploadItem

COLUMNS = reports_csv.COLUMNS


ROWS_LIMIT = 500


def run_rows(run: Run, actions: list[str]) -> dict:
    """The run's rows (at most ROWS_LIMIT, with the count); failed ones say what happened and
    what to do (as link runs' rows do)."""
    from reports.failures import explain

    items = UploadItem.objects.filter(run=run)
    if actions:
        items = items.filter(action__in=actions)
    fields = ("asset_id", "public_id", "filename", "file_id", "action", "error_code", "message")
    rows = []
    for row in items.values(*fields)[:ROWS_LIMIT]:
        if row["action"] == "failed":
            row.update(explain(row["error_code"], row["message"]))
        rows.append(row)
    return {"count": items.count(), "rows": rows}


def batches_for_request(request) -> QuerySet[UploadBatch]:
    """Batches of the request's workspaces; a session token or API key sees those that
    include its store."""
    batches = UploadBatch.objects.filter(
        workspace__in=store_selectors.workspaces_for_request(request)
    )
    if store_selectors.is_narrowed(request):
        batches = batches.filter(stores__in=store_selectors.stores_for_request(request)).distinct()
    # Only the columns a batch's summary shows of its stores and runs, as plain lists (no
    # queryset made per batch: a list of 50 batches costs two queries and little else).
    return batches.prefetch_related(
        Prefetch("stores", Store.objects.only("pk", "shop_domain"), to_attr="stores_read"),
        Prefetch(
            "runs", reports_selectors.runs_progress_only(Run.objects.all()), to_attr="runs_read"
        ),
    )


def _read(batch: UploadBatch, relation: str) -> list:
    """The batch's stores or runs as batches_for_request read them (else from the database)."""
    read = getattr(batch, f"{relation}_read", None)
    return read if read is not None else list(getattr(batch, relation).all())


def upload_runs_for_request(request) -> QuerySet[Run]:
    return (
        Run.objects.filter(
            kind=Run.Kind.UPLOAD, store__in=store_selectors.stores_for_request(request)
        )
        .select_related("store")
        .defer("work")  # progress reads cost the same whatever the run's size
    )


def batch_summary(batch: UploadBatch, *, store_ids=None, rows: bool = True) -> dict:
    """The dry run per store (counts and rows; `rows=False`, as lists give it: counts only —
    a row per asset per store is megabytes over fifty batches) and the batch's runs with their
    progress."""
    # From the rows batches_for_request prefetched (a list of batches costs no query per batch).
    stores = sorted(_read(batch, "stores"), key=lambda s: s.shop_domain)
    if store_ids is not None:
        allowed = set(store_ids)
        stores = [s for s in stores if s.pk in allowed]
    domains = [s.shop_domain for s in stores]
    dry_run = batch.dry_run or {}
    runs = sorted((r for r in _read(batch, "runs") if r.store_id in {s.pk for s in stores}),
                  key=lambda r: r.pk)  # fmt: skip
    return {
        "id": batch.pk,
        "status": batch.status,
        "workspace": batch.workspace_id,
        "asset_ids": batch.asset_ids,
        "expression": batch.expression,
        "stores": domains,
        "alt_source": batch.alt_source,
        "alt_field": batch.alt_field,
        "transformation": batch.transformation,
        "assets": len(batch.assets or ()),
        "unresolved_asset_ids": batch.unresolved_asset_ids,
        "dry_run_at": batch.dry_run_at,
        "dry_run": {
            d: dry_run[d] if rows else {k: v for k, v in dry_run[d].items() if k != "rows"}
            for d in domains
            if d in dry_run
        },
        "runs": [engine.run_progress(r) for r in runs],
        "error": batch.error,
    }


def report_lines(run: Run) -> Iterator[str]:
    """The upload report as CSV, a chunk at a time: the runs' one layout, one row per asset."""
    return reports_csv.report_lines(run)


def report_csv(run: Run) -> str:
    return "".join(report_lines(run))


def report_filename(run: Run) -> str:
    return f"assetlink-upload-{run.pk}-{run.store.shop_domain.split('.')[0]}.csv"


def failed_items(run_ids) -> int:
    return UploadItem.objects.filter(run_id__in=list(run_ids), action="failed").count()
