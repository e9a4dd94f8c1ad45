"""The Cloudinary client over HTTP against the Cloudinary emulator, through the real SDK."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from stores.cloudinary import (
    Asset,
    CloudinaryClient,
    CloudinaryRateLimited,
    Credentials,
)
from stores.models import AssetCaption
from stores.services import asset_caption


def client_for(cloud, **kw) -> CloudinaryClient:
    return CloudinaryClient(cloud.credentials, **kw)


def some_ids(cloud, n):
    return sorted(cloud.state.assets)[:n]


def test_asset_ids_resolve_in_order_and_missing_ones_are_reported(cloud):
    ids = some_ids(cloud, 120)
    unknown = "0" * 32
    selection = [ids[5], unknown, *ids, "not-an-id", ids[5]]
    result = client_for(cloud).resolve(asset_ids=selection)
    assert [a.asset_id for a in result.assets] == [ids[5], *ids[:5], *ids[6:]]
    assert result.missing_ids == [unknown, "not-an-id"]
    assert result.calls == 2  # metadata_fields + one search


def test_resolved_assets_carry_labels_context_tags_and_version(cloud):
    with_color = [a for a in cloud.state.assets.values() if a.metadata.get("color")]
    stored = with_color[0]
    asset = client_for(cloud).resolve(asset_ids=[stored.asset_id]).assets[0]
    assert asset.metadata_ids["color"] == stored.metadata["color"]
    assert asset.metadata["color"] != stored.metadata["color"]  # a label, not `color_03`
    field = cloud.state.metadata_fields["color"]
    labels = {v["external_id"]: v["value"] for v in field["datasource"]["values"]}
    assert asset.metadata["color"] == labels[stored.metadata["color"]]
    assert asset.tags == tuple(stored.tags) and asset.context == stored.context
    assert (asset.version, asset.format, asset.width) == (
        stored.version,
        stored.format,
        stored.width,
    )


def test_set_values_map_to_lists_of_labels(cloud):
    with_set = [a for a in cloud.state.assets.values() if a.metadata.get("channels")]
    if not with_set:
        pytest.skip("the seeded library has no set values")
    asset = client_for(cloud).resolve(asset_ids=[with_set[0].asset_id]).assets[0]
    assert isinstance(asset.metadata["channels"], list)
    assert not any(v.startswith("channel_") for v in asset.metadata["channels"])


def test_label_mapping_is_cached_per_workspace(cloud):
    client = client_for(cloud)
    client.resolve(asset_ids=some_ids(cloud, 3))
    client_for(cloud).resolve(asset_ids=some_ids(cloud, 3))  # another client, same cloud
    paths = [r["path"] for r in cloud.requests()]
    assert sum(p.endswith("/metadata_fields") for p in paths) == 1


def test_large_selections_use_one_search_call_per_500_ids(cloud):
    cloud.control("seed", {"n_assets": 1200, "seed": 3})
    ids = some_ids(cloud, 1200)
    result = client_for(cloud).resolve(asset_ids=ids)
    assert len(result.assets) == 1200 and result.missing_ids == []
    assert result.calls == 1 + 3


def test_a_search_expression_pages_with_next_cursor(cloud):
    cloud.control("seed", {"n_assets": 1200, "seed": 3})
    result = client_for(cloud).resolve(expression="resource_type:image")
    images = [a for a in cloud.state.assets.values() if a.resource_type == "image"]
    assert len(result.assets) == len(images) > 500
    assert result.calls == 1 + -(-len(images) // 500)
    assert [a.public_id for a in result.assets] == sorted(a.public_id for a in images)


def test_a_spent_budget_fails_with_the_reset_time_and_stops_calling(cloud):
    cloud.control("rate_limit", {"limit": 100, "remaining": 2})
    client = client_for(cloud)
    client.resolve(asset_ids=some_ids(cloud, 2))  # metadata_fields + 1 search: 0 left
    calls_before = len(cloud.requests())
    with pytest.raises(CloudinaryRateLimited) as exc:
        client.resolve(asset_ids=some_ids(cloud, 3)[2:])
    assert exc.value.reset_at is not None and exc.value.reset_at > datetime.now(UTC)
    assert "resets at" in exc.value.message
    with pytest.raises(CloudinaryRateLimited):
        client.resolve(asset_ids=some_ids(cloud, 4)[3:])
    assert len(cloud.requests()) == calls_before  # never hammers


def test_a_420_from_cloudinary_becomes_rate_limited_with_the_reset(cloud):
    cloud.control("rate_limit", {"limit": 100, "remaining": 0})
    with pytest.raises(CloudinaryRateLimited) as exc:
        client_for(cloud).resolve(asset_ids=some_ids(cloud, 1))
    assert exc.value.reset_at is not None
    assert exc.value.extra["reset_at"]


def test_a_batch_the_known_budget_cannot_finish_is_refused_up_front(cloud):
    cloud.control("seed", {"n_assets": 1200, "seed": 3})
    client = client_for(cloud)
    client.resolve(asset_ids=some_ids(cloud, 1))  # learns the budget, caches the schema
    cloud.control("rate_limit", {"remaining": 2})
    client.resolve(asset_ids=some_ids(cloud, 1))  # reading: 1 left
    before = len(cloud.requests())
    with pytest.raises(CloudinaryRateLimited):
        client.resolve(asset_ids=some_ids(cloud, 1200))  # needs 3 searches
    assert len(cloud.requests()) == before


def test_delivery_urls_have_the_transformation_and_an_explicit_format(cloud):
    client = client_for(cloud)
    images = sorted(a.asset_id for a in cloud.state.assets.values() if a.resource_type == "image")
    asset = client.resolve(asset_ids=images[:1]).assets[0]
    url = client.delivery_url(asset, transformation="c_limit,w_400,h_400,q_auto", format="jpg")
    assert url == (
        f"{cloud.url}/{cloud.name}/{asset.resource_type}/upload/c_limit,w_400,h_400,q_auto/"
        f"v{asset.version}/{asset.public_id}.jpg"
    )
    png = client.delivery_url(asset, transformation="w_100", format="png")
    assert png.endswith(f"/w_100/v{asset.version}/{asset.public_id}.png")
    response = requests.get(png, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/png"


def test_delivery_urls_point_at_res_cloudinary_in_production(cloud, settings):
    client = client_for(cloud)
    asset = client.resolve(asset_ids=some_ids(cloud, 1)).assets[0]
    settings.CLOUDINARY_API_BASE_URL = ""
    prod = CloudinaryClient(cloud.credentials)
    assert prod.delivery_url(asset, transformation="q_auto", format="jpg").startswith(
        f"https://res.cloudinary.com/{cloud.name}/"
    )


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    public_id=st.text(min_size=1, max_size=40).filter(lambda t: not t.startswith("http")),
    version=st.integers(min_value=1, max_value=2**40),
    resource_type=st.sampled_from(["image", "video"]),
    transformation=st.sampled_from(["", "c_fill,w_160,h_160", "w_100/e_grayscale"]),
    prefix=st.sampled_from(["", "http://127.0.0.1:8702"]),
)
def test_urls_built_for_many_assets_equal_the_sdks(
    public_id, version, resource_type, transformation, prefix
):
    """The dry run's thumbnails: one SDK call per kind, then per asset only its id and version
    — the same URL the SDK gives, whatever the public id (spaces, %, unicode, slashes)."""
    client = CloudinaryClient(Credentials("demo-cloud", "k", "s"))
    client.prefix = prefix
    asset = Asset("a" * 32, public_id, resource_type, "upload", "png", version, None, None, None,
                  (), {}, {}, {}, "", "", "", "", None)  # fmt: skip
    build = client.delivery_urls(
        resource_type=resource_type, transformation=transformation, format="jpg"
    )
    expected = client.delivery_url(asset, transformation=transformation, format="jpg")
    assert build(public_id, version) == expected


@pytest.mark.django_db
def test_captions_are_asked_for_once_per_asset_version(cloud):
    client = client_for(cloud)
    images = [a for a in cloud.state.assets.values() if a.resource_type == "image"]
    asset = client.resolve(asset_ids=[images[0].asset_id]).assets[0]
    first = asset_caption(cloudinary=client, asset=asset)
    again = asset_caption(cloudinary=client, asset=asset)
    assert first and first == again
    updates = [r for r in cloud.requests() if "/resources/image/upload/" in r["path"]]
    assert len(updates) == 1
    assert AssetCaption.objects.get(asset_id=asset.asset_id).version == asset.version
    cloud.control(f"assets/{asset.asset_id}", {})  # a new version of the asset
    newer = client.resolve(asset_ids=[asset.asset_id]).assets[0]
    assert newer.version != asset.version
    asset_caption(cloudinary=client, asset=newer)
    updates = [r for r in cloud.requests() if "/resources/image/upload/" in r["path"]]
    assert len(updates) == 2


def test_test_connection_tells_the_setup_mistakes_apart(cloud, settings):
    assert client_for(cloud).test_connection().problem == "ok"
    wrong_secret = Credentials(cloud.name, cloud.credentials.api_key, "wrong")
    assert CloudinaryClient(wrong_secret).test_connection().problem == "bad_credentials"
    wrong_key = Credentials(cloud.name, "wrong", cloud.credentials.api_secret)
    assert CloudinaryClient(wrong_key).test_connection().problem == "bad_credentials"
    unknown = Credentials("no-such-cloud", "k", "s")
    assert CloudinaryClient(unknown).test_connection().problem == "unknown_cloud"
    settings.CLOUDINARY_API_BASE_URL = "http://127.0.0.1:9"
    check = CloudinaryClient(cloud.credentials, timeout=2).test_connection()
    assert (check.ok, check.problem) == (False, "unreachable")
