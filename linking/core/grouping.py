"""Grouping: the selected assets that share one value of the Cloudinary field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from common.fields import Asset, GroupingOptions, field_values


@dataclass
class Group:
    key: str
    """The value normalised under the case rule; groups and matches compare keys."""
    value: str
    """The value as first seen in the selection, for people."""
    assets: list[Asset] = field(default_factory=list)


@dataclass
class Grouping:
    groups: list[Group]
    """In order of first appearance in the selection: predictable and what the user picked."""
    ungrouped: list[Asset]
    """Assets with no value for the field, in selection order."""

    def group(self, key: str) -> Group | None:
        return next((g for g in self.groups if g.key == key), None)


def group_assets(assets: Iterable[Asset], options: GroupingOptions) -> Grouping:
    """Group ``assets`` by ``options.field``; an asset with several values joins several groups.

    Assets keep their selection order inside a group (ordering is a separate step);
    an asset listed twice in the selection counts once.
    """
    by_key: dict[str, Group] = {}
    ungrouped: list[Asset] = []
    seen_assets: set[str] = set()
    for asset in assets:
        if asset.asset_id in seen_assets:
            continue
        seen_assets.add(asset.asset_id)
        values = field_values(asset, options)
        if not values:
            ungrouped.append(asset)
            continue
        for value in values:
            group = by_key.get(value.key)
            if group is None:
                group = by_key[value.key] = Group(value.key, value.display)
            group.assets.append(asset)
    return Grouping(list(by_key.values()), ungrouped)
