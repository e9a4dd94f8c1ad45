"""The Admin and Search APIs, driven through the real `cloudinary` SDK."""

from __future__ import annotations

import re

import cloudinary
import cloudinary.api
import cloudinary.uploader
import pytest
from cloudinary.exceptions import AuthorizationRequired, BadRequest, NotFound, RateLimited

from sandbox.cloudinary.state import EmulatorError


def search(expression, *fields, max_results=500, cursor=None, sort=None):
    s = cloudinary.Search().expression(expression).max_results(max_results)
    for f in fields:
        s = s.with_field(f)
    if cursor:
        s = s.next_cursor(cursor)
    for field, direction in sort or []:
        s = s.sort_by(field, direction)
    return s.execute()


def ids(result):
    return {r["asset_id"] for r in result["resources"]}


# -- metadata fields ----------------------------------------------------------------------
def test_metadata_fields_with_datasources(cloud):
    result = cloudinary.api.list_metadata_fields()
    fields = {f["external_id"]: f for f in result["metadata_fields"]}
    assert {
        "sku",
        "sequence_number",
        "asset_type",
        "color",
        "alt",
        "launch_date",
        "channels",
    } <= set(fields)
    assert fields["sku"]["type"] == "string"
    assert fields["sequence_number"]["type"] == "integer"
    assert fields["launch_date"]["type"] == "date"
    assert fields["channels"]["type"] == "set"
    asset_type = fields["asset_type"]
    assert asset_type["type"] == "enum"
    labels = {v["value"] for v in asset_type["datasource"]["values"]}
    assert labels == {"product", "swatch", "lifestyle"}
    for v in fields["color"]["datasource"]["values"]:
        assert set(v) == {"external_id", "value", "state"}
    states = {v["value"]: v["state"] for v in fields["color"]["datasource"]["values"]}
    assert states["Red"] == "active" and states["Beige"] == "inactive"
    one = cloudinary.api.metadata_field_by_field_id("color")
    assert one["external_id"] == "color" and one["datasource"] == fields["color"]["datasource"]
    with pytest.raises(NotFound):
        cloudinary.api.metadata_field_by_field_id("nope")


def test_ping(cloud):
    assert cloudinary.api.ping()["status"] == "ok"


# -- search -------------------------------------------------------------------------------
def expected(cloud, predicate):
    return {a.asset_id for a in cloud.assets() if predicate(a)}


def test_search_by_metadata_tags_folder_and_boolean_operators(cloud):
    a = next(a for a in cloud.assets() if a.metadata.get("sku"))
    sku = a.metadata["sku"]
    assert ids(search(f'metadata.sku="{sku}"')) == expected(
        cloud, lambda x: x.metadata.get("sku") == sku
    )
    assert ids(search("tags=ss26 AND resource_type:image")) == expected(
        cloud, lambda x: "ss26" in x.tags and x.resource_type == "image"
    )
    assert ids(search('folder="products/shoes" OR asset_folder=products/bags')) == expected(
        cloud, lambda x: x.asset_folder in ("products/shoes", "products/bags")
    )
    assert ids(search("folder:products/*")) == expected(
        cloud, lambda x: x.asset_folder.startswith("products/")
    )
    assert ids(search("NOT tags=ss26 AND -resource_type=video")) == expected(
        cloud, lambda x: "ss26" not in x.tags and x.resource_type != "video"
    )
    assert ids(
        search("(tags=swatch OR tags=lifestyle) AND metadata.sequence_number>=3")
    ) == expected(
        cloud,
        lambda x: (
            ({"swatch", "lifestyle"} & set(x.tags))
            and (x.metadata.get("sequence_number") or 0) >= 3
        ),
    )


def test_search_enum_and_set_match_datasource_external_ids(cloud):
    got = ids(search("metadata.asset_type=asset_type_swatch"))
    assert got and got == expected(
        cloud, lambda x: x.metadata.get("asset_type") == "asset_type_swatch"
    )
    # the label is not what is stored
    assert search("metadata.asset_type=swatch")["total_count"] == 0
    got = ids(search("metadata.channels=channel_store"))
    assert got == expected(cloud, lambda x: "channel_store" in (x.metadata.get("channels") or []))
    assert got


def test_search_context_tokenized_and_exact(cloud):
    with_alt = [a for a in cloud.assets() if a.context.get("alt")]
    alt = with_alt[0].context["alt"]
    assert with_alt[0].asset_id in ids(search(f'context.alt="{alt}"'))
    word = alt.split()[0].lower()  # a color, e.g. "red"
    assert ids(search(f"context.alt:{word}")) == expected(
        cloud, lambda x: word in re.findall(r"[a-z0-9]+", x.context.get("alt", "").lower())
    )
    assert ids(search("context.photographer:*")) == expected(
        cloud, lambda x: "photographer" in x.context
    )


def test_search_asset_ids_and_public_id_prefix(cloud):
    chosen = cloud.assets()[:25]
    expr = " OR ".join(f"asset_id={a.asset_id}" for a in chosen)
    assert ids(search(expr)) == {a.asset_id for a in chosen}
    assert ids(search(f"asset_id:{chosen[0].asset_id}")) == {chosen[0].asset_id}
    assert ids(search("public_id:products/shoes/*")) == expected(
        cloud, lambda x: x.public_id.startswith("products/shoes/")
    )
    assert ids(search('public_id="unsorted/img_00001"')) == expected(
        cloud, lambda x: x.public_id == "unsorted/img_00001"
    )


def test_search_response_shapes_follow_with_field(cloud):
    plain = search("resource_type:image", max_results=3)
    r = plain["resources"][0]
    assert set(plain) >= {"total_count", "time", "resources", "next_cursor"}
    for key in (
        "asset_id",
        "public_id",
        "asset_folder",
        "filename",
        "format",
        "version",
        "resource_type",
        "type",
        "created_at",
        "bytes",
        "width",
        "height",
        "secure_url",
        "url",
    ):
        assert key in r
    assert re.fullmatch(r"[0-9a-f]{32}", r["asset_id"])
    assert "metadata" not in r and "tags" not in r and "context" not in r
    full = search("context.alt:*", "metadata", "context", "tags", max_results=3)
    r = full["resources"][0]
    assert isinstance(r["tags"], list)
    assert "custom" not in r["context"] and "alt" in r["context"]  # flat in search results
    assert isinstance(r["metadata"]["color"], str) and r["metadata"]["color"].startswith("color_")
    assert r["secure_url"].startswith(f"{cloud.url}/{cloud.name}/image/upload/v{r['version']}/")


def test_search_paging_with_next_cursor_and_sort(cloud):
    seen, cursor, pages = [], None, 0
    while True:
        page = search(
            "resource_type:image", max_results=17, cursor=cursor, sort=[("public_id", "asc")]
        )
        seen += [r["public_id"] for r in page["resources"]]
        pages += 1
        cursor = page.get("next_cursor")
        if not cursor:
            break
    images = sorted(a.public_id for a in cloud.assets() if a.resource_type == "image")
    assert seen == images
    assert pages == -(-len(images) // 17)
    assert page["total_count"] == len(images)


def test_default_sort_is_newest_first(cloud):
    got = [r["created_at"] for r in search("", max_results=50)["resources"]]
    assert got == sorted(got, reverse=True)


def test_max_results_over_500_is_a_bad_request(cloud):
    with pytest.raises(BadRequest, match="max_results"):
        search("tags=ss26", max_results=501)
    assert len(search("", max_results=500)["resources"]) == 120


@pytest.mark.parametrize(
    "expression",
    [
        'tags="unterminated',
        "tags=ss26 AND",
        "(tags=ss26",
        "nosuchfield=1",
        "metadata.nope=1",
        "a:b:c",
    ],
)
def test_bad_expression_is_a_bad_request(cloud, expression):
    with pytest.raises(BadRequest, match="Invalid search expression"):
        search(expression)


def test_bad_cursor_and_with_field(cloud):
    with pytest.raises(BadRequest):
        search("tags=ss26", cursor="not-a-cursor")
    with pytest.raises(BadRequest):
        search("tags=ss26", "bogus_field")


# -- by asset ids, single resource ----------------------------------------------------------
def test_resources_by_asset_ids_limits_and_unknown_ids(cloud):
    chosen = [a.asset_id for a in cloud.assets()[:10]]
    result = cloudinary.api.resources_by_asset_ids(chosen, tags=True, context=True, metadata=True)
    assert [r["asset_id"] for r in result["resources"]] == chosen
    r = result["resources"][0]
    assert "tags" in r and "metadata" in r
    bare = cloudinary.api.resources_by_asset_ids(chosen[:2])
    assert "tags" not in bare["resources"][0] and "metadata" not in bare["resources"][0]
    unknown = "0" * 32
    got = cloudinary.api.resources_by_asset_ids([chosen[0], unknown])
    assert [r["asset_id"] for r in got["resources"]] == [chosen[0]]
    with pytest.raises(BadRequest, match="Too many asset IDs"):
        cloudinary.api.resources_by_asset_ids([a.asset_id for a in cloud.assets()[:11]])


def test_resource_by_asset_id_and_public_id(cloud):
    a = next(x for x in cloud.assets() if x.context)
    by_id = cloudinary.api.resource_by_asset_id(a.asset_id)
    by_pid = cloudinary.api.resource(a.public_id)
    assert by_id["public_id"] == a.public_id == by_pid["public_id"]
    assert by_id["context"] == {"custom": a.context}  # Admin API shape
    assert by_id["metadata"]["sku"] == a.metadata["sku"]
    with pytest.raises(NotFound, match="Resource not found"):
        cloudinary.api.resource_by_asset_id("f" * 32)
    with pytest.raises(NotFound):
        cloudinary.api.resource("products/no/such")
    video = next(x for x in cloud.assets() if x.resource_type == "video")
    assert cloudinary.api.resource(video.public_id, resource_type="video")["format"] == "mp4"


def test_update_tags_context_and_metadata(cloud):
    a = next(x for x in cloud.assets() if x.resource_type == "image" and x.metadata.get("sku"))
    r = cloudinary.api.update(
        a.public_id,
        tags=["one", "two"],
        context={"alt": "A = B | C", "caption": "hi"},
        metadata={"sequence_number": 12, "channels": ["channel_web", "channel_market"]},
    )
    assert r["tags"] == ["one", "two"]
    assert r["context"]["custom"] == {"alt": "A = B | C", "caption": "hi"}
    assert r["metadata"]["sequence_number"] == 12
    assert r["metadata"]["channels"] == ["channel_web", "channel_market"]
    assert a.asset_id in ids(search("metadata.sequence_number=12"))
    with pytest.raises(BadRequest, match="not valid"):
        cloudinary.api.update(a.public_id, metadata={"color": "Red"})  # a label, not an id
    with pytest.raises(BadRequest, match="does not exist"):
        cloudinary.api.update(a.public_id, metadata={"nope": "x"})


def test_update_by_asset_id_with_captioning(cloud):
    a = next(
        x
        for x in cloud.assets()
        if x.metadata.get("asset_type") == "asset_type_product" and x.resource_type == "image"
    )
    from cloudinary.api_client.call_api import call_json_api

    r = call_json_api("post", ["resources", a.asset_id], {"detection": "captioning"})
    cap = r["info"]["detection"]["captioning"]
    assert cap["status"] == "complete"
    color = cloud.cloud.datasource_label("color", a.metadata["color"]).lower()
    assert cap["data"]["caption"].startswith(f"A {color} ")
    assert cap["data"]["caption"].endswith("on a white background")
    again = cloudinary.api.update(a.public_id, detection="captioning")
    assert again["info"] == r["info"]  # deterministic


def test_captioning_needs_the_add_on(cloud):
    a = next(x for x in cloud.assets() if x.resource_type == "image")
    cloud.control("POST", f"clouds/{cloud.name}/settings", json={"captioning": False})
    with pytest.raises(BadRequest, match="add-on"):
        cloudinary.api.update(a.public_id, detection="captioning")


# -- errors and auth ------------------------------------------------------------------------
def test_bad_credentials_and_unknown_cloud(cloud):
    with pytest.raises(AuthorizationRequired, match="Invalid api_key"):
        cloudinary.api.ping(api_key="wrong")
    with pytest.raises(AuthorizationRequired, match="api_secret mismatch"):
        cloudinary.api.ping(api_secret="wrong")
    with pytest.raises(AuthorizationRequired, match="Invalid cloud_name"):
        cloudinary.api.ping(cloud_name="nosuchcloud")
    r = cloud.admin("GET", "ping", auth=("", ""))
    assert r.status_code == 401 and r.json() == {"error": {"message": "Must supply api_key"}}


def test_error_bodies_over_http(cloud):
    r = cloud.admin("GET", f"resources/{'a' * 32}")
    assert r.status_code == 404
    assert r.json() == {"error": {"message": f"Resource not found - {'a' * 32}"}}
    r = cloud.admin("POST", "resources/search", json={"expression": "(("})
    assert r.status_code == 400 and "message" in r.json()["error"]


# -- rate limits ----------------------------------------------------------------------------
def test_rate_limit_headers_and_420_when_spent(cloud):
    cloud.control("POST", f"clouds/{cloud.name}/rate_limit", json={"limit": 3, "reset": True})
    remaining = []
    for _ in range(3):
        r = cloudinary.api.ping()
        assert r.rate_limit_allowed == 3
        remaining.append(r.rate_limit_remaining)
        assert r.rate_limit_reset_at is not None and r.rate_limit_reset_at[4] == 0  # top of hour
    assert remaining == [2, 1, 0]
    with pytest.raises(RateLimited, match="Rate Limit Exceeded"):
        cloudinary.Search().expression("tags=ss26").execute()
    raw = cloud.admin("GET", "ping")
    assert raw.status_code == 420
    assert raw.headers["X-FeatureRateLimit-Remaining"] == "0"
    assert raw.headers["X-FeatureRateLimit-Limit"] == "3"
    assert raw.headers["X-FeatureRateLimit-Reset"].endswith("GMT")
    assert "Rate Limit Exceeded" in raw.json()["error"]["message"]
    # a new hour brings a new budget
    cloud.control("POST", "clock", json={"advance": 3600})
    try:
        assert cloudinary.api.ping().rate_limit_remaining == 2
    finally:
        cloud.control("POST", "clock", json={"offset": 0})


def test_rate_limit_counts_every_admin_call_not_delivery(cloud):
    before = cloud.cloud.rate.used
    cloudinary.api.list_metadata_fields()
    search("tags=ss26")
    with pytest.raises(NotFound):
        cloudinary.api.resource_by_asset_id("0" * 32)
    a = next(x for x in cloud.assets() if x.resource_type == "image")
    import requests

    assert requests.get(
        f"{cloud.url}/{cloud.name}/image/upload/w_10/{a.public_id}.png", timeout=10
    ).ok
    assert cloud.cloud.rate.used == before + 3
    log = cloud.control("GET", f"clouds/{cloud.name}/requests").json()["requests"]
    assert [entry["status"] for entry in log[-3:]] == [200, 200, 404]


def test_emulator_error_is_an_exception_with_status():
    e = EmulatorError(404, "x")
    assert e.status == 404 and e.message == "x"


# -- Upload API: explicit and update_metadata (signed, not rate-limited) ---------------------
def test_explicit_captioning_is_signed_and_not_rate_limited(cloud):
    import cloudinary.uploader

    a = next(x for x in cloud.assets() if x.resource_type == "image" and x.metadata.get("sku"))
    cloud.control("POST", f"clouds/{cloud.name}/rate_limit", json={"limit": 1, "remaining": 0})
    r = cloudinary.uploader.explicit(a.public_id, type="upload", detection="captioning")
    assert r["asset_id"] == a.asset_id
    assert r["info"]["detection"]["captioning"]["data"]["caption"]
    with pytest.raises(cloudinary.exceptions.AuthorizationRequired, match="Invalid Signature"):
        cloudinary.uploader.explicit(a.public_id, type="upload", api_secret="wrong")
    with pytest.raises(cloudinary.exceptions.NotFound):
        cloudinary.uploader.explicit("no/such/asset", type="upload")


def test_update_metadata_upload_api(cloud):
    import cloudinary.uploader

    a, b = [x for x in cloud.assets() if x.resource_type == "image"][:2]
    r = cloudinary.uploader.update_metadata({"alt": "Hand written"}, [a.public_id, b.public_id])
    assert r["public_ids"] == [a.public_id, b.public_id]
    assert a.metadata["alt"] == b.metadata["alt"] == "Hand written"
    with pytest.raises(BadRequest):
        cloudinary.uploader.update_metadata({"color": "nope"}, [a.public_id])


def test_search_get_variant_fields_aggregate_and_metadata_sort(cloud):
    r = cloud.admin(
        "GET",
        "resources/search",
        params={"expression": "tags=ss26", "max_results": 5, "with_field": ["tags", "metadata"]},
    )
    assert r.status_code == 200
    body = r.json()
    assert len(body["resources"]) == 5 and "tags" in body["resources"][0]
    assert r.headers["X-FeatureRateLimit-Limit"]
    only = cloudinary.Search().expression("").fields("format").max_results(3).execute()
    assert set(only["resources"][0]) == {"asset_id", "public_id", "format"}
    agg = cloudinary.Search().expression("").aggregate("resource_type").max_results(1).execute()
    assert agg["aggregations"]["resource_type"] == {
        "image": sum(1 for a in cloud.assets() if a.resource_type == "image"),
        "video": sum(1 for a in cloud.assets() if a.resource_type == "video"),
    }
    ordered = search("metadata.sku:*", "metadata", sort=[("metadata.sequence_number", "asc")])
    seqs = [x["metadata"]["sequence_number"] for x in ordered["resources"]]
    assert seqs == sorted(seqs)
    with pytest.raises(BadRequest, match="sort"):
        search("", sort=[("nonsense", "asc")])


def test_list_resources_and_by_public_ids(cloud):
    page = cloudinary.api.resources(type="upload", max_results=30)
    assert len(page["resources"]) == 30 and page["next_cursor"]
    rest = cloudinary.api.resources(type="upload", max_results=500, next_cursor=page["next_cursor"])
    images = [a for a in cloud.assets() if a.resource_type == "image"]
    assert len(page["resources"]) + len(rest["resources"]) == len(images)
    pids = [a.public_id for a in images[:3]]
    got = cloudinary.api.resources_by_ids(pids, tags=True)
    assert [r["public_id"] for r in got["resources"]] == pids and "tags" in got["resources"][0]


def test_malformed_parameters_are_bad_requests(cloud):
    r = cloud.admin("GET", "resources/image/upload", params={"max_results": "lots"})
    assert r.status_code == 400 and "error" in r.json()
    r = cloud.admin(
        "POST", "resources/search", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["error"]["message"] == "Invalid JSON body"


def test_an_uploads_bytes_is_the_files_real_size(cloud, tmp_path):
    """Cloudinary's upload answer reports the stored file's size (the app stores it:
    stores/cloudinary/assets.py); the emulator made one up (125,000 for a 3,381-byte file)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "PNG")
    path = tmp_path / "red.png"
    path.write_bytes(buf.getvalue())
    from_file = cloudinary.uploader.upload(str(path), public_id="real/size")
    assert from_file["bytes"] == len(buf.getvalue())
    data_uri = "data:image/png;base64,iVBORw0KGgo="  # 8 bytes
    assert cloudinary.uploader.upload(data_uri, public_id="real/tiny")["bytes"] == 8
    assert cloudinary.api.resource("real/size")["bytes"] == len(buf.getvalue())


def test_resources_by_context_finds_the_assets_with_the_key(cloud):
    """pycloudinary's own test_api.py uploads two assets with a context key and expects
    resources_by_context(key) to return 2, and (key, value) the one with that value."""
    for pid, value in (("ctx/a", "one"), ("ctx/b", "two")):
        cloudinary.uploader.upload(
            "data:image/png;base64,iVBORw0KGgo=", public_id=pid, context=f"ctxkey={value}"
        )
    cloudinary.uploader.upload("data:image/png;base64,iVBORw0KGgo=", public_id="ctx/none")
    found = cloudinary.api.resources_by_context("ctxkey")["resources"]
    assert sorted(r["public_id"] for r in found) == ["ctx/a", "ctx/b"]
    one = cloudinary.api.resources_by_context("ctxkey", "two")["resources"]
    assert [r["public_id"] for r in one] == ["ctx/b"]
