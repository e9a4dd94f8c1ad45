"""An aborted run's report still accounts for every asset (issue 24, defect 3): one row per
asset per product per store, swatches included, for the products the abort left unstarted."""

from __future__ import annotations

from collections import Counter

import pytest

from linking import runs, services
from reports.models import Run
from reports.registry import abort_run
from tests.linking.runs.conftest import work

pytestmark = pytest.mark.django_db(transaction=True)


def _planned_pairs(plan, store) -> Counter:
    """(product, asset) of every asset the dry run placed on a product: its S and swatches."""
    result = plan.results.get(store=store)
    return Counter(
        (row["product_id"], row["asset_id"])
        for row in result.rows
        if row.get("product_id") and row.get("asset_id") and row["action"] != "unlinked"
    )


def _reported_pairs(run) -> Counter:
    return Counter(
        run.rows.exclude(product_id="")
        .exclude(asset_id="")
        .exclude(action="unlinked")
        .values_list("product_id", "asset_id")
    )


def test_an_aborted_multi_store_run_reports_every_asset_of_every_product(
    sandbox, queue, monkeypatch
):
    stores = [sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2) for _ in "ab"]
    plan = services.plan_create(
        user=None,
        workspace=sandbox.workspace,
        data={
            "expression": "folder:products/*",
            "stores": [s.shop_domain for s in stores],
            "cloudinary_field": "metadata:sku",
            "shopify_field": "variant.sku",
            "link_mode": "append",
        },
    )
    plan = services.plan_dry_run(plan=plan)
    started = [runs.run_start_from_plan(plan=plan, store=s) for s in stores]
    # The merchant presses Abort on each run as its first wave of products starts to change.
    original = runs._Hooks.started_many

    def started_then_abort(self, started):
        original(self, started)
        run = Run.objects.get(pk=self.run.pk)
        if not run.abort_requested_at:
            abort_run(run=run)
            self.heartbeat.abort.set()  # what the run's heartbeat finds on its next beat

    monkeypatch.setattr(runs._Hooks, "started_many", started_then_abort)
    work(queue)

    for store, run in zip(stores, started, strict=True):
        run.refresh_from_db()
        assert run.status == Run.Status.ABORTED, (run.status, run.error)
        # the products of later waves were never started
        assert run.products.filter(before__isnull=True).exists()
        planned = _planned_pairs(plan, store)
        assert any(row["action"] == "swatch" for row in plan.results.get(store=store).rows)
        assert _reported_pairs(run) == planned
        not_started = run.products.filter(before__isnull=True)
        rows = run.rows.filter(product_id__in=not_started.values_list("product_id", flat=True))
        assert set(rows.values_list("action", flat=True)) == {"skipped"}
        assert all("aborted" in r.message for r in rows)


def test_a_run_aborted_before_it_started_reports_every_asset(sandbox, queue):
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)
    plan = services.plan_create(
        user=None,
        workspace=sandbox.workspace,
        data={"expression": "folder:products/*", "stores": [store.shop_domain],
              "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku"},
    )  # fmt: skip
    plan = services.plan_dry_run(plan=plan)
    run = runs.run_start_from_plan(plan=plan, store=store)
    abort_run(run=run)
    work(queue)

    run.refresh_from_db()
    assert run.status == Run.Status.ABORTED
    assert _reported_pairs(run) == _planned_pairs(plan, store)
