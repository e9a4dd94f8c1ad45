"""Typed reads of the store's Files (`stores.shopify.files`) against the Shopify emulator."""

from __future__ import annotations

import time

from stores.shopify import operations as ops
from stores.shopify.files import created_files, file_statuses, referenced_by_products, search_files

from .test_client import fast_client


def test_a_created_file_is_read_back_with_its_status_alt_and_error(shopify):
    shop, token = shopify.new_shop(products=1, media_per_product=1)
    client = fast_client(shop, token)
    specs = [
        {"originalSource": "http://127.0.0.1:9/gone.jpg", "contentType": "IMAGE", "alt": "m-1"}
    ]
    (created,) = created_files(client.execute(ops.FILE_CREATE, {"files": specs}))
    assert created.alt == "m-1" and created.status != "READY"
    deadline = time.monotonic() + 10
    while (node := file_statuses(client, [created.id])[created.id]).status != "FAILED":
        assert time.monotonic() < deadline, "the file never failed"
        time.sleep(0.05)
    assert node.error_code == "IMAGE_DOWNLOAD_FAILURE" and node.error_message
    assert file_statuses(client, ["gid://shopify/MediaImage/999999"]) == {}  # gone: left out
    page = search_files(client, "", first=50)
    assert created.id in [f.id for f in page.files] and page.next_cursor is None


def test_references_say_which_files_a_product_uses(shopify):
    shop, token = shopify.new_shop(products=1, media_per_product=2)
    client = fast_client(shop, token)
    search = {"query": "", "first": 1, "variantsFirst": 1, "mediaFirst": 5}
    product = client.execute(ops.PRODUCTS_SEARCH, search).data["products"]["nodes"][0]
    used, unlinked = (m["id"] for m in product["media"]["nodes"])
    client.execute(
        ops.FILE_UPDATE, {"files": [{"id": unlinked, "referencesToRemove": [product["id"]]}]}
    ).raise_for_user_errors()
    assert referenced_by_products(client, [used, unlinked]) == {used}
