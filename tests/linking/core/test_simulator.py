"""The simulator refuses what Shopify refuses, so plans that pass it are executable."""

import pytest

from linking.core import (
    AssignVariantImage,
    CreateMedia,
    GalleryItem,
    MoveMedia,
    Operations,
    ProductState,
    SimulationError,
    UnlinkMedia,
    UpdateAlt,
    apply_operations,
    apply_to_state,
)

GALLERY = [GalleryItem("m1"), GalleryItem("m2")]


@pytest.mark.parametrize(
    "ops",
    [
        Operations(unlinks=[UnlinkMedia("nope")]),
        Operations(moves=[MoveMedia("nope", 0)]),
        Operations(moves=[MoveMedia("m1", -1)]),
        Operations(alt_updates=[UpdateAlt("nope", "x")]),
        Operations(creates=[CreateMedia("m1", "a", 1, "")]),
    ],
)
def test_operations_on_missing_or_duplicate_media_are_refused(ops):
    with pytest.raises(SimulationError):
        apply_operations(GALLERY, ops)


def test_creating_past_250_is_refused():
    gallery = [GalleryItem(f"m{i}") for i in range(250)]
    with pytest.raises(SimulationError, match="PRODUCT_MEDIA_LIMIT_EXCEEDED"):
        apply_operations(gallery, Operations(creates=[CreateMedia("n", "a", 1, "")]))


def test_execution_order_is_unlink_create_move_alt():
    ops = Operations(
        unlinks=[UnlinkMedia("m1")],
        creates=[CreateMedia("n1", "a", 1, "", "alt")],
        moves=[MoveMedia("n1", 0)],
        alt_updates=[UpdateAlt("m2", "two")],
    )
    after = apply_operations(GALLERY, ops)
    assert [(i.media_id, i.alt, i.status) for i in after] == [
        ("n1", "alt", "UPLOADED"),
        ("m2", "two", "READY"),
    ]
    assert after[0].record.asset_id == "a"


def test_unlinking_clears_the_variant_image_and_assignment_needs_the_media():
    state = ProductState("p", tuple(GALLERY), {"v1": "m1"})
    after = apply_to_state(state, Operations(unlinks=[UnlinkMedia("m1")]))
    assert after.variant_images == {"v1": None}
    with pytest.raises(SimulationError):
        apply_to_state(state, Operations(variant_images=[AssignVariantImage("v1", "zz")]))
