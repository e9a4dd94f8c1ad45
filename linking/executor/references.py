"""Unlinks (destroy, last) and re-links (undo, rollback): fileUpdate references."""

from __future__ import annotations

from .model import READY, _Step


class _References:
    """Part of :class:`linking.executor.Executor`."""

    # -- phase 1: unlinks and re-links --

    def _phase_relinks(self, steps: list[_Step]) -> None:
        """Undo and rollback: link files to their product again (an add: before any unlink)."""
        self._references(steps, "relinks", "referencesToAdd", "linking files again")

    def _phase_unlinks(self, steps: list[_Step]) -> None:
        self._references(steps, "unlinks", "referencesToRemove", "unlinking")

    def _references(self, steps: list[_Step], which: str, key: str, phase: str) -> None:
        inputs = [
            (step, media_id, {"id": media_id, key: [step.product_id]})
            for step in steps
            for media_id in getattr(step, which)
        ]
        if not inputs:
            return
        self._set_phase(phase)
        done = self._file_updates(inputs)
        for step, media_id, spec in done:
            if "referencesToRemove" in spec:
                step.gallery.remove(media_id)
                record = step.records.pop(media_id, None)
                if (
                    record is not None and self.delete_created_files and step.work.restore is None
                ) or media_id in step.work.created_media:
                    step.created_unlinked.append(media_id)
                self.hooks.records_removed(step.product_id, [media_id])
            else:
                step.gallery.append(media_id)
                item = next((i for i in step.work.restore.gallery if i.media_id == media_id), None)
                if item is not None and item.record is not None:
                    step.records[media_id] = item.record
                    self.hooks.record_saved(step.product_id, media_id, item.record)
                step.status[media_id] = item.status if item else READY
            self._tick(step)
