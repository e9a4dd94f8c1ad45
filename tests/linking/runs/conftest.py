"""Link runs against both emulators with a real RQ worker (``SimpleWorker``, burst mode, on the
real Redis). Reuses the plans' sandbox fixtures (one cloud and one shop per test)."""

from __future__ import annotations

import threading

import django_rq
import pytest
import requests
from rq import SimpleWorker

from linking import runs, services
from reports.models import Run
from tests.linking.plans.conftest import Sandbox, emulators, sandbox  # noqa: F401


@pytest.fixture
def queue(settings):
    q = django_rq.get_queue(runs.QUEUE)
    q.empty()
    yield q
    q.empty()


def work(queue, *, threads: int = 1) -> None:
    """Run the queued jobs to the end with real RQ workers (in-process, burst mode)."""

    def one():
        SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)

    if threads == 1:
        one()
        return
    workers = [threading.Thread(target=one) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)


def dry_run(sandbox: Sandbox, store, **config):
    data = {
        "expression": "folder:products/*",
        "stores": [store.shop_domain],
        "cloudinary_field": "metadata:sku",
        "shopify_field": "variant.sku",
        **config,
    }
    plan = services.plan_create(user=None, workspace=sandbox.workspace, data=data)
    return services.plan_dry_run(plan=plan)


def gallery(sandbox: Sandbox, store) -> dict[str, list[dict]]:
    """Product gid → its media (id, alt, status, errors) in gallery order, from the emulator."""
    state = sandbox.shop_state(store.shop_domain)
    files = {f["id"]: f for f in state["files"]}
    return {p["id"]: [files[m] for m in p["media"]] for p in state["products"]}


def variant_images(sandbox: Sandbox, store) -> dict[str, list[str]]:
    state = sandbox.shop_state(store.shop_domain)
    return {v["id"]: v["media"] for p in state["products"] for v in p["variants"]}


def start_and_work(queue, plan, store) -> Run:
    run = runs.run_start_from_plan(plan=plan, store=store)
    work(queue)
    run.refresh_from_db()
    return run


def shop_control(sandbox: Sandbox, path: str, body: dict | None = None):
    r = requests.post(f"{sandbox.shopify_url}/_control/{path}", json=body or {}, timeout=10)
    r.raise_for_status()
    return r.json()
