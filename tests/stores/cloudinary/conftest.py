"""A Cloudinary emulator per test session; each test gets its own cloud (product environment)."""

from __future__ import annotations

import itertools

import pytest
import requests

from sandbox.cloudinary.server import make_app
from sandbox.common import serve_in_thread
from stores.cloudinary import Credentials
from stores.cloudinary.client import clear_caches

_numbers = itertools.count(1)


class Cloud:
    def __init__(self, url: str, app, name: str, credentials: Credentials):
        self.url, self.app, self.name, self.credentials = url, app, name, credentials

    @property
    def state(self):
        return self.app.state.clouds[self.name]

    def control(self, path: str, body: dict | None = None) -> dict:
        r = requests.post(f"{self.url}/_control/clouds/{self.name}/{path}", json=body or {})
        r.raise_for_status()
        return r.json()

    def requests(self) -> list[dict]:
        r = requests.get(f"{self.url}/_control/clouds/{self.name}/requests")
        return r.json()["requests"]


@pytest.fixture(scope="session")
def cloudinary_emulator():
    app = make_app(n_assets=10)
    server = serve_in_thread(app)
    yield server, app
    server.shutdown()


@pytest.fixture
def cloud(cloudinary_emulator, settings):
    server, app = cloudinary_emulator
    settings.CLOUDINARY_API_BASE_URL = server.url
    clear_caches()
    name = f"test-cloud-{next(_numbers)}"
    r = requests.post(
        f"{server.url}/_control/clouds",
        json={
            "cloud_name": name,
            "api_key": "key-" + name,
            "api_secret": "secret-" + name,
            "seed": {"n_assets": 300, "seed": 7},
        },
    )
    r.raise_for_status()
    yield Cloud(server.url, app, name, Credentials(name, "key-" + name, "secret-" + name))
    clear_caches()
