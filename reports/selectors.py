"""Reads of runs and their reports, scoped to what a request may see."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from reports.models import Run, RunProduct
from stores import selectors as store_selectors


def runs_for_request(request) -> QuerySet[Run]:
    """Runs the request may see. ``work`` (the run's whole input, megabytes for a big run) is
    left out: reading progress costs the same whatever the run's size."""
    return (
        Run.objects.filter(store__in=store_selectors.stores_for_request(request))
        .select_related("store")
        .defer("work")
    )


# The columns a run's progress (reports.engine.run_progress) reads, and those the Runs tab's
# row (reports.api.run_json) adds: lists load only these — not the run's settings, timings or
# worker bookkeeping, nor the store's tokens or the user's password hash.
PROGRESS_FIELDS = (
    "store__shop_domain", "kind", "status", "phase", "ops_done", "ops_total", "products_done",
    "products_total", "failures", "calls", "points_requested", "points_actual", "throttled",
    "eta_seconds", "abort_requested_at", "started_at", "finished_at", "summary", "error",
    "undo_of",
)  # fmt: skip
RUN_ROW_FIELDS = (*PROGRESS_FIELDS, "created_by__username", "created_at", "link_mode", "plan")


def runs_progress_only(runs: QuerySet[Run]) -> QuerySet[Run]:
    """`runs` with the columns of their progress only (lists of runs)."""
    return runs.select_related("store").only(*PROGRESS_FIELDS)


def runs_listed(runs: QuerySet[Run]) -> QuerySet[Run]:
    """`runs` as the Runs tab lists them: the columns of RUN_ROW_FIELDS only."""
    return runs.select_related("store", "created_by").only(*RUN_ROW_FIELDS)


def with_work(products: Iterable[RunProduct]) -> list[RunProduct]:
    """``products`` (of any runs, in their order), each with its ``work``. A run started
    before RunProduct.work (reports 0006) kept every product's work in one document,
    ``Run.work["products"]``: for those the product's entry is read from there, once per run,
    so old runs still report, resume, retry and undo. Null when the run has no work for it."""
    products = list(products)
    legacy = {p.run_id for p in products if p.work is None}
    if legacy:
        works = {}
        for run_id, work in Run.objects.filter(pk__in=legacy).values_list("pk", "work"):
            for data in (work or {}).get("products") or ():
                works[(run_id, data["product_id"])] = data
        for product in products:
            if product.work is None:
                product.work = works.get((product.run_id, product.product_id))
    return products
