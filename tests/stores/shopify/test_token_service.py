"""The client layer's token refresh knows no database: StoreTokens reads, refreshes and saves a
store's tokens only through the TokenService it is handed (stores.clients gives it the
database's). These run without a database or Redis: a service in memory and a local lock."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from stores.shopify.errors import TokenRefreshError
from stores.shopify.tokens import SavedTokens, StoreTokens


@dataclass
class Grant:
    access_token: str
    expires_at: object
    refresh_token: str


class MemoryTokens:
    """A TokenService over one dict, counting what the provider asked of it."""

    def __init__(self, saved: SavedTokens):
        self.saved = saved
        self.granted: list[str] = []
        self.reads = 0

    def read(self) -> SavedTokens:
        self.reads += 1
        return self.saved

    def grant(self, refresh_token: str) -> Grant:
        self.granted.append(refresh_token)
        return Grant(f"fresh-{len(self.granted)}", timezone.now() + timedelta(hours=1), "rt-2")

    def save(self, grant: Grant) -> None:
        self.saved = SavedTokens(grant.access_token, grant.expires_at, grant.refresh_token)


def provider(service: MemoryTokens) -> StoreTokens:
    return StoreTokens("a.myshopify.com", service, lock_factory=lambda shop: threading.Lock())


def soon(seconds: float = 60):
    return timezone.now() + timedelta(seconds=seconds)


def test_an_expiring_token_is_refreshed_and_saved_through_the_service():
    service = MemoryTokens(SavedTokens("old", soon(), "rt-1"))
    tokens = provider(service)
    assert tokens.token() == "fresh-1"
    assert service.granted == ["rt-1"]
    assert service.saved.access_token == "fresh-1" and service.saved.refresh_token == "rt-2"
    assert tokens.refreshes == 1
    assert tokens.token() == "fresh-1"  # fresh now: no second grant
    assert service.granted == ["rt-1"]


def test_a_token_another_worker_refreshed_is_used_without_a_grant():
    service = MemoryTokens(SavedTokens("old", soon(), "rt-1"))
    tokens = provider(service)
    service.saved = SavedTokens("theirs", soon(3600), "rt-9")  # saved meanwhile by another
    assert tokens.token() == "theirs"
    assert service.granted == [] and tokens.refreshes == 0


def test_a_rejected_token_without_a_refresh_token_is_a_refresh_error():
    service = MemoryTokens(SavedTokens("old", None, ""))
    tokens = provider(service)
    assert tokens.token() == "old"  # never expires: sent as it is
    with pytest.raises(TokenRefreshError, match="no refresh token"):
        tokens.after_unauthorized("old")
    assert service.granted == []


def test_saved_tokens_given_by_the_caller_spare_a_read():
    service = MemoryTokens(SavedTokens("kept", None, ""))
    StoreTokens("a.myshopify.com", service, saved=SavedTokens("loaded", None, ""))
    assert service.reads == 0
