"""Both emulators in-process (one each per session); each test gets its own Cloudinary cloud
and Shopify shop, seeded so that the cloud's SKU groups match the shop's variant SKUs."""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
from urllib.parse import urlsplit, urlunsplit

import django_rq
import pytest
import requests
from rq import Queue, SimpleWorker
from rq.timeouts import TimerDeathPenalty

from linking import dry_runs, runs
from sandbox.cloudinary.server import make_app as make_cloudinary
from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app as make_shopify
from stores.cloudinary.client import clear_caches
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def emulators():
    cloudinary = serve_in_thread(make_cloudinary(n_assets=10))
    shopify = serve_in_thread(make_shopify(media_delay=0.01, job_delay=0.01, bulk_delay=0.02))
    yield cloudinary.url, shopify.url
    cloudinary.shutdown()
    shopify.shutdown()


class Sandbox:
    def __init__(self, cloudinary_url: str, shopify_url: str, workspace):
        self.cloudinary_url = cloudinary_url
        self.shopify_url = shopify_url
        self.workspace = workspace
        self.cloud = workspace.cloudinary_cloud_name

    def skus(self) -> list[dict]:
        r = requests.get(f"{self.cloudinary_url}/_control/clouds/{self.cloud}/skus", timeout=10)
        r.raise_for_status()
        return r.json()["skus"]

    def assets(self, expression: str = "", limit: int = 1000) -> list[dict]:
        r = requests.get(
            f"{self.cloudinary_url}/_control/clouds/{self.cloud}/assets",
            params={"limit": limit, **({"expression": expression} if expression else {})},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["assets"]

    def add_asset(self, body: dict) -> dict:
        r = requests.post(
            f"{self.cloudinary_url}/_control/clouds/{self.cloud}/assets", json=body, timeout=10
        )
        r.raise_for_status()
        return r.json()

    def shop(self, *, products: int, media_per_product: int = 2, **seed):
        """A new shop of the workspace: a Store row and a catalog whose SKUs are SKU-00001…"""
        domain = f"plan-test-{next(_numbers)}.myshopify.com"
        r = requests.post(
            f"{self.shopify_url}/_control/shops", json={"domain": domain, "token": True}
        )
        r.raise_for_status()
        token = r.json()["token"]["access_token"]
        if products:
            r = requests.post(
                f"{self.shopify_url}/_control/shops/{domain}/seed",
                json={"products": products, "media_per_product": media_per_product,
                      "sku_pattern": "SKU-{n:05d}", **seed},
            )  # fmt: skip
            r.raise_for_status()
        return StoreFactory(workspace=self.workspace, shop_domain=domain, access_token=token)

    def shop_state(self, domain: str) -> dict:
        r = requests.get(f"{self.shopify_url}/_control/shops/{domain}", timeout=10)
        r.raise_for_status()
        return r.json()

    def calls(self, domain: str) -> list[dict]:
        r = requests.get(f"{self.shopify_url}/_control/shops/{domain}/calls", timeout=10)
        return r.json()["calls"]


@pytest.fixture
def sandbox(emulators, settings, db):
    cloudinary_url, shopify_url = emulators
    settings.CLOUDINARY_API_BASE_URL = cloudinary_url
    settings.SHOPIFY_ADMIN_BASE_URL = shopify_url + "/{shop}"
    clear_caches()
    name = f"plan-cloud-{next(_numbers)}"
    r = requests.post(
        f"{cloudinary_url}/_control/clouds",
        json={"cloud_name": name, "api_key": "k-" + name, "api_secret": "s-" + name,
              "seed": {"n_assets": 40, "seed": 3}},
    )  # fmt: skip
    r.raise_for_status()
    workspace = WorkspaceFactory(
        cloudinary_cloud_name=name,
        cloudinary_api_key="k-" + name,
        cloudinary_api_secret="s-" + name,
    )
    return Sandbox(cloudinary_url, shopify_url, workspace)


@pytest.fixture
def member(sandbox):
    return MemberFactory(workspace=sandbox.workspace, role="user")


@pytest.fixture
def admin(sandbox):
    return MemberFactory(workspace=sandbox.workspace, role="master_admin")


def _file_test_database() -> None:
    """Run tests need a worker thread and the test thread on the database at once. SQLite's
    in-memory test database (shared cache) answers "table is locked" at once instead of
    waiting; a file database with a busy timeout waits like any deployment does."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})
        if not db["TEST"].get("NAME"):
            db["TEST"]["NAME"] = os.path.join(
                tempfile.gettempdir(), f"assetlink-test-{os.getuid()}-{os.getpid()}.sqlite3"
            )
        # (busy timeout, WAL and IMMEDIATE transactions come from the shipped settings)


_file_test_database()


def _other_redis_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return url.split("?")[0] + f"?db={db}"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@pytest.fixture
def queue(settings):
    # A Redis database, queue and key prefix of this session's own: a demo worker, or another
    # test session running at the same time, must not take our jobs or share our locks.
    # Dry runs go to a queue of this session's own too; work(queue) drains both.
    url = _other_redis_db(settings.REDIS_URL, 13)
    name = f"links-test-{os.getpid()}"
    dry_name = f"dry-runs-test-{os.getpid()}"
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {
        **{n: {**cfg, "URL": url} for n, cfg in settings.RQ_QUEUES.items()},
        name: {**settings.RQ_QUEUES[runs.QUEUE], "URL": url},
        dry_name: {**settings.RQ_QUEUES[dry_runs.QUEUE], "URL": url},
    }
    settings.LINK_RUN_QUEUE = name
    settings.DRY_RUN_QUEUE = dry_name
    settings.LINK_RUN_REDIS_PREFIX = f"assetlink-test-{os.getpid()}:link-run"
    q = django_rq.get_queue(name)
    assert q.connection.connection_pool.connection_kwargs.get("db") == 13
    q.empty()
    django_rq.get_queue(dry_name).empty()
    yield q
    q.empty()
    django_rq.get_queue(dry_name).empty()


class ThreadWorker(SimpleWorker):
    """A SimpleWorker that can run off the main thread (signals are the main thread's)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


def work(queue, *, threads: int = 1, off_main: bool = False) -> None:
    """Run the queued jobs to the end with real RQ workers (in-process, burst mode): the dry
    runs' queue first (on ``queue``'s Redis), then ``queue``."""
    queues = [Queue(dry_runs.queue_name(), connection=queue.connection), queue]

    def one():
        worker_class = SimpleWorker if threads == 1 and not off_main else ThreadWorker
        worker_class(queues, connection=queue.connection).work(burst=True, with_scheduler=False)

    if threads == 1:
        one()
        return
    workers = [threading.Thread(target=one) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)


def api_dry_run(client, plan_id: int, queue):
    """Start a plan's dry run through the API, let a real RQ worker do it, and answer the
    statistics (the dry run must have succeeded). Needs ``django_db(transaction=True)``: the
    job is queued when the request's transaction commits."""
    started = client.post(f"/api/plans/{plan_id}/dry-run/")
    assert started.status_code == 202, started.json()
    assert started.json()["status"] == "queued"
    work(queue)
    state = client.get(f"/api/plans/{plan_id}/dry-run/").json()
    assert state["status"] == "succeeded", state
    return client.get(f"/api/plans/{plan_id}/statistics/")
