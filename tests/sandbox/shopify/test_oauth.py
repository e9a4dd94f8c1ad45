"""OAuth: authorize redirect + HMAC, authorization-code, token-exchange and refresh grants."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlparse

import jwt
import requests

from .conftest import API_KEY, API_SECRET

SHOP = "demo-1.myshopify.com"
TE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE = "urn:shopify:params:oauth:token-type:offline-access-token"


def _hmac_ok(params: dict) -> bool:
    msg = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    digest = hmac.new(API_SECRET.encode(), msg.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, params["hmac"])


def _authorize(emu, shop=SHOP, method="POST", **extra):
    """The consent page (GET) or its Install button (POST)."""
    params = {
        "client_id": API_KEY,
        "scope": "read_products,write_products",
        "redirect_uri": "https://app.example.com/auth/callback",
        "state": "nonce-123",
        **extra,
    }
    return requests.request(
        method,
        f"{emu.url}/{shop}/admin/oauth/authorize",
        params=params,
        allow_redirects=False,
        timeout=5,
    )


def _session_token(shop=SHOP, secret=API_SECRET, **claims):
    now = int(time.time())
    payload = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": API_KEY,
        "sub": "42",
        "exp": now + 60,
        "nbf": now,
        "iat": now,
        "jti": "j1",
        "sid": "s1",
    }
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


def _token(emu, shop=SHOP, as_json=True, **body):
    data = {"client_id": API_KEY, "client_secret": API_SECRET, **body}
    url = f"{emu.url}/{shop}/admin/oauth/access_token"
    if as_json:
        return requests.post(url, json=data, timeout=5)
    return requests.post(url, data=data, timeout=5)


def test_authorize_shows_a_consent_page_with_the_shop_app_scopes_and_install_button(emu):
    page = _authorize(emu, method="GET")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    text = page.text
    assert SHOP in text and "Install AssetLink" in text
    assert "<li>View products</li>" in text and "<li>Manage products</li>" in text
    assert '<form method="post"><button type="submit" id="install">Install</button>' in text
    assert "code=" not in text  # nothing is granted until Install is pressed


def test_authorize_redirects_with_valid_hmac(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    r = _authorize(emu)
    assert r.status_code == 302
    loc = urlparse(r.headers["Location"])
    assert loc.netloc == "app.example.com" and loc.path == "/auth/callback"
    params = dict(parse_qsl(loc.query))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == SHOP and params["state"] == "nonce-123"
    assert abs(int(params["timestamp"]) - time.time()) < 5
    assert _hmac_ok(params)


def test_authorize_rejects_wrong_client_id(emu):
    assert _authorize(emu, client_id="nope").status_code == 400


def test_authorization_code_grant_then_graphql(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    params = dict(parse_qsl(urlparse(_authorize(emu).headers["Location"]).query))
    r = _token(emu, code=params["code"], expiring="1", as_json=False)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {
        "access_token",
        "scope",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
    }
    assert body["scope"] == "read_products,write_products" and body["expires_in"] == 3600
    data = emu.shopify_gql(body["access_token"], "{ shop { myshopifyDomain } }")
    assert data["data"]["shop"]["myshopifyDomain"] == SHOP
    # a code is single-use
    assert _token(emu, code=params["code"]).status_code == 400


def test_non_expiring_code_grant_has_no_refresh_token(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    params = dict(parse_qsl(urlparse(_authorize(emu).headers["Location"]).query))
    body = _token(emu, code=params["code"]).json()
    assert "refresh_token" not in body and "expires_in" not in body


def test_bad_client_secret_is_rejected(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    r = _token(emu, client_secret="wrong", grant_type="refresh_token", refresh_token="x")
    assert r.status_code == 401


def test_token_exchange_grant(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    r = _token(
        emu,
        grant_type=TE,
        subject_token=_session_token(),
        subject_token_type=ID_TOKEN,
        requested_token_type=OFFLINE,
        expiring="1",
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["access_token"].startswith("shpat_") and body["refresh_token"]
    resp = emu.gql(body["access_token"], "{ shop { name } }", shop=SHOP)
    assert resp.json()["data"]["shop"]["name"]


def test_token_exchange_rejects_bad_session_tokens(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    bad = [
        _session_token(secret="not-the-secret-but-long-enough-for-hs256"),
        _session_token(exp=int(time.time()) - 120),
        _session_token(aud="other-app"),
        _session_token(dest="https://other-shop.myshopify.com"),
    ]
    for tok in bad:
        r = _token(
            emu,
            grant_type=TE,
            subject_token=tok,
            subject_token_type=ID_TOKEN,
            requested_token_type=OFFLINE,
            expiring="1",
        )
        assert r.status_code == 400, tok
        assert r.json()["error"] == "invalid_subject_token"


def test_refresh_tokens_rotate(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    first = _token(
        emu,
        grant_type=TE,
        subject_token=_session_token(),
        subject_token_type=ID_TOKEN,
        requested_token_type=OFFLINE,
        expiring="1",
    ).json()
    second = _token(emu, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    # the old refresh token is spent
    again = _token(emu, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # the new one works once more
    third = _token(emu, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert third.status_code == 200


def test_expired_access_token_gets_401(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    emu.control("POST", "config", {"token_lifetime": 0.2})
    body = _token(
        emu,
        grant_type=TE,
        subject_token=_session_token(),
        subject_token_type=ID_TOKEN,
        requested_token_type=OFFLINE,
        expiring="1",
    ).json()
    assert body["expires_in"] == 0
    assert emu.gql(body["access_token"], "{ shop { name } }").status_code == 200
    time.sleep(0.3)
    r = emu.gql(body["access_token"], "{ shop { name } }")
    assert r.status_code == 401
    assert r.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }
    refreshed = _token(emu, grant_type="refresh_token", refresh_token=body["refresh_token"]).json()
    assert emu.gql(refreshed["access_token"], "{ shop { name } }").status_code == 200


def test_token_for_other_shop_is_rejected_on_prefixed_route(emu):
    token = emu.shop("demo-1.myshopify.com")
    emu.shop("demo-2.myshopify.com")
    assert emu.gql(token, "{ shop { name } }", shop="demo-2.myshopify.com").status_code == 401
    assert emu.gql(token, "{ shop { name } }", shop="demo-1.myshopify.com").status_code == 200
