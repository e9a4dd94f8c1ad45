"""Link runs (and their undo): start, execute (in an RQ job), abort, undo; report rows.

The job shell, heartbeat, resume and progress are the runs layer's (:mod:`reports.engine`);
this module is what is particular to links. Lifecycle: ``queued`` → ``running`` →
``succeeded`` | ``completed_with_failures`` | ``failed`` | ``aborted``. A run whose worker died
stays ``running`` with a stale heartbeat; a worker's sweeper queues it again, and the next
attempt skips the products already done, reconciles the one in flight from its journal and link
records, and goes on. An undo is a run of kind ``undo`` whose products get the undone run's
galleries before back.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from common.link_modes import LinkMode
from common.transformations import normalise_transformation
from linking.core import (
    AssetToLink,
    LinkRecord,
    LinkSettings,
    ProductState,
    SwatchAsset,
    undo_target,
)
from linking.executor import (
    FILE_DELETED_STATUS,
    Executor,
    ProductOutcome,
    ProductWork,
    ReportRow,
    RunHooks,
    skipped_rows,
    state_from_json,
    state_to_json,
)
from linking.models import LinkRecord as LinkRecordRow
from reports.bulk import update_rows
from reports.csv import products_transformations, row_transformation
from reports.engine import (  # noqa: F401 - the shell's names, also used through this module
    Heartbeat,
    Progress,
    RunError,
    _clear_keys,
    _key,
    default_client,
    drive,
    interrupted,
    is_dead,
    live_progress,
    mark_started,
    request_abort,
    resume_dead_runs,
    run_progress,
    run_resume,
    run_under_store_lock,
    runs_redis,
    store_lock_name,
    summarise_run,
)
from reports.models import ReportRow as StoredRow
from reports.models import Run, RunProduct
from reports.selectors import with_work
from stores import principals
from stores.services import settings_for

logger = logging.getLogger(__name__)

QUEUE = "links"


def _queue_name() -> str:
    return getattr(settings, "LINK_RUN_QUEUE", QUEUE)


# --- work (de)serialisation --------------------------------------------------------------


def identity_key(asset_id: str, version: int, transformation: str) -> str:
    return f"{asset_id}@{version}/{transformation}"


def work_to_json(work: ProductWork, urls: dict[str, str] | None = None) -> dict:
    return {
        "product_id": work.product_id,
        "handle": work.handle,
        "title": work.title,
        "assets": [asdict(a) for a in work.assets],
        "settings": _settings_json(work.settings),
        "variant_ids": list(work.variant_ids),
        "swatches": [asdict(s) for s in work.swatches],
        "restore": state_to_json(work.restore),
        "planned_media": work.planned_media,
        "deleted_media": list(work.deleted_media),
        "planned_ops": work.planned_ops,
        "created_media": list(work.created_media),
        "in_place": work.in_place,
        "replaces": dict(work.replaces),
        "unlink": list(work.unlink),
        "added_media": work.added_media,
        "swatch_owners": work.swatch_owners,
    }


def work_from_json(data: dict) -> ProductWork:
    link_settings = dict(data.get("settings") or {})
    link_settings["mode"] = LinkMode(link_settings.get("mode") or "append")
    return ProductWork(
        data["product_id"],
        [AssetToLink(**a) for a in data.get("assets") or ()],
        LinkSettings(**link_settings),
        list(data.get("variant_ids") or ()),
        [SwatchAsset(**s) for s in data.get("swatches") or ()],
        data.get("handle") or "",
        data.get("title") or "",
        restore=state_from_json(data.get("restore")),
        planned_media=data.get("planned_media"),
        deleted_media=list(data.get("deleted_media") or ()),
        planned_ops=data.get("planned_ops"),
        created_media=list(data.get("created_media") or ()),
        in_place=bool(data.get("in_place")),
        replaces=dict(data.get("replaces") or {}),
        unlink=list(data.get("unlink") or ()),
        added_media=data.get("added_media"),
        swatch_owners=data.get("swatch_owners"),
    )


def planned_ops(work: ProductWork, operations: dict | None = None) -> int:
    """The operations a product's plan counts (the dry run's, when there is one): the run's
    progress total is their sum, fixed when the run starts."""
    if operations is not None:
        return sum(
            len(operations.get(name) or ())
            for name in ("unlinks", "creates", "alt_updates", "variant_images", "swatch_files",
                         "swatch_metafields")
        ) + (1 if operations.get("moves") else 0)  # fmt: skip
    if work.restore is not None:  # undo: at most an unlink or re-link per media, and an order
        return len(work.restore.gallery) + 1
    per_asset = 2 if work.in_place else 1  # managing links: a re-link creates and unlinks
    return len(work.assets) * per_asset + len(work.swatches) + len(work.unlink) + 1


# --- starting, aborting, resuming, undoing ----------------------------------------------------


def run_start(
    *,
    store,
    works: Sequence[ProductWork],
    urls: dict[str, str],
    rows: Sequence[dict] = (),
    plan=None,
    user=None,
    kind: str = Run.Kind.LINK,
    undo_of: Run | None = None,
    enqueue: bool = True,
    link_mode: str | None = None,
) -> Run:
    """Create a run of ``works`` on ``store`` and queue it (after the transaction commits).

    ``urls`` maps :func:`identity_key` of every asset (and swatch) to the URL Shopify fetches;
    ``rows`` are report rows of no product (excluded, unmatched, unresolved), as dicts."""
    if link_mode is None:
        link_mode = str(works[0].settings.mode) if works and kind == Run.Kind.LINK else ""
    for work in works:
        if work.planned_ops is None:
            work.planned_ops = planned_ops(work)
    with transaction.atomic():
        run = Run.objects.create(
            store=store,
            plan=plan,
            kind=kind,
            undo_of=undo_of,
            **principals.started_by(user),
            link_mode=link_mode,
            settings=_settings_json(works[0].settings if works else LinkSettings()),
            work={"urls": dict(urls), "rows": list(rows)},
            products_total=len(works),
            ops_total=sum(w.planned_ops for w in works),
        )
        # Each product's work on its own row: undo, retry and resume read only the products
        # they need (by the (run, product) index), not one document of the whole run.
        products = [
            RunProduct(run=run, product_id=w.product_id, work=work_to_json(w)) for w in works
        ]
        RunProduct.objects.bulk_create(products, batch_size=500)
        _clear_keys(run.pk)
        _write_rows(
            run,
            [ReportRow(**_row_fields(r)) for r in rows],
            seq_start=0,
            transformations=products_transformations(products),
        )
        if enqueue:
            transaction.on_commit(lambda: enqueue_run(run.pk))
    return run


def _settings_json(link_settings: LinkSettings) -> dict:
    return {**asdict(link_settings), "mode": str(link_settings.mode)}


def _row_fields(row: dict) -> dict:
    allowed = set(ReportRow.__dataclass_fields__)
    return {k: v for k, v in row.items() if k in allowed}


def enqueue_run(run_id: int) -> None:
    import django_rq
    from rq import Retry

    django_rq.get_queue(_queue_name()).enqueue(
        "linking.tasks.execute_run",
        run_id,
        job_timeout=6 * 3600,
        retry=Retry(max=3),
        description=f"link run {run_id}",
    )


def run_abort(*, run: Run) -> Run:
    """Ask the run to stop at the next product boundary (a queued run stops at once)."""
    run = request_abort(run)
    if run.status == Run.Status.ABORTED and not run.rows.filter(product_id__gt="").exists():
        _finish_not_started(run)
    return run


def _finish_not_started(run: Run, message: str = "", keep_pending: bool = False) -> None:
    """Rows for the products the run did not finish (aborted, or failed: a resume replaces
    them as it finishes those products)."""
    message = message or "The run was aborted before this product was started."
    finished = [RunProduct.Status.DONE, RunProduct.Status.FAILED, RunProduct.Status.SKIPPED]
    unfinished = with_work(
        run.products.exclude(status__in=finished)
        .only("pk", "run_id", "product_id", "work")
        .order_by("id")
    )
    run.rows.filter(product_id__in=[p.product_id for p in unfinished]).delete()
    works = [work_from_json(p.work) for p in unfinished if p.work is not None]
    _write_rows(run, [row for work in works for row in skipped_rows(work, message)])
    if not keep_pending:
        run.products.filter(status=RunProduct.Status.PENDING).update(
            status=RunProduct.Status.NOT_DONE
        )
    summarise_run(run)


def run_undo(*, run: Run, user=None, enqueue: bool = True) -> Run:
    """A new run that gives every product ``run`` touched its gallery before back."""
    if run.is_active:
        raise RunError(f"Run {run.pk} is still {run.status}; undo it when it has ended.")
    if run.kind == Run.Kind.UNDO:
        raise RunError("An undo cannot be undone; run the plan again instead.")
    link_settings = LinkSettings(**{k: v for k, v in (run.settings or {}).items() if k != "mode"})
    # Files the run deleted (delete unreferenced created files) cannot be linked again.
    deleted: dict[str, set[str]] = {}
    for product_id, media_id, previous in run.rows.filter(status=FILE_DELETED_STATUS).values_list(
        "product_id", "media_id", "previous_media_id"
    ):
        deleted.setdefault(product_id, set()).update(m for m in (media_id, previous) if m)
    # The files the undone run created: the undo deletes them once nothing references them.
    created: dict[str, set[str]] = {}
    for product_id, media_id in run.rows.filter(
        action__in=["created", "replaced"], media_id__gt=""
    ).values_list("product_id", "media_id"):
        created.setdefault(product_id, set()).add(media_id)
    works = []
    for product in with_work(
        run.products.filter(
            status__in=[RunProduct.Status.DONE, RunProduct.Status.FAILED], before__isnull=False
        ).order_by("id")
    ):
        product_meta = product.work or {}
        made = created.get(product.product_id, set())
        target = undo_target(
            state_from_json(product.before),
            state_from_json(product.after) if product.after else None,
            created=made,
            deleted=deleted.get(product.product_id, set()),
        )
        works.append(
            ProductWork(
                product.product_id,
                settings=link_settings,
                # Read with the gallery, so a variant image the run changed is given back.
                variant_ids=list(target.restore.variant_images),
                handle=product_meta.get("handle", ""),
                title=product_meta.get("title", ""),
                restore=target.restore,
                deleted_media=list(target.gone),
                created_media=sorted(made),
                added_media=sorted(target.added),
                swatch_owners=None
                if target.swatch_owners is None
                else sorted(target.swatch_owners),
            )
        )
    if not works:
        raise RunError(f"Run {run.pk} changed no product; there is nothing to undo.")
    return run_start(
        store=run.store,
        works=works,
        urls={},
        plan=run.plan,
        user=user,
        kind=Run.Kind.UNDO,
        undo_of=run,
        enqueue=enqueue,
    )


def _delete_swatch_files(run: Run, client) -> None:
    """Undo, once every product is back: the swatch files the undone run created leave Files
    unless something still uses them — a product the undo did not restore, a product of
    another run that is not undone, or a product's gallery on Shopify. A row each (of no
    product): deleted, or kept and why."""
    from stores.shopify.errors import ShopifyAuthError, ShopifyError
    from stores.shopify.files import delete_files, referenced_by_products

    undone = run.undo_of
    if run.kind != Run.Kind.UNDO or undone is None:
        return
    records = {
        r.media_id: r
        for r in LinkRecordRow.objects.filter(store=run.store, product_id="", run_id=undone.pk)
    }
    if not records:
        return
    kept: dict[str, str] = {}
    # The undo's products: what their swatch metafields hold now (restored, or not).
    mine = set()
    for product in run.products.all():
        mine.add(product.product_id)
        done = product.status == RunProduct.Status.DONE
        state = state_from_json(product.after if done else product.before)
        if state is None and not done:
            state = state_from_json(
                undone.products.filter(product_id=product.product_id)
                .values_list("after", flat=True)
                .first()
            )
        for refs in state.swatch_refs.values() if state else ():
            for file_id in set(refs) & set(records):
                kept[file_id] = (
                    "a product still uses it"
                    if done
                    else "a product the undo could not restore still uses it"
                )
    # Other products: a link run (not undone since) placed the file there.
    undone_since = Run.objects.filter(undo_of=OuterRef("run"), status=Run.Status.SUCCEEDED)
    for file_id in (
        StoredRow.objects.filter(
            run__store=run.store,
            run__kind=Run.Kind.LINK,
            media_id__in=[m for m in records if m not in kept],
            action__in=["swatch", "unchanged"],
            product_id__gt="",
        )
        .exclude(product_id__in=mine)
        .exclude(Exists(undone_since))
        .values_list("media_id", flat=True)
        .distinct()
    ):
        kept[file_id] = "a product of another run uses it"
    todo = [m for m in records if m not in kept]
    try:
        for file_id in referenced_by_products(client, todo) if todo else ():
            kept[file_id] = "a product still references it"
    except ShopifyAuthError:
        raise
    except ShopifyError as exc:
        for file_id in todo:
            kept[file_id] = f"Shopify's references to it could not be read ({exc})"
    todo = [m for m in todo if m not in kept]
    outcome = delete_files(client, todo)
    refused = {r.item: (r.code, r.message) for r in outcome.refused}
    # A resumed undo may find a file its first attempt deleted.
    deleted = set(outcome.items) | {m for m, (code, _) in refused.items()
                                    if code == "FILE_DOES_NOT_EXIST"}  # fmt: skip
    rows = []
    for file_id, record in records.items():
        row = ReportRow(None, "unchanged", record.asset_id, media_id=file_id)
        if file_id in deleted:
            row.action, row.status = "unlinked", FILE_DELETED_STATUS
            row.message = "The swatch file the undone run created was deleted: nothing uses it."
        elif file_id in kept:
            row.message = f"The swatch file the undone run created stays in Files: {kept[file_id]}."
        else:
            code, message = refused.get(file_id, ("NOT_DELETED", "Shopify kept it."))
            row.action, row.error_code = "failed", code
            row.message = f"The swatch file could not be deleted ({message}); it stays in Files."
        rows.append(row)
    with transaction.atomic():
        LinkRecordRow.objects.filter(store=run.store, product_id="", media_id__in=deleted).delete()
        run.rows.filter(product_id="", media_id__in=list(records)).delete()
        _write_rows(run, rows)


# --- execution (called by the RQ job) ----------------------------------------------------


PRODUCT_STATUS = {
    "done": RunProduct.Status.DONE,
    "failed": RunProduct.Status.FAILED,
    "skipped": RunProduct.Status.SKIPPED,
    "not_done": RunProduct.Status.NOT_DONE,
}


class _Hooks(RunHooks):
    def __init__(self, run: Run, heartbeat: Heartbeat):
        self.run = run
        self.heartbeat = heartbeat
        self.store = run.store
        self._seq = StoredRow.objects.filter(run=run).count()

    def started(self, work: ProductWork, before: ProductState) -> None:
        self.started_many([(work, before)])

    def started_many(self, started: Sequence[tuple[ProductWork, ProductState]]) -> None:
        """The gallery before of each product (kept from its first attempt) and its status,
        in one transaction, before anything of the wave changes."""
        before = {work.product_id: state for work, state in started}
        with transaction.atomic():
            products = list(RunProduct.objects.filter(run=self.run, product_id__in=list(before)))
            for product in products:
                if product.before is None:
                    product.before = state_to_json(before[product.product_id])
                product.status = RunProduct.Status.STARTED
            update_rows(products, ["before", "status"])

    def journal(self, product_id: str, entry: dict | None) -> None:
        RunProduct.objects.filter(run=self.run, product_id=product_id).update(journal=entry)

    def journal_many(self, entries: dict[str, dict | None]) -> None:
        """A wave's journals in one transaction (before its calls go out)."""
        if not entries:
            return
        with transaction.atomic():
            products = list(
                RunProduct.objects.filter(run=self.run, product_id__in=list(entries)).only(
                    "pk", "product_id"
                )
            )
            for product in products:
                product.journal = entries[product.product_id]
            update_rows(products, ["journal"])

    def _plans(self, saved: Sequence[tuple[str, str, LinkRecord]]) -> dict[tuple, int]:
        """The plan each record is of: the run's; for a run of no plan (managing links, and the
        undo of one) the plan of the link it re-links — another record of the same asset on
        the product, still there (unlinks come last) — so a group filter keeps finding it."""
        if self.run.plan_id is not None:
            return {}
        keys = {(product_id, r.asset_id) for product_id, _, r in saved if product_id}
        if not keys:
            return {}
        others = LinkRecordRow.objects.filter(
            store=self.store,
            product_id__in={p for p, _ in keys},
            asset_id__in={a for _, a in keys},
            plan__isnull=False,
        ).order_by("updated_at", "pk")
        return {
            (o.product_id, o.asset_id): o.plan_id
            for o in others
            if (o.product_id, o.asset_id) in keys
        }

    def record_saved(self, product_id: str, media_id: str, record: LinkRecord) -> None:
        plans = self._plans([(product_id, media_id, record)])
        LinkRecordRow.objects.update_or_create(
            store=self.store,
            media_id=media_id,
            defaults={
                "product_id": product_id,
                "asset_id": record.asset_id,
                "version": record.version,
                "transformation": record.transformation,
                "alt": record.alt,
                "plan_id": self.run.plan_id or plans.get((product_id, record.asset_id)),
                "run_id": self.run.pk,
            },
        )

    def records_saved(self, product_id: str, records: Sequence[tuple[str, LinkRecord]]) -> None:
        self.records_saved_many([(product_id, media_id, r) for media_id, r in records])

    def records_saved_many(self, saved: Sequence[tuple[str, str, LinkRecord]]) -> None:
        plans = self._plans(saved)
        LinkRecordRow.objects.bulk_create(
            [
                LinkRecordRow(
                    store=self.store, media_id=media_id, product_id=product_id,
                    asset_id=r.asset_id, version=r.version, transformation=r.transformation,
                    alt=r.alt, plan_id=self.run.plan_id or plans.get((product_id, r.asset_id)),
                    run_id=self.run.pk,
                )
                for product_id, media_id, r in saved
            ],
            batch_size=500,
            update_conflicts=True,
            unique_fields=["store", "media_id"],
            update_fields=["product_id", "asset_id", "version", "transformation", "alt", "plan",
                           "run_id"],
        )  # fmt: skip

    def records_removed(self, product_id: str, media_ids: Sequence[str]) -> None:
        LinkRecordRow.objects.filter(
            store=self.store, product_id=product_id, media_id__in=list(media_ids)
        ).delete()

    def still_recorded(self, media_ids: Sequence[str]) -> set[str]:
        return set(
            LinkRecordRow.objects.filter(
                store=self.store, media_id__in=list(media_ids)
            ).values_list("media_id", flat=True)
        )

    def finished(self, outcome: ProductOutcome) -> None:
        self.finished_many([outcome])

    def finished_many(self, outcomes: Sequence[ProductOutcome]) -> None:
        """A wave's products in one transaction: their status, gallery after and rows."""
        if not outcomes:
            return
        by_id = {o.product_id: o for o in outcomes}
        with transaction.atomic():
            products = list(RunProduct.objects.filter(run=self.run, product_id__in=list(by_id)))
            for product in products:
                outcome = by_id[product.product_id]
                product.status = PRODUCT_STATUS[outcome.status]
                product.after = state_to_json(outcome.after)
                product.replanned = outcome.replanned
                product.error = outcome.error[:2000]
                product.journal = None
            update_rows(products, ["status", "after", "replanned", "error", "journal"])
            StoredRow.objects.filter(run=self.run, product_id__in=list(by_id)).delete()
            self._seq = _write_rows(
                self.run,
                [r for o in outcomes for r in o.rows],
                seq_start=self._seq,
                transformations=products_transformations(with_work(products)),
            )
        self.heartbeat.save()
        if Run.objects.filter(pk=self.run.pk, abort_requested_at__isnull=False).exists():
            self.heartbeat.abort.set()


def _write_rows(
    run: Run,
    rows: Sequence[ReportRow],
    seq_start: int | None = None,
    transformations: dict[tuple[str, str], str] | None = None,
) -> int:
    """Store report rows; ``transformations`` ((product id, asset id) → transformation, from
    the products' work) fills each row's CSV cell now, so the CSV reads it with the row."""
    seq = seq_start if seq_start is not None else StoredRow.objects.filter(run=run).count()
    transformations = transformations or {}
    objs = []
    for row in rows:
        seq += 1
        product_id, asset_id = row.product_id or "", row.asset_id or ""
        objs.append(
            StoredRow(
                run=run,
                seq=seq,
                product_id=product_id,
                product_handle=row.handle or "",
                product_title=row.title or "",
                group=row.group or "",
                asset_id=asset_id,
                public_id=row.public_id or "",
                action=row.action,
                position_before=row.position_before,
                position_after=row.position_after,
                media_id=row.media_id or "",
                previous_media_id=row.previous_media_id or "",
                status=row.status or "",
                error_code=row.error_code or "",
                message=row.message or "",
                transformation=row_transformation(
                    transformations, product_id, asset_id, row.action
                ),
            )
        )
    StoredRow.objects.bulk_create(objs, batch_size=500)
    return seq


def _reader(client, store, swatch_metafield):
    def read(product_ids: list[str], variant_ids: list[str]) -> dict[str, ProductState]:
        from linking.galleries import read_galleries

        return read_galleries(
            client, store, product_ids, variant_ids=variant_ids, swatch_metafield=swatch_metafield
        ).states

    return read


def execute_run(
    run_id: int,
    *,
    client_for: Callable | None = None,
    lock_wait: float | None = None,
) -> str:
    """Run (or go on with) a run. Safe to call twice: a finished run is left alone, and a run
    whose worker is alive is not touched. Returns the run's status."""
    return run_under_store_lock(
        run_id,
        _execute_locked,
        abort=run_abort,
        client_for=client_for,
        lock_wait=lock_wait,
    )


def works_to_do(run: Run) -> tuple[list[RunProduct], list[ProductWork]]:
    """The run's products (with their work) and the work of those not finished yet, each with
    what an earlier attempt left (its gallery before, its journal): what an attempt does."""
    finished = (RunProduct.Status.DONE, RunProduct.Status.FAILED, RunProduct.Status.SKIPPED)
    products = with_work(run.products.defer("after").order_by("id"))
    works = []
    for product in products:
        if product.work is None or product.status in finished:
            continue
        work = work_from_json(product.work)
        work.original_before = state_from_json(product.before)
        work.journal = product.journal
        works.append(work)
    return products, works


def _execute_locked(run: Run, lock, client_for) -> str:
    began = time.monotonic()
    run.refresh_from_db()
    if run.is_terminal:
        return run.status
    run = mark_started(run)
    client = client_for(run.store)
    products, works = works_to_do(run)
    all_ops = sum((p.work or {}).get("planned_ops") or 0 for p in products)
    progress = Progress(
        products_done=len(products) - len(works),
        products_total=len(products),
        ops_total=all_ops,
        ops_done=all_ops - sum(w.planned_ops or 0 for w in works),
        phase="starting",
    )
    sample = works[0].settings if works else LinkSettings()
    started = time.monotonic()
    heartbeat = Heartbeat(run.pk, progress, client, lock, started)
    urls = run.work.get("urls") or {}

    def source_url(media_type: str, asset_id: str, version: int, transformation: str) -> str:
        return urls.get(identity_key(asset_id, version, transformation), "")

    from linking.selectors import store_files as known_store_files

    store_files = known_store_files(run.store)
    hooks = _Hooks(run, heartbeat)
    executor = Executor(
        client,
        read_states=_reader(client, run.store, (sample.swatch_namespace, sample.swatch_key)),
        source_url=source_url,
        hooks=hooks,
        progress=progress,
        should_abort=heartbeat.abort.is_set,
        store_files=store_files,
        delete_created_files=run.kind == Run.Kind.LINK
        and settings_for(run.store.workspace).delete_unreferenced_created_files,
        # A wave is about this many seconds of the store's restore rate: the abort latency.
        wave_seconds=getattr(settings, "LINK_RUN_WAVE_SECONDS", 2.5),
        concurrency=settings.SHOPIFY_RUN_CONCURRENCY,
    )
    if run.abort_requested_at is not None:
        heartbeat.abort.set()

    def execute() -> bool:
        finished = True
        for outcome in executor.run(works):
            if outcome.status == "not_done":
                finished = False
        if finished:
            _delete_swatch_files(run, client)
        return finished

    def outcome() -> str:
        products = Counter(run.products.values_list("status", flat=True))
        return Run.outcome(
            done=products[RunProduct.Status.DONE],
            bad=products[RunProduct.Status.FAILED] + products[RunProduct.Status.SKIPPED],
        )

    def after(status: str, error: str) -> None:
        if status == Run.Status.FAILED and error:
            _finish_not_started(
                run,
                f"The run failed before this product was done: {error[:300]}",
                keep_pending=True,
            )

    return drive(
        run, client=client, heartbeat=heartbeat, progress=progress, began=began,
        execute=execute, outcome=outcome, after=after, log=logger,
    )  # fmt: skip


# --- reading ---------------------------------------------------------------------------------


# --- from a dry run ----------------------------------------------------------------------------

_NOT_IN_S = {"unlinked", "skipped", "excluded", "unmatched", "swatch"}


def works_from_plan_store(plan_store, *, cloudinary=None) -> tuple[list[ProductWork], dict, list]:
    """The run's work from a store's dry-run result: per product the assets to link (S, in
    order, with the alt the dry run computed), the matched variants and the swatches; the URLs
    Shopify fetches; and the rows of no product."""
    from linking import services
    from stores.cloudinary.assets import Asset as CloudinaryAsset
    from stores.cloudinary.client import CloudinaryClient

    plan = plan_store.plan
    setup = settings_for(plan.workspace)
    config = services.link_config(plan, setup)
    cloud = cloudinary or CloudinaryClient.for_workspace(plan.workspace)
    variants: dict[str, list[str]] = {}
    for group in plan_store.groups or ():
        for hit in group.get("products") or ():
            variants.setdefault(hit["id"], []).extend(hit.get("variant_ids") or ())
    rows_by_product: dict[str | None, list[dict]] = {}
    for row in plan_store.rows or ():
        rows_by_product.setdefault(row.get("product_id"), []).append(row)
    file_records = {
        r.media_id: r for r in LinkRecordRow.objects.filter(store=plan_store.store, product_id="")
    }
    urls: dict[str, str] = {}
    generated_swatches = normalise_transformation(config.swatch_from_image or "") or None

    def url_for(asset_id, public_id, version, transformation, media_type, fmt=""):
        asset = CloudinaryAsset(
            asset_id, public_id, "video" if media_type == "VIDEO" else "image", "upload", fmt,
            int(version), None, None, None, (), {}, {}, {}, "", "", "", "", None,
        )  # fmt: skip
        key = identity_key(asset_id, int(version), transformation)
        urls[key] = cloud.delivery_url(asset, transformation=transformation)

    works = []
    planned = set()
    for product in plan_store.products or ():
        pid = product["product_id"]
        planned.add(pid)
        rows = rows_by_product.get(pid, [])
        in_s = {
            r["asset_id"]: r for r in rows if r.get("asset_id") and r["action"] not in _NOT_IN_S
        }
        after_ids = {m["media_id"] for m in product["after"]}
        assets = []
        for item in product["after"]:
            row = in_s.get(item.get("asset_id"))
            if row is None or any(a.asset_id == row["asset_id"] for a in assets):
                continue
            video = item.get("media_type") == "VIDEO"
            transformation = "" if video else config.image_transformation
            asset = AssetToLink(
                row["asset_id"], int(item["version"]), transformation, item.get("alt"),
                "VIDEO" if video else "IMAGE", row.get("public_id") or "", row.get("group") or "",
            )  # fmt: skip
            assets.append(asset)
            url_for(
                asset.asset_id, asset.public_id, asset.version, asset.identity[2], asset.media_type
            )
        created_files = {
            f["file_id"]: f for f in (product.get("operations") or {}).get("swatch_files") or ()
        }
        swatches = []
        for row in rows:
            media_id = row.get("media_id") or ""
            if row["action"] not in ("swatch", "unchanged") or media_id in after_ids:
                continue
            spec = created_files.get(media_id)
            record = file_records.get(media_id)
            if spec is not None:
                version, transformation = spec["version"], spec["transformation"]
            elif record is not None:
                version, transformation = record.version, record.transformation
            else:
                continue
            swatch = SwatchAsset(
                row["asset_id"], int(version), transformation, row.get("public_id") or "",
                row.get("group") or "", transformation == generated_swatches,
            )  # fmt: skip
            swatches.append(swatch)
            url_for(
                swatch.asset_id,
                swatch.public_id,
                swatch.version,
                swatch.identity[2],
                "IMAGE",
                "png",
            )
        works.append(
            ProductWork(
                pid,
                assets,
                # Swatches only: the gallery is left as it is, even for reset (as planned).
                config.settings
                if assets
                else replace(config.settings, mode=LinkMode.APPEND, position=None),
                list(dict.fromkeys(variants.get(pid, []))),
                swatches,
                product.get("handle") or "",
                product.get("title") or "",
                planned_media=[m["media_id"] for m in product["before"]],
            )
        )
        works[-1].planned_ops = planned_ops(works[-1], product.get("operations") or {})
    static_rows = [
        row for pid, rows in rows_by_product.items() if pid not in planned for row in rows
    ]
    return works, urls, static_rows


def run_start_from_plan(*, plan, store, user=None, cloudinary=None) -> Run:
    """Start the run of a plan's dry run on one store."""
    plan_store = plan.results.filter(store=store).first()
    if plan_store is None or not plan.dry_run_at:
        raise RunError("Run a dry run of this plan first.")
    if plan_store.error:
        raise RunError(f"The dry run failed on {store.shop_domain}: {plan_store.error}")
    if Run.objects.filter(plan=plan, store=store, status__in=Run.ACTIVE).exists():
        raise RunError(f"This plan is already running on {store.shop_domain}.")
    works, urls, rows = works_from_plan_store(plan_store, cloudinary=cloudinary)
    return run_start(store=store, works=works, urls=urls, rows=rows, plan=plan, user=user)


def run_retry_failed(*, run: Run, user=None) -> Run:
    """A new run of the same plan on the same store, limited to the products that failed in
    ``run`` (each with the work it had: the same assets, order, alt text and URLs)."""
    if run.kind != Run.Kind.LINK:
        raise RunError(f"Run {run.pk} is an {run.kind} run; only link runs can be retried.")
    if run.is_active:
        raise RunError(f"Run {run.pk} is still {run.status}; retry it when it has ended.")
    failed = set(
        run.products.filter(status=RunProduct.Status.FAILED).values_list("product_id", flat=True)
    ) | set(
        run.rows.filter(action="failed").exclude(product_id="").values_list("product_id", flat=True)
    )
    works = [
        work_from_json(p.work)
        for p in with_work(run.products.filter(product_id__in=failed).order_by("id"))
        if p.work is not None
    ]
    if not works:
        raise RunError(f"Run {run.pk} has no failed product to retry.")
    if Run.objects.filter(store=run.store, plan=run.plan, status__in=Run.ACTIVE).exists():
        raise RunError(f"This plan is already running on {run.store.shop_domain}.")
    return run_start(
        store=run.store, works=works, urls=run.work.get("urls") or {}, plan=run.plan, user=user
    )
