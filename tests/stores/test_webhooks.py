"""Webhooks delivered by the Shopify emulator to a live app server, and malformed ones."""

import base64
import hashlib
import hmac
import json
import logging

import pytest
import requests

from reports.models import Run
from stores import services
from stores.models import ApiKey, Member, ShopifyStaff, Store, WebhookDelivery
from tests.factories import MemberFactory, StoreFactory

SHOP = "demo-1.myshopify.com"
OTHER = "demo-2.myshopify.com"


@pytest.fixture
def app_url(live_server):
    return live_server.url + "/shopify/webhooks"


@pytest.fixture
def stores(transactional_db, shopify):
    for domain in (SHOP, OTHER):
        requests.post(f"{shopify.url}/_control/shops", json={"domain": domain}, timeout=10)
    store = StoreFactory(shop_domain=SHOP, refresh_token="shprt_refresh000000")
    other = StoreFactory(shop_domain=OTHER)
    for s in (store, other):
        Store.objects.filter(pk=s.pk).update(installed_at="2026-01-01T00:00Z")
    return Store.objects.get(pk=store.pk), Store.objects.get(pk=other.pk)


def deliver(shopify, app_url, topic, shop=SHOP, **extra):
    response = requests.post(
        f"{shopify.url}/_control/webhooks",
        json={"shop": shop, "topic": topic, "address": app_url, **extra},
        timeout=20,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_app_uninstalled_erases_tokens_revokes_keys_and_ends_queued_runs(shopify, app_url, stores):
    store, other = stores
    admin = MemberFactory(workspace=store.workspace, role="master_admin").user
    _, token = services.api_key_create(user=admin, store=store, label="PIM")
    other_admin = MemberFactory(workspace=other.workspace, role="master_admin").user
    _, other_token = services.api_key_create(user=other_admin, store=other, label="PIM")
    queued = [
        Run.objects.create(store=store, kind=kind, status=Run.Status.QUEUED)
        for kind in (Run.Kind.LINK, Run.Kind.UPLOAD)
    ]
    other_run = Run.objects.create(store=other, status=Run.Status.QUEUED)

    result = deliver(shopify, app_url, "app/uninstalled")

    assert result["status_code"] == 200
    store = Store.objects.get(shop_domain=SHOP)
    assert not store.is_installed and store.uninstalled_at is not None
    assert not store.access_token and not store.refresh_token
    assert store.access_token_expires_at is None
    assert [Run.objects.get(pk=r.pk).status for r in queued] == ["aborted", "aborted"]
    assert Run.objects.get(pk=other_run.pk).status == "queued"
    assert services.api_key_authenticate(token) is None
    assert services.api_key_authenticate(other_token) is not None
    assert Store.objects.get(shop_domain=OTHER).is_installed


def test_an_uninstall_the_second_after_an_install_is_honoured(shopify, app_url, stores):
    """Found by the whole-product state machine (tests/whole): the emulator sent
    X-Shopify-Triggered-At in whole seconds, so an uninstall in the same second as the install
    looked older than it and was ignored. Shopify's is sub-second; so is the emulator's now."""
    from django.utils import timezone

    Store.objects.filter(shop_domain=SHOP).update(installed_at=timezone.now())
    result = deliver(shopify, app_url, "app/uninstalled")
    assert result["status_code"] == 200
    assert "." in result["headers"]["X-Shopify-Triggered-At"], result["headers"]
    assert not Store.objects.get(shop_domain=SHOP).is_installed


def test_a_replayed_delivery_is_not_processed_twice(shopify, app_url, stores):
    result = deliver(shopify, app_url, "app/uninstalled")
    Store.objects.filter(shop_domain=SHOP).update(uninstalled_at=None)  # reinstalled since

    replay = requests.post(
        app_url, data=json.dumps(result["payload"]).encode(), headers=result["headers"], timeout=10
    )

    assert replay.status_code == 200 and replay.text == "Already processed."
    assert Store.objects.get(shop_domain=SHOP).is_installed
    assert WebhookDelivery.objects.count() == 1


def test_forged_hmac_is_rejected_and_changes_nothing(shopify, app_url, stores):
    result = deliver(shopify, app_url, "shop/redact", secret="not-the-app-secret")
    assert result["status_code"] == 401
    assert Store.objects.filter(shop_domain=SHOP).exists()
    assert not WebhookDelivery.objects.exists()


def test_shop_redact_erases_everything_of_that_store_only(shopify, app_url, stores):
    store, other = stores
    admin = MemberFactory(workspace=store.workspace, role="master_admin").user
    services.api_key_create(user=admin, store=store, label="PIM")
    other_admin = MemberFactory(workspace=other.workspace, role="master_admin").user
    services.api_key_create(user=other_admin, store=other, label="PIM")
    staff_user = services.staff_arrive(store=store, shopify_user_id="9")
    Store.objects.filter(pk=store.pk).update(uninstalled_at="2026-01-02T00:00Z")  # 48 h before

    result = deliver(shopify, app_url, "shop/redact")

    assert result["status_code"] == 200
    assert not Store.objects.filter(shop_domain=SHOP).exists()
    assert not ApiKey.objects.filter(store_id=store.pk).exists()
    assert not ShopifyStaff.objects.filter(user_id=staff_user.pk).exists()
    assert not Member.objects.filter(user_id=staff_user.pk).exists()
    assert ApiKey.objects.filter(store=other).count() == 1
    assert Store.objects.filter(shop_domain=OTHER).exists()


@pytest.mark.parametrize("topic", ["customers/data_request", "customers/redact"])
def test_customer_privacy_requests_are_acknowledged_and_logged(
    shopify, app_url, stores, caplog, topic
):
    caplog.set_level(logging.INFO, logger="stores.webhooks")
    result = deliver(shopify, app_url, topic)
    assert result["status_code"] == 200
    assert "holds no customer data" in caplog.text
    assert "customer" not in result["response_body"]
    assert "@example.com" not in caplog.text  # no personal data in the logs
    assert Store.objects.get(shop_domain=SHOP).is_installed


# --- malformed deliveries (test client; no emulator needed) ------------------------------------


def _signed(body: bytes, secret="sandbox-api-secret") -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _post(
    client, body: bytes, *, topic="shop/redact", shop=SHOP, hmac_value=None, webhook_id="w-1"
):
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": shop,
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id,
        "HTTP_X_SHOPIFY_HMAC_SHA256": _signed(body) if hmac_value is None else hmac_value,
    }
    headers = {k: v for k, v in headers.items() if v != ""}
    return client.post("/shopify/webhooks", body, content_type="application/json", **headers)


@pytest.mark.django_db
def test_missing_hmac_is_401(client, store):
    response = _post(client, b'{"shop_domain": "x"}', hmac_value="")
    assert response.status_code == 401


@pytest.mark.django_db
def test_hmac_of_another_body_is_401(client):
    body = json.dumps({"shop_domain": SHOP}).encode()
    response = _post(client, body + b" ", hmac_value=_signed(body))
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "kwargs", "message"),
    [
        (b"{not json", {}, b"not JSON"),
        (b"\xff\xfe", {}, b"not JSON"),
        (b"[1, 2]", {}, b"JSON object"),
        (b"{}", {"topic": "orders/create"}, b"Unsupported topic"),
        (b"{}", {"topic": ""}, b"Unsupported topic"),
        (b'{"shop_domain": "x"}', {"shop": "evil.example.com"}, b"myshopify"),
        (b'{"shop_domain": "demo-1.myshopify.com"}', {"webhook_id": ""}, b"Webhook-Id"),
        # A body captured for one shop cannot be replayed against another by a header.
        (b'{"shop_domain": "demo-2.myshopify.com"}', {}, b"another shop"),
    ],
)
def test_malformed_deliveries_get_a_clear_400(client, body, kwargs, message):
    StoreFactory(shop_domain=OTHER)
    response = _post(client, body, **kwargs)
    assert response.status_code == 400
    assert message in response.content
    assert Store.objects.filter(shop_domain=OTHER).exists()


@pytest.mark.django_db
def test_webhook_endpoint_only_accepts_post(client):
    assert client.get("/shopify/webhooks").status_code == 405


@pytest.mark.django_db
def test_webhook_for_an_unknown_shop_is_acknowledged(client):
    body = json.dumps({"shop_id": 1, "shop_domain": "gone.myshopify.com"}).encode()
    assert _post(client, body, shop="gone.myshopify.com").status_code == 200


@pytest.mark.django_db
def test_an_uninstall_from_before_the_latest_install_is_ignored(client):
    store = StoreFactory(shop_domain=SHOP)
    Store.objects.filter(pk=store.pk).update(installed_at="2026-06-01T00:00Z")
    body = json.dumps({"myshopify_domain": SHOP, "domain": SHOP}).encode()
    late = client.post(
        "/shopify/webhooks",
        body,
        content_type="application/json",
        HTTP_X_SHOPIFY_TOPIC="app/uninstalled",
        HTTP_X_SHOPIFY_SHOP_DOMAIN=SHOP,
        HTTP_X_SHOPIFY_WEBHOOK_ID="late-1",
        HTTP_X_SHOPIFY_TRIGGERED_AT="2026-05-31T23:59:00.000Z",
        HTTP_X_SHOPIFY_HMAC_SHA256=_signed(body),
    )
    assert late.status_code == 200
    assert Store.objects.get(pk=store.pk).is_installed


def test_a_webhook_in_another_api_version_is_logged_once_and_counted(shopify, app_url, stores):
    """Shopify delivers webhooks in the version it picks (X-Shopify-API-Version)."""
    import redis
    from django.conf import settings

    from stores.shopify import drift

    r = redis.Redis.from_url(settings.REDIS_URL)
    r.delete(drift.REDIS_KEY)
    drift._logged.clear()
    try:
        for _ in range(2):
            result = deliver(shopify, app_url, "app/uninstalled", api_version="2027-01")
            assert result["ok"], result
        assert drift.counts() == {(SHOP, "version", "2027-01"): 2}
        result = deliver(shopify, app_url, "app/uninstalled", shop=OTHER)
        assert drift.counts() == {(SHOP, "version", "2027-01"): 2}  # 2026-10: no drift
    finally:
        r.delete(drift.REDIS_KEY)
