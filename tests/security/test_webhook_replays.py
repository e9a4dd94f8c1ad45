"""Replayed and forged-shape webhooks (findings 6 and 8), validly signed: an app/uninstalled
that cannot be ordered after the store's latest install is refused or ignored, shop/redact
does not erase an installed store, and over-long shop domains or deep bodies are a 400."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from stores.models import Store
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db
SHOP = "demo-1.myshopify.com"


def _post(client, topic, body: bytes, *, shop=SHOP, webhook_id="w-1", triggered_at=None):
    digest = hmac.new(settings.SHOPIFY_API_SECRET.encode(), body, hashlib.sha256).digest()
    headers = {
        "HTTP_X_SHOPIFY_TOPIC": topic,
        "HTTP_X_SHOPIFY_SHOP_DOMAIN": shop,
        "HTTP_X_SHOPIFY_WEBHOOK_ID": webhook_id,
        "HTTP_X_SHOPIFY_HMAC_SHA256": base64.b64encode(digest).decode(),
    }
    if triggered_at is not None:
        headers["HTTP_X_SHOPIFY_TRIGGERED_AT"] = triggered_at
    return client.post("/shopify/webhooks", body, content_type="application/json", **headers)


UNINSTALL = json.dumps({"myshopify_domain": SHOP, "domain": SHOP}).encode()


@pytest.fixture
def reinstalled():
    """A store that uninstalled once and was installed again an hour ago."""
    return StoreFactory(shop_domain=SHOP, installed_at=timezone.now() - timedelta(hours=1))


@pytest.mark.parametrize("triggered_at", [None, "", "yesterday", "2026-01-01T00:00:00"])
def test_a_replayed_uninstall_without_a_usable_time_is_refused(client, reinstalled, triggered_at):
    response = _post(client, "app/uninstalled", UNINSTALL, webhook_id="replay-1",
                     triggered_at=triggered_at)  # fmt: skip
    assert response.status_code == 400
    assert b"X-Shopify-Triggered-At" in response.content
    assert Store.objects.get(pk=reinstalled.pk).is_installed


def test_an_uninstall_from_before_the_reinstall_is_ignored(client, reinstalled):
    earlier = (timezone.now() - timedelta(hours=2)).isoformat()
    response = _post(client, "app/uninstalled", UNINSTALL, triggered_at=earlier)
    assert response.status_code == 200
    assert Store.objects.get(pk=reinstalled.pk).is_installed


def test_an_uninstall_dated_in_the_future_is_refused(client, reinstalled):
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    assert _post(client, "app/uninstalled", UNINSTALL, triggered_at=later).status_code == 400
    assert Store.objects.get(pk=reinstalled.pk).is_installed


def test_a_current_uninstall_is_applied(client, reinstalled):
    response = _post(client, "app/uninstalled", UNINSTALL, triggered_at=timezone.now().isoformat())
    assert response.status_code == 200
    assert not Store.objects.get(pk=reinstalled.pk).is_installed


def test_shop_redact_leaves_an_installed_store_alone_and_logs_it(client, reinstalled, caplog):
    caplog.set_level(logging.WARNING, logger="stores.services")
    body = json.dumps({"shop_id": 1, "shop_domain": SHOP}).encode()
    assert _post(client, "shop/redact", body).status_code == 200
    assert Store.objects.filter(pk=reinstalled.pk).exists()
    assert "Ignored shop/redact" in caplog.text


def test_shop_redact_erases_an_uninstalled_store(client, reinstalled):
    Store.objects.filter(pk=reinstalled.pk).update(uninstalled_at=timezone.now())
    body = json.dumps({"shop_id": 1, "shop_domain": SHOP}).encode()
    assert _post(client, "shop/redact", body).status_code == 200
    assert not Store.objects.filter(pk=reinstalled.pk).exists()


def test_an_overlong_shop_domain_is_400(client):
    shop = "a" * 5000 + ".myshopify.com"
    body = json.dumps({"shop_id": 1, "shop_domain": shop}).encode()
    response = _post(client, "shop/redact", body, shop=shop)
    assert response.status_code == 400 and b"myshopify" in response.content


def test_a_deeply_nested_signed_body_is_400(client, reinstalled):
    body = b"[" * 50_000 + b"]" * 50_000
    response = _post(client, "shop/redact", body)
    assert response.status_code == 400 and b"levels deep" in response.content
