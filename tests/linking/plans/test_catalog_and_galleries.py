"""Catalog access (search vs bulk-exported index, incremental refresh), galleries before (nodes
vs bulk), and link records making earlier media S-media."""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.transformations import normalise_transformation
from linking import catalog as catalog_module
from linking import galleries as galleries_module
from linking import services
from linking.core import ShopifyFieldKind, parse_shopify_field
from linking.models import LinkRecord, StoreCatalog
from stores.clients import shopify_client
from stores.shopify import operations as ops


def plan_for(sandbox, member, store, **config):
    data = {
        "expression": "folder:products/*",
        "stores": [store.shop_domain],
        "cloudinary_field": "metadata:sku",
        "shopify_field": "variant.sku",
        "link_mode": "append",
        **config,
    }
    return services.plan_create(user=member.user, workspace=sandbox.workspace, data=data)


def test_search_query_quotes_and_escapes_values():
    query = catalog_module.search_query(ShopifyFieldKind.VARIANT_SKU, ["AB-1", 'say "hi"', "a\\b"])
    assert query == 'sku:"AB-1" OR sku:"say \\"hi\\"" OR sku:"a\\\\b"'
    ids = catalog_module.search_query(
        ShopifyFieldKind.PRODUCT_ID, ["gid://shopify/Product/12", "x"]
    )
    assert ids == "id:12"


def test_many_values_are_batched_and_hits_rechecked_exactly(sandbox, member, monkeypatch):
    monkeypatch.setattr(catalog_module, "VALUES_PER_QUERY", 4)
    store = sandbox.shop(products=len(sandbox.skus()), media_per_product=0)
    plan = services.plan_dry_run(plan=plan_for(sandbox, member, store))
    result = plan.results.get()
    assert result.catalog_path == "search"
    n = len(sandbox.skus())
    searches = [c for c in sandbox.calls(store.shop_domain) if "ProductVariantsSearch" in str(c)]
    assert len(searches) == -(-n // 4)
    assert result.statistics["groups_matched"] == n


def test_product_field_search_by_handle(sandbox, member):
    store = sandbox.shop(products=2, media_per_product=1)
    handles = [p["handle"] for p in sandbox.shop_state(store.shop_domain)["products"]]
    asset = sandbox.assets("metadata.sku=SKU-00001")[0]
    sandbox.add_asset({"public_id": asset["public_id"], "context": {"handle": handles[1]}})
    plan = plan_for(
        sandbox, member, store, cloudinary_field="context:handle", shopify_field="product.handle"
    )
    result = services.plan_dry_run(plan=plan).results.get()
    assert result.catalog_path == "search"
    assert result.statistics["products_matched"] == 1
    assert result.products[0]["handle"] == handles[1]


def test_metafield_matches_use_the_bulk_exported_index_refreshed_incrementally(sandbox, member):
    n = len(sandbox.skus())
    store = sandbox.shop(
        products=n,
        media_per_product=1,
        sku_pattern="OTHER-{n}",
        metafields=[{"namespace": "custom", "key": "style", "value_pattern": "SKU-{n:05d}"}],
    )
    plan = plan_for(sandbox, member, store, shopify_field="product.metafield:custom.style")
    result = services.plan_dry_run(plan=plan).results.get()
    assert result.catalog_path == "index"
    assert "metafield" in result.catalog_reason
    assert result.statistics["groups_matched"] == n
    catalog = StoreCatalog.objects.get(store=store)
    assert catalog.product_count == n and catalog.built_at and catalog.source_updated_at
    built_at = catalog.built_at

    def bulk_queries():
        return [c for c in sandbox.calls(store.shop_domain) if "BulkOperationRunQuery" in str(c)]

    # a fresh index is used as it is: no Shopify call for the catalog
    again = services.plan_dry_run(plan=plan).results.get()
    assert again.catalog_path == "index" and "no Shopify call" in again.catalog_reason
    assert len(bulk_queries()) == 1

    StoreCatalog.objects.filter(pk=catalog.pk).update(
        refreshed_at=built_at - timedelta(seconds=catalog_module.INDEX_FRESH_SECONDS + 1)
    )
    services.plan_dry_run(plan=plan)
    catalog.refresh_from_db()
    assert catalog.built_at == built_at and catalog.refreshed_at > built_at
    assert catalog.product_count == n
    assert len(bulk_queries()) == 2


def test_a_large_selection_prefers_the_index(sandbox, member, monkeypatch):
    monkeypatch.setattr(catalog_module, "MAX_SEARCH_CALLS", 0)
    store = sandbox.shop(products=len(sandbox.skus()), media_per_product=1)
    result = services.plan_dry_run(plan=plan_for(sandbox, member, store)).results.get()
    assert result.catalog_path == "index"
    assert "bulk export" in result.catalog_reason
    assert result.statistics["groups_matched"] == len(sandbox.skus())


def test_choose_path_by_estimated_cost(sandbox):
    store = sandbox.shop(products=0)
    client = shopify_client(store)
    sku = parse_shopify_field("variant.sku")
    few = catalog_module.choose_path(sku, ["A"] * 10, None, client)
    many = catalog_module.choose_path(sku, [str(i) for i in range(5000)], None, client)
    assert few.path == "search" and few.estimated_calls == 1
    assert many.path == "index" and many.estimated_points < few.estimated_points * 200


def test_galleries_read_by_bulk_export_equal_those_read_by_nodes(sandbox, member, monkeypatch):
    store = sandbox.shop(products=len(sandbox.skus()), media_per_product=3)
    plan = plan_for(sandbox, member, store, link_mode="position", position=2)
    by_nodes = services.plan_dry_run(plan=plan).results.get()
    products_by_nodes = by_nodes.products
    monkeypatch.setattr(galleries_module, "NODES_MAX_POINTS", 0)
    by_bulk = services.plan_dry_run(plan=plan).results.get()
    assert (by_nodes.galleries_path, by_bulk.galleries_path) == ("nodes", "bulk")
    assert products_by_nodes == by_bulk.products
    assert by_bulk.shopify_points < by_nodes.shopify_points


def test_large_galleries_are_paged(sandbox, member, monkeypatch):
    monkeypatch.setattr(galleries_module, "MEDIA_FIRST", 2)
    store = sandbox.shop(products=2, media_per_product=5)
    result = services.plan_dry_run(plan=plan_for(sandbox, member, store)).results.get()
    assert all(len(p["before"]) == 5 for p in result.products)
    pages = [c for c in sandbox.calls(store.shop_domain) if "PlanGalleryPage" in str(c)]
    assert len(pages) == 2


def _link_earlier(sandbox, store, plan, sku: str) -> list[str]:
    """What a run (#8) leaves behind: the group's media added to the product, with records."""
    client = shopify_client(store)
    result = services.plan_dry_run(plan=plan).results.get()
    product = next(p for p in result.products if any(
        g["value"] == sku and g["products"][0]["id"] == p["product_id"] for g in result.groups
    ))  # fmt: skip
    creates = product["operations"]["creates"]
    # the emulator fetches the source: a delivery URL of the Cloudinary emulator
    urls = {m["media_id"]: m["thumbnail_url"] for m in product["after"]}
    media = [
        {"originalSource": urls[c["media_id"]], "mediaContentType": c["media_type"],
         **({"alt": c["alt"]} if c["alt"] else {})}
        for c in creates
    ]  # fmt: skip
    added = client.execute(
        ops.PRODUCT_ADD_MEDIA,
        {"product": {"id": product["product_id"]}, "media": media, "last": len(media)},
        raise_user_errors=True,
    ).payload()["product"]["media"]["nodes"]
    for create, node in zip(creates, added, strict=True):
        LinkRecord.objects.create(
            store=store,
            product_id=product["product_id"],
            media_id=node["id"],
            asset_id=create["asset_id"],
            version=create["version"],
            transformation=normalise_transformation(create["transformation"]),
            alt=create["alt"],
            plan=plan,
        )
    return [n["id"] for n in added]


@pytest.mark.parametrize("mode", ["append", "prepend", "overwrite", "reset", "position"])
def test_media_placed_earlier_are_reused_so_the_same_plan_changes_nothing(sandbox, member, mode):
    store = sandbox.shop(products=len(sandbox.skus()), media_per_product=2)
    extra = {"position": 2} if mode == "position" else {}
    # no swatch, no variant image: what the earlier run left is only gallery media
    assets = sandbox.assets("metadata.sku=SKU-00002 AND -tags=swatch")
    plan = plan_for(
        sandbox,
        member,
        store,
        expression="",
        asset_ids=[a["asset_id"] for a in assets],
        link_mode=mode,
        assign_variant_images=False,
        **extra,
    )
    if mode in ("overwrite", "reset"):
        # the first run: what it would leave is the gallery after of this mode
        plan_append = plan_for(
            sandbox, member, store, expression="", asset_ids=plan.asset_ids, link_mode="prepend",
            assign_variant_images=False,
        )  # fmt: skip
        added = _link_earlier(sandbox, store, plan_append, "SKU-00002")
    else:
        added = _link_earlier(sandbox, store, plan, "SKU-00002")
    result = services.plan_dry_run(plan=plan).results.get()
    product = result.products[0]
    before = [m["media_id"] for m in product["before"]]
    assert set(added) <= set(before)
    assert all(m["asset_id"] for m in product["before"] if m["media_id"] in added)
    if mode == "reset":
        assert [m["media_id"] for m in product["after"]] == added
        assert len(product["operations"]["unlinks"]) == 2
    else:
        assert product["operations"]["creates"] == []
        if mode == "append":  # the earlier media were appended, as append places them
            assert product["operation_count"] == 0
            rows = [r for r in result.rows if r["product_id"] == product["product_id"]]
            assert rows and all(r["action"] == "unchanged" for r in rows)
