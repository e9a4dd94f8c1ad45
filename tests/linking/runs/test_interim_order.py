"""The order a run gives a gallery before its unlinks (pure; hypothesis): unlinking the media
that leave gives exactly the target, and — when the run keeps the old media's order, as every
link mode does for media it does not move — deleting what the run added gives exactly the
gallery before. That is what lets a failure before the unlinks roll back by deleting only."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linking.executor import _interim_order


@st.composite
def galleries(draw):
    before = [f"old{n}" for n in range(draw(st.integers(0, 12)))]
    staying = [m for m in before if draw(st.booleans())]  # kept, in their old order
    new = [f"new{n}" for n in range(draw(st.integers(0, 6)))]
    target = list(staying)
    for media in new:  # new media anywhere among the kept ones
        target.insert(draw(st.integers(0, len(target))), media)
    gallery = before + new  # what Shopify has after the creates: appended
    return before, target, gallery


@given(galleries())
def test_unlinking_the_leaving_media_gives_exactly_the_target(case):
    before, target, gallery = case
    order = _interim_order(target, gallery, before)
    assert sorted(order) == sorted(gallery)  # a permutation of what is there
    assert [m for m in order if m in set(target)] == target


@given(galleries())
def test_deleting_what_the_run_added_gives_exactly_the_gallery_before(case):
    before, target, gallery = case
    order = _interim_order(target, gallery, before)
    assert [m for m in order if m in set(before)] == before


@given(st.data())
def test_media_not_in_the_target_nor_before_are_kept_at_the_end(data):
    before = [f"old{n}" for n in range(data.draw(st.integers(0, 5)))]
    stray = ["stray"]
    order = _interim_order(before, before + stray, before)
    assert order == before + stray
