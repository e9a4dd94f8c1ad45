"""Variant images and swatches (files and metafields)."""

from __future__ import annotations

import json

from linking.core import CreateSwatchFile, LinkRecord
from stores.shopify import operations as ops
from stores.shopify.files import created_files

from .model import MAX_INPUT, MAX_METAFIELDS, MAX_VARIANT_PAIRS, _Step


class _Variants:
    """Part of :class:`linking.executor.Executor`."""

    # -- phase 6: variant images --

    def _phase_variants(self, steps: list[_Step]) -> None:
        work = [s for s in steps if s.variant_images or s.variant_detaches]
        if not work:
            return
        self._set_phase("assigning variant images")
        plans: list[tuple[_Step, list, list]] = []
        for step in work:
            present = set(step.gallery)
            detach = [(v, m) for v, m in step.variant_detaches if m in present]
            append = []
            for assign in step.variant_images:
                media_id = step.real(assign.media_id)
                if media_id not in present or media_id in step.failed:
                    continue
                # The variant's image now (still on the product: unlinks come last) goes first.
                previous = step.real(assign.previous_media_id or "") or None
                if previous not in present:
                    previous = step.before.variant_images.get(assign.variant_id)
                if previous in present and previous != media_id:
                    detach.append((assign.variant_id, previous))
                append.append((assign.variant_id, media_id))
            plans.append((step, detach, append))
        # All detaches, then all appends (a variant's previous image first), each in rounds.
        for operation, n in (
            (ops.PRODUCT_VARIANT_DETACH_MEDIA, 1),
            (ops.PRODUCT_VARIANT_APPEND_MEDIA, 2),
        ):
            calls = []
            for step_no, plan in enumerate(plans):
                pairs = plan[n]
                if plan[0].broken:
                    continue
                for start in range(0, len(pairs), MAX_VARIANT_PAIRS):
                    chunk = pairs[start : start + MAX_VARIANT_PAIRS]
                    variables = {
                        "productId": plan[0].product_id,
                        "variantMedia": [{"variantId": v, "mediaIds": [m]} for v, m in chunk],
                    }
                    calls.append(((step_no, start), operation, variables))
            for (step_no, _), answer in self._retrying_many(calls).items():
                if not answer.ok:
                    plans[step_no][
                        0
                    ].error = f"Variant images failed: {answer.code} {answer.message}"
        for step, _, _ in plans:
            if not step.broken:
                self._tick(step, len(step.variant_images))

    # -- phase 7: swatches --

    def _phase_swatches(self, steps: list[_Step]) -> None:
        files: dict[str, tuple[_Step, CreateSwatchFile]] = {}
        for step in steps:
            for created in step.swatch_files:
                files.setdefault(created.file_id, (step, created))
        if not files and not any(s.swatch_metafields or s.swatch_deletes for s in steps):
            return
        self._set_phase("swatches")
        resolved = self._files
        items = list(files.values())
        for start in range(0, len(items), MAX_INPUT):
            chunk = items[start : start + MAX_INPUT]
            specs = []
            for _, c in chunk:
                url = self.source_url("FILE", c.asset_id, c.version, c.transformation)
                # Shopify wants the filename's extension to match the source's.
                ext = url.split("?")[0].rsplit("/", 1)[-1].rpartition(".")[2] or "jpg"
                specs.append(
                    {
                        "originalSource": url,
                        "contentType": "IMAGE",
                        "filename": f"swatch-{c.asset_id}-v{c.version}.{ext}",
                    }
                )
            answer = self._retrying(ops.FILE_CREATE, {"files": specs})
            if not answer.ok:
                for step, c in chunk:
                    step.fail(c.file_id, answer.code, answer.message)
                continue
            for (step, c), file in zip(chunk, created_files(answer.result), strict=False):
                resolved[c.file_id] = file.id
                key = (c.asset_id, c.version, c.transformation)
                self.store_files[key] = file.id
                self.hooks.record_saved(
                    "", file.id, LinkRecord(c.asset_id, c.version, c.transformation)
                )
                step.ids[c.file_id] = file.id
                self._tick(step)
        metafields = []
        for step in steps:
            for mf in step.swatch_metafields:
                ids = [resolved.get(f, step.real(f)) for f in mf.file_ids]
                if any(i.startswith("file:") for i in ids):
                    step.error = (
                        "A swatch file could not be created; the swatch metafield was not set."
                    )
                    continue
                metafields.append(
                    (
                        step,
                        {
                            "ownerId": mf.owner_id,
                            "namespace": mf.namespace,
                            "key": mf.key,
                            "type": "list.file_reference",
                            "value": json.dumps(ids),
                        },
                    )
                )
        for start in range(0, len(metafields), MAX_METAFIELDS):
            chunk = metafields[start : start + MAX_METAFIELDS]
            answer = self._retrying(ops.METAFIELDS_SET, {"metafields": [m for _, m in chunk]})
            if not answer.ok:
                for step, _ in chunk:
                    step.error = f"Swatch metafield: {answer.code} {answer.message}"
                continue
            for step, _ in chunk:
                self._tick(step)
        self._delete_swatch_metafields(steps)

    def _delete_swatch_metafields(self, steps: list[_Step]) -> None:
        """Undo and rollback: the swatch metafields of owners that had none (≤ 25 per call)."""
        deletes = [
            (step, {"ownerId": d.owner_id, "namespace": d.namespace, "key": d.key})
            for step in steps
            if not step.broken
            for d in step.swatch_deletes
        ]
        for start in range(0, len(deletes), MAX_METAFIELDS):
            chunk = deletes[start : start + MAX_METAFIELDS]
            answer = self._retrying(ops.METAFIELDS_DELETE, {"metafields": [m for _, m in chunk]})
            for step, _ in chunk:
                if answer.ok:
                    self._tick(step)
                else:
                    step.error = f"Swatch metafield: {answer.code} {answer.message}"
