"""Carry out product plans on a live store: the executor of link runs (and of their undo).

Products go in *waves* (a few seconds of API points each; abort is checked between waves, so a
product is never left half-changed). Within a wave every step is batched across its products
where Shopify allows, creating before destroying (module of each phase in brackets):

1. plan each product from its gallery now [prepare]; adopt media an earlier attempt created
   without recording them [reconcile];
2. re-links (undo, rollback) — ``fileUpdate`` ``referencesToAdd`` [references];
3. creates — one ``productUpdate(media: [...])`` per product with all of its new media; the call
   is journaled first so that a worker that dies before the link records are written is
   reconciled on resume (the new media are adopted, never created twice) [create];
4. wait for ``READY`` — ``nodes(ids:)`` status polls across the wave with backoff; media that
   end ``FAILED`` are reported with Shopify's error code and removed from the product [ready];
5. reorder — ``productReorderMedia`` with the fewest moves from the actual gallery to the
   target (media still to unlink keep their old relative order), then ``job(id)`` polled;
   alt updates — ``fileUpdate`` alt, batched [order];
6. variant images — ``productVariantDetachMedia`` (a previous image) then
   ``productVariantAppendMedia``, ≤ 100 pairs per call; swatches — ``fileCreate`` (≤ 250) then
   ``metafieldsSet`` (≤ 25 per call) [variants];
7. unlinks — ``fileUpdate`` ``referencesToRemove``, ≤ 250 files per call, last (first only when
   the 250-media limit forces it) [references];
8. a product where anything failed goes back to its gallery before [rollback];
9. with ``delete_created_files`` (the workspace's "delete unreferenced created files"), files
   AssetLink created that this run unlinked are deleted (``fileDelete``, ≤ 250 per call) once the
   product completed and nothing references them: no link record of the store, and no product
   on Shopify (``files(query: "used_in:product …")``). The rows keep their action and say so
   [cleanup].

The waves themselves are in [engine]; outcomes and report rows in [report]; inputs, outputs and
the executable plan of a product in [model]. Every Shopify call goes through
``stores.shopify`` (``batching.send_batches``/``send_retrying``, ``files``, ``media``) [sending].

Every product is re-planned from its gallery as read just before its wave (the catalog may have
changed since the dry run); the report is computed against the gallery the product had when the
run first started it, so a resumed run still says ``created`` for the media it created earlier.
"""

from .engine import Executor
from .model import (
    FILE_DELETED,
    FILE_DELETED_STATUS,
    FILE_GONE_CODE,
    ProductOutcome,
    ProductWork,
    ReportRow,
    RunHooks,
    skipped_rows,
)
from .order import _interim_order
from .states import state_from_json, state_to_json

__all__ = [
    "Executor",
    "ProductWork",
    "ProductOutcome",
    "RunHooks",
    "ReportRow",
    "skipped_rows",
    "state_from_json",
    "state_to_json",
    "FILE_DELETED",
    "FILE_DELETED_STATUS",
    "FILE_GONE_CODE",
    "_interim_order",
]
