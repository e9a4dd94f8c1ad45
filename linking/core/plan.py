"""A store's dry-run plan: selection → groups → matches → one product plan per matched product.

Two steps, because the galleries to read depend on the matches:
``prepare_groups`` (grouping, exclusions, order, swatches) and ``match_groups``, then the caller
reads the galleries of the matched products and calls ``plan_store``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from common.alt_text import AltTextRule, alt_text_for, validate_alt_rule
from common.fields import Asset, EnumLabels, FieldRef, GroupingOptions

from .catalog import CatalogIndex, ShopifyField
from .gallery import AssetToLink, ProductState, SwatchAsset
from .grouping import Group, Grouping, group_assets
from .matching import MatchResult, MatchStatistics, variant_ids_for
from .modes import LinkMode, validate_mode
from .ordering import Exclusions, apply_exclusions, order_assets
from .planner import (
    LinkSettings,
    ProductPlan,
    ReportAction,
    ReportRow,
    first_per_asset,
    plan_product,
)
from .swatches import SwatchRule, is_swatch


@dataclass(frozen=True)
class LinkConfig:
    cloudinary_field: FieldRef
    shopify_field: ShopifyField
    settings: LinkSettings = field(default_factory=LinkSettings)
    separator: str | None = None
    case_sensitive: bool = False
    enum_labels: EnumLabels = field(default_factory=dict)
    order_field: FieldRef | None = None
    manual_orders: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Group key → asset ids in the user's order."""
    excluded_asset_ids: frozenset[str] = frozenset()
    excluded_group_keys: frozenset[str] = frozenset()
    alt_rule: AltTextRule = field(default_factory=AltTextRule)
    alt_overrides: Mapping[str, str] = field(default_factory=dict)
    captions: Mapping[str, str] = field(default_factory=dict)
    """Asset id → AI caption, fetched by the caller when the alt source is AI caption."""
    swatch_rule: SwatchRule = field(default_factory=SwatchRule)
    image_transformation: str = ""
    file_transformation: str = ""
    swatch_from_image: str | None = None
    """The transformation that crops a swatch from a group's first image when the group has no
    swatch asset (swatches from product images); None: off."""

    def validate(self) -> None:
        """Raise FieldError for a configuration that cannot run (before anything is read)."""
        validate_mode(self.settings.mode, self.settings.position)
        validate_alt_rule(self.alt_rule)

    @property
    def grouping_options(self) -> GroupingOptions:
        return GroupingOptions(
            self.cloudinary_field, self.separator, self.case_sensitive, self.enum_labels
        )


@dataclass
class PreparedGroup:
    group: Group
    """The group after exclusions, assets in link order (swatches included)."""
    gallery_assets: list[Asset]
    swatches: list[Asset]


@dataclass
class PreparedGroups:
    grouping: Grouping
    exclusions: Exclusions
    groups: list[PreparedGroup]

    @property
    def kept_groups(self) -> list[Group]:
        return [p.group for p in self.groups]


def prepare_groups(assets: Sequence[Asset], config: LinkConfig) -> PreparedGroups:
    grouping = group_assets(assets, config.grouping_options)
    exclusions = apply_exclusions(
        grouping.groups,
        excluded_asset_ids=config.excluded_asset_ids,
        excluded_group_keys=config.excluded_group_keys,
    )
    prepared = []
    for group in exclusions.kept:
        if not group.assets:
            continue  # every asset excluded: nothing to link, and reset must not empty a gallery
        ordered = order_assets(
            group.assets,
            config.order_field,
            enum_labels=config.enum_labels,
            manual_order=config.manual_orders.get(group.key),
        )
        swatch_ids = {
            a.asset_id for a in ordered if is_swatch(a, config.swatch_rule, config.enum_labels)
        }
        prepared.append(
            PreparedGroup(
                Group(group.key, group.value, ordered),
                [a for a in ordered if a.asset_id not in swatch_ids],
                [a for a in ordered if a.asset_id in swatch_ids],
            )
        )
    return PreparedGroups(grouping, exclusions, prepared)


@dataclass
class StorePlan:
    statistics: MatchStatistics
    products: list[ProductPlan]
    rows: list[ReportRow]
    """Every report row: per product, then excluded, unmatched and ungrouped assets."""


def plan_store(
    prepared: PreparedGroups,
    match: MatchResult,
    index: CatalogIndex,
    galleries: Mapping[str, ProductState],
    config: LinkConfig,
    *,
    store_files: Mapping[tuple[str, int, str], str] | None = None,
) -> StorePlan:
    """Plan every matched product. A product matched by several groups gets their assets one
    group after the other, in group order (an asset in two of them once, at its first place)."""
    files = dict(store_files or {})
    by_key = {p.group.key: p for p in prepared.groups}
    products: list[ProductPlan] = []
    rows: list[ReportRow] = []
    for product_id, matches in match.groups_by_product.items():
        product = index.product(product_id)
        s: list[AssetToLink] = []
        swatches: list[SwatchAsset] = []
        variant_ids: list[str] = []
        for group_match in matches:
            group = by_key[group_match.group.key]
            value = group.group.value
            for asset in group.gallery_assets:
                video = asset.resource_type == "video"
                s.append(
                    AssetToLink(
                        asset.asset_id,
                        asset.version,
                        "" if video else config.image_transformation,
                        alt_text_for(
                            asset,
                            config.alt_rule,
                            product=product,
                            group_value=value,
                            enum_labels=config.enum_labels,
                            caption=config.captions.get(asset.asset_id),
                            override=config.alt_overrides.get(asset.asset_id),
                        ),
                        "VIDEO" if video else "IMAGE",
                        asset.public_id,
                        value,
                    )
                )
            swatches += [
                SwatchAsset(a.asset_id, a.version, config.file_transformation, a.public_id, value)
                for a in group.swatches
            ] or _swatch_from_image(group, config)
            variant_ids += variant_ids_for(group_match, product_id)
        state = galleries.get(product_id)
        if state is None:
            rows += [
                ReportRow(
                    product_id,
                    ReportAction.SKIPPED,
                    a.asset_id,
                    a.public_id,
                    a.group,
                    message="The product's gallery could not be read; it was not changed.",
                )
                for a in s
            ]
            continue
        # Swatches only: their metafield is set, the gallery is left as it is (even for reset).
        link_settings = (
            config.settings if s else replace(config.settings, mode=LinkMode.APPEND, position=None)
        )
        plan = plan_product(
            state,
            s,
            link_settings,
            variant_ids=list(dict.fromkeys(variant_ids)),
            swatches=first_per_asset(swatches),
            store_files=files,
        )
        # A swatch file created for one product serves the next ones too.
        for created in plan.operations.swatch_files:
            files[(created.asset_id, created.version, created.transformation)] = created.file_id
        products.append(plan)
        rows += plan.rows

    for group in prepared.exclusions.excluded_groups:
        rows += _rows(group, group.assets, ReportAction.EXCLUDED, "The group was excluded.")
    for group, asset in prepared.exclusions.excluded_assets:
        rows += _rows(group, [asset], ReportAction.EXCLUDED, "The asset was excluded.")
    for group_match in match.group_matches:
        if not group_match.matched:
            group = group_match.group
            rows += _rows(
                group,
                group.assets,
                ReportAction.UNMATCHED,
                f"No product has {match.shopify_field} = {group.value!r}.",
            )
    for asset in prepared.grouping.ungrouped:
        rows.append(
            ReportRow(
                None,
                ReportAction.UNMATCHED,
                asset.asset_id,
                asset.public_id,
                message=f"The asset has no value for {config.cloudinary_field}.",
            )
        )
    return StorePlan(match.statistics, products, rows)


def _swatch_from_image(group: PreparedGroup, config: LinkConfig) -> list[SwatchAsset]:
    """A group without a swatch asset: a swatch cropped from its first image, when Setup says."""
    if config.swatch_from_image is None:
        return []
    image = next((a for a in group.gallery_assets if a.resource_type != "video"), None)
    if image is None:
        return []
    return [
        SwatchAsset(
            image.asset_id, image.version, config.swatch_from_image, image.public_id,
            group.group.value, generated=True,
        )
    ]  # fmt: skip


def _rows(group: Group, assets: Sequence[Asset], action: ReportAction, message: str):
    return [
        ReportRow(None, action, a.asset_id, a.public_id, group.value, message=message)
        for a in assets
    ]
