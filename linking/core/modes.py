"""The five link modes as gallery arithmetic on E (gallery before) and S (assets to link)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TypeVar

from common.fields import FieldError
from common.link_modes import LinkMode

T = TypeVar("T")
U = TypeVar("U")


def validate_mode(mode: str, position: int | None = None) -> LinkMode:
    """The mode as a LinkMode; raise FieldError for an unknown mode or a missing/bad position."""
    try:
        link_mode = LinkMode(mode)
    except ValueError:
        modes = ", ".join(m.value for m in LinkMode)
        raise FieldError(f"Unknown link mode {mode!r}: use one of {modes}.") from None
    if link_mode is LinkMode.POSITION:
        if position is None or isinstance(position, bool) or not isinstance(position, int):
            raise FieldError("The position mode needs a position: a whole number from 1.")
        if position < 1:
            raise FieldError(
                f"Position {position} is not valid: positions start at 1 (the first image)."
            )
    return link_mode


def arrange(
    mode: LinkMode,
    existing: Sequence[T],
    is_s_media: Callable[[T], bool],
    s: Sequence[U],
    position: int | None = None,
) -> list[T | U]:
    """The gallery after, per the link modes table in docs/linking.md; S-media never survive from ``existing``."""
    link_mode = validate_mode(mode, position)
    others = [item for item in existing if not is_s_media(item)]
    if link_mode is LinkMode.OVERWRITE:
        return [*s, *(item for item in existing[len(s) :] if not is_s_media(item))]
    if link_mode is LinkMode.RESET:
        return list(s)
    if link_mode is LinkMode.APPEND:
        return [*others, *s]
    if link_mode is LinkMode.PREPEND:
        return [*s, *others]
    cut = (position or 1) - 1
    return [*others[:cut], *s, *others[cut:]]


def arrange_in_place(
    existing: Sequence[T],
    target_of: Callable[[T], str | None],
    media_of: Callable[[T], str],
    s: Sequence[U],
    asset_id_of: Callable[[U], str],
    unlink: Collection[str] = (),
) -> tuple[list[T | U], dict[str, T]]:
    """Managing links: the asset of S that ``target_of`` names for an item takes that item's
    place (an asset once: the item it names later leaves), media in ``unlink`` leave, everything
    else stays where it is. An asset of S whose item is gone is not placed. Returns the gallery
    after and, per asset placed, the item whose place it took."""
    wanted = {asset_id_of(a): a for a in s}
    placed: dict[str, T] = {}
    out: list[T | U] = []
    for item in existing:
        if media_of(item) in unlink:
            continue
        asset_id = target_of(item)
        if asset_id is None or asset_id not in wanted:
            out.append(item)
        elif asset_id not in placed:
            placed[asset_id] = item
            out.append(wanted[asset_id])
    return out, placed
