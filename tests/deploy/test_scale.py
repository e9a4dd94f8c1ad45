"""Scale across processes: gunicorn and three `manage.py worker` processes share PostgreSQL and
Redis; a plan links to three stores at once, one worker is SIGKILLed in the middle of a run,
and still every store's gallery and report come out whole. Driven through the HTTP API (as a
logged-in member), RQ's worker registry and the emulators' control API only."""

from __future__ import annotations

import csv
import io
import os
import signal
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import redis
import requests
from rq import Worker

from sandbox.cloudinary.server import make_app as make_cloudinary
from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app as make_shopify
from stores.cloudinary.client import clear_caches
from tests.factories import MemberFactory, StoreFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.slow

STORES = 3
PASSWORD = "deploy-test-password-1"


@pytest.fixture(scope="module")
def emulators():
    """Emulators of this module: media take a while to process, so runs last a few seconds."""
    cloudinary = serve_in_thread(make_cloudinary(n_assets=10))
    shopify = serve_in_thread(make_shopify(media_delay=0.3, job_delay=0.05, bulk_delay=0.05))
    yield cloudinary.url, shopify.url
    cloudinary.shutdown()
    shopify.shutdown()


def _post(url: str, body: dict) -> dict:
    response = requests.post(url, json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def _setup(cloudinary_url: str, shopify_url: str):
    """A workspace with a cloud and three installed stores whose SKUs match the cloud's."""
    cloud = "deploy-cloud"
    _post(f"{cloudinary_url}/_control/clouds",
          {"cloud_name": cloud, "api_key": "k-deploy", "api_secret": "s-deploy",
           "seed": {"n_assets": 60, "seed": 5}})  # fmt: skip
    workspace = WorkspaceFactory(
        cloudinary_cloud_name=cloud, cloudinary_api_key="k-deploy", cloudinary_api_secret="s-deploy"
    )
    skus = requests.get(f"{cloudinary_url}/_control/clouds/{cloud}/skus", timeout=10).json()["skus"]
    domains = []
    for n in range(1, STORES + 1):
        domain = f"deploy-{n}.myshopify.com"
        token = _post(f"{shopify_url}/_control/shops", {"domain": domain, "token": True})
        _post(f"{shopify_url}/_control/shops/{domain}/seed",
              {"products": len(skus), "media_per_product": 2, "sku_pattern": "SKU-{n:05d}"})  # fmt: skip
        StoreFactory(
            workspace=workspace, shop_domain=domain, access_token=token["token"]["access_token"]
        )
        domains.append(domain)
    user = UserFactory(username="deploy-member")
    user.set_password(PASSWORD)
    user.save()
    MemberFactory(workspace=workspace, user=user, role="user")
    return workspace, domains


def _login(base: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{base}/login/", timeout=10)
    response = session.post(
        f"{base}/login/",
        data={"username": "deploy-member", "password": PASSWORD,
              "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )  # fmt: skip
    assert response.status_code == 200 and "sessionid" in session.cookies, response.text[:500]
    session.headers.update({"X-CSRFToken": session.cookies["csrftoken"], "Referer": f"{base}/"})
    return session


def _gallery(shopify_url: str, domain: str) -> dict[str, list[str]]:
    state = requests.get(f"{shopify_url}/_control/shops/{domain}", timeout=10).json()
    return {p["id"]: list(p["media"]) for p in state["products"]}


def _report(session: requests.Session, url: str) -> list[dict]:
    response = session.get(url, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return list(csv.DictReader(io.StringIO(response.text)))


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_three_workers_link_three_stores_in_parallel_and_survive_a_killed_worker(
    stack, emulators, settings
):
    cloudinary_url, shopify_url = emulators
    settings.CLOUDINARY_API_BASE_URL = cloudinary_url
    settings.SHOPIFY_ADMIN_BASE_URL = shopify_url + "/{shop}"
    clear_caches()
    # The stack checks passwords with the shipped hashers (the tests' fast MD5 is not one).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    workspace, domains = _setup(cloudinary_url, shopify_url)
    stack.env.update(
        SHOPIFY_ADMIN_BASE_URL=shopify_url + "/{shop}", CLOUDINARY_API_BASE_URL=cloudinary_url
    )
    base = stack.gunicorn(WEB_CONCURRENCY="2", GUNICORN_THREADS="4")
    stack.env["APP_URL"] = base
    workers = {
        f"worker-{n}": stack.start(
            f"worker-{n}", "manage.py", "worker", "--queues", "links", "--sweep-seconds", "1"
        )
        for n in range(1, 4)
    }
    stack.start("worker-dry-runs", "manage.py", "worker", "--queues", "dry_runs")
    api = _login(base)
    before = {domain: _gallery(shopify_url, domain) for domain in domains}

    plan = api.post(
        f"{base}/api/workspaces/{workspace.pk}/plans/",
        json={"expression": "folder:products/*", "stores": domains,
              "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku",
              "link_mode": "append", "order_field": "metadata:sequence_number",
              "assign_variant_images": False},
        timeout=30,
    )  # fmt: skip
    assert plan.status_code == 201, plan.text[:1000]
    plan_id = plan.json()["id"]
    dry = api.post(f"{base}/api/plans/{plan_id}/dry-run/", timeout=30)
    assert dry.status_code == 202, dry.text[:1000]
    deadline = time.monotonic() + 120  # a worker does the dry run; the page polls it so
    while dry.json()["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        dry = api.get(f"{base}/api/plans/{plan_id}/dry-run/", timeout=10)
    assert dry.json()["status"] == "succeeded", dry.text[:1000]
    planned = _report(api, f"{base}/api/plans/{plan_id}/report.csv")
    started = api.post(f"{base}/api/plans/{plan_id}/run/", json={}, timeout=30)
    assert started.status_code == 202, started.text[:1000]
    run_ids = [r["id"] for r in started.json()]
    assert len(run_ids) == STORES

    # Follow the runs; once one is partly done, kill the worker running it (and its work
    # horse, which RQ forks into a process group of its own) with SIGKILL.
    connection = redis.Redis.from_url(stack.env["REDIS_URL"])
    most_running, killed, deadline = 0, None, time.monotonic() + 240
    while time.monotonic() < deadline:
        runs = [api.get(f"{base}/api/runs/{i}/", timeout=10).json() for i in run_ids]
        most_running = max(most_running, sum(r["status"] == "running" for r in runs))
        if killed is None:
            for run in runs:
                if (
                    run["status"] == "running"
                    and run["phase"] not in ("", "starting")
                    and (run["products_done"] * 2 < run["products_total"])
                ):
                    for worker in Worker.all(connection=connection):
                        job = worker.get_current_job()
                        if job is not None and list(job.args) == [run["id"]]:
                            horse = _children(worker.pid)
                            for pid in [*horse, worker.pid]:
                                os.kill(pid, signal.SIGKILL)
                            killed = (run["id"], run["products_done"], run["products_total"])
                            break
                    if killed:
                        break
        if all(r["status"] not in ("queued", "running") for r in runs):
            break
        time.sleep(0.2)
    logs = "\n".join(f"--- {name}\n{stack.log(name)[-2000:]}" for name in stack.procs)
    assert killed is not None, f"no worker was killed mid-run: {runs}\n{logs}"
    assert sum(w.poll() is not None for w in workers.values()) == 1  # the killed one
    assert most_running == STORES, "the three stores' runs did not run at the same time"

    # Every run finished, every planned asset is in its store's gallery exactly once, after the
    # media that were there, in order; the reports account for every planned asset.
    wanted = defaultdict(list)
    for row in planned:
        if row["action"] in ("create", "created"):
            wanted[(row["store"], row["product_id"])].append(row["asset_id"])
    assert wanted, planned[:5]
    for run_id, domain in zip(run_ids, sorted(domains), strict=True):
        run = api.get(f"{base}/api/runs/{run_id}/", timeout=10).json()
        assert run["status"] == "succeeded", (run, logs)
        assert run["products_done"] == run["products_total"] and run["failures"] == 0, run
        rows = _report(api, f"{base}/api/runs/{run_id}/report.csv")
        created = [r for r in rows if r["action"] == "created"]
        assert Counter((r["product_id"], r["asset_id"]) for r in created) == Counter(
            (product, asset)
            for (store, product), assets in wanted.items()
            if store == domain
            for asset in assets
        ), f"run {run_id} on {domain}: the report does not match the plan"
        after = _gallery(shopify_url, domain)
        for product, old in before[domain].items():
            new = sorted(
                (r for r in created if r["product_id"] == product),
                key=lambda r: int(r["position_after"]),
            )
            assert after[product] == old + [r["media_id"] for r in new], (domain, product)
    # The killed run was taken up again by another worker (its job started twice).
    job_starts = sum(stack.log(name).count(f"link run {killed[0]} (") for name in workers)
    assert job_starts >= 2, f"run {killed[0]} was not resumed:\n{logs}"

    # /metrics shows the runs, the products and Shopify points they spent, the queue, workers.
    metrics = requests.get(
        f"{base}/metrics", headers={"Authorization": "Bearer deploy-test-metrics"}, timeout=10
    ).text
    assert 'assetlink_runs{kind="link",status="succeeded"} 3.0' in metrics
    products = sum(api.get(f"{base}/api/runs/{i}/", timeout=10).json()["products_total"]
                   for i in run_ids)  # fmt: skip
    assert f'assetlink_run_products_done{{kind="link"}} {float(products)}' in metrics
    assert 'assetlink_queue_depth{queue="links"} 0.0' in metrics
    assert "assetlink_http_request_duration_seconds_bucket" in metrics
    assert 'assetlink_run_shopify_points{kind="link"}' in metrics
