"""Link runs end to end: dry run → run with a real RQ worker → the store's galleries and the
report; each mode twice (the second run changes nothing), Shopify-side failures."""

from __future__ import annotations

from collections import Counter

import pytest

from linking.models import LinkRecord
from reports.models import Run, RunProduct
from tests.linking.runs.conftest import dry_run, gallery, start_and_work, variant_images

MODES = [("append", None), ("prepend", None), ("reset", None), ("overwrite", None), ("position", 2)]


@pytest.fixture
def store(sandbox):
    # Two SKUs of the library have no product: unmatched groups.
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)


def _expected(plan, store, product_id, media_ids_before):
    """The dry run's gallery after, as (media id or asset id) per slot."""
    result = plan.results.get(store=store)
    product = next(p for p in result.products if p["product_id"] == product_id)
    return [m["asset_id"] if m["new"] else m["media_id"] for m in product["after"]]


def _actual(store, media):
    records = {r.media_id: r.asset_id for r in LinkRecord.objects.filter(store=store)}
    return [records.get(m["id"], m["id"]) for m in media]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode, position", MODES)
def test_each_mode_runs_as_planned_and_twice_changes_nothing(sandbox, store, queue, mode, position):
    config = {"link_mode": mode} | ({"position": position} if position else {})
    plan = dry_run(sandbox, store, **config)
    before = gallery(sandbox, store)

    run = start_and_work(queue, plan, store)

    assert run.status == Run.Status.SUCCEEDED, run.error
    assert run.products_done == run.products_total > 0
    assert run.ops_done == run.ops_total > 0
    after = gallery(sandbox, store)
    for product_id, media in after.items():
        if not plan.results.get(store=store).products or product_id not in {
            p["product_id"] for p in plan.results.get(store=store).products
        }:
            continue
        assert _actual(store, media) == _expected(plan, store, product_id, before[product_id])
        assert all(m["status"] == "READY" for m in media)
    counts = Counter(run.rows.values_list("action", flat=True))
    assert counts["created"] > 0 and counts["unmatched"] > 0 and counts["failed"] == 0
    # every asset of the selection has a row
    selection = {a["asset_id"] for a in sandbox.assets("folder:products/*")}
    assert selection <= set(run.rows.values_list("asset_id", flat=True))
    # variant images: the group's first image
    first = run.rows.filter(action="created", position_after__isnull=False).order_by("seq").first()
    assert any(first.media_id in ids for ids in variant_images(sandbox, store).values())

    plan2 = dry_run(sandbox, store, **config)
    second = start_and_work(queue, plan2, store)

    assert second.status == Run.Status.SUCCEEDED, second.error
    product_rows = second.rows.exclude(product_id="")
    assert set(product_rows.values_list("action", flat=True)) <= {"unchanged", "swatch"}
    assert not product_rows.filter(action="swatch").exclude(message="").exists()
    assert gallery(sandbox, store) == after
    assert second.ops_total == 0


@pytest.mark.django_db(transaction=True)
def test_a_product_whose_media_shopify_fails_to_process_is_rolled_back_to_its_gallery_before(
    sandbox, store, queue
):
    plan = dry_run(sandbox, store, link_mode="reset")
    before = gallery(sandbox, store)
    run = runs_start(plan, store, break_asset=True)
    from tests.linking.runs.conftest import work

    work(queue)
    run.refresh_from_db()

    assert run.status == Run.Status.COMPLETED_WITH_FAILURES
    failed = run.rows.get(action="failed")
    assert failed.error_code == "IMAGE_DOWNLOAD_FAILURE"
    assert "rolled back" in failed.message
    assert run.failures == 1
    # the product is exactly as before: same media, same order, same alt; nothing of ours left
    after = gallery(sandbox, store)
    assert after[failed.product_id] == before[failed.product_id]
    others = run.rows.filter(product_id=failed.product_id).exclude(pk=failed.pk)
    assert others.exists()
    assert all(r.action in ("skipped", "unchanged") for r in others)
    assert all(r.error_code == "ROLLED_BACK" for r in others if r.action == "skipped")
    assert not LinkRecord.objects.filter(store=store, product_id=failed.product_id).exists()
    assert RunProduct.objects.get(run=run, product_id=failed.product_id).status == "failed"
    # the other products completed
    done = RunProduct.objects.filter(run=run, status="done")
    assert done.exists()
    for product in done:
        assert after[product.product_id] != before[product.product_id]


def runs_start(plan, store, *, break_asset=False):
    from linking import runs

    plan_store = plan.results.get(store=store)
    works, urls, rows = runs.works_from_plan_store(plan_store)
    if break_asset:
        work = next(w for w in works if len(w.assets) >= 2)
        key = runs.identity_key(*work.assets[-1].identity)
        urls[key] = urls[key].replace("/image/upload/", "/image/upload/v1/missing/")
    return runs.run_start(store=store, works=works, urls=urls, rows=rows, plan=plan)
