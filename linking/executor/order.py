"""Reorder galleries (then wait for the reorder jobs) and update alt text."""

from __future__ import annotations

import time
from dataclasses import replace

from linking.core import reorder_moves
from stores.shopify import media
from stores.shopify import operations as ops

from .model import MAX_INPUT, _Step


def _moves(moves) -> list[dict]:
    return [{"id": m.media_id, "newPosition": str(m.new_position)} for m in moves]


def _interim_order(target: list[str], gallery: list[str], before: list[str]) -> list[str]:
    """The order to give a gallery that still holds media about to be unlinked: the target,
    with those media kept in their old relative order (each just before the next media of the
    old gallery that stays). Unlinking them then leaves exactly the target, and until then
    deleting what the run added leaves exactly the old gallery."""
    present = set(gallery)
    target = [m for m in target if m in present]
    in_target = set(target)
    old_position = {m: n for n, m in enumerate(before)}
    leaving = [m for m in before if m in present and m not in in_target]
    order: list[str] = []
    for media_id in target:
        if media_id in old_position:
            while leaving and old_position[leaving[0]] < old_position[media_id]:
                order.append(leaving.pop(0))
        order.append(media_id)
    order += leaving
    placed = set(order)
    return order + [m for m in gallery if m not in placed]


class _Order:
    """Part of :class:`linking.executor.Executor`."""

    # -- phase 4: reorder --

    def _phase_reorder(self, steps: list[_Step]) -> None:
        jobs: list[tuple[_Step, str]] = []
        single: list[tuple[_Step, dict, list[str]]] = []
        for step in steps:
            target = _interim_order(
                [step.real(m) for m in step.target],
                step.gallery,
                [i.media_id for i in step.before.gallery],
            )
            moves = reorder_moves(step.gallery, target)
            if not moves:
                continue
            self._set_phase("reordering")
            if len(moves) <= MAX_INPUT:
                single.append((step, {"id": step.product_id, "moves": _moves(moves)}, target))
                continue
            for start in range(0, len(moves), MAX_INPUT):  # later chunks depend on earlier ones
                variables = {
                    "id": step.product_id,
                    "moves": _moves(moves[start : start + MAX_INPUT]),
                }
                result = self._mutate(step, ops.PRODUCT_REORDER_MEDIA, variables, "Reorder")
                if result is None:
                    break
                job = media.pending_reorder_job(result)
                if job:
                    self._wait_jobs([(step, job)])
            else:
                step.gallery = target
                self._tick(step)
        answers = self._retrying_many(
            [
                (n, ops.PRODUCT_REORDER_MEDIA, variables)
                for n, (_, variables, _) in enumerate(single)
            ]
        )
        for n, (step, _, target) in enumerate(single):
            answer = answers[n]
            if not answer.ok:
                step.error = f"Reorder failed: {answer.code} {answer.message}"
                continue
            job = media.pending_reorder_job(answer.result)
            if job:
                jobs.append((step, job))
            step.gallery = target
            self._tick(step)
        self._wait_jobs(jobs)

    def _wait_jobs(self, jobs: list[tuple[_Step, str]]) -> None:
        delay = self.poll_min
        deadline = time.monotonic() + self.ready_timeout
        while jobs and time.monotonic() < deadline:
            self._sleep(delay)
            left = []
            for step, job_id in jobs:
                if not media.job_done(self.client, job_id):
                    left.append((step, job_id))
            jobs = left
            delay = min(self.poll_max, delay * 1.6)
        for step, _ in jobs:
            step.error = "Shopify's reorder job did not finish in time."

    # -- phase 5: alt --

    def _phase_alts(self, steps: list[_Step]) -> None:
        inputs = []
        for step in steps:
            for media_id, alt in step.alts.items():
                real = step.real(media_id)
                if real in step.gallery:
                    inputs.append((step, real, {"id": real, "alt": alt}))
        if not inputs:
            return
        self._set_phase("updating alt text")
        for step, media_id, spec in self._file_updates(inputs):
            record = step.records.get(media_id)
            if record is not None:
                # An undo or rollback gives the record back as it was with that alt.
                restored = step.work.restore and next(
                    (i.record for i in step.work.restore.gallery if i.media_id == media_id), None
                )
                record = restored or replace(record, alt=spec["alt"])
                step.records[media_id] = record
                self.hooks.record_saved(step.product_id, media_id, record)
            self._tick(step)
