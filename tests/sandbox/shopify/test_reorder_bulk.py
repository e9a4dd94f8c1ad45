"""productReorderMedia jobs with Shopify's sequential move semantics; bulk export JSONL."""

from __future__ import annotations

import json

import requests
from hypothesis import given
from hypothesis import strategies as st

from sandbox.shopify.resolvers import apply_moves

SHOP = "demo-1.myshopify.com"
GALLERY = "query($id: ID!) { product(id: $id) { media(first: 20) { nodes { id } } } }"
REORDER = """mutation($id: ID!, $moves: [MoveInput!]!) { productReorderMedia(id: $id, moves: $moves) {
  job { id done } mediaUserErrors { code field message } } }"""


def _gallery(emu, token, pid):
    body = emu.gql(token, GALLERY, {"id": pid}).json()
    return [n["id"] for n in body["data"]["product"]["media"]["nodes"]]


def test_reorder_is_a_job_with_sequential_zero_based_moves(emu):
    emu.control("POST", "config", {"job_delay": 0.2})
    token = emu.shop(SHOP, products=1, media_per_product=5)
    pid = emu.gql(token, "{ products(first: 1) { nodes { id } } }").json()["data"]["products"][
        "nodes"
    ][0]["id"]
    a, b, c, d, e = _gallery(emu, token, pid)
    moves = [
        {"id": e, "newPosition": "0"},
        {"id": a, "newPosition": 10},
        {"id": c, "newPosition": "1"},
    ]
    body = emu.shopify_gql(token, REORDER, {"id": pid, "moves": moves})
    payload = body["data"]["productReorderMedia"]
    assert payload["mediaUserErrors"] == [] and payload["job"]["done"] is False
    job_id = payload["job"]["id"]
    assert job_id.startswith("gid://shopify/Job/")
    assert _gallery(emu, token, pid) == [a, b, c, d, e]  # not applied before the job is done
    emu.wait(
        lambda: emu.gql(token, "query($id: ID!) { job(id: $id) { done } }", {"id": job_id}).json()[
            "data"
        ]["job"]["done"]
    )
    # E -> 0: E A B C D ; A -> end: E B C D A ; C -> 1: E C B D A
    assert _gallery(emu, token, pid) == [e, c, b, d, a]


def test_reorder_errors(emu):
    token = emu.shop(SHOP, products=2, media_per_product=1)
    nodes = emu.gql(
        token, "{ products(first: 2) { nodes { id media(first: 1) { nodes { id } } } } }"
    ).json()["data"]["products"]["nodes"]
    other_media = nodes[1]["media"]["nodes"][0]["id"]
    body = emu.shopify_gql(
        token, REORDER, {"id": nodes[0]["id"], "moves": [{"id": other_media, "newPosition": "0"}]}
    )
    err = body["data"]["productReorderMedia"]["mediaUserErrors"][0]
    assert (
        err["code"] == "MEDIA_DOES_NOT_EXIST_ON_PRODUCT"
        and body["data"]["productReorderMedia"]["job"] is None
    )
    body = emu.shopify_gql(
        token,
        REORDER,
        {"id": "gid://shopify/Product/1", "moves": [{"id": other_media, "newPosition": "0"}]},
    )
    assert (
        body["data"]["productReorderMedia"]["mediaUserErrors"][0]["code"]
        == "PRODUCT_DOES_NOT_EXIST"
    )


@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=6),
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9)), max_size=6),
)
def test_apply_moves_matches_reference(initial, moves):
    order = list(dict.fromkeys(initial))
    expected = list(order)
    for mid, pos in moves:
        if mid in expected:  # reference: remove, then insert at min(pos, len)
            expected.remove(mid)
            expected.insert(pos if pos < len(expected) else len(expected), mid)
    assert apply_moves(order, moves) == expected
    assert sorted(apply_moves(order, moves)) == sorted(order)


BULK = """mutation($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: false) {
  bulkOperation { id status } userErrors { field message code } } }"""
STATUS = """query($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount
  fileSize url partialDataUrl completedAt } }"""


def test_bulk_export_jsonl_with_parent_ids(emu):
    token = emu.shop(
        SHOP, products=3, variants_per_product=2, media_per_product=1, sku_pattern="AB-{n:03d}"
    )
    inner = """{ products(query: "status:active") { edges { node { id handle
      variants { edges { node { id sku barcode } } }
      media { edges { node { id ... on MediaImage { image { url } } } } } } } } }"""
    body = emu.shopify_gql(token, BULK, {"q": inner})
    payload = body["data"]["bulkOperationRunQuery"]
    assert payload["userErrors"] == [] and payload["bulkOperation"]["status"] == "CREATED"
    op_id = payload["bulkOperation"]["id"]
    assert op_id.startswith("gid://shopify/BulkOperation/")
    op = emu.wait(
        lambda: (
            (o := emu.gql(token, STATUS, {"id": op_id}).json()["data"]["bulkOperation"])
            and o["status"] == "COMPLETED"
            and o
        )
    )
    assert op["objectCount"] == "12" and op["rootObjectCount"] == "3"
    current = emu.gql(token, "{ currentBulkOperation { id status url } }").json()
    assert current["data"]["currentBulkOperation"]["id"] == op_id
    lines = [json.loads(x) for x in requests.get(op["url"], timeout=5).text.splitlines()]
    assert len(lines) == 12 and int(op["fileSize"]) > 0
    products = [x for x in lines if "__parentId" not in x]
    assert len(products) == 3
    for p in products:
        children = [x for x in lines if x.get("__parentId") == p["id"]]
        assert sorted(c["sku"] for c in children if "sku" in c) == sorted(
            c["sku"] for c in children if c["id"].startswith("gid://shopify/ProductVariant/")
        )
        assert len(children) == 3
        # children come after their parent
        assert all(lines.index(c) > lines.index(p) for c in children)
    assert {x["sku"] for x in lines if "sku" in x} == {f"AB-{n:03d}" for n in range(1, 7)}


def test_bulk_rejects_invalid_queries(emu):
    token = emu.shop(SHOP, products=1)
    for q in ("{ products { edges { node { nope } } } }", "{ shop { name } }", "not graphql"):
        body = emu.shopify_gql(token, BULK, {"q": q})
        payload = body["data"]["bulkOperationRunQuery"]
        assert payload["bulkOperation"] is None and payload["userErrors"][0]["code"] == "INVALID", q
