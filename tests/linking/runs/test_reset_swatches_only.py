"""A reset whose selection holds only a group's swatch sets the swatch metafield and leaves the
product's gallery as it is (the dry run says so) — the run did too, but with Reset's "S only"
and an empty S the executor emptied the gallery (its work carried the plan's reset mode, not
the planner's "swatches only: the gallery is not the run's business"). Found by the
whole-product state machine's soak (through a sync rule's reconciliation)."""

from __future__ import annotations

import pytest

from linking import runs, services
from reports.models import Run
from tests.linking.runs.conftest import gallery, work

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_reset_of_swatches_only_keeps_the_gallery(sandbox, queue):
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)
    swatch = next(a for a in sandbox.assets("tags=swatch") if a.get("metadata", {}).get("sku"))
    plan = services.plan_create(
        user=None, workspace=sandbox.workspace,
        data={"asset_ids": [swatch["asset_id"]], "stores": [store.shop_domain],
              "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku",
              "link_mode": "reset"},
    )  # fmt: skip
    plan = services.plan_dry_run(plan=plan)
    result = plan.results.get(store=store)
    planned = {p["product_id"]: p for p in result.products}
    assert planned, "the swatch's group matches a product"
    for product in planned.values():  # the promise: the gallery stays
        assert [m["media_id"] for m in product["after"]] == [
            m["media_id"] for m in product["before"]
        ]
    before = gallery(sandbox, store)

    run = runs.run_start_from_plan(plan=plan, store=store)
    work(queue)
    run.refresh_from_db()

    assert run.status == Run.Status.SUCCEEDED, run.error
    after = gallery(sandbox, store)
    for product_id in planned:
        assert [m["id"] for m in after[product_id]] == [m["id"] for m in before[product_id]]
    assert run.rows.filter(action="swatch").exists()
