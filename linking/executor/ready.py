"""Wait for Shopify to process the new media; FAILED media are reported and removed."""

from __future__ import annotations

import time

from stores.shopify import media
from stores.shopify.files import delete_files

from .model import ABORT_GRACE, FAILED, READY, _Step


class _WaitReady:
    """Part of :class:`linking.executor.Executor`."""

    # -- phase 3: wait for READY --

    def _phase_wait_ready(self, steps: list[_Step]) -> None:
        waiting: dict[str, _Step] = {}
        for step in steps:
            for media_id in step.gallery:
                if (
                    step.status.get(media_id) not in (READY, FAILED)
                    and media_id in step.ids.values()
                ):
                    waiting[media_id] = step
        if not waiting:
            return
        self._set_phase("waiting for Shopify to process media")
        started = time.monotonic()
        delay = self.poll_min
        first = True
        while waiting:
            # one grace per run (not per wave): several waves may be waiting when it comes
            if self._abort_seen is None and self.should_abort():
                self._abort_seen = time.monotonic()
            abort_seen = self._abort_seen
            if abort_seen is not None and time.monotonic() - abort_seen >= ABORT_GRACE:
                # Aborted while Shopify still processes: those products roll back now.
                for step in {id(s): s for s in waiting.values()}.values():
                    step.aborted = True
                break
            oldest = min(self._created_at.get(m, started) for m in waiting)
            age = time.monotonic() - oldest
            wait = max(self._ready_estimate - age, delay if not first else 0.0)
            if abort_seen is None:
                self._nap(max(0.0, wait))
            else:  # aborted: one more look when the grace ends, not a poll per wake-up
                self._sleep(max(0.0, min(wait, ABORT_GRACE - (time.monotonic() - abort_seen))))
            ids = list(waiting)
            seen_ready = False
            failed_now: dict[str, _Step] = {}
            for media_id, status in media.statuses(self.client, ids).items():
                if media_id not in waiting:
                    continue
                step = waiting[media_id]
                step.status[media_id] = status
                if status == READY:
                    del waiting[media_id]
                    seen_ready = True
                elif status == FAILED:
                    failed_now[media_id] = step
                    del waiting[media_id]
                    seen_ready = True
            self._media_errors(failed_now)
            if waiting:
                pending_age = time.monotonic() - min(
                    self._created_at.get(m, started) for m in waiting
                )
                self._ready_estimate = min(30.0, max(self._ready_estimate, pending_age * 1.1))
            elif first and seen_ready:
                self._ready_estimate = max(0.05, self._ready_estimate * 0.9)
            first = False
            delay = min(self.poll_max, delay * 1.6)
            if waiting and time.monotonic() - started > self.ready_timeout:
                for media_id, step in waiting.items():
                    step.fail(
                        media_id, "MEDIA_TIMEOUT", "Shopify did not finish processing in time."
                    )
                break
        # Failed media leave the product; the rest of it completes.
        # Failed media leave the product (deleted: Shopify will not unlink a FAILED file, and
        # they are this run's own creations); the rest of the product completes.
        removals: list[tuple[_Step, str]] = []
        for step in steps:
            for media_id in list(step.failed):
                real = step.real(media_id)
                if real in step.gallery:
                    removals.append((step, real))
        if removals:
            self._set_phase("removing failed media")
            outcome = delete_files(self.client, [m for _, m in removals], sleep=self._sleep)
            deleted = set(outcome.items)
            refused = {r.item: r for r in outcome.refused}
            for step, media_id in removals:
                if media_id not in deleted:
                    why = refused.get(media_id)
                    step.error = "A failed media could not be removed from the product" + (
                        f": {why.code} {why.message}" if why else "."
                    )
                    continue
                step.gallery.remove(media_id)
                step.records.pop(media_id, None)
                self.hooks.records_removed(step.product_id, [media_id])

    def _media_errors(self, failed: dict[str, _Step]) -> None:
        """Shopify's error code of each FAILED media (one call for all of them)."""
        errors = media.media_errors(self.client, list(failed))
        for media_id, step in failed.items():
            error = errors.get(media_id)
            step.fail(
                media_id,
                (error.code if error else "") or "FAILED",
                (error.message if error else "") or "Shopify could not process this media.",
            )
