"""The batch transformation on the Link and Upload tabs: admins edit it (validated with
Cloudinary's syntax, errors under the field with its label), users see it read-only; the dry
runs show the transformation they use."""

from __future__ import annotations

from tests.browser.conftest import login, screenshot, tick_stores
from tests.browser.test_link_journey import pick_folder

FIELD = "input[name=image_transformation]"


def test_admin_sets_a_batch_transformation_and_the_dry_run_shows_it(demo, page, worker):
    login(page, demo, demo["username"], demo["password"])
    page.click("#tab-link")
    tick_stores(page)
    pick_folder(page, "products/bags")
    assert page.is_editable(FIELD)
    page.fill(FIELD, "wdth_100")
    page.click("#dry-run")
    error = page.locator(".field[data-field=image_transformation] .error")
    error.wait_for(state="visible")
    assert "'wdth' (in 'wdth_100') is not a Cloudinary transformation parameter" in (
        error.inner_text()
    )
    banner = page.inner_text("#dry-run-result")
    assert banner.startswith("Image transformation (this batch):"), banner  # its label, no key
    page.fill(FIELD, "c_limit,w_1000")
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    shown = page.inner_text("#dry-run-transformation")
    assert shown == "Image transformation: c_limit,w_1000 (this batch)", shown
    assert not error.is_visible()
    page.locator(".field[data-field=image_transformation]").scroll_into_view_if_needed()
    screenshot(page, "link-batch-transformation")

    # Upload: the same field, its own default.
    page.click("#tab-upload")
    upload = page.locator("#panel-upload input[name=transformation]")
    upload.fill("q_auto,w_1600")
    page.click("#upload-dry-run")
    page.wait_for_selector("#upload-result .store-result", timeout=60_000)
    assert page.inner_text("#upload-transformation") == "Transformation: q_auto,w_1600 (this batch)"
    screenshot(page, "upload-batch-transformation")
    assert not page.js_errors


def test_users_see_the_transformation_read_only(demo, page, worker):
    login(page, demo, "merchandiser", "assetlink-user")
    tick_stores(page)
    pick_folder(page, "products/bags")
    assert not page.is_editable(FIELD)
    assert "Only a Media Library Admin" in page.inner_text(
        ".field[data-field=image_transformation]"
    )
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    assert page.inner_text("#dry-run-transformation").endswith("(Setup default)")
    page.click("#tab-upload")
    assert not page.locator("#panel-upload input[name=transformation]").is_editable()
