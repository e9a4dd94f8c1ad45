"""A run's failures through the API: the failed rows with a human message and what to do
(`?action=failed`), and the retry of the failed products as a new run of the same plan."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from reports.models import Run
from tests.factories import MemberFactory
from tests.linking.runs.conftest import dry_run, work
from tests.linking.runs.test_runs import runs_start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def store(sandbox):
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)


def test_failed_rows_explain_themselves_and_retry_runs_only_the_failed_products(
    sandbox, store, queue
):
    member = MemberFactory(workspace=sandbox.workspace, role="user")
    client = APIClient()
    client.force_authenticate(member.user)
    plan = dry_run(sandbox, store, link_mode="append")
    run = runs_start(plan, store, break_asset=True)
    work(queue)
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED_WITH_FAILURES

    listed = client.get("/api/runs/").json()[0]
    assert listed["can_retry"] is True and listed["link_mode"] == "append"
    assert listed["duration_seconds"] is not None and listed["duration_seconds"] >= 0

    failed = client.get(f"/api/runs/{run.pk}/rows/?action=failed").json()
    assert failed["count"] == 1
    row = failed["rows"][0]
    assert row["error_code"] == "IMAGE_DOWNLOAD_FAILURE"
    assert row["human"] == "Shopify could not download the image."
    assert "Cloudinary" in row["what_to_do"] and row["product_title"]
    everything = client.get(f"/api/runs/{run.pk}/rows/").json()
    assert everything["count"] == run.rows.count() > 1
    several = client.get(f"/api/runs/{run.pk}/rows/?action=failed,created").json()
    assert {r["action"] for r in several["rows"]} == {"failed", "created"}

    retry = client.post(f"/api/runs/{run.pk}/retry/")
    assert retry.status_code == 202, retry.content
    new = Run.objects.get(pk=retry.json()["id"])
    assert new.plan_id == plan.pk and new.store == store and new.created_by == member.user
    assert list(new.products.values_list("product_id", flat=True)) == [row["product_id"]]
    assert retry.json()["created_by"] == member.user.username
    # while it is queued, a second retry of the same plan is refused with a reason
    again = client.post(f"/api/runs/{run.pk}/retry/")
    assert again.status_code == 400 and "already running" in again.json()["detail"]
    work(queue)
    new.refresh_from_db()
    assert new.status == Run.Status.FAILED  # the asset is still broken: the same failure
    assert new.rows.get(action="failed").error_code == "IMAGE_DOWNLOAD_FAILURE"

    # another workspace's member sees none of it
    other = APIClient()
    other.force_authenticate(MemberFactory().user)
    assert other.get(f"/api/runs/{run.pk}/rows/").status_code == 404
    assert other.post(f"/api/runs/{run.pk}/retry/").status_code == 404


def test_retry_refuses_a_run_without_failures_and_bad_filters(sandbox, store, queue):
    member = MemberFactory(workspace=sandbox.workspace, role="user")
    client = APIClient()
    client.force_authenticate(member.user)
    run = runs_start(dry_run(sandbox, store, link_mode="append"), store)
    work(queue)
    response = client.post(f"/api/runs/{run.pk}/retry/")
    assert response.status_code == 400
    assert "no failed product" in response.json()["detail"]
    assert client.get("/api/runs/?status=done").status_code == 400
    assert client.get("/api/runs/?kind=link").json()[0]["id"] == run.pk
    assert client.get("/api/runs/?kind=upload").json() == []


def test_admin_titles_name_the_store_by_its_domain(sandbox, store, queue, client):
    admin = MemberFactory(workspace=sandbox.workspace, role="master_admin").user
    client.force_login(admin)
    run = runs_start(dry_run(sandbox, store, link_mode="append"), store)
    work(queue)
    page = client.get(f"/admin/reports/run/{run.pk}/change/").content.decode()
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert store.shop_domain in title and f"on {store.pk}" not in title
