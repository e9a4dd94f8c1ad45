"""Version drift seen in production: answers and webhooks in another Admin API version than
configured, and deprecation reasons, are logged once per store and counted in /metrics; and
`manage.py check` warns within 90 days of the configured version's end of support."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import redis
from django.conf import settings

from stores.checks import api_version_support
from stores.shopify import drift
from stores.shopify import operations as ops
from stores.shopify.client import ShopifyClient


@pytest.fixture
def clean_drift():
    r = redis.Redis.from_url(settings.REDIS_URL)
    r.delete(drift.REDIS_KEY)
    drift._logged.clear()
    yield r
    r.delete(drift.REDIS_KEY)


def test_answers_in_another_version_are_logged_once_and_counted(shopify, clean_drift, caplog):
    domain, token = shopify.new_shop()
    shopify.post("config", {"answer_api_version": "2027-01", "deprecated_reason": "x is gone"})
    try:
        client = ShopifyClient(domain, token)
        with caplog.at_level(logging.WARNING, logger="stores.shopify.drift"):
            client.execute(ops.SHOP_INFO)
            client.execute(ops.SHOP_INFO)
    finally:
        shopify.post("config", {"answer_api_version": None, "deprecated_reason": None})
    assert drift.counts() == {
        (domain, "version", "2027-01"): 2,
        (domain, "deprecated", "x is gone"): 2,
    }
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2 and "as Admin API 2027-01, not the configured 2026-10" in warnings[0]


def test_answers_in_the_configured_version_count_nothing(shopify, clean_drift):
    domain, token = shopify.new_shop()
    ShopifyClient(domain, token).execute(ops.SHOP_INFO)
    assert drift.counts() == {}


@pytest.mark.django_db
def test_the_metrics_expose_the_drift(client, clean_drift, settings):
    settings.METRICS_TOKEN = "t0ken"
    drift.observe("a.myshopify.com", "2026-10", {"X-Shopify-API-Version": "2027-01"})
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken").content.decode()
    assert (
        'assetlink_shopify_api_drift_total{kind="version",shop="a.myshopify.com",'
        'value="2027-01"} 1.0'
    ) in body


@pytest.mark.parametrize(
    ("today", "warns"),
    [(dt.date(2027, 7, 2), False), (dt.date(2027, 7, 3), True), (dt.date(2027, 11, 1), True)],
)
def test_the_check_warns_within_90_days_of_the_end_of_support(today, warns):
    found = api_version_support(today=today)
    assert [w.id for w in found] == (["stores.W001"] if warns else [])
