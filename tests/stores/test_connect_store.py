"""Setup's "Connect a store": an admin starts the install bound to their workspace (the
state), approves on the shop's consent page, and the callback adds the store to that workspace.
A store of another workspace is refused, never moved. Tenancy: other workspaces 404, users 403."""

from __future__ import annotations

import pytest
import requests

from stores.models import Member, OAuthState, Store, Workspace
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory
from tests.stores.helpers import oauth_install, query_of

pytestmark = pytest.mark.django_db

SHOP = "demo-3.myshopify.com"


def _url(workspace) -> str:
    return f"/api/workspaces/{workspace.pk}/stores/connect/"


def _connect(client, workspace, shop=SHOP):
    return client.post(_url(workspace), {"shop": shop}, content_type="application/json")


def _approve_and_call_back(client, authorize_url: str):
    approved = requests.post(authorize_url, allow_redirects=False, timeout=10)
    assert approved.status_code == 302, approved.text
    return client.get("/shopify/callback", query_of(approved.headers["Location"]))


def test_an_admin_connects_a_store_to_their_workspace(client, shopify, admin_member):
    workspace = admin_member.workspace
    client.force_login(admin_member.user)

    started = _connect(client, workspace, "Demo-3")  # the myshopify.com suffix may be left off

    assert started.status_code == 200, started.content
    body = started.json()
    assert body["shop"] == SHOP
    assert body["authorize_url"].startswith(f"{shopify.url}/{SHOP}/admin/oauth/authorize?")
    state = OAuthState.objects.get(nonce=query_of(body["authorize_url"])["state"])
    assert state.workspace == workspace and state.user == admin_member.user
    assert started.cookies["assetlink_oauth_state"]["httponly"]
    consent = requests.get(body["authorize_url"], timeout=10)
    assert "Install AssetLink" in consent.text and SHOP in consent.text

    done = _approve_and_call_back(client, body["authorize_url"])

    assert done.status_code == 302 and done["Location"] == f"/?connected={SHOP}#setup"
    store = Store.objects.get(shop_domain=SHOP)
    assert store.workspace == workspace and store.is_installed and not store.awaiting_master_admin
    assert store.access_token.reveal().startswith("shpat_")
    assert Workspace.objects.count() == 1
    assert list(Member.objects.values_list("user", "role")) == [
        (admin_member.user.pk, "master_admin")
    ]
    listed = client.get("/api/workspaces/").json()
    assert SHOP in listed[0]["stores"]


def test_a_store_of_another_workspace_is_refused_with_a_clear_message(
    client, shopify, admin_member
):
    StoreFactory(shop_domain=SHOP, workspace=WorkspaceFactory(name="Someone else's"))
    client.force_login(admin_member.user)

    refused = _connect(client, admin_member.workspace)

    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "already connected to another AssetLink workspace" in detail
    assert "Someone else's" not in detail  # another tenant's name is not shown
    assert Store.objects.get(shop_domain=SHOP).workspace.name == "Someone else's"


def test_a_store_connected_elsewhere_meanwhile_is_refused_at_the_callback(
    client, shopify, admin_member
):
    client.force_login(admin_member.user)
    started = _connect(client, admin_member.workspace).json()
    other = WorkspaceFactory(name="Other")
    StoreFactory(shop_domain=SHOP, workspace=other)

    done = _approve_and_call_back(client, started["authorize_url"])

    assert done.status_code == 409
    assert b"already connected to another AssetLink workspace" in done.content
    assert Store.objects.get(shop_domain=SHOP).workspace == other


def test_reconnecting_an_uninstalled_store_restores_it_in_its_workspace(
    client, shopify, admin_member
):
    workspace = admin_member.workspace
    store = StoreFactory(shop_domain=SHOP, workspace=workspace)
    Store.objects.filter(pk=store.pk).update(uninstalled_at="2026-01-02T00:00Z")
    client.force_login(admin_member.user)

    started = _connect(client, workspace).json()
    _approve_and_call_back(client, started["authorize_url"])

    store.refresh_from_db()
    assert store.is_installed and store.workspace == workspace


def test_installing_from_shopify_for_an_unknown_shop_makes_a_new_workspace(
    client, shopify, admin_member
):
    client.force_login(admin_member.user)  # logged in, but the install starts at Shopify
    oauth_install(client, SHOP, shopify)
    store = Store.objects.get(shop_domain=SHOP)
    assert store.workspace != admin_member.workspace and store.workspace.name == "demo-3"
    assert Member.objects.get(workspace=store.workspace).role == "master_admin"


@pytest.mark.parametrize(
    ("shop", "message"),
    [("", "This field may not be blank."), ("evil.example.com", "myshopify.com domain")],
)
def test_a_bad_shop_gets_a_clear_400(client, admin_member, shop, message):
    client.force_login(admin_member.user)
    response = _connect(client, admin_member.workspace, shop)
    assert response.status_code == 400
    assert message in str(response.json())
    assert not OAuthState.objects.exists()


def test_users_may_not_connect_stores(client, user_member):
    client.force_login(user_member.user)
    response = _connect(client, user_member.workspace)
    assert response.status_code == 403
    assert "To connect stores you need one of the roles" in response.json()["detail"]
    assert not OAuthState.objects.exists()


def test_another_workspace_is_not_found(client, admin_member):
    client.force_login(admin_member.user)
    response = _connect(client, WorkspaceFactory())
    assert response.status_code == 404
    assert not OAuthState.objects.exists()


def test_an_admin_of_two_workspaces_connects_to_the_one_named(client, shopify, admin_member):
    second = MemberFactory(user=admin_member.user, role="master_admin").workspace
    client.force_login(admin_member.user)
    started = _connect(client, second).json()
    _approve_and_call_back(client, started["authorize_url"])
    assert Store.objects.get(shop_domain=SHOP).workspace == second


@pytest.mark.parametrize(
    ("role", "status"), [("user", 403), (None, 404)], ids=["demoted", "removed"]
)
def test_an_admin_demoted_or_removed_during_connect_cannot_complete_it(
    client, shopify, admin_member, role, status
):
    # The role is asked again at the callback: the state was made while still an admin.
    client.force_login(admin_member.user)
    started = _connect(client, admin_member.workspace).json()
    if role is None:
        Member.objects.filter(pk=admin_member.pk).delete()
    else:
        Member.objects.filter(pk=admin_member.pk).update(role=role)

    done = _approve_and_call_back(client, started["authorize_url"])

    assert done.status_code == status
    assert not Store.objects.filter(shop_domain=SHOP).exists()


@pytest.mark.parametrize("label", ["a" * 64, "a" * 64 + ".myshopify.com"], ids=["label", "domain"])
def test_connect_refuses_a_shop_domain_the_install_refuses(client, admin_member, label):
    # One shop-domain rule: a myshopify label is one DNS label (at most 63 characters).
    client.force_login(admin_member.user)
    response = _connect(client, admin_member.workspace, label)
    assert response.status_code == 400, response.content
    assert "myshopify.com domain" in response.json()["detail"]
    assert not OAuthState.objects.exists()
    assert _connect(client, admin_member.workspace, "a" * 63).status_code == 200  # the longest
