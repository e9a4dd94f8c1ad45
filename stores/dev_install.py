"""Install the app on a sandbox shop through the real OAuth flow, without a browser.

For `make demo` and local development. Into a workspace, it starts the install as Setup's
"Connect a store" does (a state bound to the workspace); without one, as a Shopify-side install
does (a link signed as Shopify would sign it — the app holds the secret), which gives a store
AssetLink does not know a new workspace. Then it presses the Install button of the shop's
consent page and calls /shopify/callback — in-process, through Django's test client, so the same
views and checks run as for a merchant. Refused when SHOPIFY_ADMIN_BASE_URL is unset: real
Shopify needs a person to approve.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import requests
from django.conf import settings
from django.core import signing
from django.test import Client

from assetlink_project.errors import ApplicationError
from stores import oauth, services, views
from stores.models import Store, Workspace


def _signed(params: dict[str, str]) -> dict[str, str]:
    return {**params, "hmac": oauth.query_hmac({k: [v] for k, v in params.items()})}


def _start(client: Client, shop: str, workspace: Workspace | None) -> str:
    """The URL of the shop's consent page, with the state cookie in `client`."""
    if workspace is not None:
        state = services.oauth_state_create(shop_domain=shop, workspace=workspace)
        signer = signing.get_cookie_signer(salt=views.STATE_COOKIE + views.STATE_COOKIE_SALT)
        client.cookies[views.STATE_COOKIE] = signer.sign(state.nonce)
        return views.authorize_url(state)
    start = client.get(
        "/shopify/install", _signed({"shop": shop, "timestamp": str(int(time.time()))})
    )
    if start.status_code != 302:
        raise ApplicationError(f"The install of {shop} did not start (HTTP {start.status_code}).")
    return start["Location"]


def install_by_oauth(shop_domain: str, *, workspace: Workspace | None = None) -> Store:
    """Install on `shop_domain` into `workspace` (None: a new workspace for a new store)."""
    if not settings.SHOPIFY_ADMIN_BASE_URL:
        raise ApplicationError(
            "install_by_oauth runs against the sandbox only (SHOPIFY_ADMIN_BASE_URL is unset)."
        )
    shop = oauth.normalize_shop(shop_domain)
    if shop is None:
        raise ApplicationError(f"{shop_domain!r} is not a myshopify.com shop domain.")
    if workspace is not None:
        services.store_connect_check(shop_domain=shop, workspace=workspace)
    host = urlparse(settings.APP_URL).hostname
    client = Client(HTTP_HOST=host, SERVER_NAME=host)
    approved = requests.post(_start(client, shop, workspace), allow_redirects=False, timeout=15)
    location = approved.headers.get("Location", "")
    if approved.status_code != 302 or urlparse(location).path != "/shopify/callback":
        raise ApplicationError(f"{shop} did not approve the install (HTTP {approved.status_code}).")
    query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
    done = client.get("/shopify/callback", query)
    if done.status_code != 302:
        raise ApplicationError(f"The install callback of {shop} failed (HTTP {done.status_code}).")
    return Store.objects.get(shop_domain=shop)
