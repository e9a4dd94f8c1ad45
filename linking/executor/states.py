"""JSON round trips of core states (run products keep them)."""

from __future__ import annotations

from dataclasses import asdict

from linking.core import GalleryItem, LinkRecord, ProductState

from .model import READY


def state_to_json(state: ProductState | None) -> dict | None:
    if state is None:
        return None
    return {
        "product_id": state.product_id,
        "gallery": [
            {
                "media_id": i.media_id,
                "status": i.status,
                "alt": i.alt,
                "media_type": i.media_type,
                "record": asdict(i.record) if i.record else None,
            }
            for i in state.gallery
        ],
        "variant_images": dict(state.variant_images),
        "swatch_refs": {k: list(v) for k, v in state.swatch_refs.items()},
    }


def state_from_json(data: dict | None) -> ProductState | None:
    if not data:
        return None
    return ProductState(
        data["product_id"],
        tuple(
            GalleryItem(
                i["media_id"],
                i.get("status") or READY,
                i.get("alt"),
                i.get("media_type") or "IMAGE",
                LinkRecord(**i["record"]) if i.get("record") else None,
            )
            for i in data.get("gallery") or ()
        ),
        dict(data.get("variant_images") or {}),
        {k: tuple(v) for k, v in (data.get("swatch_refs") or {}).items()},
    )
