"""Invariants of the five link modes, the diff and the simulator, on random galleries."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.transformations import normalise_transformation
from linking.core.diff import longest_increasing_subsequence, reorder_moves
from linking.core.gallery import (
    MAX_GALLERY_SIZE,
    AssetToLink,
    GalleryItem,
    LinkRecord,
    ProductState,
    SwatchAsset,
)
from linking.core.modes import LinkMode
from linking.core.planner import LinkSettings, ReportAction, plan_product
from linking.core.simulator import apply_operations, apply_to_state

ASSET_IDS = [f"a{i}" for i in range(40)]
TRANSFORMATIONS = ["", "c_limit,w_100", "w_100,c_limit", "q_auto"]
ALTS = [None, "red shoe", "blue shoe"]
PROPS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def galleries(draw, assets=(), max_size=60):
    """Galleries with foreign media and AssetLink media, often of the assets in S."""
    n = draw(st.integers(0, max_size))
    items = []
    for i in range(n):
        kind = draw(
            st.sampled_from(
                ["foreign", "placed", "of_s", "of_s"] if assets else ["foreign", "placed"]
            )
        )
        record = None
        if kind == "placed":
            record = LinkRecord(
                draw(st.sampled_from(ASSET_IDS)),
                draw(st.integers(1, 3)),
                normalise_transformation(draw(st.sampled_from(TRANSFORMATIONS))),
                draw(st.sampled_from(ALTS)),
            )
        elif kind == "of_s":
            asset = draw(st.sampled_from(assets))
            exact = draw(st.sampled_from([True, True, False]))
            record = LinkRecord(
                asset.asset_id,
                asset.version if exact else draw(st.integers(1, 3)),
                asset.identity[2] if exact else draw(st.sampled_from(TRANSFORMATIONS)),
                draw(st.sampled_from(ALTS)),
            )
        status = draw(st.sampled_from(["READY"] * 6 + ["PROCESSING", "FAILED"]))
        alt = record.alt if record and draw(st.booleans()) else draw(st.sampled_from(ALTS))
        items.append(GalleryItem(f"m{i}", status, alt, "IMAGE", record))
    return tuple(items)


@st.composite
def link_assets(draw, max_size=30):
    ids = draw(st.lists(st.sampled_from(ASSET_IDS), max_size=max_size, unique=True))
    return [
        AssetToLink(
            asset_id,
            draw(st.integers(1, 3)),
            draw(st.sampled_from(TRANSFORMATIONS)),
            draw(st.sampled_from(ALTS)),
            draw(st.sampled_from(["IMAGE", "IMAGE", "VIDEO"])),
            public_id=f"products/{asset_id}",
            group="AB-1",
        )
        for asset_id in ids
    ]


@st.composite
def link_settings(draw):
    mode = draw(st.sampled_from(list(LinkMode)))
    position = draw(st.integers(1, 70)) if mode is LinkMode.POSITION else None
    return LinkSettings(mode, position)


@st.composite
def cases(draw):
    assets = draw(link_assets())
    gallery = draw(galleries(assets))
    variants = draw(st.lists(st.sampled_from(["v1", "v2", "v3"]), max_size=3, unique=True))
    variant_images = {
        v: draw(st.sampled_from([None, *(i.media_id for i in gallery[:3])])) for v in variants
    }
    swatches = [
        SwatchAsset(f"s{i}", draw(st.integers(1, 2))) for i in range(draw(st.integers(0, 2)))
    ]
    state = ProductState("gid://shopify/Product/1", gallery, variant_images)
    return state, assets, draw(link_settings()), variants, swatches


def _s_media(item: GalleryItem, assets) -> bool:
    return item.record is not None and item.record.asset_id in {a.asset_id for a in assets}


def _store_files_after(plan, store_files=None):
    files = dict(store_files or {})
    for f in plan.operations.swatch_files:
        files[(f.asset_id, f.version, f.transformation)] = f.file_id
    return files


@PROPS
@given(cases())
def test_operations_applied_to_before_give_exactly_after(case):
    state, assets, link, variants, swatches = case
    plan = plan_product(state, assets, link, variant_ids=variants, swatches=swatches)
    assert apply_to_state(state, plan.operations) == plan.after
    assert apply_operations(state.gallery, plan.operations) == list(plan.after.gallery)


@PROPS
@given(cases())
def test_running_the_same_plan_again_changes_nothing(case):
    state, assets, link, variants, swatches = case
    first = plan_product(state, assets, link, variant_ids=variants, swatches=swatches)
    result = apply_to_state(state, first.operations)
    second = plan_product(
        result,
        assets,
        link,
        variant_ids=variants,
        swatches=swatches,
        store_files=_store_files_after(first),
    )
    assert not second.operations, second.operations
    assert second.after == result
    if first.skipped_reason is None:
        assert {row.action for row in second.rows} <= {ReportAction.UNCHANGED}


@PROPS
@given(cases())
def test_gallery_after_follows_the_mode(case):
    state, assets, link, variants, swatches = case
    plan = plan_product(state, assets, link, variant_ids=variants, swatches=swatches)
    before, after = list(state.gallery), list(plan.after.gallery)
    s_ids = [a.asset_id for a in assets]
    others = [i.media_id for i in before if not _s_media(i, assets)]
    after_ids = [i.media_id for i in after]
    from_s = [i for i in after if _s_media(i, assets)]
    # S appears exactly once, in order, contiguously.
    assert [i.record.asset_id for i in from_s] == s_ids
    if s_ids:
        start = after.index(from_s[0])
        assert after[start : start + len(s_ids)] == from_s
    rest = [i.media_id for i in after if not _s_media(i, assets)]
    k = len(assets)
    if link.mode is LinkMode.RESET:
        assert rest == []
    elif link.mode is LinkMode.OVERWRITE:
        assert after_ids[k:] == [i.media_id for i in before[k:] if not _s_media(i, assets)]
        assert rest == after_ids[k:]
    elif link.mode is LinkMode.APPEND:
        assert rest == others and after_ids[: len(others)] == others
    elif link.mode is LinkMode.PREPEND:
        assert rest == others and after_ids[k:] == others
    else:
        assert rest == others
        cut = min(link.position - 1, len(others))
        assert after_ids[:cut] == others[:cut]


@PROPS
@given(cases())
def test_no_media_duplicated_and_reuse_is_exact(case):
    state, assets, link, variants, swatches = case
    plan = plan_product(state, assets, link, variant_ids=variants, swatches=swatches)
    after = plan.after.gallery
    assert len({i.media_id for i in after}) == len(after) <= MAX_GALLERY_SIZE
    before_ids = {i.media_id for i in state.gallery}
    reusable = {
        i.record.identity for i in state.gallery if _s_media(i, assets) and i.status != "FAILED"
    }
    for asset in assets:
        [item] = [i for i in after if i.record and i.record.asset_id == asset.asset_id]
        assert (item.media_id in before_ids) == (asset.identity in reusable)
        assert item.record.identity == asset.identity
    ops = plan.operations
    assert len(ops.creates) == len(assets) - sum(a.identity in reusable for a in assets)
    assert {u.media_id for u in ops.unlinks} == before_ids - {i.media_id for i in after}
    current = [i.media_id for i in state.gallery if i.media_id in {a.media_id for a in after}]
    current += [c.media_id for c in ops.creates]
    ranks = {m.media_id: n for n, m in enumerate(after)}
    assert len(ops.moves) == len(current) - len(
        longest_increasing_subsequence([ranks[m] for m in current])
    )


@settings(max_examples=150, deadline=None)
@given(
    st.integers(200, MAX_GALLERY_SIZE),
    st.integers(0, 60),
    st.sampled_from(list(LinkMode)),
    st.integers(1, 300),
)
def test_no_gallery_over_250_and_oversized_products_are_untouched(n, k, mode, position):
    state = ProductState("p", tuple(GalleryItem(f"m{i}") for i in range(n)))
    assets = [AssetToLink(f"a{i}") for i in range(k)]
    link = LinkSettings(mode, position if mode is LinkMode.POSITION else None)
    plan = plan_product(state, assets, link)
    would_be = k if mode is LinkMode.RESET else (max(n, k) if mode is LinkMode.OVERWRITE else n + k)
    if would_be > MAX_GALLERY_SIZE:
        assert plan.skipped_reason and "250" in plan.skipped_reason
        assert not plan.operations and plan.after == state
        assert {r.action for r in plan.rows} == {ReportAction.SKIPPED}
    else:
        assert plan.skipped_reason is None
        assert len(plan.after.gallery) == would_be
        assert apply_to_state(state, plan.operations) == plan.after


def _min_moves_brute_force(current: tuple[str, ...], target: tuple[str, ...]) -> int:
    seen = {current: 0}
    queue = deque([current])
    while queue:
        order = queue.popleft()
        if order == target:
            return seen[order]
        for i in range(len(order)):
            rest = order[:i] + order[i + 1 :]
            for j in range(len(order)):
                nxt = rest[:j] + (order[i],) + rest[j:]
                if nxt not in seen:
                    seen[nxt] = seen[order] + 1
                    queue.append(nxt)
    raise AssertionError("unreachable")


@settings(max_examples=120, deadline=None)
@given(st.permutations([f"m{i}" for i in range(6)]), st.integers(1, 6))
def test_reorder_moves_are_minimal_by_brute_force(target, size):
    current = tuple(f"m{i}" for i in range(size))
    target = tuple(m for m in target if m in current)
    moves = reorder_moves(current, target)
    assert len(moves) == _min_moves_brute_force(current, target)
    gallery = [GalleryItem(m) for m in current]
    from linking.core.operations import Operations

    assert [i.media_id for i in apply_operations(gallery, Operations(moves=moves))] == list(target)


@settings(max_examples=200, deadline=None)
@given(st.permutations([f"m{i}" for i in range(60)]))
def test_reorder_moves_reach_any_target_order(target):
    from linking.core.operations import Operations

    current = [GalleryItem(f"m{i}") for i in range(60)]
    moves = reorder_moves([i.media_id for i in current], target)
    assert [i.media_id for i in apply_operations(current, Operations(moves=moves))] == target
    assert all(0 <= m.new_position < 60 for m in moves)


def test_move_past_the_end_goes_to_the_end():
    from linking.core.operations import MoveMedia, Operations

    gallery = [GalleryItem(m) for m in "abc"]
    moved = apply_operations(gallery, Operations(moves=[MoveMedia("a", 99)]))
    assert [i.media_id for i in moved] == ["b", "c", "a"]


def test_failed_media_are_recreated_not_reused():
    record = LinkRecord("a1", 1, "")
    state = ProductState("p", (GalleryItem("m1", "FAILED", None, "IMAGE", record),))
    plan = plan_product(state, [AssetToLink("a1")], LinkSettings(LinkMode.APPEND))
    assert [c.asset_id for c in plan.operations.creates] == ["a1"]
    assert [u.media_id for u in plan.operations.unlinks] == ["m1"]
    assert [r.action for r in plan.rows] == [ReportAction.REPLACED]
    again = plan_product(replace(plan.after), [AssetToLink("a1")], LinkSettings(LinkMode.APPEND))
    assert not again.operations
