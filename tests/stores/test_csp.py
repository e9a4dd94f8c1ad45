"""Hole 6 (issue 25): every HTML page's Content-Security-Policy allows no inline script, and no
page needs one — each inline script it serves is allowed by its hash, no `on…=` handler, and on
the app's own pages no inline style either. (tests/browser proves the same in Chromium: a
refusal fails any browser test.)"""

import base64
import hashlib
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model

from stores.csp import INLINE_STYLE_PREFIXES, directive
from tests.stores.helpers import session_token

pytestmark = pytest.mark.django_db

SHOP = "demo-1.myshopify.com"


class Inline(HTMLParser):
    """What a page would need 'unsafe-inline' for."""

    def __init__(self):
        super().__init__()
        self.scripts, self.handlers, self.style_attrs, self.style_blocks = [], [], [], 0
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        if "style" in attrs:
            self.style_attrs.append(tag)
        executable = attrs.get("type", "text/javascript") in ("text/javascript", "module", "")
        if tag == "script" and "src" not in attrs and executable:
            self._in = []
        if tag == "style":
            self.style_blocks += 1

    def handle_data(self, data):
        if self._in is not None:
            self._in.append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._in is not None:
            self.scripts.append("".join(self._in))
            self._in = None


def sha256(body: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"


def check(response, path):
    assert response.status_code == 200, (path, response.status_code)
    assert response["Content-Type"].startswith("text/html"), path
    policy = response["Content-Security-Policy"]
    scripts = directive(policy, "script-src")
    assert scripts and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "https://cdn.shopify.com" in scripts  # App Bridge
    assert directive(policy, "default-src") == ["'self'"]
    assert directive(policy, "object-src") == ["'none'"]
    assert directive(policy, "base-uri") == ["'self'"]
    assert directive(policy, "form-action") == ["'self'"]
    assert directive(policy, "frame-ancestors")
    found = Inline()
    found.feed(response.content.decode())
    assert not found.handlers, (path, found.handlers)
    for body in found.scripts:
        assert sha256(body) in scripts, (path, body[:200])
    if not path.startswith(INLINE_STYLE_PREFIXES):
        assert directive(policy, "style-src") == ["'self'"]
        assert not found.style_attrs and not found.style_blocks, (path, found.style_attrs)
    return found


@pytest.fixture
def superuser(admin_member):
    user = admin_member.user
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
    return user


def test_pages_anonymous(client):
    for path in ["/login/", "/admin/login/"]:
        check(client.get(path), path)


def test_the_standalone_app_and_the_operator_pages(client, superuser, store):
    client.force_login(superuser)
    paths = [
        "/",
        "/api/docs/",
        "/admin/",
        "/admin/stores/store/",
        f"/admin/stores/store/{store.pk}/change/",
        "/admin/reports/run/",
        "/admin/django_rq/dashboard/",
        "/admin/django_rq/dashboard/queues/0/",
        "/admin/django_rq/dashboard/queues/0/failed/",
        "/admin/django_rq/dashboard/workers/0/",
    ]
    hashed = []
    for path in paths:
        hashed += check(client.get(path), path).scripts
    assert hashed, "django_rq's inline script is served, and allowed by its hash"


def test_the_embedded_app_and_its_bounce_page(client, shopify):
    bounce = f"/shopify/bounce?shop={SHOP}&host=x&embedded=1&shopify-reload=/"
    check(client.get(bounce), "/shopify/bounce")
    page = client.get(
        "/",
        {"shop": SHOP, "host": "x", "embedded": "1", "id_token": session_token(SHOP, sub="7")},
    )
    found = check(page, "/")
    assert found.scripts == []  # the App Bridge stand-in loads from a static file


def test_swagger_ui_needs_no_inline_script(client, superuser):
    client.force_login(superuser)
    page = client.get("/api/docs/")
    assert check(page, "/api/docs/").scripts == []
    assert b"?script" in page.content  # SpectacularSwaggerSplitView: its set-up is a script URL
