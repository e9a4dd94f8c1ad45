"""Carry out one store's upload: put assets in the store's Files library, idempotently.

Assets go in chunks of at most 250 (Shopify's input limit; abort is checked between chunks).
Chunks are pipelined: up to ``max_chunks_in_flight`` chunks are created before the oldest is
finished (steps 5 and 6), and each is finished while Shopify still processes the newer ones.
Per chunk, every step is batched:

1. the files of earlier uploads (records) — one ``nodes(ids:)`` read: still there? The same
   version and transformation is **reused** (its alt updated if the batch's alt differs);
   a newer version is **replaced** in place (``fileUpdate`` ``originalSource``: same id, same
   URL, references kept); a file deleted in Shopify since is created again;
2. creates whose answer a dead worker never saw (journaled) — looked up by the marker each
   create carries (its alt text is ``assetlink-upload-<item id>`` until the file is READY, a
   value the run chose and journaled before the call; never by a name) and adopted, never
   created twice;
3. videos — fetched from Cloudinary, one ``stagedUploadsCreate`` (with ``fileSize``) for the
   chunk, the bytes PUT to each target; the ``resourceUrl`` is their source;
4. creates — ``fileCreate`` (≤ 250 files a call), journaled first; the files they made are
   recorded once the chunks in flight are created (the creates go out back to back; until
   recorded, the journal and the markers stand for them); replacements and alt updates —
   ``fileUpdate``, batched, retried while Shopify says the file is not READY yet;
5. wait for READY — a look at the newest file (one point) until it is processed, then batched
   ``nodes(ids:)`` polls of status and alt text (a point per file; errors and URLs are read
   only for the files that need them), every tenth of the files' age (every twentieth while
   it is the one-point look); files that end
   ``FAILED`` are failures with Shopify's error code, and a file this run created that failed
   is deleted;
6. created files get their alt text (``fileUpdate``, batched) in place of the marker; a file
   whose alt cannot be set is deleted and reported failed (a file is created, READY and right,
   or not there). Their URLs go to their records with the chunk's outcomes (``finished``).

Persistence is the caller's (:class:`UploadHooks`); this module knows no database.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from assetlink_project.http_client import download
from reports.progress import Progress, nap
from stores.shopify import operations as ops
from stores.shopify.batching import Backoff, send_batches
from stores.shopify.files import (
    StagedTarget,
    StagedUpload,
    created_files,
    delete_files,
    file_statuses,
    put_staged,
    search_files,
    stage_uploads,
)

logger = logging.getLogger(__name__)

MAX_INPUT = 250  # Shopify's limit on items per input list (fileCreate, fileUpdate, nodes)
READY, FAILED = "READY", "FAILED"
CLOCK_SKEW = timedelta(minutes=5)
ABORT_GRACE = 0.5  # seconds an abort lets files still processing finish before removing them
PROBE_OVER = 25  # files waiting above which a look at the newest comes before the whole poll
MAX_RECONCILE_PAGES = 20  # files created since lost creates: 20 × 250 more than theirs


@dataclass
class FileRecord:
    """The store's file of an earlier upload of the same asset and transformation."""

    file_id: str
    version: int
    alt: str = ""


@dataclass
class UploadWork:
    item_id: int
    asset_id: str
    public_id: str
    version: int
    media_type: str  # IMAGE | VIDEO
    transformation: str
    source_url: str
    filename: str
    alt: str = ""
    keep_alt: bool = False
    record: FileRecord | None = None
    sent_at: datetime | None = None
    """A fileCreate of this item was sent and its answer not recorded (resume reconciles it)."""
    prior_action: str = ""
    """What an earlier attempt of this run already did to it (created/replaced)."""


@dataclass
class UploadOutcome:
    action: str  # created | reused | replaced | failed
    file_id: str = ""
    url: str = ""
    file_status: str = ""
    error_code: str = ""
    message: str = ""


class UploadHooks:
    """What the executor tells its run; the default remembers nothing."""

    def journal(self, works: Sequence[UploadWork], sent: bool) -> None:
        """A fileCreate of ``works`` is about to be sent (True) or surely did nothing (False)."""

    def records_saved(self, saved: Sequence[tuple[UploadWork, str, str, str]]) -> None:
        """The store has, per ``(work, file_id, url, action)``, ``file_id`` for ``work``'s
        asset at ``work.version`` (one write for them all; none when ``saved`` is empty)."""

    def record_removed(self, work: UploadWork, file_id: str) -> None:
        """The store no longer has a usable file of ``work``'s asset."""

    def finished(self, results: Sequence[tuple[UploadWork, UploadOutcome]]) -> None:
        """A chunk is done; one outcome per work."""


def _chunks(items: Sequence, size: int) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def marker(work: UploadWork) -> str:
    """The alt text a created file carries until it is READY: unique to the upload item, so a
    create whose answer was lost is found again exactly (never another asset's file)."""
    return f"assetlink-upload-{work.item_id}"


@dataclass
class _Chunk:
    out: dict[int, UploadOutcome] = field(default_factory=dict)
    waiting: dict[str, tuple[UploadWork, str]] = field(default_factory=dict)
    """file id → (work, the action it gets once READY)."""
    sent_at: float = field(default_factory=time.monotonic)
    """When its creates and updates went out (monotonic)."""
    unsaved: list[tuple[UploadWork, str, str, str]] = field(default_factory=list)
    """Files its creates made, not yet recorded (the journal stands for them until then)."""

    def fail(self, work: UploadWork, code: str, message: str, file_id: str = "") -> None:
        self.out[work.item_id] = UploadOutcome(
            "failed", file_id, "", FAILED if file_id else "", code, message[:1000]
        )


class UploadExecutor:
    def __init__(
        self,
        client,
        *,
        hooks: UploadHooks | None = None,
        progress: Progress | None = None,
        should_abort: Callable[[], bool] = lambda: False,
        chunk_size: int = MAX_INPUT,
        poll_min: float = 0.05,
        poll_max: float = 2.0,
        ready_timeout: float = 600.0,
        fetch: Callable[[str], bytes] = download,
        put: Callable[[StagedTarget, bytes], None] = put_staged,
        sleep: Callable[[float], None] = time.sleep,
        max_chunks_in_flight: int = 4,
    ):
        self.client = client
        self.hooks = hooks or UploadHooks()
        self.progress = progress or Progress()
        self.should_abort = should_abort
        self.chunk_size = max(1, min(chunk_size, MAX_INPUT))
        self.poll_min, self.poll_max, self.ready_timeout = poll_min, poll_max, ready_timeout
        self.fetch, self.put, self.sleep = fetch, put, sleep
        self.create_attempts = 3
        self.aborted_items: set[int] = set()
        """Items an abort stopped while Shopify processed them (their files removed)."""
        self._claimed: set[str] = set()
        """File ids that belong to an asset already (never adopted for another one)."""
        self.max_chunks_in_flight = max(1, max_chunks_in_flight)
        self._ready_estimate = 0.3  # seconds Shopify lately takes to make a file READY
        self._abort_seen: float | None = None

    def run(self, works: Sequence[UploadWork]) -> bool:
        """Upload ``works``; False when an abort stopped it (the rest is left untouched).

        Pipelined: up to ``max_chunks_in_flight`` chunks are created before the oldest is
        waited for, so that Shopify processes them side by side; chunks are then finished
        oldest first, each while Shopify still processes the newer ones."""
        in_flight: deque[tuple[Sequence[UploadWork], _Chunk]] = deque()
        stopped = False
        try:
            for chunk in _chunks(list(works), self.chunk_size):
                if self.should_abort() or self.aborted_items:
                    stopped = True
                    break
                in_flight.append((chunk, self._start(chunk)))
                if len(in_flight) > self.max_chunks_in_flight:
                    self._record(in_flight)
                    self._finish(*in_flight.popleft())
        except Exception:
            # What the sent creates made is recorded where the database lets it (else the
            # journal stands for it: resume finds the files by their markers)
            with contextlib.suppress(Exception):
                self._record(in_flight)
            raise
        self._record(in_flight)
        while in_flight:  # started chunks always finish (an abort removes what is not READY)
            self._finish(*in_flight.popleft())
        return not stopped and not self.aborted_items

    def _record(self, in_flight: Iterable[tuple[Sequence[UploadWork], _Chunk]]) -> None:
        """Record the files the chunks' creates made, one write per chunk, once the creates in
        flight are sent: the creates go out back to back (Shopify processes from its create
        on) and the writes are done while Shopify processes. Until then the journal stands
        for them: a crash in between is settled on resume by the files' markers."""
        for _, state in in_flight:
            if state.unsaved:
                saved, state.unsaved = state.unsaved, []
                self.hooks.records_saved(saved)

    def _finish(self, works: Sequence[UploadWork], state: _Chunk) -> None:
        self._wait(state)
        results = [(w, state.out[w.item_id]) for w in works]
        failures = sum(1 for _, o in results if o.action == "failed")
        done = sum(1 for w, _ in results if w.item_id not in self.aborted_items)
        self.progress.add(products_done=done, ops_done=done, failures=failures)
        self.hooks.finished(results)

    def _nap(self, seconds: float) -> None:
        nap(seconds, should_abort=self.should_abort, sleep=self.sleep)

    def _phase(self, text: str) -> None:
        self.progress.phase = text

    # -- one chunk --

    def _start(self, works: Sequence[UploadWork]) -> _Chunk:
        """Steps 1 to 4 of a chunk: its files are created, replaced or updated."""
        state = _Chunk()
        self._claimed.update(w.record.file_id for w in works if w.record is not None)
        self._phase("reading the store's files")
        nodes = file_statuses(
            self.client, [w.record.file_id for w in works if w.record is not None]
        )
        creates, replaces, alt_updates, journaled = [], [], [], []
        for work in works:
            node = nodes.get(work.record.file_id) if work.record else None
            if work.record is not None and (node is None or node.status == FAILED):
                # Deleted in Shopify since (or broken): the asset needs a file again.
                self.hooks.record_removed(work, work.record.file_id)
                work.record = None
            if work.record is None:
                (journaled if work.sent_at else creates).append(work)
            elif work.record.version == work.version:
                action = work.prior_action or "reused"
                if node.alt == marker(work):
                    # made by an attempt that died before its alt text was set: set once READY
                    state.waiting[node.id] = (work, action)
                elif not work.keep_alt and node.alt != work.alt:
                    alt_updates.append(work)
                elif node.status == READY:
                    state.out[work.item_id] = UploadOutcome(action, node.id, node.url, READY)
                else:
                    state.waiting[node.id] = (work, action)
            else:
                replaces.append(work)
        creates += self._reconcile(journaled, state)
        sources = self._sources(creates + replaces, state)
        self._create([w for w in creates if w.item_id in sources], sources, state)
        updates = [
            (w, {"id": w.record.file_id, "originalSource": sources[w.item_id]}, "replaced")
            for w in replaces
            if w.item_id in sources
        ]
        updates += [(w, {"id": w.record.file_id}, w.prior_action or "reused") for w in alt_updates]
        for work, spec, _ in updates:
            if not work.keep_alt:
                spec["alt"] = work.alt
        self._update(updates, state)
        state.sent_at = time.monotonic()
        return state

    # -- reads --

    def _reconcile(self, works: Sequence[UploadWork], state: _Chunk) -> list[UploadWork]:
        """Creates a previous attempt sent without seeing the answer: adopt the file if Shopify
        made it; the others are created now."""
        if not works:
            return []
        self._phase("reconciling interrupted uploads")
        found = self._find_sent(works)
        again, adopted = [], []
        for work in works:
            file_id = found.get(work.item_id)
            if file_id:
                self._claimed.add(file_id)
                adopted.append((work, file_id, "", "created"))
                state.waiting[file_id] = (work, "created")
            else:
                again.append(work)
        self.hooks.records_saved(adopted)
        return again

    def _find_sent(self, works: Sequence[UploadWork]) -> dict[int, str]:
        """The files lost ``fileCreate`` calls of ``works`` made (item id → file id): among the
        files created since the first of them was sent, each whose alt is a work's marker
        (exact match). One listing for them all (a page is ~250 points: never one per work)."""
        wanted = {marker(w): w.item_id for w in works}
        sent = [w.sent_at for w in works if w.sent_at]
        since = (min(sent) - CLOCK_SKEW) if sent and len(sent) == len(works) else None
        query = f"created_at:>='{since.isoformat()}'" if since else ""
        found: dict[int, str] = {}
        after = None
        for _ in range(MAX_RECONCILE_PAGES + len(works) // MAX_INPUT):
            page = search_files(self.client, query, first=MAX_INPUT, after=after)
            for file in page.files:
                item_id = wanted.get(file.alt)
                if item_id is not None and item_id not in found and file.id not in self._claimed:
                    found[item_id] = file.id
            if len(found) == len(wanted) or page.next_cursor is None:
                break
            after = page.next_cursor
        return found

    # -- sources (videos through staged uploads) --

    def _sources(self, works: Sequence[UploadWork], state: _Chunk) -> dict[int, str]:
        sources = {}
        videos = []
        for work in works:
            if work.media_type != "VIDEO":
                sources[work.item_id] = work.source_url
                continue
            try:
                videos.append((work, self.fetch(work.source_url)))
            except Exception as exc:  # noqa: BLE001 - any download problem fails this asset only
                state.fail(work, "DOWNLOAD_FAILED", f"Could not read the video: {exc}")
        if not videos:
            return sources
        self._phase("staging videos")
        staged = stage_uploads(
            self.client,
            videos,
            lambda video: StagedUpload(video[0].filename, len(video[1])),
            sleep=self.sleep,
        )
        for refused in staged.refused:
            state.fail(refused.item[0], refused.code, refused.message)
        for (work, body), target in staged.targets:
            try:
                self.put(target, body)
            except Exception as exc:  # noqa: BLE001
                state.fail(work, "STAGED_UPLOAD_FAILED", f"Upload to Shopify failed: {exc}")
                continue
            sources[work.item_id] = target.resource_url
        return sources

    # -- writes --

    def _create(self, works: Sequence[UploadWork], sources: dict, state: _Chunk) -> None:
        """One ``fileCreate`` per 250 files, journaled before every call; files Shopify refuses
        fail alone and the rest is sent again (`send_batches`). A call that may have run is
        settled by looking for the files by their marker before anything is created again."""
        if not works:
            return
        self._phase("creating files")
        outcome = send_batches(
            self.client,
            ops.FILE_CREATE,
            list(works),
            input_key="files",
            spec=lambda w: {
                "originalSource": sources[w.item_id],
                "filename": w.filename,
                "contentType": w.media_type,
                "alt": marker(w),
            },
            attempts=self.create_attempts,
            backoff=self._backoff(),
            sleep=self.sleep,
            before_send=lambda batch: self.hooks.journal(batch, True),
            not_applied=lambda batch: self.hooks.journal(batch, False),
            settle_doubt=lambda batch, exc: self._reconcile(batch, state),
        )
        saved, missing = [], []
        answers: dict[int, list] = {}  # id(result) → its files, read once per call
        for applied in outcome.applied:
            work = applied.item
            files = answers.get(id(applied.result))
            if files is None:
                files = answers[id(applied.result)] = created_files(applied.result)
            if applied.index >= len(files):
                missing.append(work)
                continue
            file = files[applied.index]
            self._claimed.add(file.id)
            saved.append((work, file.id, file.url, "created"))
            state.waiting[file.id] = (work, "created")
        state.unsaved += saved  # recorded by `_record` once the chunks in flight are sent
        for work in missing:
            self.hooks.journal([work], False)
            state.fail(work, "MISSING", "Shopify did not return this file.")
        for refused in outcome.refused:
            state.fail(refused.item, refused.code, refused.message)

    def _update(self, updates: list[tuple[UploadWork, dict, str]], state: _Chunk) -> None:
        """fileUpdate in batches of 250 (`send_batches`): the entries Shopify refuses are set
        aside (not-READY or locked ones retried after a pause) and the rest resent."""
        if not updates:
            return
        self._phase("replacing files")
        outcome = send_batches(
            self.client,
            ops.FILE_UPDATE,
            updates,
            input_key="files",
            spec=lambda update: update[1],
            backoff=self._backoff(),
            sleep=self.sleep,
        )
        for applied in outcome.applied:
            work, spec, action = applied.item
            state.waiting[spec["id"]] = (work, action)
        for refused in outcome.refused:
            state.fail(refused.item[0], refused.code, refused.message)

    def _backoff(self) -> Backoff:
        return Backoff(first=self.poll_min, cap=self.poll_max)

    # -- wait for READY --

    def _wait(self, state: _Chunk) -> None:
        if not state.waiting:
            return
        self._phase("waiting for Shopify to process files")
        deadline = time.monotonic() + self.ready_timeout
        broken: list[tuple[UploadWork, str]] = []
        named: list[tuple[UploadWork, str, str, str]] = []
        looks = 0
        ready: list[tuple[UploadWork, str, str, str]] = []  # READY files that carry no marker
        while state.waiting and time.monotonic() < deadline:
            # one grace per run (not per chunk): several chunks may be waiting when it comes
            if self._abort_seen is None and self.should_abort():
                self._abort_seen = time.monotonic()
            abort_seen = self._abort_seen
            if abort_seen is not None and time.monotonic() - abort_seen >= ABORT_GRACE:
                # Aborted while Shopify still processes: the files this run created and that
                # are not READY go (nothing half-done stays); the rest are reported as they are.
                for file_id, (work, action) in list(state.waiting.items()):
                    if action == "created":
                        del state.waiting[file_id]
                        self.hooks.record_removed(work, file_id)
                        broken.append((work, file_id))
                        state.out[work.item_id] = UploadOutcome(
                            "skipped", message="The run was aborted before this file was ready; "
                            "it was removed."
                        )  # fmt: skip
                        self.aborted_items.add(work.item_id)
                break
            # the first look when the files are likely READY (what Shopify lately took), then
            # every tenth of their age (poll_min … poll_max): READY is seen at most ~10 % late;
            # while the look is the one-point probe, every twentieth (~5 % late)
            probing = len(state.waiting) > PROBE_OVER and abort_seen is None
            age = time.monotonic() - state.sent_at
            wait = self._ready_estimate - age if not looks else age / (20 if probing else 10)
            wait = max(self.poll_min if looks else 0.0, min(wait, self.poll_max))
            if abort_seen is None:
                self._nap(wait)
            else:  # aborted: one more look when the grace ends, not a poll per wake-up
                self.sleep(max(0.0, min(wait, ABORT_GRACE - (time.monotonic() - abort_seen))))
            looks += 1
            if probing:
                # A look at the newest file first (one point): the whole poll (a point per
                # file) only once it is processed, when the others most likely are too.
                newest = next(reversed(state.waiting))
                probe = file_statuses(self.client, [newest], brief=True).get(newest)
                if probe is not None and probe.status not in (READY, FAILED):
                    self._ready_estimate = min(
                        30.0, max(self._ready_estimate, (time.monotonic() - state.sent_at) * 1.1)
                    )
                    continue
            nodes = file_statuses(self.client, list(state.waiting), brief=True)
            # errors of the failed files, URLs of the READY ones no alt update will return
            detail = [
                file_id
                for file_id, (work, _) in state.waiting.items()
                if (node := nodes.get(file_id)) is not None
                and (node.status == FAILED or (node.status == READY and node.alt != marker(work)))
            ]
            if detail:
                nodes.update(file_statuses(self.client, detail))
            waited = time.monotonic() - state.sent_at
            for file_id, (work, action) in list(state.waiting.items()):
                node = nodes.get(file_id)
                status = node.status if node else None
                if node is None:
                    del state.waiting[file_id]
                    self.hooks.record_removed(work, file_id)
                    state.fail(work, "FILE_DOES_NOT_EXIST", "The file disappeared from Shopify.")
                elif status == READY and node.alt == marker(work):
                    del state.waiting[file_id]
                    named.append((work, file_id, node.url, action))
                elif status == READY:
                    del state.waiting[file_id]
                    ready.append((work, file_id, node.url, action))
                    state.out[work.item_id] = UploadOutcome(action, file_id, node.url, READY)
                elif status == FAILED:
                    del state.waiting[file_id]
                    code = node.error_code or "PROCESSING_FAILED"
                    message = node.error_message or "Shopify could not process the file."
                    state.fail(work, code, message, file_id)
                    if action == "created":
                        self.hooks.record_removed(work, file_id)
                        broken.append((work, file_id))
            if state.waiting:
                self._ready_estimate = min(30.0, max(self._ready_estimate, waited * 1.1))
            elif looks == 1:
                self._ready_estimate = max(0.05, self._ready_estimate * 0.9)
            self.hooks.records_saved(ready)  # replaced files now stand at their new version
            ready = []
        for file_id, (work, action) in state.waiting.items():
            state.out[work.item_id] = UploadOutcome(
                action,
                file_id,
                "",
                "PROCESSING",
                message="Shopify was still processing the file when the run stopped waiting.",
            )
        state.waiting.clear()
        broken += self._set_alts(named, state)
        self._delete(broken)

    def _set_alts(self, named, state: _Chunk) -> list[tuple[UploadWork, str]]:
        """Created files swap their marker for their alt text; those Shopify refuses are
        returned (to delete: the run does not leave a file it cannot finish)."""
        if not named:
            return []
        self._phase("setting alt text")
        outcome = send_batches(
            self.client,
            ops.FILE_UPDATE,
            [(w, f) for w, f, _, _ in named],
            input_key="files",
            spec=lambda item: {"id": item[1], "alt": "" if item[0].keep_alt else item[0].alt},
            backoff=Backoff(first=self.poll_min * 2, cap=self.poll_max * 2),
            sleep=self.sleep,
        )
        outcome_of: dict[str, tuple[str, str] | None] = {f: None for _, f in outcome.items}
        outcome_of.update({r.item[1]: (r.code, r.message) for r in outcome.refused})
        urls = {  # the URL of each file, from the answer that set its alt text
            file.id: file.url
            for result in {id(a.result): a.result for a in outcome.applied}.values()
            for file in created_files(result, "fileUpdate")
        }
        broken = []
        for work, file_id, url, action in named:
            url = url or urls.get(file_id, "")
            error = outcome_of.get(file_id, ("ALT_NOT_SET", "The alt text could not be set."))
            if error is None:  # its record has it since the create; the URL goes with the outcome
                state.out[work.item_id] = UploadOutcome(action, file_id, url, READY)
            else:
                self.hooks.record_removed(work, file_id)
                state.fail(work, error[0], f"The file's alt text could not be set: {error[1]}")
                broken.append((work, file_id))
        return broken

    def _delete(self, broken: list[tuple[UploadWork, str]]) -> None:
        """Files this run created that Shopify failed: out of the Files library, so that the
        next upload of the asset starts clean."""
        if not broken:
            return
        outcome = delete_files(self.client, [f for _, f in broken], sleep=self.sleep)
        for refused in outcome.refused:
            logger.warning(
                "Could not delete the failed file %s: %s %s",
                refused.item, refused.code, refused.message,
            )  # fmt: skip
