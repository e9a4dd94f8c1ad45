"""Helpers for install/auth tests: signed queries, session tokens, the OAuth dance."""

from __future__ import annotations

import hashlib
import hmac
import time
import warnings
from urllib.parse import parse_qs, urlparse

import jwt
import requests
from django.conf import settings as django_settings


def sign_query(params: dict[str, str], secret: str | None = None) -> dict[str, str]:
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    secret = secret or django_settings.SHOPIFY_API_SECRET
    return {
        **params,
        "hmac": hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest(),
    }


def install_query(shop: str, **extra) -> dict[str, str]:
    return sign_query({"shop": shop, "timestamp": str(int(time.time())), **extra})


def session_token(shop: str, *, secret: str | None = None, **claims) -> str:
    now = int(time.time())
    payload = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": django_settings.SHOPIFY_API_KEY,
        "sub": "42",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
        "jti": f"jti-{now}-{shop}",
        "sid": "sid-1",
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    with warnings.catch_warnings():  # the sandbox's short secret (see conftest)
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return jwt.encode(payload, secret or django_settings.SHOPIFY_API_SECRET, algorithm="HS256")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def oauth_install(client, shop: str, shopify):
    """The whole dance: /shopify/install → emulator authorize → /shopify/callback.

    Returns the callback response."""
    start = client.get("/shopify/install", install_query(shop, host="aG9zdA"))
    assert start.status_code == 302, start.content
    assert start["Location"].startswith(f"{shopify.url}/{shop}/admin/oauth/authorize?")
    approved = requests.post(start["Location"], allow_redirects=False, timeout=10)
    assert approved.status_code == 302, approved.text
    callback = urlparse(approved.headers["Location"])
    assert callback.path == "/shopify/callback"
    return client.get("/shopify/callback", query_of(approved.headers["Location"]))
