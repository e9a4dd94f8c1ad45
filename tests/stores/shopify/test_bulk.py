"""Bulk query operations (`stores.shopify.bulk`) against the Shopify emulator."""

from __future__ import annotations

import pytest

from stores.shopify.bulk import BULK_CONCURRENT, BulkOperationError, run_bulk_queries

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
