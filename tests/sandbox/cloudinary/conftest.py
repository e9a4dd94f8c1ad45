"""Fixtures: one emulator server per session; a fresh, seeded cloud per test; the real SDK."""

from __future__ import annotations

import itertools

import cloudinary
import cloudinary.api
import pytest
import requests

from sandbox.cloudinary.seed import seed_library
from sandbox.cloudinary.server import make_app
from sandbox.common import serve_in_thread

_names = itertools.count(1)


@pytest.fixture(scope="session")
def emulator():
    app = make_app(n_assets=50)
    running = serve_in_thread(app)
    app.url = running.url
    yield app
    running.shutdown()


class CloudHandle:
    def __init__(self, emulator, cloud):
        self.app = emulator
        self.state = emulator.state
        self.cloud = cloud
        self.name = cloud.name
        self.url = emulator.url
        self.host = emulator.url.split("//", 1)[1]

    def control(self, method: str, path: str, **kw) -> requests.Response:
        return requests.request(method, f"{self.url}/_control/{path.lstrip('/')}", timeout=10, **kw)

    def admin(self, method: str, path: str, auth=None, **kw) -> requests.Response:
        auth = auth or (self.cloud.api_key, self.cloud.api_secret)
        return requests.request(
            method, f"{self.url}/v1_1/{self.name}/{path.lstrip('/')}", auth=auth, timeout=10, **kw
        )

    def assets(self):
        return list(self.cloud.assets.values())


@pytest.fixture
def cloud(emulator):
    """A new cloud seeded with 120 assets (seed 7); the SDK is configured for it."""
    name = f"test{next(_names)}"
    with emulator.state.lock:
        c = emulator.state.create_cloud(name, f"key-{name}", f"secret-{name}")
        seed_library(emulator.state, c, 120, seed=7)
    cloudinary.config(
        cloud_name=name,
        api_key=c.api_key,
        api_secret=c.api_secret,
        upload_prefix=emulator.url,
        secure=False,
        cname=emulator.url.split("//", 1)[1],
    )
    yield CloudHandle(emulator, c)
    cloudinary.reset_config()
    with emulator.state.lock:
        emulator.state.clouds.pop(name, None)
