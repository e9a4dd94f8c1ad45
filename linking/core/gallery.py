"""A product's media gallery as the planner sees it, and the assets to place in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from common.transformations import normalise_transformation

MAX_GALLERY_SIZE = 250
"""Shopify's media limit per product."""

FAILED = "FAILED"


@dataclass(frozen=True)
class LinkRecord:
    """What AssetLink remembers of a media item it placed (store and product are implied)."""

    asset_id: str
    version: int
    transformation: str = ""
    """Normalised (see :func:`normalise_transformation`)."""
    alt: str | None = None

    @property
    def identity(self) -> tuple[str, int, str]:
        return (self.asset_id, self.version, self.transformation)


@dataclass(frozen=True)
class GalleryItem:
    """One media item of a product's gallery; ``record`` is set when AssetLink placed it."""

    media_id: str
    status: str = "READY"
    alt: str | None = None
    media_type: str = "IMAGE"
    record: LinkRecord | None = None


@dataclass(frozen=True)
class AssetToLink:
    """An element of S: an asset to place, with its desired version, transformation and alt."""

    asset_id: str
    version: int = 1
    transformation: str = ""
    alt: str | None = None
    """None keeps Shopify's alt (reused media) or sets none (new media)."""
    media_type: str = "IMAGE"
    public_id: str = ""
    group: str = ""
    """The group value, for the report."""

    @property
    def identity(self) -> tuple[str, int, str]:
        return (self.asset_id, self.version, normalise_transformation(self.transformation))


@dataclass(frozen=True)
class SwatchAsset:
    asset_id: str
    version: int = 1
    transformation: str = ""
    public_id: str = ""
    group: str = ""
    generated: bool = False
    """Made from a product image (the group had no swatch asset): ``asset_id`` is that image."""

    @property
    def identity(self) -> tuple[str, int, str]:
        return (self.asset_id, self.version, normalise_transformation(self.transformation))


@dataclass(frozen=True)
class ProductState:
    """What a plan starts from (and what the simulator produces) for one product."""

    product_id: str
    gallery: tuple[GalleryItem, ...] = ()
    variant_images: Mapping[str, str | None] = field(default_factory=dict)
    """Variant id → media id of its image."""
    swatch_refs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Owner (variant or product) id → file ids in the swatch metafield."""
