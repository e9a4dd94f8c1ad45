# ruff: noqa: UP031
"""Media lifecycle: async processing with real downloads, failures, limits, files, staged uploads."""

from __future__ import annotations

import requests

SHOP = "demo-1.myshopify.com"

ADD_MEDIA = """mutation Add($product: ProductUpdateInput!, $media: [CreateMediaInput!]) {
  productUpdate(product: $product, media: $media) {
    product { id media(last: 10) { nodes { id status mediaContentType alt } } }
    userErrors { field message } } }"""

STATUS = """query($ids: [ID!]!) { nodes(ids: $ids) { id
  ... on File { fileStatus fileErrors { code details message } }
  ... on Media { status mediaErrors { code message } }
  ... on MediaImage { image { url width height } } } }"""

FILE_UPDATE = """mutation($files: [FileUpdateInput!]!) { fileUpdate(files: $files) {
  files { id alt fileStatus } userErrors { field message code } } }"""


def _product(emu, token):
    q = "{ products(first: 1) { nodes { id variants(first: 5) { nodes { id } } } } }"
    return emu.shopify_gql(token, q)["data"]["products"]["nodes"][0]


def _add(emu, token, pid, *urls, alt="", kind="IMAGE"):
    media = [{"originalSource": u, "mediaContentType": kind, "alt": alt} for u in urls]
    return emu.shopify_gql(token, ADD_MEDIA, {"product": {"id": pid}, "media": media})


def _wait_final(emu, token, ids):
    def done():
        nodes = emu.gql(token, STATUS, {"ids": ids}).json()["data"]["nodes"]
        return nodes if all(n["status"] in ("READY", "FAILED") for n in nodes) else None

    return emu.wait(done)


def test_media_goes_uploaded_processing_ready_with_real_dimensions(emu, assets):
    emu.control("POST", "config", {"media_delay": 0.3})
    token = emu.shop(SHOP, products=1)
    pid = _product(emu, token)["id"]
    body = _add(emu, token, pid, f"{assets}/img/300x200.png", alt="Red")
    assert body["data"]["productUpdate"]["userErrors"] == []
    node = body["data"]["productUpdate"]["product"]["media"]["nodes"][-1]
    assert node["status"] == "UPLOADED" and node["alt"] == "Red"
    mid = node["id"]
    assert mid.startswith("gid://shopify/MediaImage/")
    seen = {node["status"]}
    final = emu.wait(
        lambda: (
            (n := emu.gql(token, STATUS, {"ids": [mid]}).json()["data"]["nodes"][0])
            and (seen.add(n["status"]) or n["status"] == "READY")
            and n
        )
    )
    assert "PROCESSING" in seen
    assert final["image"]["width"] == 300 and final["image"]["height"] == 200
    assert final["fileStatus"] == "READY" and final["mediaErrors"] == []
    img = requests.get(final["image"]["url"], timeout=5)
    assert img.status_code == 200 and img.content.startswith(b"\x89PNG")
    # a gallery medium is a file with the same id
    files = emu.gql(
        token, '{ files(first: 10, query: "media_type:IMAGE") { nodes { id } } }'
    ).json()
    assert mid in [f["id"] for f in files["data"]["files"]["nodes"]]


def test_download_failures(emu, assets):
    token = emu.shop(SHOP, products=1)
    pid = _product(emu, token)["id"]
    urls = [
        f"{assets}/missing.jpg",
        f"{assets}/text.jpg",
        "http://127.0.0.1:1/nothing.jpg",
        f"{assets}/img/10x10.jpg",
    ]
    body = _add(emu, token, pid, *urls)
    ids = [n["id"] for n in body["data"]["productUpdate"]["product"]["media"]["nodes"]]
    nodes = _wait_final(emu, token, ids)
    assert [n["status"] for n in nodes] == ["FAILED", "FAILED", "FAILED", "READY"]
    assert [n["mediaErrors"][0]["code"] for n in nodes[:3]] == [
        "IMAGE_DOWNLOAD_FAILURE",
        "UNSUPPORTED_IMAGE_FILE_TYPE",
        "IMAGE_DOWNLOAD_FAILURE",
    ]
    assert nodes[0]["fileErrors"][0]["code"] == "IMAGE_DOWNLOAD_FAILURE"
    assert nodes[0]["image"] is None


def test_invalid_url_is_a_user_error(emu):
    token = emu.shop(SHOP, products=1)
    pid = _product(emu, token)["id"]
    body = _add(emu, token, pid, "not a url")
    errors = body["data"]["productUpdate"]["userErrors"]
    assert errors and errors[0]["field"] == ["media", "0", "originalSource"]


def test_250_media_limit(emu, assets):
    token = emu.shop(SHOP, products=1, media_per_product=249, media_urls=[f"{assets}/img/5x5.png"])
    pid = _product(emu, token)["id"]
    q = """mutation($id: ID!, $media: [CreateMediaInput!]!) { productCreateMedia(productId: $id,
      media: $media) { media { id } mediaUserErrors { code field message } } }"""
    two = [{"originalSource": f"{assets}/img/5x5.png", "mediaContentType": "IMAGE"}] * 2
    body = emu.shopify_gql(token, q, {"id": pid, "media": two})
    assert (
        body["data"]["productCreateMedia"]["mediaUserErrors"][0]["code"]
        == "PRODUCT_MEDIA_LIMIT_EXCEEDED"
    )
    assert body["data"]["productCreateMedia"]["media"] is None
    body = emu.shopify_gql(token, q, {"id": pid, "media": two[:1]})
    assert body["data"]["productCreateMedia"]["mediaUserErrors"] == []
    count = emu.gql(token, f'{{ product(id: "{pid}") {{ mediaCount {{ count }} }} }}').json()
    assert count["data"]["product"]["mediaCount"]["count"] == 250
    body = _add(emu, token, pid, f"{assets}/img/5x5.png")
    assert body["data"]["productUpdate"]["userErrors"]
    # fileUpdate referencesToAdd is also capped
    f = emu.shopify_gql(
        token,
        """mutation { fileCreate(files: [{originalSource: "%s/img/6x6.png"}])
      { files { id } userErrors { code } } }"""
        % assets,
    )["data"]["fileCreate"]["files"][0]
    emu.wait(
        lambda: (
            emu.gql(token, STATUS, {"ids": [f["id"]]}).json()["data"]["nodes"][0]["fileStatus"]
            == "READY"
        )
    )
    body = emu.shopify_gql(
        token, FILE_UPDATE, {"files": [{"id": f["id"], "referencesToAdd": [pid]}]}
    )
    assert body["data"]["fileUpdate"]["userErrors"][0]["code"] == "PRODUCT_MEDIA_LIMIT_EXCEEDED"


def test_file_update_rules_and_unlinking_keeps_file(emu, assets):
    emu.control("POST", "config", {"media_delay": 0.4})
    token = emu.shop(SHOP, products=1, variants_per_product=2)
    prod = _product(emu, token)
    pid = prod["id"]
    mid = _add(emu, token, pid, f"{assets}/img/20x20.png")["data"]["productUpdate"]["product"][
        "media"
    ]["nodes"][-1]["id"]
    # not ready yet
    body = emu.shopify_gql(token, FILE_UPDATE, {"files": [{"id": mid, "alt": "x"}]})
    assert body["data"]["fileUpdate"]["userErrors"][0]["code"] == "NON_READY_STATE"
    _wait_final(emu, token, [mid])
    # alt over 512 characters
    body = emu.shopify_gql(token, FILE_UPDATE, {"files": [{"id": mid, "alt": "a" * 513}]})
    assert body["data"]["fileUpdate"]["userErrors"][0]["code"] == "ALT_VALUE_LIMIT_EXCEEDED"
    body = emu.shopify_gql(token, FILE_UPDATE, {"files": [{"id": mid, "alt": "a" * 512}]})
    assert body["data"]["fileUpdate"]["files"][0]["alt"] == "a" * 512
    # attach to a variant, then unlink from the product
    vid = prod["variants"]["nodes"][0]["id"]
    append = """mutation($p: ID!, $vm: [ProductVariantAppendMediaInput!]!) {
      productVariantAppendMedia(productId: $p, variantMedia: $vm) { userErrors { code } } }"""
    body = emu.shopify_gql(token, append, {"p": pid, "vm": [{"variantId": vid, "mediaIds": [mid]}]})
    assert body["data"]["productVariantAppendMedia"]["userErrors"] == []
    img = emu.gql(
        token,
        f'{{ productVariant(id: "{vid}") {{ image {{ url }} media(first: 2) '
        "{ nodes { id } } } }",
    ).json()["data"]["productVariant"]
    assert img["image"]["url"] and img["media"]["nodes"][0]["id"] == mid
    body = emu.shopify_gql(
        token, FILE_UPDATE, {"files": [{"id": mid, "referencesToRemove": [pid]}]}
    )
    assert body["data"]["fileUpdate"]["userErrors"] == []
    after = emu.gql(
        token,
        f'{{ product(id: "{pid}") {{ media(first: 10) {{ nodes {{ id }} }} '
        f"variants(first: 1) {{ nodes {{ image {{ url }} }} }} }} }}",
    ).json()
    assert after["data"]["product"]["media"]["nodes"] == []
    assert after["data"]["product"]["variants"]["nodes"][0]["image"] is None
    files = emu.gql(token, "{ files(first: 5) { nodes { id } } }").json()["data"]["files"]["nodes"]
    assert mid in [f["id"] for f in files]
    # and back again
    body = emu.shopify_gql(token, FILE_UPDATE, {"files": [{"id": mid, "referencesToAdd": [pid]}]})
    assert body["data"]["fileUpdate"]["userErrors"] == []
    q = f'{{ files(first: 5, query: "product_id:{pid.rsplit("/", 1)[1]}") {{ nodes {{ id }} }} }}'
    assert emu.gql(token, q).json()["data"]["files"]["nodes"] == [{"id": mid}]


def test_file_update_original_source_replaces_content_in_place(emu, assets):
    token = emu.shop(SHOP, products=1)
    pid = _product(emu, token)["id"]
    mid = _add(emu, token, pid, f"{assets}/img/20x20.png")["data"]["productUpdate"]["product"][
        "media"
    ]["nodes"][-1]["id"]
    first = _wait_final(emu, token, [mid])[0]
    body = emu.shopify_gql(
        token, FILE_UPDATE, {"files": [{"id": mid, "originalSource": f"{assets}/img/64x32.png"}]}
    )
    assert body["data"]["fileUpdate"]["userErrors"] == []
    emu.wait(
        lambda: (
            emu.gql(token, STATUS, {"ids": [mid]}).json()["data"]["nodes"][0]["image"]
            and emu.gql(token, STATUS, {"ids": [mid]}).json()["data"]["nodes"][0]["image"]["width"]
            == 64
        )
    )
    second = emu.gql(token, STATUS, {"ids": [mid]}).json()["data"]["nodes"][0]
    assert second["id"] == first["id"]
    assert second["image"]["url"].split("?")[0] == first["image"]["url"].split("?")[0]


def test_file_create_delete_and_staged_uploads(emu, assets):
    token = emu.shop(SHOP, products=1)
    pid = _product(emu, token)["id"]
    staged = emu.shopify_gql(
        token,
        """mutation($input: [StagedUploadInput!]!) {
      stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } }
      userErrors { field message } } }""",
        {
            "input": [
                {
                    "resource": "IMAGE",
                    "filename": "hero.png",
                    "mimeType": "image/png",
                    "httpMethod": "PUT",
                },
                {
                    "resource": "VIDEO",
                    "filename": "clip.mp4",
                    "mimeType": "video/mp4",
                    "fileSize": "24",
                    "httpMethod": "POST",
                },
                {"resource": "VIDEO", "filename": "nosize.mp4", "mimeType": "video/mp4"},
            ]
        },
    )
    assert staged["data"]["stagedUploadsCreate"]["userErrors"][0]["field"] == [
        "input",
        "2",
        "fileSize",
    ]
    staged = emu.shopify_gql(
        token,
        """mutation($input: [StagedUploadInput!]!) {
      stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } }
      userErrors { field message } } }""",
        {
            "input": [
                {"resource": "IMAGE", "filename": "hero.png", "mimeType": "image/png"},
                {
                    "resource": "VIDEO",
                    "filename": "clip.mp4",
                    "mimeType": "video/mp4",
                    "fileSize": "24",
                    "httpMethod": "POST",
                },
            ]
        },
    )["data"]["stagedUploadsCreate"]["stagedTargets"]
    from .conftest import png_bytes

    put = requests.put(
        staged[0]["url"], data=png_bytes(33, 44), headers={"Content-Type": "image/png"}, timeout=5
    )
    assert put.status_code == 200
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12
    form = {p["name"]: p["value"] for p in staged[1]["parameters"]}
    post = requests.post(
        staged[1]["url"], data=form, files={"file": ("clip.mp4", video)}, timeout=5
    )
    assert post.status_code == 201
    body = emu.shopify_gql(
        token,
        """mutation($id: ID!, $media: [CreateMediaInput!]!) {
      productCreateMedia(productId: $id, media: $media) { media { id mediaContentType status }
      mediaUserErrors { code message } } }""",
        {
            "id": pid,
            "media": [
                {"originalSource": staged[0]["resourceUrl"], "mediaContentType": "IMAGE"},
                {"originalSource": staged[1]["resourceUrl"], "mediaContentType": "VIDEO"},
            ],
        },
    )
    created = body["data"]["productCreateMedia"]["media"]
    assert [m["mediaContentType"] for m in created] == ["IMAGE", "VIDEO"]
    assert created[1]["id"].startswith("gid://shopify/Video/")
    nodes = _wait_final(emu, token, [m["id"] for m in created])
    assert nodes[0]["image"]["width"] == 33 and nodes[0]["image"]["height"] == 44
    assert nodes[1]["status"] == "READY"
    # a generic file in Files only
    body = emu.shopify_gql(
        token,
        """mutation { fileCreate(files: [{originalSource:
      "%s/img/8x8.png", filename: "spec.png", alt: "Spec", contentType: FILE}]) {
      files { id fileStatus alt ... on GenericFile { url } } userErrors { code } } }"""
        % assets,
    )
    gf = body["data"]["fileCreate"]["files"][0]
    assert gf["id"].startswith("gid://shopify/GenericFile/") and gf["fileStatus"] == "UPLOADED"
    gfinal = emu.wait(
        lambda: (
            (
                n := emu.gql(
                    token,
                    f'{{ node(id: "{gf["id"]}") {{ ... on GenericFile {{ fileStatus url }} }} }}',
                ).json()["data"]["node"]
            )
            and n["fileStatus"] == "READY"
            and n
        )
    )
    assert requests.get(gfinal["url"], timeout=5).status_code == 200
    # fileCreate validation: alt too long, mismatched filename
    body = emu.shopify_gql(
        token,
        """mutation { fileCreate(files: [
      {originalSource: "%s/img/8x8.png", alt: "%s"},
      {originalSource: "%s/img/8x8.png", filename: "x.pdf"}]) { files { id } userErrors { code } } }"""
        % (assets, "b" * 513, assets),
    )
    assert [e["code"] for e in body["data"]["fileCreate"]["userErrors"]] == [
        "ALT_VALUE_LIMIT_EXCEEDED",
        "MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE",
    ]
    # fileDelete removes a medium from the library and every product
    body = emu.shopify_gql(
        token,
        "mutation($ids: [ID!]!) { fileDelete(fileIds: $ids) "
        "{ deletedFileIds userErrors { code } } }",
        {"ids": [created[0]["id"], "gid://shopify/MediaImage/1"]},
    )
    assert body["data"]["fileDelete"]["userErrors"][0]["code"] == "FILE_DOES_NOT_EXIST"
    body = emu.shopify_gql(
        token,
        "mutation($ids: [ID!]!) { fileDelete(fileIds: $ids) "
        "{ deletedFileIds userErrors { code } } }",
        {"ids": [created[0]["id"]]},
    )
    assert body["data"]["fileDelete"]["deletedFileIds"] == [created[0]["id"]]
    gallery = emu.gql(
        token, f'{{ product(id: "{pid}") {{ media(first: 5) {{ nodes {{ id }} }} }} }}'
    )
    assert [n["id"] for n in gallery.json()["data"]["product"]["media"]["nodes"]] == [
        created[1]["id"]
    ]


def test_staged_upload_rejects_bad_signature(emu):
    token = emu.shop(SHOP)
    t = emu.shopify_gql(
        token,
        """mutation { stagedUploadsCreate(input: [{resource: IMAGE,
      filename: "a.png", mimeType: "image/png"}]) { stagedTargets { url resourceUrl } } }""",
    )
    target = t["data"]["stagedUploadsCreate"]["stagedTargets"][0]
    assert (
        requests.put(target["resourceUrl"] + "?signature=forged", data=b"x", timeout=5).status_code
        == 403
    )


def test_processed_time_is_when_the_file_turned_ready_not_its_last_update(emu, assets):
    token = emu.shop(SHOP)
    created = emu.gql(
        token,
        """mutation { fileCreate(files: [{originalSource: "%s/img/6x6.png"}])
           { files { id } userErrors { code } } }"""
        % assets,
    ).json()["data"]["fileCreate"]["files"][0]

    def dumped():
        files = emu.control("GET", f"shops/{SHOP}")["files"]
        return next(f for f in files if f["id"] == created["id"])

    ready = emu.wait(lambda: (f := dumped())["status"] == "READY" and f)
    assert ready["created"] < ready["processed"] <= ready["updated"]

    body = emu.gql(token, FILE_UPDATE, {"files": [{"id": created["id"], "alt": "later"}]}).json()
    assert body["data"]["fileUpdate"]["userErrors"] == []
    after = dumped()
    assert after["alt"] == "later"
    assert after["updated"] > ready["updated"]
    assert after["processed"] == ready["processed"]


def test_connections_are_kept_alive_between_requests(emu):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", emu.running.port, timeout=10)
    try:
        sockets = []
        for _ in range(3):
            conn.request("GET", "/_control/")
            response = conn.getresponse()
            assert response.status == 200
            assert response.version == 11
            assert (response.getheader("Connection") or "").lower() != "close"
            response.read()
            sockets.append(conn.sock)
        assert sockets[0] is not None
        assert all(s is sockets[0] for s in sockets)  # one connection answered all three
    finally:
        conn.close()


def test_images_over_20_megapixels_fail_as_shopify_documents(emu, assets):
    """Shopify's media guide: at most 4472 × 4472 px, or 20 megapixels; one number in the
    emulator, its message and the app's failure explanation."""
    from reports.failures import explain
    from sandbox.shopify.media import MAX_IMAGE_PIXELS, MESSAGES
    from stores.shopify.media import MAX_IMAGE_PIXELS as APP_MAX

    assert MAX_IMAGE_PIXELS == APP_MAX == 20_000_000
    token = emu.shop(SHOP, products=1)
    pid = _product(emu, token)["id"]
    body = _add(emu, token, pid, f"{assets}/img/4472x4472.gif", f"{assets}/img/5000x4001.gif")
    ids = [n["id"] for n in body["data"]["productUpdate"]["product"]["media"]["nodes"]]
    nodes = _wait_final(emu, token, ids)
    assert [n["status"] for n in nodes] == ["READY", "FAILED"]
    assert nodes[1]["mediaErrors"][0]["code"] == "INVALID_IMAGE_RESOLUTION"
    assert "20 megapixels" in MESSAGES["INVALID_IMAGE_RESOLUTION"]
    assert "20-megapixel" in str(explain("INVALID_IMAGE_RESOLUTION"))
