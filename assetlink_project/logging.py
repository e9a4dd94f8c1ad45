"""A logging filter that masks anything that looks like a credential."""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    # Shopify access/refresh tokens and API secrets (shpat_, shprt_, shpss_, shpca_ ...)
    re.compile(r"shp[a-z]{2}_[A-Za-z0-9]{8,}"),
    # key=value / "key": "value" pairs whose key names a secret
    re.compile(
        r"(?i)((?:access_token|refresh_token|api_secret|client_secret|secret|password|"
        r"authorization|x-shopify-access-token|subject_token|id_token)[\"']?\s*[:=]\s*[\"']?)"
        r"([^\s\"'&,;}]+)"
    ),
]


def redact(text: str) -> str:
    text = _PATTERNS[0].sub("shp**_[redacted]", text)
    return _PATTERNS[1].sub(lambda m: m.group(1) + "[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
