"""An upload run's timings: its phases, Shopify's share, summed over a resumed run's attempts,
in the API's upload-run detail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from linking import runs as link_runs
from reports.models import Run
from tests.doubles.killed import WorkerKilled, killed_after
from tests.factories import MemberFactory
from tests.uploads.conftest import shop, work
from uploads import runs, services

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_resumed_upload_run_sums_the_timings_of_its_attempts(sandbox, uploads_queue):
    store = shop(sandbox)
    ids = [a["asset_id"] for a in sandbox.assets("resource_type=image")][:3]
    batch = services.batch_create(
        user=None, workspace=sandbox.workspace,
        data={"stores": [store.shop_domain], "asset_ids": ids},
    )  # fmt: skip
    (run,) = services.batch_start(batch=batch)
    uploads_queue.empty()  # this attempt runs here and dies right after its fileCreate
    with pytest.raises(WorkerKilled):
        runs.execute_upload_run(run.pk, client_for=killed_after("fileCreate"))
    run.refresh_from_db()
    first = run.timings
    assert first["attempts"] == 1 and "creating files" in first["phases"]
    assert first["shopify_http_seconds"] > 0

    link_runs.runs_redis().delete(link_runs._key(run.pk, "alive"))
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    assert runs.resume_dead_uploads() == [run.pk]
    work(uploads_queue)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED
    timings = run.timings
    assert timings["attempts"] == 2
    assert timings["seconds"] > first["seconds"]
    assert timings["database_queries"] > first["database_queries"]
    assert "waiting for Shopify to process files" in timings["phases"]

    member = MemberFactory(workspace=store.workspace, role="user")
    api = APIClient()
    api.force_authenticate(member.user)
    assert api.get(f"/api/upload-runs/{run.pk}/").json()["timings"] == timings
