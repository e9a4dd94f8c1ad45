"""A run's outcome, read from what happened to its items (pure rule, exhaustively), and the
runs layer's refusals on factory-built runs (no emulator, no worker)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assetlink_project.errors import ApplicationError
from reports.models import Run
from reports.registry import abort_run, undo_run
from tests.factories import ReportRowFactory, RunFactory, RunProductFactory


@given(done=st.integers(0, 50), bad=st.integers(0, 50), aborted=st.booleans())
def test_the_outcome_never_hides_a_failure(done, bad, aborted):
    outcome = Run.outcome(done=done, bad=bad, aborted=aborted)
    if aborted:
        assert outcome == Run.Status.ABORTED
    elif bad == 0:
        assert outcome == Run.Status.SUCCEEDED
    elif done == 0:
        assert outcome == Run.Status.FAILED  # nothing could be done
    else:
        assert outcome == Run.Status.COMPLETED_WITH_FAILURES
    assert (outcome == Run.Status.SUCCEEDED) == (not aborted and bad == 0)


@pytest.mark.django_db
def test_a_running_run_cannot_be_undone():
    run = RunFactory(status=Run.Status.RUNNING)
    RunProductFactory(run=run, status="done", before={"product_id": "p", "gallery": []})
    with pytest.raises(ApplicationError, match="still running"):
        undo_run(run=run)


@pytest.mark.django_db
def test_an_upload_run_cannot_be_undone():
    run = RunFactory(kind=Run.Kind.UPLOAD, status=Run.Status.SUCCEEDED, plan=None)
    with pytest.raises(ApplicationError, match="cannot be undone"):
        undo_run(run=run)


@pytest.mark.django_db
def test_aborting_a_queued_run_ends_it_at_once_and_reports_every_asset_skipped():
    run = RunFactory(
        status=Run.Status.QUEUED,
        work={"products": [{"product_id": "gid://shopify/Product/1", "assets": [
            {"asset_id": "a1", "version": 1, "transformation": "", "alt": None,
             "media_type": "IMAGE", "public_id": "shoes/a1", "group": "SKU-1"}]}]},
    )  # fmt: skip
    RunProductFactory(run=run, product_id="gid://shopify/Product/1")

    run = abort_run(run=run)

    assert run.status == Run.Status.ABORTED
    assert list(run.rows.values_list("action", "asset_id")) == [("skipped", "a1")]
    assert run.products.get().status == "not_done"


@pytest.mark.django_db
def test_report_rows_of_a_run_come_out_in_the_one_layout():
    from reports import csv as reports_csv

    row = ReportRowFactory(product_title="=cmd()", public_id="shoes/a1")
    lines = "".join(reports_csv.report_lines(row.run)).splitlines()
    assert lines[0].split(",") == reports_csv.COLUMNS
    assert "'=cmd()" in lines[1]
