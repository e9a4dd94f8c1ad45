"""Link runs against both emulators with a real RQ worker (``SimpleWorker``, burst mode, on the
real Redis). Reuses the plans' sandbox fixtures (one cloud and one shop per test)."""

from __future__ import annotations

from datetime import timedelta

import requests
from django.utils import timezone

from linking import runs, services
from reports.models import Run
from tests.linking.plans.conftest import (  # noqa: F401
    Sandbox,
    ThreadWorker,
    _other_redis_db,
    emulators,
    queue,
    sandbox,
    work,
)


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


def start_and_work(queue, plan, store) -> Run:  # noqa: F811
    run = runs.run_start_from_plan(plan=plan, store=store)
    work(queue)
    run.refresh_from_db()
    return run


def shop_control(box: Sandbox, path: str, body: dict | None = None):
    r = requests.post(f"{box.shopify_url}/_control/{path}", json=body or {}, timeout=10)
    r.raise_for_status()
    return r.json()


def undo_and_work(queue, run: Run) -> Run:  # noqa: F811
    """Undo ``run`` and let a worker do it: the undo run, read again."""
    undo = runs.run_undo(run=run)
    work(queue)
    undo.refresh_from_db()
    return undo


def media_ids(galleries: dict[str, list[dict]]) -> dict[str, list[str]]:
    return {product_id: [m["id"] for m in media] for product_id, media in galleries.items()}


def sweep_after_death(run: Run) -> list[int]:
    """Time passes after ``run``'s worker died: its heartbeat goes stale. Then one sweep of a
    worker's sweeper (``manage.py worker`` runs one every few seconds): the runs it queued."""
    from reports.management.commands.worker import sweep_dead_runs

    runs.runs_redis().delete(runs._key(run.pk, "alive"))
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    return sweep_dead_runs()
