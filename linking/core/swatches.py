"""Swatch detection: swatches go to Files and a metafield, never to the gallery."""

from __future__ import annotations

from dataclasses import dataclass

from common.fields import Asset, EnumLabels, FieldKind, FieldRef, raw_values


@dataclass(frozen=True)
class SwatchRule:
    """An asset is a swatch when its metadata field has the value, or it carries the tag.

    Either half may be switched off with None. Comparisons ignore case and surrounding
    whitespace, like the default grouping case rule.
    """

    metadata_field: str | None = "asset_type"
    metadata_value: str | None = "swatch"
    tag: str | None = "swatch"


def is_swatch(asset: Asset, rule: SwatchRule, enum_labels: EnumLabels | None = None) -> bool:
    if rule.tag is not None:
        wanted = rule.tag.strip().casefold()
        if any(tag.strip().casefold() == wanted for tag in asset.tags):
            return True
    if rule.metadata_field and rule.metadata_value is not None:
        wanted = rule.metadata_value.strip().casefold()
        ref = FieldRef(FieldKind.METADATA, rule.metadata_field)
        # Set fields count when any of their values is the swatch value.
        return any(v.strip().casefold() == wanted for v in raw_values(asset, ref, enum_labels))
    return False
