"""Migration 0004 keeps every stored dry-run result: its products become PlanProduct rows with
their report rows, the other rows stay on the result, and the summary counts are kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("linking", "0005_sync_rule_delta_plans")]
AFTER = [("linking", "0006_dry_run_jobs_and_planned_products")]


@pytest.mark.django_db(transaction=True)
def test_stored_results_are_split_per_product():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    workspace = old.get_model("stores", "Workspace").objects.create(name="W")
    store = old.get_model("stores", "Store").objects.create(
        workspace=workspace, shop_domain="m-1.myshopify.com"
    )
    plan = old.get_model("linking", "Plan").objects.create(
        workspace=workspace, cloudinary_field="metadata:sku", shopify_field="variant.sku",
        link_mode="append", alt_source="keep_shopify",
    )  # fmt: skip
    products = [
        {"product_id": "P1", "operation_count": 2, "after": []},
        {"product_id": "P2", "operation_count": 0, "after": []},
    ]
    rows = [
        {"product_id": "P1", "asset_id": "a1", "action": "created"},
        {"product_id": None, "asset_id": "a9", "action": "unmatched"},
        {"product_id": "P2", "asset_id": "a2", "action": "unchanged"},
        {"product_id": "P1", "asset_id": "a3", "action": "created"},
    ]
    groups = [
        {"value": "S1", "matched": True, "assets": ["a1", "a3"], "products": []},
        {"value": "S2", "matched": True, "assets": ["a2"], "products": []},
        {"value": "S9", "matched": False, "assets": ["a9"], "products": []},
    ]
    old.get_model("linking", "PlanStore").objects.create(
        plan=plan, store=store, products=products, rows=rows, groups=groups
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    result = new.get_model("linking", "PlanStore").objects.get()
    planned = list(new.get_model("linking", "PlanProduct").objects.order_by("seq"))
    assert [(p.product_id, p.operation_count, p.data) for p in planned] == [
        ("P1", 2, products[0]), ("P2", 0, products[1])
    ]  # fmt: skip
    assert [r["asset_id"] for r in planned[0].rows] == ["a1", "a3"]
    assert [r["asset_id"] for r in planned[1].rows] == ["a2"]
    assert [r["asset_id"] for r in result.static_rows] == ["a9"]
    assert (result.product_count, result.products_changed, result.operations) == (2, 1, 2)
    assert result.assets_matched == 3
    totals = new.get_model("linking", "Plan").objects.get().totals
    assert totals == {"assets": 3, "groups": 2, "stores": [store.pk]}

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
