"""Shopify URLs. Production: https://{shop}/admin/...; the sandbox: SHOPIFY_ADMIN_BASE_URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def shop_base_url(shop: str) -> str:
    """Base URL of a shop (no trailing slash), e.g. https://demo-1.myshopify.com."""
    template = settings.SHOPIFY_ADMIN_BASE_URL or "https://{shop}"
    return template.format(shop=shop).rstrip("/")


def graphql_url(shop: str, api_version: str | None = None) -> str:
    version = api_version or settings.SHOPIFY_API_VERSION
    return f"{shop_base_url(shop)}/admin/api/{version}/graphql.json"


def oauth_authorize_url(shop: str) -> str:
    return f"{shop_base_url(shop)}/admin/oauth/authorize"


def oauth_access_token_url(shop: str) -> str:
    return f"{shop_base_url(shop)}/admin/oauth/access_token"


def sandbox_admin_origin() -> str | None:
    """The Shopify emulator's origin (scheme://host:port) when SHOPIFY_ADMIN_BASE_URL points at
    it; its admin frame embeds the app like the Shopify admin does. None in production."""
    if not settings.SHOPIFY_ADMIN_BASE_URL:
        return None
    parts = urlsplit(settings.SHOPIFY_ADMIN_BASE_URL.format(shop="x.myshopify.com"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def app_bridge_fallback_url() -> str | None:
    """The emulator's stand-in App Bridge, loaded when Shopify's CDN script is unreachable."""
    origin = sandbox_admin_origin()
    return f"{origin}/app-bridge.js" if origin else None
