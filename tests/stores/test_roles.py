"""Admins change Setup; users view it and get a clear 403; strangers get 404."""

import pytest

from assetlink_project.errors import NotFoundError, PermissionDeniedError
from stores import permissions, services
from stores.models import Role
from tests.factories import MemberFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role,allowed",
    [
        (Role.MEDIA_LIBRARY_ADMIN, True),
        (Role.MASTER_ADMIN, True),
        (Role.TECHNICAL_ADMIN, True),
        (Role.USER, False),
    ],
)
def test_only_admin_roles_change_setup(workspace, role, allowed):
    member = MemberFactory(workspace=workspace, role=role)
    assert permissions.can_view_workspace(member.user, workspace)
    assert permissions.can_change_setup(member.user, workspace) is allowed


def test_admin_changes_setup_through_the_service(admin_user, workspace):
    setup = services.setup_update(
        user=admin_user, workspace=workspace, changes={"default_link_mode": "prepend"}
    )
    assert setup.default_link_mode == "prepend"


def test_user_is_refused_with_the_needed_role(plain_user, workspace):
    with pytest.raises(PermissionDeniedError, match="Master Admin") as info:
        services.setup_update(
            user=plain_user, workspace=workspace, changes={"case_sensitive": True}
        )
    assert "your role in" in info.value.message and "User" in info.value.message


def test_stranger_does_not_learn_the_workspace_exists(workspace):
    stranger = MemberFactory(workspace=WorkspaceFactory(), role="master_admin").user
    with pytest.raises(NotFoundError):
        services.setup_update(user=stranger, workspace=workspace, changes={})


def test_invalid_setup_is_rejected_with_field_messages(admin_user, workspace):
    from assetlink_project.errors import ApplicationError

    with pytest.raises(ApplicationError) as info:
        services.setup_update(
            user=admin_user,
            workspace=workspace,
            changes={"default_link_mode": "position", "default_position": None},
        )
    assert "default_position" in info.value.extra["errors"]
    workspace.settings.refresh_from_db()
    assert workspace.settings.default_link_mode == "append"


def test_api_user_gets_403_naming_the_role(client, plain_user, workspace):
    client.force_login(plain_user)
    url = f"/api/workspaces/{workspace.pk}/setup/"
    assert client.get(url).status_code == 200
    response = client.patch(url, {"default_link_mode": "reset"}, content_type="application/json")
    assert response.status_code == 403
    assert "Master Admin" in response.json()["detail"]


def test_api_admin_changes_setup_and_bad_values_get_400(client, admin_user, workspace):
    client.force_login(admin_user)
    url = f"/api/workspaces/{workspace.pk}/setup/"
    ok = client.patch(url, {"default_link_mode": "reset"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["default_link_mode"] == "reset"
    bad = client.patch(
        url,
        {"default_cloudinary_field": "sku", "batch_size_limit": 0, "bogus": 1},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "bogus" in bad.json()
    bad = client.patch(
        url,
        {"default_cloudinary_field": "sku", "batch_size_limit": 0},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"default_cloudinary_field", "batch_size_limit"}


def test_api_hides_other_workspaces(client, workspace):
    stranger = MemberFactory(workspace=WorkspaceFactory(), role="master_admin").user
    client.force_login(stranger)
    assert client.get(f"/api/workspaces/{workspace.pk}/setup/").status_code == 404
    names = [w["name"] for w in client.get("/api/workspaces/").json()]
    assert workspace.name not in names


def test_api_requires_login(client, workspace):
    assert client.get(f"/api/workspaces/{workspace.pk}/setup/").status_code in (401, 403)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/stores/workspace/",
        "/admin/stores/store/",
        "/admin/stores/member/",
        "/admin/stores/workspacesettings/",
        "/admin/stores/apikey/",
    ],
)
@pytest.mark.parametrize("role", ["master_admin", "user"])
def test_admin_pages_load_for_both_roles(client, workspace, store, role, path):
    member = MemberFactory(workspace=workspace, role=role)
    client.force_login(member.user)
    assert client.get(path).status_code == 200


def test_admin_setup_is_read_only_for_users(client, workspace, plain_user, admin_user):
    url = f"/admin/stores/workspacesettings/{workspace.settings.pk}/change/"
    client.force_login(plain_user)
    page = client.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(url, {"default_link_mode": "reset"}).status_code == 403
    client.force_login(admin_user)
    assert b'name="_save"' in client.get(url).content


def test_admin_refuses_users_without_membership(client, db):
    client.force_login(UserFactory())
    assert client.get("/admin/").status_code == 302
