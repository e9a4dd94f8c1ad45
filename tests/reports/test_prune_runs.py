"""`manage.py prune_runs`: finished runs older than the cut-off go, after their reports are
archived; recent runs and runs in progress stay."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from reports.models import ReportRow, Run
from uploads.models import UploadItem

pytestmark = pytest.mark.django_db


def _run(store, *, days_ago: int, status=Run.Status.SUCCEEDED, kind=Run.Kind.LINK, rows=2) -> Run:
    run = Run.objects.create(store=store, status=status, kind=kind)
    when = timezone.now() - timedelta(days=days_ago)
    Run.objects.filter(pk=run.pk).update(
        created_at=when, finished_at=None if status in Run.ACTIVE else when
    )
    for seq in range(rows):
        ReportRow.objects.create(run=run, seq=seq, product_id=f"gid://p/{seq}",
                                 asset_id=f"a{run.pk}-{seq}", action="created")  # fmt: skip
    return run


def _prune(*args) -> str:
    out = io.StringIO()
    call_command("prune_runs", *args, stdout=out)
    return out.getvalue()


def test_old_finished_runs_are_archived_then_deleted(store, tmp_path):
    old = _run(store, days_ago=100)
    failed = _run(store, days_ago=95, status=Run.Status.FAILED, rows=1)
    recent = _run(store, days_ago=10)
    stuck = _run(store, days_ago=200, status=Run.Status.RUNNING)
    out = _prune("--older-than", "90", "--archive", str(tmp_path))
    assert "2 runs (3 report rows) older than 90 days deleted; 2 reports archived" in out
    assert set(Run.objects.values_list("pk", flat=True)) == {recent.pk, stuck.pk}
    assert not ReportRow.objects.filter(run_id__in=[old.pk, failed.pk]).exists()
    archived = (
        tmp_path
        / store.shop_domain
        / f"assetlink-run-{old.pk}-{store.shop_domain.split('.')[0]}.csv"
    )
    rows = list(csv.DictReader(archived.open()))
    assert [r["asset_id"] for r in rows] == [f"a{old.pk}-0", f"a{old.pk}-1"]
    assert {p.name for p in (tmp_path / store.shop_domain).iterdir()} == {
        archived.name, f"assetlink-run-{failed.pk}-{store.shop_domain.split('.')[0]}.csv"
    }  # fmt: skip


def test_upload_runs_are_archived_and_deleted_with_their_items(store, tmp_path):
    run = _run(store, days_ago=40, kind=Run.Kind.UPLOAD, rows=1)
    UploadItem.objects.create(
        run=run, asset_id=f"a{run.pk}-0", action="created", file_id="gid://f/1"
    )
    _prune("--older-than", "30", "--archive", str(tmp_path))
    (archived,) = (tmp_path / store.shop_domain).iterdir()
    assert f"a{run.pk}-0" in archived.read_text()
    assert not Run.objects.exists() and not UploadItem.objects.exists()


def test_dry_run_counts_and_keeps_everything(store):
    _run(store, days_ago=100)
    assert "1 runs (2 report rows) older than 30 days would be deleted" in _prune(
        "--older-than", "30", "--dry-run"
    )
    assert Run.objects.count() == 1 and ReportRow.objects.count() == 2


def test_a_cut_off_under_one_day_is_refused(db):
    with pytest.raises(CommandError, match="at least 1 day"):
        _prune("--older-than", "0")
