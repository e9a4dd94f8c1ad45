"""Requested/actual query cost by Shopify's rules, leaky-bucket throttling, max cost."""

from __future__ import annotations

import time

import pytest

SHOP = "demo-1.myshopify.com"

MEDIA_QUERY = """{ products(first: 5) { edges { cursor node { id
  media(first: 10) { nodes { id ... on MediaImage { image { url } } } } } }
  pageInfo { hasNextPage } } }"""


def _cost(body):
    return body["extensions"]["cost"]


@pytest.mark.parametrize(
    ("query", "requested", "actual"),
    [
        ("{ shop { name plan { displayName } } }", 2, 2),
        ("{ products(first: 10) { nodes { id title tags } } }", 12, 5),
        # 2 + 5 x (1 product + 2 + 10 x (1 media + 1 image)) / actual: 3 products, 2 media each
        (MEDIA_QUERY, 117, 23),
        # both routes to the nodes count once
        ("{ products(first: 4) { nodes { id } edges { node { id } } } }", 6, 5),
        ("{ productVariants(first: 20) { nodes { sku product { id } } } }", 42, 14),
        (
            '{ product(id: "gid://shopify/Product/1") { id variants(first: 10) { nodes { sku } } } }',
            13,
            0,
        ),
        (
            'mutation { productUpdate(product: {id: "gid://shopify/Product/1"}) '
            "{ product { id } userErrors { field message } } }",
            10,
            10,
        ),
        (
            'mutation { productUpdate(product: {id: "gid://shopify/Product/1"}) '
            "{ product { id media(first: 5) { nodes { id } } } userErrors { message } } }",
            17,
            10,
        ),
    ],
)
def test_known_query_costs(emu, query, requested, actual):
    token = emu.shop(SHOP, products=3, variants_per_product=2, media_per_product=2)
    body = emu.shopify_gql(token, query)
    cost = _cost(body)
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (requested, actual), body
    ts = cost["throttleStatus"]
    assert ts["maximumAvailable"] == 2000.0 and ts["restoreRate"] == 100.0


def test_nodes_cost_counts_ids(emu):
    token = emu.shop(SHOP, products=2)
    ids = [p["id"] for p in emu.control("GET", f"shops/{SHOP}")["products"]]
    body = emu.shopify_gql(
        token,
        "query($ids:[ID!]!){ nodes(ids: $ids) { id ... on Product { title } } }",
        {"ids": [*ids, "gid://shopify/Product/999"]},
    )
    assert body["data"]["nodes"][2] is None
    assert (_cost(body)["requestedQueryCost"], _cost(body)["actualQueryCost"]) == (3, 2)


def test_refund_of_unused_points(emu):
    token = emu.shop(SHOP, products=1)
    body = emu.gql(token, "{ products(first: 100) { nodes { id } } }").json()
    cost = _cost(body)
    assert cost["requestedQueryCost"] == 102 and cost["actualQueryCost"] == 3
    # only the actual cost left the bucket (allowing for restore in between)
    assert cost["throttleStatus"]["currentlyAvailable"] >= 2000 - 3 - 1


def test_max_cost_exceeded(emu):
    token = emu.shop(SHOP, products=1)
    body = emu.shopify_gql(
        token, "{ products(first: 250) { nodes { id media(first: 250) { nodes { id } } } } }"
    )
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["errors"][0]["extensions"]["maxCost"] == 1000
    assert "data" not in body
    assert _cost(body)["requestedQueryCost"] == 2 + 250 * (1 + 2 + 250)


def test_missing_first_is_an_error(emu):
    token = emu.shop(SHOP, products=1)
    body = emu.gql(token, "{ products { nodes { id } } }").json()
    assert body["errors"][0]["message"] == "you must provide one of first or last"


def test_throttled_under_burst_and_recovery_at_restore_rate(emu):
    emu.control("POST", "config", {"bucket_size": 400})
    token = emu.shop(SHOP, products=40)
    q = "{ products(first: 40) { nodes { id variants(first: 1) { nodes { id } } } } }"
    results = []
    for _ in range(4):
        r = emu.gql(token, q)
        assert r.status_code == 200
        results.append(r.json())
    costs = [_cost(b) for b in results]
    assert costs[0]["requestedQueryCost"] == 162 and costs[0]["actualQueryCost"] == 162
    assert "errors" not in results[0] and "errors" not in results[1]
    throttled = results[2]
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled["errors"][0]["message"] == "Throttled"
    assert "data" not in throttled
    status = _cost(throttled)["throttleStatus"]
    assert _cost(throttled)["actualQueryCost"] is None
    assert status["maximumAvailable"] == 400.0 and status["restoreRate"] == 100.0
    assert status["currentlyAvailable"] < 162
    # the bucket refills at 100 points/s
    a = _cost(emu.gql(token, "{ shop { id } }").json())["throttleStatus"]["currentlyAvailable"]
    time.sleep(0.3)
    b = _cost(emu.gql(token, "{ shop { id } }").json())["throttleStatus"]["currentlyAvailable"]
    assert 20 <= b - a <= 45, (a, b)
    # waiting (requested - available) / restoreRate makes the query go through
    time.sleep((162 - b) / 100 + 0.05)
    ok = emu.gql(token, q).json()
    assert "errors" not in ok, ok


def test_plan_sets_restore_rate_and_bucket(emu):
    for plan, rate in (("advanced", 200.0), ("plus", 1000.0)):
        domain = f"{plan}-shop.myshopify.com"
        token = emu.shop(domain, plan=plan)
        body = emu.gql(token, "{ shop { plan { displayName shopifyPlus } } }").json()
        ts = _cost(body)["throttleStatus"]
        assert ts["restoreRate"] == rate and ts["maximumAvailable"] == rate * 20
        assert body["data"]["shop"]["plan"]["shopifyPlus"] == (plan == "plus")


def test_call_log_records_costs(emu):
    token = emu.shop(SHOP, products=2)
    emu.gql(token, "query Named { products(first: 3) { nodes { id } } }")
    calls = emu.control("GET", f"shops/{SHOP}/calls")["calls"]
    assert calls[-1]["name"] == "Named"
    assert (calls[-1]["requested_cost"], calls[-1]["actual_cost"]) == (5, 4)


TWO_FRAGMENTS = """{ products(first: 1) { nodes { media(first: 10) { nodes {
  ... on MediaImage { image { url } } ... on MediaImage { originalSource { url } } } } } } }"""
TWO_TYPES = """{ products(first: 1) { nodes { media(first: 10) { nodes {
  ... on MediaImage { image { url } } ... on Video { originalSource { url } sources { url } } } } } } }"""
NAMED = """query { products(first: 2) { nodes { media(first: 5) { nodes { ...Img ...Alt } } } } }
fragment Img on MediaImage { image { url } }
fragment Alt on MediaImage { originalSource { url } }"""


@pytest.mark.parametrize(
    ("query", "requested"),
    [
        # 2 + 1 x (1 product + 2 + 10 x (1 medium + 1 image + 1 originalSource))
        (TWO_FRAGMENTS, 35),
        # fragments on two types: the dearer one (Video: originalSource + sources) counts
        (TWO_TYPES, 35),
        # named fragments on one type add up too: 2 + 2 x (1 + 2 + 5 x 3)
        (NAMED, 38),
    ],
)
def test_fragments_on_one_type_add_their_costs_like_the_clients_estimate(emu, query, requested):
    from stores.shopify.cost import estimate_cost

    token = emu.shop(SHOP, products=1, media_per_product=2)
    body = emu.gql(token, query).json()
    assert "errors" not in body, body
    assert _cost(body)["requestedQueryCost"] == requested
    assert estimate_cost(query) == requested  # the client paces by the same number


def test_a_fragment_on_an_interface_applies_to_every_type_implementing_it(emu):
    token = emu.shop(SHOP, products=1, media_per_product=1)
    ids = emu.control("GET", f"shops/{SHOP}")["products"][0]["media"]
    query = """query($ids: [ID!]!) { nodes(ids: $ids) {
      ... on Media { preview { image { url } } } ... on MediaImage { image { url } } } }"""
    body = emu.gql(token, query, {"ids": ids}).json()
    # 1 id x (1 node + MediaImage: preview 1 + its image 1 + image 1)
    assert _cost(body)["requestedQueryCost"] == 4


def _app_operations():
    from stores.shopify import operations

    found = [op for op in vars(operations).values() if hasattr(op, "document")]
    # bulk queries are the text of a bulkOperationRunQuery, never sent as a query of their own
    return [op for op in found if not op.name.endswith("Export")]


@pytest.mark.parametrize("op", _app_operations(), ids=lambda op: op.name)
def test_the_clients_estimate_of_every_app_operation_is_the_emulators_requested_cost(op):
    import re

    from graphql import get_operation_ast, parse

    from sandbox.shopify.cost import requested_cost
    from sandbox.shopify.graphql_api import schema
    from stores.shopify.cost import estimate_cost

    variables = {}
    for name in set(re.findall(r"\$(\w+)", op.document)):
        if name.endswith("ids") or name.endswith("Ids"):
            variables[name] = ["gid://shopify/MediaImage/1"] * 250
        elif name in ("first", "last") or name.endswith(("First", "Last")):
            variables[name] = 250 if name != "first" else 10
    document = parse(op.document)
    server = requested_cost(schema(), document, get_operation_ast(document), variables)
    assert estimate_cost(op.document, variables) == server


# Shopify's dynamic complexity of productUpdate: 10 + 0.4 per product metafield + 1.9 per media
# https://shopify.dev/changelog/dynamic-complexity-cost-for-productcreate-and-productupdate-mutations
# (integer costs: nearest, halves up).
@pytest.mark.parametrize(("media", "points"), [(0, 10), (1, 12), (10, 29), (50, 105), (250, 485)])
def test_product_update_is_priced_per_media_and_the_clients_estimate_agrees(emu, media, points):
    from stores.shopify.cost import estimate_cost

    token = emu.shop(SHOP, products=1)
    pid = emu.control("GET", f"shops/{SHOP}")["products"][0]["id"]
    query = (
        "mutation($p: ProductUpdateInput!, $m: [CreateMediaInput!]) "
        "{ productUpdate(product: $p, media: $m) { userErrors { message } } }"
    )
    variables = {
        "p": {"id": pid},
        "m": [
            {"originalSource": f"http://127.0.0.1:9/{i}.jpg", "mediaContentType": "IMAGE"}
            for i in range(media)
        ],
    }
    cost = _cost(emu.shopify_gql(token, query, variables))
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (points, points)
    assert estimate_cost(query, variables) == points


def test_product_metafields_cost_04_each_and_metafields_set_is_priced_per_owner(emu):
    """productUpdate: 0.4 per product metafield (same source); metafieldsSet: 10 + per distinct
    owner its type's weight, Product 4, ProductVariant 2 (Shopify changelog, 2026-09-15,
    https://shopify.dev/changelog/dynamic-complexity-cost-for-metafieldsset-mutation)."""
    from stores.shopify.cost import estimate_cost

    token = emu.shop(SHOP, products=1)
    pid = emu.control("GET", f"shops/{SHOP}")["products"][0]["id"]
    mf = {"namespace": "x", "key": "k", "type": "single_line_text_field", "value": "v"}
    query = "mutation($p: ProductUpdateInput!) { productUpdate(product: $p) { userErrors { message } } }"
    variables = {"p": {"id": pid, "metafields": [mf] * 5}}  # 10 + 2
    assert _cost(emu.shopify_gql(token, query, variables))["requestedQueryCost"] == 12
    assert estimate_cost(query, variables) == 12
    query = (
        "mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) "
        "{ userErrors { message } } }"
    )
    owners = [pid, pid, "gid://shopify/ProductVariant/1", "gid://shopify/ProductVariant/2"]
    variables = {"m": [{**mf, "ownerId": o} for o in owners]}  # 10 + 4 + 2 × 2
    assert _cost(emu.shopify_gql(token, query, variables))["requestedQueryCost"] == 18
    assert estimate_cost(query, variables) == 18
