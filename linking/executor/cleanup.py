"""Delete the files AssetLink created that nothing references any more."""

from __future__ import annotations

import logging

from linking.core import ReportAction
from stores.shopify.errors import ShopifyAuthError, ShopifyError
from stores.shopify.files import delete_files, referenced_by_products

from .model import (
    FILE_DELETED,
    FILE_DELETED_STATUS,
    ReportRow,
    _Step,
)

logger = logging.getLogger(__name__)


class _DeleteUnreferenced:
    """Part of :class:`linking.executor.Executor`."""

    # -- phase 8: delete the files AssetLink created that nothing references any more --

    def _phase_delete_unreferenced(self, steps: list[_Step]) -> None:
        candidates: list[tuple[_Step, str]] = []
        for step in steps:
            if not step.created_unlinked:
                continue
            if step.error or step.failed:
                for media_id in step.created_unlinked:
                    step.kept[media_id] = "the product did not complete"
                continue
            candidates += [(step, m) for m in step.created_unlinked]
        if not candidates:
            return
        self._set_phase("deleting unreferenced files")
        ids = list(dict.fromkeys(m for _, m in candidates))
        recorded = self.hooks.still_recorded(ids)
        used = self._used_by_products([m for m in ids if m not in recorded])
        todo: list[tuple[_Step, str]] = []
        for step, media_id in candidates:
            if media_id in recorded:
                step.kept[media_id] = "another link record points to it"
            elif used is None:
                step.kept[media_id] = "Shopify's references to it could not be read"
            elif media_id in used:
                step.kept[media_id] = "a product still references it"
            else:
                todo.append((step, media_id))
        outcome = delete_files(self.client, [m for _, m in todo], sleep=self._sleep)
        deleted = set(outcome.items)
        refused = {r.item: (r.code, r.message) for r in outcome.refused}
        for step, media_id in todo:
            if media_id in deleted:
                step.deleted.add(media_id)
            else:
                step.delete_failed[media_id] = refused.get(
                    media_id, ("NOT_DELETED", "Shopify kept it.")
                )

    def _used_by_products(self, media_ids: list[str]) -> set[str] | None:
        """Of ``media_ids``, the files some product still references on Shopify (None: unknown).
        A File exposes no references of its own; ``files(query: "used_in:product")`` does."""
        try:
            return referenced_by_products(self.client, media_ids)
        except ShopifyAuthError:
            raise
        except ShopifyError as exc:
            logger.warning("Could not read the references of files: %s", exc)
            return None

    def _deletion_rows(self, step: _Step, rows: list[ReportRow]) -> list[ReportRow]:
        """Say on the unlinked/replaced rows what became of the files (the action is kept); a
        delete that failed is a row of its own (it does not fail the product)."""
        for row in rows:
            media_id = (
                row.previous_media_id if row.action == str(ReportAction.REPLACED) else row.media_id
            )
            if media_id in step.deleted:
                note = FILE_DELETED
                row.status = FILE_DELETED_STATUS
            elif media_id in step.kept:
                note = f"The file stays in Files: {step.kept[media_id]}."
            else:
                continue
            row.message = f"{row.message} {note}".strip()
        extra = {"handle": step.work.handle, "title": step.work.title}
        for media_id, (code, message) in step.delete_failed.items():
            record = next((i.record for i in step.before.gallery if i.media_id == media_id), None)
            rows.append(
                ReportRow(
                    step.product_id,
                    str(ReportAction.FAILED),
                    record.asset_id if record else None,
                    media_id=media_id,
                    message=f"The file could not be deleted ({message}); it stays in Files.",
                    error_code=code,
                    **extra,
                )
            )
        return rows
