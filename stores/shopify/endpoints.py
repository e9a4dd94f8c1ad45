"""Shopify URLs. Production: https://{shop}/admin/...; the sandbox: SHOPIFY_ADMIN_BASE_URL."""

from __future__ import annotations

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
