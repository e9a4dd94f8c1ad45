"""Control API: deterministic seeding, tokens, config, reset, state dumps; make_app contract."""

from __future__ import annotations

import pytest
import requests

from sandbox.shopify.server import make_app
from sandbox.shopify.state import State

from .conftest import API_KEY, API_SECRET

SHOP = "demo-1.myshopify.com"


def test_make_app_contract():
    app = make_app(media_delay=0.5, bucket_size=123)
    assert isinstance(app.state, State)
    assert app.state.config["media_delay"] == 0.5 and app.state.config["bucket_size"] == 123
    assert app.state.config["api_key"]
    shared = State()
    assert make_app(state=shared, media_delay=0.1).state is shared
    assert shared.config["media_delay"] == 0.1
    with pytest.raises(ValueError):
        make_app(nonsense=1)


def test_seed_is_deterministic_and_follows_patterns(emu):
    spec = {
        "products": 4,
        "seed": 11,
        "variants_per_product": [1, 3],
        "sku_pattern": "SKU-{n:05d}",
        "media_per_product": 2,
        "metafields": [{"key": "dam_id", "value_pattern": "d{p}"}],
    }
    emu.shop(SHOP, **spec)
    emu.shop("demo-2.myshopify.com", **spec)
    a = emu.control("GET", f"shops/{SHOP}")
    b = emu.control("GET", "shops/demo-2.myshopify.com")

    def shape(dump):
        return [
            (
                p["title"],
                p["handle"],
                p["tags"],
                [(v["sku"], v["barcode"]) for v in p["variants"]],
                [m["value"] for m in p["metafields"]],
                len(p["media"]),
            )
            for p in dump["products"]
        ]

    assert shape(a) == shape(b)
    skus = [v["sku"] for p in a["products"] for v in p["variants"]]
    assert skus == [f"SKU-{n:05d}" for n in range(1, len(skus) + 1)]
    barcodes = [v["barcode"] for p in a["products"] for v in p["variants"]]
    assert all(len(b) == 13 and b.isdigit() for b in barcodes)
    assert all(f["status"] == "READY" and f["width"] for f in a["files"])
    # generated media are served by the emulator
    assert requests.get(a["files"][0]["url"], timeout=5).status_code == 200


def test_seed_with_given_media_urls(emu):
    urls = ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    token = emu.shop(SHOP, products=2, media_per_product=3, media_urls=urls)
    body = emu.gql(
        token,
        "{ products(first: 2) { nodes { media(first: 5) { nodes { "
        "... on MediaImage { status image { url } } } } } } }",
    ).json()
    got = [
        m["image"]["url"] for p in body["data"]["products"]["nodes"] for m in p["media"]["nodes"]
    ]
    assert got == [urls[0], urls[1], urls[0], urls[1], urls[0], urls[1]]


def test_tokens_and_session_tokens_from_control(emu):
    emu.control("POST", "shops", {"domain": SHOP})
    tok = emu.control("POST", f"shops/{SHOP}/token", {"expiring": True, "lifetime": 120})
    assert tok["expires_in"] == 120 and tok["refresh_token"]
    st = emu.control("POST", f"shops/{SHOP}/session-token", {})["session_token"]
    r = requests.post(
        f"{emu.url}/admin/oauth/access_token",
        json={
            "shop": SHOP,
            "client_id": API_KEY,
            "client_secret": API_SECRET,
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": st,
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
            "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            "expiring": "1",
        },
        timeout=5,
    )
    assert r.status_code == 200, r.text


def test_authorize_creates_unknown_shops(emu):
    r = requests.post(
        f"{emu.url}/new-shop.myshopify.com/admin/oauth/authorize",
        params={
            "client_id": API_KEY,
            "scope": "read_products",
            "redirect_uri": "http://app.local/cb",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert r.status_code == 302 and "state=" not in r.headers["Location"]
    assert "new-shop.myshopify.com" in [s["domain"] for s in emu.control("GET", "shops")["shops"]]


def test_config_reset_and_state(emu):
    cfg = emu.control("POST", "config", {"media_delay": 0.2, "bucket_size": 50})
    assert cfg["media_delay"] == 0.2 and cfg["bucket_size"] == 50
    assert emu.control("POST", "config", {"bucket_size": None})["bucket_size"] is None
    assert "error" in emu.control("POST", "config", {"bogus": 1}, expect=(400,))
    assert "error" in emu.control("POST", "faults", {"bogus": 1}, expect=(400,))
    token = emu.shop(SHOP, products=1)
    state = emu.control("GET", "state")
    assert state["shops"][0]["domain"] == SHOP and "api_secret" not in state["config"]
    assert emu.control("GET", "health")["ok"] is True
    assert "POST /_control/reset" in emu.control("GET", "")["endpoints"]
    emu.control("POST", "reset")
    assert emu.control("GET", "shops")["shops"] == []
    assert emu.gql(token, "{ shop { name } }").status_code == 401
    assert emu.control("GET", "shops/nope.myshopify.com", expect=(404,))["error"]


def test_variant_media_detach(emu):
    token = emu.shop(SHOP, products=1, variants_per_product=2, media_per_product=2)
    p = emu.gql(
        token,
        "{ products(first: 1) { nodes { id variants(first: 2) { nodes { id } } "
        "media(first: 2) { nodes { id } } } } }",
    ).json()["data"]["products"]["nodes"][0]
    v0, v1 = (v["id"] for v in p["variants"]["nodes"])
    m0, m1 = (m["id"] for m in p["media"]["nodes"])
    append = """mutation($p: ID!, $vm: [ProductVariantAppendMediaInput!]!) {
      productVariantAppendMedia(productId: $p, variantMedia: $vm) {
        productVariants { id image { url } } userErrors { code field } } }"""
    detach = """mutation($p: ID!, $vm: [ProductVariantDetachMediaInput!]!) {
      productVariantDetachMedia(productId: $p, variantMedia: $vm) {
        productVariants { id image { url } } userErrors { code field } } }"""
    body = emu.shopify_gql(
        token,
        append,
        {
            "p": p["id"],
            "vm": [{"variantId": v0, "mediaIds": [m0]}, {"variantId": v1, "mediaIds": [m1]}],
        },
    )
    assert body["data"]["productVariantAppendMedia"]["userErrors"] == []
    body = emu.shopify_gql(
        token, append, {"p": p["id"], "vm": [{"variantId": v0, "mediaIds": [m1]}]}
    )
    assert (
        body["data"]["productVariantAppendMedia"]["userErrors"][0]["code"]
        == "PRODUCT_VARIANT_ALREADY_HAS_MEDIA"
    )
    body = emu.shopify_gql(
        token, detach, {"p": p["id"], "vm": [{"variantId": v0, "mediaIds": [m1]}]}
    )
    assert (
        body["data"]["productVariantDetachMedia"]["userErrors"][0]["code"]
        == "MEDIA_IS_NOT_ATTACHED_TO_VARIANT"
    )
    body = emu.shopify_gql(
        token, detach, {"p": p["id"], "vm": [{"variantId": v0, "mediaIds": [m0]}]}
    )
    assert body["data"]["productVariantDetachMedia"]["productVariants"][0]["image"] is None


def test_a_shop_is_created_with_a_seeded_catalog_in_one_call(emu):
    shop = emu.control("POST", "shops", {"domain": "seeded.myshopify.com", "seed": {"products": 3}})
    assert shop["seeded"] == 3 and shop["products_count"] == 3
    again = emu.control(
        "POST", "shops", {"domain": "seeded.myshopify.com", "seed": {"products": 3}}
    )
    assert again["products_count"] == 3 and "seeded" not in again  # an existing catalog stays
