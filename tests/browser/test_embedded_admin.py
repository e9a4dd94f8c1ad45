"""Embedded, as the merchant sees it: the Shopify emulator's admin frame embeds the app; the
stand-in App Bridge (Shopify's CDN is unreachable here) gets session tokens the emulator mints,
and every API call of the embedded page authenticates with them. The Link tab is walked inside
the frame: live match counts, a dry run in the background, its result."""

from __future__ import annotations

import re

import jwt
from django.conf import settings

from tests.browser.conftest import screenshot, tick_stores
from tests.browser.test_link_journey import BUTTON

SHOP = "demo-1.myshopify.com"


def open_admin(page, demo, staff: str = "7001"):
    demo["shopify_app"].state.config["app_url"] = demo["url"]
    seen: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: (
            seen.append((r.url, r.headers.get("authorization", ""))) if "/api/" in r.url else None
        ),
    )
    page.goto(f"{demo['shopify']}/{SHOP}/admin/apps/{settings.SHOPIFY_API_KEY}?staff={staff}")
    frame = page.frame_locator("#app-iframe")
    frame.locator("body[data-ready]").wait_for()
    return frame, seen


def test_the_admin_frame_embeds_the_app_and_its_api_calls_carry_session_tokens(demo, page):
    frame, seen = open_admin(page, demo)
    assert page.title().startswith("AssetLink")
    assert frame.locator("body.is-embedded").count() == 1
    assert not frame.locator(".topbar").is_visible()  # the admin has its own chrome
    frame.locator("#tab-setup").click()
    frame.locator("#setup-form").wait_for()
    assert seen, "the embedded page called no API"
    for url, authorization in seen:
        assert authorization.startswith("Bearer "), url
        token = authorization.removeprefix("Bearer ")
        claims = jwt.decode(
            token, settings.SHOPIFY_API_SECRET, algorithms=["HS256"],
            audience=settings.SHOPIFY_API_KEY,
        )  # fmt: skip
        assert claims["dest"] == f"https://{SHOP}" and claims["sub"] == "7001"
    # Only the store the admin opened the app from.
    assert frame.locator("#panel-setup .store-item").count() == 1
    screenshot(page, "embedded-setup")
    for tab, ready in (("upload", "#panel-upload .card"), ("runs", "#panel-runs .card")):
        frame.locator(f"#tab-{tab}").click()
        frame.locator(ready).first.wait_for()
        screenshot(page, f"embedded-{tab}")
    assert not page.js_errors


def test_the_link_tab_in_the_admin_counts_matches_and_dry_runs(demo, page, worker):
    frame, seen = open_admin(page, demo)
    frame.locator("input[name=folder]").fill("products/bags")
    frame.locator("#picker-search").click()
    frame.locator(".tile").first.wait_for()
    frame.locator("#select-all").click()
    frame.locator("#asset-list .group").first.wait_for()
    tick_stores(frame)
    # Live match counts before any dry run, for the one store of this admin.
    badge = frame.locator(f"#store-list [data-matched='{SHOP}']")
    badge.filter(has_text=re.compile(r"products? matched")).wait_for()
    assert frame.locator("#store-list input[name=stores]").count() == 1
    assert BUTTON.match(frame.locator("#link-button").inner_text())
    screenshot(page, "embedded-link")

    frame.locator("#dry-run").click()
    frame.locator("#dry-run-result .store-result").wait_for(timeout=60_000)
    assert frame.locator("#dry-run-result .store-result").count() == 1
    assert frame.locator("#dry-run-result .product").count() > 0
    assert frame.locator("#link-button").is_enabled()
    frame.locator("#dry-run-result").scroll_into_view_if_needed()
    screenshot(page, "embedded-link-dry-run")
    statuses = [url for url, authorization in seen if not authorization.startswith("Bearer ")]
    assert not statuses, statuses
    assert not page.js_errors


def test_the_stand_in_app_bridge_serves_a_bounce_page(demo, page):
    """A document load without a token bounces; the stand-in reloads it with a fresh one."""
    demo["shopify_app"].state.config["app_url"] = demo["url"]
    page.goto(f"{demo['shopify']}/{SHOP}/admin/apps/{settings.SHOPIFY_API_KEY}")
    frame = page.frame(name="app-iframe")
    frame.goto(f"{demo['url']}/?embedded=1&shop={SHOP}&host=x")  # no id_token
    frame.wait_for_selector("body[data-ready]")
    assert "id_token=" in frame.url
