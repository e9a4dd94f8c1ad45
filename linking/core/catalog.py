"""A store's catalog index: exact, case-rule-aware O(1) lookups by a Shopify field's value."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from common.fields import FieldError, normalise
from common.products import Product, Variant


class ShopifyFieldKind(StrEnum):
    VARIANT_SKU = "variant.sku"
    VARIANT_BARCODE = "variant.barcode"
    PRODUCT_HANDLE = "product.handle"
    PRODUCT_TITLE = "product.title"
    PRODUCT_TAG = "product.tag"
    PRODUCT_ID = "product.id"
    PRODUCT_METAFIELD = "product.metafield"
    VARIANT_METAFIELD = "variant.metafield"


# The fields people pick from (metafields are typed in: product.metafield:namespace.key).
SHOPIFY_FIELD_CHOICES = (
    (ShopifyFieldKind.VARIANT_SKU, "Variant SKU"),
    (ShopifyFieldKind.VARIANT_BARCODE, "Variant barcode"),
    (ShopifyFieldKind.PRODUCT_HANDLE, "Product handle"),
    (ShopifyFieldKind.PRODUCT_TITLE, "Product title"),
    (ShopifyFieldKind.PRODUCT_TAG, "Product tag"),
    (ShopifyFieldKind.PRODUCT_ID, "Product id"),
)

SHOPIFY_FIELD_FORMS = ("product.metafield:<ns>.<key>", "variant.metafield:<ns>.<key>")
"""The Shopify fields with a name of the merchant's (besides the choices above)."""

_VARIANT_KINDS = {
    ShopifyFieldKind.VARIANT_SKU,
    ShopifyFieldKind.VARIANT_BARCODE,
    ShopifyFieldKind.VARIANT_METAFIELD,
}


@dataclass(frozen=True)
class ShopifyField:
    kind: ShopifyFieldKind
    metafield: str | None = None
    """``namespace.key`` for the metafield kinds."""

    @property
    def is_variant_field(self) -> bool:
        return self.kind in _VARIANT_KINDS

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.metafield}" if self.metafield else self.kind.value


def parse_shopify_field(text: str) -> ShopifyField:
    """Parse a Shopify field reference; raise :class:`FieldError` naming the valid ones."""
    valid = ", ".join(
        k.value + (":<namespace>.<key>" if k.value.endswith("metafield") else "")
        for k in ShopifyFieldKind
    )
    head, _, rest = (text or "").strip().partition(":")
    try:
        kind = ShopifyFieldKind(head)
    except ValueError:
        raise FieldError(f"Unknown Shopify field {text!r}: use one of {valid}.") from None
    if kind in (ShopifyFieldKind.PRODUCT_METAFIELD, ShopifyFieldKind.VARIANT_METAFIELD):
        namespace, dot, key = rest.strip().partition(".")
        if not (namespace and dot and key):
            raise FieldError(
                f"{kind.value} needs a namespace and key, e.g. {kind.value}:custom.style_code."
            )
        return ShopifyField(kind, f"{namespace}.{key}")
    if rest:
        raise FieldError(f"{kind.value} takes no argument; write just {kind.value}.")
    return ShopifyField(kind)


def numeric_product_id(value: str) -> str:
    """``gid://shopify/Product/123`` and ``123`` both give ``123``."""
    value = value.strip()
    return value.rsplit("/", 1)[-1] if value.startswith("gid://") else value


def _metafield_values(raw: str | None) -> list[str]:
    if raw is None:
        return []
    text = raw.strip()
    # list.* metafields come as JSON arrays: each element counts as a value.
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            return [text]
        if isinstance(items, list):
            return [str(item) for item in items if item is not None]
    return [text]


@dataclass(frozen=True)
class Hit:
    product_id: str
    variant_ids: tuple[str, ...] = ()
    """The variants whose field has the value (variant fields only)."""


class CatalogIndex:
    """Products and variants of one store, indexed lazily per (field, case rule).

    Each index maps a normalised value to the products (in catalog order) having it, so a
    lookup is one dict access whatever the catalog size.
    """

    def __init__(self, products: Iterable[Product]):
        self.products: dict[str, Product] = {}
        for product in products:
            self.products[product.id] = product
        self._indexes: dict[tuple[ShopifyField, bool], dict[str, list[Hit]]] = {}

    def __len__(self) -> int:
        return len(self.products)

    def product(self, product_id: str) -> Product | None:
        return self.products.get(product_id)

    def lookup(self, shopify_field: ShopifyField, key: str, *, case_sensitive=False) -> list[Hit]:
        """Products whose ``shopify_field`` equals ``key`` (already normalised) exactly."""
        index = self._index(shopify_field, case_sensitive)
        if shopify_field.kind is ShopifyFieldKind.PRODUCT_ID:
            key = numeric_product_id(key)
        return index.get(key, [])

    def _index(self, shopify_field: ShopifyField, case_sensitive: bool) -> dict[str, list[Hit]]:
        cache_key = (shopify_field, case_sensitive)
        index = self._indexes.get(cache_key)
        if index is None:
            index = self._indexes[cache_key] = self._build(shopify_field, case_sensitive)
        return index

    def _build(self, shopify_field: ShopifyField, case_sensitive: bool) -> dict[str, list[Hit]]:
        index: dict[str, list[Hit]] = {}
        for product in self.products.values():
            if shopify_field.is_variant_field:
                by_key: dict[str, list[str]] = {}
                for variant in product.variants:
                    for value in _variant_values(variant, shopify_field):
                        key = normalise(value, case_sensitive)
                        if key:
                            by_key.setdefault(key, []).append(variant.id)
                for key, variant_ids in by_key.items():
                    index.setdefault(key, []).append(Hit(product.id, tuple(variant_ids)))
            else:
                keys = {
                    normalise(v, case_sensitive) for v in _product_values(product, shopify_field)
                }
                for key in keys:
                    if key:
                        index.setdefault(key, []).append(Hit(product.id))
        return index


def _variant_values(variant: Variant, shopify_field: ShopifyField) -> Iterator[str]:
    kind = shopify_field.kind
    if kind is ShopifyFieldKind.VARIANT_SKU:
        if variant.sku:
            yield variant.sku
    elif kind is ShopifyFieldKind.VARIANT_BARCODE:
        if variant.barcode:
            yield variant.barcode
    else:
        yield from _metafield_values(variant.metafields.get(shopify_field.metafield or ""))


def _product_values(product: Product, shopify_field: ShopifyField) -> Iterator[str]:
    kind = shopify_field.kind
    if kind is ShopifyFieldKind.PRODUCT_HANDLE:
        yield product.handle
    elif kind is ShopifyFieldKind.PRODUCT_TITLE:
        yield product.title
    elif kind is ShopifyFieldKind.PRODUCT_TAG:
        yield from product.tags
    elif kind is ShopifyFieldKind.PRODUCT_ID:
        yield numeric_product_id(product.id)
    else:
        yield from _metafield_values(product.metafields.get(shopify_field.metafield or ""))
