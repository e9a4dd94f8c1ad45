"""Shopify app auth over HTTP: query-HMAC checks and the three token grants.

Grants return a `TokenGrant`; `stores.services.store_save_grant` stores one on a Store.

- Every grant goes over the one outbound session (`assetlink_project.http_client`: timeouts, no
  redirects, POSTs never re-sent by the transport).
- Token exchange and refresh use Shopify's `shopifyapp` package (`shopify_app`): it builds the
  request, retries 429/5xx and redacts tokens in its own logs. It speaks httpx, with URLs
  hard-coded to https://{shop}/…; we hand it an httpx client whose transport sends each request
  through the session to `endpoints.oauth_access_token_url(shop)`, so the sandbox base URL still
  comes from one place and no second HTTP stack reaches Shopify.
- The authorization-code grant is not in `shopify_app` (and `ShopifyAPI`'s `request_token`
  cannot ask for `expiring=1`), so it is a plain POST on the session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import requests
from django.conf import settings
from shopify_app import (
    IdTokenDetails,
    TokenExchangeAccessToken,
    refresh_access_token,
    token_exchange,
)

from assetlink_project import http_client
from assetlink_project.errors import ApplicationError
from stores.models import normalize_shop  # noqa: F401 - the one rule, also oauth.normalize_shop
from stores.session_tokens import SessionToken
from stores.shopify import endpoints

logger = logging.getLogger(__name__)

# Shopify's Node library rejects install/callback timestamps more than 90 s off; so do we.
TIMESTAMP_WINDOW_SECONDS = 90
HTTP_TIMEOUT_SECONDS = 15.0
_ACCESS_TOKEN_PATH = "/admin/oauth/access_token"


class OAuthError(ApplicationError):
    """A grant failed. The message is safe to show and log: it never contains a token."""


@dataclass(frozen=True)
class TokenGrant:
    access_token: str = field(repr=False)
    scope: str
    expires_at: datetime | None
    refresh_token: str = field(default="", repr=False)
    refresh_token_expires_at: datetime | None = None


# --- request checks ----------------------------------------------------------------------------


def _param_value(values: list[str]) -> str:
    # Shopify signs repeated keys (`ids[]=1&ids[]=2`) as a JSON-style list: ["1", "2"].
    if len(values) == 1:
        return values[0]
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def query_hmac(params: dict[str, list[str]]) -> str:
    """Hex HMAC-SHA256 over the sorted `k=v` pairs (without `hmac`/`signature`) joined by `&`."""
    message = "&".join(
        f"{key}={_param_value(values)}"
        for key, values in sorted(params.items())
        if key not in ("hmac", "signature")
    )
    return hmac.new(
        settings.SHOPIFY_API_SECRET.encode(), message.encode(), hashlib.sha256
    ).hexdigest()


def query_hmac_is_valid(params: dict[str, list[str]]) -> bool:
    received = (params.get("hmac") or [""])[0]
    return bool(received) and hmac.compare_digest(query_hmac(params), received)


def timestamp_is_fresh(timestamp: str | None, now: float | None = None) -> bool:
    try:
        value = int(timestamp or "")
    except ValueError:
        return False
    return abs((now if now is not None else time.time()) - value) <= TIMESTAMP_WINDOW_SECONDS


# --- HTTP --------------------------------------------------------------------------------------


# Headers that describe the bytes as they travelled; requests has already decoded them.
_HOP_HEADERS = {"content-encoding", "content-length", "transfer-encoding", "connection"}


class _ShopRoutingTransport(httpx.BaseTransport):
    """Sends shopify_app's https://{shop}/admin/oauth/access_token through the one session, to
    `endpoints.oauth_access_token_url`; nothing else."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if request.url.path != _ACCESS_TOKEN_PATH:
            raise httpx.UnsupportedProtocol(f"refusing to send {request.url.path} to {host}")
        shop = host if host.endswith(".myshopify.com") else f"{host}.myshopify.com"
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        try:
            answer = http_client.session().request(
                request.method,
                endpoints.oauth_access_token_url(shop),
                data=request.read(),
                headers=headers,
                timeout=HTTP_TIMEOUT_SECONDS,
            )
        except requests.Timeout as exc:
            raise httpx.TimeoutException(type(exc).__name__, request=request) from exc
        except requests.RequestException as exc:
            raise httpx.ConnectError(type(exc).__name__, request=request) from exc
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS]
        return httpx.Response(
            answer.status_code, headers=kept, content=answer.content, request=request
        )


def _client() -> httpx.Client:
    return httpx.Client(transport=_ShopRoutingTransport(), timeout=HTTP_TIMEOUT_SECONDS)


def _app_config() -> dict:
    return {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        "old_client_secret": None,
    }


def _expiry(seconds) -> datetime | None:
    if seconds in (None, ""):
        return None
    return datetime.now(UTC) + timedelta(seconds=int(seconds))


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _grant_from_library(token: TokenExchangeAccessToken) -> TokenGrant:
    return TokenGrant(
        access_token=token.token,
        scope=token.scope or "",
        expires_at=_parse_iso(token.expires),
        refresh_token=token.refresh_token or "",
        refresh_token_expires_at=_parse_iso(token.refresh_token_expires),
    )


def _require_shop(shop: str) -> str:
    clean = normalize_shop(shop)
    if clean is None:
        raise OAuthError("Not a myshopify.com shop domain.")
    return clean


# --- grants ------------------------------------------------------------------------------------


def exchange_code(shop: str, code: str) -> TokenGrant:
    """Authorization-code grant for an expiring offline token (+ refresh token)."""
    shop = _require_shop(shop)
    body = {
        "client_id": settings.SHOPIFY_API_KEY,
        "client_secret": settings.SHOPIFY_API_SECRET,
        "code": code,
        "expiring": "1",
    }
    try:
        response = http_client.session().post(
            endpoints.oauth_access_token_url(shop),
            json=body,
            headers={"Accept": "application/json"},
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        logger.warning("OAuth code exchange for %s failed: %s", shop, type(exc).__name__)
        raise OAuthError(f"Could not reach Shopify to finish installing on {shop}.") from exc
    try:
        data = response.json()
    except json.JSONDecodeError:
        data = {}
    if response.status_code != 200 or not data.get("access_token"):
        error = data.get("error") or f"HTTP {response.status_code}"
        logger.warning("OAuth code exchange for %s refused: %s", shop, error)
        raise OAuthError(
            f"Shopify refused the install of {shop} ({error}); start the install again."
        )
    return TokenGrant(
        access_token=data["access_token"],
        scope=data.get("scope", ""),
        expires_at=_expiry(data.get("expires_in")),
        refresh_token=data.get("refresh_token", ""),
        refresh_token_expires_at=_expiry(data.get("refresh_token_expires_in")),
    )


def exchange_session_token(session_token: SessionToken) -> TokenGrant:
    """Token exchange: a validated session token → an expiring offline token."""
    shop = _require_shop(session_token.shop)
    id_token = IdTokenDetails(
        exchangeable=True, token=session_token.token, claims={"dest": f"https://{shop}"}
    )
    with _client() as client:
        result = token_exchange(
            "offline", _app_config(), id_token=id_token, expiring=True, http_client=client
        )
    if not result.ok or result.access_token is None:
        logger.warning("Token exchange for %s failed: %s", shop, result.log.code)
        raise OAuthError(f"Shopify refused the token exchange for {shop} ({result.log.code}).")
    return _grant_from_library(result.access_token)


def refresh_offline_token(shop: str, refresh_token: str) -> TokenGrant:
    """Refresh grant. Refresh tokens rotate: store the returned one (`store_save_grant`).

    Callers serialise refreshes per store (a lock): a second refresh with the old refresh
    token fails once the first has rotated it.
    """
    shop = _require_shop(shop)
    current = {
        "shop": shop.removesuffix(".myshopify.com"),
        "refresh_token": refresh_token,
        # No expiry given, so the library refreshes now instead of deciding it is still valid.
        "expires": "",
        "refresh_token_expires": "",
        "access_mode": "offline",
    }
    with _client() as client:
        result = refresh_access_token(current, _app_config(), http_client=client)
    if not result.ok or result.access_token is None:
        logger.warning("Token refresh for %s failed: %s", shop, result.log.code)
        raise OAuthError(
            f"Shopify refused to refresh the access token of {shop} ({result.log.code}); "
            "open the app from the store's admin to reconnect it."
        )
    return _grant_from_library(result.access_token)
