"""Webhook deliveries signed with the app secret; seeded, reproducible fault injection."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests
from werkzeug.wrappers import Request, Response

from sandbox.common import serve_in_thread

from .conftest import API_SECRET

SHOP = "demo-1.myshopify.com"


@pytest.fixture(scope="module")
def _receiver_server():
    received = []

    def app(environ, start_response):
        req = Request(environ)
        body = req.get_data()
        digest = base64.b64encode(hmac.new(API_SECRET.encode(), body, hashlib.sha256).digest())
        ok = hmac.compare_digest(digest.decode(), req.headers.get("X-Shopify-Hmac-Sha256", ""))
        received.append({"path": req.path, "headers": dict(req.headers), "body": body, "ok": ok})
        return Response("ok" if ok else "bad hmac", status=200 if ok else 401)(
            environ, start_response
        )

    running = serve_in_thread(app)
    yield running.url, received
    running.shutdown()


@pytest.fixture
def receiver(_receiver_server):
    _receiver_server[1].clear()
    return _receiver_server


@pytest.mark.parametrize(
    "topic", ["customers/data_request", "customers/redact", "shop/redact", "app/uninstalled"]
)
def test_webhook_delivery_headers_and_hmac(emu, receiver, topic):
    url, received = receiver
    token = emu.shop(SHOP)
    result = emu.control(
        "POST", "webhooks", {"shop": SHOP, "topic": topic, "address": f"{url}/webhooks"}
    )
    assert result["status_code"] == 200 and result["ok"]
    got = received[-1]
    assert got["ok"] and got["path"] == "/webhooks"
    h = got["headers"]
    assert h["X-Shopify-Topic"] == topic and h["X-Shopify-Shop-Domain"] == SHOP
    for name in (
        "X-Shopify-Api-Version",
        "X-Shopify-Webhook-Id",
        "X-Shopify-Triggered-At",
        "X-Shopify-Event-Id",
    ):
        assert h[name]
    body = json.loads(got["body"])
    if topic == "app/uninstalled":
        assert body["myshopify_domain"] == SHOP
        # uninstalling revokes the app's tokens
        assert emu.gql(token, "{ shop { name } }").status_code == 401
    else:
        assert body["shop_domain"] == SHOP and body["shop_id"]
    if topic == "customers/redact":
        assert body["customer"]["email"] and "orders_to_redact" in body
    if topic == "customers/data_request":
        assert body["data_request"]["id"] and "orders_requested" in body


def test_webhook_with_wrong_secret_is_rejected_by_a_verifying_app(emu, receiver):
    url, received = receiver
    emu.shop(SHOP)
    result = emu.control(
        "POST",
        "webhooks",
        {"shop": SHOP, "topic": "shop/redact", "address": url, "secret": "other"},
    )
    assert result["status_code"] == 401 and not received[-1]["ok"]


def test_webhook_unreachable_address_reports_error(emu):
    emu.shop(SHOP)
    result = emu.control(
        "POST",
        "webhooks",
        {"shop": SHOP, "topic": "shop/redact", "address": "http://127.0.0.1:1/x", "timeout": 1},
    )
    assert result["ok"] is False and result["status_code"] is None and result["error"]


MUTATION = """mutation($p: ProductUpdateInput!) { productUpdate(product: $p) {
  product { id } userErrors { field message } } }"""


def _outcomes(emu, token, pid, n=40):
    out = []
    for i in range(n):
        if i % 2:
            r = emu.gql(token, MUTATION, {"p": {"id": pid, "title": f"T{i}"}})
        else:
            r = emu.gql(token, "{ shop { name } }")
        if r.status_code != 200:
            out.append(r.status_code)
            continue
        body = r.json()
        if "errors" in body:
            out.append(body["errors"][0]["extensions"]["code"])
        elif "productUpdate" in body["data"] and body["data"]["productUpdate"]["userErrors"]:
            out.append("userError")
        else:
            out.append("ok")
    return out


def test_faults_are_reproducible_from_a_seed(emu):
    token = emu.shop(SHOP, products=1)
    pid = emu.gql(token, "{ products(first: 1) { nodes { id } } }").json()["data"]["products"][
        "nodes"
    ][0]["id"]
    faults = {
        "seed": 7,
        "http_500": 0.1,
        "http_502": 0.1,
        "http_503": 0.1,
        "throttled": 0.15,
        "user_errors": {"productUpdate": 0.5},
    }
    emu.control("POST", "faults", faults)
    first = _outcomes(emu, token, pid)
    emu.control("POST", "faults", faults)  # same seed again
    second = _outcomes(emu, token, pid)
    assert first == second
    assert {500, 502, 503, "THROTTLED", "userError", "ok"} <= set(first), first
    emu.control("POST", "faults", {**faults, "seed": 8})
    assert _outcomes(emu, token, pid) != first
    emu.control("DELETE", "faults")
    assert set(_outcomes(emu, token, pid, 10)) == {"ok"}


def test_injected_user_error_changes_nothing(emu):
    token = emu.shop(SHOP, products=1)
    pid = emu.gql(token, "{ products(first: 1) { nodes { id title } } }").json()["data"][
        "products"
    ]["nodes"][0]["id"]
    emu.control("POST", "faults", {"seed": 1, "user_errors": {"productUpdate": 1.0}})
    body = emu.gql(token, MUTATION, {"p": {"id": pid, "title": "Changed"}}).json()
    assert body["data"]["productUpdate"]["userErrors"][0]["message"].startswith("Injected fault")
    emu.control("DELETE", "faults")
    title = emu.gql(token, f'{{ product(id: "{pid}") {{ title }} }}').json()["data"]["product"]
    assert title["title"] != "Changed"


def test_slow_responses_time_out_clients(emu):
    token = emu.shop(SHOP)
    emu.control("POST", "faults", {"seed": 3, "slow": 1.0, "slow_seconds": 0.3})
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.post(
            f"{emu.url}/admin/api/2026-10/graphql.json",
            json={"query": "{ shop { id } }"},
            headers={"X-Shopify-Access-Token": token},
            timeout=0.1,
        )
    assert time.monotonic() - started < 0.3
    time.sleep(0.3)
    emu.control("DELETE", "faults")
