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
        "(() => { const runs = [...document.querySelectorAll('#run-progress .run-store')];"
        " return runs.length && runs.every((e) => e.dataset.status === 'succeeded'); })()",
        timeout=120_000,
    )
    page.click("#tab-runs")
    page.fill("#links-asset", "")
    page.select_option("#links-store", "demo-1.myshopify.com")
    page.click("#links-search")
    rows = page.locator("#links-list tbody tr[data-status='current']")
    rows.first.wait_for()
    before = rows.count()
    assert before == LinkRecord.objects.filter(store__shop_domain="demo-1.myshopify.com").count()
    assert not serious_violations(page)
    screenshot(page, "manage-links")

    media_id = rows.first.get_attribute("data-media-id")
    rows.first.locator("input[type=checkbox]").check()
    page.once("dialog", lambda d: d.accept())
    page.click("#links-unlink")
    page.wait_for_selector("#links-progress .run-store[data-status='succeeded']", timeout=120_000)
    page.wait_for_function(
        f"!document.querySelector(\"#links-list tr[data-media-id='{media_id}']\")"
    )
    assert page.locator("#links-list tbody tr").count() == before - 1
    run = Run.objects.get(link_mode="unlink")
    assert run.status == Run.Status.SUCCEEDED
    assert list(run.rows.values_list("action", "media_id")) == [("unlinked", media_id)]
    assert not page.js_errors
