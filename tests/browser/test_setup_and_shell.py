"""The shell (tabs, login, embedded with a session token) and Setup: users view it, admins
change it, with the API's validation messages, test connection and API keys."""

from __future__ import annotations

import time

from tests.browser.conftest import login, screenshot
from tests.stores.helpers import session_token


def test_anonymous_visitors_are_sent_to_the_login_page(demo, page):
    page.goto(demo["url"] + "/")
    assert "/login/" in page.url
    assert page.is_visible("#id_username")


def test_admins_start_on_setup_and_can_change_it(demo, page):
    login(page, demo, "admin", "assetlink-demo")
    assert page.get_attribute("#tab-setup", "aria-selected") == "true"
    page.wait_for_selector("#setup-form")
    assert page.locator("#setup-form input:disabled").count() == 0
    screenshot(page, "setup-admin")

    # A bad value comes back with the API's message beside the field; nothing is saved.
    page.fill(".field[data-field=default_image_transformation] input", "not a transformation")
    page.click("text=Save Setup")
    error = page.locator(".field[data-field=default_image_transformation] .error")
    error.wait_for()
    assert "Cloudinary syntax" in error.inner_text()
    # Shopify's rules too (issue 24, defect 6): a 2-character metafield namespace is refused.
    page.fill(".field[data-field=swatch_metafield_namespace] input", "ab")
    page.click("text=Save Setup")
    error = page.locator(".field[data-field=swatch_metafield_namespace] .error")
    error.wait_for()
    assert "Shopify's rule for a metafield namespace: 3 to 255 characters" in error.inner_text()
    page.fill(".field[data-field=swatch_metafield_namespace] input", "cloudinary")

    page.fill(".field[data-field=default_image_transformation] input", "c_limit,w_1600,q_auto")
    page.fill(".field[data-field=batch_size_limit] input", "5000")
    page.click("text=Save Setup")
    page.wait_for_selector("text=Saved.")
    page.reload()
    page.wait_for_selector("#setup-form")
    assert page.input_value(".field[data-field=batch_size_limit] input") == "5000"
    assert page.input_value(".field[data-field=default_image_transformation] input") == (
        "c_limit,w_1600,q_auto"
    )


def test_test_connection_and_api_keys_shown_once_then_revoked(demo, page):
    login(page, demo, "admin", "assetlink-demo")
    page.click("#test-connection")
    page.wait_for_selector(".banner-success")
    assert "Connected to Cloudinary" in page.inner_text(".banner-success")

    store = page.locator(".store-item", has_text="demo-1.myshopify.com")
    store.locator("input[aria-label^='New API key label']").fill("PIM nightly sync")
    store.locator("text=Generate API key").click()
    secret = store.locator(".secret")
    secret.wait_for()
    token = secret.inner_text()
    assert token.startswith("al_")
    assert "shown only once" in store.inner_text()
    assert store.locator("td", has_text="PIM nightly sync").count() == 1
    store.scroll_into_view_if_needed()
    screenshot(page, "setup-api-key")

    page.once("dialog", lambda d: d.accept())
    store.locator("text=Revoke").click()
    store.locator(".badge", has_text="Revoked").wait_for()
    # The key no longer works.
    response = page.request.get(demo["url"] + "/api/session/", headers={"X-AssetLink-Key": token})
    assert response.status == 401


def test_users_see_setup_read_only(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    assert page.get_attribute("#tab-link", "aria-selected") == "true"
    page.click("#tab-setup")
    page.wait_for_selector("#setup-form")
    assert "only a Media Library Admin, Master Admin or Technical Admin" in page.inner_text(
        "#panel-setup"
    )
    assert page.locator("#setup-form input:not(:disabled)").count() == 0
    assert page.is_disabled("text=Save Setup")
    assert "API keys are managed by admins" in page.inner_text("#panel-setup")
    screenshot(page, "setup-user")
    # The API refuses too, naming the role (the page is not the only guard).
    status = page.evaluate(
        """async () => (await fetch('/api/workspaces/' +
            JSON.parse(document.getElementById('assetlink-bootstrap').textContent).workspaces[0].id
            + '/setup/', {method: 'PATCH', headers: {'Content-Type': 'application/json',
            'X-CSRFToken': document.querySelector('meta[name=csrf-token]').content},
            body: JSON.stringify({batch_size_limit: 1})})).status"""
    )
    assert status == 403


def test_tabs_work_with_the_keyboard(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    page.focus("#tab-link")
    page.keyboard.press("ArrowRight")
    assert page.get_attribute("#tab-upload", "aria-selected") == "true"
    assert page.is_visible("#panel-upload") and not page.is_visible("#panel-link")
    page.keyboard.press("End")
    assert page.get_attribute("#tab-runs", "aria-selected") == "true"


def test_embedded_in_shopify_the_page_calls_the_api_with_session_tokens(demo, page):
    shop = "demo-1.myshopify.com"
    # Shopify's CDN is not reachable here: stand in for App Bridge with `shopify.idToken()`.
    token = session_token(shop, sub="7001", exp=int(time.time()) + 600)  # outlives the test
    page.route(
        "https://cdn.shopify.com/shopifycloud/app-bridge.js",
        lambda route: route.fulfill(
            content_type="text/javascript",
            body="window.shopify = { idToken: async () => window.__token };",
        ),
    )
    page.add_init_script(f"window.__token = {token!r};")
    seen = []
    page.on(
        "request",
        lambda r: seen.append(r.headers.get("authorization", "")) if "/api/" in r.url else None,
    )
    page.goto(
        f"{demo['url']}/?embedded=1&shop={shop}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtby0x&id_token={token}"
    )
    page.wait_for_selector("body[data-ready]")
    assert page.get_attribute('meta[name="shopify-api-key"]', "content")
    assert not page.is_visible(".topbar")  # the Shopify admin has its own chrome
    page.click("#tab-setup")
    page.wait_for_selector("#setup-form")
    assert seen and all(h == f"Bearer {token}" for h in seen), seen
    # Only the store the admin opened the app from.
    assert page.locator("#panel-setup .store-item").count() == 1
