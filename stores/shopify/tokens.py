"""Access tokens for the Admin API client: a fixed token, or a Store's expiring offline
token refreshed before it expires (and once on a 401).

Refresh tokens rotate on every use, so two workers refreshing the same store at once would
leave one of them holding a dead refresh token. Refreshes of one store are serialised across
threads and processes by a Redis lock (`assetlink:refresh:{shop}`); inside the lock the
Store is re-read, and when another worker already refreshed, its token is used as it is.

The client layer knows no database: a store's tokens are read and saved, and the refresh grant
sent, through a `TokenService` passed in (`stores.clients.StoreTokenService` is the database's).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from django.utils import timezone

from assetlink_project.redis_client import shared_redis

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


@dataclass(frozen=True)
class SavedTokens:
    """A store's tokens as kept: the access token, when it expires (None: never), the refresh
    token ("" for a non-expiring access token)."""

    access_token: str = field(repr=False)
    expires_at: datetime | None
    refresh_token: str = field(default="", repr=False)


class Grant(Protocol):
    access_token: str
    expires_at: datetime | None


class TokenService(Protocol):
    """Where one store's tokens are kept, and how a refresh is granted."""

    def read(self) -> SavedTokens:
        """The tokens as kept now (another worker may have refreshed them)."""

    def grant(self, refresh_token: str) -> Grant:
        """Send the refresh grant; raise `TokenRefreshError` when Shopify refuses it."""

    def save(self, grant: Grant) -> None:
        """Keep a new grant (refresh tokens rotate: the old one is dead now)."""


def redis_refresh_lock(shop: str):
    return shared_redis().lock(
        f"assetlink:refresh:{shop}", timeout=LOCK_TIMEOUT, blocking_timeout=LOCK_WAIT
    )


class StoreTokens:
    """The offline token of one store, shared by the threads of a run; ``saved`` is what the
    caller already read (``service.read()`` when not given)."""

    def __init__(
        self,
        shop: str,
        service: TokenService,
        *,
        saved: SavedTokens | None = None,
        margin: timedelta = REFRESH_MARGIN,
        lock_factory=redis_refresh_lock,
    ):
        self.shop = shop
        self.margin = margin
        self._service = service
        self._lock_factory = lock_factory
        self._mutex = threading.Lock()
        saved = saved or service.read()
        self._token = saved.access_token
        self._expires_at = saved.expires_at
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
        lock = self._lock_factory(self.shop)
        if not lock.acquire():
            raise TokenRefreshError(
                f"Another worker has been refreshing the access token of {self.shop} for "
                f"{LOCK_WAIT}s; try the run again in a minute.",
                shop=self.shop,
            )
        try:
            saved = self._service.read()
            current = saved.access_token
            # Another worker (or thread) refreshed while we waited for the lock: use its token.
            if current and current != stale and not self._expiring(saved.expires_at):
                logger.info("Using the token another worker refreshed for %s", self.shop)
                return self._adopt(current, saved.expires_at)
            refresh_token = saved.refresh_token
            if not refresh_token:
                raise TokenRefreshError(
                    f"The access token of {self.shop} was rejected and there is no refresh "
                    "token; open the app from the store's admin to reconnect it.",
                    shop=self.shop,
                )
            grant = self._service.grant(refresh_token)
            self._service.save(grant)
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
