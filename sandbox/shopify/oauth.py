"""Shopify OAuth: authorize (a consent page; its Install button approves), access_token grants,
session-token validation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
import warnings
from urllib.parse import urlencode, urlparse

import jwt
from werkzeug.wrappers import Request, Response

from .state import SHOP_RE, State

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
OFFLINE = "urn:shopify:params:oauth:token-type:offline-access-token"
ONLINE = "urn:shopify:params:oauth:token-type:online-access-token"


def query_hmac(params: dict[str, str], secret: str) -> str:
    """Shopify's query-string HMAC: hex HMAC-SHA256 over sorted `k=v` joined by `&`."""
    msg = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("hmac", "signature"))
    return hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _error(status: int, error: str, description: str) -> Response:
    return _json({"error": error, "error_description": description}, status)


def authorize(state: State, request: Request, shop_domain: str | None) -> Response:
    args = request.args
    shop_domain = (shop_domain or args.get("shop") or "").lower()
    if not SHOP_RE.match(shop_domain):
        return Response("Invalid shop domain", status=400)
    cfg = state.config
    if args.get("client_id") != cfg["api_key"]:
        return Response(
            "Oauth error invalid_request: The client_id provided is invalid", status=400
        )
    redirect_uri = args.get("redirect_uri")
    if not redirect_uri or urlparse(redirect_uri).scheme not in ("http", "https"):
        return Response("Oauth error invalid_request: redirect_uri is missing", status=400)
    shop = state.get_shop(shop_domain, create=True)
    if shop is None:
        return Response("Shop not found", status=404)
    if request.method != "POST":  # the merchant sees what the app asks for first
        return consent_page(state, shop, args.get("scope") or cfg["scopes"], redirect_uri)
    with state.lock:
        shop.installed = True
        code = state.secret("", 32)
        state.codes[code] = {
            "shop": shop.domain,
            "scope": args.get("scope") or cfg["scopes"],
            "expires": time.time() + 600,
        }
    host = base64.b64encode(f"admin.shopify.com/store/{shop.domain.split('.')[0]}".encode())
    params = {
        "code": code,
        "host": host.decode().rstrip("="),
        "shop": shop.domain,
        "timestamp": str(int(time.time())),
    }
    if "state" in args:
        params["state"] = args["state"]
    params["hmac"] = query_hmac(params, cfg["api_secret"])
    sep = "&" if "?" in redirect_uri else "?"
    return Response(status=302, headers={"Location": redirect_uri + sep + urlencode(params)})


SCOPE_WORDS = {"read": "View", "write": "Manage"}


def _scope_label(scope: str) -> str:
    access, _, what = scope.strip().partition("_")
    return f"{SCOPE_WORDS.get(access, access.title())} {what.replace('_', ' ')}"


def consent_page(state: State, shop, scope: str, redirect_uri: str) -> Response:
    """Shopify's install page: the shop, the app, the access it asks for, an Install button
    (a POST to this same URL, which approves and redirects to the app's callback)."""
    e = html.escape
    app = state.config["app_name"]
    scopes = "".join(f"<li>{e(_scope_label(s))}</li>" for s in scope.split(",") if s.strip())
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Install {e(app)} – {e(shop.name)}</title>
<style>
body{{font:15px system-ui,sans-serif;background:#f1f1f1;margin:0;display:flex;justify-content:center}}
main{{background:#fff;border-radius:12px;box-shadow:0 1px 3px #0003;margin:48px 16px;padding:24px 28px;max-width:460px}}
h1{{font-size:20px;margin:0 0 4px}} .muted{{color:#616161}} li{{margin:4px 0}}
button{{background:#303030;color:#fff;border:0;border-radius:8px;padding:10px 18px;font-size:15px;cursor:pointer}}
</style></head>
<body><main>
<p class="muted">Sandbox Shopify admin · <b id="shop-domain">{e(shop.domain)}</b></p>
<h1>Install {e(app)}</h1>
<p class="muted">on <b>{e(shop.name)}</b></p>
<p>{e(app)} will be able to:</p>
<ul id="scopes">{scopes}</ul>
<p class="muted small">It will be redirected to {e(urlparse(redirect_uri).netloc)} after you
install it.</p>
<form method="post"><button type="submit" id="install">Install</button></form>
</main></body></html>"""
    return Response(page, mimetype="text/html")


def _body_params(request: Request) -> dict:
    if request.mimetype == "application/json":
        try:
            data = json.loads(request.get_data() or b"{}")
        except ValueError:
            return {}
        return {k: str(v) if not isinstance(v, str) else v for k, v in data.items()}
    params = dict(request.form)
    params.update({k: v for k, v in request.args.items() if k not in params})
    return params


def validate_session_token(state: State, token: str, shop_domain: str) -> str | None:
    """Returns an error message, or None when the session token is valid for the shop."""
    cfg = state.config
    try:
        with warnings.catch_warnings():  # short sandbox secrets are fine here
            warnings.simplefilter("ignore")
            claims = jwt.decode(
                token,
                cfg["api_secret"],
                algorithms=["HS256"],
                audience=cfg["api_key"],
                leeway=10,
                options={
                    "require": ["iss", "dest", "aud", "sub", "exp", "nbf", "iat", "jti", "sid"]
                },
            )
    except jwt.PyJWTError as e:
        return f"invalid session token: {e}"
    dest = urlparse(claims["dest"]).hostname or ""
    iss = urlparse(claims["iss"]).hostname or ""
    if dest != shop_domain or iss != shop_domain:
        return "session token dest/iss do not match the shop"
    return None


def access_token(state: State, request: Request, shop_domain: str | None) -> Response:
    p = _body_params(request)
    shop_domain = (shop_domain or p.get("shop") or request.args.get("shop") or "").lower()
    cfg = state.config
    if p.get("client_id") != cfg["api_key"] or p.get("client_secret") != cfg["api_secret"]:
        return _error(401, "invalid_client", "Client credentials are invalid")
    shop = state.get_shop(shop_domain, create=p.get("grant_type") == TOKEN_EXCHANGE)
    if shop is None:
        return _error(400, "invalid_request", f"Unknown shop {shop_domain!r}")
    expiring = str(p.get("expiring", "0")).lower() in ("1", "true")
    grant = p.get("grant_type") or "authorization_code"
    with state.lock:
        if grant == "authorization_code":
            info = state.codes.pop(p.get("code", ""), None)
            if info is None or info["shop"] != shop.domain or info["expires"] < time.time():
                return _error(
                    400,
                    "invalid_request",
                    "The authorization code was not found or was already used",
                )
            return _json(state.issue_token(shop.domain, info["scope"], expiring=expiring))
        if grant == TOKEN_EXCHANGE:
            if p.get("subject_token_type") != ID_TOKEN:
                return _error(400, "invalid_request", "subject_token_type must be an id_token")
            if p.get("requested_token_type", OFFLINE) not in (OFFLINE, ONLINE):
                return _error(400, "invalid_request", "unsupported requested_token_type")
            err = validate_session_token(state, p.get("subject_token", ""), shop.domain)
            if err:
                return _error(400, "invalid_subject_token", err)
            shop.installed = True
            out = state.issue_token(shop.domain, cfg["scopes"], expiring=expiring)
            if p.get("requested_token_type") == ONLINE:
                out.pop("refresh_token", None)
                out.pop("refresh_token_expires_in", None)
                out["associated_user_scope"] = out["scope"]
                out["associated_user"] = {"id": 1, "email": shop.email, "account_owner": True}
            return _json(out)
        if grant == "refresh_token":
            rt = state.refresh_tokens.pop(p.get("refresh_token", ""), None)
            if rt is None or rt.shop != shop.domain or rt.expires_at < time.time():
                return _error(400, "invalid_grant", "The refresh token is invalid or expired")
            return _json(state.issue_token(shop.domain, rt.scope, expiring=True))
    return _error(400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}")


def mint_session_token(state: State, shop_domain: str, lifetime: int = 60, **claims) -> str:
    """A session token (App Bridge ID token) as Shopify would issue it, for tests and demos."""
    now = int(time.time())
    payload = {
        "iss": f"https://{shop_domain}/admin",
        "dest": f"https://{shop_domain}",
        "aud": state.config["api_key"],
        "sub": "1",
        "exp": now + lifetime,
        "nbf": now,
        "iat": now,
        "jti": state.secret("", 16),
        "sid": state.secret("", 16),
    }
    payload.update(claims)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(payload, state.config["api_secret"], algorithm="HS256")
