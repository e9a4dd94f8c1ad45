"""Values that exist in Shopify match (issue 24, defect 7): with no separator a comma is part of
the value, surrounding whitespace is trimmed on both sides, and values of any length match."""

from __future__ import annotations

import pytest
import requests

from linking import services

pytestmark = pytest.mark.django_db(transaction=True)

LONG = "L" * 300 + "-01"


def _shop_with_skus(sandbox, skus: list[str]):
    store = sandbox.shop(products=0)
    for n, sku in enumerate(skus, 1):
        r = requests.post(
            f"{sandbox.shopify_url}/_control/shops/{store.shop_domain}/seed",
            json={"products": 1, "start": 500 + n, "sku_pattern": sku.replace("{", "{{"),
                  "media_per_product": 1},
            timeout=10,
        )  # fmt: skip
        r.raise_for_status()
    return store


def _asset(sandbox, public_id: str, sku: str) -> str:
    return sandbox.add_asset({"public_id": f"exact/{public_id}", "metadata": {"sku": sku}})[
        "asset"
    ]["asset_id"]


def _dry_run(sandbox, store, ids):
    plan = services.plan_create(
        user=None,
        workspace=sandbox.workspace,
        data={"asset_ids": ids, "stores": [store.shop_domain],
              "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku"},
    )  # fmt: skip
    result = services.plan_dry_run(plan=plan).results.get(store=store)
    assert not result.error, result.error
    return result, {g["value"]: len(g["products"]) for g in result.groups}


SHOPIFY = ["A,B-01", "  SP-01  ", LONG, "A"]
CLOUD = {"comma": "A,B-01", "spaced": "SP-01", "long": LONG, "padded": "  A "}


@pytest.mark.parametrize("fresh_index", [False, True])
def test_values_shopify_has_are_matched_exactly(sandbox, fresh_index):
    store = _shop_with_skus(sandbox, SHOPIFY)
    ids = [_asset(sandbox, name, sku) for name, sku in CLOUD.items()]
    if fresh_index:  # a catalog index refreshed just now: the dry run matches against it
        from linking.catalog import refresh_catalog
        from reports.engine import default_client

        refresh_catalog(store, default_client(store))

    result, matched = _dry_run(sandbox, store, ids)

    assert matched == {"A,B-01": 1, "SP-01": 1, LONG: 1, "A": 1}, matched
    assert result.catalog_path == "index"
    if not fresh_index:  # Shopify's search reads a comma as a list: the index is exact
        assert "comma" in result.catalog_reason


def test_search_finds_values_with_surrounding_whitespace_and_long_values(sandbox):
    store = _shop_with_skus(sandbox, SHOPIFY)
    ids = [_asset(sandbox, name, sku) for name, sku in CLOUD.items() if name != "comma"]

    result, matched = _dry_run(sandbox, store, ids)

    assert result.catalog_path == "search", result.catalog_reason
    assert matched == {"SP-01": 1, LONG: 1, "A": 1}, matched


def test_manage_links_filters_by_a_group_value_with_a_comma_or_over_255_characters(sandbox, queue):
    """``?group=`` takes each value whole (a comma is part of it), ``group=`` repeated for
    several, the old single value as before; a value over 255 characters can be selected."""
    from rest_framework.test import APIClient

    from linking import runs
    from reports.models import Run
    from tests.factories import MemberFactory
    from tests.linking.runs.conftest import work

    store = _shop_with_skus(sandbox, SHOPIFY)
    ids = [_asset(sandbox, name, sku) for name, sku in CLOUD.items()]
    result, _ = _dry_run(sandbox, store, ids)
    run = runs.run_start_from_plan(plan=result.plan, store=store)
    work(queue)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    asset = dict(zip(CLOUD, ids, strict=True))
    client = APIClient()
    client.force_login(MemberFactory(workspace=sandbox.workspace, role="user").user)
    url = f"/api/workspaces/{sandbox.workspace.pk}/links/"

    def listed(query: str) -> set[str]:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, response.content
        return {link["asset_id"] for link in response.json()["links"]}

    assert listed("group=A%2CB-01") == {asset["comma"]}
    assert listed("group=A%2CB-01&group=sp-01") == {asset["comma"], asset["spaced"]}
    assert listed("group=SP-01") == {asset["spaced"]}  # one value, as before
    assert listed("group=A") == {asset["padded"]}  # not the comma's "A"
    assert listed(f"group={LONG}") == {asset["long"]}

    # The actions take the same values (a 202, not a 400 for its length).
    response = client.post(
        f"{url}unlink/", {"stores": [store.shop_domain], "groups": [LONG]}, format="json"
    )
    assert response.status_code == 202, response.content
    work(queue)
    assert listed(f"group={LONG}") == set()
    assert listed("group=A%2CB-01") == {asset["comma"]}
