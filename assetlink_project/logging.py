"""A logging filter that masks anything that looks like a credential.

Every handler of `settings.LOGGING` carries it, and Django's own loggers (the runserver access
log `django.server`, `django.request`) are routed to those handlers, so session tokens in a
URL (`id_token=…`), OAuth `code`/`state`/`hmac`, API keys and Shopify tokens never reach a log
in clear — in the message, its arguments, or an exception's traceback.
"""

from __future__ import annotations

import logging
import re

_SECRET_KEYS = (
    r"access_token|refresh_token|api_secret|client_secret|secret|password|authorization|"
    r"x-shopify-access-token|x-assetlink-key|subject_token|id_token"
)
_PATTERNS = [
    # Shopify access/refresh tokens and API secrets (shpat_, shprt_, shpss_, shpca_ ...)
    (re.compile(r"shp[a-z]{2}_[A-Za-z0-9]{8,}"), "shp**_[redacted]"),
    # AssetLink API keys (al_<prefix>_<secret>)
    (re.compile(r"\bal_[0-9a-f]{6,}_[A-Za-z0-9_\-]{8,}"), "al_[redacted]"),
    # JWTs (Shopify session tokens), e.g. after "Bearer"
    (re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), "[jwt redacted]"),
    # key=value / "key": "value" pairs whose key names a secret
    (
        re.compile(rf"(?i)((?:{_SECRET_KEYS})[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}}]+)"),
        r"\1[redacted]",
    ),
    # query parameters of OAuth and Shopify's signed URLs (code=, state=, hmac=, session=…)
    (
        re.compile(r"(?i)((?:^|[?&;\s])(?:code|state|hmac|signature|session|token)=)([^\s&\"']+)"),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse `exc_text`: the traceback is rendered once, redacted.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
