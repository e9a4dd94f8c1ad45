"""A Shopify emulator per test session; each test gets its own shop."""

from __future__ import annotations

import itertools
import threading

import pytest
import requests

from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app

_shop_numbers = itertools.count(1)


class Control:
    def __init__(self, url: str):
        self.url = url

    def post(self, path: str, body: dict | None = None) -> dict:
        r = requests.post(f"{self.url}/_control/{path}", json=body or {}, timeout=10)
        r.raise_for_status()
        return r.json()

    def get(self, path: str) -> dict:
        r = requests.get(f"{self.url}/_control/{path}", timeout=10)
        r.raise_for_status()
        return r.json()

    def delete(self, path: str) -> dict:
        r = requests.delete(f"{self.url}/_control/{path}", timeout=10)
        r.raise_for_status()
        return r.json()

    def new_shop(self, plan: str = "standard", **seed) -> tuple[str, str]:
        domain = f"client-test-{next(_shop_numbers)}.myshopify.com"
        out = self.post("shops", {"domain": domain, "plan": plan, "token": True})
        if seed:
            self.post(f"shops/{domain}/seed", seed)
        return domain, out["token"]["access_token"]

    def calls(self, domain: str) -> list[dict]:
        return self.get(f"shops/{domain}/calls")["calls"]


class CountingApp:
    """Counts the token grants that reach the emulator, per shop."""

    def __init__(self, app):
        self.app = app
        self.state = app.state
        self.token_grants: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] == "POST" and path.endswith("/admin/oauth/access_token"):
            with self._lock:
                self.token_grants.append(path.split("/")[1])
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def shopify_emulator():
    app = CountingApp(make_app(media_delay=0.05, job_delay=0.05))
    server = serve_in_thread(app)
    yield server, app
    server.shutdown()


@pytest.fixture
def shopify(shopify_emulator, settings):
    server, app = shopify_emulator
    settings.SHOPIFY_ADMIN_BASE_URL = server.url + "/{shop}"
    control = Control(server.url)
    yield control
    control.delete("faults")
    control.post("config", {"bucket_size": None, "token_lifetime": 3600})
