"""Plan each product of a wave from its gallery now (and, for undo, from the gallery to restore)."""

from __future__ import annotations

from dataclasses import replace

from linking.core import ProductPlan, ProductState, plan_product, plan_restore
from linking.core.gallery import FAILED, MAX_GALLERY_SIZE

from .model import ProductWork, _Step


def _same_gallery(a: ProductState, b: ProductState) -> bool:
    def key(state):
        return [
            (i.media_id, i.alt or "", i.record.identity if i.record else None)
            for i in state.gallery
        ]

    return key(a) == key(b)


def _as_first_seen(state: ProductState, first: ProductState) -> tuple[ProductState, set[str]]:
    """``state`` arranged as the run first saw the product, to plan a resume from: the media it
    had then, in that order (as they are now; one gone since stands in as FAILED, so that
    nothing is reused from it), then the others (what an earlier attempt created) in their
    order now; and the ids of the gone ones. An attempt that died after its interim reorder
    left the new media in front of the ones it was about to unlink, one that died after some
    unlinks left fewer media: planned from either, overwrite's ``S + E[k:]`` counts ``k`` from
    the wrong media and keeps what the plan removes (or removes what it keeps)."""
    now = {item.media_id: item for item in state.gallery}
    seen = {item.media_id for item in first.gallery}
    gallery = (
        *(now.get(item.media_id) or replace(item, status=FAILED) for item in first.gallery),
        *(item for item in state.gallery if item.media_id not in seen),
    )
    return replace(state, gallery=gallery), seen - set(now)


def _without(plan: ProductPlan, state: ProductState, gone: set[str]) -> ProductPlan:
    """``plan`` (made by :func:`_as_first_seen`) for the gallery as it is: the media gone since
    are neither unlinked, kept nor given alt text."""
    o = plan.operations
    operations = replace(
        o,
        unlinks=[u for u in o.unlinks if u.media_id not in gone],
        alt_updates=[u for u in o.alt_updates if u.media_id not in gone],
        variant_images=[v for v in o.variant_images if v.media_id not in gone],
    )
    gallery = tuple(i for i in plan.after.gallery if i.media_id not in gone)
    return replace(plan, before=state, after=replace(plan.after, gallery=gallery),
                   operations=operations)  # fmt: skip


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

        resumed = work.original_before is not None and not _same_gallery(
            work.original_before, state
        )
        # (managing links places by media id, not by position: planned from the gallery now)
        first_seen = resumed and not work.in_place
        if first_seen:
            assert work.original_before is not None
            seen, gone = _as_first_seen(state, work.original_before)
            plan = _without(plan_from(seen), state, gone)
        else:
            plan = plan_from(state)
        report_plan = plan_from(work.original_before) if resumed else plan
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
            swatch_owners=work.swatch_owners,
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
            swatch_deletes=list(plan.swatch_deletes),
            gallery=[i.media_id for i in state.gallery],
            records={i.media_id: i.record for i in state.gallery if i.record},
        )
        step.status = {i.media_id: i.status for i in state.gallery}
        return step
