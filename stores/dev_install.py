"""Install the app on a sandbox shop through the real OAuth flow, without a browser.

For `make demo` and local development: signs the install link as Shopify would (the app holds
the secret), lets the shop's authorize endpoint approve (the sandbox auto-approves), and calls
/shopify/callback — in-process, through Django's test client, so the same views and checks
run as for a merchant. Refused when SHOPIFY_ADMIN_BASE_URL is unset: real Shopify needs a
person to approve.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import requests
from django.conf import settings
from django.db import transaction
from django.test import Client

from assetlink_project.errors import ApplicationError
from stores import oauth
from stores.models import Member, Role, Store, Workspace


def _signed(params: dict[str, str]) -> dict[str, str]:
    return {**params, "hmac": oauth.query_hmac({k: [v] for k, v in params.items()})}


def install_by_oauth(shop_domain: str, *, workspace: Workspace | None = None) -> Store:
    if not settings.SHOPIFY_ADMIN_BASE_URL:
        raise ApplicationError(
            "install_by_oauth runs against the sandbox only (SHOPIFY_ADMIN_BASE_URL is unset)."
        )
    shop = oauth.normalize_shop(shop_domain)
    if shop is None:
        raise ApplicationError(f"{shop_domain!r} is not a myshopify.com shop domain.")
    host = urlparse(settings.APP_URL).hostname
    client = Client(HTTP_HOST=host, SERVER_NAME=host)
    start = client.get(
        "/shopify/install", _signed({"shop": shop, "timestamp": str(int(time.time()))})
    )
    if start.status_code != 302:
        raise ApplicationError(f"The install of {shop} did not start (HTTP {start.status_code}).")
    approved = requests.get(start["Location"], allow_redirects=False, timeout=15)
    location = approved.headers.get("Location", "")
    if approved.status_code != 302 or urlparse(location).path != "/shopify/callback":
        raise ApplicationError(f"{shop} did not approve the install (HTTP {approved.status_code}).")
    query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    done = client.get("/shopify/callback", query)
    if done.status_code != 302:
        raise ApplicationError(f"The install callback of {shop} failed (HTTP {done.status_code}).")
    store = Store.objects.get(shop_domain=shop)
    if workspace is not None and store.workspace_id != workspace.pk:
        store = _join_workspace(store, workspace)
    return store


@transaction.atomic
def _join_workspace(store: Store, workspace: Workspace) -> Store:
    """Move a freshly installed store from its own new workspace into `workspace`."""
    own = store.workspace
    if own.stores.exclude(pk=store.pk).exists():
        raise ApplicationError(f"{store} already shares workspace {own} with other stores.")
    store.workspace = workspace
    store.awaiting_master_admin = not Member.objects.filter(
        workspace=workspace, role=Role.MASTER_ADMIN
    ).exists()
    store.save(update_fields=["workspace", "awaiting_master_admin"])
    own.delete()
    return store
