"""A Shopify product and its variants as the catalog reads them (what a group matches and an
alt text template names)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    id: str
    sku: str | None = None
    barcode: str | None = None
    metafields: Mapping[str, str] = field(default_factory=dict)
    """``"namespace.key" -> value`` as Shopify returns it (list values as JSON text)."""


@dataclass(frozen=True)
class Product:
    id: str
    handle: str = ""
    title: str = ""
    tags: tuple[str, ...] = ()
    metafields: Mapping[str, str] = field(default_factory=dict)
    variants: tuple[Variant, ...] = ()
