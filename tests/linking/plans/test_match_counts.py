"""Live match counts (`POST /api/workspaces/<id>/match/`): per store and per group, through the
catalog index, the same statistics the dry run gives, without reading a gallery."""

from __future__ import annotations

import pytest
import requests
from rest_framework.test import APIClient

from tests.factories import MemberFactory
from tests.linking.plans.conftest import api_dry_run


@pytest.fixture
def store(sandbox):
    # Two SKUs of the library have no product: unmatched groups.
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)


def _calls(sandbox, store) -> list[dict]:
    url = f"{sandbox.shopify_url}/_control/shops/{store.shop_domain}/calls"
    return requests.get(url, timeout=10).json()["calls"]


@pytest.mark.django_db(transaction=True)
def test_match_counts_equal_the_dry_runs_statistics_without_reading_galleries(
    sandbox, store, queue
):
    member = MemberFactory(workspace=sandbox.workspace, role="user")
    client = APIClient()
    client.force_authenticate(member.user)
    created = client.post(
        f"/api/workspaces/{sandbox.workspace.pk}/plans/",
        {"expression": "folder:products/*", "stores": [store.shop_domain],
         "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku"},
        format="json",
    )  # fmt: skip
    plan_id = created.json()["id"]
    summary = api_dry_run(client, plan_id, queue).json()
    result = client.get(f"/api/plans/{plan_id}/result/?include=groups").json()[0]
    groups = {g["value"]: g["assets"] for g in result["groups"]}
    groups["NO-SUCH-SKU"] = ["x1"]
    before = len(_calls(sandbox, store))

    response = client.post(
        f"/api/workspaces/{sandbox.workspace.pk}/match/",
        {"stores": [store.shop_domain], "shopify_field": "variant.sku", "groups": groups},
        format="json",
    )

    assert response.status_code == 200, response.content
    data = response.json()
    (entry,) = data["stores"]
    assert not entry["error"], entry
    expected = summary["stores"][0]["statistics"]
    assert entry["statistics"]["products_matched"] == expected["products_matched"]
    assert entry["statistics"]["groups_matched"] == expected["groups_matched"]
    assert entry["statistics"]["groups_unmatched"] == expected["groups_unmatched"] + 1
    assert entry["groups"]["NO-SUCH-SKU"] == 0
    assert all(entry["groups"][g["value"]] == len(g["products"]) for g in result["groups"])
    assert data["groups"] == summary["groups"] and data["assets"] == summary["assets"]
    assert data["button"] == summary["button"]
    assert data["button"].startswith(f"Link {data['assets']} assets in {data['groups']} groups")
    # The index is fresh after the dry run: no Shopify call at all, so no gallery read.
    new_calls = _calls(sandbox, store)[before:]
    assert not any("media" in " ".join(c["fields"]).lower() for c in new_calls), new_calls


def test_match_counts_say_singular_and_refuse_bad_input(sandbox, store):
    member = MemberFactory(workspace=sandbox.workspace, role="user")
    client = APIClient()
    client.force_authenticate(member.user)
    url = f"/api/workspaces/{sandbox.workspace.pk}/match/"
    one = client.post(
        url,
        {"stores": [store.shop_domain], "shopify_field": "variant.sku",
         "groups": {"SKU-00001": ["a1"]}},
        format="json",
    )  # fmt: skip
    assert one.status_code == 200, one.content
    assert one.json()["button"] == "Link 1 asset in 1 group to 1 product"
    bad_field = client.post(
        url, {"stores": [store.shop_domain], "shopify_field": "variant.nope", "groups": {}},
        format="json",
    )  # fmt: skip
    assert bad_field.status_code == 400 and "shopify_field" in bad_field.json()
    no_stores = client.post(
        url, {"stores": [], "shopify_field": "variant.sku", "groups": {}}, format="json"
    )
    assert no_stores.status_code == 400
    other = APIClient()
    other.force_authenticate(MemberFactory().user)
    hidden = other.post(
        url, {"stores": [store.shop_domain], "shopify_field": "variant.sku", "groups": {}},
        format="json",
    )  # fmt: skip
    assert hidden.status_code == 404
