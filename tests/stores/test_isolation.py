"""Tenant isolation: a login, session token or API key of one store/workspace can neither read
nor change another's data, and gets 404 for what it must not know exists."""

import pytest
from rest_framework.test import APIClient

from stores import services
from stores.models import ApiKey, Member, Role, Store, WorkspaceSettings
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory
from tests.stores.helpers import session_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def tenants():
    """Workspace A (stores a1, a2) and workspace B (store b), each with an admin, a user, a key."""
    out = {}
    for name in ("a", "b"):
        workspace = WorkspaceFactory(name=f"Workspace {name.upper()}")
        store = StoreFactory(workspace=workspace, shop_domain=f"shop-{name}1.myshopify.com")
        Store.objects.filter(pk=store.pk).update(installed_at="2026-01-01T00:00Z")
        store.refresh_from_db()
        admin = MemberFactory(workspace=workspace, role=Role.MASTER_ADMIN)
        user = MemberFactory(workspace=workspace, role=Role.USER)
        key, token = services.api_key_create(user=admin.user, store=store, label=f"key {name}")
        out[name] = {
            "workspace": workspace,
            "store": store,
            "admin": admin,
            "user": user,
            "key": key,
            "token": token,
        }
    second = StoreFactory(workspace=out["a"]["workspace"], shop_domain="shop-a2.myshopify.com")
    Store.objects.filter(pk=second.pk).update(installed_at="2026-01-01T00:00Z")
    out["a"]["store2"] = second
    out["a"]["key2"], _ = services.api_key_create(
        user=out["a"]["admin"].user, store=second, label="key a2"
    )
    # Staff of shop-a1 (session token) is an admin of A — and also, by a login-side grant, a
    # member of B: the session token must still reach A only.
    staff = services.staff_arrive(store=out["a"]["store"], shopify_user_id="100")
    Member.objects.filter(user=staff).update(role=Role.MASTER_ADMIN)
    Member.objects.create(user=staff, workspace=out["b"]["workspace"], role=Role.MASTER_ADMIN)
    return out


def _login(member):
    client = APIClient()
    client.force_authenticate(member.user)
    return client


def _principals(t):
    """Clients acting for tenant A in every way there is."""
    a = t["a"]
    return {
        "login-admin": _login(a["admin"]),
        "login-user": _login(a["user"]),
        "session-token": APIClient(
            HTTP_AUTHORIZATION=f"Bearer {session_token(a['store'].shop_domain, sub='100')}"
        ),
        "api-key": APIClient(HTTP_AUTHORIZATION=f"Bearer {a['token']}"),
        "api-key-header": APIClient(HTTP_X_ASSETLINK_KEY=a["token"]),
    }


PRINCIPALS = ["login-admin", "login-user", "session-token", "api-key", "api-key-header"]


def _foreign_requests(t):
    """Every endpoint, aimed at tenant B's objects (and at B's objects through A's URLs)."""
    b, a = t["b"], t["a"]
    ws, store, key, member = b["workspace"].pk, b["store"].pk, b["key"].pk, b["user"].pk
    return [
        ("get", f"/api/workspaces/{ws}/setup/", None),
        ("patch", f"/api/workspaces/{ws}/setup/", {"case_sensitive": True}),
        ("get", f"/api/workspaces/{ws}/members/", None),
        ("patch", f"/api/workspaces/{ws}/members/{member}/", {"role": "master_admin"}),
        ("patch", f"/api/workspaces/{a['workspace'].pk}/members/{member}/", {"role": "user"}),
        ("get", f"/api/stores/{store}/api-keys/", None),
        ("post", f"/api/stores/{store}/api-keys/", {"label": "intruder"}),
        ("delete", f"/api/stores/{store}/api-keys/{key}/", None),
        ("delete", f"/api/stores/{a['store'].pk}/api-keys/{key}/", None),
        ("get", "/api/workspaces/999999/setup/", None),
        ("get", "/api/stores/999999/api-keys/", None),
    ]


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_another_tenants_objects_are_404_and_unchanged(tenants, principal):
    client = _principals(tenants)[principal]
    setup_before = WorkspaceSettings.objects.get(workspace=tenants["b"]["workspace"]).case_sensitive
    for method, url, data in _foreign_requests(tenants):
        response = getattr(client, method)(url, data, format="json")
        assert response.status_code == 404, (principal, method, url, response.content)
        assert b"Workspace B" not in response.content
        assert b"shop-b1" not in response.content

    b = tenants["b"]
    assert WorkspaceSettings.objects.get(workspace=b["workspace"]).case_sensitive == setup_before
    assert ApiKey.objects.get(pk=b["key"].pk).is_active
    assert not ApiKey.objects.filter(label="intruder").exists()
    assert Member.objects.get(pk=b["user"].pk).role == Role.USER


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_listings_show_only_the_own_tenant(tenants, principal):
    client = _principals(tenants)[principal]
    workspaces = client.get("/api/workspaces/").json()
    assert [w["name"] for w in workspaces] == ["Workspace A"]
    assert "shop-b1.myshopify.com" not in str(workspaces)
    assert client.get("/api/session/").json()["workspaces"] == [tenants["a"]["workspace"].pk]


@pytest.mark.parametrize("principal", ["api-key", "api-key-header"])
def test_an_api_key_does_not_reach_other_stores_of_its_workspace(tenants, principal):
    client = _principals(tenants)[principal]
    a = tenants["a"]
    assert client.get(f"/api/stores/{a['store2'].pk}/api-keys/").status_code == 404
    revoke = client.delete(f"/api/stores/{a['store2'].pk}/api-keys/{a['key2'].pk}/")
    assert revoke.status_code == 404
    assert ApiKey.objects.get(pk=a["key2"].pk).is_active
    # Its own store: it knows it exists, but managing keys is for admins.
    assert client.get(f"/api/stores/{a['store'].pk}/api-keys/").status_code == 403


def test_own_tenant_admin_actions_work_for_admins(tenants):
    a = tenants["a"]
    for client in (_login(a["admin"]), _principals(tenants)["session-token"]):
        assert client.get(f"/api/stores/{a['store'].pk}/api-keys/").status_code == 200
        response = client.patch(
            f"/api/workspaces/{a['workspace'].pk}/setup/", {"case_sensitive": True}, format="json"
        )
        assert response.status_code == 200


def test_own_tenant_admin_actions_are_403_for_users(tenants):
    a = tenants["a"]
    client = _login(a["user"])
    response = client.patch(
        f"/api/workspaces/{a['workspace'].pk}/setup/", {"case_sensitive": True}, format="json"
    )
    assert response.status_code == 403


def test_pages_show_only_the_own_tenant(tenants, client, shopify):
    a = tenants["a"]
    client.force_login(a["admin"].user)
    page = client.get("/")
    assert page.status_code == 200
    assert b"Workspace A" in page.content and b"shop-a1.myshopify.com" in page.content
    assert b"Workspace B" not in page.content and b"shop-b1" not in page.content

    embedded = client.get(
        "/",
        {
            "embedded": "1",
            "shop": a["store"].shop_domain,
            "id_token": session_token(a["store"].shop_domain, sub="100"),
        },
    )
    assert embedded.status_code == 200
    assert b"shop-a1.myshopify.com" in embedded.content
    # The staff account is also a member of B, but a session token of shop-a1 shows shop-a1.
    assert b"Workspace B" not in embedded.content and b"shop-b1" not in embedded.content
    assert b"shop-a2" not in embedded.content


def test_a_session_token_of_one_shop_never_acts_as_anothers_staff(tenants):
    b = tenants["b"]
    token = session_token(b["store"].shop_domain, sub="100")  # same staff id, other shop
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/session/")
    assert response.status_code == 200
    assert response.json()["workspaces"] == [b["workspace"].pk]
    assert (
        response.json()["user"]
        != _principals(tenants)["session-token"].get("/api/session/").json()["user"]
    )
    # and arrives in B as a plain user
    assert Member.objects.get(user__username=response.json()["user"]).role == Role.USER
