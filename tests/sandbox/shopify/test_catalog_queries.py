# ruff: noqa: UP031
"""Shopify search syntax on products/productVariants/files, identifiers, nodes, metafields."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.shopify.search import compile_query

SHOP = "demo-1.myshopify.com"

SET_MF = """mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
  metafields { id namespace key type value compareDigest } userErrors { field message code elementIndex } } }"""


@pytest.fixture
def catalog(emu):
    token = emu.shop(
        SHOP,
        products=6,
        variants_per_product=2,
        sku_pattern="SKU-{n:05d}",
        barcode_pattern="BC{n:04d}",
        title_pattern="Widget {n}",
        statuses=["ACTIVE", "ACTIVE", "DRAFT"],
        media_per_product=1,
        tags=[],
        metafields=[{"namespace": "custom", "key": "dam_id", "value_pattern": "dam-{n}"}],
    )
    products = emu.gql(token, "{ products(first: 10) { nodes { id handle } } }").json()["data"][
        "products"
    ]["nodes"]
    upd = """mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { userErrors { message } } }"""
    emu.gql(
        token, upd, {"p": {"id": products[0]["id"], "title": "Red Shirt", "tags": ["sale", "ss26"]}}
    )
    emu.gql(
        token, upd, {"p": {"id": products[1]["id"], "title": "Blue Shirt Deluxe", "tags": ["ss26"]}}
    )
    return token, products


def _handles(emu, token, query, root="products"):
    body = emu.shopify_gql(
        token,
        "query($q: String) { %s(first: 50, query: $q) { nodes { %s } } }"
        % (root, "handle" if root == "products" else "sku"),
        {"q": query},
    )
    assert "errors" not in body, body
    key = "handle" if root == "products" else "sku"
    return [n[key] for n in body["data"][root]["nodes"]]


def test_product_search_syntax(emu, catalog):
    token, products = catalog
    h = [p["handle"] for p in products]
    assert _handles(emu, token, "sku:SKU-00003") == [h[1]]
    assert _handles(emu, token, "sku:sku-00003") == [h[1]]  # case-insensitive
    assert _handles(emu, token, "sku:SKU-0000*") == h[:4] + [h[4]]  # SKU-00001..00009
    assert _handles(emu, token, f"handle:{h[2]}") == [h[2]]
    assert _handles(emu, token, f"handle:{h[2]},{h[3]}") == [h[2], h[3]]
    assert _handles(emu, token, "tag:ss26") == h[:2]
    assert _handles(emu, token, "tag:ss26 AND tag:sale") == [h[0]]
    assert _handles(emu, token, "tag:ss26 NOT tag:sale") == [h[1]]
    assert _handles(emu, token, "tag:ss26 -tag:sale") == [h[1]]
    assert _handles(emu, token, 'title:"Blue Shirt"') == [h[1]]
    assert _handles(emu, token, "title:shirt") == h[:2]
    assert _handles(emu, token, "status:draft") == [h[2], h[5]]
    assert _handles(emu, token, "status:active,draft") == h
    assert _handles(emu, token, f"sku:SKU-00001 OR handle:{h[4]}") == [h[0], h[4]]
    assert _handles(emu, token, "(tag:sale OR status:draft) AND -sku:SKU-00005") == [h[0], h[5]]
    pid = products[3]["id"].rsplit("/", 1)[1]
    assert _handles(emu, token, f"id:{pid}") == [h[3]]
    assert _handles(emu, token, f"id:>{pid}") == h[4:]
    assert _handles(emu, token, "barcode:BC0004") == [h[1]]
    assert _handles(emu, token, 'metafields.custom.dam_id:"dam-5"') == [h[4]]
    assert _handles(emu, token, "Widget") == h[2:]  # bare word: tokenized default field
    assert _handles(emu, token, "sku:NOPE") == []


def test_variant_search_and_identifiers(emu, catalog):
    token, products = catalog
    assert _handles(emu, token, "sku:SKU-00007", root="productVariants") == ["SKU-00007"]
    assert _handles(emu, token, "barcode:BC0002 OR barcode:BC0010", root="productVariants") == [
        "SKU-00002",
        "SKU-00010",
    ]
    body = emu.gql(
        token,
        '{ productVariants(first: 1, query: "sku:SKU-00004") '
        "{ nodes { sku product { handle } } } }",
    ).json()
    assert body["data"]["productVariants"]["nodes"][0]["product"]["handle"] == products[1]["handle"]
    h = products[2]["handle"]
    body = emu.shopify_gql(
        token,
        "query($h: String!) { productByIdentifier(identifier: {handle: $h}) { id handle } }",
        {"h": h},
    )
    assert body["data"]["productByIdentifier"]["id"] == products[2]["id"]
    body = emu.gql(
        token,
        '{ productByIdentifier(identifier: {customId: {namespace: "custom", '
        'key: "dam_id", value: "dam-2"}}) { id } }',
    ).json()
    assert body["data"]["productByIdentifier"]["id"] == products[1]["id"]
    body = emu.gql(token, '{ productByIdentifier(identifier: {handle: "nope"}) { id } }').json()
    assert body["data"]["productByIdentifier"] is None


def test_pagination(emu, catalog):
    token, products = catalog
    q = "query($a: String) { products(first: 4, after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } }"
    page1 = emu.gql(token, q).json()["data"]["products"]
    assert page1["pageInfo"]["hasNextPage"] is True
    page2 = emu.gql(token, q, {"a": page1["pageInfo"]["endCursor"]}).json()["data"]["products"]
    assert page2["pageInfo"]["hasNextPage"] is False
    assert [n["id"] for n in page1["nodes"] + page2["nodes"]] == [p["id"] for p in products]


def test_unknown_field_and_bad_variables_are_graphql_errors(emu, catalog):
    token, _ = catalog
    body = emu.shopify_gql(token, "{ products(first: 1) { nodes { id notAField } } }")
    assert "data" not in body
    assert body["errors"][0]["message"] == "Field 'notAField' doesn't exist on type 'Product'"
    assert body["errors"][0]["extensions"]["code"] == "undefinedField"
    body = emu.shopify_gql(token, "query($id: ID!) { product(id: $id) { id } }", {})
    assert body["errors"]
    body = emu.shopify_gql(token, "{ products(first: 1) { nodes { id } }")  # syntax error
    assert body["errors"][0]["message"].startswith("Syntax Error")


def test_metafields_set_atomic_with_file_reference_checks(emu, catalog):
    token, products = catalog
    pid = products[0]["id"]
    info = emu.gql(
        token,
        f'{{ product(id: "{pid}") {{ media(first: 1) {{ nodes {{ id }} }} '
        "variants(first: 1) { nodes { id } } } }",
    ).json()["data"]["product"]
    media_id = info["media"]["nodes"][0]["id"]
    vid = info["variants"]["nodes"][0]["id"]
    good = {
        "ownerId": vid,
        "namespace": "cloudinary",
        "key": "swatch",
        "type": "list.file_reference",
        "value": f'["{media_id}"]',
    }
    bad = {
        "ownerId": pid,
        "namespace": "cloudinary",
        "key": "swatch",
        "type": "list.file_reference",
        "value": f'["{pid}"]',
    }
    body = emu.shopify_gql(token, SET_MF, {"m": [good, bad]})
    payload = body["data"]["metafieldsSet"]
    assert payload["metafields"] is None
    assert payload["userErrors"][0]["code"] == "INVALID_VALUE"
    assert payload["userErrors"][0]["elementIndex"] == 1
    read = (
        f'{{ productVariant(id: "{vid}") {{ metafield(namespace: "cloudinary", key: "swatch") '
        "{ value type } } }"
    )
    assert emu.gql(token, read).json()["data"]["productVariant"]["metafield"] is None  # atomic
    body = emu.shopify_gql(token, SET_MF, {"m": [good]})
    mf = body["data"]["metafieldsSet"]["metafields"][0]
    assert mf["type"] == "list.file_reference" and mf["value"] == f'["{media_id}"]'
    got = emu.gql(token, read).json()["data"]["productVariant"]["metafield"]
    assert got == {"value": f'["{media_id}"]', "type": "list.file_reference"}
    # compareDigest: stale writes are refused
    stale = {**good, "value": "[]", "compareDigest": "0" * 64}
    err = emu.shopify_gql(token, SET_MF, {"m": [stale]})["data"]["metafieldsSet"]["userErrors"]
    assert err[0]["code"] == "STALE_OBJECT"
    fresh = {**good, "value": "[]", "compareDigest": mf["compareDigest"]}
    assert (
        emu.shopify_gql(token, SET_MF, {"m": [fresh]})["data"]["metafieldsSet"]["userErrors"] == []
    )
    # type mismatch with the existing metafield, and the 25-item limit
    err = emu.shopify_gql(
        token, SET_MF, {"m": [{**good, "type": "single_line_text_field", "value": "x"}]}
    )
    assert err["data"]["metafieldsSet"]["userErrors"][0]["code"] == "INVALID_TYPE"
    many = [
        {
            "ownerId": pid,
            "namespace": "custom",
            "key": f"k{i}",
            "type": "number_integer",
            "value": str(i),
        }
        for i in range(26)
    ]
    err = emu.shopify_gql(token, SET_MF, {"m": many})["data"]["metafieldsSet"]["userErrors"]
    assert err[0]["code"] == "LESS_THAN_OR_EQUAL_TO"
    ok = emu.shopify_gql(token, SET_MF, {"m": many[:25]})["data"]["metafieldsSet"]
    assert len(ok["metafields"]) == 25
    listing = emu.gql(
        token,
        f'{{ product(id: "{pid}") {{ metafields(first: 50, namespace: "custom") '
        "{ nodes { key } } } }",
    ).json()
    assert len(listing["data"]["product"]["metafields"]["nodes"]) == 26  # + dam_id


DELETE_MF = """mutation($m: [MetafieldIdentifierInput!]!) { metafieldsDelete(metafields: $m) {
  deletedMetafields { ownerId namespace key } userErrors { field message } } }"""


def test_metafields_delete_by_owner_namespace_and_key(emu, catalog):
    """Shopify's metafieldsDelete: a metafield that does not exist answers null in its place
    (not an error), an unknown owner is a userError and deletes nothing, at most 25 at once."""
    token, products = catalog
    pid = products[0]["id"]
    swatch = {"ownerId": pid, "namespace": "cloudinary", "key": "swatch"}
    emu.shopify_gql(token, SET_MF, {"m": [{**swatch, "type": "number_integer", "value": "1"}]})
    unknown = {**swatch, "ownerId": "gid://shopify/Product/42"}
    refused = emu.shopify_gql(token, DELETE_MF, {"m": [swatch, unknown]})["data"]
    assert refused["metafieldsDelete"]["userErrors"][0]["field"] == ["metafields", "1", "ownerId"]
    read = f'{{ product(id: "{pid}") {{ metafield(namespace: "cloudinary", key: "swatch") {{ value }} }} }}'
    assert emu.gql(token, read).json()["data"]["product"]["metafield"] == {"value": "1"}
    missing = {**swatch, "key": "nothing"}
    done = emu.shopify_gql(token, DELETE_MF, {"m": [swatch, missing]})["data"]["metafieldsDelete"]
    assert done == {"deletedMetafields": [swatch, None], "userErrors": []}
    assert emu.gql(token, read).json()["data"]["product"]["metafield"] is None
    many = emu.shopify_gql(token, DELETE_MF, {"m": [swatch] * 26})["data"]["metafieldsDelete"]
    assert many["deletedMetafields"] is None and "25" in many["userErrors"][0]["message"]


def test_nodes_and_shop(emu, catalog):
    token, products = catalog
    body = emu.shopify_gql(
        token,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": [products[0]["id"], "gid://shopify/Product/42"]},
    )
    assert body["data"]["nodes"] == [{"__typename": "Product", "id": products[0]["id"]}, None]
    body = emu.shopify_gql(
        token,
        "{ shop { name myshopifyDomain plan { displayName shopifyPlus partnerDevelopment } } }",
    )
    assert body["data"]["shop"]["myshopifyDomain"] == SHOP
    assert body["data"]["shop"]["plan"] == {
        "displayName": "Shopify",
        "shopifyPlus": False,
        "partnerDevelopment": False,
    }


def test_search_parser_units():
    fields = {
        "sku": lambda o: o["sku"],
        "title": lambda o: [o["title"]],
        "default": lambda o: [o["title"]],
    }
    objs = [{"sku": ["A-1"], "title": "Red Shirt"}, {"sku": ["B 2"], "title": "Blue Hat"}]

    def run(q):
        pred = compile_query(q, fields, tokenized={"title"})
        return [o["sku"][0] for o in objs if pred(o)]

    assert run('sku:"B 2"') == ["B 2"]
    assert run(r"sku:B\ 2") == ["B 2"]
    assert run("NOT sku:A-1") == ["B 2"]
    assert run("title:red OR title:hat") == ["A-1", "B 2"]
    assert run("unknown_field:x sku:A-1") == ["A-1"]  # unknown filters are ignored, like Shopify
    with pytest.raises(ValueError):
        compile_query("(sku:A-1", fields)


@settings(max_examples=200, deadline=None)
@given(
    skus=st.lists(st.sampled_from(["A-1", "a-1", "B 2", "C3", "", "D,4"]), min_size=1, max_size=4),
    wanted=st.lists(
        st.sampled_from(["A-1", "b 2", "C3", "C*", "D", "X", "A-1,C3"]), min_size=1, max_size=6
    ),
    negate_one=st.booleans(),
)
def test_a_list_of_exact_values_finds_what_each_term_finds(skus, wanted, negate_one):
    """`sku:A OR sku:B …` (bulk exports send 250 ids so) answers as the terms one by one."""
    fields = {"sku": lambda o: o["sku"]}
    terms = [f'sku:"{w}"' for w in wanted]
    if negate_one:
        terms[0] = "-" + terms[0]
    objs = [{"sku": [s]} for s in skus] + [{"sku": skus}]
    pred = compile_query(" OR ".join(terms), fields)
    one_by_one = [compile_query(t, fields) for t in terms]
    assert [pred(o) for o in objs] == [any(p(o) for p in one_by_one) for o in objs]
