"""Link for real: the button → per-store progress (phase, time left) → report download; abort
mid-run; the Runs tab's history and undo. A real RQ worker runs the jobs (in-process
`SimpleWorker` threads in burst mode, sharing the test database)."""

from __future__ import annotations

import threading

import pytest
import requests
from django.urls import Resolver404, resolve

from tests.browser.conftest import login, screenshot
from tests.browser.test_link_journey import BUTTON, pick_folder

# The run tests' worker and queue (a Redis database of its own; SQLite as a file database so
# the live server, the worker and the test share it).
from tests.linking.runs.conftest import ThreadWorker, queue  # noqa: F401


@pytest.fixture
def worker(demo, queue):  # noqa: F811
    """A real RQ worker draining the queue until the test ends."""
    stop = threading.Event()

    def loop():
        while not stop.is_set():
            ThreadWorker([queue], connection=queue.connection).work(
                burst=True, with_scheduler=False
            )
            stop.wait(0.2)

    thread = threading.Thread(target=loop, name="rq-worker", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


def _media_delay(demo, seconds: float) -> None:
    requests.post(
        f"{demo['shopify']}/_control/config", json={"media_delay": seconds}, timeout=10
    ).raise_for_status()


def _runs_api_or_skip():
    try:
        resolve("/api/plans/1/runs/")
    except Resolver404:
        pytest.skip("The runs API has not landed (no /api/plans/<id>/runs/).")


def _dry_run(page, demo, folder="products/bags"):
    pick_folder(page, folder)
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    assert BUTTON.match(page.inner_text("#link-button"))


def test_link_watch_progress_download_report_and_undo(demo, page, worker):
    _runs_api_or_skip()
    login(page, demo, "merchandiser", "assetlink-user")
    _dry_run(page, demo)
    page.click("#link-button")
    progress = page.locator("#run-progress .run-store")
    progress.first.wait_for()
    assert progress.count() == 2  # one run per store, in parallel
    screenshot(page, "link-progress")
    page.wait_for_function(
        "[...document.querySelectorAll('#run-progress .run-store')].every("
        "(e) => !['queued', 'running'].includes(e.dataset.status))",
        timeout=120_000,
    )
    statuses = page.eval_on_selector_all(
        "#run-progress .run-store", "els => els.map((e) => e.dataset.status)"
    )
    assert statuses == ["finished", "finished"], statuses
    assert page.locator("#run-progress .progress.done").count() == 2
    with page.expect_download() as download:
        page.locator("#run-progress .run-store").first.locator("text=Download report").click()
    path = download.value.path()
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert "action" in header and "store" in header
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
    _runs_api_or_skip()
    login(page, demo, "merchandiser", "assetlink-user")
    _dry_run(page, demo)
    _media_delay(demo, 0.5)  # slow Shopify down so there is time to abort
    try:
        page.click("#link-button")
        page.wait_for_selector("#run-progress .run-store[data-status=running]", timeout=60_000)
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
        screenshot(page, "link-aborted")
    finally:
        _media_delay(demo, 0.01)
