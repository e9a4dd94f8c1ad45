"""API keys over HTTP: admins create, list and revoke them; a key authenticates as its store."""

import pytest
from rest_framework.test import APIClient

from stores.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_api(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    return client


def _create(api, store, label="PIM"):
    return api.post(f"/api/stores/{store.pk}/api-keys/", {"label": label}, format="json")


def test_admin_creates_a_key_whose_secret_is_shown_once(admin_api, store):
    response = _create(admin_api, store)
    assert response.status_code == 201
    token = response.json()["token"]
    assert token.startswith("al_")
    assert response.json()["store"] == store.shop_domain

    listed = admin_api.get(f"/api/stores/{store.pk}/api-keys/")
    assert listed.status_code == 200
    assert [k["label"] for k in listed.json()] == ["PIM"]
    assert token not in listed.content.decode()
    assert "token" not in listed.json()[0]
    assert token.split("_", 2)[2] not in ApiKey.objects.get().secret_hash


@pytest.mark.parametrize("how", ["bearer", "header"])
def test_a_key_authenticates_as_its_store_and_records_use(admin_api, store, how):
    token = _create(admin_api, store).json()["token"]
    headers = (
        {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if how == "bearer"
        else {"HTTP_X_ASSETLINK_KEY": token}
    )
    response = APIClient().get("/api/session/", **headers)
    assert response.status_code == 200
    assert response.json() == {
        "user": response.json()["user"],
        "method": "api_key",
        "store": store.shop_domain,
        "workspaces": [store.workspace_id],
    }
    assert ApiKey.objects.get().last_used_at is not None


def test_a_revoked_key_gets_401_without_the_app_bridge_retry_header(admin_api, store):
    created = _create(admin_api, store).json()
    revoked = admin_api.delete(f"/api/stores/{store.pk}/api-keys/{created['id']}/")
    assert revoked.status_code == 200 and revoked.json()["is_active"] is False

    response = APIClient().get("/api/workspaces/", HTTP_AUTHORIZATION=f"Bearer {created['token']}")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    assert "X-Shopify-Retry-Invalid-Session-Request" not in response


def test_a_forged_key_gets_401(store):
    response = APIClient().get("/api/workspaces/", HTTP_X_ASSETLINK_KEY="al_abcdef123456_nope")
    assert response.status_code == 401


def test_users_are_told_which_role_manages_keys(plain_user, store):
    api = APIClient()
    api.force_authenticate(plain_user)
    for response in (_create(api, store), api.get(f"/api/stores/{store.pk}/api-keys/")):
        assert response.status_code == 403
        assert "Master Admin" in response.json()["detail"]
        assert "User" in response.json()["detail"]


def test_a_key_reads_its_workspace_but_cannot_administer_it(admin_api, store):
    token = _create(admin_api, store).json()["token"]
    key_api = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert key_api.get(f"/api/workspaces/{store.workspace_id}/setup/").status_code == 200
    change = key_api.patch(
        f"/api/workspaces/{store.workspace_id}/setup/", {"case_sensitive": True}, format="json"
    )
    assert change.status_code == 403 and "API key" in change.json()["detail"]
    assert _create(key_api, store).status_code == 403
    assert key_api.get(f"/api/stores/{store.pk}/api-keys/").status_code == 403


def test_a_label_is_required(admin_api, store):
    assert _create(admin_api, store, label="").status_code == 400
    assert _create(admin_api, store, label="x" * 101).status_code == 400
