"""Processed webhook deliveries are deleted after WEBHOOK_RETENTION_DAYS: by the worker's
sweeper thread every hour, and by `manage.py prune_webhook_deliveries`."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.utils import timezone

from assetlink_project import config
from reports.management.commands import worker
from stores.models import WebhookDelivery


def _delivery(webhook_id: str, age_days: float) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        webhook_id=webhook_id, topic="app/uninstalled", shop_domain="demo-1.myshopify.com"
    )
    received = timezone.now() - timedelta(days=age_days)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=received)
    return delivery


def _left() -> list[str]:
    return sorted(WebhookDelivery.objects.values_list("webhook_id", flat=True))


@pytest.mark.django_db
def test_the_command_deletes_deliveries_older_than_the_retention(settings, capsys):
    settings.WEBHOOK_RETENTION_DAYS = 30
    _delivery("old", 31)
    _delivery("recent", 29)
    call_command("prune_webhook_deliveries")
    assert _left() == ["recent"]
    assert "Deleted 1 webhook deliveries." in capsys.readouterr().out
    call_command("prune_webhook_deliveries", "--days", "7")
    assert _left() == []


@pytest.mark.django_db
def test_the_command_keeps_what_shopify_may_still_retry():
    with pytest.raises(CommandError, match="at least 2 days"):
        call_command("prune_webhook_deliveries", "--days", "1")


class _Ticks(threading.Event):
    """A stop event for the sweeper loop that lets it go round `n` times."""

    def __init__(self, n: int):
        super().__init__()
        self.left = n

    def wait(self, timeout=None) -> bool:
        self.left -= 1
        return self.left < 0


@pytest.mark.django_db
def test_the_worker_sweeper_deletes_old_deliveries(settings, monkeypatch):
    # In its own thread the sweeper drops stale connections; here that would be the test's.
    monkeypatch.setattr(worker, "close_old_connections", lambda: None)
    settings.WEBHOOK_RETENTION_DAYS = 30
    _delivery("old", 40)
    _delivery("recent", 1)
    worker._sweep_forever(_Ticks(1), every=0)
    assert _left() == ["recent"]


def test_a_bad_retention_stops_startup_with_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="WEBHOOK_RETENTION_DAYS='1' is not a whole"):
        config.parse_int_at_least("WEBHOOK_RETENTION_DAYS", "1", default=30, minimum=2)
    with pytest.raises(ImproperlyConfigured, match="of 2 or more, e.g. 30"):
        config.parse_int_at_least("WEBHOOK_RETENTION_DAYS", "soon", default=30, minimum=2)
    assert config.parse_int_at_least("WEBHOOK_RETENTION_DAYS", None, default=30, minimum=2) == 30
