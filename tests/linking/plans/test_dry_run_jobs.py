"""Dry runs as background jobs (RQ, a real worker in-process): started by the API without
waiting on Shopify, followed with progress, cancelled, stores planned in parallel, galleries
exported overlapped, the result read a page at a time."""

from __future__ import annotations

import csv
import gc
import io
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from rest_framework.test import APIClient

from linking import dry_runs, services
from linking import galleries as galleries_module
from linking.models import DryRun, Plan
from tests.linking.plans.conftest import api_dry_run, work

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client(member):
    client = APIClient()
    client.force_authenticate(member.user)
    return client


def _plan(client, sandbox, *stores, **config) -> int:
    response = client.post(
        f"/api/workspaces/{sandbox.workspace.pk}/plans/",
        {"expression": "folder:products/*", "stores": [s.shop_domain for s in stores],
         "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku", **config},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_the_api_queues_the_dry_run_and_the_worker_does_it(sandbox, client, queue):
    store = sandbox.shop(products=len(sandbox.skus()), media_per_product=2)
    plan_id = _plan(client, sandbox, store)
    before = len(sandbox.calls(store.shop_domain))

    started = client.post(f"/api/plans/{plan_id}/dry-run/")

    assert started.status_code == 202
    assert started.json()["status"] == "queued" and started.json()["stores_total"] == 1
    assert len(sandbox.calls(store.shop_domain)) == before  # the request asked Shopify nothing
    assert client.get(f"/api/plans/{plan_id}/dry-run/").json()["status"] == "queued"
    # Asking again while it waits answers the same dry run.
    assert client.post(f"/api/plans/{plan_id}/dry-run/").json()["id"] == started.json()["id"]
    work(queue)
    done = client.get(f"/api/plans/{plan_id}/dry-run/").json()
    assert done["status"] == "succeeded", done
    assert done["stores_done"] == 1 and done["finished_at"]
    assert done["stores"][store.shop_domain].endswith("products planned")
    summary = client.get(f"/api/plans/{plan_id}/statistics/").json()
    assert summary["products"] == len(sandbox.skus())
    assert gc.isenabled()  # the garbage collector paused for the dry run only


def test_stores_are_planned_in_parallel_each_with_its_own_result(sandbox, client, queue):
    first = sandbox.shop(products=len(sandbox.skus()), media_per_product=1)
    second = sandbox.shop(products=len(sandbox.skus()) - 3, media_per_product=2)
    plan_id = _plan(client, sandbox, first, second)

    summary = api_dry_run(client, plan_id, queue).json()

    stores = {s["store"]: s for s in summary["stores"]}
    n = len(sandbox.skus())
    assert stores[first.shop_domain]["statistics"]["products_matched"] == n
    assert stores[second.shop_domain]["statistics"]["products_matched"] == n - 3
    assert summary["products"] == 2 * n - 3
    assert all(s["error"] == "" for s in stores.values())
    state = client.get(f"/api/plans/{plan_id}/dry-run/").json()
    assert state["stores_done"] == state["stores_total"] == 2


def test_the_result_is_read_a_page_at_a_time(sandbox, client, queue):
    store = sandbox.shop(products=len(sandbox.skus()), media_per_product=2)
    plan_id = _plan(client, sandbox, store)
    summary = api_dry_run(client, plan_id, queue).json()
    full = client.get(f"/api/plans/{plan_id}/result/?include=rows&page_size=250").json()[0]

    pages, page = [], 1
    while True:
        shown = client.get(f"/api/plans/{plan_id}/result/?page={page}&page_size=4").json()[0]
        assert "rows" not in shown and "groups" not in shown
        if not shown["products"]:
            break
        assert len(shown["products"]) <= 4 and shown["product_count"] == summary["products"]
        pages += shown["products"]
        page += 1
    assert pages == full["products"]
    report = b"".join(client.get(f"/api/plans/{plan_id}/report.csv").streaming_content).decode()
    assert len(list(csv.DictReader(io.StringIO(report)))) == len(full["rows"])
    assert client.get(f"/api/plans/{plan_id}/result/?page=0").status_code == 400
    assert client.get(f"/api/plans/{plan_id}/result/?include=everything").status_code == 400


def test_cancelling_a_queued_dry_run_keeps_the_previous_result(sandbox, client, queue):
    store = sandbox.shop(products=len(sandbox.skus()), media_per_product=2)
    plan_id = _plan(client, sandbox, store)
    summary = api_dry_run(client, plan_id, queue).json()
    again = client.post(f"/api/plans/{plan_id}/dry-run/").json()

    cancelled = client.post(f"/api/plans/{plan_id}/dry-run/cancel/")

    assert cancelled.status_code == 200
    assert cancelled.json()["id"] == again["id"] and cancelled.json()["status"] == "cancelled"
    work(queue)  # the job finds it cancelled and does nothing
    assert client.get(f"/api/plans/{plan_id}/dry-run/").json()["status"] == "cancelled"
    assert client.get(f"/api/plans/{plan_id}/statistics/").json() == summary


def test_cancelling_a_running_dry_run_stops_it_within_seconds(sandbox, client, queue, monkeypatch):
    # Gallery exports that take long: the dry run is still running when the cancel comes.
    monkeypatch.setattr(galleries_module, "NODES_MAX_POINTS", 0)
    requests.post(f"{sandbox.shopify_url}/_control/config", json={"bulk_delay": 30}, timeout=5)
    try:
        store = sandbox.shop(products=len(sandbox.skus()), media_per_product=2)
        plan_id = _plan(client, sandbox, store)
        client.post(f"/api/plans/{plan_id}/dry-run/")
        worker = threading.Thread(target=work, args=(queue,), kwargs={"off_main": True})
        worker.start()
        deadline = time.monotonic() + 30
        while "galleries" not in str(client.get(f"/api/plans/{plan_id}/dry-run/").json()):
            assert time.monotonic() < deadline, "the dry run never reached the galleries"
            time.sleep(0.1)

        client.post(f"/api/plans/{plan_id}/dry-run/cancel/")
        worker.join(timeout=10)
    finally:
        requests.post(f"{sandbox.shopify_url}/_control/config", json={"bulk_delay": None})

    assert not worker.is_alive(), "the dry run did not stop within seconds of the cancel"
    state = client.get(f"/api/plans/{plan_id}/dry-run/").json()
    assert state["status"] == "cancelled" and state["cancel_requested"]
    assert Plan.objects.get(pk=plan_id).results.count() == 0  # nothing half-saved


def test_editing_the_plan_cancels_its_dry_run(sandbox, client, queue):
    store = sandbox.shop(products=2)
    plan_id = _plan(client, sandbox, store)
    client.post(f"/api/plans/{plan_id}/dry-run/")
    client.patch(f"/api/plans/{plan_id}/", {"link_mode": "prepend"}, format="json")
    assert client.get(f"/api/plans/{plan_id}/dry-run/").json()["status"] == "cancelled"


def test_a_dry_run_whose_worker_died_reads_as_failed_and_can_start_again(sandbox, client):
    store = sandbox.shop(products=2)
    plan_id = _plan(client, sandbox, store)
    old = timezone.now() - timedelta(minutes=5)
    lost = DryRun.objects.create(
        plan_id=plan_id, status=DryRun.Status.RUNNING, started_at=old, heartbeat_at=old
    )
    state = client.get(f"/api/plans/{plan_id}/dry-run/").json()
    assert state["status"] == "failed" and state["error"] == dry_runs.LOST
    again = client.post(f"/api/plans/{plan_id}/dry-run/").json()
    assert again["id"] != lost.pk and again["status"] == "queued"


def test_a_failing_cloudinary_fails_the_dry_run_with_its_reason(sandbox, client, queue):
    store = sandbox.shop(products=2)
    plan_id = _plan(client, sandbox, store)
    sandbox.workspace.cloudinary_api_secret = "wrong"
    sandbox.workspace.save()
    client.post(f"/api/plans/{plan_id}/dry-run/")
    work(queue)
    state = client.get(f"/api/plans/{plan_id}/dry-run/").json()
    assert state["status"] == "failed" and state["error"], state
    assert gc.isenabled()  # a failed dry run gives the garbage collector back too


def test_many_gallery_exports_overlap_and_read_the_same_galleries(sandbox, member, monkeypatch):
    store = sandbox.shop(products=len(sandbox.skus()), media_per_product=3)
    data = {"expression": "folder:products/*", "stores": [store.shop_domain],
            "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku"}  # fmt: skip
    plan = services.plan_create(user=member.user, workspace=sandbox.workspace, data=data)
    by_nodes = services.plan_dry_run(plan=plan).results.get().products
    # Two products per export: more exports than Shopify runs at once (5).
    monkeypatch.setattr(galleries_module, "NODES_MAX_POINTS", 0)
    monkeypatch.setattr(galleries_module, "BULK_IDS_PER_EXPORT", 2)
    calls = len(sandbox.calls(store.shop_domain))
    by_bulk = services.plan_dry_run(plan=plan).results.get()
    assert by_bulk.galleries_path == "bulk"
    assert by_bulk.products == by_nodes
    started = [
        c for c in sandbox.calls(store.shop_domain)[calls:] if "bulkOperationRunQuery" in str(c)
    ]
    assert len(started) >= -(-len(by_nodes) // 2)
