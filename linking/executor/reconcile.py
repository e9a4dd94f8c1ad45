"""Resume: adopt (or remove) media an earlier attempt created without recording them."""

from __future__ import annotations

import logging
from dataclasses import replace

from linking.core import CreateMedia, LinkRecord, ProductState

from .model import ProductWork, _Step

logger = logging.getLogger(__name__)


class _Reconcile:
    """Part of :class:`linking.executor.Executor`."""

    # -- planning --

    def _reconcile(self, work: ProductWork, state: ProductState) -> ProductState:
        """Adopt media a previous attempt created but did not record (it died in between)."""
        entry = work.journal
        if not entry:
            return state
        before_ids = set(entry.get("before_ids") or ())
        new = [i for i in state.gallery if i.media_id not in before_ids and i.record is None]
        recorded = {
            i.record.identity
            for i in state.gallery
            if i.record is not None and i.media_id not in before_ids
        }
        creates = [
            c
            for c in entry.get("creates") or ()
            if (c["asset_id"], int(c["version"]), c["transformation"]) not in recorded
        ]
        if new and len(new) != len(creates):
            # Some of the creates arrived, and which is which cannot be told: they are this
            # run's own (new since the journaled gallery), so they go and the plan adds again.
            logger.warning(
                "%s: %d of %d journaled creates arrived; removing them to create again",
                work.product_id, len(new), len(creates),
            )  # fmt: skip
            gone = self._delete_files([i.media_id for i in new])
            state = replace(
                state, gallery=tuple(i for i in state.gallery if i.media_id not in gone)
            )
            new = []
        adopted: dict[str, LinkRecord] = {}
        for create, item in zip(creates, new, strict=False):
            record = LinkRecord(
                create["asset_id"], int(create["version"]), create["transformation"], create["alt"]
            )
            self.hooks.record_saved(work.product_id, item.media_id, record)
            adopted[item.media_id] = record
        self.hooks.journal(work.product_id, None)
        work.journal = None
        if not adopted:
            return state
        logger.info(
            "Adopted %d media created by an earlier attempt on %s", len(adopted), work.product_id
        )
        gallery = tuple(
            replace(i, record=adopted[i.media_id]) if i.media_id in adopted else i
            for i in state.gallery
        )
        return replace(state, gallery=gallery)

    def _settle_doubt(self, step: _Step, sent: list[CreateMedia], *, in_flight: bool) -> bool:
        """productUpdate may or may not have run: give a request still in flight time to land,
        then read the gallery. True when the media sent are there (adopted); media that arrived
        but cannot be matched one to one with what was sent are deleted (they are this run's
        own, created after the journaled gallery), so the call can be sent again."""
        if in_flight:  # no answer at all: the request may still be running on Shopify's side
            self._sleep(self.doubt_wait)
        state = self._read([step.product_id], []).get(step.product_id)
        before = set(step.gallery)
        new = (
            [(i.media_id, i.status) for i in state.gallery if i.media_id not in before]
            if state
            else []
        )
        if new and len(new) == len(sent):
            self._adopt(step, sent, new)
            return True
        if new:
            logger.warning(
                "%s: %d of %d media arrived after a doubtful create; removing them to resend",
                step.product_id,
                len(new),
                len(sent),
            )
            self._delete_files([m for m, _ in new])
        return False
