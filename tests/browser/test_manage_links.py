"""Manage links on the page (Runs tab → Manage links): after a link run, the links are listed
with their version status; unlinking the selected one is a run whose progress shows there, and
the list no longer has it."""

from __future__ import annotations

from linking.models import LinkRecord
from reports.models import Run
from tests.browser.conftest import login, screenshot, serious_violations
from tests.browser.test_runs_journey import _dry_run


def test_list_and_unlink_a_link_from_the_page(demo, page, worker):
    login(page, demo, "merchandiser", "assetlink-user")
    _dry_run(page, demo)
    page.click("#link-button")
    page.wait_for_function(
        "() => { const runs = [...document.querySelectorAll('#run-progress .run-store')];"
        " return runs.length && runs.every((e) => e.dataset.status === 'succeeded'); }",
        timeout=120_000,
    )
    page.click("#tab-runs")
    page.fill("#links-asset", "")
    page.select_option("#links-store", "demo-1.myshopify.com")
    page.click("#links-search")
    page.locator("#links-list tbody tr").first.wait_for()
    every = page.locator("#links-list tbody tr")
    before = every.count()
    assert before == LinkRecord.objects.filter(store__shop_domain="demo-1.myshopify.com").count()
    statuses = set(
        page.eval_on_selector_all("#links-list tbody tr", "els => els.map((e) => e.dataset.status)")
    )
    assert statuses == {"current"}  # checked against Cloudinary: nothing newer yet
    assert not serious_violations(page)
    screenshot(page, "manage-links")

    rows = page.locator("#links-list tbody tr:has(input[type=checkbox])")  # product media
    media_id = rows.first.get_attribute("data-media-id")
    rows.first.locator("input[type=checkbox]").check()
    page.once("dialog", lambda d: d.accept())
    page.click("#links-unlink")
    page.wait_for_selector("#links-progress .run-store[data-status='succeeded']", timeout=120_000)
    # The list is read again once the run is done: one link fewer, and not that one.
    page.wait_for_function(
        "(n) => document.querySelectorAll('#links-list tbody tr').length === n", arg=before - 1
    )
    assert page.locator(f"#links-list tr[data-media-id='{media_id}']").count() == 0
    assert every.count() == before - 1
    run = Run.objects.get(link_mode="unlink")
    assert run.status == Run.Status.SUCCEEDED
    assert list(run.rows.values_list("action", "media_id")) == [("unlinked", media_id)]
    assert not page.js_errors


def test_the_dry_run_previews_swatches_generated_from_product_images(demo, page, worker):
    from assetlink_project.demo_seed import DEMO_WORKSPACE
    from stores.models import Workspace
    from stores.services import settings_for

    setup = settings_for(Workspace.objects.get(name=DEMO_WORKSPACE))
    setup.swatches_from_product_images = True
    setup.save()
    login(page, demo, "merchandiser", "assetlink-user")
    _dry_run(page, demo)
    generated = page.locator(".swatch-file[data-generated='true'] img").first
    generated.scroll_into_view_if_needed()
    page.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=generated.element_handle()
    )
    size = generated.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert size == [128, 128]  # rendered by the Cloudinary emulator at the swatch size
    assert "generated from" in generated.get_attribute("alt")
    assert "c_auto,g_auto,h_128,w_128" in generated.get_attribute("src")
    screenshot(page, "generated-swatch-preview")
    assert not page.js_errors
