"""`manage.py check`: stores.W001 when the configured Admin API version is within 90 days of
its end of support (Shopify supports a stable version 12 months from its release)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.checks import Warning, register

from stores.shopify import versions

WARN_DAYS = 90


@register()
def api_version_support(app_configs=None, today: dt.date | None = None, **kwargs):
    version = settings.SHOPIFY_API_VERSION
    try:
        ends = versions.end_of_support(version)
    except ValueError:
        return []  # unstable: no end of support
    left = (ends - (today or dt.date.today())).days
    if left > WARN_DAYS:
        return []
    when = f"ends on {ends:%B %-d, %Y}" if left > 0 else f"ended on {ends:%B %-d, %Y}"
    return [
        Warning(
            f"Shopify's support of Admin API {version} {when}; Shopify then answers it as the "
            "oldest supported version.",
            hint="Upgrade SHOPIFY_API_VERSION (docs/api-version.md).",
            id="stores.W001",
        )
    ]
