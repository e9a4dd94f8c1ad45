"""A Setup saved before its rules (issue 24, defect 6) — here written around them with a
queryset ``.update()`` — may hold a value Shopify or Cloudinary refuses: a run, a dry run, an
unlink or an upload that starts from it is refused up front, with a 400 naming the field and
the rule, before anything is written to Shopify (before, the run rolled back every product
with Shopify's TOO_SHORT)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from linking.models import DryRun
from reports.models import Run
from stores.models import WorkspaceSettings
from tests.factories import MemberFactory, PlanFactory, StoreFactory
from tests.linking.runs.conftest import dry_run
from uploads.models import UploadBatch

NAMESPACE_RULE = "Shopify's rule for a metafield namespace: 3 to 255 characters"


def _break(workspace, **values) -> None:
    WorkspaceSettings.objects.filter(workspace=workspace).update(**values)


def _client(workspace, role="user") -> APIClient:
    client = APIClient()
    client.force_authenticate(MemberFactory(workspace=workspace, role=role).user)
    return client


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "field,value,rule",
    [
        ("swatch_metafield_namespace", "ab", NAMESPACE_RULE),
        ("default_image_transformation", "c_bogus,w_2048", "c_ takes a crop mode"),
    ],
)
def test_a_run_from_an_invalid_saved_setup_is_refused_before_any_write(
    sandbox, queue, field, value, rule
):
    store = sandbox.shop(products=4, media_per_product=1)
    plan = dry_run(sandbox, store, link_mode="append")
    assert plan.results.get(store=store).products  # the run would write
    _break(sandbox.workspace, **{field: value})
    before = sandbox.shop_state(store.shop_domain)

    response = _client(sandbox.workspace).post(f"/api/plans/{plan.pk}/run/", {}, format="json")

    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert f"Setup's {field} ({value!r})" in detail and rule in detail
    assert not Run.objects.exists()
    assert sandbox.shop_state(store.shop_domain) == before


@pytest.mark.django_db
def test_a_dry_run_unlink_and_upload_from_an_invalid_saved_setup_are_refused(db):
    store = StoreFactory()
    workspace = store.workspace
    plan = PlanFactory(workspace=workspace, stores=[store])
    _break(workspace, swatch_metafield_namespace="ab")
    client = _client(workspace, role="master_admin")

    dry = client.post(f"/api/plans/{plan.pk}/dry-run/")
    assert dry.status_code == 400, dry.content
    assert dry.json()["field"] == "swatch_metafield_namespace"
    assert NAMESPACE_RULE in dry.json()["detail"]
    assert not DryRun.objects.exists()

    unlink = client.post(
        f"/api/workspaces/{workspace.pk}/links/unlink/", {"asset_ids": ["a1"]}, format="json"
    )
    assert unlink.status_code == 400, unlink.content
    assert NAMESPACE_RULE in unlink.json()["detail"]
    assert not Run.objects.exists()

    _break(workspace, swatch_metafield_namespace="cloudinary", default_transformation="q_best")
    upload = client.post(
        f"/api/workspaces/{workspace.pk}/uploads/",
        {"asset_ids": ["a1"], "stores": [store.shop_domain]},
        format="json",
    )
    assert upload.status_code == 400, upload.content
    [message] = upload.json()["default_transformation"]
    assert "Setup's default_transformation ('q_best')" in message and "q_ takes auto" in message
    assert not UploadBatch.objects.exists()
