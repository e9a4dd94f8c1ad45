"""Pure parts of the Cloudinary client: chunking asset ids, metadata labels, asset parsing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stores.cloudinary.assets import (
    MetadataSchema,
    asset_from_resource,
    asset_id_expressions,
    split_asset_ids,
)

SCHEMA = MetadataSchema.from_api(
    {
        "metadata_fields": [
            {"external_id": "sku", "type": "string", "label": "SKU"},
            {
                "external_id": "color",
                "type": "enum",
                "label": "Color",
                "datasource": {
                    "values": [
                        {"external_id": "c1", "value": "Red"},
                        {"external_id": "c9", "value": "Beige", "state": "inactive"},
                    ]
                },
            },
            {
                "external_id": "channels",
                "type": "set",
                "datasource": {"values": [{"external_id": "w", "value": "web"}]},
            },
        ]
    }
)

hex_ids = st.lists(st.text("0123456789abcdef", min_size=32, max_size=32), max_size=1200)


@given(hex_ids)
def test_chunks_keep_every_id_once_in_order_within_limits(ids):
    chunks = asset_id_expressions(ids, max_ids=500, max_chars=24_000)
    assert [i for chunk, _ in chunks for i in chunk] == ids
    for chunk, expression in chunks:
        assert 1 <= len(chunk) <= 500
        assert len(expression) <= 24_000
        assert expression == " OR ".join(f"asset_id={i}" for i in chunk)


def test_a_short_expression_limit_makes_more_chunks():
    ids = [f"{n:032x}" for n in range(100)]
    chunks = asset_id_expressions(ids, max_ids=500, max_chars=45 * 10)
    assert [len(c) for c, _ in chunks] == [10] * 10


def test_malformed_and_duplicate_ids_are_split_off():
    good, bad = split_asset_ids(["a" * 32, " " + "a" * 32, "nope", "b" * 32, 'x" OR tags=y'])
    assert good == ["a" * 32, "b" * 32]
    assert bad == ["nope", 'x" OR tags=y']


def test_enum_and_set_values_are_mapped_to_labels():
    labelled = SCHEMA.labelled(
        {"sku": "SKU-1", "color": "c9", "channels": ["w", "gone"], "other": 3}
    )
    assert labelled == {"sku": "SKU-1", "color": "Beige", "channels": ["web", "gone"], "other": 3}


def test_an_asset_is_typed_from_a_search_result():
    resource = {
        "asset_id": "a" * 32,
        "public_id": "products/shoes/sku-1_1",
        "resource_type": "image",
        "type": "upload",
        "format": "jpg",
        "version": 17,
        "width": 800,
        "height": 600,
        "bytes": 1234,
        "tags": ["ss26"],
        "context": {"alt": "Red shoe"},
        "metadata": {"color": "c1"},
        "asset_folder": "products/shoes",
        "created_at": "2026-01-02T03:04:05Z",
    }
    asset = asset_from_resource(resource, SCHEMA)
    assert asset.metadata == {"color": "Red"} and asset.metadata_ids == {"color": "c1"}
    assert asset.filename == "sku-1_1" and asset.folder == "products/shoes"
    assert asset.context == {"alt": "Red shoe"} and asset.tags == ("ss26",)
    assert asset.created_at.year == 2026 and asset.version == 17


def test_admin_api_context_is_flattened():
    resource = {"asset_id": "a" * 32, "public_id": "x", "context": {"custom": {"alt": "A"}}}
    assert asset_from_resource(resource, SCHEMA).context == {"alt": "A"}
