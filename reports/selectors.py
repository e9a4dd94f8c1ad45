"""Reads of runs and their reports, scoped to what a request may see."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from reports import engine
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


# The columns the Runs list reads (reports.api.run_row_json), as rows (Run.objects.values): not
# a model instance per run, nor the run's settings, timings or worker bookkeeping, the store's
# tokens or the user's password hash.
RUN_ROW_VALUES = (
    *engine.PROGRESS_VALUES,
    "created_by__username",
    "api_key__label",
    "api_key__prefix",
    "created_at",
    "link_mode",
    "plan",
)


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
