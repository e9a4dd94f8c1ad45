"""An uninstall while a link run is going, with a real worker.

- The uninstall webhook reaches AssetLink while Shopify still answers: the run stops at the
  next product boundary (`reports.receivers`), no product is left half-changed.
- The emulator's own `app/uninstalled` (Shopify revokes the token as it sends it): the run
  stops at once with a reason; the products it had not started are untouched (the ones it was
  changing cannot be rolled back without access); after a reinstall, in the same workspace,
  running the link again brings every product to its planned gallery.
Either way the store's API keys stop working.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from django.utils import timezone

from linking import runs
from linking.models import LinkRecord
from reports.models import Run, RunProduct
from stores import services
from stores.models import Store
from tests.factories import MemberFactory
from tests.linking.runs.conftest import (  # noqa: F401
    dry_run,
    emulators,
    gallery,
    queue,
    sandbox,
    work,
)
from tests.stores.test_webhooks import _signed

pytestmark = pytest.mark.django_db(transaction=True)


def _media_delay(box, seconds: float) -> None:
    r = requests.post(f"{box.shopify_url}/_control/config", json={"media_delay": seconds})
    r.raise_for_status()


def _latency(box, store, seconds: float) -> None:
    """Shopify answers the store's calls ``seconds`` late (until the faults are cleared)."""
    faults = {"slow": 1.0, "slow_seconds": seconds, "shops": [store.shop_domain]}
    requests.post(f"{box.shopify_url}/_control/faults", json=faults).raise_for_status()


def _start(box, queue, settings):  # noqa: F811
    settings.LINK_RUN_WAVE_SECONDS = 0.3  # a product or two per wave
    store = box.shop(products=len(box.skus()) - 2, media_per_product=2)
    Store.objects.filter(pk=store.pk).update(installed_at="2026-01-01T00:00Z")
    admin = MemberFactory(workspace=box.workspace, role="master_admin").user
    _, token = services.api_key_create(user=admin, store=store, label="PIM")
    before = gallery(box, store)
    plan = dry_run(box, store, link_mode="reset")
    # Shopify answers in 0.15 s, as it does across the internet: the waves (each started once
    # its creates are answered) take seconds to start, so the run is still starting products
    # when the uninstall comes, whatever the machine's speed (with an emulator answering in a
    # few ms every wave starts at once, and the run could end before the webhook)
    _latency(box, store, 0.15)
    run = runs.run_start_from_plan(plan=plan, store=store)
    worker = threading.Thread(target=work, args=(queue,), kwargs={"off_main": True})
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.products_done >= 1:
            break
        time.sleep(0.05)
    return store, token, before, run, worker


def _wait_terminal(run, worker) -> float:
    started = time.monotonic()
    while time.monotonic() - started < 30 and not run.is_terminal:
        time.sleep(0.05)
        run.refresh_from_db()
    worker.join(timeout=30)
    return time.monotonic() - started


def _complete(box, store, product_id) -> bool:
    """Reset leaves only the run's media in a product it finished."""
    records = set(LinkRecord.objects.filter(store=store).values_list("media_id", flat=True))
    return all(m["id"] in records for m in gallery(box, store)[product_id])


def test_uninstall_during_a_run_stops_it_at_a_product_boundary(  # noqa: F811
    sandbox,  # noqa: F811
    queue,  # noqa: F811
    client,
    settings,
):
    _media_delay(sandbox, 0.4)
    try:
        store, token, before, run, worker = _start(sandbox, queue, settings)
        body = json.dumps({"myshopify_domain": store.shop_domain}).encode()
        uninstalled = client.post(
            "/shopify/webhooks",
            body,
            content_type="application/json",
            HTTP_X_SHOPIFY_TOPIC="app/uninstalled",
            HTTP_X_SHOPIFY_SHOP_DOMAIN=store.shop_domain,
            HTTP_X_SHOPIFY_WEBHOOK_ID="uninstall-during-run",
            HTTP_X_SHOPIFY_HMAC_SHA256=_signed(body),
            HTTP_X_SHOPIFY_TRIGGERED_AT=timezone.now().isoformat(),
        )
        took = _wait_terminal(run, worker)
    finally:
        _media_delay(sandbox, 0.01)
        requests.delete(f"{sandbox.shopify_url}/_control/faults").raise_for_status()
    assert uninstalled.status_code == 200
    assert run.status == Run.Status.ABORTED and took < 5
    assert services.api_key_authenticate(token) is None
    products = dict(RunProduct.objects.filter(run=run).values_list("product_id", "status"))
    assert set(products.values()) == {"done", "not_done"}
    after = gallery(sandbox, store)
    for product_id, status in products.items():
        if status == "done":
            assert _complete(sandbox, store, product_id)
        else:
            assert [m["id"] for m in after[product_id]] == [m["id"] for m in before[product_id]]


def test_shopify_revoking_access_mid_run_stops_it_and_a_reinstall_resumes_it(  # noqa: F811
    sandbox,  # noqa: F811
    queue,  # noqa: F811
    live_server,
    settings,
):
    _media_delay(sandbox, 0.4)
    try:
        store, token, before, run, worker = _start(sandbox, queue, settings)
        delivered = requests.post(
            f"{sandbox.shopify_url}/_control/webhooks",
            json={
                "shop": store.shop_domain,
                "topic": "app/uninstalled",
                "address": live_server.url + "/shopify/webhooks",
            },
            timeout=20,
        ).json()
        took = _wait_terminal(run, worker)
    finally:
        _media_delay(sandbox, 0.01)
        requests.delete(f"{sandbox.shopify_url}/_control/faults").raise_for_status()
    assert delivered["status_code"] == 200 and took < 5
    assert run.status in (Run.Status.FAILED, Run.Status.ABORTED)
    assert services.api_key_authenticate(token) is None
    store.refresh_from_db()
    assert not store.is_installed
    products = dict(RunProduct.objects.filter(run=run).values_list("product_id", "status"))
    after = gallery(sandbox, store)
    for product_id, status in products.items():
        if status in ("pending", "not_done"):  # never started: untouched
            assert [m["id"] for m in after[product_id]] == [m["id"] for m in before[product_id]]

    # Reinstalled (the same workspace), the run goes on where it stopped.
    fresh = requests.post(
        f"{sandbox.shopify_url}/_control/shops/{store.shop_domain}/token", json={}, timeout=10
    ).json()
    grant = type("Grant", (), {"access_token": fresh["access_token"], "scope": fresh["scope"],
                               "expires_at": None, "refresh_token": "",
                               "refresh_token_expires_at": None})  # fmt: skip
    reinstalled = services.store_install(shop_domain=store.shop_domain, grant=grant)
    assert reinstalled.pk == store.pk and reinstalled.workspace_id == store.workspace_id
    assert reinstalled.is_installed
    # A new run of the same link finishes what the stopped one left (links are idempotent).
    again = runs.run_start_from_plan(plan=dry_run(sandbox, store, link_mode="reset"), store=store)
    work(queue)
    again.refresh_from_db()
    assert again.status == Run.Status.SUCCEEDED
    for product_id in products:
        assert _complete(sandbox, store, product_id)
