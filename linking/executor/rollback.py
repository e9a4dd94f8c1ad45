"""A product where something failed goes back to its gallery before."""

from __future__ import annotations

import logging
from dataclasses import replace

from linking.core import ProductState
from stores.shopify.errors import ShopifyAuthError, ShopifyError

from .model import _Step

logger = logging.getLogger(__name__)


def _same_media(a: ProductState, b: ProductState) -> bool:
    """The same media, in the same order, with the same alt text."""
    return [(i.media_id, i.alt or "") for i in a.gallery] == [
        (i.media_id, i.alt or "") for i in b.gallery
    ]


class _Rollback:
    """Part of :class:`linking.executor.Executor`."""

    # -- rollback: a product where something failed goes back to its gallery before --

    def _rollback(self, steps: list[_Step]) -> None:
        """Give each product its gallery before back: the media this run created are deleted
        (they are its own: nothing else references them), unlinked media are linked again, and
        order, alt text, variant images and swatch references restored; then the gallery is
        read back to confirm. A rollback that cannot be confirmed is reported as such."""
        if not steps:
            return
        self._set_phase("rolling back failed products")
        for step in steps:
            logger.warning("Rolling back %s: %s", step.product_id, step.reason())
        variant_ids = [v for s in steps for v in s.work.variant_ids]
        try:
            states = self._read([s.product_id for s in steps], variant_ids)
        except ShopifyAuthError:
            raise
        except ShopifyError as exc:
            for step in steps:
                step.rollback_error = f"The product could not be read to roll it back: {exc}"
            return
        undo_steps: list[_Step] = []
        own: list[tuple[_Step, _Step, str]] = []
        for step in steps:
            state = states.get(step.product_id)
            if state is None:
                step.rollback_error = "The product could not be read to roll it back."
                continue
            created = {step.real(c.media_id) for c in step.creates}
            work = replace(step.work, restore=step.before, deleted_media=[], journal=None)
            back = self._restore_step(work, state, state)
            own += [(step, back, m) for m in back.unlinks if m in created]
            back.unlinks = [m for m in back.unlinks if m not in created]
            undo_steps.append(back)
        if own:
            deleted = self._delete_files([m for _, _, m in own])
            for step, back, media_id in own:
                if media_id in deleted:
                    back.gallery.remove(media_id)
                    step.records.pop(media_id, None)
                    self.hooks.records_removed(step.product_id, [media_id])
                else:  # Shopify keeps it: unlink it instead (the file stays in Files)
                    back.unlinks.append(media_id)
        self._phase_relinks(undo_steps)
        self._phase_unlinks(undo_steps)
        self._phase_reorder(undo_steps)
        self._phase_alts(undo_steps)
        self._phase_variants(undo_steps)
        self._phase_swatches(undo_steps)
        try:
            states = self._read([s.product_id for s in steps], variant_ids)
        except ShopifyAuthError:
            raise
        except ShopifyError:
            states = {}
        for step in steps:
            if step.rollback_error:
                continue
            state = states.get(step.product_id)
            if state is not None and _same_media(state, step.before):
                step.rolled_back = True
                step.gallery = [i.media_id for i in state.gallery]
                step.status = {i.media_id: i.status for i in state.gallery}
            else:
                back = next((b for b in undo_steps if b.product_id == step.product_id), None)
                why = back.reason() if back is not None and back.broken else ""
                step.rollback_error = (
                    "The product could not be fully rolled back"
                    + (f" ({why})" if why else "")
                    + "; run Undo on this run, or check the product in Shopify."
                )
