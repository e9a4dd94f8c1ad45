"""Managing links in the pure core: ``plan_product(in_place=True)`` re-links an asset where its
media is (alt and variant images follow) and ``unlink`` drops chosen media, nothing else moves;
the simulator applying the operations reaches the planned gallery."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linking.core.gallery import AssetToLink, GalleryItem, LinkRecord, ProductState
from linking.core.planner import LinkSettings, ReportAction, plan_product
from linking.core.simulator import apply_to_state
from tests.linking.core.test_plan_properties import PROPS


def _gallery(n: int, linked: set[int]) -> ProductState:
    items = tuple(
        GalleryItem(
            f"m{i}",
            alt=f"alt {i}",
            record=LinkRecord(f"a{i}", 1, "q_auto", None) if i in linked else None,
        )
        for i in range(n)
    )
    images = {"v1": "m0", "v2": "m1"} if n > 1 else {"v1": "m0"}
    return ProductState("p", items, images)


@PROPS
@given(
    n=st.integers(1, 30),
    data=st.data(),
)
def test_unlinking_media_keeps_every_other_media_in_its_order(n, data):
    linked = set(data.draw(st.sets(st.integers(0, n - 1))))
    state = _gallery(n, linked)
    gone = data.draw(st.sets(st.sampled_from([f"m{i}" for i in range(n)])))
    plan = plan_product(state, [], LinkSettings(), in_place=True, unlink=gone)
    after = [i.media_id for i in plan.after.gallery]
    assert after == [i.media_id for i in state.gallery if i.media_id not in gone]
    assert {u.media_id for u in plan.operations.unlinks} == gone
    assert not plan.operations.creates and not plan.operations.moves
    assert [r.action for r in plan.rows] == [ReportAction.UNLINKED] * len(gone)
    assert [i.media_id for i in apply_to_state(state, plan.operations).gallery] == after


@PROPS
@given(n=st.integers(1, 30), data=st.data())
def test_relinking_puts_each_new_version_where_its_media_was(n, data):
    linked = set(data.draw(st.sets(st.integers(0, n - 1), min_size=1)))
    state = _gallery(n, linked)
    chosen = sorted(data.draw(st.sets(st.sampled_from(sorted(linked)), min_size=1)))
    s = [AssetToLink(f"a{i}", 2, "q_auto") for i in chosen]
    plan = plan_product(state, s, LinkSettings(), in_place=True)
    for before, after in zip(state.gallery, plan.after.gallery, strict=True):
        index = int(before.media_id[1:])
        if index in chosen:  # the new version, in the same place, with the same alt
            assert after.media_id.startswith("new:") and after.record.version == 2
            assert after.alt == before.alt
        else:
            assert after == before
    assert {u.media_id for u in plan.operations.unlinks} == {f"m{i}" for i in chosen}
    images = dict(plan.after.variant_images)
    for variant, old in state.variant_images.items():
        if int(old[1:]) in chosen:
            assert images[variant] == plan.after.gallery[int(old[1:])].media_id
        else:
            assert images[variant] == old
    # The same versions again: nothing to do.
    again = plan_product(
        state, [AssetToLink(f"a{i}", 1, "q_auto") for i in chosen], LinkSettings(), in_place=True
    )
    assert not again.operations.creates and not again.operations.unlinks


def test_relinking_one_media_of_an_asset_leaves_its_other_media_alone():
    record = LinkRecord("a", 1, "q_auto", None)
    other = LinkRecord("a", 1, "c_limit,w_100", None)
    state = ProductState(
        "p", (GalleryItem("m0", record=other), GalleryItem("m1", alt="x", record=record))
    )
    plan = plan_product(
        state, [AssetToLink("a", 2, "q_auto")], LinkSettings(), in_place=True,
        replaces={"m1": "a"},
    )  # fmt: skip
    assert [i.media_id for i in plan.after.gallery][0] == "m0"
    assert plan.after.gallery[1].record.version == 2 and plan.after.gallery[1].alt == "x"
    assert [u.media_id for u in plan.operations.unlinks] == ["m1"]
    # Its media gone from the product (someone removed it): nothing to re-link.
    gone = plan_product(
        state, [AssetToLink("a", 2, "q_auto")], LinkSettings(), in_place=True,
        replaces={"m9": "a"},
    )  # fmt: skip
    assert not gone.operations.creates and not gone.rows
