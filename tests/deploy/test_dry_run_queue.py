"""Dry runs never wait behind runs (issue 28): with the shipped process layout — one
`manage.py worker --queues Q` process per worker of `make serve`'s defaults (the Procfile's and
compose.yaml's layout, tests/deploy/test_container_files.py) — and every link worker busy on a
long run, a dry run's job starts within a second and the dry run finishes while the runs go on.
Driven through the HTTP API of gunicorn, RQ's worker registry and the emulators only."""

from __future__ import annotations

import time

import pytest
import redis
from rq import Worker

from assetlink_project import serve
from linking.models import DryRun
from sandbox.cloudinary.server import make_app as make_cloudinary
from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app as make_shopify
from stores.cloudinary.client import clear_caches
from tests.deploy.test_scale import _login, _setup

pytestmark = pytest.mark.slow

MEDIA_DELAY = 40.0  # a new media is READY only after this: a run lasts at least as long


@pytest.fixture(scope="module")
def slow_media():
    cloudinary = serve_in_thread(make_cloudinary(n_assets=10))
    shopify = serve_in_thread(
        make_shopify(media_delay=MEDIA_DELAY, job_delay=0.05, bulk_delay=0.05)
    )
    yield cloudinary.url, shopify.url
    cloudinary.shutdown()
    shopify.shutdown()


def _wait_dry_run(api, base: str, plan_id: int, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    state = api.get(f"{base}/api/plans/{plan_id}/dry-run/", timeout=10).json()
    while state["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        state = api.get(f"{base}/api/plans/{plan_id}/dry-run/", timeout=10).json()
    return state


def _plan(api, base: str, workspace, domains: list[str]) -> int:
    plan = api.post(
        f"{base}/api/workspaces/{workspace.pk}/plans/",
        json={"expression": "folder:products/*", "stores": domains,
              "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku",
              "link_mode": "append", "assign_variant_images": False},
        timeout=30,
    )  # fmt: skip
    assert plan.status_code == 201, plan.text[:1000]
    return plan.json()["id"]


def test_a_dry_run_starts_within_a_second_while_every_link_worker_is_busy(
    stack, slow_media, settings
):
    cloudinary_url, shopify_url = slow_media
    settings.CLOUDINARY_API_BASE_URL = cloudinary_url
    settings.SHOPIFY_ADMIN_BASE_URL = shopify_url + "/{shop}"
    clear_caches()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    workspace, domains = _setup(cloudinary_url, shopify_url)
    stack.env.update(
        SHOPIFY_ADMIN_BASE_URL=shopify_url + "/{shop}", CLOUDINARY_API_BASE_URL=cloudinary_url
    )
    base = stack.gunicorn(WEB_CONCURRENCY="1", GUNICORN_THREADS="4")
    stack.env["APP_URL"] = base
    counts = serve.worker_counts({})  # the shipped defaults, no WORKERS_* set
    for queue, count in counts.items():
        for n in range(count):
            stack.start(f"worker-{queue}-{n}", "manage.py", "worker", "--queues", queue)
    links = counts["links"]
    assert 1 <= links < len(domains), "one store more than link workers is needed"
    api = _login(base)

    # One run per link worker, each lasting MEDIA_DELAY seconds at least.
    busy = _plan(api, base, workspace, domains[:links])
    api.post(f"{base}/api/plans/{busy}/dry-run/", timeout=30)
    assert _wait_dry_run(api, base, busy, 120)["status"] == "succeeded"
    started = api.post(f"{base}/api/plans/{busy}/run/", json={}, timeout=30)
    assert started.status_code == 202, started.text[:1000]
    run_ids = [r["id"] for r in started.json()]
    connection = redis.Redis.from_url(stack.env["REDIS_URL"])

    def link_workers_busy() -> int:
        return sum(
            1
            for w in Worker.all(connection=connection)
            if w.queue_names() == ["links"] and w.get_current_job_id() is not None
        )

    deadline = time.monotonic() + 60
    while link_workers_busy() < links:
        assert time.monotonic() < deadline, "the runs did not take every link worker"
        time.sleep(0.1)

    # A dry run of another store's plan: its job starts at once and it finishes meanwhile.
    other = _plan(api, base, workspace, domains[links:])
    dry = api.post(f"{base}/api/plans/{other}/dry-run/", timeout=30)
    assert dry.status_code == 202, dry.text[:1000]
    state = _wait_dry_run(api, base, other, MEDIA_DELAY / 2)
    assert state["status"] == "succeeded", state
    assert link_workers_busy() == links, "a run ended before the dry run: the test proves nothing"
    runs = [api.get(f"{base}/api/runs/{i}/", timeout=10).json() for i in run_ids]
    assert all(r["status"] == "running" for r in runs), runs
    row = DryRun.objects.get(pk=dry.json()["id"])
    waited = (row.started_at - row.created_at).total_seconds()
    assert waited < 1.0, f"the dry run's job waited {waited:.2f} s to start"

    for run_id in run_ids:  # let the workers stop at once
        api.post(f"{base}/api/runs/{run_id}/abort/", timeout=10)
