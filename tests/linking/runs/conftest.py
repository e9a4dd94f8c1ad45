"""Link runs against both emulators with a real RQ worker (``SimpleWorker``, burst mode, on the
real Redis). Reuses the plans' sandbox fixtures (one cloud and one shop per test)."""

from __future__ import annotations

import os
import tempfile
import threading
from urllib.parse import urlsplit, urlunsplit

import django_rq
import pytest
import requests
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from linking import runs, services
from reports.models import Run
from tests.linking.plans.conftest import Sandbox, emulators, sandbox  # noqa: F401


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
    url = _other_redis_db(settings.REDIS_URL, 13)
    name = f"links-test-{os.getpid()}"
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {
        **{n: {**cfg, "URL": url} for n, cfg in settings.RQ_QUEUES.items()},
        name: {**settings.RQ_QUEUES[runs.QUEUE], "URL": url},
    }
    settings.LINK_RUN_QUEUE = name
    settings.LINK_RUN_REDIS_PREFIX = f"assetlink-test-{os.getpid()}:link-run"
    q = django_rq.get_queue(name)
    assert q.connection.connection_pool.connection_kwargs.get("db") == 13
    q.empty()
    yield q
    q.empty()


class ThreadWorker(SimpleWorker):
    """A SimpleWorker that can run off the main thread (signals are the main thread's)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


def work(queue, *, threads: int = 1, off_main: bool = False) -> None:
    """Run the queued jobs to the end with real RQ workers (in-process, burst mode)."""

    def one():
        worker_class = SimpleWorker if threads == 1 and not off_main else ThreadWorker
        worker_class([queue], connection=queue.connection).work(burst=True, with_scheduler=False)

    if threads == 1:
        one()
        return
    workers = [threading.Thread(target=one) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)


def dry_run(box: Sandbox, store, **config):
    data = {
        "expression": "folder:products/*",
        "stores": [store.shop_domain],
        "cloudinary_field": "metadata:sku",
        "shopify_field": "variant.sku",
        **config,
    }
    plan = services.plan_create(user=None, workspace=box.workspace, data=data)
    return services.plan_dry_run(plan=plan)


def gallery(box: Sandbox, store) -> dict[str, list[dict]]:
    """Product gid → its media (id, alt, status, errors) in gallery order, from the emulator."""
    state = box.shop_state(store.shop_domain)
    files = {f["id"]: f for f in state["files"]}
    return {p["id"]: [files[m] for m in p["media"]] for p in state["products"]}


def variant_images(box: Sandbox, store) -> dict[str, list[str]]:
    state = box.shop_state(store.shop_domain)
    return {v["id"]: v["media"] for p in state["products"] for v in p["variants"]}


def start_and_work(queue, plan, store) -> Run:
    run = runs.run_start_from_plan(plan=plan, store=store)
    work(queue)
    run.refresh_from_db()
    return run


def shop_control(box: Sandbox, path: str, body: dict | None = None):
    r = requests.post(f"{box.shopify_url}/_control/{path}", json=body or {}, timeout=10)
    r.raise_for_status()
    return r.json()
