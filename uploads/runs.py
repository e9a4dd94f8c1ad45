"""Upload runs: one ``Run`` of kind ``upload`` per store, executed by an RQ job.

The lifecycle is the link runs' (``linking.runs``) and so are its parts: the per-store Redis
lock (one job at a time per store, whatever its kind), the heartbeat thread that publishes
progress and reads the abort flag, ``is_dead``, ``run_abort`` and ``run_progress``. What differs
is the work: ``UploadItem`` rows instead of products, and :class:`uploads.executor.
UploadExecutor`. A run whose worker died goes back in the queue (:func:`resume_dead_uploads`);
the next attempt skips the items done and reconciles the one ``fileCreate`` in flight.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from reports import engine
from reports.bulk import insert_rows, update_values
from reports.models import ReportRow, Run
from reports.progress import Progress
from stores import principals
from uploads.executor import FileRecord, UploadExecutor, UploadHooks, UploadOutcome, UploadWork
from uploads.models import UploadBatch, UploadItem, UploadRecord

logger = logging.getLogger(__name__)

QUEUE = "uploads"
RunError = engine.RunError


# --- starting, aborting, resuming ----------------------------------------------------------


def run_start(*, store, batch: UploadBatch, user=None, enqueue: bool = True) -> Run:
    """A run uploading the batch's resolved assets to ``store``, queued after the commit."""
    assets = list(batch.assets or ())
    with transaction.atomic():
        run = Run.objects.create(
            store=store,
            kind=Run.Kind.UPLOAD,
            **principals.started_by(user),
            settings={
                "transformation": batch.transformation,
                "alt_source": batch.alt_source,
                "alt_field": batch.alt_field,
            },
            work={"upload_batch": batch.pk},
            products_total=len(assets),
            ops_total=len(assets),
        )
        batch.runs.add(run)
        items = [
            UploadItem(
                run=run,
                seq=seq,
                asset_id=a["asset_id"],
                public_id=a["public_id"],
                version=a["version"],
                media_type=a["media_type"],
                transformation=a["transformation"],
                source_url=a["url"],
                filename=a["filename"],
                alt=a["alt"] or "",
                keep_alt=a["alt"] is None,
            )
            for seq, a in enumerate(assets, 1)
        ]
        for asset_id in batch.unresolved_asset_ids or ():
            items.append(
                UploadItem(
                    run=run,
                    seq=len(items) + 1,
                    asset_id=asset_id,
                    status=UploadItem.Status.FAILED,
                    action=UploadItem.Action.FAILED,
                    error_code="UNRESOLVED",
                    message="Cloudinary has no asset with this id (deleted, or not accessible).",
                )
            )
        UploadItem.objects.bulk_create(items, batch_size=500)
        _write_rows(run, [i for i in items if i.action])
        if enqueue:
            transaction.on_commit(lambda: enqueue_run(run.pk))
    return run


def enqueue_run(run_id: int) -> None:
    import django_rq
    from rq import Retry

    django_rq.get_queue(QUEUE).enqueue(
        "uploads.tasks.execute_upload_run",
        run_id,
        job_timeout=6 * 3600,
        retry=Retry(max=3),
        description=f"upload run {run_id}",
    )


def run_abort(*, run: Run) -> Run:
    """Stop at the next chunk boundary (a queued run stops at once); the items not done are
    reported ``skipped``."""
    run = engine.request_abort(run)
    if run.status == Run.Status.ABORTED:
        _skip_pending(run)
    return run


def _skip_pending(run: Run) -> None:
    pending = list(run.upload_items.filter(status=UploadItem.Status.PENDING))
    for item in pending:
        item.status = UploadItem.Status.NOT_DONE
        item.action = UploadItem.Action.SKIPPED
        item.message = "The run was aborted before this asset was uploaded."
    UploadItem.objects.bulk_update(pending, ["status", "action", "message"], batch_size=500)
    _write_rows(run, pending)
    engine.summarise_run(run)


def run_resume(*, run: Run, force: bool = False) -> Run:
    """Queue again an upload run whose worker died (or that failed): the runs' one resume."""
    return engine.run_resume(run=run, force=force)


def resume_dead_uploads(*, exclude: int | None = None) -> list[int]:
    """Queue again every run left ``running`` by a dead worker (uploads included)."""
    return engine.resume_dead_runs(exclude=exclude)


# --- report rows -------------------------------------------------------------------------------


def _write_rows(run: Run, items: Sequence[UploadItem]) -> None:
    """The run's report rows (one layout with link runs: the CSV, Runs page, summary, admin)."""
    _replace_rows(run, [_report_row(run, item.seq, item, item) for item in items])


def _report_row(run: Run, seq: int, asset, outcome) -> ReportRow:
    """An upload's report row: ``asset`` names it (asset_id, public_id, filename: an item or
    its work), ``outcome`` says what became of it (an item or an `UploadOutcome`)."""
    return ReportRow(
        run=run,
        seq=seq,
        asset_id=asset.asset_id,
        public_id=asset.public_id,
        filename=asset.filename,
        action=outcome.action,
        media_id=outcome.file_id,
        status=outcome.file_status,
        error_code=outcome.error_code,
        message=outcome.message,
        url=outcome.url,
        transformation="",  # an upload run links no product: the CSV's cell is empty
    )


def _replace_rows(run: Run, rows: Sequence[ReportRow]) -> None:
    ReportRow.objects.filter(run=run, seq__in=[r.seq for r in rows]).delete()
    insert_rows(rows)


# --- execution (the RQ job) ------------------------------------------------------------------


class _Hooks(UploadHooks):
    def __init__(self, run: Run, heartbeat):
        self.run = run
        self.store = run.store
        self.heartbeat = heartbeat

    def journal(self, works, sent: bool) -> None:
        ids = [w.item_id for w in works]
        now = timezone.now() if sent else None
        UploadItem.objects.filter(pk__in=ids).update(
            status=UploadItem.Status.SENT if sent else UploadItem.Status.PENDING, sent_at=now
        )
        for work in works:
            work.sent_at = now

    def records_saved(self, saved) -> None:
        """The files of a create call (or of a chunk made READY) in one transaction."""
        if not saved:
            return
        fields = ["file_id", "version", "public_id", "media_type", "filename", "run", "url", "alt"]
        records = []
        for work, file_id, url, _ in saved:
            records.append(
                UploadRecord(
                    store=self.store, asset_id=work.asset_id, transformation=work.transformation,
                    file_id=file_id, version=work.version, public_id=work.public_id,
                    media_type=work.media_type, filename=work.filename, run=self.run,
                    url=url, alt="" if work.keep_alt else work.alt,
                )
            )  # fmt: skip
        with transaction.atomic():
            # A known url and alt are kept where this save has none.
            keep = {
                (asset_id, transformation): (url, alt)
                for asset_id, transformation, url, alt in UploadRecord.objects.filter(
                    store=self.store, asset_id__in=[w.asset_id for w, *_ in saved]
                ).values_list("asset_id", "transformation", "url", "alt")
            }
            for record, (work, *_rest) in zip(records, saved, strict=True):
                old = keep.get((record.asset_id, record.transformation))
                if old is not None:
                    record.url = record.url or old[0]
                    record.alt = old[1] if work.keep_alt else record.alt
            insert_rows(
                records,
                unique_fields=["store", "asset_id", "transformation"],
                update_fields=fields,
            )
            # the items by their ids: nothing read first (a missing id updates no row)
            update_values(
                UploadItem,
                ["file_id", "action", "status", "sent_at"],
                [(w.item_id, [file_id, action, UploadItem.Status.PENDING, None])
                 for w, file_id, _, action in saved],
            )  # fmt: skip
        for work, _, _, action in saved:
            work.sent_at = None
            if action in ("created", "replaced"):
                work.prior_action = action

    def record_removed(self, work: UploadWork, file_id: str) -> None:
        UploadRecord.objects.filter(store=self.store, file_id=file_id).delete()

    def finished(self, results: Sequence[tuple[UploadWork, UploadOutcome]]) -> None:
        # the items' outcome and their report rows, from the outcomes: only the rows' sequence
        # numbers are read (no item instances: a chunk's 250 cost tens of ms of CPU)
        seqs = dict(
            UploadItem.objects.filter(pk__in=[w.item_id for w, _ in results]).values_list(
                "pk", "seq"
            )
        )
        fields = ["status", "action", "file_id", "url", "file_status", "error_code", "message"]
        values, rows = [], []
        # the URL a created file has once READY, on its record (made at the create, URL-less)
        urls = [
            ((self.store.pk, outcome.file_id), [outcome.url])
            for _, outcome in results
            if outcome.action == "created" and outcome.url
        ]
        for work, outcome in results:
            status = {"failed": UploadItem.Status.FAILED,
                      "skipped": UploadItem.Status.NOT_DONE}.get(
                outcome.action, UploadItem.Status.DONE
            )  # fmt: skip
            values.append(
                (work.item_id, [status, outcome.action, outcome.file_id, outcome.url,
                                outcome.file_status, outcome.error_code, outcome.message, None])
            )  # fmt: skip
            rows.append(_report_row(self.run, seqs[work.item_id], work, outcome))
        with transaction.atomic():
            update_values(UploadItem, [*fields, "sent_at"], values)
            update_values(UploadRecord, ["url"], urls, by=["store", "file_id"])
            _replace_rows(self.run, rows)
        self.heartbeat.save()
        if Run.objects.filter(pk=self.run.pk, abort_requested_at__isnull=False).exists():
            self.heartbeat.abort.set()


def execute_upload_run(
    run_id: int,
    *,
    client_for: Callable | None = None,
    lock_wait: float | None = None,
) -> str:
    """Run (or go on with) an upload run. Safe to call twice: a finished run is left alone and
    a run whose worker is alive is not touched. Returns the run's status."""
    return engine.run_under_store_lock(
        run_id,
        _execute_locked,
        abort=run_abort,
        client_for=client_for,
        lock_wait=lock_wait,
    )


def _works(run: Run) -> tuple[list[UploadWork], int]:
    items = list(run.upload_items.order_by("seq", "id"))
    todo = [i for i in items if i.status in (UploadItem.Status.PENDING, UploadItem.Status.SENT)]
    records = {
        (r.asset_id, r.transformation): r
        for r in UploadRecord.objects.filter(
            store=run.store, asset_id__in=[i.asset_id for i in todo]
        )
    }
    works = []
    for item in todo:
        record = records.get((item.asset_id, item.transformation))
        works.append(
            UploadWork(
                item.pk,
                item.asset_id,
                item.public_id,
                int(item.version),
                item.media_type,
                item.transformation,
                item.source_url,
                item.filename,
                item.alt,
                item.keep_alt,
                FileRecord(record.file_id, int(record.version), record.alt) if record else None,
                item.sent_at if item.status == UploadItem.Status.SENT else None,
                item.action if item.file_id else "",
            )
        )
    resolved = sum(1 for i in items if i.error_code != "UNRESOLVED")
    return works, resolved


def _execute_locked(run: Run, lock, client_for) -> str:
    began = time.monotonic()
    run.refresh_from_db()
    if run.is_terminal:
        return run.status
    run = engine.mark_started(run)
    client = client_for(run.store)
    works, total = _works(run)
    done = total - len(works)
    progress = Progress(
        phase="starting", ops_done=done, ops_total=total, products_done=done, products_total=total
    )
    started = time.monotonic()
    heartbeat = engine.Heartbeat(run.pk, progress, client, lock, started)
    if run.abort_requested_at is not None:
        heartbeat.abort.set()
    executor = UploadExecutor(
        client,
        hooks=_Hooks(run, heartbeat),
        progress=progress,
        should_abort=heartbeat.abort.is_set,
        chunk_size=getattr(settings, "UPLOAD_CHUNK_SIZE", 250),
        poll_max=getattr(settings, "UPLOAD_POLL_MAX", 2.0),
        ready_timeout=getattr(settings, "UPLOAD_READY_TIMEOUT", 600.0),
    )

    def outcome() -> str:
        items = Counter(run.upload_items.values_list("status", flat=True))
        return Run.outcome(done=items[UploadItem.Status.DONE], bad=items[UploadItem.Status.FAILED])

    def after(status: str, error: str) -> None:
        if status == Run.Status.ABORTED:
            _skip_pending(run)

    return engine.drive(
        run, client=client, heartbeat=heartbeat, progress=progress, began=began,
        execute=lambda: executor.run(works), outcome=outcome, after=after, log=logger,
        what="Upload run",
    )  # fmt: skip
