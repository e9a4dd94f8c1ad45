"""The endpoints Setup added (connect a store, the Cloudinary connection, members), reached
with an API key: it acts as a User of its own store's workspace (views, never changes) and
reaches no other workspace."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from stores import services
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db

CHANGES = [
    ("post", "stores/connect/", {"shop": "demo-9.myshopify.com"}),
    ("put", "cloudinary/", {"cloud_name": "x", "api_key": "k", "api_secret": "s"}),
    ("post", "cloudinary/test/", {"cloud_name": "x", "api_key": "k", "api_secret": "s"}),
    ("post", "members/", {"user": "someone@example.com"}),
]


@pytest.fixture
def key_api(admin_member):
    store = StoreFactory(workspace=admin_member.workspace)
    _, token = services.api_key_create(user=admin_member.user, store=store, label="CI")
    return APIClient(HTTP_X_ASSETLINK_KEY=token)


@pytest.mark.parametrize(("method", "path", "body"), CHANGES)
def test_an_api_key_may_not_change_its_workspace(key_api, admin_member, method, path, body):
    url = f"/api/workspaces/{admin_member.workspace.pk}/{path}"
    response = getattr(key_api, method)(url, body, format="json")
    assert response.status_code == 403
    assert "an API key (acts as User)" in response.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), CHANGES)
def test_an_api_key_does_not_reach_another_workspace(key_api, method, path, body):
    other = WorkspaceFactory()
    MemberFactory(workspace=other, role="master_admin")
    response = getattr(key_api, method)(f"/api/workspaces/{other.pk}/{path}", body, format="json")
    assert response.status_code == 404


def test_an_api_key_views_its_workspace_but_removes_nobody(key_api, admin_member):
    base = f"/api/workspaces/{admin_member.workspace.pk}"
    assert key_api.get(f"{base}/cloudinary/").status_code == 200
    assert key_api.get(f"{base}/members/").status_code == 200
    removed = key_api.delete(f"{base}/members/{admin_member.pk}/")
    assert removed.status_code == 403
    assert key_api.get(f"/api/workspaces/{WorkspaceFactory().pk}/cloudinary/").status_code == 404
