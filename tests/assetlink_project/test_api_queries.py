"""The main list and detail endpoints answer in a bounded number of queries: the count does not
grow with the number of plans, runs, batches, members or keys listed (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from linking.models import Plan, PlanStore
from reports.models import ReportRow, Run
from stores import services as store_services
from tests.factories import MemberFactory, StoreFactory
from uploads.models import UploadBatch

pytestmark = pytest.mark.django_db

# Endpoint → the most queries it may make, session auth and tenancy checks included (measured
# + 1 for slack).
BOUNDS = {
    "/api/session/": 4,
    "/api/workspaces/": 6,
    "/api/workspaces/{workspace}/members/": 5,
    "/api/stores/{store}/api-keys/": 8,
    "/api/workspaces/{workspace}/plans/": 5,
    "/api/plans/{plan}/": 5,
    "/api/plans/{plan}/statistics/": 6,  # + Setup's default transformation
    "/api/plans/{plan}/result/": 5,
    "/api/runs/": 4,
    "/api/runs/{run}/": 4,
    "/api/workspaces/{workspace}/uploads/": 6,
    "/api/uploads/{batch}/": 6,
    "/api/upload-runs/{upload_run}/": 4,
}


def _dataset(workspace, admin, n: int) -> dict:
    stores = [StoreFactory(workspace=workspace) for _ in range(3)]
    for role in ("user", "master_admin")[:n]:
        # More workspaces the caller belongs to (the workspace list shows each, its stores and
        # whether the caller may change its Setup), in both kinds of role.
        other = StoreFactory().workspace
        MemberFactory(workspace=other, user=admin.user, role=role)
    for _ in range(n):
        MemberFactory(workspace=workspace, role="user")
        store_services.api_key_create(user=admin.user, store=stores[0], label="PIM")
        plan = Plan.objects.create(workspace=workspace, expression="tags=x", link_mode="append",
                                   cloudinary_field="metadata:sku", shopify_field="variant.sku",
                                   alt_source="none", status=Plan.Status.PLANNED)  # fmt: skip
        plan.stores.set(stores)
        for store in stores:
            PlanStore.objects.create(plan=plan, store=store, statistics={"products_matched": 1})
            run = Run.objects.create(store=store, plan=plan, status=Run.Status.SUCCEEDED)
            ReportRow.objects.create(run=run, action="created", asset_id="a")
        batch = UploadBatch.objects.create(workspace=workspace, expression="tags=x")
        batch.stores.set(stores)
        for store in stores:
            batch.runs.add(
                Run.objects.create(store=store, kind=Run.Kind.UPLOAD, status="succeeded")
            )
    return {
        "workspace": workspace.pk,
        "store": stores[0].pk,
        "plan": plan.pk,
        "run": Run.objects.filter(kind="link").first().pk,
        "batch": batch.pk,
        "upload_run": Run.objects.filter(kind="upload").first().pk,
    }


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(queries)


@pytest.fixture
def client_for(admin_member):
    def make():
        client = APIClient()
        client.force_login(admin_member.user)
        return client

    return make


@pytest.mark.parametrize("endpoint", list(BOUNDS))
def test_endpoint_queries_are_bounded_and_do_not_grow_with_rows(
    endpoint, workspace, admin_member, client_for, django_assert_max_num_queries
):
    ids = _dataset(workspace, admin_member, 1)
    client = client_for()
    url = endpoint.format(**ids)
    client.get(url)  # warm caches (content types, the session)
    few = _count(client, url)
    ids = _dataset(workspace, admin_member, 3)
    url = endpoint.format(**ids)
    with django_assert_max_num_queries(BOUNDS[endpoint]):
        client.get(url)  # a cold cache (e.g. a plan's summary) is within the bound too
    with django_assert_max_num_queries(BOUNDS[endpoint]):
        many = _count(client, url)
    assert many == few, f"{endpoint}: {few} queries with few rows, {many} with more (N+1)"
