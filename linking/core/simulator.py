"""A pure model of Shopify applying a plan's operations, in the documented execution order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .gallery import MAX_GALLERY_SIZE, GalleryItem, LinkRecord, ProductState
from .operations import Operations


class SimulationError(ValueError):
    """Shopify would reject the operation (the message names its user error code)."""


def apply_operations(before: Sequence[GalleryItem], ops: Operations) -> list[GalleryItem]:
    """The gallery after Shopify applies ``ops`` to ``before``."""
    gallery = list(before)
    for unlink in ops.unlinks:
        at = _index(gallery, unlink.media_id)
        del gallery[at]
    for create in ops.creates:
        if any(item.media_id == create.media_id for item in gallery):
            raise SimulationError(f"duplicate media id {create.media_id}")
        record = LinkRecord(create.asset_id, create.version, create.transformation, create.alt)
        # New media land at the end, not processed yet.
        gallery.append(
            GalleryItem(create.media_id, "UPLOADED", create.alt, create.media_type, record)
        )
        if len(gallery) > MAX_GALLERY_SIZE:
            raise SimulationError("PRODUCT_MEDIA_LIMIT_EXCEEDED")
    for move in ops.moves:
        if move.new_position < 0:
            raise SimulationError("INVALID: newPosition is an unsigned integer")
        item = gallery.pop(_index(gallery, move.media_id))
        gallery.insert(min(move.new_position, len(gallery)), item)
    for update in ops.alt_updates:
        at = _index(gallery, update.media_id)
        item = gallery[at]
        record = replace(item.record, alt=update.alt) if item.record else None
        gallery[at] = replace(item, alt=update.alt, record=record)
    return gallery


def apply_to_state(state: ProductState, ops: Operations) -> ProductState:
    """``apply_operations`` plus variant images and swatch metafields."""
    gallery = apply_operations(state.gallery, ops)
    present = {item.media_id for item in gallery}
    # Unlinking media clears it from the variants that used it.
    variant_images = {v: (m if m in present else None) for v, m in state.variant_images.items()}
    for assign in ops.variant_images:
        if assign.media_id not in present:
            raise SimulationError(f"MEDIA_DOES_NOT_EXIST_ON_PRODUCT {assign.media_id}")
        variant_images[assign.variant_id] = assign.media_id
    swatch_refs = dict(state.swatch_refs)
    for metafield in ops.swatch_metafields:
        swatch_refs[metafield.owner_id] = metafield.file_ids
    return ProductState(state.product_id, tuple(gallery), variant_images, swatch_refs)


def _index(gallery: list[GalleryItem], media_id: str) -> int:
    for i, item in enumerate(gallery):
        if item.media_id == media_id:
            return i
    raise SimulationError(f"MEDIA_DOES_NOT_EXIST_ON_PRODUCT {media_id}")
