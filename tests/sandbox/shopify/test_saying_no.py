"""The emulator says no the way Shopify does: answers lost after the effect, locked media,
partial media adds, input and media limits, injected userErrors for every mutation."""

from __future__ import annotations

import pytest
import requests

from sandbox.shopify.graphql_api import schema

SHOP = "demo-1.myshopify.com"
P0 = "gid://shopify/Product/1"
F0 = "gid://shopify/MediaImage/1"

GALLERY = """query($id: ID!) { product(id: $id) { title
  media(first: 250) { nodes { id alt status } } } }"""
UPDATE = """mutation U($p: ProductUpdateInput!, $media: [CreateMediaInput!]) {
  productUpdate(product: $p, media: $media) {
    product { id } userErrors { field message } } }"""
CREATE_MEDIA = """mutation($id: ID!, $media: [CreateMediaInput!]!) {
  productCreateMedia(productId: $id, media: $media) {
    media { id } product { id } mediaUserErrors { code field message } } }"""
REORDER = """mutation R($id: ID!, $moves: [MoveInput!]!) { productReorderMedia(id: $id, moves: $moves) {
  job { id done } mediaUserErrors { code field message } } }"""
FILE_UPDATE = """mutation F($files: [FileUpdateInput!]!) { fileUpdate(files: $files) {
  files { id alt } userErrors { code field message } } }"""
FILE_CREATE = """mutation C($files: [FileCreateInput!]!) { fileCreate(files: $files) {
  files { id fileStatus } userErrors { code field message } } }"""
JOB = "query($id: ID!) { job(id: $id) { done } }"

# one document per mutation of the schema: (document, the payload's error list)
EVERY_MUTATION = {
    "productUpdate": (
        f'mutation {{ productUpdate(product: {{id: "{P0}"}}) {{ userErrors {{ message }} }} }}',
        "userErrors",
    ),
    "productCreateMedia": (
        f'mutation {{ productCreateMedia(productId: "{P0}", media: [{{originalSource: '
        '"http://x.test/a.png", mediaContentType: IMAGE}]) { mediaUserErrors { code message } } }',
        "mediaUserErrors",
    ),
    "productReorderMedia": (
        f'mutation {{ productReorderMedia(id: "{P0}", moves: [{{id: "{F0}", newPosition: "0"}}])'
        " { mediaUserErrors { code message } } }",
        "mediaUserErrors",
    ),
    "fileCreate": (
        'mutation { fileCreate(files: [{originalSource: "http://x.test/a.png"}])'
        " { userErrors { code message } } }",
        "userErrors",
    ),
    "fileUpdate": (
        f'mutation {{ fileUpdate(files: [{{id: "{F0}", alt: "x"}}]) {{ userErrors {{ code message }} }} }}',
        "userErrors",
    ),
    "fileDelete": (
        f'mutation {{ fileDelete(fileIds: ["{F0}"]) {{ userErrors {{ code message }} }} }}',
        "userErrors",
    ),
    "stagedUploadsCreate": (
        'mutation { stagedUploadsCreate(input: [{resource: IMAGE, filename: "a.png", '
        'mimeType: "image/png"}]) { userErrors { message } } }',
        "userErrors",
    ),
    "metafieldsSet": (
        f'mutation {{ metafieldsSet(metafields: [{{ownerId: "{P0}", namespace: "custom", '
        'key: "k", type: "single_line_text_field", value: "v"}]) { userErrors { code message } } }',
        "userErrors",
    ),
    "metafieldsDelete": (
        f'mutation {{ metafieldsDelete(metafields: [{{ownerId: "{P0}", namespace: "custom", '
        'key: "k"}]) { userErrors { message } } }',
        "userErrors",
    ),
    "productVariantAppendMedia": (
        f'mutation {{ productVariantAppendMedia(productId: "{P0}", variantMedia: [{{variantId: '
        f'"gid://shopify/ProductVariant/1", mediaIds: ["{F0}"]}}]) {{ userErrors {{ code message }} }} }}',
        "userErrors",
    ),
    "productVariantDetachMedia": (
        f'mutation {{ productVariantDetachMedia(productId: "{P0}", variantMedia: [{{variantId: '
        f'"gid://shopify/ProductVariant/1", mediaIds: ["{F0}"]}}]) {{ userErrors {{ code message }} }} }}',
        "userErrors",
    ),
    "bulkOperationRunQuery": (
        'mutation { bulkOperationRunQuery(query: "{ products { edges { node { id } } } }")'
        " { userErrors { code message } } }",
        "userErrors",
    ),
}


def _first_product(emu, token) -> dict:
    body = emu.gql(token, "{ products(first: 1) { nodes { id } } }").json()
    return emu.gql(token, GALLERY, {"id": body["data"]["products"]["nodes"][0]["id"]}).json()[
        "data"
    ]["product"] | {"id": body["data"]["products"]["nodes"][0]["id"]}


def _gallery(emu, token, pid) -> list[str]:
    body = emu.gql(token, GALLERY, {"id": pid}).json()
    return [n["id"] for n in body["data"]["product"]["media"]["nodes"]]


def _media(assets, *names):
    return [{"originalSource": f"{assets}/img/{n}", "mediaContentType": "IMAGE"} for n in names]


def _settle(emu, token, pid):
    """Until no medium of the product is processing."""
    emu.wait(
        lambda: all(
            n["status"] in ("READY", "FAILED")
            for n in emu.gql(token, GALLERY, {"id": pid}).json()["data"]["product"]["media"][
                "nodes"
            ]
        )
    )


def test_the_table_covers_every_mutation_of_the_schema():
    assert set(EVERY_MUTATION) == set(schema().mutation_type.fields)


# --- answers lost after the effect ----------------------------------------------------------


def test_a_lost_answer_500_after_the_mutation_ran(emu, assets):
    token = emu.shop(SHOP, products=1, media_per_product=2)
    product = _first_product(emu, token)
    emu.control("POST", "faults", {"seed": 1, "lost_answers": {"productUpdate": 1.0}})
    r = emu.gql(token, UPDATE, {"p": {"id": product["id"]}, "media": _media(assets, "20x20.png")})
    assert r.status_code == 500 and r.json() == {"errors": "Internal Server Error"}
    emu.control("DELETE", "faults")
    assert len(_gallery(emu, token, product["id"])) == 3  # the medium was added all the same
    calls = emu.control("GET", f"shops/{SHOP}/calls")["calls"]
    assert [c["outcome"] for c in calls if c["name"] == "U"] == ["lost (http_500)"]


def test_a_lost_answer_past_the_read_timeout(emu):
    token = emu.shop(SHOP, products=1)
    pid = _first_product(emu, token)["id"]
    emu.control(
        "POST",
        "faults",
        {"seed": 1, "lost_answers": {"productUpdate": 1.0}, "lost_answer_mode": "timeout",
         "slow_seconds": 0.5},
    )  # fmt: skip
    with pytest.raises(requests.ReadTimeout):
        requests.post(
            f"{emu.url}/admin/api/2026-10/graphql.json",
            json={"query": UPDATE, "variables": {"p": {"id": pid, "title": "Timed out"}}},
            headers={"X-Shopify-Access-Token": token},
            timeout=(2, 0.15),
        )
    emu.control("DELETE", "faults")
    assert emu.gql(token, GALLERY, {"id": pid}).json()["data"]["product"]["title"] == "Timed out"


def test_a_dropped_connection_after_the_mutation_ran(emu):
    token = emu.shop(SHOP, products=1)
    pid = _first_product(emu, token)["id"]
    emu.control(
        "POST",
        "faults",
        {"seed": 1, "lost_answers": {"productUpdate": {"rate": 1, "mode": "drop"}}},
    )
    with pytest.raises(requests.ConnectionError):
        emu.gql(token, UPDATE, {"p": {"id": pid, "title": "Dropped"}})
    # queries are not mutations: they are answered
    assert emu.gql(token, "{ shop { name } }").status_code == 200
    emu.control("DELETE", "faults")
    assert emu.gql(token, GALLERY, {"id": pid}).json()["data"]["product"]["title"] == "Dropped"


@pytest.mark.parametrize("name", sorted(EVERY_MUTATION))
def test_every_mutation_can_lose_its_answer_and_get_an_injected_user_error(emu, name):
    token = emu.shop(SHOP, products=1)
    document, errors_key = EVERY_MUTATION[name]
    emu.control("POST", "faults", {"seed": 2, "lost_answers": {"*": 1.0}})
    assert emu.gql(token, document).status_code == 500
    emu.control("POST", "faults", {"seed": 2, "user_errors": {name: 1.0}})
    body = emu.gql(token, document).json()
    error = body["data"][name][errors_key][0]
    assert error["message"] == "Injected fault: an internal error occurred, please retry."


def test_lost_answers_are_reproducible_from_the_seed(emu):
    token = emu.shop(SHOP, products=1)
    pid = _first_product(emu, token)["id"]
    faults = {"seed": 5, "lost_answers": {"productUpdate": 0.5}, "user_errors": {"*": 0.2}}

    def outcomes():
        emu.control("POST", "faults", faults)
        out = []
        for i in range(30):
            r = emu.gql(token, UPDATE, {"p": {"id": pid, "title": f"T{i}"}})
            errors = r.json()["data"]["productUpdate"]["userErrors"] if r.ok else None
            out.append(r.status_code if not r.ok else ("userError" if errors else "ok"))
        return out

    first = outcomes()
    assert first == outcomes()
    assert {500, "ok", "userError"} <= set(first)


def test_injected_user_errors_take_a_code_of_the_mutation(emu):
    token = emu.shop(SHOP, products=1, media_per_product=1)
    product = _first_product(emu, token)
    medium = product["media"]["nodes"][0]["id"]
    emu.control(
        "POST",
        "faults",
        {"seed": 1, "user_errors": {"fileUpdate": {"rate": 1, "code": "FILE_LOCKED",
                                                   "message": "File has a pending operation."}}},
    )  # fmt: skip
    body = emu.gql(token, FILE_UPDATE, {"files": [{"id": medium, "alt": "new"}]}).json()
    assert body["data"]["fileUpdate"] == {
        "files": None,
        "userErrors": [
            {"code": "FILE_LOCKED", "field": None, "message": "File has a pending operation."}
        ],
    }
    emu.control("DELETE", "faults")
    assert _first_product(emu, token)["media"]["nodes"][0]["alt"] != "new"


@pytest.mark.parametrize(
    "faults",
    [
        {"user_errors": {"productUpdat": 0.5}},
        {"user_errors": {"productUpdate": 1.5}},
        {"user_errors": {"productUpdate": {"rate": 1, "code": "FILE_LOCKED"}}},  # no code
        {"user_errors": {"fileUpdate": {"rate": 1, "code": "NOT_A_CODE"}}},
        {"lost_answers": {"fileUpdate": {"rate": 1, "mode": "sometimes"}}},
        {"lost_answer_mode": "never"},
        {"lost": {"fileUpdate": 1}},
    ],
)
def test_bad_fault_settings_are_a_400(emu, faults):
    r = requests.post(f"{emu.url}/_control/faults", json=faults, timeout=5)
    assert r.status_code == 400 and r.json()["error"]


# --- media locked while the product is busy -------------------------------------------------


def test_a_pending_reorder_locks_the_products_media(emu):
    emu.control("POST", "config", {"job_delay": 0.3})
    token = emu.shop(SHOP, products=1, media_per_product=3)
    product = _first_product(emu, token)
    a, b, c = (n["id"] for n in product["media"]["nodes"])
    job = emu.gql(token, REORDER, {"id": product["id"], "moves": [{"id": c, "newPosition": "0"}]})
    job_id = job.json()["data"]["productReorderMedia"]["job"]["id"]
    again = emu.gql(token, REORDER, {"id": product["id"], "moves": [{"id": a, "newPosition": "2"}]})
    assert again.json()["data"]["productReorderMedia"] == {
        "job": None,
        "mediaUserErrors": [
            {
                "code": "MEDIA_CANNOT_BE_MODIFIED",
                "field": ["id"],
                "message": "Media cannot be modified. It is currently being modified by "
                "another operation.",
            }
        ],
    }
    locked = emu.gql(token, FILE_UPDATE, {"files": [{"id": b, "alt": "B"}]}).json()
    assert locked["data"]["fileUpdate"]["userErrors"] == [
        {"code": "FILE_LOCKED", "field": ["files", "0", "id"],
         "message": "File has a pending operation."}
    ]  # fmt: skip
    emu.wait(lambda: emu.gql(token, JOB, {"id": job_id}).json()["data"]["job"]["done"])
    assert _gallery(emu, token, product["id"]) == [c, a, b]
    ok = emu.gql(token, FILE_UPDATE, {"files": [{"id": b, "alt": "B"}]}).json()
    assert ok["data"]["fileUpdate"]["userErrors"] == []


def test_media_still_processing_lock_the_products_media(emu, assets):
    emu.control("POST", "config", {"media_delay": 0.4})
    token = emu.shop(SHOP, products=2, media_per_product=1)
    nodes = emu.gql(
        token, "{ products(first: 2) { nodes { id media(first: 1) { nodes { id } } } } }"
    )
    (p1, m1), (p2, m2) = (
        (p["id"], p["media"]["nodes"][0]["id"]) for p in nodes.json()["data"]["products"]["nodes"]
    )
    r = emu.gql(token, UPDATE, {"p": {"id": p1}, "media": _media(assets, "30x30.png")})
    assert r.json()["data"]["productUpdate"]["userErrors"] == []
    busy = "MEDIA_CANNOT_BE_MODIFIED"
    reorder = emu.gql(token, REORDER, {"id": p1, "moves": [{"id": m1, "newPosition": "1"}]})
    assert reorder.json()["data"]["productReorderMedia"]["mediaUserErrors"][0]["code"] == busy
    # the old medium of p1, and a medium of p2 being linked to p1, are locked too
    for files in ([{"id": m1, "alt": "x"}], [{"id": m2, "referencesToAdd": [p1]}]):
        body = emu.gql(token, FILE_UPDATE, {"files": files}).json()["data"]["fileUpdate"]
        assert [e["code"] for e in body["userErrors"]] == [busy] and body["files"] is None
    # another product is not concerned
    other = emu.gql(token, FILE_UPDATE, {"files": [{"id": m2, "alt": "y"}]}).json()
    assert other["data"]["fileUpdate"]["userErrors"] == []
    _settle(emu, token, p1)
    body = emu.gql(token, FILE_UPDATE, {"files": [{"id": m2, "referencesToAdd": [p1]}]}).json()
    assert body["data"]["fileUpdate"]["userErrors"] == []
    assert _gallery(emu, token, p1)[-1] == m2


def test_media_locks_can_be_turned_off(emu, assets):
    emu.control("POST", "config", {"media_delay": 0.4, "media_locks": False})
    token = emu.shop(SHOP, products=1, media_per_product=1)
    product = _first_product(emu, token)
    m1 = product["media"]["nodes"][0]["id"]
    emu.gql(token, UPDATE, {"p": {"id": product["id"]}, "media": _media(assets, "30x30.png")})
    body = emu.gql(token, REORDER, {"id": product["id"], "moves": [{"id": m1, "newPosition": "1"}]})
    assert body.json()["data"]["productReorderMedia"]["mediaUserErrors"] == []
    body = emu.gql(token, FILE_UPDATE, {"files": [{"id": m1, "alt": "x"}]}).json()
    assert body["data"]["fileUpdate"]["userErrors"] == []
    assert emu.control("GET", "config")["media_locks"] is False


# --- partial success of media adds ----------------------------------------------------------


def test_product_update_adds_the_valid_media_and_reports_the_others(emu, assets):
    token = emu.shop(SHOP, products=1, media_per_product=1)
    pid = _first_product(emu, token)["id"]
    media = _media(assets, "11x11.png") + [
        {"originalSource": "not a url", "mediaContentType": "IMAGE"},
        {"originalSource": f"{assets}/img/12x12.png", "mediaContentType": "IMAGE", "alt": "a" * 513},
    ] + _media(assets, "13x13.png")  # fmt: skip
    body = emu.gql(token, UPDATE, {"p": {"id": pid}, "media": media}).json()["data"]
    assert body["productUpdate"]["product"] == {"id": pid}
    assert [e["field"] for e in body["productUpdate"]["userErrors"]] == [
        ["media", "1", "originalSource"],
        ["media", "2", "alt"],
    ]
    gallery = emu.gql(token, GALLERY, {"id": pid}).json()["data"]["product"]["media"]["nodes"]
    assert len(gallery) == 3  # the old one and the two valid ones


def test_product_create_media_adds_the_valid_media_and_reports_the_others(emu, assets):
    token = emu.shop(SHOP, products=1)
    pid = _first_product(emu, token)["id"]
    media = [{"originalSource": "", "mediaContentType": "IMAGE"}] + _media(assets, "11x11.png")
    body = emu.gql(token, CREATE_MEDIA, {"id": pid, "media": media}).json()["data"]
    payload = body["productCreateMedia"]
    assert len(payload["media"]) == 1 and payload["product"] == {"id": pid}
    assert payload["mediaUserErrors"] == [
        {"code": "BLANK", "field": ["media", "0", "originalSource"],
         "message": "Original source can't be blank"}
    ]  # fmt: skip
    assert _gallery(emu, token, pid) == [payload["media"][0]["id"]]


# --- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (FILE_UPDATE, {"files": [{"id": F0, "alt": "x"}] * 251}),
        (FILE_CREATE, {"files": [{"originalSource": "http://x.test/a.png"}] * 251}),
    ],
)
def test_more_than_250_inputs_are_refused(emu, document, variables):
    token = emu.shop(SHOP, products=1)
    body = emu.gql(token, document, variables).json()
    name = "fileUpdate" if "fileUpdate" in document else "fileCreate"
    assert body["data"] == {name: None}
    assert body["errors"][0]["message"] == (
        "The input array size of 251 is greater than the maximum allowed of 250."
    )
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert body["errors"][0]["path"] == [name, "files"]
    assert emu.control("GET", f"shops/{SHOP}")["files"] == []


def test_references_that_would_pass_250_media_are_refused(emu):
    token = emu.shop(SHOP, products=1, media_per_product=248)
    emu.control("POST", f"shops/{SHOP}/seed", {"products": 1, "start": 2, "media_per_product": 3})
    full, donor = emu.control("GET", f"shops/{SHOP}")["products"]
    adds = [{"id": m, "referencesToAdd": [full["id"]]} for m in donor["media"]]
    body = emu.gql(token, FILE_UPDATE, {"files": adds}).json()["data"]["fileUpdate"]
    assert body["files"] is None
    assert [(e["code"], e["field"]) for e in body["userErrors"]] == [
        ("PRODUCT_MEDIA_LIMIT_EXCEEDED", ["files", "2", "referencesToAdd"])
    ]
    assert len(_gallery(emu, token, full["id"])) == 248  # all or nothing
    # unlinking one in the same call leaves room for the three
    unlink = {"id": full["media"][0], "referencesToRemove": [full["id"]]}
    body = emu.gql(token, FILE_UPDATE, {"files": [unlink, *adds]}).json()["data"]["fileUpdate"]
    assert body["userErrors"] == []
    assert len(_gallery(emu, token, full["id"])) == 250
