"""Link for real: the button → per-store progress (phase, time left) → report download; abort
mid-run; the Runs tab's history and undo. Real RQ workers run the jobs (the `worker` fixture:
in-process `SimpleWorker` threads in burst mode, sharing the test database)."""

from __future__ import annotations

import requests

from tests.browser.conftest import (
    login,
    screenshot,
    screenshot_path,
    serious_violations,
    tick_stores,
)
from tests.browser.test_link_journey import BUTTON, pick_folder, pick_tiles


def _media_delay(demo, seconds: float) -> None:
    requests.post(
        f"{demo['shopify']}/_control/config", json={"media_delay": seconds}, timeout=10
    ).raise_for_status()


def _dry_run(page, demo, folder="products/bags"):
    tick_stores(page)
    pick_folder(page, folder)
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    assert BUTTON.match(page.inner_text("#link-button"))


def test_link_watch_progress_download_report_and_undo(demo, page, worker):
    login(page, demo, "merchandiser", "assetlink-user")
    _dry_run(page, demo)
    page.click("#link-button")
    progress = page.locator("#run-progress .run-store")
    progress.first.wait_for()
    assert progress.count() == 2  # one run per store, in parallel
    page.wait_for_function(
        "() => [...document.querySelectorAll('#run-progress .run-store')].every("
        "(e) => !['queued', 'running'].includes(e.dataset.status))",
        timeout=120_000,
    )
    statuses = page.eval_on_selector_all(
        "#run-progress .run-store", "els => els.map((e) => e.dataset.status)"
    )
    assert statuses == ["succeeded", "succeeded"], statuses
    assert page.locator("#run-progress .progress.done").count() == 2
    with page.expect_download() as download:
        page.locator("#run-progress .run-store").first.locator("text=Download report").click()
    path = download.value.path()
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert "action" in header and "store" in header
    page.evaluate(
        "window.scrollTo(0, document.querySelector('#run-progress').getBoundingClientRect().top"
        " + scrollY - 120)"
    )
    screenshot(page, "link-finished")

    # The Runs tab lists them; undo the first.
    page.click("#tab-runs")
    page.wait_for_selector("#runs-list tbody tr")
    assert page.locator("#runs-list tbody tr").count() >= 2
    screenshot(page, "runs")
    page.once("dialog", lambda d: d.accept())
    page.locator("#runs-list tbody tr").first.locator("text=Undo").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('#runs-list .run-store')].some("
        "(e) => e.textContent.includes('undo'))",
        timeout=60_000,
    )


def test_abort_mid_run(demo, page, worker):
    login(page, demo, "merchandiser", "assetlink-user")
    _dry_run(page, demo)
    _media_delay(demo, 0.5)  # slow Shopify down so there is time to abort
    try:
        page.click("#link-button")
        page.wait_for_selector("#run-progress .run-store[data-status=running]", timeout=60_000)
        # Progress: phase, operations done of total (and time left once there is an estimate).
        page.evaluate(
            "window.scrollTo(0, document.querySelector('#run-progress').getBoundingClientRect()"
            ".top + scrollY - 120)"
        )
        page.screenshot(path=str(screenshot_path("link-progress")))  # no wait: it moves on
        for button in page.locator("#run-progress button", has_text="Abort").all():
            button.click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('#run-progress .run-store')].every("
            "(e) => !['queued', 'running'].includes(e.dataset.status))",
            timeout=60_000,
        )
        statuses = page.eval_on_selector_all(
            "#run-progress .run-store", "els => els.map((e) => e.dataset.status)"
        )
        assert "aborted" in statuses, statuses
        page.evaluate(
            "window.scrollTo(0, document.querySelector('#run-progress').getBoundingClientRect()"
            ".top + scrollY - 120)"
        )
        screenshot(page, "link-aborted")
    finally:
        _media_delay(demo, 0.01)


def _delete_assets(demo, asset_ids: list[str]) -> None:
    cloud = "demo"
    for asset_id in asset_ids:
        requests.delete(
            f"{demo['cloudinary']}/_control/clouds/{cloud}/assets/{asset_id}", timeout=10
        ).raise_for_status()


def test_a_run_with_failures_shows_them_and_retries_the_failed_products(demo, page, worker):
    login(page, demo, "merchandiser", "assetlink-user")
    tick_stores(page)
    pick_tiles(page, "products/bags", 9)  # a few groups: a quick run
    page.wait_for_function("() => [...document.querySelectorAll('#asset-list .group')].length >= 3")
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    # Assets deleted in Cloudinary after the dry run: Shopify cannot download them.
    doomed = page.eval_on_selector_all(
        "#asset-list .group:first-child [data-asset-id]", "els => els.map((e) => e.dataset.assetId)"
    )
    assert doomed
    _delete_assets(demo, doomed)
    # Totals never grow during a run: record every total each run line shows.
    page.evaluate(
        """() => { window.__totals = {}; setInterval(() => {
            for (const e of document.querySelectorAll('#run-progress .run-store')) {
              (window.__totals[e.dataset.runId] ||= new Set()).add(e.dataset.total);
              if (Number(e.dataset.done) > Number(e.dataset.total)) window.__over = true;
            } }, 30); }"""
    )
    page.click("#link-button")
    page.wait_for_selector("#run-progress .run-store")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#run-progress .run-store')].every("
        "(e) => !['queued', 'running'].includes(e.dataset.status))",
        timeout=120_000,
    )
    totals = page.evaluate("Object.values(window.__totals).map((s) => [...s])")
    assert all(len(t) == 1 for t in totals), totals
    assert not page.evaluate("window.__over || false")
    statuses = page.eval_on_selector_all(
        "#run-progress .run-store", "els => els.map((e) => e.dataset.status)"
    )
    assert set(statuses) <= {"completed_with_failures", "failed"}, statuses
    badge = page.locator("#run-progress .run-store [data-outcome]").first
    assert "badge-success" not in badge.get_attribute("class")
    assert page.locator("#run-progress .progress.done").count() == 0
    # The failures table: product, asset, Shopify's code, a human message, what to do.
    table = page.locator("#run-progress .failures-table").first
    table.wait_for()
    assert "IMAGE_DOWNLOAD_FAILURE" in table.inner_text()
    assert "Shopify could not download the image." in table.inner_text()
    assert "Check that the asset still exists in Cloudinary" in table.inner_text()
    page.evaluate(
        "window.scrollTo(0, document.querySelector('#run-progress').getBoundingClientRect().top"
        " + scrollY - 80)"
    )
    screenshot(page, "link-failures")
    assert serious_violations(page) == []  # failures table, outcome badges, retry
    before = page.locator("#run-progress .run-store").count()
    page.locator("#run-progress [data-retry]").first.click()
    page.wait_for_function(
        f"() => document.querySelectorAll('#run-progress .run-store').length > {before}"
    )
    retried = page.locator("#run-progress .run-store").last
    assert int(retried.get_attribute("data-total")) <= len(doomed)
    # The Runs tab: who, kind, mode, outcome, counts by action; filtered by outcome.
    page.click("#tab-runs")
    page.wait_for_selector("#runs-list tbody tr")
    assert "merchandiser" in page.inner_text("#runs-list tbody tr >> nth=0")
    page.select_option("#runs-filter-status", "succeeded")
    page.wait_for_function(
        "() => !document.querySelector('#runs-list tbody tr') || [...document.querySelectorAll("
        "'#runs-list .run-store')].every((e) => e.dataset.status === 'succeeded')"
    )
    page.select_option("#runs-filter-status", "")
    page.wait_for_selector(
        "#runs-list [data-outcome=completed_with_failures], #runs-list [data-outcome=failed]"
    )
    page.locator("#runs-list details.failures").first.click()
    page.wait_for_selector("#runs-list .failures-table")
    screenshot(page, "runs-with-failures")
    assert serious_violations(page) == []
    assert not page.js_errors
