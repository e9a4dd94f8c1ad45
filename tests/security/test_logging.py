"""Secrets never reach a log (finding 7), tested through the LOGGING configuration Django
applied: the runserver access log, Django's request log and the app's loggers each reach only
handlers that redact — the message, its arguments and an exception's traceback."""

from __future__ import annotations

import io
import logging

import pytest
from django.conf import settings
from django.core.servers.basehttp import WSGIRequestHandler

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL2RlbW8tMSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
SECRETS = [JWT, "oauthcode123", "statenonce456", "deadbeefcafe", "shpat_0123456789abcdef",
           "al_0123456789ab_SECRETsecretSECRETsecret", "tracebacksecret789"]  # fmt: skip


def _configured_handlers(name: str) -> list[logging.Handler]:
    """The handlers a record of logger `name` reaches (pytest's capturing ones skipped)."""
    logger, found = logging.getLogger(name), []
    while logger is not None:
        found += [h for h in logger.handlers if not type(h).__module__.startswith("_pytest")]
        if not logger.propagate:
            break
        logger = logger.parent
    return found


@pytest.fixture
def output():
    """What the configured handlers of the loggers under test write."""
    names = ["django.server", "django.request", "stores.views", "rq.worker"]
    handlers = {h for name in names for h in _configured_handlers(name)}
    stream = io.StringIO()
    previous = {h: h.setStream(stream) for h in handlers if isinstance(h, logging.StreamHandler)}
    yield stream
    for handler, old in previous.items():
        handler.setStream(old)


@pytest.mark.parametrize("name", ["django.server", "django.request", "stores.views", "rq.worker"])
def test_every_logger_reaches_only_redacting_handlers(name):
    handlers = _configured_handlers(name)
    assert handlers, f"{name} reaches no configured handler"
    for handler in handlers:
        assert handler.name in settings.LOGGING["handlers"], handler
        assert any(type(f).__name__ == "RedactSecretsFilter" for f in handler.filters), handler


def _access_log(request_line: str, status: str = "200") -> None:
    handler = WSGIRequestHandler.__new__(WSGIRequestHandler)  # the runserver's own log call
    handler.request = None
    handler.log_message('"%s" %s %s', request_line, status, "512")


def test_the_access_log_shows_no_tokens_or_oauth_parameters(output):
    _access_log(f"GET /?embedded=1&shop=demo-1.myshopify.com&id_token={JWT} HTTP/1.1")
    _access_log("GET /shopify/callback?code=oauthcode123&hmac=deadbeefcafe&shop=demo-1."
                "myshopify.com&state=statenonce456&timestamp=1 HTTP/1.1", "302")  # fmt: skip
    _access_log(f"GET /api/runs/?token={JWT} HTTP/1.1", "401")
    text = output.getvalue()
    assert "/shopify/callback" in text and "demo-1.myshopify.com" in text
    for secret in SECRETS[:4]:
        assert secret not in text


def test_tracebacks_and_arguments_are_redacted(output):
    try:
        raise ValueError("exchange failed: access_token=tracebacksecret789 shpat_0123456789abcdef")
    except ValueError:
        logging.getLogger("django.request").exception(
            "Internal Server Error: %s (key %s)", "/api/x", SECRETS[5]
        )
    text = output.getvalue()
    assert "Traceback" in text and "ValueError" in text
    for secret in SECRETS[4:]:
        assert secret not in text
