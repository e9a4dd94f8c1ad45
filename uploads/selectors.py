"""Reads of upload batches, their runs and their reports, scoped to what a request may see."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import F, Func, IntegerField, JSONField, QuerySet

from reports import csv as reports_csv
from reports import engine
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
    return batches


def batch_relations(batch_ids: list[int], scope: QuerySet[Store]) -> dict[int, tuple]:
    """Per batch id: its stores within `scope` (the caller's) as (id, shop domain) in domain
    order, and the rows of its runs (engine.PROGRESS_VALUES), in id order — of every store:
    batch_summary shows those of the stores within scope only. Two queries whatever the number
    of batches, read as rows (no model instance per store or run: a list of 50 batches costs
    little more than one)."""
    related = {batch_id: ([], []) for batch_id in batch_ids}
    links = (
        UploadBatch.stores.through.objects.filter(uploadbatch_id__in=related, store__in=scope)
        .order_by("store__shop_domain")
        .values_list("uploadbatch_id", "store_id", "store__shop_domain")
    )
    for batch_id, store_id, domain in links:
        related[batch_id][0].append((store_id, domain))
    runs = (
        Run.objects.filter(upload_batches__in=related)
        .order_by("pk")
        .values("upload_batches", "store_id", *engine.PROGRESS_VALUES)
    )
    for row in runs:
        related[row.pop("upload_batches")][1].append(row)
    return related


def upload_runs_for_request(request) -> QuerySet[Run]:
    return (
        Run.objects.filter(
            kind=Run.Kind.UPLOAD, store__in=store_selectors.stores_for_request(request)
        )
        .select_related("store")
        .defer("work")  # progress reads cost the same whatever the run's size
    )


# The columns batch_summary reads.
BATCH_VALUES = (
    "id", "status", "workspace", "asset_ids", "expression", "alt_source", "alt_field",
    "transformation", "assets", "unresolved_asset_ids", "dry_run_at", "dry_run", "error",
)  # fmt: skip


class _JsonFunc(Func):
    """A function over a JSON column: `template` for SQLite, `postgresql_template` (jsonb)."""

    postgresql_template = ""

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template=self.postgresql_template, **extra)


class JsonArrayLength(_JsonFunc):
    """The number of items of a JSON array (NULL for anything else)."""

    output_field = IntegerField()
    template = (
        "CASE WHEN JSON_TYPE(%(expressions)s) = 'array' THEN JSON_ARRAY_LENGTH(%(expressions)s) END"
    )
    postgresql_template = (
        "CASE WHEN JSONB_TYPEOF(%(expressions)s) = 'array' "
        "THEN JSONB_ARRAY_LENGTH(%(expressions)s) END"
    )


class JsonWithoutRows(_JsonFunc):
    """A JSON object of objects (a dry run: per store its counts and rows) with each inner
    object's "rows" left out — what a list shows, read without sending the rows (a row per
    asset per store) from the database. NULL for an empty object or anything else."""

    output_field = JSONField()
    template = (
        "CASE WHEN JSON_TYPE(%(expressions)s) = 'object' THEN (SELECT JSON_GROUP_OBJECT("
        "e.key, JSON_REMOVE(e.value, '$.rows')) FROM JSON_EACH(%(expressions)s) AS e) END"
    )
    postgresql_template = (
        "CASE WHEN JSONB_TYPEOF(%(expressions)s) = 'object' THEN (SELECT JSONB_OBJECT_AGG("
        "e.key, e.value - 'rows') FROM JSONB_EACH(%(expressions)s) AS e) END"
    )


def batches_summarized(
    batches: QuerySet[UploadBatch], scope: QuerySet[Store], *, rows: bool = True
) -> list[dict]:
    """batch_summary of each of `batches`, read as rows (no model instance per batch, store or
    run): three queries whatever the number of batches. Without `rows` (lists), the selection
    is counted and the dry run's rows left out by the database: a batch's selection and rows
    (megabytes for a big batch) are not read to be counted or dropped."""
    if rows:
        values = list(batches.values(*BATCH_VALUES))
    else:
        columns = [name for name in BATCH_VALUES if name not in ("assets", "dry_run")]
        values = list(
            batches.values(
                *columns,
                assets_count=JsonArrayLength(F("assets")),
                dry_run_counts=JsonWithoutRows(F("dry_run")),
            )
        )
    related = batch_relations([v["id"] for v in values], scope)
    return [batch_summary(v, related[v["id"]], rows=rows) for v in values]


def batch_summary(values, related: tuple, *, rows: bool = True) -> dict:
    """The dry run per store (counts and rows; `rows=False`, as lists give it: counts only —
    a row per asset per store is megabytes over fifty batches) and the batch's runs with their
    progress. `values`: the batch's BATCH_VALUES (`rows=False`: with `assets_count` and
    `dry_run_counts` for `assets` and `dry_run`, as batches_summarized reads them); `related`:
    its stores and runs as batch_relations reads them."""
    stores, runs = related
    domains = [domain for _, domain in stores]
    store_ids = {store_id for store_id, _ in stores}
    if rows:
        assets, dry_run = len(values["assets"] or ()), values["dry_run"] or {}
    else:
        assets, dry_run = values["assets_count"] or 0, values["dry_run_counts"] or {}
    return {
        **{name: values[name] for name in BATCH_VALUES[:5]},
        "stores": domains,
        **{name: values[name] for name in BATCH_VALUES[5:8]},
        "assets": assets,
        "unresolved_asset_ids": values["unresolved_asset_ids"],
        "dry_run_at": values["dry_run_at"],
        "dry_run": {d: dry_run[d] for d in domains if d in dry_run},
        "runs": [  # those of its stores within scope (batch_relations reads every one's)
            engine.progress_json(engine.row_progress(r)) for r in runs if r["store_id"] in store_ids
        ],
        "error": values["error"],
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
