"""Admin API version drift seen in production: Shopify answering (or delivering a webhook) in
another version than the configured one (`X-Shopify-API-Version`: it falls forward once a
version is out of support), or flagging a deprecated use (`X-Shopify-API-Deprecated-Reason`).
Each is logged once per store and kind (per process) and counted in Redis, which /metrics
exposes as `assetlink_shopify_api_drift_total{shop,kind,value}`."""

from __future__ import annotations

import logging
import threading

from assetlink_project.redis_client import shared_redis

logger = logging.getLogger(__name__)
REDIS_KEY = "assetlink:shopify_api_drift"
_logged: set[tuple[str, str]] = set()
_lock = threading.Lock()


def observe(shop: str, configured: str, headers, *, source: str = "response") -> None:
    """Record what `headers` (of a response or a webhook) say about the version."""
    found = []
    answered = (headers.get("X-Shopify-API-Version") or "").strip()
    if answered and answered != configured:
        found.append(("version", answered))
    reason = (headers.get("X-Shopify-API-Deprecated-Reason") or "").strip()
    if reason:
        found.append(("deprecated", reason[:200]))
    for kind, value in found:
        try:
            shared_redis().hincrby(REDIS_KEY, f"{shop}|{kind}|{value}", 1)
        except Exception:  # counting never breaks a call
            logger.exception("Could not count Admin API drift of %s", shop)
        with _lock:
            first = (shop, kind) not in _logged
            _logged.add((shop, kind))
        if first and kind == "version":
            logger.warning(
                "Shopify answered a %s of %s as Admin API %s, not the configured %s: the "
                "configured version is out of support or not served; upgrade SHOPIFY_API_VERSION.",
                source, shop, value, configured,
            )  # fmt: skip
        elif first:
            logger.warning("Shopify flags a deprecated Admin API use on %s: %s", shop, value)


def counts() -> dict[tuple[str, str, str], int]:
    """(shop, kind, value) -> times seen."""
    out = {}
    for field, n in shared_redis().hgetall(REDIS_KEY).items():
        shop, kind, value = field.decode().split("|", 2)
        out[(shop, kind, value)] = int(n)
    return out
