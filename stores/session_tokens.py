"""Shopify session tokens (App Bridge ID tokens): HS256 JWTs signed with the app secret.

Checks: signature, `aud` == API key, `exp`/`nbf` with 10 s leeway, required claims, `iss` and
`dest` on the same host, and that host a valid myshopify.com domain. Whether the shop is a known
installed store is the caller's business (see stores.authentication / stores.views).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

import jwt
from django.conf import settings

from stores.models import SHOP_DOMAIN_RE

LEEWAY_SECONDS = 10
_REQUIRED = ["iss", "dest", "aud", "sub", "exp", "nbf"]
_SHOP_RE = re.compile(SHOP_DOMAIN_RE)


class InvalidSessionToken(Exception):
    """The token is missing, malformed, expired, not yet valid, or not for this app/shop.

    The message names the reason (for logs); it never contains the token.
    """


@dataclass(frozen=True)
class SessionToken:
    shop: str
    user_id: str  # Shopify staff user id (`sub`)
    session_id: str
    token: str  # the raw JWT, needed for token exchange; never log it

    def __repr__(self) -> str:
        return f"SessionToken(shop={self.shop!r}, user_id={self.user_id!r})"


def decode(token: str) -> SessionToken:
    if not token or token.count(".") != 2:
        raise InvalidSessionToken("not a JWT")
    try:
        claims = jwt.decode(
            token,
            settings.SHOPIFY_API_SECRET,
            algorithms=["HS256"],
            audience=settings.SHOPIFY_API_KEY,
            leeway=LEEWAY_SECONDS,
            options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidSessionToken("expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise InvalidSessionToken("not yet valid") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidSessionToken("issued for another app (aud)") from exc
    except jwt.PyJWTError as exc:
        raise InvalidSessionToken(f"invalid ({type(exc).__name__})") from exc
    iss_host = (urlparse(str(claims["iss"])).hostname or "").lower()
    dest_host = (urlparse(str(claims["dest"])).hostname or "").lower()
    if not dest_host or iss_host != dest_host:
        raise InvalidSessionToken("iss and dest hosts differ")
    if not _SHOP_RE.match(dest_host):
        raise InvalidSessionToken("dest is not a myshopify.com shop")
    sub = str(claims["sub"]).strip()
    if not sub:
        raise InvalidSessionToken("no staff user (sub)")
    return SessionToken(
        shop=dest_host, user_id=sub, session_id=str(claims.get("sid", "")), token=token
    )


def from_authorization_header(value: str | None) -> str | None:
    """The bearer token of an `Authorization` header, or None."""
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
