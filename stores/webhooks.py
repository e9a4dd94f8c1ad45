"""Shopify webhooks: verification, idempotency, and one handler per topic.

The HMAC is computed over the raw request bytes here rather than with
`shopify_app.verify_webhook_req`, which needs the body as a str (a re-encoding of non-UTF-8
bytes would change the HMAC) and answers a missing header with 400 where Shopify asks for 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assetlink_project.parsers import JSONTooDeep, check_json_depth
from stores import services
from stores.models import WebhookDelivery
from stores.oauth import normalize_shop
from stores.shopify import drift

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookResult:
    status: int
    message: str


def body_hmac(body: bytes) -> str:
    digest = hmac.new(settings.SHOPIFY_API_SECRET.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def hmac_is_valid(body: bytes, received: str | None) -> bool:
    return bool(received) and hmac.compare_digest(body_hmac(body), received.strip())


# Clock skew tolerated between Shopify's X-Shopify-Triggered-At and this server.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def _triggered_at(headers) -> datetime | None:
    try:
        value = datetime.fromisoformat((headers.get("X-Shopify-Triggered-At") or "").strip())
    except ValueError:
        return None
    return value if value.tzinfo else None


def _check_triggered_at(topic: str, headers) -> str | None:
    """Why an `app/uninstalled` cannot be ordered against the store's installs, or None.

    Shopify sends X-Shopify-Triggered-At with every webhook. The uninstall handler compares it
    with the store's latest install, so without it a captured uninstall replayed under a new
    webhook id could uninstall a store that has been reinstalled since.
    """
    if topic != "app/uninstalled":
        return None
    triggered_at = _triggered_at(headers)
    if triggered_at is None:
        return "X-Shopify-Triggered-At is missing or not an ISO 8601 time with a time zone."
    if triggered_at > timezone.now() + MAX_CLOCK_SKEW:
        return "X-Shopify-Triggered-At is in the future."
    return None


def _app_uninstalled(shop: str, payload: dict, headers) -> None:
    services.store_uninstall(shop_domain=shop, triggered_at=_triggered_at(headers))


def _customer_request(shop: str, payload: dict, headers) -> None:
    # AssetLink stores product media links only, never customer data: nothing to export or
    # erase. Logged without any personal data so the request is traceable.
    logger.info(
        "Privacy request %s for %s acknowledged; AssetLink holds no customer data",
        headers.get("X-Shopify-Topic"),
        shop,
    )


def _shop_redact(shop: str, payload: dict, headers) -> None:
    services.store_erase(shop_domain=shop)


HANDLERS: dict[str, Callable[[str, dict, object], None]] = {
    "app/uninstalled": _app_uninstalled,
    "customers/data_request": _customer_request,
    "customers/redact": _customer_request,
    "shop/redact": _shop_redact,
}


def _payload_shop(topic: str, payload: dict) -> str | None:
    # The shop named inside the signed body: headers are not covered by the HMAC, so a
    # captured body must not be replayable against another shop by changing a header.
    if topic == "app/uninstalled":
        value = payload.get("myshopify_domain") or payload.get("domain")
    else:
        value = payload.get("shop_domain")
    return normalize_shop(value) if isinstance(value, str) else None


def handle(*, body: bytes, headers) -> WebhookResult:
    if not hmac_is_valid(body, headers.get("X-Shopify-Hmac-Sha256")):
        logger.warning(
            "Webhook rejected: missing or wrong HMAC (topic %r)", headers.get("X-Shopify-Topic")
        )
        return WebhookResult(401, "HMAC verification failed.")
    topic = (headers.get("X-Shopify-Topic") or "").strip()
    shop = normalize_shop(headers.get("X-Shopify-Shop-Domain"))
    webhook_id = (headers.get("X-Shopify-Webhook-Id") or "").strip()
    if topic not in HANDLERS:
        return WebhookResult(400, f"Unsupported topic {topic[:100]!r}.")
    if shop is None:
        return WebhookResult(400, "X-Shopify-Shop-Domain is not a myshopify.com domain.")
    if not webhook_id or len(webhook_id) > 100:
        return WebhookResult(400, "X-Shopify-Webhook-Id is missing.")
    problem = _check_triggered_at(topic, headers)
    if problem:
        logger.warning("Webhook %s (%s for %s) refused: %s", webhook_id, topic, shop, problem)
        return WebhookResult(400, problem)
    try:
        text = body.decode()
        check_json_depth(text)
        payload = json.loads(text)
    except JSONTooDeep as exc:
        return WebhookResult(400, str(exc))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return WebhookResult(400, "The body is not JSON.")
    if not isinstance(payload, dict):
        return WebhookResult(400, "The body is not a JSON object.")
    if _payload_shop(topic, payload) != shop:
        return WebhookResult(400, "The body names another shop than X-Shopify-Shop-Domain.")
    drift.observe(shop, settings.SHOPIFY_API_VERSION, headers, source="webhook")
    with transaction.atomic():
        # Recorded in the handler's transaction: a failed handler leaves no record, so
        # Shopify's retry is processed; a processed delivery is never processed twice.
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(
                    webhook_id=webhook_id,
                    topic=topic,
                    shop_domain=shop,
                    api_version=(headers.get("X-Shopify-API-Version") or "")[:20],
                    triggered_at=(headers.get("X-Shopify-Triggered-At") or "")[:40],
                )
        except IntegrityError:
            logger.info("Webhook %s (%s for %s) already processed", webhook_id, topic, shop)
            return WebhookResult(200, "Already processed.")
        HANDLERS[topic](shop, payload, headers)
    logger.info("Webhook %s (%s for %s) processed", webhook_id, topic, shop)
    return WebhookResult(200, "OK")
