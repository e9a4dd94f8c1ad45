"""Admin API versions: which stable versions Shopify still supports, when the configured one
ends, and Shopify's own published schema of each (the `@shopify/dev-mcp` npm package pinned in
package.json ships `dist/data/admin_<version>.json.gz`, introspection results).

Shopify releases a stable version each quarter (YYYY-01/04/07/10) and supports it for 12 months
from its release; after that, requests naming it are answered as the oldest supported version
(shopify.dev/docs/api/usage/versioning). The end of support is therefore computed from the name.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "node_modules" / "@shopify" / "dev-mcp" / "dist" / "data"
RELEASE_MONTHS = (1, 4, 7, 10)
SUPPORT_MONTHS = 12


def release_date(version: str) -> dt.date:
    """2026-10 → 2026-10-01. ValueError for 'unstable' or a name that is no release."""
    year, month = (int(p) for p in version.split("-"))
    if month not in RELEASE_MONTHS:
        raise ValueError(f"{version} is not a stable Admin API release")
    return dt.date(year, month, 1)


def end_of_support(version: str) -> dt.date:
    """The first day Shopify no longer serves `version` (12 months after its release)."""
    released = release_date(version)
    return released.replace(year=released.year + SUPPORT_MONTHS // 12)


def published_versions() -> list[str]:
    """The stable versions whose schema the installed @shopify/dev-mcp ships, oldest first."""
    names = (
        p.name.removeprefix("admin_").removesuffix(".json.gz")
        for p in SCHEMA_DIR.glob("admin_*.json.gz")
    )
    return sorted(n for n in names if n != "unstable")


def supported_versions(today: dt.date) -> list[str]:
    """The published stable versions still supported on `today`."""
    return [v for v in published_versions() if release_date(v) <= today < end_of_support(v)]


def schema_matrix(configured: str) -> list[str]:
    """The versions every document must validate against: the configured one and the published
    ones still supported when the next release after it comes out (for 2026-10: 2026-04,
    2026-07, 2026-10), so a bump that would break a document fails a test."""
    released = release_date(configured)
    next_release = dt.date(released.year + (released.month == 10), (released.month + 2) % 12 + 1, 1)
    older = [v for v in supported_versions(next_release) if v < configured]
    return [*older, configured]


@cache
def admin_schema(version: str):
    """Shopify's Admin schema of `version`, built with graphql-core (FileNotFoundError when the
    npm package is not installed: `make install` / `npm install` puts it in node_modules)."""
    from graphql import build_client_schema

    path = SCHEMA_DIR / f"admin_{version}.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)
    return build_client_schema(data["data"], assume_valid=True)
