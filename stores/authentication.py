"""DRF authentication: API keys, Shopify session tokens (then Django's login session).

Both token kinds set `request.auth` to a `StoreScope`, so views and selectors narrow what the
request reaches to one store / workspace.
"""

from __future__ import annotations

import logging

from rest_framework import authentication, exceptions

from stores import session_tokens
from stores.principals import ApiKeyPrincipal, StoreScope

# DRF imports this module while `rest_framework.views` loads (for APIView's defaults), which
# `assetlink_project.errors` itself imports: services and errors are imported when used.

logger = logging.getLogger(__name__)

API_KEY_HEADER = "X-AssetLink-Key"
API_KEY_PREFIX = "al_"  # = stores.services.API_KEY_PREFIX


def presented_api_key(request) -> str | None:
    """The API key a request carries (`X-AssetLink-Key` or `Authorization: Bearer al_…`)."""
    key = request.headers.get(API_KEY_HEADER)
    if key:
        return key.strip()
    bearer = session_tokens.from_authorization_header(request.headers.get("Authorization"))
    if bearer and bearer.startswith(API_KEY_PREFIX):
        return bearer
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        token = presented_api_key(request)
        if token is None:
            return None
        from stores import services

        key = services.api_key_authenticate(token)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        if not key.store.is_installed:
            raise exceptions.AuthenticationFailed(
                f"This API key's store ({key.store.shop_domain}) has uninstalled AssetLink; "
                "its keys work again once the store reinstalls the app."
            )
        return ApiKeyPrincipal(key), StoreScope(store=key.store, method="api_key")

    def authenticate_header(self, request):
        return 'Bearer realm="AssetLink"'


class ShopifySessionTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <session token>` as App Bridge adds it to `fetch()` calls."""

    def authenticate(self, request):
        bearer = session_tokens.from_authorization_header(request.headers.get("Authorization"))
        if bearer is None or bearer.startswith(API_KEY_PREFIX):
            return None
        from assetlink_project.errors import ApplicationError
        from stores import services

        try:
            token = session_tokens.decode(bearer)
        except session_tokens.InvalidSessionToken as exc:
            logger.info("Rejected session token: %s", exc)
            raise exceptions.AuthenticationFailed(
                "Invalid session token; App Bridge will fetch a new one."
            ) from exc
        try:
            store, user = services.session_token_arrive(token, allow_exchange=False)
        except ApplicationError as exc:
            logger.info("Rejected session token of %s: %s", token.shop, exc.message)
            raise exceptions.AuthenticationFailed(exc.message) from exc
        return user, StoreScope(store=store, method="session_token")

    def authenticate_header(self, request):
        return 'Bearer realm="AssetLink"'
