"""Pure parts of the client: the bucket model's pacing math, cost estimates, the ledger."""

from __future__ import annotations

import threading

import pytest

from stores.shopify import operations
from stores.shopify.cost import (
    MAX_QUERY_COST,
    CallCost,
    CostLedger,
    ThrottleBucket,
    ThrottleStatus,
    estimate_cost,
    throttled_wait,
)


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def status(available, maximum=2000.0, rate=100.0):
    return ThrottleStatus(
        maximum_available=maximum, currently_available=available, restore_rate=rate
    )


def test_an_unknown_bucket_never_waits():
    clock = FakeClock()
    bucket = ThrottleBucket(clock=clock, sleep=clock.sleep)
    ticket, slept = bucket.acquire(500)
    assert slept == 0 and clock.slept == []


def test_waits_just_long_enough_for_the_bucket_to_hold_the_cost():
    clock = FakeClock()
    bucket = ThrottleBucket(clock=clock, sleep=clock.sleep)
    t, _ = bucket.acquire(10)
    bucket.release(t, status(available=50))
    _, slept = bucket.acquire(250)  # needs 200 more points at 100/s
    assert slept == pytest.approx(2.0, abs=0.01)


def test_refill_between_readings_is_counted():
    clock = FakeClock()
    bucket = ThrottleBucket(clock=clock, sleep=clock.sleep)
    t, _ = bucket.acquire(10)
    bucket.release(t, status(available=0))
    clock.now += 1.5
    _, slept = bucket.acquire(150)
    assert slept == 0


def test_in_flight_reservations_are_subtracted_from_a_reading():
    clock = FakeClock()
    bucket = ThrottleBucket(clock=clock, sleep=clock.sleep)
    t0, _ = bucket.acquire(1)
    bucket.release(t0, status(available=300))
    a, _ = bucket.acquire(200)  # still in flight
    b, _ = bucket.acquire(100)
    bucket.release(b, status(available=200))  # the reading may not include a's cost yet
    assert bucket.available() == pytest.approx(0.0)
    bucket.release(a, status(available=100))
    assert bucket.available() == pytest.approx(100.0)


def test_a_cost_above_the_bucket_waits_for_a_full_bucket_only():
    clock = FakeClock()
    bucket = ThrottleBucket(clock=clock, sleep=clock.sleep)
    t, _ = bucket.acquire(1)
    bucket.release(t, status(available=0, maximum=100, rate=50))
    _, slept = bucket.acquire(5000)
    assert slept == pytest.approx(2.0, abs=0.01)


def test_an_answer_without_reading_returns_the_reservation():
    clock = FakeClock()
    bucket = ThrottleBucket(clock=clock, sleep=clock.sleep)
    t, _ = bucket.acquire(1)
    bucket.release(t, status(available=1000))
    t, _ = bucket.acquire(400)
    bucket.release(t, None)
    assert bucket.available() == pytest.approx(1000.0)


def test_concurrent_acquires_never_overdraw_the_model():
    class NoPoints(Exception):
        pass

    def refuse_to_wait(seconds):
        raise NoPoints

    bucket = ThrottleBucket(sleep=refuse_to_wait)
    t, _ = bucket.acquire(1)
    bucket.release(t, status(available=1000, rate=0.001))
    granted, refused = [], []

    def take():
        try:
            granted.append(bucket.acquire(100)[0])
        except NoPoints:
            refused.append(1)

    threads = [threading.Thread(target=take) for _ in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert (len(granted), len(refused)) == (10, 2)


def test_throttled_wait_is_missing_points_over_restore_rate():
    assert throttled_wait(752, status(available=352)) == pytest.approx(4.0)
    assert throttled_wait(10, status(available=352)) == 0


def test_static_estimate_follows_shopifys_rules():
    doc = "query Q { products(first: 10) { nodes { id variants(first: 5) { nodes { id } } } } }"
    assert estimate_cost(doc) == 2 + 10 * (1 + 2 + 5 * 1)
    assert estimate_cost("query S { shop { id plan { displayName } } }") == 2
    assert (
        estimate_cost(
            "mutation M { fileDelete(fileIds: []) { deletedFileIds userErrors { message } } }"
        )
        == 10
    )


def test_estimate_uses_variables_for_page_sizes_and_ids():
    op = operations.PRODUCT_GALLERIES
    one = estimate_cost(op.document, {"ids": ["a"], "mediaFirst": 10})
    three = estimate_cost(op.document, {"ids": ["a", "b", "c"], "mediaFirst": 10})
    assert three == 3 * one


def test_the_client_operations_with_typical_sizes_stay_below_the_max_cost():
    sizes = {"first": 8, "variantsFirst": 20, "mediaFirst": 20, "ids": ["x"] * 5, "last": 10}
    for op in (
        operations.PRODUCTS_SEARCH,
        operations.PRODUCT_VARIANTS_SEARCH,
        operations.MEDIA_STATUS,
        operations.FILES_SEARCH,
        operations.PRODUCT_ADD_MEDIA,
        operations.FILE_CREATE,
        operations.FILE_UPDATE,
    ):
        assert estimate_cost(op.document, sizes) <= 1000, op.name
    one_full_gallery = {"ids": ["x"], "mediaFirst": 250}
    assert estimate_cost(operations.PRODUCT_GALLERIES.document, one_full_gallery) <= 1000


def test_ledger_counts_and_merges():
    a, b = CostLedger(), CostLedger()
    a.start_call(1.0)
    a.record_call(CallCost(100, 40, None), 2.0)
    a.record_retry("http_502")
    b.start_call(1.5)
    b.record_call(CallCost(10, 10, None), 4.0)
    b.record_throttled(0.5)
    b.record_retry("http_502")
    b.record_retry("read_timeout")
    m = a.merge(b)
    assert (m.calls, m.requested_points, m.actual_points) == (2, 110, 50)
    assert m.throttled_seen == 1 and m.retries == {"http_502": 2, "read_timeout": 1}
    assert m.wall_seconds == pytest.approx(3.0)
    assert "calls=2" in str(m) and m.as_dict()["retries"]["http_502"] == 2


def test_http_time_counts_concurrent_calls_once():
    ledger = CostLedger()
    ledger.http_started(0.0)
    ledger.http_started(1.0)  # a second call of the same wave, overlapping the first
    ledger.http_finished(1.0, 3.0)
    ledger.http_finished(0.0, 4.0)
    ledger.http_started(10.0)
    ledger.http_finished(10.0, 10.5)
    assert ledger.http_seconds == pytest.approx(4.5)  # busy 0-4 and 10-10.5
    assert ledger.http_call_seconds == pytest.approx(6.5)  # 2 + 4 + 0.5
    merged = ledger.merge(ledger)
    assert (
        merged.http_seconds == pytest.approx(9.0)
        and merged.as_dict()["http_call_seconds"] == 6.5 * 2
    )


def test_product_set_is_priced_as_shopify_documents():
    """productSet: 10 + 0.2/variant + 0.6/variant file + 0.4/variant or product metafield
    + 1.9/product file; the changelog's examples (20 variants + 5 product metafields = 16;
    200 variants, 10 files, 20 metafields = 77).
    https://shopify.dev/changelog/dynamic-complexity-cost-for-productset-mutation"""
    from stores.shopify.cost import mutation_cost

    assert mutation_cost("productSet", {"input": {"variants": [{}]}}) == 10
    medium = {"variants": [{}] * 20, "metafields": [{}] * 5}
    assert mutation_cost("productSet", {"input": medium}) == 16
    big = {"variants": [{}] * 200, "files": [{}] * 10, "metafields": [{}] * 20}
    assert mutation_cost("productSet", {"input": big}) == 77
    with_files = {"variants": [{"file": {}, "metafields": [{}]}] * 10}
    assert mutation_cost("productSet", {"input": with_files}) == 22  # 10 + 2 + 6 + 4
    assert mutation_cost("productCreate", {"media": [{}] * 3}) == 16  # 15.7, nearest


def test_adding_a_full_gallery_in_one_call_stays_under_the_single_query_limit():
    """Shopify keeps at most 250 media per product; even priced at 1.9 each, one productUpdate
    adding all 250 (and reading them back) stays under the 1,000-point single-query maximum,
    so a run's RunAddMedia never needs splitting across calls for the cost's sake."""
    op = operations.RUN_ADD_MEDIA
    media = [{"originalSource": "https://x/y.jpg", "mediaContentType": "IMAGE"}] * 250
    cost = estimate_cost(op.document, {"product": {"id": "gid://shopify/Product/1"},
                                       "media": media, "last": 250})  # fmt: skip
    assert 485 < cost <= MAX_QUERY_COST


@pytest.mark.parametrize(
    "args",
    [
        {"media": [{}] * 7, "product": {"metafields": [{}] * 3}},
        {"input": {"variants": [{"file": {}}, {"metafields": [{}] * 2}], "files": [{}] * 4}},
    ],
)
def test_the_emulators_dynamic_cost_is_the_clients(args):
    from sandbox.shopify.cost import dynamic_cost
    from stores.shopify.cost import mutation_cost

    for name in ("productUpdate", "productCreate", "productSet"):
        assert dynamic_cost(name, args) == mutation_cost(name, args)
