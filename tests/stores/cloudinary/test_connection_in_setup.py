"""Setup's Cloudinary connection over the API: everyone views it (never the secret), admins
test credentials and save them; Cloudinary must accept them first; the secret is write-only
and encrypted at rest. Tenancy: other workspaces 404, users 403."""

from __future__ import annotations

import pytest
from django.db import connection

from stores.models import Workspace
from tests.factories import MemberFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def workspace():
    return WorkspaceFactory(
        cloudinary_cloud_name="", cloudinary_api_key="", cloudinary_api_secret=""
    )


def _url(workspace, test=False) -> str:
    return f"/api/workspaces/{workspace.pk}/cloudinary/" + ("test/" if test else "")


def _creds(cloud, **changes) -> dict:
    c = cloud.credentials
    return {"cloud_name": c.cloud_name, "api_key": c.api_key, "api_secret": c.api_secret, **changes}


def _as(client, workspace, role):
    client.force_login(MemberFactory(workspace=workspace, role=role).user)
    return client


def test_an_admin_tests_then_saves_the_credentials(client, cloud, workspace):
    api = _as(client, workspace, "technical_admin")
    checked = api.post(_url(workspace, test=True), _creds(cloud), content_type="application/json")
    assert checked.json() == {
        "ok": True,
        "problem": "ok",
        "message": f"Connected to Cloudinary product environment '{cloud.name}'.",
    }
    assert Workspace.objects.get(pk=workspace.pk).cloudinary_cloud_name == ""  # not saved yet

    saved = api.put(_url(workspace), _creds(cloud), content_type="application/json")

    assert saved.status_code == 200
    assert saved.json() == {"cloud_name": cloud.name, "api_key": cloud.credentials.api_key,
                            "api_secret_set": True}  # fmt: skip
    workspace.refresh_from_db()
    assert workspace.cloudinary_api_secret.reveal() == cloud.credentials.api_secret
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT cloudinary_api_secret FROM stores_workspace WHERE id = %s", [workspace.pk]
        )
        assert cloud.credentials.api_secret not in cursor.fetchone()[0]  # encrypted at rest
    assert cloud.credentials.api_secret not in api.get(_url(workspace)).content.decode()
    # The picker's test connection now uses them.
    assert api.post(f"/api/workspaces/{workspace.pk}/test-connection/").json()["ok"]


@pytest.mark.parametrize(
    ("changes", "problem", "words"),
    [
        ({"api_secret": "wrong"}, "bad_credentials", "rejected the API key or secret"),
        ({"api_key": "wrong"}, "bad_credentials", "rejected the API key or secret"),
        ({"cloud_name": "no-such-cloud"}, "unknown_cloud", "no product environment named"),
    ],
)
def test_bad_credentials_are_rejected_and_not_saved(client, cloud, workspace, changes, problem,
                                                    words):  # fmt: skip
    api = _as(client, workspace, "master_admin")
    checked = api.post(
        _url(workspace, test=True), _creds(cloud, **changes), content_type="application/json"
    ).json()
    assert checked["ok"] is False and checked["problem"] == problem and words in checked["message"]

    refused = api.put(_url(workspace), _creds(cloud, **changes), content_type="application/json")

    assert refused.status_code == 400
    assert refused.json()["problem"] == problem and words in refused.json()["detail"]
    assert Workspace.objects.get(pk=workspace.pk).cloudinary_cloud_name == ""


def test_an_empty_secret_keeps_the_saved_one(client, cloud, workspace):
    api = _as(client, workspace, "media_library_admin")
    api.put(_url(workspace), _creds(cloud), content_type="application/json")
    again = api.put(_url(workspace), _creds(cloud, api_secret=""), content_type="application/json")
    assert again.status_code == 200 and again.json()["api_secret_set"]
    workspace.refresh_from_db()
    assert workspace.cloudinary_api_secret.reveal() == cloud.credentials.api_secret


def test_malformed_input_gets_a_clear_400(client, cloud, workspace):
    api = _as(client, workspace, "master_admin")
    bad_name = api.put(_url(workspace), _creds(cloud, cloud_name="no spaces"),
                       content_type="application/json")  # fmt: skip
    assert bad_name.status_code == 400 and "Letters, digits" in bad_name.json()["detail"]
    no_secret = api.put(_url(workspace), _creds(cloud, api_secret=""),
                        content_type="application/json")  # fmt: skip
    assert no_secret.status_code == 400 and "API secret" in no_secret.json()["detail"]
    missing = api.put(_url(workspace), {}, content_type="application/json")
    assert missing.status_code == 400 and "cloud_name" in missing.json()


def test_users_view_but_may_not_test_or_change(client, cloud, workspace):
    api = _as(client, workspace, "user")
    assert api.get(_url(workspace)).json() == {"cloud_name": "", "api_key": "",
                                               "api_secret_set": False}  # fmt: skip
    for method, test in (("put", False), ("post", True)):
        response = getattr(api, method)(
            _url(workspace, test=test), _creds(cloud), content_type="application/json"
        )
        assert response.status_code == 403
        assert "To change the Cloudinary connection you need" in response.json()["detail"]


def test_another_workspace_is_not_found(client, cloud, workspace):
    api = _as(client, workspace, "master_admin")
    other = WorkspaceFactory()
    assert api.get(_url(other)).status_code == 404
    assert api.put(_url(other), _creds(cloud), content_type="application/json").status_code == 404
    test = api.post(_url(other, test=True), _creds(cloud), content_type="application/json")
    assert test.status_code == 404
