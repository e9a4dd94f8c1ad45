"""The Admin GraphQL client over HTTP against the Shopify emulator."""

from __future__ import annotations

import json
import threading

import pytest

from sandbox.common import serve_in_thread
from stores.clients import shopify_client
from stores.shopify import operations as ops
from stores.shopify.client import ShopifyClient
from stores.shopify.cost import CostLedger
from stores.shopify.errors import (
    MaxCostExceeded,
    ShopifyAuthError,
    ShopifyGraphQLError,
    ShopifyUnavailable,
    ShopifyUserErrors,
    UserError,
)
from stores.shopify.operations import Operation

SEARCH = {"query": "status:active", "first": 5, "variantsFirst": 3, "mediaFirst": 3}


def fast_client(shop, token, **kw):
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("backoff_max", 0.05)
    return ShopifyClient(shop, token, **kw)


def first_product(client):
    return client.execute(ops.PRODUCTS_SEARCH, SEARCH).data["products"]["nodes"][0]["id"]


def test_a_burst_from_many_threads_is_paced_and_never_surfaces_throttled(shopify):
    # a 200-point bucket refilled at 2000/s: ~2700 points of queries need ~1.2 s of pacing
    shopify.post("config", {"bucket_size": 200})
    shop, token = shopify.new_shop(plan="enterprise", products=20, media_per_product=3)
    client = fast_client(shop, token)
    galleries = {"ids": [], "mediaFirst": 10}
    pid = first_product(client)
    galleries["ids"] = [pid]
    errors = []

    def worker():
        try:
            for _ in range(10):
                client.execute(ops.PRODUCT_GALLERIES, galleries)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ledger = client.ledger
    assert errors == []
    assert ledger.calls == 61
    assert ledger.throttled_seen <= 3  # seen (and waited out), never surfaced
    assert ledger.pacing_waits > 0
    floor = max(0, ledger.actual_points - 200) / 2000
    assert ledger.wall_seconds >= floor * 0.8


def test_injected_throttled_answers_are_waited_out_and_retried(shopify):
    shop, token = shopify.new_shop(products=3)
    shopify.post("faults", {"seed": 3, "throttled": 0.5, "shops": [shop]})
    client = fast_client(shop, token)
    for _ in range(8):
        assert client.execute(ops.SHOP_INFO).data["shop"]["myshopifyDomain"] == shop
    assert client.ledger.throttled_seen > 0
    assert client.ledger.calls == 8


def test_server_errors_are_retried_with_backoff(shopify):
    shop, token = shopify.new_shop(products=3)
    shopify.post(
        "faults", {"seed": 7, "http_500": 0.2, "http_502": 0.15, "http_503": 0.15, "shops": [shop]}
    )
    client = fast_client(shop, token, max_attempts=8)
    for _ in range(12):
        client.execute(ops.SHOP_INFO)
    retries = client.ledger.retries
    assert client.ledger.calls == 12
    assert sum(retries.values()) > 0
    assert set(retries) <= {"http_500", "http_502", "http_503"}


def test_persistent_outage_becomes_shopify_unavailable_after_bounded_attempts(shopify):
    shop, token = shopify.new_shop(products=1)
    shopify.post("faults", {"seed": 1, "http_503": 1.0, "shops": [shop]})
    client = fast_client(shop, token, max_attempts=3)
    with pytest.raises(ShopifyUnavailable) as exc:
        client.execute(ops.SHOP_INFO)
    assert (exc.value.cause, exc.value.attempts, exc.value.maybe_applied) == ("http_503", 3, False)
    assert client.ledger.retries["http_503"] == 2


def test_a_non_idempotent_mutation_is_not_retried_after_a_500(shopify):
    shop, token = shopify.new_shop(products=1)
    client = fast_client(shop, token)
    pid = first_product(client)
    shopify.post("faults", {"seed": 1, "http_500": 1.0, "shops": [shop]})
    media = [{"originalSource": "https://example.com/a.jpg", "mediaContentType": "IMAGE"}]
    with pytest.raises(ShopifyUnavailable) as exc:
        client.execute(ops.PRODUCT_ADD_MEDIA, {"product": {"id": pid}, "media": media, "last": 1})
    assert exc.value.attempts == 1 and exc.value.maybe_applied


def test_read_timeouts_are_retried(shopify):
    shop, token = shopify.new_shop(products=1)
    shopify.post("faults", {"seed": 5, "slow": 0.4, "slow_seconds": 0.5, "shops": [shop]})
    client = fast_client(shop, token, read_timeout=0.25, max_attempts=8)
    for _ in range(5):
        client.execute(ops.SHOP_INFO)
    assert client.ledger.retries["read_timeout"] > 0


def test_an_unreachable_shop_is_unavailable(settings):
    settings.SHOPIFY_ADMIN_BASE_URL = "http://127.0.0.1:9/{shop}"
    client = fast_client("nowhere.myshopify.com", "t", max_attempts=2)
    with pytest.raises(ShopifyUnavailable) as exc:
        client.execute(ops.SHOP_INFO)
    assert exc.value.cause in {"connection", "connect_timeout"} and exc.value.attempts == 2


def test_429_is_retried_after_the_retry_after_delay(settings):
    answers = [
        (429, {"Retry-After": "0.3"}, {"errors": "Too many requests"}),
        (200, {}, {"data": {"shop": {"id": "gid://shopify/Shop/1"}}}),
    ]

    def app(environ, start_response):
        status, headers, body = answers.pop(0)
        start_response(f"{status} X", [("Content-Type", "application/json"), *headers.items()])
        return [json.dumps(body).encode()]

    server = serve_in_thread(app)
    try:
        settings.SHOPIFY_ADMIN_BASE_URL = server.url + "/{shop}"
        slept = []
        client = ShopifyClient("s.myshopify.com", "t", sleep=slept.append)
        result = client.execute(ops.SHOP_INFO)
    finally:
        server.shutdown()
    assert result.data["shop"]["id"] == "gid://shopify/Shop/1"
    assert slept == [0.3] and client.ledger.retries["http_429"] == 1


def test_user_errors_are_typed(shopify):
    shop, token = shopify.new_shop(products=1)
    client = fast_client(shop, token)
    pid = first_product(client)
    bad = [{"originalSource": "not a url", "mediaContentType": "IMAGE"}]
    result = client.execute(
        ops.PRODUCT_ADD_MEDIA, {"product": {"id": pid}, "media": bad, "last": 1}
    )
    assert not result.ok
    assert result.user_errors[0] == UserError(
        code=None,
        field=("media", "0", "originalSource"),
        message=result.user_errors[0].message,
        payload="productUpdate",
    )
    missing = {"files": [{"id": "gid://shopify/MediaImage/1", "alt": "x"}]}
    with pytest.raises(ShopifyUserErrors) as exc:
        client.execute(ops.FILE_UPDATE, missing, raise_user_errors=True)
    assert exc.value.codes == ["FILE_DOES_NOT_EXIST"]
    assert exc.value.errors[0].field == ("files", "0", "id")


def test_media_user_errors_are_typed_too(shopify):
    shop, token = shopify.new_shop(products=1, media_per_product=2)
    client = fast_client(shop, token)
    pid = first_product(client)
    shopify.post(
        "faults", {"seed": 1, "user_errors": {"productReorderMedia": 1.0}, "shops": [shop]}
    )
    moves = [{"id": "gid://shopify/MediaImage/1", "newPosition": "0"}]
    result = client.execute(ops.PRODUCT_REORDER_MEDIA, {"id": pid, "moves": moves})
    assert [e.code for e in result.user_errors] == ["INVALID"]
    assert result.user_errors[0].payload == "productReorderMedia"


def test_max_cost_exceeded_is_its_own_error(shopify):
    shop, token = shopify.new_shop(products=1)
    client = fast_client(shop, token)
    too_big = {"query": "", "first": 50, "variantsFirst": 50, "mediaFirst": 50}
    with pytest.raises(MaxCostExceeded) as exc:
        client.execute(ops.PRODUCTS_SEARCH, too_big)
    assert exc.value.codes == ["MAX_COST_EXCEEDED"]


def test_graphql_errors_carry_shopifys_codes(shopify):
    shop, token = shopify.new_shop(products=1)
    client = fast_client(shop, token)
    with pytest.raises(ShopifyGraphQLError) as exc:
        client.execute(Operation("Broken", "query Broken { shop { noSuchField } }"))
    assert exc.value.codes == ["undefinedField"]
    assert not isinstance(exc.value, MaxCostExceeded)


def test_a_rejected_fixed_token_is_an_auth_error(shopify):
    shop, _ = shopify.new_shop(products=1)
    with pytest.raises(ShopifyAuthError):
        fast_client(shop, "shpat_wrong").execute(ops.SHOP_INFO)


def test_the_expected_cost_is_learned_from_shopify(shopify):
    shop, token = shopify.new_shop(products=2)
    client = fast_client(shop, token, ledger=CostLedger())
    result = client.execute(ops.PRODUCTS_SEARCH, SEARCH)
    assert client.expected_cost(ops.PRODUCTS_SEARCH, SEARCH) == result.cost.requested
    assert client.ledger.requested_points == result.cost.requested


@pytest.mark.django_db
def test_a_store_follows_the_api_version_setting_unless_it_names_its_own(store, settings):
    """Store.api_version is blank by default, so a version bump is the one setting."""
    assert store.api_version == ""
    assert "/admin/api/2026-10/graphql.json" in shopify_client(store).url
    settings.SHOPIFY_API_VERSION = "2027-01"
    assert "/admin/api/2027-01/graphql.json" in shopify_client(store).url
    store.api_version = "2026-07"
    assert "/admin/api/2026-07/graphql.json" in shopify_client(store).url
