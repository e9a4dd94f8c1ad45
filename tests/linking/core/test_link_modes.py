"""The five link modes, realisation (reuse, refresh, unlink) and the report actions."""

import pytest

from linking.core import (
    AssetToLink,
    FieldError,
    GalleryItem,
    LinkMode,
    LinkRecord,
    LinkSettings,
    MoveMedia,
    ProductState,
    ReportAction,
    SwatchAsset,
    apply_to_state,
    arrange,
    plan_product,
    validate_mode,
)

A = ReportAction


def foreign(n):
    return tuple(GalleryItem(f"m{i}") for i in range(1, n + 1))


def placed(media_id, asset_id, version=1, transformation="", alt=None):
    return GalleryItem(
        media_id, "READY", alt, "IMAGE", LinkRecord(asset_id, version, transformation, alt)
    )


def assets(*ids, **kwargs):
    return [AssetToLink(i, **kwargs) for i in ids]


def run(gallery, s, mode, position=None, **kwargs):
    state = ProductState("p1", tuple(gallery))
    plan = plan_product(state, s, LinkSettings(mode, position), **kwargs)
    assert apply_to_state(state, plan.operations) == plan.after
    return plan


def ids(plan):
    return [i.media_id for i in plan.after.gallery]


def actions(plan):
    return [(r.asset_id, r.action) for r in plan.rows]


def test_overwrite_replaces_first_three_of_five():
    plan = run(foreign(5), assets("a", "b", "c"), LinkMode.OVERWRITE)
    assert ids(plan) == ["new:a@1", "new:b@1", "new:c@1", "m4", "m5"]
    assert [u.media_id for u in plan.operations.unlinks] == ["m1", "m2", "m3"]
    assert actions(plan) == [
        ("a", A.CREATED),
        ("b", A.CREATED),
        ("c", A.CREATED),
        (None, A.UNLINKED),
        (None, A.UNLINKED),
        (None, A.UNLINKED),
    ]


def test_overwrite_with_more_assets_than_media_replaces_everything():
    plan = run(foreign(2), assets("a", "b", "c"), LinkMode.OVERWRITE)
    assert ids(plan) == ["new:a@1", "new:b@1", "new:c@1"]
    assert not plan.operations.moves


def test_overwrite_drops_s_media_from_the_kept_tail():
    gallery = [*foreign(3), placed("x", "a")]
    plan = run(gallery, assets("a"), LinkMode.OVERWRITE)
    assert ids(plan) == ["x", "m2", "m3"]
    assert [u.media_id for u in plan.operations.unlinks] == ["m1"]
    assert plan.operations.moves == [MoveMedia("x", 0)]
    assert actions(plan)[0] == ("a", A.MOVED)


def test_reset_leaves_only_s():
    gallery = [*foreign(3), placed("x", "b")]
    plan = run(gallery, assets("a", "b"), LinkMode.RESET)
    assert ids(plan) == ["new:a@1", "x"]


def test_append_adds_after_the_others_and_moves_s_media_there():
    gallery = [placed("x", "a"), *foreign(2)]
    plan = run(gallery, assets("a", "b"), LinkMode.APPEND)
    assert ids(plan) == ["m1", "m2", "x", "new:b@1"]
    assert plan.operations.moves == [MoveMedia("x", 2)]
    assert actions(plan) == [("a", A.MOVED), ("b", A.CREATED)]


def test_append_twice_changes_nothing():
    state = ProductState("p1", foreign(3))
    link = LinkSettings(LinkMode.APPEND)
    first = plan_product(state, assets("a", "b"), link)
    second = plan_product(apply_to_state(state, first.operations), assets("a", "b"), link)
    assert not second.operations
    assert {r.action for r in second.rows} == {A.UNCHANGED}


def test_prepend_puts_s_first():
    plan = run(foreign(2), assets("a", "b"), LinkMode.PREPEND)
    assert ids(plan) == ["new:a@1", "new:b@1", "m1", "m2"]
    # Creates land at the end; moving the two old media after them is as cheap as the reverse.
    assert len(plan.operations.moves) == 2


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        (1, ["new:a@1", "m1", "m2", "m3"]),
        (2, ["m1", "new:a@1", "m2", "m3"]),
        (4, ["m1", "m2", "m3", "new:a@1"]),
        (99, ["m1", "m2", "m3", "new:a@1"]),
    ],
)
def test_specific_position_is_one_based_and_past_the_end_appends(position, expected):
    assert ids(run(foreign(3), assets("a"), LinkMode.POSITION, position)) == expected


def test_position_counts_without_s_media():
    gallery = [placed("x", "a"), *foreign(3)]
    assert ids(run(gallery, assets("a"), LinkMode.POSITION, 2)) == ["m1", "x", "m2", "m3"]


@pytest.mark.parametrize("position", [0, -1, None, 1.5, True])
def test_position_must_be_a_whole_number_from_one(position):
    with pytest.raises(FieldError, match="position"):
        validate_mode("position", position)


def test_unknown_mode_is_rejected():
    with pytest.raises(FieldError, match="Unknown link mode 'merge'"):
        validate_mode("merge")


def test_arrange_is_plain_gallery_arithmetic():
    e = ["e1", "s1", "e2", "e3"]
    is_s = {"s1"}.__contains__
    assert arrange(LinkMode.OVERWRITE, e, is_s, ["S"]) == ["S", "e2", "e3"]
    assert arrange(LinkMode.RESET, e, is_s, ["S"]) == ["S"]
    assert arrange(LinkMode.APPEND, e, is_s, ["S"]) == ["e1", "e2", "e3", "S"]
    assert arrange(LinkMode.PREPEND, e, is_s, ["S"]) == ["S", "e1", "e2", "e3"]
    assert arrange(LinkMode.POSITION, e, is_s, ["S"], 3) == ["e1", "e2", "S", "e3"]


def test_same_asset_version_and_transformation_is_reused_not_uploaded():
    gallery = [placed("x", "a", 3, "c_limit,w_100")]
    plan = run(gallery, assets("a", version=3, transformation="w_100, c_limit"), LinkMode.APPEND)
    assert not plan.operations
    assert actions(plan) == [("a", A.UNCHANGED)]


def test_newer_version_replaces_the_media_where_the_mode_puts_it():
    gallery = [placed("x", "a", 1), *foreign(2)]
    plan = run(gallery, assets("a", version=2), LinkMode.APPEND)
    assert ids(plan) == ["m1", "m2", "new:a@2"]
    assert [u.media_id for u in plan.operations.unlinks] == ["x"]
    [row] = plan.rows
    assert (row.action, row.previous_media_id, row.position_before, row.position_after) == (
        A.REPLACED,
        "x",
        1,
        3,
    )


def test_other_transformation_replaces_the_media():
    plan = run(
        [placed("x", "a", 1, "q_auto")], assets("a", transformation="c_fill"), LinkMode.APPEND
    )
    assert [c.transformation for c in plan.operations.creates] == ["c_fill"]
    assert actions(plan) == [("a", A.REPLACED)]


def test_a_duplicate_of_the_same_asset_is_unlinked():
    gallery = [placed("x", "a"), placed("y", "a")]
    plan = run(gallery, assets("a"), LinkMode.APPEND)
    assert ids(plan) == ["x"]
    assert actions(plan) == [("a", A.UNCHANGED), ("a", A.UNLINKED)]


def test_media_placed_for_assets_outside_s_are_left_alone():
    gallery = [placed("x", "other"), *foreign(1)]
    plan = run(gallery, assets("a"), LinkMode.PREPEND)
    assert ids(plan) == ["new:a@1", "x", "m1"]


def test_different_alt_is_updated_in_place():
    gallery = [placed("x", "a", alt="old")]
    plan = run(gallery, assets("a", alt="new"), LinkMode.APPEND)
    assert [(u.media_id, u.alt) for u in plan.operations.alt_updates] == [("x", "new")]
    assert plan.after.gallery[0].record.alt == "new"
    assert actions(plan) == [("a", A.ALT_UPDATED)]


def test_alt_none_keeps_shopifys_alt():
    plan = run([placed("x", "a", alt="theirs")], assets("a"), LinkMode.APPEND)
    assert not plan.operations


def test_kept_media_shifted_by_others_are_reused_without_a_move():
    gallery = [*foreign(2), placed("x", "a")]
    plan = run(gallery, assets("a"), LinkMode.RESET)
    assert ids(plan) == ["x"]
    assert not plan.operations.moves
    assert actions(plan)[0] == ("a", A.REUSED)


def test_gallery_over_250_is_not_touched_and_says_why():
    plan = run(foreign(249), assets("a", "b"), LinkMode.APPEND)
    assert plan.after == plan.before and not plan.operations
    assert "251" in plan.skipped_reason and "250" in plan.skipped_reason
    assert {r.action for r in plan.rows} == {A.SKIPPED}
    assert ids(run(foreign(249), assets("a", "b"), LinkMode.OVERWRITE))[:2] == [
        "new:a@1",
        "new:b@1",
    ]


def test_group_first_image_goes_to_the_matched_variants():
    s = [AssetToLink("v", media_type="VIDEO"), AssetToLink("a"), AssetToLink("b")]
    plan = run(foreign(1), s, LinkMode.APPEND, variant_ids=["v1", "v2"])
    assert [(o.variant_id, o.media_id) for o in plan.operations.variant_images] == [
        ("v1", "new:a@1"),
        ("v2", "new:a@1"),
    ]
    off = plan_product(
        ProductState("p1", foreign(1)),
        s,
        LinkSettings(LinkMode.APPEND, assign_variant_images=False),
        variant_ids=["v1"],
    )
    assert not off.operations.variant_images


def test_variant_already_showing_the_image_is_not_reassigned():
    state = ProductState("p1", (placed("x", "a"),), {"v1": "x", "v2": "m9"})
    plan = plan_product(state, assets("a"), LinkSettings(LinkMode.APPEND), variant_ids=["v1", "v2"])
    assert [o.variant_id for o in plan.operations.variant_images] == ["v2"]


def test_swatches_go_to_files_and_the_metafield_in_group_order():
    swatches = [SwatchAsset("s2"), SwatchAsset("s1")]
    plan = run(
        foreign(1),
        assets("a"),
        LinkMode.APPEND,
        swatches=swatches,
        store_files={("s1", 1, ""): "gid://shopify/MediaImage/7"},
    )
    assert [f.asset_id for f in plan.operations.swatch_files] == ["s2"]
    [metafield] = plan.operations.swatch_metafields
    assert (metafield.owner_id, metafield.namespace, metafield.key, metafield.file_ids) == (
        "p1",
        "cloudinary",
        "swatch",
        ("file:s2@1", "gid://shopify/MediaImage/7"),
    )
    assert [r.action for r in plan.rows if r.asset_id.startswith("s")] == [A.SWATCH, A.SWATCH]
    assert "file:s2@1" not in ids(plan)


def test_swatches_of_a_variant_match_go_on_the_variants():
    plan = run(
        foreign(0),
        assets("a"),
        LinkMode.APPEND,
        swatches=[SwatchAsset("s1")],
        variant_ids=["v1", "v2"],
        store_files={("s1", 1, ""): "f1"},
    )
    assert [(m.owner_id, m.file_ids) for m in plan.operations.swatch_metafields] == [
        ("v1", ("f1",)),
        ("v2", ("f1",)),
    ]


def test_unlinks_come_before_creates_so_a_full_gallery_can_be_overwritten():
    # 250 media overwritten by 3 assets: creating first would briefly need 253 places.
    plan = run(foreign(250), assets("a", "b", "c"), LinkMode.OVERWRITE)
    assert len(plan.after.gallery) == 250 and len(plan.operations.unlinks) == 3


def test_a_variant_showing_another_image_has_it_detached_first():
    state = ProductState("p1", (placed("x", "a"), GalleryItem("m9")), {"v1": "m9"})
    plan = plan_product(state, assets("a"), LinkSettings(LinkMode.APPEND), variant_ids=["v1"])
    [assign] = plan.operations.variant_images
    assert (assign.media_id, assign.previous_media_id) == ("x", "m9")


def test_a_variant_whose_image_is_unlinked_needs_no_detach():
    state = ProductState("p1", (GalleryItem("m9"),), {"v1": "m9"})
    plan = plan_product(state, assets("a"), LinkSettings(LinkMode.RESET), variant_ids=["v1"])
    [assign] = plan.operations.variant_images
    assert (assign.media_id, assign.previous_media_id) == ("new:a@1", None)


def test_an_asset_listed_twice_in_s_is_placed_once_at_its_first_place():
    s = [AssetToLink("a", alt="first"), AssetToLink("b"), AssetToLink("a", alt="second")]
    plan = run(foreign(0), s, LinkMode.APPEND)
    assert ids(plan) == ["new:a@1", "new:b@1"]
    assert plan.after.gallery[0].alt == "first"
