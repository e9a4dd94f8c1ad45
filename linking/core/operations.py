"""The operations that turn a product's gallery before into its gallery after.

Execution order (the executor and :func:`apply_operations` both follow it):

1. ``unlinks`` — remove media references first, so the gallery never exceeds 250 midway
   and variant images cleared by an unlink are re-assigned afterwards;
2. ``creates`` — one ``productUpdate(media: [...])`` batch; Shopify appends new media at
   the end, in the given order;
3. ``moves`` — one ``productReorderMedia``; moves apply sequentially, zero-based,
   ``new_position`` ≥ count moves to the end, media not moved keep their relative order;
4. ``alt_updates`` — reused media whose alt differs;
5. ``variant_images`` — the group's first image onto the matched variants;
6. ``swatch_files`` then ``swatch_metafields``.

Media ids of media still to be created are placeholders (``new:...``, ``file:...``) that the
executor replaces by the ids Shopify returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class UnlinkMedia:
    media_id: str


@dataclass(frozen=True)
class CreateMedia:
    media_id: str
    """Placeholder id of the media to be created."""
    asset_id: str
    version: int
    transformation: str
    alt: str | None = None
    media_type: str = "IMAGE"


@dataclass(frozen=True)
class MoveMedia:
    media_id: str
    new_position: int
    """Zero-based, evaluated after the previous moves of the same list."""


@dataclass(frozen=True)
class UpdateAlt:
    media_id: str
    alt: str


@dataclass(frozen=True)
class AssignVariantImage:
    variant_id: str
    media_id: str
    previous_media_id: str | None = None
    """Shopify refuses a second variant image (PRODUCT_VARIANT_ALREADY_HAS_MEDIA): detach it first."""


@dataclass(frozen=True)
class CreateSwatchFile:
    file_id: str
    """Placeholder id of the store file to be created."""
    asset_id: str
    version: int
    transformation: str
    generated: bool = False
    """A swatch cropped from the product image ``asset_id`` (swatches from product images)."""


@dataclass(frozen=True)
class SetSwatchMetafield:
    owner_id: str
    """A variant id for a variant-field match, else the product id."""
    namespace: str
    key: str
    file_ids: tuple[str, ...]
    """``list.file_reference`` value, in group order."""


@dataclass(frozen=True)
class DeleteSwatchMetafield:
    """Undo/rollback: the swatch metafield a run wrote on an owner that had none before."""

    owner_id: str
    namespace: str
    key: str


@dataclass
class Operations:
    unlinks: list[UnlinkMedia] = field(default_factory=list)
    creates: list[CreateMedia] = field(default_factory=list)
    moves: list[MoveMedia] = field(default_factory=list)
    alt_updates: list[UpdateAlt] = field(default_factory=list)
    variant_images: list[AssignVariantImage] = field(default_factory=list)
    swatch_files: list[CreateSwatchFile] = field(default_factory=list)
    swatch_metafields: list[SetSwatchMetafield] = field(default_factory=list)

    def __len__(self) -> int:
        return sum(len(getattr(self, f.name)) for f in fields(self))

    def __bool__(self) -> bool:
        return len(self) > 0
