"""Webhook delivery to the app, signed like Shopify (base64 HMAC-SHA256 of the raw body)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime

import requests

from .state import State, now_iso

TOPICS = ("app/uninstalled", "customers/data_request", "customers/redact", "shop/redact")


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def payload_for(state: State, shop, topic: str, extra: dict | None = None) -> dict:
    rnd = state.next_id()
    customer = {"id": rnd, "email": f"customer{rnd}@example.com", "phone": "+15555550100"}
    if topic == "app/uninstalled":
        body = {
            "id": shop.id,
            "name": shop.name,
            "email": shop.email,
            "domain": shop.domain,
            "myshopify_domain": shop.domain,
            "plan_name": shop.plan,
            "plan_display_name": shop.plan_info[0],
            "country": "US",
            "currency": "USD",
            "created_at": now_iso(),
            "updated_at": now_iso(),
        }
    elif topic == "customers/data_request":
        body = {
            "shop_id": shop.id,
            "shop_domain": shop.domain,
            "orders_requested": [rnd + 1, rnd + 2],
            "customer": customer,
            "data_request": {"id": rnd + 3},
        }
    elif topic == "customers/redact":
        body = {
            "shop_id": shop.id,
            "shop_domain": shop.domain,
            "customer": customer,
            "orders_to_redact": [rnd + 1, rnd + 2],
        }
    elif topic == "shop/redact":
        body = {"shop_id": shop.id, "shop_domain": shop.domain}
    else:
        raise ValueError(f"unsupported topic {topic!r}; one of {TOPICS}")
    body.update(extra or {})
    return body


def deliver(
    state: State,
    shop_domain: str,
    topic: str,
    address: str,
    api_version: str = "2026-10",
    payload: dict | None = None,
    secret: str | None = None,
    timeout: float = 10.0,
) -> dict:
    with state.lock:
        shop = state.get_shop(shop_domain)
        if shop is None:
            raise ValueError(f"unknown shop {shop_domain!r}")
        body_obj = payload_for(state, shop, topic, payload)
        if topic == "app/uninstalled":
            shop.installed = False
            state.revoke_shop_tokens(shop.domain)
    body = json.dumps(body_obj).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret or state.config["api_secret"]),
        "X-Shopify-Shop-Domain": shop_domain,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        # Shopify's is precise to the nanosecond (e.g. 2026-03-29T18:00:27.877041743Z).
        "X-Shopify-Triggered-At": datetime.now(UTC)
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z"),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "User-Agent": "Shopify-Captain-Hook",
    }
    result = {"topic": topic, "address": address, "headers": headers, "payload": body_obj}
    started = time.monotonic()
    try:
        r = requests.post(address, data=body, headers=headers, timeout=timeout)
        result.update(status_code=r.status_code, response_body=r.text[:2000], ok=r.ok)
    except requests.RequestException as e:
        result.update(status_code=None, error=str(e), ok=False)
    result["duration"] = round(time.monotonic() - started, 4)
    with state.lock:
        state.webhook_log.append({k: v for k, v in result.items() if k != "headers"})
    return result
