"""axe-core on every tab (with content), the login page and the API docs: no serious or
critical violation."""

from __future__ import annotations

from tests.browser.conftest import login, serious_violations, tick_stores
from tests.browser.test_link_journey import pick_folder


def test_the_login_page_and_every_tab_for_an_admin(demo, page, worker):
    page.goto(demo["url"] + "/")
    page.wait_for_selector("#id_username")
    assert_accessible(page, "login")
    login(page, demo, demo["username"], demo["password"])
    page.click("#tab-link")
    tick_stores(page)
    pick_folder(page, "products/bags")
    page.wait_for_selector("#asset-list .group .match.badge-success")
    assert_accessible(page, "Link to Products")
    page.click("#dry-run")
    page.wait_for_selector("#dry-run-result .store-result", timeout=60_000)
    page.click("#asset-list ~ * button, .segmented button[data-view=regular]")
    page.wait_for_selector("#asset-list table.data")
    assert_accessible(page, "Link to Products, dry run, regular list")
    for tab, ready in [
        ("upload", "#panel-upload .store-item"),
        ("setup", "#setup-form"),
        ("runs", "#runs-list > *"),
    ]:
        page.click(f"#tab-{tab}")
        page.wait_for_selector(ready)
        assert_accessible(page, tab)


def test_tabs_for_a_user(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    page.wait_for_selector("#panel-link .card")
    assert_accessible(page, "Link to Products")
    page.click("#tab-setup")
    page.wait_for_selector("#setup-form")
    assert_accessible(page, "Setup, read-only")


def assert_accessible(page, where: str = "") -> None:
    found = serious_violations(page)
    assert not found, f"{where}:\n" + "\n".join(found)
