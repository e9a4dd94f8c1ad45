"""Access tokens for the Admin API client: a fixed token, or a Store's expiring offline
token refreshed before it expires (and once on a 401).

Refresh tokens rotate on every use, so two workers refreshing the same store at once would
leave one of them holding a dead refresh token. Refreshes of one store are serialised across
threads and processes by a Redis lock (`assetlink:refresh:{shop}`); inside the lock the
Store is re-read, and when another worker already refreshed, its token is used as it is.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from .errors import TokenRefreshError

logger = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
LOCK_TIMEOUT = 30  # seconds the lock lives if its holder dies
LOCK_WAIT = 30  # seconds a worker waits for another's refresh


class TokenProvider(Protocol):
    refreshes: int

    def token(self) -> str:
        """A token to send now (refreshed first when it is about to expire)."""

    def after_unauthorized(self, rejected: str) -> str | None:
        """Shopify rejected `rejected` (401): a fresh token, or None when there is none."""


class StaticToken:
    """A token that is never refreshed (non-expiring tokens, benchmarks, tests)."""

    def __init__(self, token: str):
        self._token = token
        self.refreshes = 0

    def token(self) -> str:
        return self._token

    def after_unauthorized(self, rejected: str) -> str | None:
        return None


def redis_refresh_lock(shop: str):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    return client.lock(
        f"assetlink:refresh:{shop}", timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT
    )


def refresh_grant(shop: str, refresh_token: str):
    """The refresh grant (stores.oauth owns the OAuth wire format)."""
    from stores.oauth import OAuthError, refresh_offline_token

    try:
        return refresh_offline_token(shop, refresh_token)
    except OAuthError as exc:
        raise TokenRefreshError(exc.message, shop=shop) from exc


def save_grant(store, grant) -> None:
    from stores.services import store_save_grant

    store_save_grant(store=store, grant=grant)


class StoreTokens:
    """The offline token of one Store, shared by the threads of a run."""

    def __init__(
        self,
        store,
        *,
        margin: timedelta = REFRESH_MARGIN,
        lock_factory=redis_refresh_lock,
        grant=refresh_grant,
    ):
        self.store_id = store.pk
        self.shop = store.shop_domain
        self.margin = margin
        self._lock_factory = lock_factory
        self._grant = grant
        self._mutex = threading.Lock()
        self._token = store.access_token.reveal()
        self._expires_at = store.access_token_expires_at
        self.refreshes = 0  # refresh grants this provider sent

    def _expiring(self, expires_at) -> bool:
        return expires_at is not None and expires_at - timezone.now() <= self.margin

    def token(self) -> str:
        with self._mutex:
            token, expires_at = self._token, self._expires_at
        if self._expiring(expires_at):
            return self._refresh(stale=token, reason="expiring")
        return token

    def after_unauthorized(self, rejected: str) -> str | None:
        return self._refresh(stale=rejected, reason="unauthorized")

    def _refresh(self, *, stale: str, reason: str) -> str:
        from stores.models import Store

        lock = self._lock_factory(self.shop)
        if not lock.acquire():
            raise TokenRefreshError(
                f"Another worker has been refreshing the access token of {self.shop} for "
                f"{LOCK_WAIT}s; try the run again in a minute.",
                shop=self.shop,
            )
        try:
            store = Store.objects.get(pk=self.store_id)
            current = store.access_token.reveal()
            # Another worker (or thread) refreshed while we waited for the lock: use its token.
            if current and current != stale and not self._expiring(store.access_token_expires_at):
                logger.info("Using the token another worker refreshed for %s", self.shop)
                return self._adopt(current, store.access_token_expires_at)
            refresh_token = store.refresh_token.reveal()
            if not refresh_token:
                raise TokenRefreshError(
                    f"The access token of {self.shop} was rejected and there is no refresh "
                    "token; open the app from the store's admin to reconnect it.",
                    shop=self.shop,
                )
            grant = self._grant(self.shop, refresh_token)
            save_grant(store, grant)
            self.refreshes += 1
            logger.info("Refreshed the access token of %s (%s)", self.shop, reason)
            return self._adopt(grant.access_token, grant.expires_at)
        finally:
            try:
                lock.release()
            except Exception:  # noqa: BLE001 - an expired lock is released already
                logger.warning("Refresh lock of %s expired before release", self.shop)

    def _adopt(self, token: str, expires_at) -> str:
        with self._mutex:
            self._token, self._expires_at = token, expires_at
        return token
