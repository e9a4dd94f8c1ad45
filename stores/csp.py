"""The Content-Security-Policy of every HTML response.

Scripts come only from this origin, Shopify's CDN (App Bridge) and Cloudinary's Media Library
widget — never inline: the page's scripts are static files, and the one third-party inline
script served (django_rq's dashboard, under /admin/) is allowed by its sha256, computed from
the installed package's templates. Styles come only from this origin on the app's own pages;
the operator-only pages of Django's admin (with django_rq's dashboard) and Swagger UI keep
`'unsafe-inline'` for styles alone: their templates carry `<style>` blocks and `style=`
attributes this project does not own. With the sandbox (demo, tests), the emulators' origins
are allowed where the real services' are (App Bridge's stand-in, thumbnails).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib
import re
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from stores.shopify.endpoints import sandbox_admin_origin

SHOPIFY_CDN = "https://cdn.shopify.com"
CLOUDINARY_WIDGET = "https://media-library.cloudinary.com"
# Where Shopify's own pages send App Bridge's telemetry (as in Hydrogen's default policy).
SHOPIFY_CONNECT = ("https://*.shopify.com", "https://monorail-edge.shopifysvc.com")
# Operator-only pages whose third-party templates use inline styles.
INLINE_STYLE_PREFIXES = ("/admin/", "/api/docs/")
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S)


@functools.cache
def inline_script_hashes(package: str) -> tuple[str, ...]:
    """`'sha256-…'` of each inline script in an installed app's templates.

    Only blocks without template syntax: their rendered text is the template's text. A block
    that has some is not hashed (it would render differently), so the browser refuses it and
    the browser tests say so.
    """
    module = importlib.import_module(package)
    root = Path(module.__file__).parent / "templates"
    hashes = set()
    for path in sorted(root.rglob("*.html")):
        for body in _INLINE_SCRIPT.findall(path.read_text(encoding="utf-8")):
            if "{%" in body or "{{" in body or not body.strip():
                continue
            digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
            hashes.add(f"'sha256-{digest}'")
    return tuple(sorted(hashes))


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def sandbox_origins() -> list[str]:
    """The Shopify and Cloudinary emulators' origins when settings point at them."""
    origins = [sandbox_admin_origin(), _origin(settings.CLOUDINARY_API_BASE_URL)]
    return [o for o in origins if o]


def content_security_policy(path: str, frame_ancestors: str) -> str:
    """The policy for an HTML response at `path`, framed by `frame_ancestors` (the directive's
    sources: `'none'`, or the shop and the Shopify admin)."""
    sandbox = sandbox_origins()
    scripts = ["'self'", SHOPIFY_CDN, CLOUDINARY_WIDGET]
    if sandbox_admin_origin():
        scripts.append(sandbox_admin_origin())  # the emulator's App Bridge stand-in
    styles = ["'self'"]
    if path.startswith("/admin/"):
        scripts += inline_script_hashes("django_rq")
    if path.startswith(INLINE_STYLE_PREFIXES):
        styles.append("'unsafe-inline'")
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        "style-src": styles,
        "img-src": ["'self'", "data:", "blob:", "https:", *sandbox],
        "media-src": ["'self'", "https:", *sandbox],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *SHOPIFY_CONNECT],
        "frame-src": ["'self'", CLOUDINARY_WIDGET, "https://console.cloudinary.com"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": [frame_ancestors],
    }
    return " ".join(f"{name} {' '.join(sources)};" for name, sources in directives.items())


def directive(policy: str, name: str) -> list[str] | None:
    """The sources of one directive of a policy (None when absent)."""
    for part in policy.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    return None
