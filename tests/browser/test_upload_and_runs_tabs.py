"""Upload to Store Files (the selection, stores, dry run, upload, progress, report) and the
Runs tab."""

from __future__ import annotations

from tests.browser.conftest import login, screenshot
from tests.browser.test_link_journey import pick_folder, pick_tiles


def test_upload_to_files_dry_run_progress_and_report(demo, page, worker):
    login(page, demo, "merchandiser", "assetlink-user")
    pick_folder(page, "products/shoes")
    page.click("#tab-upload")
    summary = page.inner_text("#upload-selection")
    assert "assets selected" in summary, summary
    assert page.locator("#panel-upload .store-item input:checked").count() == 2
    # Only demo-2 this time.
    page.locator("#panel-upload .store-item", has_text="demo-1").locator("input").uncheck()

    page.click("#upload-dry-run")
    page.wait_for_selector("#upload-result .store-result", timeout=60_000)
    assert page.locator("#upload-result .store-result").count() == 1
    assert "Nothing was uploaded yet" in page.inner_text("#upload-result")
    screenshot(page, "upload-dry-run")

    page.click("#upload-button")
    page.wait_for_selector("#upload-progress .run-store")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#upload-progress .run-store')].every("
        "(e) => !['queued', 'running'].includes(e.dataset.status))",
        timeout=120_000,
    )
    assert page.get_attribute("#upload-progress .run-store", "data-status") == "succeeded"
    with page.expect_download() as download:
        page.click("#upload-progress >> text=Download report")
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert len(lines) > 1 and "demo-2.myshopify.com" in lines[1]
    screenshot(page, "upload")
    assert not page.js_errors


def test_runs_tab_starts_empty(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    page.click("#tab-runs")
    page.wait_for_selector("#runs-list > *")
    assert "No runs yet" in page.inner_text("#runs-list")
    screenshot(page, "runs-empty")


def test_upload_failures_show_in_the_page(demo, page, worker):
    import requests

    login(page, demo, "merchandiser", "assetlink-user")
    gone = pick_tiles(page, "products/shoes", 3)[0]
    page.click("#tab-upload")
    page.locator("#panel-upload .store-item", has_text="demo-1").locator("input").uncheck()
    page.click("#upload-dry-run")
    page.wait_for_selector("#upload-result .store-result", timeout=60_000)
    url = f"{demo['cloudinary']}/_control/clouds/demo/assets/{gone}"
    requests.delete(url, timeout=10).raise_for_status()  # Shopify cannot download it now
    page.click("#upload-button")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#upload-progress .run-store')].some("
        "(e) => !['queued', 'running'].includes(e.dataset.status))",
        timeout=120_000,
    )
    line = page.locator("#upload-progress .run-store").first
    assert line.get_attribute("data-status") == "completed_with_failures"
    assert "file" in line.inner_text()  # files, not products
    table = page.locator("#upload-progress .failures-table")
    table.wait_for()
    assert "IMAGE_DOWNLOAD_FAILURE" in table.inner_text() and "File" in table.inner_text()
    screenshot(page, "upload-failures")
