"""Matching groups to products of one store through its catalog index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .catalog import CatalogIndex, Hit, ShopifyField
from .grouping import Group


@dataclass
class GroupMatch:
    group: Group
    hits: list[Hit] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.hits)


@dataclass
class MatchStatistics:
    products_matched: int
    groups_matched: int
    groups_unmatched: int
    products_matched_by_several_groups: int


@dataclass
class MatchResult:
    shopify_field: ShopifyField
    group_matches: list[GroupMatch]
    groups_by_product: dict[str, list[GroupMatch]]
    """Product id → the matches that reach it, in group order (products in first-hit order)."""

    @property
    def unmatched_groups(self) -> list[Group]:
        return [m.group for m in self.group_matches if not m.matched]

    @property
    def statistics(self) -> MatchStatistics:
        matched = sum(1 for m in self.group_matches if m.matched)
        return MatchStatistics(
            products_matched=len(self.groups_by_product),
            groups_matched=matched,
            groups_unmatched=len(self.group_matches) - matched,
            products_matched_by_several_groups=sum(
                1 for ms in self.groups_by_product.values() if len(ms) > 1
            ),
        )


def match_groups(
    groups: Sequence[Group],
    index: CatalogIndex,
    shopify_field: ShopifyField,
    *,
    case_sensitive: bool = False,
) -> MatchResult:
    """Match every group by its key; group keys must be normalised under the same case rule."""
    group_matches: list[GroupMatch] = []
    by_product: dict[str, list[GroupMatch]] = {}
    for group in groups:
        match = GroupMatch(
            group, list(index.lookup(shopify_field, group.key, case_sensitive=case_sensitive))
        )
        group_matches.append(match)
        for hit in match.hits:
            by_product.setdefault(hit.product_id, []).append(match)
    return MatchResult(shopify_field, group_matches, by_product)


def variant_ids_for(match: GroupMatch, product_id: str) -> tuple[str, ...]:
    """The variants of ``product_id`` that ``match`` reached (empty for product fields)."""
    for hit in match.hits:
        if hit.product_id == product_id:
            return hit.variant_ids
    return ()
