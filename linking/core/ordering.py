"""Order within a group (natural order, manual override) and exclusions."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from common.fields import Asset, EnumLabels, FieldRef, first_value

from .grouping import Group

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?")
_CHUNKS = re.compile(r"(\d+)")

# Ranks keep mixed kinds comparable: numbers, then dates, then text, then no value.
_NUMBER_RANK, _DATE_RANK, _TEXT_RANK, _MISSING_RANK = 0, 1, 2, 3


def _as_datetime(text: str) -> datetime | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        except ValueError:
            return None
    if value.tzinfo is not None:
        # Compare instants; naive values are taken as UTC so both kinds stay comparable.
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def natural_key(value: str | None) -> tuple:
    """A sort key: numbers as numbers, ISO dates as dates, text with digit runs as numbers
    (``img2`` before ``img10``), case-insensitively; None sorts last."""
    if value is None or not value.strip():
        return (_MISSING_RANK,)
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return (_NUMBER_RANK, float(text), text)
    moment = _as_datetime(text)
    if moment is not None:
        return (_DATE_RANK, moment, text)
    chunks = tuple(
        (0, int(part), "") if part.isdecimal() else (1, 0, part.casefold())
        for part in _CHUNKS.split(text)
        if part
    )
    return (_TEXT_RANK, chunks, text)


def order_assets(
    assets: Sequence[Asset],
    order_field: FieldRef | None = None,
    *,
    enum_labels: EnumLabels | None = None,
    manual_order: Sequence[str] | None = None,
) -> list[Asset]:
    """The group's assets in link order.

    Natural order by ``order_field`` (no value last, ties by public id); without a field,
    by public id. A manual order puts the listed asset ids first in that order (unknown ids
    ignored) and appends the others in natural order.
    """

    def key(asset: Asset) -> tuple:
        value = first_value(asset, order_field, enum_labels) if order_field else None
        return (natural_key(value), natural_key(asset.public_id), asset.public_id)

    natural = sorted(assets, key=key)
    if not manual_order:
        return natural
    by_id = {a.asset_id: a for a in assets}
    placed: list[Asset] = []
    seen: set[str] = set()
    for asset_id in manual_order:
        if asset_id in by_id and asset_id not in seen:
            seen.add(asset_id)
            placed.append(by_id[asset_id])
    return placed + [a for a in natural if a.asset_id not in seen]


@dataclass
class Exclusions:
    kept: list[Group]
    excluded_groups: list[Group]
    excluded_assets: list[tuple[Group, Asset]]
    """(group, asset) pairs removed from kept groups; a group left empty stays, with no assets."""


def apply_exclusions(
    groups: Sequence[Group],
    *,
    excluded_asset_ids: Collection[str] = (),
    excluded_group_keys: Collection[str] = (),
) -> Exclusions:
    """Remove excluded groups (by key) and excluded assets (from every group they are in)."""
    excluded_assets = set(excluded_asset_ids)
    excluded_keys = set(excluded_group_keys)
    kept: list[Group] = []
    dropped_groups: list[Group] = []
    dropped_assets: list[tuple[Group, Asset]] = []
    for group in groups:
        if group.key in excluded_keys:
            dropped_groups.append(group)
            continue
        remaining = []
        for asset in group.assets:
            if asset.asset_id in excluded_assets:
                dropped_assets.append((group, asset))
            else:
                remaining.append(asset)
        kept.append(Group(group.key, group.value, remaining))
    return Exclusions(kept, dropped_groups, dropped_assets)
