"""The Polaris look (Shopify's stylesheet vendored, its tokens in use), the login page, the
favicon, the offline API docs, and the page's enum choices coming from Python."""

from __future__ import annotations

import json

import requests

from common.alt_text import AltSource
from linking.core.catalog import SHOPIFY_FIELD_CHOICES
from tests.browser.conftest import login, screenshot


def test_login_page_favicon_and_offline_api_docs(demo, page):
    page.goto(demo["url"] + "/")
    page.wait_for_selector("#id_username")
    # Polaris's tokens are loaded and used (not the browser's default look).
    token = page.evaluate(
        "getComputedStyle(document.documentElement).getPropertyValue('--p-color-bg').trim()"
    )
    assert token, "Polaris tokens missing"
    button = page.locator("button[type=submit]")
    assert button.evaluate("(b) => getComputedStyle(b).backgroundColor") != "rgb(239, 239, 239)"
    assert page.locator(".card .field label[for=id_username]").count() == 1
    screenshot(page, "login")
    page.fill("#id_username", "merchandiser")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    page.wait_for_selector(".banner-critical")
    icon = requests.get(demo["url"] + "/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg")

    # The API docs render offline (every https:// request is blocked in these tests).
    login(page, demo, demo["username"], demo["password"])
    page.goto(demo["url"] + "/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    screenshot(page, "api-docs")


def test_enum_choices_come_from_python(demo, page):
    login(page, demo, "merchandiser", "assetlink-user")
    page.wait_for_selector(".field[data-field=alt_source] option", state="attached")  # rendered
    boot = json.loads(page.inner_text("#assetlink-bootstrap"))
    assert [c["value"] for c in boot["altSources"]] == [str(s) for s in AltSource]
    shopify = page.eval_on_selector_all(
        "select[name=shopify_field] option", "els => els.map((e) => e.value)"
    )
    assert shopify[: len(SHOPIFY_FIELD_CHOICES)] == [str(v) for v, _ in SHOPIFY_FIELD_CHOICES]
    alt = page.eval_on_selector_all(
        ".field[data-field=alt_source] option", "els => els.map((e) => e.value)"
    )
    assert alt == [str(s) for s in AltSource]
