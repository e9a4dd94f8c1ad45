"""The PostgreSQL backend (assetlink_project.postgresql): timestamps read with psycopg's own
(C) loader give what Django's gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.db.models.functions import Now
from psycopg.pq import Format

from assetlink_project.postgresql.base import LOADER, TIMESTAMPTZ_OID
from reports.models import Run
from tests.factories import StoreFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


def test_timestamps_read_back_as_written_in_utc():
    store = StoreFactory()
    written = [
        datetime(2026, 11, 28, 4, 0, 48, 108529, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds
        datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
        datetime(2400, 2, 29, 12, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ]
    for when in written:
        run = Run.objects.create(store=store, started_at=when, finished_at=when)
        read = Run.objects.get(pk=run.pk)
        row = Run.objects.filter(pk=run.pk).values("started_at", now=Now()).get()
        for value in (read.started_at, read.finished_at, row["started_at"]):
            assert value == when and value.tzinfo is UTC
            assert value.isoformat() == when.astimezone(UTC).isoformat()
        assert row["now"].tzinfo is UTC


def test_cursors_read_timestamps_with_psycopgs_loader():
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert loader is LOADER
    assert not hasattr(loader, "timezone")  # not Django's loader
