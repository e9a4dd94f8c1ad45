"""Bulk query operations (`stores.shopify.bulk`) against the Shopify emulator."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stores.shopify.bulk import BULK_CONCURRENT, POLL_CAP, BulkOperationError, run_bulk_queries

from .test_client import fast_client


def _products(client) -> list[str]:
    query = "{ products { edges { node { id } } } }"
    return [line["id"] for line in run_bulk_queries(client, [query], poll_interval=0.05)[0]]


def test_more_queries_than_shopify_runs_at_once_each_get_their_own_lines(shopify):
    shop, token = shopify.new_shop(products=BULK_CONCURRENT + 2, media_per_product=0)
    client = fast_client(shop, token)
    ids = _products(client)
    assert len(ids) == BULK_CONCURRENT + 2
    queries = [
        f'{{ products(query: "id:{gid.rsplit("/", 1)[-1]}") {{ edges {{ node {{ id title }} }} }} }}'
        for gid in ids
    ]
    told = []
    results = run_bulk_queries(
        client, queries, poll_interval=0.05, on_done=lambda done, total: told.append((done, total))
    )
    assert [[line["id"] for line in lines] for lines in results] == [[gid] for gid in ids]
    assert told == [(n, len(ids)) for n in range(1, len(ids) + 1)]
    started = [c for c in shopify.calls(shop) if c["name"] == "BulkOperationRunQuery"]
    assert len(started) == 1 + len(ids)  # each once (never more than Shopify runs at once)


def test_an_export_that_matches_nothing_has_no_lines(shopify):
    shop, token = shopify.new_shop(products=1, media_per_product=0)
    client = fast_client(shop, token)
    query = '{ products(query: "title:nothing-is-called-this") { edges { node { id } } } }'
    assert run_bulk_queries(client, [query], poll_interval=0.05) == [[]]


def test_an_export_shopify_refuses_is_a_clear_error(shopify):
    shop, token = shopify.new_shop(products=1, media_per_product=0)
    client = fast_client(shop, token)
    with pytest.raises(BulkOperationError) as refused:
        run_bulk_queries(client, ["{ products { edges { node { noSuchField } } } }"])
    assert refused.value.status_code == 502
    assert "Shopify" in refused.value.message


class _ClockedShopify:
    """Shopify's two bulk calls over a fake clock: each export completes `durations[i]` seconds
    after it starts (its result is empty, so nothing is downloaded)."""

    def __init__(self, durations):
        self.now = 0.0
        self.durations = list(durations)
        self.ends: dict[str, float] = {}
        self.noticed: dict[str, float] = {}

    def sleep(self, seconds):
        assert seconds > 0
        self.now += seconds

    def execute(self, operation, variables):
        if "query" in variables:  # bulkOperationRunQuery
            op_id = f"gid://shopify/BulkOperation/{len(self.ends) + 1}"
            self.ends[op_id] = self.now + self.durations[len(self.ends)]
            payload = {"bulkOperationRunQuery": {"bulkOperation": {"id": op_id}}}
            return SimpleNamespace(payload=payload.get, user_errors=[])
        op_id = variables["id"]
        done = self.now >= self.ends[op_id]
        if done:
            self.noticed.setdefault(op_id, self.now)
        status = {"id": op_id, "status": "COMPLETED" if done else "RUNNING", "url": None}
        return SimpleNamespace(data={"bulkOperation": status})


@given(
    durations=st.lists(
        st.floats(min_value=0.0, max_value=900.0, allow_nan=False), min_size=1, max_size=12
    )
)
def test_a_finished_export_is_noticed_within_the_poll_cap_however_long_it_ran(durations):
    # The old schedule (×1.5 up to 5 s, never reset) noticed a 6 s export ~2.4 s late, and
    # one finishing just after a 5 s nap almost 5 s late.
    shopify = _ClockedShopify(durations)
    queries = ["{ products { edges { node { id } } } }"] * len(durations)
    run_bulk_queries(shopify, queries, sleep=shopify.sleep, timeout=10**6)
    for op_id, end in shopify.ends.items():
        assert shopify.noticed[op_id] - end <= POLL_CAP + 1e-9
