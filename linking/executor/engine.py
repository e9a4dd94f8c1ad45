"""The executor: products in waves, each wave's phases in the core's execution order."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from linking.core import LinkRecord, ProductState, ReportAction
from reports.progress import Progress, nap
from stores.shopify.batching import ConcurrentSender
from stores.shopify.errors import ShopifyAuthError, ShopifyError

from .cleanup import _DeleteUnreferenced
from .create import _Create
from .model import (
    ProductOutcome,
    ProductWork,
    RunHooks,
    _operation_count,
    _Step,
    skipped_rows,
)
from .order import _Order
from .prepare import _Prepare
from .ready import _WaitReady
from .reconcile import _Reconcile
from .references import _References
from .report import _Report
from .rollback import _Rollback
from .sending import _Sending
from .variants import _Variants

logger = logging.getLogger(__name__)


class Executor(
    _Prepare,
    _Reconcile,
    _Sending,
    _References,
    _Create,
    _WaitReady,
    _Order,
    _Variants,
    _Rollback,
    _DeleteUnreferenced,
    _Report,
):
    def __init__(
        self,
        client,
        *,
        read_states: Callable[[list[str], list[str]], dict[str, ProductState]],
        source_url: Callable[[str, str, int, str], str],
        hooks: RunHooks | None = None,
        progress: Progress | None = None,
        should_abort: Callable[[], bool] = lambda: False,
        store_files: dict[tuple[str, int, str], str] | None = None,
        wave_seconds: float = 2.5,
        max_wave: int = 25,
        read_ahead: int = 250,
        ready_timeout: float = 600.0,
        poll_min: float = 0.05,
        poll_max: float = 2.0,
        sleep=time.sleep,
        create_attempts: int = 4,
        doubt_wait: float = 5.0,
        delete_created_files: bool = False,
        concurrency: int = 8,
        max_waves_in_flight: int = 8,
    ):
        self.client = client
        self.read_states = read_states
        self.source_url = source_url
        self.hooks = hooks or RunHooks()
        self.progress = progress or Progress()
        self.should_abort = should_abort
        self.store_files = dict(store_files or {})
        self.wave_seconds = wave_seconds
        self.max_wave = max_wave
        self.read_ahead = read_ahead
        self.ready_timeout = ready_timeout
        self.poll_min = poll_min
        self.poll_max = poll_max
        self._sleep = sleep
        self._ready_estimate = 0.3
        self.create_attempts = create_attempts
        self.doubt_wait = doubt_wait
        self.delete_created_files = delete_created_files
        self._created_at: dict[str, float] = {}
        self._files: dict[str, str] = {}  # swatch file placeholder → Shopify id, across waves
        # Independent per-product calls of a phase go out at once; the bucket paces them.
        self.sender = ConcurrentSender(client, workers=concurrency)
        self.max_waves_in_flight = max(1, max_waves_in_flight)
        self._unsaved: list[tuple[str, str, LinkRecord]] = []
        """Media adopted in the creates phase, written in one go (before any journal changes)."""
        self._abort_seen: float | None = None

    def _nap(self, seconds: float) -> None:
        nap(seconds, should_abort=self.should_abort, sleep=self._sleep)

    def _tick(self, step: _Step, n: int = 1) -> None:
        n = max(0, min(n, step.ops_total - step.ops_done))
        step.ops_done += n
        self.progress.add(ops_done=n)

    # -- public --

    def run(self, works: Sequence[ProductWork]) -> Iterator[ProductOutcome]:
        """Pipelined: waves' media are created while earlier waves' are processed by Shopify;
        a wave is finished (statuses, order, alt, variants, swatches) once its media have had
        the time Shopify takes to process them (or when ``max_waves_in_flight`` are started and
        not finished). Abort is checked before a wave starts and between the products of a
        wave; started products always finish (complete, or roll back)."""
        try:
            yield from self._run(works)
        finally:
            self.sender.close()

    def _run(self, works: Sequence[ProductWork]) -> Iterator[ProductOutcome]:
        pending = list(works)
        states: dict[str, ProductState | None] = {}
        in_flight: deque[list[_Step]] = deque()
        while pending and not self.should_abort():
            wave = pending[: self._wave_size(pending)]
            pending = pending[len(wave) :]
            missing = [w for w in wave if w.product_id not in states]
            if missing:
                ahead = [w for w in [*wave, *pending] if w.product_id not in states]
                ahead = ahead[: max(len(missing), self.read_ahead)]
                self._set_phase("reading galleries")
                fresh = self._read(
                    [w.product_id for w in ahead],
                    [v for w in ahead for v in w.variant_ids],
                )
                for w in ahead:
                    states[w.product_id] = fresh.get(w.product_id)
            current: list[_Step] = []
            yield from self._start_wave(
                wave, {w.product_id: states.pop(w.product_id) for w in wave}, current
            )
            in_flight.append(current)
            yield from self._finish_waves(in_flight, everything=not pending)
        yield from self._finish_waves(in_flight, everything=True)
        for work in pending:
            yield self._not_done(work)

    def _finish_waves(self, in_flight: deque, *, everything: bool) -> Iterator[ProductOutcome]:
        """Finish, as one group, the oldest waves whose media Shopify has probably processed
        by now, and as many more as keep at most ``max_waves_in_flight`` open (all of them at
        the end or after an abort)."""
        everything = everything or self.should_abort()
        group: list[_Step] = []
        while in_flight and (
            everything or len(in_flight) > self.max_waves_in_flight or self._processed(in_flight[0])
        ):
            group += in_flight.popleft()
        yield from self._finish_wave(group)

    def _processed(self, steps: list[_Step]) -> bool:
        """The wave's newest media are as old as Shopify has lately taken to process media."""
        created = [self._created_at.get(m) for s in steps for m in s.ids.values()]
        created = [t for t in created if t is not None]
        return not created or time.monotonic() - max(created) >= self._ready_estimate

    def _read(self, product_ids: list[str], variant_ids: list[str], attempts: int = 6):
        """Galleries now; a read Shopify did not answer is tried again (it changes nothing)."""
        for attempt in range(attempts):
            try:
                return self.read_states(product_ids, variant_ids)
            except ShopifyAuthError:
                raise
            except ShopifyError as exc:
                if attempt + 1 == attempts:
                    raise
                delay = min(30.0, 0.5 * 2**attempt)
                logger.warning("Reading galleries failed (%s); again in %.1fs", exc, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")

    # -- waves --

    def _wave_size(self, pending: list[ProductWork]) -> int:
        rate = self.client.bucket.restore_rate or 100.0
        budget = rate * self.wave_seconds
        size, points = 0, 0.0
        for work in pending[: self.max_wave]:
            # creates ≈ 12 + 1.9 (Shopify's dynamic complexity of productUpdate, see
            # stores.shopify.cost.mutation_cost) + 3 per media, status polls 1 per media,
            # reorder/variants ≈ 12 each
            points += 12 + 5.9 * len(work.assets) + 8 * len(work.swatches)
            points += 12 if work.variant_ids and work.settings.assign_variant_images else 0
            points += 12 if str(work.settings.mode) != "append" else 0
            if size and points > budget:
                break
            size += 1
        return max(1, size)

    def _set_phase(self, phase: str) -> None:
        with self.progress.lock:
            self.progress.phase = phase

    def _not_done(self, work: ProductWork) -> ProductOutcome:
        message = "The run was aborted before this product was started."
        outcome = ProductOutcome(work.product_id, "not_done", skipped_rows(work, message))
        self.hooks.finished(outcome)
        return outcome

    def _start_wave(self, wave, states, steps: list[_Step]) -> Iterator[ProductOutcome]:
        """Plan the wave's products and create their new media (steps are appended to
        ``steps``); yields the products that need no change of the gallery (skipped,
        unreadable) and, after an abort, those not started. Nothing is unlinked here unless the
        250-media limit forces it: destroying waits until the new media are READY."""
        for n, work in enumerate(wave):
            if self.should_abort():
                for rest in wave[n:]:
                    yield self._not_done(rest)
                break
            state = states.get(work.product_id)
            if state is None:
                outcome = self._unreadable(work)
                self.hooks.finished(outcome)
                self.progress.add(products_done=1, ops_done=work.planned_ops or 0)
                yield outcome
                continue
            state = self._reconcile(work, state)
            step = self._step(work, state)
            if step.plan is not None and step.plan.skipped_reason:
                outcome = ProductOutcome(
                    work.product_id,
                    "skipped",
                    self._rows(step),
                    state,
                    state,
                    step.replanned,
                    step.plan.skipped_reason,
                )
                self.hooks.finished(outcome)
                self.progress.add(products_done=1, ops_done=work.planned_ops or 0)
                yield outcome
                continue
            # The run's totals were fixed from the plan when it started; a product re-planned
            # here counts within its planned share (progress never grows its total).
            step.ops_total = (
                work.planned_ops if work.planned_ops is not None else _operation_count(step)
            )
            steps.append(step)
        if not steps:
            return
        self.hooks.started_many([(s.work, s.report_before) for s in steps])
        self._phase_unlinks([s for s in steps if s.unlink_first])
        self._phase_relinks(steps)
        yield from self._phase_creates(steps)

    def _finish_wave(self, steps: list[_Step]) -> Iterator[ProductOutcome]:
        """Complete the wave's products: wait for their new media, then (create before
        destroy) unlink, reorder, alt text, variant images and swatches. A product where any
        of it fails is rolled back to its gallery before."""
        if not steps:
            return

        def live() -> list[_Step]:
            return [s for s in steps if not s.broken]

        # Everything that adds or changes comes before the unlinks, and the reorder keeps the
        # media to unlink in their old relative order: until the last phase, a rollback is
        # only "delete what this run created, put alt/variants/swatches back".
        self._phase_wait_ready(steps)
        self._phase_reorder(live())
        self._phase_alts(live())
        self._phase_variants(live())
        self._phase_swatches(live())
        self._phase_unlinks([s for s in live() if not s.unlink_first])
        self._rollback([s for s in steps if s.broken])
        self._phase_delete_unreferenced(live())
        outcomes = [self._outcome(step) for step in steps]
        self.hooks.finished_many(outcomes)
        for step, outcome in zip(steps, outcomes, strict=True):
            if outcome.status == "not_done":
                # rolled back after an abort: it is at its gallery before, none of its work
                # stands (counted as the products not started are: not done)
                self.progress.add(ops_done=-step.ops_done)
                step.ops_done = 0
                yield outcome
                continue
            failed = sum(1 for r in outcome.rows if r.action == str(ReportAction.FAILED))
            self._tick(step, step.ops_total)  # what failed or had nothing to do is over too
            self.progress.add(products_done=1, failures=failed)
            yield outcome

    def _unreadable(self, work: ProductWork) -> ProductOutcome:
        message = "The product could not be read (deleted?); it was not changed."
        return ProductOutcome(
            work.product_id, "skipped", skipped_rows(work, message), error=message
        )
