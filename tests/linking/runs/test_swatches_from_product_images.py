"""Swatches from product images: with the Setup setting on, a group without a swatch asset gets
a swatch cropped (c_auto,g_auto at the swatch size) from its first image — shown in the dry run
with its URL and source, uploaded to Files and set in the swatch metafield by the run, rendered
by the Cloudinary emulator, and planned once only."""

from __future__ import annotations

import io
import json

import pytest
import requests
from PIL import Image

from linking.models import LinkRecord
from reports.models import Run
from stores.services import settings_for
from tests.linking.runs.conftest import dry_run, start_and_work

pytestmark = pytest.mark.django_db(transaction=True)

EXPRESSION = "folder:products/* AND -tags=swatch"  # the seed's swatch assets left out


def _turn_on(sandbox, **changes):
    setup = settings_for(sandbox.workspace)
    setup.swatches_from_product_images = True
    for name, value in changes.items():
        setattr(setup, name, value)
    setup.full_clean()
    setup.save()


def _generated(result) -> list[dict]:
    return [
        spec
        for product in result.products
        for spec in product["operations"]["swatch_files"]
        if spec["generated"]
    ]


def test_off_by_default_nothing_is_generated(sandbox):
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=1)
    assert settings_for(sandbox.workspace).swatches_from_product_images is False
    plan = dry_run(sandbox, store, expression=EXPRESSION)
    assert not _generated(plan.results.get())


def test_a_generated_swatch_is_previewed_run_into_files_and_the_metafield_once(sandbox, queue):
    _turn_on(sandbox, swatch_crop_size=96)
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=1)
    plan = dry_run(sandbox, store, expression=EXPRESSION)
    result = plan.results.get()
    generated = _generated(result)
    assert generated, result.error
    spec = generated[0]
    assert spec["transformation"] == "c_auto,g_auto,h_96,w_96"
    assert "/c_auto,g_auto,h_96,w_96/" in spec["url"] and spec["source_public_id"]
    rows = [r for r in result.rows if r["action"] == "swatch"]
    assert rows and all("generated from the product image" in r["message"] for r in rows)

    # The emulator renders the crop: the swatch size, and the product's dominant region.
    image = Image.open(io.BytesIO(requests.get(spec["url"], timeout=10).content))
    assert image.size == (96, 96)
    colours = image.convert("RGB").getcolors(96 * 96)
    assert max(colours)[0] / (96 * 96) > 0.5  # mostly the product's own colour

    run = start_and_work(queue, plan, store)
    assert run.status == Run.Status.SUCCEEDED, run.error
    shop = sandbox.shop_state(store.shop_domain)
    files = {f["id"]: f for f in shop["files"]}
    records = LinkRecord.objects.filter(store=store, product_id="")
    assert records.count() == len({s["asset_id"] for s in generated})
    for record in records:
        assert record.transformation == "c_auto,g_auto,h_96,w_96"
        assert "c_auto,g_auto,h_96,w_96" in files[record.media_id]["original_source"]
    # The metafield of the matched variants names the generated files.
    refs = {
        ref
        for product in shop["products"]
        for owner in [product, *product["variants"]]
        for mf in owner.get("metafields") or ()
        if (mf["namespace"], mf["key"]) == ("cloudinary", "swatch")
        for ref in json.loads(mf["value"])
    }
    assert refs == set(records.values_list("media_id", flat=True))
    swatch_rows = run.rows.filter(action="swatch")
    assert swatch_rows.exists()
    assert all("generated from the product image" in r.message for r in swatch_rows)

    # Idempotent: the same plan again plans nothing and the run changes nothing.
    again = dry_run(sandbox, store, expression=EXPRESSION)
    assert not _generated(again.results.get())
    assert all(p["operation_count"] == 0 for p in again.results.get().products)
    second = start_and_work(queue, again, store)
    assert set(second.rows.exclude(product_id="").values_list("action", flat=True)) == {"unchanged"}


def test_the_crop_setting_may_not_carry_a_size(sandbox):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="w_ and h_"):
        _turn_on(sandbox, swatch_crop_transformation="c_auto,g_auto,w_50")
