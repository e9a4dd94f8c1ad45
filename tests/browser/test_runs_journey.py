"""Link for real: the button → per-store progress (phase, time left) → report download; abort
mid-run; the Runs tab's history and undo. Real RQ workers run the jobs (the `worker` fixture:
in-process `SimpleWorker` threads in burst mode, sharing the test database)."""

from __future__ import annotations

import requests

from tests.browser.conftest import login, screenshot, screenshot_path
from tests.browser.test_link_journey import BUTTON, pick_folder


def _media_delay(demo, seconds: float) -> None:
    requests.post(
        f"{demo['shopify']}/_control/config", json={"media_delay": seconds}, timeout=10
    ).raise_for_status()


def _dry_run(page, demo, folder="products/bags"):
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
        "[...document.querySelectorAll('#run-progress .run-store')].every("
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
        "[...document.querySelectorAll('#runs-list .run-store')].some("
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
            "[...document.querySelectorAll('#run-progress .run-store')].every("
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
