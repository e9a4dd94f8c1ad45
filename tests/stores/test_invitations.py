"""Invitations (issue 25, hole 3): a Master Admin invites by email or username; nobody joins a
workspace until the invitee, logged in as the account the invitation names, accepts its link.
The answer to the invite is the same whether or not an account has that name, and says nothing
of it; links that expired, were revoked or used answer a clear 4xx."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from stores.models import Invitation, Member, Role
from tests.factories import MemberFactory, UserFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _invite(user, workspace, who, role="user"):
    return _api(user).post(
        f"/api/workspaces/{workspace.pk}/members/", {"user": who, "role": role}, format="json"
    )


def _path(response) -> str:
    return "/" + response.json()["accept_url"].split("://", 1)[1].split("/", 1)[1]


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _shape(body: dict) -> dict:
    """The answer less what differs between any two invitations (ids, times, the link)."""
    return {k: v for k, v in body.items() if k not in ("id", "user", "created_at", "expires_at",
                                                       "accept_url")}  # fmt: skip


@pytest.fixture
def foreign():
    """A user of another workspace, by username and by email."""
    return MemberFactory(
        workspace=WorkspaceFactory(), role="master_admin", user=UserFactory(
            username="techadmin1", email="admin@example.com")).user  # fmt: skip


def test_unknown_and_foreign_names_get_the_same_answer_and_nobody_joins(admin_member, foreign):
    workspace = admin_member.workspace
    answers = [_invite(admin_member.user, workspace, who)
               for who in ("no-such-user", "techadmin1", "admin@example.com",
                           "nobody@example.com")]  # fmt: skip

    assert {a.status_code for a in answers} == {201}
    assert [set(a.json()) for a in answers] == [set(answers[0].json())] * 4
    usernames = [a.json()["user"] for a in answers]
    assert usernames == ["no-such-user", "techadmin1", "admin@example.com", "nobody@example.com"]
    by_name, by_email = _shape(answers[0].json()), _shape(answers[2].json())
    assert _shape(answers[1].json()) == by_name and _shape(answers[3].json()) == by_email
    assert by_name["detail"] == by_email["detail"] == "Invitation sent"
    assert b"techadmin1" not in answers[2].content  # the email's account is not named
    assert not Member.objects.filter(workspace=workspace).exclude(pk=admin_member.pk).exists()
    assert not get_user_model().objects.filter(email="nobody@example.com").exists()
    assert Invitation.objects.filter(workspace=workspace, accepted_at=None).count() == 4
    # Only a hash of the link's token is kept.
    token = answers[1].json()["accept_url"].rstrip("/").rsplit("/", 1)[1]
    assert not Invitation.objects.filter(token_hash__contains=token).exists()


def test_an_email_invitation_is_emailed_with_its_link(admin_member, foreign):
    answer = _invite(admin_member.user, admin_member.workspace, "admin@example.com")
    assert answer.json()["emailed"] is True
    assert [m.to for m in mail.outbox] == [["admin@example.com"]]
    assert answer.json()["accept_url"] in mail.outbox[0].body


def test_the_invitee_accepts_and_joins_with_the_role(admin_member, foreign):
    workspace = admin_member.workspace
    answer = _invite(admin_member.user, workspace, "TechAdmin1", "technical_admin")
    client = _logged_in(foreign)

    page = client.get(_path(answer))
    assert page.status_code == 200 and b"Accept and join" in page.content
    accepted = client.post(_path(answer))

    assert accepted.status_code == 302 and accepted["Location"] == "/"
    assert Member.objects.get(user=foreign, workspace=workspace).role == Role.TECHNICAL_ADMIN
    again = client.post(_path(answer))
    assert again.status_code == 410 and b"already been accepted" in again.content
    assert not Invitation.objects.pending().exists()


def test_an_invitation_by_email_is_accepted_by_the_account_with_that_address(admin_member, foreign):
    answer = _invite(admin_member.user, admin_member.workspace, "Admin@Example.com")
    assert _logged_in(foreign).post(_path(answer)).status_code == 302
    assert Member.objects.filter(user=foreign, workspace=admin_member.workspace).exists()


def test_someone_else_holding_the_link_cannot_accept_it(admin_member, foreign, user_member):
    answer = _invite(admin_member.user, admin_member.workspace, "techadmin1")
    for who in (admin_member.user, user_member.user, UserFactory()):
        refused = _logged_in(who).post(_path(answer))
        assert refused.status_code == 403 and b"for another account" in refused.content
    assert not Member.objects.filter(user=foreign, workspace=admin_member.workspace).exists()
    # Anonymous: log in first; an invitation by username offers no new account.
    anonymous = Client().post(_path(answer), {"username": "techadmin1", "password1": "x"})
    assert anonymous.status_code == 400
    assert not Member.objects.filter(user=foreign, workspace=admin_member.workspace).exists()


def test_a_new_person_creates_an_account_from_an_email_invitation(admin_member):
    answer = _invite(admin_member.user, admin_member.workspace, "new.person@example.com")
    client = Client()
    page = client.get(_path(answer))
    assert b"Log in to accept" in page.content and b"Create your account" in page.content
    password = "a-long-pass-2026"
    done = client.post(
        _path(answer), {"username": "newperson", "password1": password, "password2": password}
    )
    assert done.status_code == 302 and done["Location"] == "/"
    user = get_user_model().objects.get(username="newperson")
    assert user.email == "new.person@example.com" and user.check_password(password)
    assert Member.objects.get(user=user).workspace == admin_member.workspace
    assert client.get("/").status_code == 200  # logged in


@pytest.mark.parametrize("state", ["expired", "revoked", "replaced", "unknown"])
def test_expired_revoked_replaced_or_unknown_links_are_a_clear_4xx(admin_member, foreign, state):
    workspace = admin_member.workspace
    answer = _invite(admin_member.user, workspace, "techadmin1")
    path = _path(answer)
    invitation = Invitation.objects.get(pk=answer.json()["id"])
    if state == "expired":
        invitation.expires_at = timezone.now() - timedelta(seconds=1)
        invitation.save()
    elif state == "revoked":
        revoked = _api(admin_member.user).delete(
            f"/api/workspaces/{workspace.pk}/invitations/{invitation.pk}/"
        )
        assert revoked.status_code == 204
    elif state == "replaced":
        _invite(admin_member.user, workspace, "TECHADMIN1")
    else:
        path = path.rstrip("/")[:-4] + "abcd/"
    client = _logged_in(foreign)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == (404 if state == "unknown" else 410), state
        assert (b"not valid" if state == "unknown" else b"new invitation") in response.content
    assert not Member.objects.filter(user=foreign, workspace=workspace).exists()


def test_a_master_admin_lists_and_revokes_pending_invitations(admin_member):
    workspace = admin_member.workspace
    first = _invite(admin_member.user, workspace, "ana@example.com", "media_library_admin")
    _invite(admin_member.user, workspace, "bruno")
    api = _api(admin_member.user)
    url = f"/api/workspaces/{workspace.pk}/invitations/"

    listed = api.get(url).json()
    assert [(i["user"], i["role"], i["invited_by"]) for i in listed] == [
        ("bruno", "user", admin_member.user.username),
        ("ana@example.com", "media_library_admin", admin_member.user.username),
    ]
    assert "accept_url" not in listed[0]  # the link is shown once, at the invite
    assert api.delete(f"{url}{first.json()['id']}/").status_code == 204
    assert [i["user"] for i in api.get(url).json()] == ["bruno"]
    assert api.delete(f"{url}{first.json()['id']}/").status_code == 404  # no longer pending


@pytest.mark.parametrize("role", ["technical_admin", "media_library_admin", "user"])
def test_only_master_admins_invite_list_and_revoke(admin_member, role):
    workspace = admin_member.workspace
    invited = _invite(admin_member.user, workspace, "someone").json()
    actor = MemberFactory(workspace=workspace, role=role).user
    api = _api(actor)
    url = f"/api/workspaces/{workspace.pk}/invitations/"
    assert _invite(actor, workspace, "else@example.com").status_code == 403
    assert api.get(url).status_code == 403
    assert api.delete(f"{url}{invited['id']}/").status_code == 403
    assert Invitation.objects.pending().count() == 1


def test_a_master_admin_of_another_workspace_cannot_list_or_revoke(admin_member):
    workspace = admin_member.workspace
    invited = _invite(admin_member.user, workspace, "someone").json()
    stranger = MemberFactory(workspace=WorkspaceFactory(), role="master_admin").user
    api = _api(stranger)
    url = f"/api/workspaces/{workspace.pk}/invitations/"
    assert api.get(url).status_code == 404
    assert api.delete(f"{url}{invited['id']}/").status_code == 404
    assert _invite(stranger, workspace, "x@example.com").status_code == 404
    # Nor through their own workspace's URL.
    own = f"/api/workspaces/{stranger.memberships.get().workspace_id}/invitations/"
    assert api.delete(f"{own}{invited['id']}/").status_code == 404
    assert api.get(own).json() == []
    assert Invitation.objects.pending().count() == 1


def test_an_api_key_cannot_invite_and_a_session_token_acts_as_its_staff_role(admin_member, store):
    """As for every members' change: an API key acts as a User (403), a session token as the
    staff member's role in the workspace (permissions.require_master_admin)."""
    from stores import services
    from tests.stores.helpers import session_token

    workspace = admin_member.workspace
    pending = _invite(admin_member.user, workspace, "someone").json()
    _, key = services.api_key_create(user=admin_member.user, store=store, label="automation")
    staff = services.staff_arrive(store=store, shopify_user_id="7")
    token = session_token(store.shop_domain, sub="7")
    members = f"/api/workspaces/{workspace.pk}/members/"
    url = f"/api/workspaces/{workspace.pk}/invitations/"
    for role, client, expected in [
        ("api key", APIClient(HTTP_AUTHORIZATION=f"Bearer {key}"), 403),
        (Role.USER, APIClient(HTTP_AUTHORIZATION=f"Bearer {token}"), 403),
        (Role.MASTER_ADMIN, APIClient(HTTP_AUTHORIZATION=f"Bearer {token}"), 201),
    ]:
        Member.objects.filter(user=staff).update(role=role if role != "api key" else Role.USER)
        invited = client.post(members, {"user": "else@example.com"}, format="json")
        assert invited.status_code == expected, (role, invited.content)
        assert client.get(url).status_code == (200 if expected == 201 else 403)
    assert Invitation.objects.get(pk=pending["id"]).revoked_at is None
    assert not Member.objects.filter(user__email="else@example.com").exists()
