"""Plan each product of a wave from its gallery now (and, for undo, from the gallery to restore)."""

from __future__ import annotations

from linking.core import ProductPlan, ProductState, plan_product, plan_restore
from linking.core.gallery import MAX_GALLERY_SIZE

from .model import ProductWork, _Step


def _same_gallery(a: ProductState, b: ProductState) -> bool:
    def key(state):
        return [
            (i.media_id, i.alt or "", i.record.identity if i.record else None)
            for i in state.gallery
        ]

    return key(a) == key(b)


class _Prepare:
    """Part of :class:`linking.executor.Executor`."""

    def _step(self, work: ProductWork, state: ProductState) -> _Step:
        report_before = work.original_before or state
        if work.restore is not None:
            return self._restore_step(work, state, report_before)

        def plan_from(gallery: ProductState) -> ProductPlan:
            return plan_product(
                gallery,
                work.assets,
                work.settings,
                variant_ids=work.variant_ids,
                swatches=work.swatches,
                store_files=self.store_files,
                in_place=work.in_place,
                replaces=work.replaces or None,
                unlink=work.unlink,
            )

        plan = plan_from(state)
        report_plan = plan
        if work.original_before is not None and not _same_gallery(work.original_before, state):
            report_plan = plan_from(work.original_before)
        for created in plan.operations.swatch_files:
            self.store_files[(created.asset_id, created.version, created.transformation)] = (
                created.file_id
            )
        o = plan.operations
        step = _Step(
            work,
            state,
            report_before,
            [i.media_id for i in plan.after.gallery],
            unlinks=[u.media_id for u in o.unlinks],
            creates=list(o.creates),
            alts={u.media_id: u.alt for u in o.alt_updates},
            variant_images=list(o.variant_images),
            swatch_files=list(o.swatch_files),
            swatch_metafields=list(o.swatch_metafields),
            plan=plan,
            report_plan=report_plan,
            replanned=work.planned_media is not None
            and work.planned_media != [i.media_id for i in state.gallery],
            gallery=[i.media_id for i in state.gallery],
            records={i.media_id: i.record for i in state.gallery if i.record},
        )
        step.status = {i.media_id: i.status for i in state.gallery}
        step.unlink_first = bool(step.unlinks) and (
            len(state.gallery) + len(step.creates) > MAX_GALLERY_SIZE
        )
        return step

    def _restore_step(self, work, state, report_before) -> _Step:
        assert work.restore is not None
        plan = plan_restore(
            state,
            work.restore,
            gone=set(work.deleted_media),
            removable=None if work.added_media is None else set(work.added_media),
            swatch_namespace=work.settings.swatch_namespace,
            swatch_key=work.settings.swatch_key,
        )
        step = _Step(
            work,
            state,
            report_before,
            list(plan.target),
            unlinks=list(plan.unlinks),
            relinks=list(plan.relinks),
            alts=dict(plan.alts),
            variant_images=list(plan.variant_images),
            variant_detaches=list(plan.variant_detaches),
            swatch_metafields=list(plan.swatch_metafields),
            gallery=[i.media_id for i in state.gallery],
            records={i.media_id: i.record for i in state.gallery if i.record},
        )
        step.status = {i.media_id: i.status for i in state.gallery}
        return step
