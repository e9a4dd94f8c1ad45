"""The executor's inputs and outputs, and the executable plan of one product (`_Step`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from linking.core import (
    AssetToLink,
    AssignVariantImage,
    CreateMedia,
    CreateSwatchFile,
    DeleteSwatchMetafield,
    LinkRecord,
    LinkSettings,
    ProductPlan,
    ProductState,
    ReportAction,
    ReportRow,
    SetSwatchMetafield,
    SwatchAsset,
)

MAX_INPUT = 250  # Shopify's limit on items per input list
ABORT_GRACE = 0.5  # seconds an abort lets media still processing finish before rolling back
MAX_VARIANT_PAIRS = 100
MAX_METAFIELDS = 25
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
    swatch_owners: list[str] | None = None
    """Undo: the owners whose swatch metafield the undone run changed, the only ones the undo
    gives back (None: any, as in a rollback)."""


def skipped_rows(work: ProductWork, message: str) -> list[ReportRow]:
    """The rows of a product the run did not change (not started, unreadable): one per asset
    of the product — its S and its swatches — or, for an undo, one per media of the gallery it
    would have restored; a product with neither still has a row."""
    extra = {"message": message, "handle": work.handle, "title": work.title}
    skipped = str(ReportAction.SKIPPED)
    rows = [
        ReportRow(work.product_id, skipped, a.asset_id, a.public_id, a.group, **extra)
        for a in [*work.assets, *work.swatches]
    ]
    if work.restore is not None:
        rows += [
            ReportRow(work.product_id, skipped, i.record.asset_id if i.record else None,
                   media_id=i.media_id, **extra)
            for i in work.restore.gallery
        ]  # fmt: skip
    rows += [ReportRow(work.product_id, skipped, media_id=m, **extra) for m in work.unlink]
    return rows or [ReportRow(work.product_id, skipped, **extra)]


@dataclass
class ProductOutcome:
    product_id: str
    status: str
    """done | failed (some rows failed) | skipped | not_done (aborted before it started)."""
    rows: list[ReportRow] = field(default_factory=list)
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
    swatch_deletes: list[DeleteSwatchMetafield] = field(default_factory=list)
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
        + len(step.swatch_deletes)
        + (1 if step.plan is None or step.plan.operations.moves else 0)
    )
