"""Typed reads of products' media (`stores.shopify.media`) against the Shopify emulator."""

from __future__ import annotations

import time

from stores.shopify import operations as ops
from stores.shopify.media import (
    added_media,
    job_done,
    media_errors,
    pending_reorder_job,
    statuses,
)

from .test_client import fast_client, first_product


def test_added_media_are_polled_until_failed_and_their_error_is_read(shopify):
    shop, token = shopify.new_shop(products=1, media_per_product=1)
    client = fast_client(shop, token)
    product_id = first_product(client)
    unreachable = {"originalSource": "http://127.0.0.1:9/gone.jpg", "mediaContentType": "IMAGE"}
    result = client.execute(
        ops.RUN_ADD_MEDIA, {"product": {"id": product_id}, "media": [unreachable], "last": 1}
    )
    ((media_id, status),) = added_media(result)
    assert status != "READY"
    deadline = time.monotonic() + 10
    while statuses(client, [media_id]).get(media_id) != "FAILED":
        assert time.monotonic() < deadline, "the media never failed"
        time.sleep(0.05)
    error = media_errors(client, [media_id])[media_id]
    assert error.code == "IMAGE_DOWNLOAD_FAILURE" and error.message


def test_a_reorder_job_is_pending_until_shopify_finishes_it(shopify):
    shop, token = shopify.new_shop(products=1, media_per_product=2)
    client = fast_client(shop, token)
    search = {"query": "", "first": 1, "variantsFirst": 1, "mediaFirst": 5}
    product = client.execute(ops.PRODUCTS_SEARCH, search).data["products"]["nodes"][0]
    second = product["media"]["nodes"][1]["id"]
    result = client.execute(
        ops.PRODUCT_REORDER_MEDIA,
        {"id": product["id"], "moves": [{"id": second, "newPosition": "0"}]},
    )
    job = pending_reorder_job(result)
    assert job  # the emulator finishes reorder jobs after a delay, as Shopify does
    deadline = time.monotonic() + 10
    while not job_done(client, job):
        assert time.monotonic() < deadline, "the job never finished"
        time.sleep(0.05)
