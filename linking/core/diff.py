"""The fewest reorder moves under Shopify's sequential, zero-based ``MoveInput`` semantics."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

from .operations import MoveMedia


def longest_increasing_subsequence(values: Sequence[int]) -> list[int]:
    """Indexes of one longest strictly increasing subsequence of ``values`` (O(n log n))."""
    tails: list[int] = []  # tails[L] = smallest tail value of an increasing run of length L+1
    tail_index: list[int] = []
    previous: list[int] = [-1] * len(values)
    for i, value in enumerate(values):
        at = bisect_left(tails, value)
        if at == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[at] = value
            tail_index[at] = i
        previous[i] = tail_index[at - 1] if at else -1
    out: list[int] = []
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        out.append(i)
        i = previous[i]
    return out[::-1]


def reorder_moves(current: Sequence[str], target: Sequence[str]) -> list[MoveMedia]:
    """Moves turning ``current`` into ``target`` (same ids, any order), as few as possible.

    Media on a longest run already in target order stay; every other one is moved, in target
    order, to just after its target predecessor. No set of moves can be smaller: the media not
    moved keep their relative order, so they must already be in target order.
    """
    if len(current) != len(target) or set(current) != set(target):
        raise ValueError("reorder_moves needs the same media before and after")
    rank = {media_id: i for i, media_id in enumerate(target)}
    stay = {current[i] for i in longest_increasing_subsequence([rank[m] for m in current])}
    order = list(current)
    moves: list[MoveMedia] = []
    for j, media_id in enumerate(target):
        if media_id in stay:
            continue
        order.remove(media_id)
        new_position = order.index(target[j - 1]) + 1 if j else 0
        order.insert(new_position, media_id)
        moves.append(MoveMedia(media_id, new_position))
    return moves
