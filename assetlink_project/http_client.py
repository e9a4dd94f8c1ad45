"""The one outbound HTTP client (Saleor's ``core/http_client.py`` is the idea). Every call
AssetLink makes to Shopify — the Admin GraphQL API, the OAuth grants, bulk-export results,
staged uploads — and every download of a Cloudinary delivery URL goes through one configured
``requests`` session per process:

- a timeout on every request: connect 5 s, read 30 s unless the caller gives its own;
- no redirects: a 3xx answer raises `RedirectRefused`, so a token or a file's bytes are never
  sent on to a host nobody chose;
- retries where safe: GET, HEAD and PUT (idempotent: the same bytes to the same URL) are sent
  again, twice at most with backoff (0.5 s, 1 s), after a failed connection or a 502/503/504;
  a POST never is — the GraphQL client decides itself which of its calls may be sent
  again (:mod:`stores.shopify.client`), and ``shopify_app`` which of its grants;
- no cookies kept: the APIs are stateless, and one shop's cookie must never reach another;
- pools of up to 32 connections per host, shared by a run's threads.

The Cloudinary Admin and Search API calls are made by the ``cloudinary`` SDK, over its own
connection pool.
"""

from __future__ import annotations

import os
import threading
from http.cookiejar import DefaultCookiePolicy

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT"})
RETRIES = 2
RETRY_STATUS = frozenset({502, 503, 504})
POOL_SIZE = 32


class RedirectRefused(requests.HTTPError):
    """The server answered a redirect; the client follows none."""


class _SafeRetry(Retry):
    """Retry idempotent requests only: for any other method (a POST) every failure is final,
    exactly as with no retries at all."""

    def increment(self, method=None, url=None, *args, **kwargs):
        if method is not None and method.upper() not in SAFE_METHODS:
            return Retry(0, read=False).increment(method, url, *args, **kwargs)
        return super().increment(method, url, *args, **kwargs)


class _Session(requests.Session):
    def request(self, method, url, *args, **kwargs):
        kwargs["allow_redirects"] = False
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (CONNECT_TIMEOUT, READ_TIMEOUT)
        response = super().request(method, url, *args, **kwargs)
        if response.is_redirect:
            raise RedirectRefused(
                f"{url.split('?')[0]} answered HTTP {response.status_code} (a redirect to "
                f"{(response.headers.get('Location') or '?').split('?')[0]}); redirects are not "
                "followed.",
                response=response,
            )
        return response


def _new_session() -> requests.Session:
    session = _Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # keep none
    retry = _SafeRetry(
        total=RETRIES,
        connect=RETRIES,
        read=False,  # a read timeout is final: the server may be working on it
        redirect=0,
        status=RETRIES,
        other=0,
        allowed_methods=SAFE_METHODS,
        status_forcelist=RETRY_STATUS,
        backoff_factor=0.5,
        respect_retry_after_header=False,  # an hour's Retry-After must not hold a run
        raise_on_status=False,
    )
    adapter = HTTPAdapter(pool_connections=10, pool_maxsize=POOL_SIZE, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_sessions: dict[int, requests.Session] = {}
_lock = threading.Lock()


def session() -> requests.Session:
    """This process's session (a forked worker job makes its own: sockets are not shared)."""
    pid = os.getpid()
    with _lock:
        found = _sessions.get(pid)
        if found is None:
            found = _sessions[pid] = _new_session()
        return found


def download(url: str, *, timeout: float = 60.0) -> bytes:
    """The bytes at ``url`` (a Cloudinary delivery URL, say); ``requests`` errors when the
    answer is not a 2xx."""
    response = session().get(url, timeout=(CONNECT_TIMEOUT, timeout))
    response.raise_for_status()
    return response.content
