"""Fixtures: one Shopify emulator served over HTTP per session, state reset before each test."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest
import requests
import shopify
from PIL import Image
from werkzeug.wrappers import Request, Response

from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app

API_KEY = "test-api-key"
API_SECRET = "test-api-secret-0123456789abcdef-xyz"
VERSION = "2026-10"
TEST_CONFIG = {
    "api_key": API_KEY,
    "api_secret": API_SECRET,
    "media_delay": 0.05,
    "job_delay": 0.05,
    "bulk_delay": 0.05,
    "download_timeout": 2.0,
    "token_lifetime": 3600,
    "bucket_size": None,
}

REPO = Path(__file__).resolve().parents[3]


def png_bytes(w: int = 40, h: int = 30, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 10, 10)).save(buf, format=fmt)
    return buf.getvalue()


def _asset_app(environ, start_response):
    """A tiny origin serving test assets: /img/{w}x{h}.png|jpg|gif, /text.jpg; anything else 404."""
    req = Request(environ)
    path = req.path
    if path.startswith("/img/"):
        name = path[5:]
        dims, ext = name.rsplit(".", 1)
        w, h = (int(x) for x in dims.split("x"))
        fmt = {"png": "PNG", "jpg": "JPEG", "gif": "GIF"}[ext]
        resp = Response(png_bytes(w, h, fmt), mimetype=f"image/{'jpeg' if ext == 'jpg' else ext}")
    elif path == "/text.jpg":
        resp = Response(b"this is not an image at all", mimetype="image/jpeg")
    else:
        resp = Response("not found", status=404)
    return resp(environ, start_response)


@pytest.fixture(scope="session")
def emulator_server():
    app = make_app(**TEST_CONFIG)
    running = serve_in_thread(app)
    running.app = app
    yield running
    running.shutdown()


@pytest.fixture(scope="session")
def assets():
    running = serve_in_thread(_asset_app)
    yield running.url
    running.shutdown()


class Emu:
    def __init__(self, running) -> None:
        self.running = running
        self.url = running.url
        self.app = running.app
        self.state = running.app.state

    def control(self, method: str, path: str, body: dict | None = None, expect=(200, 201)):
        r = requests.request(method, f"{self.url}/_control/{path}", json=body, timeout=10)
        assert r.status_code in expect, r.text
        return r.json()

    def shop(self, domain: str = "demo-1.myshopify.com", plan: str = "standard", **seed) -> str:
        self.control("POST", "shops", {"domain": domain, "plan": plan})
        if seed:
            self.control("POST", f"shops/{domain}/seed", seed)
        return self.control("POST", f"shops/{domain}/token", {})["access_token"]

    def gql(self, token: str, query: str, variables: dict | None = None, shop: str | None = None):
        """GraphQL over plain HTTP (shop-prefixed when `shop` is given)."""
        prefix = f"/{shop}" if shop else ""
        r = requests.post(
            f"{self.url}{prefix}/admin/api/{VERSION}/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token},
            timeout=10,
        )
        return r

    def shopify_gql(self, token: str, query: str, variables: dict | None = None) -> dict:
        """GraphQL through the real ShopifyAPI package (Session.setup port hack, notes §6)."""
        shopify.Session.setup(
            api_key=API_KEY,
            secret=API_SECRET,
            protocol="http",
            myshopify_domain="0.0.1",
            port=self.running.port,
        )
        session = shopify.Session("127.0.0.1", VERSION, token)
        shopify.ShopifyResource.activate_session(session)
        try:
            return json.loads(shopify.GraphQL().execute(query, variables))
        finally:
            shopify.ShopifyResource.clear_session()

    def wait(self, predicate, timeout: float = 5.0, interval: float = 0.02):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            time.sleep(interval)


@pytest.fixture
def emu(emulator_server):
    state = emulator_server.app.state
    state.reset()
    with state.lock:
        state.config.update(TEST_CONFIG)
    return Emu(emulator_server)


@pytest.fixture(scope="session")
def real_schema():
    """Shopify's own Admin schema of the configured version (@shopify/dev-mcp in node_modules)."""
    from django.conf import settings

    from stores.shopify.versions import admin_schema

    return admin_schema(settings.SHOPIFY_API_VERSION)
