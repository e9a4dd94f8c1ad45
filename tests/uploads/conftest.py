"""Uploads against both emulators with a real RQ worker, on the fixtures of the link runs
(one cloud and one shop per test, a Redis database of the tests' own)."""

from __future__ import annotations

import django_rq
import pytest
import requests

from tests.linking.plans.conftest import Sandbox, emulators, sandbox  # noqa: F401
from tests.linking.runs.conftest import _other_redis_db, work  # noqa: F401
from uploads import runs as upload_runs


@pytest.fixture
def uploads_queue(settings):
    """The uploads queue on a Redis database of these tests' own (12): run ids repeat across
    test processes, and the runs' Redis keys (abort flag, heartbeat, store lock) are by id, so
    a link-run test session next to this one must not share them."""
    url = _other_redis_db(settings.REDIS_URL, 12)
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {name: {**cfg, "URL": url} for name, cfg in settings.RQ_QUEUES.items()}
    q = django_rq.get_queue(upload_runs.QUEUE)
    assert q.connection.connection_pool.connection_kwargs.get("db") == 12
    q.connection.flushdb()
    yield q
    q.empty()


def shop(box: Sandbox):
    """A store of the workspace with an empty catalog."""
    return box.shop(products=0)


def files(box: Sandbox, store) -> list[dict]:
    return box.shop_state(store.shop_domain)["files"]


def calls(box: Sandbox, store, name: str) -> list[dict]:
    return [c for c in box.calls(store.shop_domain) if c["name"] == name]


def add_video(box: Sandbox, public_id: str = "banners/intro") -> dict:
    return box.add_asset({"public_id": public_id, "resource_type": "video"})["asset"]


def new_version(box: Sandbox, asset_id: str) -> dict:
    r = requests.post(
        f"{box.cloudinary_url}/_control/clouds/{box.cloud}/assets/{asset_id}", json={}, timeout=10
    )
    r.raise_for_status()
    return r.json()["asset"]


def delete_asset(box: Sandbox, asset_id: str) -> None:
    r = requests.delete(
        f"{box.cloudinary_url}/_control/clouds/{box.cloud}/assets/{asset_id}", timeout=10
    )
    r.raise_for_status()


def shopify_config(box: Sandbox, **config) -> None:
    r = requests.post(f"{box.shopify_url}/_control/config", json=config, timeout=10)
    r.raise_for_status()
