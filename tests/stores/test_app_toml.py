import tomllib
from pathlib import Path

from django.conf import settings

TOML = Path(__file__).resolve().parents[2] / "shopify.app.toml"


def test_app_toml_declares_scopes_urls_and_every_webhook():
    config = tomllib.loads(TOML.read_text())
    assert config["embedded"] is True
    assert set(config["access_scopes"]["scopes"].split(",")) == set(
        settings.SHOPIFY_SCOPES.split(",")
    )
    assert config["auth"]["redirect_urls"][0].endswith("/shopify/callback")
    assert config["webhooks"]["api_version"] == "2026-10"
    subscriptions = config["webhooks"]["subscriptions"]
    assert {t for s in subscriptions for t in s.get("topics", [])} == {"app/uninstalled"}
    assert {t for s in subscriptions for t in s.get("compliance_topics", [])} == {
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    }
    assert all(s["uri"].endswith("/shopify/webhooks") for s in subscriptions)
