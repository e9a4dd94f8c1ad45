"""Fixtures for install/auth tests: the Shopify emulator in-process, signed queries, tokens."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app


@pytest.fixture(scope="session")
def _shopify_server():
    app = make_app(
        api_key=django_settings.SHOPIFY_API_KEY, api_secret=django_settings.SHOPIFY_API_SECRET
    )
    server = serve_in_thread(app)
    yield app, server
    server.shutdown()


@pytest.fixture
def shopify(_shopify_server, settings):
    """The Shopify emulator, reset, with the app pointed at it. `.state`, `.url`."""
    app, server = _shopify_server
    app.state.reset()
    settings.SHOPIFY_ADMIN_BASE_URL = server.url + "/{shop}"
    app.url = server.url
    return app


def pytest_collection_modifyitems(config, items):
    # The sandbox's app secret is 18 bytes; Shopify's real ones are longer. PyJWT warns.
    here = str(config.rootpath / "tests" / "stores")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(
                pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
            )
