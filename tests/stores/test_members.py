"""Members in Setup: a Master Admin invites by email or username (test_invitations), changes
roles and removes members; the last Master Admin can be neither demoted nor removed — through the API and the
Django admin (the same service). Tenancy: other workspaces 404, other roles 403."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from stores.models import Invitation, Member, Role
from tests.factories import MemberFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _members_url(workspace) -> str:
    return f"/api/workspaces/{workspace.pk}/members/"


def _invite(api, workspace, user, role="user"):
    return api.post(_members_url(workspace), {"user": user, "role": role}, format="json")


@pytest.mark.parametrize(
    ("user", "message"),
    [("", "blank"), ("x" * 255, "no more than 254")],
)
def test_bad_invitations_get_a_clear_400(admin_member, user, message):
    response = _invite(_api(admin_member.user), admin_member.workspace, user)
    assert response.status_code == 400 and message in str(response.json())


def test_inviting_a_member_again_says_they_are_one(admin_member, user_member):
    response = _invite(_api(admin_member.user), admin_member.workspace, user_member.user.email)
    assert response.status_code == 400 and "already a member" in response.json()["detail"]


def test_a_master_admin_removes_a_member(admin_member, user_member):
    api = _api(admin_member.user)
    response = api.delete(f"{_members_url(user_member.workspace)}{user_member.pk}/")
    assert response.status_code == 204
    assert not Member.objects.filter(pk=user_member.pk).exists()


def test_the_last_master_admin_can_be_neither_removed_nor_demoted(admin_member):
    api = _api(admin_member.user)
    url = f"{_members_url(admin_member.workspace)}{admin_member.pk}/"
    removed = api.delete(url)
    demoted = api.patch(url, {"role": "user"}, format="json")
    assert removed.status_code == demoted.status_code == 400
    assert "needs at least one Master Admin" in removed.json()["detail"]
    assert "needs at least one Master Admin" in demoted.json()["detail"]
    assert Member.objects.get(pk=admin_member.pk).role == Role.MASTER_ADMIN
    # With a second Master Admin, the first may go.
    MemberFactory(workspace=admin_member.workspace, role="master_admin")
    assert api.delete(url).status_code == 204


@pytest.mark.parametrize("role", ["technical_admin", "media_library_admin", "user"])
def test_only_master_admins_invite_and_remove(workspace, admin_member, user_member, role):
    actor = MemberFactory(workspace=workspace, role=role).user
    api = _api(actor)
    invited = _invite(api, workspace, "someone@example.com")
    removed = api.delete(f"{_members_url(workspace)}{user_member.pk}/")
    assert invited.status_code == removed.status_code == 403
    assert "Master Admin" in invited.json()["detail"]
    assert Member.objects.filter(pk=user_member.pk).exists()
    assert not get_user_model().objects.filter(email="someone@example.com").exists()
    assert not Invitation.objects.exists()


def test_another_workspace_is_not_found(admin_member):
    other = WorkspaceFactory()
    stranger = MemberFactory(workspace=other, role="user")
    api = _api(admin_member.user)
    assert api.get(_members_url(other)).status_code == 404
    assert _invite(api, other, "someone@example.com").status_code == 404
    assert api.delete(f"{_members_url(other)}{stranger.pk}/").status_code == 404
    # A member id of another workspace under one's own is not found either.
    assert api.delete(f"{_members_url(admin_member.workspace)}{stranger.pk}/").status_code == 404
    assert Member.objects.filter(pk=stranger.pk).exists()


def test_the_django_admin_keeps_the_last_master_admin(client, admin_member, user_member):
    client.force_login(admin_member.user)
    url = f"/admin/stores/member/{admin_member.pk}/delete/"
    refused = client.post(url, {"post": "yes"}, follow=True)
    assert b"needs at least one Master Admin" in refused.content
    assert Member.objects.filter(pk=admin_member.pk).exists()
    other = f"/admin/stores/member/{user_member.pk}/delete/"
    assert client.post(other, {"post": "yes"}).status_code == 302
    assert not Member.objects.filter(pk=user_member.pk).exists()
    listing = client.get("/admin/stores/member/")
    assert b"delete_selected" not in listing.content  # no bulk delete around the rule
