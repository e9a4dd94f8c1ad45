"""Undo planning (linking.core.undo): properties on random galleries and random link runs."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from linking.core import (
    GalleryItem,
    LinkSettings,
    ProductState,
    apply_restore,
    apply_to_state,
    plan_product,
    plan_restore,
    undo_target,
)
from tests.linking.core.test_plan_properties import PROPS, cases

PROPS = settings(PROPS, max_examples=100)


def _link_run(case):
    before, assets, link, variants, swatches = case
    plan = plan_product(before, assets, link, variant_ids=variants, swatches=swatches)
    return before, apply_to_state(before, plan.operations), plan


def _undo(current, target, link=LinkSettings()):
    return plan_restore(
        current,
        target.restore,
        gone=target.gone,
        removable=target.added,
        swatch_namespace=link.swatch_namespace,
        swatch_key=link.swatch_key,
        swatch_owners=target.swatch_owners,
    )


def _ids(state):
    return [i.media_id for i in state.gallery]


@st.composite
def since_the_run(draw, state):
    """The gallery after the run, then changed by the merchant: some media removed, some
    added (ids the run never saw)."""
    kept = tuple(i for i in state.gallery if draw(st.integers(0, 5)) > 0)
    added = tuple(GalleryItem(f"x{n}") for n in range(draw(st.integers(0, 3))))
    order = draw(st.permutations(kept + added))
    return replace(state, gallery=tuple(order))


@st.composite
def with_swatches_before(draw, case):
    """``case`` with swatch metafields on some owners before the run (files of the store's)."""
    state, *rest = case
    owners = [state.product_id, *state.variant_images]
    refs = {
        owner: tuple(draw(st.lists(st.sampled_from(["f1", "f2", "f3"]), min_size=1, max_size=2)))
        for owner in owners
        if draw(st.booleans())
    }
    return (replace(state, swatch_refs=refs), *rest)


@PROPS
@given(cases().flatmap(with_swatches_before))
def test_undo_of_a_link_run_gives_the_state_before_back(case):
    before, after, plan = _link_run(case)
    target = undo_target(before, after, created=[c.media_id for c in plan.operations.creates])
    undo = _undo(after, target, case[2])
    result = apply_restore(after, undo, before)
    assert _ids(result) == _ids(before)
    alts = {i.media_id: i.alt for i in result.gallery}
    for item in before.gallery:
        if item.alt is not None:  # Shopify cannot set an alt back to none
            assert alts[item.media_id] == item.alt
    for variant, media_id in before.variant_images.items():
        assert result.variant_images.get(variant) == media_id
    # every swatch metafield as it was: its value back, or none where it had none
    assert dict(result.swatch_refs) == dict(before.swatch_refs)


@PROPS
@given(st.data(), cases())
def test_undo_never_removes_media_the_run_did_not_add(data, case):
    before, after, plan = _link_run(case)
    target = undo_target(before, after)
    current = data.draw(since_the_run(after))
    undo = _undo(current, target)
    assert set(undo.unlinks) <= set(target.added)
    result = apply_restore(current, undo, before)
    had = set(_ids(before))
    theirs = [m for m in _ids(current) if m not in target.added and m not in had]
    # the gallery before, in its order; what others added since stays, after it
    assert _ids(result) == _ids(before) + theirs


@PROPS
@given(cases())
def test_undo_of_an_unchanged_product_is_empty(case):
    before = case[0]
    for after in (before, None):
        undo = _undo(before, undo_target(before, after))
        assert not undo, undo
        assert apply_restore(before, undo, before) == before


@PROPS
@given(st.data(), cases())
def test_undo_is_idempotent(data, case):
    before, after, _ = _link_run(case)
    target = undo_target(before, after)
    current = data.draw(since_the_run(after))
    once = apply_restore(current, _undo(current, target), before)
    again = _undo(once, target)
    assert not again, again
    assert apply_restore(once, again, before) == once


@PROPS
@given(st.data(), cases())
def test_files_the_run_deleted_are_not_linked_again(data, case):
    before, after, _ = _link_run(case)
    deleted = set(data.draw(st.lists(st.sampled_from(_ids(before) or ["none"]), max_size=3)))
    target = undo_target(before, after, deleted=deleted)
    assert set(target.gone) == deleted & set(_ids(before))
    current = replace(after, gallery=tuple(i for i in after.gallery if i.media_id not in deleted))
    undo = _undo(current, target)
    assert not set(undo.relinks) & deleted
    assert not set(undo.target) & deleted
    assert {a.media_id for a in undo.variant_images}.isdisjoint(deleted)
    result = apply_restore(current, undo, before)
    assert _ids(result) == [m for m in _ids(before) if m not in deleted]


@PROPS
@given(st.data(), cases())
def test_a_rollback_removes_everything_the_state_before_lacks(data, case):
    before, after, _ = _link_run(case)
    current = data.draw(since_the_run(after))
    rollback = plan_restore(current, before)  # no `removable`: a rollback of a failed product
    assert _ids(apply_restore(current, rollback, before)) == _ids(before)


def test_what_the_run_added_comes_from_its_state_after_and_its_created_media():
    before = ProductState("p", (GalleryItem("m1"), GalleryItem("m2")))
    after = ProductState("p", (GalleryItem("n1"), GalleryItem("m2")))
    target = undo_target(before, after, created=["n2", "m2"], deleted={"m1", "zz"})
    assert target.added == {"n1", "n2"}  # m2 was there before: never the run's
    assert target.gone == ("m1",)
    assert undo_target(before, None, created=["n2"]).added == {"n2"}


@PROPS
@given(st.data(), cases())
def test_undo_leaves_swatch_metafields_the_run_did_not_write(data, case):
    """A swatch metafield set since the run on an owner the run did not touch stays (undo
    gives back only what its run changed); one on an owner it never read stays too."""
    before, after, _ = _link_run(case)
    target = undo_target(before, after)
    untouched = [o for o in (before.product_id, *before.variant_images, "v-unread")
                 if o not in target.swatch_owners]  # fmt: skip
    theirs = {o: ("theirs",) for o in data.draw(st.lists(st.sampled_from(untouched), unique=True))}
    current = replace(after, swatch_refs={**after.swatch_refs, **theirs})
    result = apply_restore(current, _undo(current, target), before)
    assert {o: result.swatch_refs.get(o) for o in theirs} == theirs
    # a rollback (any owner) still never deletes one on an owner the state before never read
    rollback = plan_restore(current, before, swatch_owners=None)
    assert "v-unread" not in {d.owner_id for d in rollback.swatch_deletes}
