"""Reading and validating settings from the environment.

Every check raises ImproperlyConfigured with the variable's name, the bad value's problem and
what a valid value looks like, so a misconfigured deployment fails at start with a clear message.
"""

from __future__ import annotations

import base64
import binascii
import re
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

API_VERSION_RE = re.compile(r"^(\d{4})-(01|04|07|10)$")
SUPPORTED_DB_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql", "psql"}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def parse_bool(name: str, raw: str | None, default: bool) -> bool:
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of true/false, 1/0, yes/no."
    )


def parse_int_at_least(name: str, raw: str | None, default: int, minimum: int) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a whole number of {minimum} or more, e.g. {default}."
        )
    return value


def validate_api_version(raw: str) -> str:
    value = raw.strip()
    if value == "unstable" or API_VERSION_RE.match(value):
        return value
    raise ImproperlyConfigured(
        f"SHOPIFY_API_VERSION={raw!r} is not a Shopify API version; use a quarterly "
        "release such as 2026-01 (YYYY-01/04/07/10) or 'unstable'."
    )


def validate_http_url(name: str, raw: str) -> str:
    parsed = urlparse(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not an absolute http(s) URL; use e.g. https://assetlink.example.com."
        )
    return raw.rstrip("/")


def validate_database_url(raw: str) -> str:
    scheme = urlparse(raw).scheme
    if scheme not in SUPPORTED_DB_SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL uses the unsupported scheme {scheme or '(none)'!r}; use "
            "postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:////absolute/path.sqlite3."
        )
    return raw


def validate_redis_url(raw: str) -> str:
    scheme = urlparse(raw).scheme
    if scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(
            f"REDIS_URL uses the unsupported scheme {scheme or '(none)'!r}; use "
            "redis://HOST:PORT/DB, rediss://… or unix:///path/to/redis.sock."
        )
    return raw


def validate_encryption_keys(raw: str) -> list[str]:
    """Comma-separated Fernet keys, newest first (older ones still decrypt: key rotation)."""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty; generate one with `make key`.")
    for index, key in enumerate(keys, start=1):
        try:
            decoded = base64.urlsafe_b64decode(key.encode())
        except (binascii.Error, ValueError):
            decoded = b""
        if len(decoded) != 32:
            raise ImproperlyConfigured(
                f"ENCRYPTION_KEYS key #{index} is not a Fernet key (32 url-safe base64 bytes); "
                "generate one with `make key`."
            )
    return keys


def validate_secret_key(raw: str, *, production: bool) -> str:
    if production and (len(raw) < 50 or len(set(raw)) < 5 or raw.startswith("django-insecure")):
        raise ImproperlyConfigured(
            "SECRET_KEY must be at least 50 random characters in production; generate one with "
            "`make key`."
        )
    return raw
