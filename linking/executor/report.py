"""Each product's outcome: its final gallery and report rows."""

from __future__ import annotations

from dataclasses import replace

from linking.core import GalleryItem, ProductState, ReportAction, ReportRow

from .model import FAILED, FILE_GONE_CODE, READY, ProductOutcome, _Step


class _Report:
    """Part of :class:`linking.executor.Executor`."""

    # -- results --

    def _final_state(self, step: _Step) -> ProductState:
        items = []
        alts = {step.real(k): v for k, v in step.alts.items()}
        source = {i.media_id: i for i in step.before.gallery}
        if step.work.restore is not None:
            source.update({i.media_id: i for i in step.work.restore.gallery})
        types = {step.real(c.media_id): c.media_type for c in step.creates}
        create_alt = {step.real(c.media_id): c.alt for c in step.creates}
        for media_id in step.gallery:
            old = source.get(media_id)
            alt = alts.get(media_id, create_alt.get(media_id, old.alt if old else None))
            items.append(
                GalleryItem(
                    media_id,
                    step.status.get(media_id, READY),
                    alt,
                    types.get(media_id, old.media_type if old else "IMAGE"),
                    step.records.get(media_id),
                )
            )
        after = step.plan.after if step.plan else (step.work.restore or step.before)
        variant_images = {
            v: (step.real(m) if m and step.real(m) in step.gallery else None)
            for v, m in after.variant_images.items()
        }
        swatch_refs = {
            o: tuple(step.real(f) for f in refs) for o, refs in after.swatch_refs.items()
        }
        if step.plan is None:  # undo, rollback: what the metafields hold now
            swatch_refs = dict(step.before.swatch_refs)
            swatch_refs.update({mf.owner_id: mf.file_ids for mf in step.swatch_metafields})
            for deleted in step.swatch_deletes:
                swatch_refs.pop(deleted.owner_id, None)
        return ProductState(step.product_id, tuple(items), variant_images, swatch_refs)

    def _rows(self, step: _Step) -> list[ReportRow]:
        work = step.work
        extra = {"handle": work.handle, "title": work.title}
        final_pos = {m: n for n, m in enumerate(step.gallery, 1)}
        rows: list[ReportRow] = []
        if step.report_plan is None:  # undo
            before_pos = {i.media_id: n for n, i in enumerate(step.report_before.gallery, 1)}
            for media_id in step.gallery:
                record = step.records.get(media_id)
                if media_id in step.relinks:
                    action, message = ReportAction.REUSED, "Linked again by the undo."
                elif media_id in step.alts:
                    action, message = ReportAction.ALT_UPDATED, "Alt text restored."
                elif before_pos.get(media_id) != final_pos.get(media_id):
                    action, message = ReportAction.MOVED, ""
                else:
                    action, message = ReportAction.UNCHANGED, ""
                rows.append(
                    ReportRow(
                        work.product_id,
                        str(action),
                        record.asset_id if record else None,
                        media_id=media_id,
                        position_before=before_pos.get(media_id),
                        position_after=final_pos[media_id],
                        message=message,
                        status=step.status.get(media_id, ""),
                        **extra,
                    )
                )
            for media_id in step.unlinks:
                rows.append(
                    ReportRow(
                        work.product_id,
                        str(ReportAction.UNLINKED),
                        media_id=media_id,
                        position_before=before_pos.get(media_id),
                        message="Removed by the undo.",
                        **extra,
                    )
                )
            restore = {i.media_id: (n, i) for n, i in enumerate(work.restore.gallery, 1)}
            for media_id in work.deleted_media:
                position, item = restore.get(media_id, (None, None))
                record = item.record if item else None
                rows.append(
                    ReportRow(
                        work.product_id,
                        str(ReportAction.FAILED),
                        record.asset_id if record else None,
                        media_id=media_id,
                        position_before=position,
                        message="Cannot be restored: the undone run deleted this file "
                        "(delete unreferenced created files); the gallery stays without it.",
                        error_code=FILE_GONE_CODE,
                        **extra,
                    )
                )
            return self._mark_failures(step, rows + self._swatch_restore_rows(step))
        for row in step.report_plan.rows:
            media_id = row.media_id
            real = step.real(media_id) if media_id else None
            if real and real.startswith("new:"):
                real = self._by_identity(step, media_id) or real
            out = replace(row, action=str(row.action), media_id=real, **extra)
            if row.action != ReportAction.UNLINKED and row.action != ReportAction.SKIPPED:
                out.position_after = final_pos.get(real) if real else None
            out.status = step.status.get(real or "", "")
            rows.append(out)
        return self._mark_failures(step, rows)

    def _swatch_restore_rows(self, step: _Step) -> list[ReportRow]:
        """Undo: a row per file of each swatch metafield it gave back or removed."""
        asset_of = {file_id: identity[0] for identity, file_id in self.store_files.items()}
        extra = {"handle": step.work.handle, "title": step.work.title}
        changes = [
            (mf.owner_id, mf.file_ids, "restored by the undo")
            for mf in step.swatch_metafields
        ] + [
            (d.owner_id, step.before.swatch_refs.get(d.owner_id, ()),
             "removed by the undo (it had none before the run)")
            for d in step.swatch_deletes
        ]  # fmt: skip
        return [
            ReportRow(
                step.product_id,
                str(ReportAction.SWATCH),
                asset_of.get(file_id),
                media_id=file_id,
                message=f"Swatch metafield of {owner} {what}.",
                **extra,
            )
            for owner, file_ids, what in changes
            for file_id in file_ids
        ]

    def _by_identity(self, step: _Step, placeholder: str) -> str | None:
        """The real id of a placeholder of the report plan (computed against another gallery)."""
        for create in step.report_plan.operations.creates if step.report_plan else ():
            if create.media_id != placeholder:
                continue
            identity = (create.asset_id, create.version, create.transformation)
            for media_id in step.gallery:
                record = step.records.get(media_id)
                if record is not None and record.identity == identity:
                    return media_id
        return None

    def _mark_failures(self, step: _Step, rows: list[ReportRow]) -> list[ReportRow]:
        failed = {step.real(k): v for k, v in step.failed.items()}
        failed.update(step.failed)
        for row in rows:
            if row.media_id and row.media_id in failed:
                code, message = failed[row.media_id]
                row.action = str(ReportAction.FAILED)
                row.error_code = code
                row.message = message
                row.position_after = None
                row.status = step.status.get(row.media_id, FAILED if code else "")
        if step.error:
            for row in rows:
                if row.action != str(ReportAction.FAILED) and not row.message:
                    row.message = step.error
        return rows

    def _outcome(self, step: _Step) -> ProductOutcome:
        if step.broken:
            return self._rolled_back_outcome(step)
        rows = self._rows(step)
        failed = any(r.action == str(ReportAction.FAILED) for r in rows) or bool(step.error)
        rows = self._deletion_rows(step, rows)  # after: a failed delete does not fail it
        return ProductOutcome(
            step.product_id,
            "failed" if failed else "done",
            rows,
            step.report_before,
            self._final_state(step),
            step.replanned,
            step.error,
        )

    def _rolled_back_outcome(self, step: _Step) -> ProductOutcome:
        """The product is back at its gallery before (or, if the rollback could not be
        confirmed, says so): the assets that failed say why, the others were not applied."""
        reason = step.reason()
        if step.rolled_back:
            note = f"Not applied: the product was rolled back to its gallery before ({reason})."
            code = "ABORTED" if step.aborted else "ROLLED_BACK"
        else:
            note = f"{step.rollback_error} Cause: {reason}."
            code = "ROLLBACK_INCOMPLETE"
        failed = {step.real(k): v for k, v in step.failed.items()}
        failed.update(step.failed)
        created = {step.real(c.media_id) for c in step.creates}
        rows = []
        for row in self._rows(step):
            if row.action == str(ReportAction.UNCHANGED) and step.rolled_back:
                rows.append(row)
                continue
            mine = failed.get(row.media_id) if row.media_id else None
            if mine is not None and not step.aborted:
                row.action, row.error_code = str(ReportAction.FAILED), mine[0] or "FAILED"
                row.message = f"{mine[1]} The product was rolled back to its gallery before."
            else:
                row.action, row.error_code, row.message = str(ReportAction.SKIPPED), code, note
            if row.media_id in created or row.media_id in step.failed:
                row.media_id = row.previous_media_id or None  # what the gallery has again
            row.position_after = row.position_before if step.rolled_back else None
            row.status = ""
            rows.append(row)
        if not step.rolled_back or (
            not step.aborted and not any(r.action == str(ReportAction.FAILED) for r in rows)
        ):
            rows.append(
                ReportRow(step.product_id, str(ReportAction.FAILED), message=note, error_code=code,
                       handle=step.work.handle, title=step.work.title)
            )  # fmt: skip
        return ProductOutcome(
            step.product_id,
            "not_done" if step.aborted and step.rolled_back else "failed",
            rows,
            step.report_before,
            step.before if step.rolled_back else None,
            step.replanned,
            reason if step.rolled_back else f"{step.rollback_error} ({reason})",
        )
