"""Carry out product plans on a live store: the executor of link runs (and of their undo).

Products go in *waves* (a few seconds of API points each; abort is checked between waves, so a
product is never left half-changed). Within a wave every step is batched across its products
where Shopify allows, in the core's execution order:

1. unlinks (and, for undo, re-links) — ``fileUpdate`` ``referencesToRemove``/``referencesToAdd``,
   ≤ 250 files per call;
2. creates — one ``productUpdate(media: [...])`` per product with all of its new media; the call
   is journaled first so that a worker that dies before the link records are written is
   reconciled on resume (the new media are adopted, never created twice);
3. wait for ``READY`` — ``nodes(ids:)`` status polls across the wave with backoff; media that
   end ``FAILED`` are reported with Shopify's error code and removed from the product;
4. reorder — ``productReorderMedia`` with the fewest moves from the actual gallery to the
   target, then ``job(id)`` polled;
5. alt updates — ``fileUpdate`` alt, batched;
6. variant images — ``productVariantDetachMedia`` (a previous image) then
   ``productVariantAppendMedia``, ≤ 100 pairs per call;
7. swatches — ``fileCreate`` (≤ 250) then ``metafieldsSet`` (≤ 25 per call);
8. with ``delete_created_files`` (the workspace's "delete unreferenced created files"), files
   AssetLink created that this run unlinked are deleted (``fileDelete``, ≤ 250 per call) once the
   product completed and nothing references them: no link record of the store, and no product
   on Shopify (``files(query: "used_in:product …")``). The rows keep their action and say so.

Every product is re-planned from its gallery as read just before its wave (the catalog may have
changed since the dry run); the report is computed against the gallery the product had when the
run first started it, so a resumed run still says ``created`` for the media it created earlier.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace

from linking.core import (
    AssetToLink,
    AssignVariantImage,
    CreateMedia,
    CreateSwatchFile,
    GalleryItem,
    LinkRecord,
    LinkSettings,
    ProductPlan,
    ProductState,
    ReportAction,
    ReportRow,
    SetSwatchMetafield,
    SwatchAsset,
    plan_product,
    plan_restore,
    reorder_moves,
)
from linking.core.gallery import MAX_GALLERY_SIZE
from reports.progress import Progress, nap
from stores.shopify import operations as ops
from stores.shopify.batching import NOT_SENT, ConcurrentSender
from stores.shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyUnavailable,
    UserError,
    retryable,
)

logger = logging.getLogger(__name__)

MAX_INPUT = 250  # Shopify's limit on items per input list
ABORT_GRACE = 0.5  # seconds an abort lets media still processing finish before rolling back
MAX_VARIANT_PAIRS = 100
MAX_METAFIELDS = 25
STATUS_IDS_PER_CALL = 250
REFERENCE_IDS_PER_QUERY = 50  # ids per files(query:) search (keeps the query string short)
READY, FAILED = "READY", "FAILED"
FILE_DELETED = "The file AssetLink created was deleted: nothing references it any more."
FILE_GONE_CODE = "FILE_DELETED"
# The report row status of a file the run deleted: undo reads it (not the message) to know.
FILE_DELETED_STATUS = "DELETED"


# --- inputs and outputs -------------------------------------------------------------------


@dataclass
class ProductWork:
    """One product of a run: what to link there (the inputs of ``plan_product``)."""

    product_id: str
    assets: list[AssetToLink] = field(default_factory=list)
    settings: LinkSettings = field(default_factory=LinkSettings)
    variant_ids: list[str] = field(default_factory=list)
    swatches: list[SwatchAsset] = field(default_factory=list)
    handle: str = ""
    title: str = ""
    restore: ProductState | None = None
    """Undo: the gallery to get back (the undone run's gallery before); assets are ignored."""
    original_before: ProductState | None = None
    """The gallery when a previous attempt of this run started the product (resume)."""
    journal: dict | None = None
    """Creates a previous attempt sent without confirming them (resume reconciles them)."""
    planned_media: list[str] | None = None
    """The media ids the dry run saw (a different gallery now means the product is re-planned)."""
    deleted_media: list[str] = field(default_factory=list)
    """Undo: media of ``restore`` the undone run deleted (they cannot be linked again)."""
    planned_ops: int | None = None
    """The operations the plan counted for this product (the run's fixed progress total)."""
    created_media: list[str] = field(default_factory=list)
    """Undo: media the undone run created here; their files are deleted once unreferenced."""
    in_place: bool = False
    """Managing links: the assets replace their media where they are (``plan_product``)."""
    replaces: dict[str, str] = field(default_factory=dict)
    """Managing links: media id → the asset (of ``assets``) whose newest version replaces it."""
    unlink: list[str] = field(default_factory=list)
    """Managing links: media to unlink from the product."""
    added_media: list[str] | None = None
    """Undo: media the undone run added here, the only ones the undo unlinks (None: every
    media ``restore`` lacks goes, as in a rollback)."""


@dataclass
class RunRow:
    product_id: str | None
    action: str
    asset_id: str | None = None
    public_id: str = ""
    group: str = ""
    media_id: str | None = None
    previous_media_id: str | None = None
    position_before: int | None = None
    position_after: int | None = None
    message: str = ""
    handle: str = ""
    title: str = ""
    status: str = ""
    error_code: str = ""

    @classmethod
    def from_core(cls, row: ReportRow, **extra) -> RunRow:
        data = asdict(row)
        data["action"] = str(row.action)
        data.update(extra)
        return cls(**data)


@dataclass
class ProductOutcome:
    product_id: str
    status: str
    """done | failed (some rows failed) | skipped | not_done (aborted before it started)."""
    rows: list[RunRow] = field(default_factory=list)
    before: ProductState | None = None
    after: ProductState | None = None
    replanned: bool = False
    error: str = ""


class RunHooks:
    """What the executor tells its run (persistence); the default remembers nothing."""

    def started(self, work: ProductWork, before: ProductState) -> None:
        """The product is about to change; ``before`` is its gallery now."""

    def started_many(self, started: Sequence[tuple[ProductWork, ProductState]]) -> None:
        """A wave's products are about to change (one write)."""
        for work, before in started:
            self.started(work, before)

    def journal(self, product_id: str, entry: dict | None) -> None:
        """Persist (or clear, with None) the creates in flight for a product."""

    def journal_many(self, entries: dict[str, dict | None]) -> None:
        """Several products' journals at once (one write), keyed by product id."""
        for product_id, entry in entries.items():
            self.journal(product_id, entry)

    def record_saved(self, product_id: str, media_id: str, record: LinkRecord) -> None:
        """A media item AssetLink placed is confirmed (product_id "" for a store file)."""

    def records_saved(self, product_id: str, records: Sequence[tuple[str, LinkRecord]]) -> None:
        """Several confirmed at once (one write)."""
        for media_id, record in records:
            self.record_saved(product_id, media_id, record)

    def records_saved_many(self, saved: Sequence[tuple[str, str, LinkRecord]]) -> None:
        """Confirmed media of several products ``(product_id, media_id, record)`` (one write)."""
        by_product: dict[str, list[tuple[str, LinkRecord]]] = {}
        for product_id, media_id, record in saved:
            by_product.setdefault(product_id, []).append((media_id, record))
        for product_id, records in by_product.items():
            self.records_saved(product_id, records)

    def records_removed(self, product_id: str, media_ids: Sequence[str]) -> None:
        """Media unlinked from a product."""

    def finished(self, outcome: ProductOutcome) -> None:
        """The product is done (or failed/skipped); ``outcome.rows`` are its report rows."""

    def finished_many(self, outcomes: Sequence[ProductOutcome]) -> None:
        """A wave's products, done at once (one transaction)."""
        for outcome in outcomes:
            self.finished(outcome)

    def still_recorded(self, media_ids: Sequence[str]) -> set[str]:
        """Of ``media_ids``, those a link record of the store still points to."""
        return set()


# --- the plan of one product, made executable ------------------------------------------------


@dataclass
class _Step:
    work: ProductWork
    before: ProductState
    report_before: ProductState
    target: list[str]
    unlinks: list[str] = field(default_factory=list)
    relinks: list[str] = field(default_factory=list)
    creates: list[CreateMedia] = field(default_factory=list)
    alts: dict[str, str] = field(default_factory=dict)
    variant_images: list[AssignVariantImage] = field(default_factory=list)
    variant_detaches: list[tuple[str, str]] = field(default_factory=list)
    swatch_files: list[CreateSwatchFile] = field(default_factory=list)
    swatch_metafields: list[SetSwatchMetafield] = field(default_factory=list)
    plan: ProductPlan | None = None
    report_plan: ProductPlan | None = None
    replanned: bool = False
    ids: dict[str, str] = field(default_factory=dict)
    """Placeholder → Shopify id."""
    status: dict[str, str] = field(default_factory=dict)
    failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Media id (real or placeholder) → (error code, message)."""
    gallery: list[str] = field(default_factory=list)
    """The product's media ids as Shopify has them now (tracked through the steps)."""
    records: dict[str, LinkRecord] = field(default_factory=dict)
    created_unlinked: list[str] = field(default_factory=list)
    """Media AssetLink created (a link record) that this run unlinked: delete candidates."""
    deleted: set[str] = field(default_factory=set)
    kept: dict[str, str] = field(default_factory=dict)
    """Delete candidates kept → why."""
    delete_failed: dict[str, tuple[str, str]] = field(default_factory=dict)
    ops_total: int = 0
    ops_done: int = 0
    error: str = ""
    unlink_first: bool = False
    """The 250-media limit forces unlinking before creating (a rollback re-links)."""
    aborted: bool = False
    """Stopped by an abort before it completed (rolled back, reported not done)."""
    rolled_back: bool = False
    rollback_error: str = ""

    @property
    def product_id(self) -> str:
        return self.work.product_id

    @property
    def broken(self) -> bool:
        """Something failed (or an abort stopped it): the product is rolled back."""
        return bool(self.failed or self.error or self.aborted)

    def reason(self) -> str:
        if self.aborted:
            return "the run was aborted before this product was complete"
        if self.error:
            return self.error
        code, message = next(iter(self.failed.values()), ("", ""))
        return f"{code}: {message}" if code else message

    def real(self, media_id: str) -> str:
        return self.ids.get(media_id, media_id)

    def fail(self, media_id: str, code: str, message: str) -> None:
        self.failed.setdefault(media_id, (code or "ERROR", message))


def _operation_count(step: _Step) -> int:
    return (
        len(step.unlinks)
        + len(step.relinks)
        + len(step.creates)
        + len(step.alts)
        + len(step.variant_images)
        + len(step.swatch_files)
        + len(step.swatch_metafields)
        + (1 if step.plan is None or step.plan.operations.moves else 0)
    )


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


def _same_media(a: ProductState, b: ProductState) -> bool:
    """The same media, in the same order, with the same alt text."""
    return [(i.media_id, i.alt or "") for i in a.gallery] == [
        (i.media_id, i.alt or "") for i in b.gallery
    ]


def _same_gallery(a: ProductState, b: ProductState) -> bool:
    def key(state):
        return [
            (i.media_id, i.alt or "", i.record.identity if i.record else None)
            for i in state.gallery
        ]

    return key(a) == key(b)


# --- the executor -------------------------------------------------------------------------


class Executor:
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
            # creates ≈ 12 + 3 per media, status polls 1 per media, reorder/variants ≈ 12 each
            points += 12 + 4 * len(work.assets) + 8 * len(work.swatches)
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
        outcome = ProductOutcome(work.product_id, "not_done")
        outcome.rows = [
            RunRow(
                work.product_id,
                str(ReportAction.SKIPPED),
                a.asset_id,
                a.public_id,
                a.group,
                message="The run was aborted before this product was started.",
                handle=work.handle,
                title=work.title,
            )
            for a in work.assets
        ]
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
            failed = sum(1 for r in outcome.rows if r.action == str(ReportAction.FAILED))
            self._tick(step, step.ops_total)  # what failed or had nothing to do is over too
            self.progress.add(products_done=1, failures=failed)
            yield outcome

    def _unreadable(self, work: ProductWork) -> ProductOutcome:
        message = "The product could not be read (deleted?); it was not changed."
        return ProductOutcome(
            work.product_id,
            "skipped",
            [
                RunRow(
                    work.product_id,
                    str(ReportAction.SKIPPED),
                    a.asset_id,
                    a.public_id,
                    a.group,
                    message=message,
                    handle=work.handle,
                    title=work.title,
                )
                for a in work.assets
            ],
            error=message,
        )

    # -- planning --

    def _reconcile(self, work: ProductWork, state: ProductState) -> ProductState:
        """Adopt media a previous attempt created but did not record (it died in between)."""
        entry = work.journal
        if not entry:
            return state
        before_ids = set(entry.get("before_ids") or ())
        new = [i for i in state.gallery if i.media_id not in before_ids and i.record is None]
        recorded = {
            i.record.identity
            for i in state.gallery
            if i.record is not None and i.media_id not in before_ids
        }
        creates = [
            c
            for c in entry.get("creates") or ()
            if (c["asset_id"], int(c["version"]), c["transformation"]) not in recorded
        ]
        if new and len(new) != len(creates):
            # Some of the creates arrived, and which is which cannot be told: they are this
            # run's own (new since the journaled gallery), so they go and the plan adds again.
            logger.warning(
                "%s: %d of %d journaled creates arrived; removing them to create again",
                work.product_id, len(new), len(creates),
            )  # fmt: skip
            gone = self._delete_files([i.media_id for i in new])
            state = replace(
                state, gallery=tuple(i for i in state.gallery if i.media_id not in gone)
            )
            new = []
        adopted: dict[str, LinkRecord] = {}
        for create, item in zip(creates, new, strict=False):
            record = LinkRecord(
                create["asset_id"], int(create["version"]), create["transformation"], create["alt"]
            )
            self.hooks.record_saved(work.product_id, item.media_id, record)
            adopted[item.media_id] = record
        self.hooks.journal(work.product_id, None)
        work.journal = None
        if not adopted:
            return state
        logger.info(
            "Adopted %d media created by an earlier attempt on %s", len(adopted), work.product_id
        )
        gallery = tuple(
            replace(i, record=adopted[i.media_id]) if i.media_id in adopted else i
            for i in state.gallery
        )
        return replace(state, gallery=gallery)

    def _step(self, work: ProductWork, state: ProductState) -> _Step:
        report_before = work.original_before or state
        if work.restore is not None:
            return self._restore_step(work, state, report_before)
        plan = plan_product(
            state,
            work.assets,
            work.settings,
            variant_ids=work.variant_ids,
            swatches=work.swatches,
            store_files=self.store_files,
            in_place=work.in_place,
            replaces=work.replaces or None,
            unlink=work.unlink,
        )
        report_plan = plan
        if work.original_before is not None and not _same_gallery(work.original_before, state):
            report_plan = plan_product(
                work.original_before,
                work.assets,
                work.settings,
                variant_ids=work.variant_ids,
                swatches=work.swatches,
                store_files=self.store_files,
                in_place=work.in_place,
                replaces=work.replaces or None,
                unlink=work.unlink,
            )
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

    def _file_updates(self, inputs: list[tuple[_Step, str, dict]], *, attempts: int = 6):
        """fileUpdate in batches of 250. A call with userErrors changes nothing: the failing
        entries are set aside (those Shopify asks to retry — locked while processing or while a
        reorder is pending, internal errors — are retried later with backoff) and the rest
        resent. A call Shopify did not answer is retried (fileUpdate sets states: idempotent)."""
        done = []
        todo = list(inputs)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            retry_later = []
            for start in range(0, len(todo), MAX_INPUT):
                batch = todo[start : start + MAX_INPUT]
                while batch:
                    try:
                        result = self.client.execute(
                            ops.RUN_FILE_UPDATE, {"files": [spec for _, _, spec in batch]}
                        )
                    except ShopifyAuthError:
                        raise
                    except ShopifyError as exc:
                        if isinstance(exc, ShopifyUnavailable) and not last:
                            retry_later.extend(batch)
                        else:
                            for step, media_id, _ in batch:
                                step.fail(media_id, _code(exc), str(exc))
                        break
                    if result.ok:
                        done.extend(batch)
                        break
                    bad: dict[int, UserError] = {}
                    general = None
                    for err in result.user_errors:
                        index = _index(err.field)
                        if index is not None and 0 <= index < len(batch):
                            bad.setdefault(index, err)
                        else:
                            general = general or err
                    if general is not None:  # an error we cannot place: the whole call
                        if general.retryable and not last:
                            retry_later.extend(batch)
                        else:
                            for step, media_id, _ in batch:
                                step.fail(media_id, general.code or "INVALID", general.message)
                        break
                    keep = []
                    for i, item in enumerate(batch):
                        if i not in bad:
                            keep.append(item)
                        elif bad[i].retryable and not last:
                            retry_later.append(item)
                        else:
                            item[0].fail(item[1], bad[i].code or "INVALID", bad[i].message)
                    batch = keep
            if not retry_later:
                break
            todo = retry_later
            self._sleep(min(self.poll_max * 2, self.poll_min * 2 ** (attempt + 2)))
        return done

    # -- phase 2: creates --

    def _phase_creates(self, steps: list[_Step]) -> Iterator[ProductOutcome]:
        """Create each product's new media: the wave's journal in one write, then one
        ``productUpdate`` per product, sent at once (the bucket paces them); the answers are
        read here, one after another, and the media adopted written in one go. An abort stops
        the products whose call has not gone out yet (reported not done)."""
        if not any(s.creates for s in steps):
            return
        self._set_phase("creating media")
        prepared = []
        for step in list(steps):
            if not step.creates:
                continue
            if not step.unlink_first and self.should_abort():
                steps.remove(step)
                yield self._not_done(step.work)
                continue
            media, sent = [], []
            for create in step.creates:
                source = self.source_url(
                    create.media_type, create.asset_id, create.version, create.transformation
                )
                if create.media_type == "VIDEO":  # Shopify takes videos only by staged upload
                    try:
                        source = self._staged_upload(source, create)
                    except (ShopifyError, OSError, ValueError) as exc:
                        step.fail(create.media_id, "STAGED_UPLOAD_FAILED", str(exc)[:300])
                        continue
                sent.append(create)
                media.append(
                    {
                        "originalSource": source,
                        "alt": create.alt or "",
                        "mediaContentType": create.media_type,
                    }
                )
            if not sent:
                continue
            entry = {"before_ids": list(step.gallery), "creates": [asdict(c) for c in sent]}
            prepared.append((step, entry, sent, media))
        if not prepared:
            return
        self.hooks.journal_many({step.product_id: entry for step, entry, _, _ in prepared})
        answers = [
            self.sender.submit(
                ops.RUN_ADD_MEDIA,
                {"product": {"id": step.product_id}, "media": media, "last": len(media)},
                # a product past the 250-media limit was unlinked already: it goes on
                skip=None if step.unlink_first else self.should_abort,
            )
            for step, _, _, media in prepared
        ]
        done: list[str] = []
        try:
            for (step, entry, sent, media), answer in zip(prepared, answers, strict=True):
                if answer.result() is NOT_SENT:  # aborted before its call went out
                    steps.remove(step)
                    yield self._not_done(step.work)
                    continue
                self._create(step, entry, sent, media, first=answer)
                done.append(step.product_id)
        except Exception:
            self._flush_records()  # what Shopify confirmed is known even when the run fails
            raise
        self._flush_records()
        self.hooks.journal_many(dict.fromkeys(done))

    def _flush_records(self) -> None:
        saved, self._unsaved = self._unsaved, []
        if saved:
            self.hooks.records_saved_many(saved)

    def _answer(self, first, operation, variables: dict):
        """The answer ``first`` (a future of `ConcurrentSender`) holds, else a new call."""
        if first is None:
            return self.client.execute(operation, variables)
        result = first.result()
        if isinstance(result, ShopifyError):
            raise result
        return result

    def _create(
        self, step: _Step, entry: dict, sent: list[CreateMedia], media: list[dict], first=None
    ):
        """One productUpdate with the product's new media. Shopify may add the valid ones and
        refuse the rest (userErrors with their index): what it added is adopted, what it asks
        to retry is sent again with backoff, the rest fails (and the product rolls back). When
        Shopify may or may not have run the call (a timeout, a 5xx), the gallery says which:
        media new since the journaled gallery are adopted when they are exactly what was sent,
        removed (they are this run's own) when they cannot be told apart, and the call is sent
        again."""
        todo = list(range(len(sent)))
        for attempt in range(self.create_attempts):
            if attempt:
                self._sleep(min(self.poll_max * 4, self.poll_min * 2 ** (attempt + 2)))
                entry = {
                    "before_ids": list(step.gallery),
                    "creates": [asdict(sent[i]) for i in todo],
                }
                self._flush_records()  # media adopted so far are not "before" without a record
                self.hooks.journal(step.product_id, entry)
            batch = [media[i] for i in todo]
            try:
                result = self._answer(
                    None if attempt else first,
                    ops.RUN_ADD_MEDIA,
                    {"product": {"id": step.product_id}, "media": batch, "last": len(batch)},
                )
            except ShopifyAuthError:
                raise
            except ShopifyUnavailable as exc:
                if exc.maybe_applied and self._settle_doubt(
                    step, [sent[i] for i in todo], in_flight=not exc.cause.startswith("http_")
                ):
                    todo = []
                    break
                if attempt + 1 < self.create_attempts:
                    continue
                for i in todo:
                    step.fail(sent[i].media_id, _code(exc), str(exc))
                todo = []
                break
            except ShopifyError as exc:
                for i in todo:
                    step.fail(sent[i].media_id, _code(exc), str(exc))
                todo = []
                break
            nodes = (
                ((result.payload("productUpdate").get("product") or {}).get("media")) or {}
            ).get("nodes") or []
            known = set(step.gallery)
            new = [(n["id"], n.get("status") or "UPLOADED") for n in nodes if n["id"] not in known]
            bad: dict[int, UserError] = {}
            general: list[UserError] = []
            for err in result.user_errors:
                index = _index(err.field, "media")
                if index is not None and 0 <= index < len(todo):
                    bad.setdefault(index, err)
                else:
                    general.append(err)
            accepted = [todo[k] for k in range(len(todo)) if k not in bad]
            if general and len(new) != len(accepted):
                accepted = accepted[: len(new)]  # refused as a whole: nothing was added
            self._adopt(step, [sent[i] for i in accepted], new)
            retry, left = [], set(todo) - set(accepted)
            for k, i in enumerate(todo):
                if i not in left:
                    continue
                err = bad.get(k) or (general[0] if general else None)
                if err is not None and retryable(err) and attempt + 1 < self.create_attempts:
                    retry.append(i)
                elif err is not None:
                    step.fail(sent[i].media_id, err.code or "INVALID", err.message)
                else:
                    step.fail(sent[i].media_id, "MISSING", "Shopify did not return this media.")
            todo = retry
            if not todo:
                break

    def _staged_upload(self, url: str, create: CreateMedia) -> str:
        """Copy a video to Shopify's staged upload target; its resourceUrl is the source."""
        import requests

        response = requests.get(url, timeout=60)
        response.raise_for_status()
        body = response.content
        filename = f"{create.asset_id}-v{create.version}.mp4"
        result = self.client.execute(
            ops.STAGED_UPLOADS_CREATE,
            {
                "input": [
                    {
                        "resource": "VIDEO",
                        "filename": filename,
                        "mimeType": "video/mp4",
                        "fileSize": str(len(body)),
                        "httpMethod": "PUT",
                    }
                ]
            },
            raise_user_errors=True,
        )
        target = (result.payload("stagedUploadsCreate").get("stagedTargets") or [None])[0]
        if not target:
            raise ValueError("Shopify returned no staged upload target.")
        headers = {p["name"]: p["value"] for p in target.get("parameters") or ()}
        headers.setdefault("Content-Type", "video/mp4")
        put = requests.put(target["url"], data=body, headers=headers, timeout=120)
        put.raise_for_status()
        return target["resourceUrl"]

    def _adopt(self, step: _Step, sent: list[CreateMedia], created: list[tuple[str, str]]) -> None:
        """Record the media Shopify created for ``sent`` (in order)."""
        now = time.monotonic()
        saved = []
        for create, (media_id, status) in zip(sent, created, strict=False):
            step.ids[create.media_id] = media_id
            step.status[media_id] = status
            step.gallery.append(media_id)
            record = LinkRecord(create.asset_id, create.version, create.transformation, create.alt)
            step.records[media_id] = record
            saved.append((step.product_id, media_id, record))
            self._created_at[media_id] = now
        self._unsaved += saved  # written by the creates phase, before it clears the journal
        for create in sent[len(created) :]:
            step.fail(create.media_id, "MISSING", "Shopify did not return this new media.")
        self._tick(step, min(len(created), len(sent)))

    def _settle_doubt(self, step: _Step, sent: list[CreateMedia], *, in_flight: bool) -> bool:
        """productUpdate may or may not have run: give a request still in flight time to land,
        then read the gallery. True when the media sent are there (adopted); media that arrived
        but cannot be matched one to one with what was sent are deleted (they are this run's
        own, created after the journaled gallery), so the call can be sent again."""
        if in_flight:  # no answer at all: the request may still be running on Shopify's side
            self._sleep(self.doubt_wait)
        state = self._read([step.product_id], []).get(step.product_id)
        before = set(step.gallery)
        new = (
            [(i.media_id, i.status) for i in state.gallery if i.media_id not in before]
            if state
            else []
        )
        if new and len(new) == len(sent):
            self._adopt(step, sent, new)
            return True
        if new:
            logger.warning(
                "%s: %d of %d media arrived after a doubtful create; removing them to resend",
                step.product_id,
                len(new),
                len(sent),
            )
            self._delete_files([m for m, _ in new])
        return False

    def _delete_files(self, file_ids: list[str]) -> set[str]:
        """fileDelete in batches; the ids Shopify confirms deleted."""
        deleted: set[str] = set()
        for start in range(0, len(file_ids), MAX_INPUT):
            chunk = file_ids[start : start + MAX_INPUT]
            for attempt in range(4):
                try:
                    result = self.client.execute(ops.FILE_DELETE, {"fileIds": chunk})
                except ShopifyAuthError:
                    raise
                except ShopifyError as exc:
                    logger.warning("fileDelete failed: %s", exc)
                    if attempt == 3:
                        break
                    self._sleep(self.poll_min * 2 ** (attempt + 2))
                    continue
                deleted.update(result.payload("fileDelete").get("deletedFileIds") or ())
                if result.ok or not any(retryable(e) for e in result.user_errors):
                    break
                chunk = [m for m in chunk if m not in deleted]
                self._sleep(self.poll_min * 2 ** (attempt + 2))
        return deleted

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
            self._nap(max(0.0, wait))
            ids = list(waiting)
            seen_ready = False
            failed_now: dict[str, _Step] = {}
            for chunk_start in range(0, len(ids), STATUS_IDS_PER_CALL):
                chunk = ids[chunk_start : chunk_start + STATUS_IDS_PER_CALL]
                try:
                    result = self.client.execute(ops.RUN_MEDIA_STATUS, {"ids": chunk})
                except ShopifyAuthError:
                    raise
                except ShopifyError as exc:
                    logger.warning("Status poll failed: %s", exc)
                    continue
                for node in result.data.get("nodes") or ():
                    if not node or node.get("id") not in waiting:
                        continue
                    media_id, status = node["id"], node.get("status")
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
            for start in range(0, len(removals), MAX_INPUT):
                chunk = removals[start : start + MAX_INPUT]
                try:
                    result = self.client.execute(
                        ops.FILE_DELETE, {"fileIds": [m for _, m in chunk]}
                    )
                except ShopifyAuthError:
                    raise
                except ShopifyError as exc:
                    for step, _ in chunk:
                        step.error = f"A failed media could not be removed: {exc}"
                    continue
                deleted = set(result.payload("fileDelete").get("deletedFileIds") or ())
                for step, media_id in chunk:
                    if media_id not in deleted:
                        step.error = "A failed media could not be removed from the product."
                        continue
                    step.gallery.remove(media_id)
                    step.records.pop(media_id, None)
                    self.hooks.records_removed(step.product_id, [media_id])

    def _media_errors(self, failed: dict[str, _Step]) -> None:
        """Shopify's error code of each FAILED media (one call for all of them)."""
        ids = list(failed)
        for start in range(0, len(ids), STATUS_IDS_PER_CALL):
            chunk = ids[start : start + STATUS_IDS_PER_CALL]
            errors: dict[str, dict] = {}
            try:
                result = self.client.execute(ops.MEDIA_STATUS, {"ids": chunk})
                for node in result.data.get("nodes") or ():
                    if node and node.get("mediaErrors"):
                        errors[node["id"]] = node["mediaErrors"][0]
            except ShopifyAuthError:
                raise
            except ShopifyError as exc:
                logger.warning("Could not read media errors: %s", exc)
            for media_id in chunk:
                error = errors.get(media_id) or {}
                failed[media_id].fail(
                    media_id,
                    error.get("code") or "FAILED",
                    error.get("message") or "Shopify could not process this media.",
                )

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
                job = (result.payload("productReorderMedia").get("job")) or {}
                if job.get("id") and not job.get("done"):
                    self._wait_jobs([(step, job["id"])])
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
            result, code, message = answers[n]
            if result is None:
                step.error = f"Reorder failed: {code} {message}"
                continue
            job = (result.payload("productReorderMedia").get("job")) or {}
            if job.get("id") and not job.get("done"):
                jobs.append((step, job["id"]))
            step.gallery = target
            self._tick(step)
        self._wait_jobs(jobs)

    def _mutate(self, step: _Step, operation, variables: dict, what: str):
        """One mutation for one product (see :meth:`_retrying`): the result, or None with
        ``step.error`` set."""
        result, code, message = self._retrying(operation, variables)
        if result is None:
            step.error = f"{what} failed: {code} {message}"
        return result

    def _retrying(self, operation, variables: dict, attempts: int = 5):
        """One mutation, see :meth:`_retrying_many`."""
        return self._retrying_many([(0, operation, variables)], attempts)[0]

    def _retrying_many(self, calls: list[tuple], attempts: int = 5) -> dict:
        """Independent mutations ``(key, operation, variables)``, each retried with backoff
        while Shopify asks to retry (retryable userErrors; no answer, when the operation is
        safe to send twice) — in rounds, one wait per round for all of them; a round's calls go
        out at once. Per key ``(result, "", "")`` on success, ``(None, code, message)`` when
        Shopify refused it (its first userError) or never answered."""
        answers: dict = {}
        todo = list(calls)
        for attempt in range(attempts):
            if attempt:
                self._sleep(min(self.poll_max * 2, self.poll_min * 2 ** (attempt + 2)))
            last = attempt + 1 == attempts
            again = []
            sent = self.sender.send_all([(n, op, v) for n, (_, op, v) in enumerate(todo)])
            for n, (key, operation, variables) in enumerate(todo):
                result = sent[n]
                if isinstance(result, ShopifyAuthError):
                    raise result
                if isinstance(result, ShopifyError):
                    exc = result
                    doubtful = getattr(exc, "maybe_applied", False) and not operation.idempotent
                    if isinstance(exc, ShopifyUnavailable) and not last and not doubtful:
                        again.append((key, operation, variables))
                    else:
                        answers[key] = (None, _code(exc), str(exc))
                    continue
                if result.ok:
                    answers[key] = (result, "", "")
                    continue
                err = result.user_errors[0]
                if err.retryable and not last:
                    again.append((key, operation, variables))
                else:
                    answers[key] = (None, err.code or "INVALID", err.message)
            todo = again
            if not todo:
                break
        for key, _, _ in todo:
            answers[key] = (None, "RETRIES_EXHAUSTED", "Shopify kept asking to retry.")
        return answers

    def _wait_jobs(self, jobs: list[tuple[_Step, str]]) -> None:
        delay = self.poll_min
        deadline = time.monotonic() + self.ready_timeout
        while jobs and time.monotonic() < deadline:
            self._sleep(delay)
            left = []
            for step, job_id in jobs:
                try:
                    result = self.client.execute(ops.JOB_STATUS, {"id": job_id})
                except ShopifyAuthError:
                    raise
                except ShopifyError:
                    left.append((step, job_id))
                    continue
                if not ((result.data.get("job") or {}).get("done")):
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
            if record is not None and step.work.restore is None:
                record = replace(record, alt=spec["alt"])
                step.records[media_id] = record
                self.hooks.record_saved(step.product_id, media_id, record)
            self._tick(step)

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
            for (step_no, _), (result, code, message) in self._retrying_many(calls).items():
                if result is None:
                    plans[step_no][0].error = f"Variant images failed: {code} {message}"
        for step, _, _ in plans:
            if not step.broken:
                self._tick(step, len(step.variant_images))

    # -- phase 7: swatches --

    def _phase_swatches(self, steps: list[_Step]) -> None:
        files: dict[str, tuple[_Step, CreateSwatchFile]] = {}
        for step in steps:
            for created in step.swatch_files:
                files.setdefault(created.file_id, (step, created))
        if not files and not any(s.swatch_metafields for s in steps):
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
            result, code, message = self._retrying(ops.FILE_CREATE, {"files": specs})
            if result is None:
                for step, c in chunk:
                    step.fail(c.file_id, code, message)
                continue
            created = result.payload("fileCreate").get("files") or []
            for (step, c), node in zip(chunk, created, strict=False):
                resolved[c.file_id] = node["id"]
                key = (c.asset_id, c.version, c.transformation)
                self.store_files[key] = node["id"]
                self.hooks.record_saved(
                    "", node["id"], LinkRecord(c.asset_id, c.version, c.transformation)
                )
                step.ids[c.file_id] = node["id"]
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
            result, code, message = self._retrying(
                ops.METAFIELDS_SET, {"metafields": [m for _, m in chunk]}
            )
            if result is None:
                for step, _ in chunk:
                    step.error = f"Swatch metafield: {code} {message}"
                continue
            for step, _ in chunk:
                self._tick(step)

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
        for start in range(0, len(todo), MAX_INPUT):
            batch = todo[start : start + MAX_INPUT]
            while batch:
                try:
                    result = self.client.execute(
                        ops.FILE_DELETE, {"fileIds": [m for _, m in batch]}
                    )
                except ShopifyAuthError:
                    raise
                except ShopifyError as exc:
                    for step, media_id in batch:
                        step.delete_failed[media_id] = (_code(exc), str(exc))
                    break
                deleted = set(result.payload("fileDelete").get("deletedFileIds") or ())
                if result.ok or deleted:
                    for step, media_id in batch:
                        if media_id in deleted:
                            step.deleted.add(media_id)
                        else:
                            step.delete_failed[media_id] = ("NOT_DELETED", "Shopify kept it.")
                    break
                bad: dict[int, tuple[str, str]] = {}
                for err in result.user_errors:
                    parts = list(err.field or ())
                    if len(parts) >= 2 and parts[0] == "fileIds" and parts[1].isdigit():
                        bad.setdefault(int(parts[1]), (err.code or "INVALID", err.message))
                if not bad:
                    err = result.user_errors[0]
                    for step, media_id in batch:
                        step.delete_failed[media_id] = (err.code or "INVALID", err.message)
                    break
                for i, (step, media_id) in enumerate(batch):
                    if i in bad:
                        step.delete_failed[media_id] = bad[i]
                batch = [item for i, item in enumerate(batch) if i not in bad]

    def _used_by_products(self, media_ids: list[str]) -> set[str] | None:
        """Of ``media_ids``, the files some product still references on Shopify (None: unknown).
        A File exposes no references of its own; ``files(query: "used_in:product")`` does."""
        used: set[str] = set()
        for start in range(0, len(media_ids), REFERENCE_IDS_PER_QUERY):
            chunk = media_ids[start : start + REFERENCE_IDS_PER_QUERY]
            ids = " OR ".join(f"id:{m.rsplit('/', 1)[-1]}" for m in chunk)
            try:
                result = self.client.execute(
                    ops.FILES_SEARCH,
                    {"query": f"used_in:product AND ({ids})", "first": len(chunk)},
                )
            except ShopifyAuthError:
                raise
            except ShopifyError as exc:
                logger.warning("Could not read the references of files: %s", exc)
                return None
            nodes = (result.data.get("files") or {}).get("nodes") or ()
            used.update(n["id"] for n in nodes if n and n.get("id") in chunk)
        return used

    def _deletion_rows(self, step: _Step, rows: list[RunRow]) -> list[RunRow]:
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
                RunRow(
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
        return ProductState(step.product_id, tuple(items), variant_images, swatch_refs)

    def _rows(self, step: _Step) -> list[RunRow]:
        work = step.work
        extra = {"handle": work.handle, "title": work.title}
        final_pos = {m: n for n, m in enumerate(step.gallery, 1)}
        rows: list[RunRow] = []
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
                    RunRow(
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
                    RunRow(
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
                    RunRow(
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
            return self._mark_failures(step, rows)
        for row in step.report_plan.rows:
            media_id = row.media_id
            real = step.real(media_id) if media_id else None
            if real and real.startswith("new:"):
                real = self._by_identity(step, media_id) or real
            out = RunRow.from_core(row, media_id=real, **extra)
            if row.action != ReportAction.UNLINKED and row.action != ReportAction.SKIPPED:
                out.position_after = final_pos.get(real) if real else None
            out.status = step.status.get(real or "", "")
            rows.append(out)
        return self._mark_failures(step, rows)

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

    def _mark_failures(self, step: _Step, rows: list[RunRow]) -> list[RunRow]:
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
                RunRow(step.product_id, str(ReportAction.FAILED), message=note, error_code=code,
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


def _index(path: Iterable[str] | None, head: str = "files") -> int | None:
    parts = list(path or ())
    if len(parts) >= 2 and parts[0] == head:
        try:
            return int(parts[1])
        except ValueError:
            return None
    return None


def _code(exc: ShopifyError) -> str:
    cause = getattr(exc, "cause", None)
    if cause:
        return str(cause).upper()
    codes = getattr(exc, "codes", None)
    if codes:
        return codes[0]
    return type(exc).__name__


# --- JSON round trips of core states (run products keep them) -----------------------------


def state_to_json(state: ProductState | None) -> dict | None:
    if state is None:
        return None
    return {
        "product_id": state.product_id,
        "gallery": [
            {
                "media_id": i.media_id,
                "status": i.status,
                "alt": i.alt,
                "media_type": i.media_type,
                "record": asdict(i.record) if i.record else None,
            }
            for i in state.gallery
        ],
        "variant_images": dict(state.variant_images),
        "swatch_refs": {k: list(v) for k, v in state.swatch_refs.items()},
    }


def state_from_json(data: dict | None) -> ProductState | None:
    if not data:
        return None
    return ProductState(
        data["product_id"],
        tuple(
            GalleryItem(
                i["media_id"],
                i.get("status") or READY,
                i.get("alt"),
                i.get("media_type") or "IMAGE",
                LinkRecord(**i["record"]) if i.get("record") else None,
            )
            for i in data.get("gallery") or ()
        ),
        dict(data.get("variant_images") or {}),
        {k: tuple(v) for k, v in (data.get("swatch_refs") or {}).items()},
    )
