"""The Link tab's store choice: none ticked until the user ticks one, then each user's last
choice per workspace, within what the request reaches (GET/PUT /api/workspaces/<id>/link-stores/)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from stores import services
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory
from tests.stores.helpers import session_token

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def world():
    ws = WorkspaceFactory(name="Demo")
    s1, s2 = StoreFactory(workspace=ws), StoreFactory(workspace=ws)
    alice, bob = MemberFactory(workspace=ws).user, MemberFactory(workspace=ws).user
    return ws, s1, s2, alice, bob


def test_no_store_is_chosen_before_the_user_ticks_one(world):
    ws, *_, alice, _ = world
    response = _client(alice).get(f"/api/workspaces/{ws.pk}/link-stores/")
    assert response.status_code == 200
    assert response.json() == {"stores": []}


def test_each_user_has_their_own_last_choice_per_workspace(world):
    ws, s1, s2, alice, bob = world
    other = WorkspaceFactory()
    o1 = StoreFactory(workspace=other)
    MemberFactory(workspace=other, user=alice)
    url = f"/api/workspaces/{ws.pk}/link-stores/"
    put = _client(alice).put(url, {"stores": [s2.shop_domain]}, format="json")
    assert put.status_code == 200, put.content
    assert put.json() == {"stores": [s2.shop_domain]}
    _client(alice).put(
        f"/api/workspaces/{other.pk}/link-stores/", {"stores": [o1.shop_domain]}, format="json"
    )
    assert _client(alice).get(url).json() == {"stores": [s2.shop_domain]}
    assert _client(bob).get(url).json() == {"stores": []}
    # Unticking every store is a choice too.
    assert _client(alice).put(url, {"stores": []}, format="json").json() == {"stores": []}
    assert _client(alice).get(url).json() == {"stores": []}
    assert _client(alice).get(f"/api/workspaces/{other.pk}/link-stores/").json() == {
        "stores": [o1.shop_domain]
    }


def test_a_store_uninstalled_since_is_not_ticked_and_cannot_be(world):
    ws, s1, s2, alice, _ = world
    url = f"/api/workspaces/{ws.pk}/link-stores/"
    _client(alice).put(url, {"stores": [s1.shop_domain, s2.shop_domain]}, format="json")
    s2.uninstalled_at = timezone.now()
    s2.save()
    assert _client(alice).get(url).json() == {"stores": [s1.shop_domain]}
    refused = _client(alice).put(url, {"stores": [s2.shop_domain]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["field"] == "stores" and "uninstalled" in refused.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [{"stores": "shop.myshopify.com"}, {"stores": [1, {"x": 1}]}, ["a"], {"stores": [], "x": 1}],
)
def test_bad_input_is_a_400(world, body):
    ws, *_, alice, _ = world
    response = _client(alice).put(f"/api/workspaces/{ws.pk}/link-stores/", body, format="json")
    assert response.status_code == 400, response.content


def test_a_store_of_another_workspace_is_a_404(world):
    ws, *_, alice, _ = world
    foreign = StoreFactory()
    url = f"/api/workspaces/{ws.pk}/link-stores/"
    response = _client(alice).put(url, {"stores": [foreign.shop_domain]}, format="json")
    assert response.status_code == 404
    assert foreign.workspace.name not in response.content.decode()


def test_a_session_token_keeps_the_choice_of_stores_it_does_not_reach(world):
    ws, s1, s2, alice, _ = world
    staff = services.staff_arrive(store=s1, shopify_user_id="77")
    url = f"/api/workspaces/{ws.pk}/link-stores/"
    _client(staff).put(url, {"stores": [s1.shop_domain, s2.shop_domain]}, format="json")
    embedded = APIClient(HTTP_AUTHORIZATION=f"Bearer {session_token(s1.shop_domain, sub='77')}")
    assert embedded.get(url).json() == {"stores": [s1.shop_domain]}
    assert embedded.put(url, {"stores": []}, format="json").json() == {"stores": []}
    # s2, beyond the token's reach, is still remembered for the workspace login.
    assert _client(staff).get(url).json() == {"stores": [s2.shop_domain]}
    assert embedded.put(url, {"stores": [s2.shop_domain]}, format="json").status_code == 404
