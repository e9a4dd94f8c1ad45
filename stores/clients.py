"""The Admin API client of a Store: its offline token read, refreshed and saved through the
database (the client layer, :mod:`stores.shopify`, knows no models: it is handed a
:class:`StoreTokenService`)."""

from __future__ import annotations

from stores.models import Store
from stores.oauth import OAuthError, TokenGrant, refresh_offline_token
from stores.services import store_save_grant
from stores.shopify.client import ShopifyClient
from stores.shopify.errors import TokenRefreshError
from stores.shopify.tokens import SavedTokens, StoreTokens


def _saved(store: Store) -> SavedTokens:
    return SavedTokens(
        access_token=store.access_token.reveal(),
        expires_at=store.access_token_expires_at,
        refresh_token=store.refresh_token.reveal(),
    )


class StoreTokenService:
    """One Store's tokens in the database, and the refresh grant (stores.oauth owns the OAuth
    wire format)."""

    def __init__(self, store: Store):
        self.store_id = store.pk
        self.shop = store.shop_domain
        self._read: Store | None = None  # the row read last, which a grant is saved on

    def read(self) -> SavedTokens:
        self._read = Store.objects.get(pk=self.store_id)
        return _saved(self._read)

    def grant(self, refresh_token: str) -> TokenGrant:
        try:
            return refresh_offline_token(self.shop, refresh_token)
        except OAuthError as exc:
            raise TokenRefreshError(exc.message, shop=self.shop) from exc

    def save(self, grant: TokenGrant) -> None:
        store = self._read or Store.objects.get(pk=self.store_id)
        store_save_grant(store=store, grant=grant)


def store_tokens(store: Store, **kwargs) -> StoreTokens:
    """The token provider of ``store`` (refreshing its expiring offline token as needed),
    starting from the tokens already loaded on it."""
    return StoreTokens(store.shop_domain, StoreTokenService(store), saved=_saved(store), **kwargs)


def shopify_client(store: Store, **kwargs) -> ShopifyClient:
    """The Admin API client of a Store, refreshing its expiring offline token as needed."""
    kwargs.setdefault("api_version", store.api_version or None)
    return ShopifyClient(store.shop_domain, store_tokens(store), **kwargs)
