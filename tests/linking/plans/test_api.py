"""Plans through the HTTP API against both emulators: create, dry run, read the result."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory
from tests.linking.plans.conftest import api_dry_run

# Dry runs are RQ jobs, queued when the request's transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)
FULL = "?include=groups,rows&page_size=250"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def create(client, workspace, **data):
    return client.post(f"/api/workspaces/{workspace.pk}/plans/", data, format="json")


def gallery_assets(sandbox, sku: str) -> int:
    info = next(s for s in sandbox.skus() if s["sku"] == sku)
    return info["images"] + info["videos"]


@pytest.fixture
def store(sandbox):
    # Two SKUs of the library have no product: unmatched groups.
    return sandbox.shop(products=len(sandbox.skus()) - 2, media_per_product=2)


def _dry_run(member, sandbox, store, queue, **config):
    client = client_for(member.user)
    response = create(
        client,
        sandbox.workspace,
        expression="folder:products/*",
        stores=[store.shop_domain],
        cloudinary_field="metadata:sku",
        shopify_field="variant.sku",
        **config,
    )
    assert response.status_code == 201, response.json()
    plan_id = response.json()["id"]
    summary = api_dry_run(client, plan_id, queue)
    assert summary.status_code == 200, summary.json()
    result = client.get(f"/api/plans/{plan_id}/result/{FULL}").json()
    return plan_id, summary.json(), result[0]


def _product(result, sku: str):
    group = next(g for g in result["groups"] if g["value"] == sku)
    product_id = group["products"][0]["id"]
    return next(p for p in result["products"] if p["product_id"] == product_id)


@pytest.mark.parametrize(
    "mode, position",
    [("append", None), ("prepend", None), ("reset", None), ("overwrite", None), ("position", 2)],
)
def test_dry_run_shows_the_gallery_after_for_each_mode(
    sandbox, member, store, queue, mode, position
):
    config = {"link_mode": mode} | ({"position": position} if position else {})
    _, summary, result = _dry_run(member, sandbox, store, queue, **config)

    sku = "SKU-00002"  # 4 images and a swatch
    product = _product(result, sku)
    before = [m["media_id"] for m in product["before"]]
    after = product["after"]
    new = [m["media_id"] for m in after if m["new"]]
    kept = [m["media_id"] for m in after if not m["new"]]
    assert len(before) == 2 and len(new) == gallery_assets(sandbox, sku)
    assert all(m["thumbnail_url"] for m in product["before"] + after)
    ids = [m["media_id"] for m in after]
    expected = {
        "append": before + new,
        "prepend": new + before,
        "reset": new,
        "overwrite": new + before[len(new) :],
        "position": before[:1] + new + before[1:],
    }[mode]
    assert ids == expected
    assert kept == [m for m in before if m in ids]
    assert product["operations"]["creates"] and len(product["operations"]["creates"]) == len(new)
    # a variant-field match: the group's first image becomes the matched variant's image
    assert product["operations"]["variant_images"][0]["media_id"] == new[0]
    assert summary["stores"][0]["catalog_path"] == "search"
    assert summary["stores"][0]["galleries_path"] == "nodes"


def test_statistics_and_report_rows_cover_every_asset(sandbox, member, store, queue):
    plan_id, summary, result = _dry_run(member, sandbox, store, queue, link_mode="append")
    skus = sandbox.skus()
    stats = summary["stores"][0]["statistics"]
    assert stats["groups_matched"] == len(skus) - 2
    assert stats["groups_unmatched"] == 2
    assert stats["products_matched"] == len(skus) - 2
    assert summary["button"].startswith("Link ")

    client = client_for(member.user)
    assert client.get(f"/api/plans/{plan_id}/statistics/").json() == summary
    response = client.get(f"/api/plans/{plan_id}/report.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_action = {}
    for row in rows:
        by_action.setdefault(row["action"], []).append(row)
    assert len(by_action["unmatched"]) >= 2
    assert {r["group"] for r in by_action["unmatched"] if r["group"]} == {
        s["sku"] for s in skus[-2:]
    }
    assert by_action["created"] and all(r["store"] == store.shop_domain for r in rows)
    nothing_written = sandbox.shop_state(store.shop_domain)
    assert all(len(p["media"]) == 2 for p in nothing_written["products"])


def test_unresolved_asset_ids_are_report_rows(sandbox, member, store, queue):
    asset = sandbox.assets("metadata.sku=SKU-00003")[0]
    client = client_for(member.user)
    plan = create(
        client,
        sandbox.workspace,
        asset_ids=[asset["asset_id"], "0" * 32],
        stores=[store.shop_domain],
        cloudinary_field="metadata:sku",
        shopify_field="variant.sku",
        link_mode="append",
    ).json()
    summary = api_dry_run(client, plan["id"], queue).json()
    assert summary["unresolved_asset_ids"] == ["0" * 32]
    rows = client.get(f"/api/plans/{plan['id']}/result/{FULL}").json()[0]["rows"]
    assert any(r["asset_id"] == "0" * 32 and r["action"] == "skipped" for r in rows)
    assert summary["assets"] == 1 and summary["products"] == 1


def test_editing_a_plan_discards_its_dry_run(sandbox, member, store, queue):
    plan_id, _, _ = _dry_run(member, sandbox, store, queue, link_mode="append")
    client = client_for(member.user)
    response = client.patch(
        f"/api/plans/{plan_id}/", {"link_mode": "position", "position": 3}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "draft"
    assert client.get(f"/api/plans/{plan_id}/result/").json() == []


def test_setup_defaults_fill_what_the_plan_omits(sandbox, member, store):
    client = client_for(member.user)
    response = create(client, sandbox.workspace, expression="tags=ss26", stores=[store.pk])
    assert response.status_code == 201, response.json()
    plan = response.json()
    assert plan["cloudinary_field"] == "metadata:sku"
    assert plan["shopify_field"] == "variant.sku"
    assert plan["link_mode"] == "append"
    assert plan["order_field"] == "metadata:sequence_number"
    assert plan["alt_source"] == "keep_shopify"


# --- bad configurations -------------------------------------------------------------------


BASE = {
    "expression": "folder:products/*",
    "cloudinary_field": "metadata:sku",
    "shopify_field": "variant.sku",
    "link_mode": "append",
}


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"cloudinary_field": "metadata:no_such_field"}, "cloudinary_field", "no_such_field"),
        ({"cloudinary_field": "colour:sku"}, "cloudinary_field", "use one of"),
        ({"shopify_field": "variant.skoo"}, "shopify_field", "use one of"),
        ({"link_mode": "position", "position": 0}, "position", "start at 1"),
        ({"link_mode": "position"}, "position", "needs a position"),
        ({"order_field": "metadata:channels"}, "order_field", "set"),
        ({"expression": ""}, "asset_ids", "selection is empty"),
        ({"alt_source": "template", "alt_field": "{product.colour}"}, "alt_source", "placeholder"),
        ({"colour": "red"}, "colour", "Unknown plan field"),
    ],
)
def test_bad_configurations_name_the_field_and_the_fix(
    sandbox, member, store, change, field, words
):
    body = {**BASE, "stores": [store.shop_domain], **change}
    response = create(client_for(member.user), sandbox.workspace, **body)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field], errors
    assert words.lower() in errors[field][0].lower()


def test_a_selection_over_the_batch_size_limit_is_refused(sandbox, member, store):
    ids = [f"{n:032x}" for n in range(10_001)]
    body = {**BASE, "expression": "", "asset_ids": ids, "stores": [store.shop_domain]}
    response = create(client_for(member.user), sandbox.workspace, **body)
    assert response.status_code == 400
    message = response.json()["asset_ids"][0]
    assert "10,001 assets" in message and "10,000" in message


def test_a_store_of_another_workspace_is_not_found(sandbox, member):
    other = StoreFactory(workspace=WorkspaceFactory())
    body = {**BASE, "stores": [other.shop_domain]}
    response = create(client_for(member.user), sandbox.workspace, **body)
    assert response.status_code == 404


def test_plans_of_other_workspaces_are_not_found(sandbox, member, store, queue):
    plan_id, _, _ = _dry_run(member, sandbox, store, queue, link_mode="append")
    outsider = MemberFactory(role="master_admin").user
    client = client_for(outsider)
    for url in ("", "result/", "statistics/", "report.csv"):
        assert client.get(f"/api/plans/{plan_id}/{url}").status_code == 404
    assert client.post(f"/api/plans/{plan_id}/dry-run/").status_code == 404
    assert create(client, sandbox.workspace, **BASE, stores=[store.pk]).status_code == 404


def test_only_admins_override_the_transformation(sandbox, member, admin, store, queue):
    body = {**BASE, "stores": [store.shop_domain], "image_transformation": "c_fill,w_800"}
    refused = create(client_for(member.user), sandbox.workspace, **body)
    assert refused.status_code == 403
    assert "Master Admin" in refused.json()["detail"] and "User" in refused.json()["detail"]
    allowed = create(client_for(admin.user), sandbox.workspace, **body)
    assert allowed.status_code == 201
    summary = api_dry_run(client_for(admin.user), allowed.json()["id"], queue).json()
    assert summary["stores"][0]["error"] == ""
    result = client_for(admin.user).get(f"/api/plans/{allowed.json()['id']}/result/{FULL}").json()
    creates = [c for p in result[0]["products"] for c in p["operations"]["creates"]]
    images = [c for c in creates if c["media_type"] == "IMAGE"]
    assert images and all(c["transformation"] == "c_fill,w_800" for c in images)


def test_the_openapi_schema_documents_the_plan_endpoints(member):
    response = client_for(member.user).get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/plans/{plan_id}/dry-run/", "/api/workspaces/{workspace_id}/plans/"):
        assert path in text


def test_the_admin_lists_plans_and_downloads_their_report(sandbox, member, store, queue, client):
    plan_id, _, _ = _dry_run(member, sandbox, store, queue, link_mode="append")
    client.force_login(member.user)
    assert client.get("/admin/linking/plan/").status_code == 200
    assert client.get(f"/admin/linking/plan/{plan_id}/change/").status_code == 200
    response = client.get(f"/admin/linking/plan/{plan_id}/report.csv")
    assert response.status_code == 200 and b"unmatched" in b"".join(response.streaming_content)


def test_an_api_key_plans_for_its_own_store_only(sandbox, admin, store, queue):
    from stores import services as store_services

    other = sandbox.shop(products=1)
    _, token = store_services.api_key_create(user=admin.user, store=store, label="CI")
    client = APIClient()
    client.credentials(HTTP_X_ASSETLINK_KEY=token)
    mine = create(client, sandbox.workspace, **BASE, stores=[store.shop_domain])
    assert mine.status_code == 201, mine.json()
    assert api_dry_run(client, mine.json()["id"], queue).status_code == 200
    theirs = create(client, sandbox.workspace, **BASE, stores=[other.shop_domain])
    assert theirs.status_code == 404


def test_statistics_follow_a_new_dry_run(sandbox, member, store, queue):
    plan_id, summary, _ = _dry_run(member, sandbox, store, queue, link_mode="append")
    client = client_for(member.user)
    assert client.get(f"/api/plans/{plan_id}/statistics/").json() == summary
    sku = sandbox.skus()[0]["sku"]
    sandbox.add_asset({"public_id": "products/extra-1", "metadata": {"sku": sku}})
    again = api_dry_run(client, plan_id, queue).json()
    assert again["assets"] == summary["assets"] + 1
    assert client.get(f"/api/plans/{plan_id}/statistics/").json() == again


def test_the_old_spelling_of_keep_shopify_is_accepted_and_kept_as_the_one(sandbox, member, store):
    """Setup spelled Shopify's alt text `keep` until the sources became one enum; a plan sent
    with it is taken and spelled `keep_shopify`, like the default it stands for."""
    client = client_for(member.user)
    body = {**BASE, "stores": [store.pk], "alt_source": "keep"}
    response = create(client, sandbox.workspace, **body)
    assert response.status_code == 201, response.json()
    assert response.json()["alt_source"] == "keep_shopify"
