"""Staff arrive as users; admins change roles; the last Master Admin stays."""

import pytest
from rest_framework.test import APIClient

from stores import services
from stores.models import Member, Role
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _set_role(api, member, role):
    return api.patch(
        f"/api/workspaces/{member.workspace_id}/members/{member.pk}/", {"role": role}, format="json"
    )


def test_members_are_listed_for_members(admin_user, user_member, workspace):
    response = _api(user_member.user).get(f"/api/workspaces/{workspace.pk}/members/")
    assert response.status_code == 200
    assert {m["role"] for m in response.json()} == {"master_admin", "user"}


@pytest.mark.parametrize("role", ["technical_admin", "media_library_admin", "master_admin"])
def test_master_admin_changes_roles(admin_user, user_member, role):
    response = _set_role(_api(admin_user), user_member, role)
    assert response.status_code == 200
    assert Member.objects.get(pk=user_member.pk).role == role


def test_a_user_is_told_which_roles_may_change_roles(plain_user, admin_member):
    response = _set_role(_api(plain_user), admin_member, "user")
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "change roles" in detail and "Technical Admin" in detail and "your role" in detail
    assert Member.objects.get(pk=admin_member.pk).role == Role.MASTER_ADMIN


def test_only_a_master_admin_grants_or_removes_master_admin(workspace, admin_member, user_member):
    technical = MemberFactory(workspace=workspace, role=Role.TECHNICAL_ADMIN)
    api = _api(technical.user)
    for target, role in ((user_member, "master_admin"), (admin_member, "user")):
        response = _set_role(api, target, role)
        assert response.status_code == 403
        assert "Master Admin" in response.json()["detail"]
    assert _set_role(api, user_member, "media_library_admin").status_code == 200


def test_the_last_master_admin_cannot_be_demoted(admin_member, user_member):
    api = _api(admin_member.user)
    response = _set_role(api, admin_member, "user")
    assert response.status_code == 400
    assert "at least one Master Admin" in response.json()["detail"]
    assert _set_role(api, user_member, "master_admin").status_code == 200
    assert _set_role(api, admin_member, "user").status_code == 200


def test_unknown_roles_and_empty_changes_are_refused(admin_user, user_member):
    api = _api(admin_user)
    assert _set_role(api, user_member, "owner").status_code == 400
    empty = api.patch(
        f"/api/workspaces/{user_member.workspace_id}/members/{user_member.pk}/", {}, format="json"
    )
    assert empty.status_code == 400


def test_staff_arrival_keeps_a_changed_role(store):
    store.awaiting_master_admin = True
    store.save()
    first = services.staff_arrive(store=store, shopify_user_id="1")
    second = services.staff_arrive(store=store, shopify_user_id="2")
    member = Member.objects.get(user=second)
    services.member_role_change(user=first, member=member, role=Role.TECHNICAL_ADMIN)
    assert services.staff_arrive(store=store, shopify_user_id="2") == second
    assert Member.objects.get(user=second).role == Role.TECHNICAL_ADMIN
    assert Member.objects.get(user=first).role == Role.MASTER_ADMIN


def test_the_django_admin_applies_the_same_role_rules(client, workspace, admin_member):
    technical = MemberFactory(workspace=workspace, role=Role.TECHNICAL_ADMIN)
    url = f"/admin/stores/member/{admin_member.pk}/change/"
    form = {"user": admin_member.user_id, "workspace": workspace.pk, "role": "user"}

    client.force_login(admin_member.user)
    page = client.post(url, form)
    assert page.status_code == 200 and b"at least one Master Admin" in page.content

    client.force_login(technical.user)
    page = client.post(url, form)
    assert page.status_code == 200 and b"you need the role Master Admin" in page.content
    assert Member.objects.get(pk=admin_member.pk).role == Role.MASTER_ADMIN

    tech_url = f"/admin/stores/member/{technical.pk}/change/"
    tech_form = {
        "user": technical.user_id,
        "workspace": workspace.pk,
        "role": "media_library_admin",
    }
    assert client.post(tech_url, tech_form).status_code == 302
    assert Member.objects.get(pk=technical.pk).role == Role.MEDIA_LIBRARY_ADMIN
