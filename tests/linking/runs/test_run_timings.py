"""Per-run phase timings of a real link run: where its time went, on the Run, in the API run
detail, in the Django admin and as one structured log line at the end of the run."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from assetlink_project.logging_context import JsonFormatter
from reports.models import Run
from tests.factories import MemberFactory
from tests.linking.runs.conftest import dry_run, start_and_work

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_link_run_records_where_its_time_went(sandbox, queue, caplog):
    store = sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)
    plan = dry_run(sandbox, store, link_mode="overwrite")
    with caplog.at_level(logging.INFO, logger="reports.timings"):
        run = start_and_work(queue, plan, store)
    assert run.status == Run.Status.SUCCEEDED
    timings = run.timings
    phases = timings["phases"]
    assert {"preparing", "reading galleries", "creating media", "reordering"} <= set(phases)
    assert timings["attempts"] == 1
    assert timings["shopify_http_seconds"] > 0
    assert timings["database_queries"] > 0 and timings["database_seconds"] > 0
    assert sum(phases.values()) == pytest.approx(timings["seconds"], abs=0.01)
    assert timings["shopify_http_seconds"] <= timings["seconds"]

    # One structured line at the end of the run, with the same figures.
    [record] = [r for r in caplog.records if r.name == "reports.timings"]
    line = json.loads(JsonFormatter().format(record))
    assert line["timings"] == timings
    assert f"Run {run.pk} took" in line["message"]

    # The API's run detail (lists leave them out: they stay small).
    member = MemberFactory(workspace=store.workspace, role="user")
    api = APIClient()
    api.force_authenticate(member.user)
    assert api.get(f"/api/runs/{run.pk}/").json()["timings"] == timings
    assert "timings" not in api.get("/api/runs/").json()[0]

    # The Django admin's run page.
    admin = User.objects.create_superuser("timings-admin", password="pw-timings-admin-1")
    browser = Client()
    browser.force_login(admin)
    page = browser.get(f"/admin/reports/run/{run.pk}/change/").content.decode()
    assert "Where the time went" in page and "creating media" in page
    assert "Shopify HTTP (all phases)" in page
