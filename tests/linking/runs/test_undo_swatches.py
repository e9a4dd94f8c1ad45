"""Undo gives back what a run did to swatches (issue 24, defect 1): every swatch metafield the
run wrote goes back to its value before (deleted where there was none), and the swatch files
the run created leave Files unless another link still uses them."""

from __future__ import annotations

import json

import pytest
import requests

from linking import runs
from linking.models import LinkRecord
from reports.models import Run
from tests.linking.runs.conftest import dry_run, undo_and_work, work

pytestmark = pytest.mark.django_db(transaction=True)


def _swatch_metafields(sandbox, store) -> dict[str, list[str]]:
    """Owner (product or variant) id → the file ids of its ``cloudinary.swatch`` metafield."""
    shop = sandbox.shop_state(store.shop_domain)
    return {
        owner["id"]: json.loads(mf["value"])
        for product in shop["products"]
        for owner in [product, *product["variants"]]
        for mf in owner.get("metafields") or ()
        if (mf["namespace"], mf["key"]) == ("cloudinary", "swatch")
    }


def _files(sandbox, store) -> set[str]:
    return {f["id"] for f in sandbox.shop_state(store.shop_domain)["files"]}


def _set_swatch(store, owner_id: str, file_ids: list[str]) -> None:
    from linking.runs import default_client
    from stores.shopify import operations as ops

    answer = default_client(store).execute(
        ops.METAFIELDS_SET,
        {"metafields": [{"ownerId": owner_id, "namespace": "cloudinary", "key": "swatch",
                         "type": "list.file_reference", "value": json.dumps(file_ids)}]},
    )  # fmt: skip
    assert not answer.data["metafieldsSet"]["userErrors"], answer.data


def _swatch_owners(plan, store) -> list[str]:
    result = plan.results.get(store=store)
    return [
        mf["owner_id"]
        for product in result.products
        for mf in product["operations"]["swatch_metafields"]
    ]


def _run(sandbox, queue, store, **config) -> Run:
    run = runs.run_start_from_plan(plan=dry_run(sandbox, store, **config), store=store)
    work(queue)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    return run


def test_undo_removes_the_swatch_metafields_and_files_the_run_created(sandbox, queue):
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)
    owners = _swatch_owners(dry_run(sandbox, store, link_mode="append"), store)
    assert len(owners) >= 2, "the seed has groups with swatches"
    # One variant had a swatch before the run (a file of the store's own): it gets it back.
    own_file = next(iter(_files(sandbox, store)))
    _set_swatch(store, owners[0], [own_file])
    metafields_before = _swatch_metafields(sandbox, store)
    files_before = _files(sandbox, store)

    run = _run(sandbox, queue, store, link_mode="append")
    swatch_files = set(
        LinkRecord.objects.filter(store=store, product_id="").values_list("media_id", flat=True)
    )
    assert swatch_files and swatch_files <= _files(sandbox, store)
    assert _swatch_metafields(sandbox, store) != metafields_before

    undo = undo_and_work(queue, run)

    assert undo.status == Run.Status.SUCCEEDED, (undo.status, undo.error)
    assert _swatch_metafields(sandbox, store) == metafields_before
    assert _files(sandbox, store) == files_before
    assert not LinkRecord.objects.filter(store=store, product_id="").exists()
    deleted = undo.rows.filter(product_id="", status="DELETED")
    assert set(deleted.values_list("media_id", flat=True)) == swatch_files
    assert all(r.action == "unlinked" and r.asset_id for r in deleted)
    # The report says which metafields the undo gave back.
    restored = set(undo.rows.filter(action="swatch").values_list("message", flat=True))
    assert restored and all("undo" in m for m in restored)


def test_undo_keeps_a_swatch_file_a_later_run_still_uses(sandbox, queue):
    """A later run places the same swatch file on a product the undone run never touched: undoing
    the first run restores its own products but leaves that file in Files, and says why."""
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)
    first = _run(sandbox, queue, store, link_mode="append")
    swatch_files = set(
        LinkRecord.objects.filter(store=store, product_id="").values_list("media_id", flat=True)
    )
    assert swatch_files
    # A new product with the SKU of a variant that got a swatch: the plan run again reuses it.
    shop = sandbox.shop_state(store.shop_domain)
    swatched = _swatch_metafields(sandbox, store)
    sku = next(v["sku"] for p in shop["products"] for v in p["variants"] if v["id"] in swatched)
    r = requests.post(
        f"{sandbox.shopify_url}/_control/shops/{store.shop_domain}/seed",
        json={"products": 1, "start": 900, "sku_start": int(sku.rsplit("-", 1)[1]),
              "sku_pattern": "SKU-{n:05d}", "media_per_product": 1},
        timeout=10,
    )  # fmt: skip
    r.raise_for_status()
    before = set(_swatch_metafields(sandbox, store))
    later = _run(sandbox, queue, store, link_mode="append")
    newcomer = {o: refs for o, refs in _swatch_metafields(sandbox, store).items()
                if o not in before}  # fmt: skip
    assert len(newcomer) == 1 and later.rows.filter(action="swatch").exists()
    used = set(next(iter(newcomer.values())))
    assert used <= swatch_files

    undo = undo_and_work(queue, first)

    assert undo.status == Run.Status.SUCCEEDED, (undo.status, undo.error)
    assert _swatch_metafields(sandbox, store) == newcomer
    files = _files(sandbox, store)
    assert used <= files and not (swatch_files - used) & files
    for file_id in used:
        kept = undo.rows.get(product_id="", media_id=file_id)
        assert kept.status != "DELETED" and "stays in Files" in kept.message
