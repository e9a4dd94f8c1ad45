"""Typed reads of products' media: what a ``productUpdate(media:)`` added, processing
statuses and errors, reorder jobs. The executors call these instead of reading payloads."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from . import operations as ops
from .errors import ShopifyAuthError, ShopifyError

# Shopify's media guide: "The maximum image size is 4472 x 4472 px, or 20 megapixels."
# https://shopify.dev/docs/apps/build/online-store/product-media
MAX_IMAGE_PIXELS = 20_000_000

logger = logging.getLogger(__name__)

IDS_PER_CALL = 250  # nodes(ids:) per status read


@dataclass(frozen=True)
class MediaError:
    code: str
    message: str


def added_media(result) -> list[tuple[str, str]]:
    """The media a ``RunAddMedia``/``ProductAddMedia`` answer lists (the product's last ones,
    in gallery order) as ``(id, status)``."""
    product = result.payload("productUpdate").get("product") or {}
    nodes = (product.get("media") or {}).get("nodes") or ()
    return [(n["id"], n.get("status") or "UPLOADED") for n in nodes]


def _nodes(client, operation, media_ids: Sequence[str], what: str):
    """The nodes of ``operation`` for ``media_ids``, 250 per call; a call Shopify did not
    answer is logged and its media left out."""
    for start in range(0, len(media_ids), IDS_PER_CALL):
        chunk = list(media_ids[start : start + IDS_PER_CALL])
        try:
            result = client.execute(operation, {"ids": chunk})
        except ShopifyAuthError:
            raise
        except ShopifyError as exc:
            logger.warning("%s failed: %s", what, exc)
            continue
        yield from (n for n in result.data.get("nodes") or () if n and n.get("id"))


def statuses(client, media_ids: Sequence[str]) -> dict[str, str | None]:
    """The processing status of media (``READY``, ``FAILED``, ...), 250 per call. Media of a
    call Shopify did not answer are left out (the caller polls them again)."""
    nodes = _nodes(client, ops.RUN_MEDIA_STATUS, media_ids, "Status poll")
    return {node["id"]: node.get("status") for node in nodes}


def media_errors(client, media_ids: Sequence[str]) -> dict[str, MediaError]:
    """Shopify's first processing error of each FAILED media that has one (media whose read
    failed are left out)."""
    errors: dict[str, MediaError] = {}
    for node in _nodes(client, ops.MEDIA_STATUS, media_ids, "Reading media errors"):
        if node.get("mediaErrors"):
            first = node["mediaErrors"][0]
            errors[node["id"]] = MediaError(first.get("code") or "", first.get("message") or "")
    return errors


def pending_reorder_job(result) -> str | None:
    """The id of the job a ``productReorderMedia`` answer started, unless it is done."""
    job = result.payload("productReorderMedia").get("job") or {}
    return job["id"] if job.get("id") and not job.get("done") else None


def job_done(client, job_id: str) -> bool:
    """Whether Shopify finished the job (False also when the read failed: poll again)."""
    try:
        result = client.execute(ops.JOB_STATUS, {"id": job_id})
    except ShopifyAuthError:
        raise
    except ShopifyError:
        return False
    return bool((result.data.get("job") or {}).get("done"))
