"""A run request's store list (issue 24, defect 5): ``{"stores": []}`` and a store that is not
one of the plan's (or upload batch's) stores the caller reaches — unknown, another workspace's,
or outside an API key's store — are a 400 naming it, and nothing starts; an omitted ``stores``
still means every store of the plan the caller reaches, a named one only that one."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from reports.models import Run
from stores import services as store_services
from tests.factories import (
    MemberFactory,
    PlanFactory,
    StoreFactory,
    UploadBatchFactory,
    WorkspaceFactory,
)
from tests.linking.runs.conftest import work


def _start_url(kind: str, workspace, stores) -> str:
    if kind == "plan":
        thing = PlanFactory(workspace=workspace, stores=stores, link_mode="append")
        return f"/api/plans/{thing.pk}/run/"
    thing = UploadBatchFactory(workspace=workspace)
    thing.stores.set(stores)
    return f"/api/uploads/{thing.pk}/start/"


@pytest.fixture
def world(db):
    workspace = WorkspaceFactory()
    a = StoreFactory(workspace=workspace, shop_domain="a-shop.myshopify.com")
    b = StoreFactory(workspace=workspace, shop_domain="b-shop.myshopify.com")
    StoreFactory(workspace=workspace, shop_domain="not-in-it.myshopify.com")
    StoreFactory(shop_domain="elsewhere.myshopify.com")  # another workspace's
    member = MemberFactory(workspace=workspace, role="user")
    client = APIClient()
    client.force_authenticate(member.user)
    return workspace, (a, b), client


@pytest.mark.parametrize("kind", ["plan", "upload"])
def test_an_empty_store_list_is_a_400_not_every_store(world, kind):
    workspace, stores, client = world
    response = client.post(_start_url(kind, workspace, stores), {"stores": []}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["stores"] == [
        "Name at least one store, or leave `stores` out for every store you reach."
    ]
    assert not Run.objects.exists()


@pytest.mark.parametrize("kind", ["plan", "upload"])
@pytest.mark.parametrize(
    "named", ["nope.myshopify.com", "elsewhere.myshopify.com", "not-in-it.myshopify.com", "99999"]
)
def test_a_store_not_of_the_plan_is_a_400_naming_it(world, kind, named):
    workspace, stores, client = world
    url = _start_url(kind, workspace, stores)
    response = client.post(url, {"stores": ["a-shop.myshopify.com", named]}, format="json")
    assert response.status_code == 400, response.content
    [message] = response.json()["stores"]
    assert message.startswith(f"{named} is not one of ") and "stores you can reach" in message
    assert not Run.objects.exists()


@pytest.mark.parametrize("kind", ["plan", "upload"])
def test_an_api_key_naming_another_store_of_the_plan_is_a_400(world, kind):
    workspace, (a, b), _ = world
    admin = MemberFactory(workspace=workspace, role="master_admin")
    _, token = store_services.api_key_create(user=admin.user, store=a, label="CI")
    key = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = key.post(
        _start_url(kind, workspace, [a, b]), {"stores": [b.shop_domain]}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["stores"][0].startswith(f"{b.shop_domain} is not one of ")
    assert not Run.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_named_store_runs_only_there_and_none_named_runs_every_store(sandbox, queue):
    from linking import services

    a, b = (sandbox.shop(products=4, media_per_product=1) for _ in (1, 2))
    data = {
        "expression": "folder:products/*",
        "stores": [a.shop_domain, b.shop_domain],
        "cloudinary_field": "metadata:sku",
        "shopify_field": "variant.sku",
        "link_mode": "append",
    }
    plan = services.plan_dry_run(
        plan=services.plan_create(user=None, workspace=sandbox.workspace, data=data)
    )
    client = APIClient()
    client.force_authenticate(MemberFactory(workspace=sandbox.workspace, role="user").user)

    named = client.post(f"/api/plans/{plan.pk}/run/", {"stores": [str(b.pk)]}, format="json")
    assert named.status_code == 202, named.content
    assert [r["store"] for r in named.json()] == [b.shop_domain]
    work(queue)
    every = client.post(f"/api/plans/{plan.pk}/run/", {}, format="json")
    assert every.status_code == 202, every.content
    assert [r["store"] for r in every.json()] == [a.shop_domain, b.shop_domain]
