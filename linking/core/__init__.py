"""The linking engine's pure core: no Django, no network, no clock.

Plain frozen dataclasses in, plain dataclasses out. The usual path for one store:
``prepare_groups`` → ``match_groups`` → read the matched products' galleries →
``plan_store`` (or ``plan_product`` per product) → execute ``Operations`` in the order
documented in :mod:`linking.core.operations` (``apply_operations`` models Shopify doing it).
"""

from common.alt_text import (
    MAX_ALT_LENGTH,
    AltSource,
    AltTextError,
    AltTextRule,
    alt_text_for,
    validate_alt_override,
    validate_alt_rule,
)
from common.fields import (
    Asset,
    FieldError,
    FieldKind,
    FieldRef,
    FieldValue,
    GroupingOptions,
    field_values,
    parse_field_ref,
    validate_field_exists,
    validate_order_field,
)
from common.transformations import (
    TransformationError,
    normalise_transformation,
    same_transformation,
    validate_transformation,
)

from .catalog import (
    CatalogIndex,
    Hit,
    Product,
    ShopifyField,
    ShopifyFieldKind,
    Variant,
    parse_shopify_field,
)
from .diff import longest_increasing_subsequence, reorder_moves
from .gallery import (
    MAX_GALLERY_SIZE,
    AssetToLink,
    GalleryItem,
    LinkRecord,
    ProductState,
    SwatchAsset,
)
from .grouping import Group, Grouping, group_assets
from .matching import GroupMatch, MatchResult, MatchStatistics, match_groups
from .modes import LinkMode, arrange, validate_mode
from .operations import (
    AssignVariantImage,
    CreateMedia,
    CreateSwatchFile,
    DeleteSwatchMetafield,
    MoveMedia,
    Operations,
    SetSwatchMetafield,
    UnlinkMedia,
    UpdateAlt,
)
from .ordering import Exclusions, apply_exclusions, natural_key, order_assets
from .plan import LinkConfig, PreparedGroups, StorePlan, plan_store, prepare_groups
from .planner import LinkSettings, ProductPlan, ReportAction, ReportRow, plan_product
from .simulator import SimulationError, apply_operations, apply_to_state
from .swatches import SwatchRule, is_swatch
from .undo import RestorePlan, UndoTarget, apply_restore, plan_restore, undo_target

__all__ = [
    "MAX_ALT_LENGTH",
    "MAX_GALLERY_SIZE",
    "AltSource",
    "AltTextError",
    "AltTextRule",
    "Asset",
    "AssetToLink",
    "AssignVariantImage",
    "CatalogIndex",
    "CreateMedia",
    "CreateSwatchFile",
    "Exclusions",
    "FieldError",
    "FieldKind",
    "FieldRef",
    "FieldValue",
    "GalleryItem",
    "Group",
    "GroupMatch",
    "Grouping",
    "GroupingOptions",
    "Hit",
    "LinkConfig",
    "LinkMode",
    "LinkRecord",
    "LinkSettings",
    "MatchResult",
    "MatchStatistics",
    "MoveMedia",
    "Operations",
    "PreparedGroups",
    "Product",
    "ProductPlan",
    "ProductState",
    "ReportAction",
    "ReportRow",
    "RestorePlan",
    "SetSwatchMetafield",
    "DeleteSwatchMetafield",
    "ShopifyField",
    "ShopifyFieldKind",
    "SimulationError",
    "StorePlan",
    "SwatchAsset",
    "SwatchRule",
    "UndoTarget",
    "UnlinkMedia",
    "UpdateAlt",
    "Variant",
    "alt_text_for",
    "apply_exclusions",
    "apply_operations",
    "apply_restore",
    "apply_to_state",
    "arrange",
    "field_values",
    "group_assets",
    "is_swatch",
    "longest_increasing_subsequence",
    "match_groups",
    "natural_key",
    "normalise_transformation",
    "order_assets",
    "parse_field_ref",
    "parse_shopify_field",
    "plan_product",
    "plan_restore",
    "plan_store",
    "prepare_groups",
    "reorder_moves",
    "same_transformation",
    "undo_target",
    "TransformationError",
    "validate_transformation",
    "validate_alt_override",
    "validate_alt_rule",
    "validate_field_exists",
    "validate_mode",
    "validate_order_field",
]
