"""Plan one product: the gallery after for a link mode, and the operations and report rows."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar

from .diff import reorder_moves
from .gallery import (
    FAILED,
    MAX_GALLERY_SIZE,
    AssetToLink,
    GalleryItem,
    LinkRecord,
    ProductState,
    SwatchAsset,
)
from .modes import LinkMode, arrange, arrange_in_place, validate_mode
from .operations import (
    AssignVariantImage,
    CreateMedia,
    CreateSwatchFile,
    Operations,
    SetSwatchMetafield,
    UnlinkMedia,
    UpdateAlt,
)

_A = TypeVar("_A", AssetToLink, SwatchAsset)


class ReportAction(StrEnum):
    CREATED = "created"
    REUSED = "reused"
    MOVED = "moved"
    REPLACED = "replaced"
    UNLINKED = "unlinked"
    ALT_UPDATED = "alt_updated"
    SWATCH = "swatch"
    UNCHANGED = "unchanged"
    EXCLUDED = "excluded"
    UNMATCHED = "unmatched"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class LinkSettings:
    mode: LinkMode = LinkMode.APPEND
    position: int | None = None
    assign_variant_images: bool = True
    swatch_namespace: str = "cloudinary"
    swatch_key: str = "swatch"
    retired_asset_ids: tuple[str, ...] = ()
    """Assets gone from the selection (deleted, or moved to another group) since AssetLink
    linked them: their media leave a product whose S does not hold them (sync rules)."""

    def __post_init__(self):
        object.__setattr__(self, "retired_asset_ids", tuple(self.retired_asset_ids or ()))


@dataclass
class ReportRow:
    """One row per asset (or unlinked media) of one product; positions are 1-based. The one
    report-row type: the plan writes it (a dry run's rows), the executor completes it with
    what Shopify did (``status``, ``error_code``) and the product's ``handle``/``title``, and
    the run stores it (``reports.models.ReportRow``, one CSV layout)."""

    product_id: str | None
    """None for rows of no product (excluded, unmatched, ungrouped)."""
    action: ReportAction | str
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


@dataclass
class ProductPlan:
    product_id: str
    before: ProductState
    after: ProductState
    operations: Operations
    rows: list[ReportRow] = field(default_factory=list)
    skipped_reason: str | None = None

    @property
    def records(self) -> list[tuple[str, LinkRecord]]:
        """(media id, link record) of every AssetLink media in the gallery after."""
        return [(i.media_id, i.record) for i in self.after.gallery if i.record is not None]


def first_per_asset(items: Sequence[_A]) -> list[_A]:
    """``items`` without later repeats of an asset id (an asset in two matched groups)."""
    seen: set[str] = set()
    out = []
    for item in items:
        if item.asset_id not in seen:
            seen.add(item.asset_id)
            out.append(item)
    return out


def _placeholder(prefix: str, identity: tuple[str, int, str], taken: set[str]) -> str:
    base = f"{prefix}:{identity[0]}@{identity[1]}" + (f"/{identity[2]}" if identity[2] else "")
    candidate, n = base, 1
    # A failed media may already carry this id from an earlier plan; never reuse an id.
    while candidate in taken:
        n += 1
        candidate = f"{base}#{n}"
    taken.add(candidate)
    return candidate


def plan_product(
    state: ProductState,
    assets: Sequence[AssetToLink],
    settings: LinkSettings,
    *,
    variant_ids: Sequence[str] = (),
    swatches: Sequence[SwatchAsset] = (),
    store_files: Mapping[tuple[str, int, str], str] | None = None,
    in_place: bool = False,
    replaces: Mapping[str, str] | None = None,
    unlink: Collection[str] = (),
) -> ProductPlan:
    """Plan linking ``assets`` (S, in order, swatches removed) into ``state``'s gallery.

    ``variant_ids`` are the matched variants for a variant-field match (empty otherwise);
    ``store_files`` maps a swatch identity to a file already in the store's Files.
    ``in_place`` (managing links; the mode is then ignored): an asset of S takes the place of the
    media ``replaces`` maps to it (media id → asset id; without it, the asset's first media),
    keeping its alt text and its variants; the media in ``unlink`` leave; nothing else moves.
    """
    mode = validate_mode(settings.mode, settings.position)
    product_id = state.product_id
    before = list(state.gallery)
    s = first_per_asset(assets)
    s_ids = {a.asset_id for a in s}
    leaving = s_ids | set(settings.retired_asset_ids)

    def is_s_media(item: GalleryItem) -> bool:
        return item.record is not None and item.record.asset_id in leaving

    # Reuse: a READY/processing media of the same asset, version and transformation.
    reusable: dict[tuple[str, int, str], GalleryItem] = {}
    # A new version (or transformation) of an asset inherits the alt text of the media it
    # replaces when the alt rule gives none (keep Shopify's): replaced in place, alt kept.
    previous_alt: dict[str, str | None] = {}
    for item in before:
        if is_s_media(item) and item.status != FAILED and item.record is not None:
            reusable.setdefault(item.record.identity, item)
            previous_alt.setdefault(item.record.asset_id, item.alt)

    replacing: dict[str, GalleryItem] = {}
    if in_place:
        arranged, replacing = arrange_in_place(
            before,
            (lambda i: replaces.get(i.media_id))
            if replaces is not None
            else (lambda i: i.record.asset_id if i.record is not None else None),
            lambda i: i.media_id,
            s,
            lambda a: a.asset_id,
            frozenset(unlink),
        )
        s = [a for a in s if a.asset_id in replacing]  # an asset whose media is gone: nothing
        s_ids = {a.asset_id for a in s}
    else:
        arranged = arrange(mode, before, is_s_media, s, settings.position)
    if len(arranged) > MAX_GALLERY_SIZE:
        reason = (
            f"The gallery would have {len(arranged)} media; Shopify allows at most "
            f"{MAX_GALLERY_SIZE} per product, so this product was not changed."
        )
        rows = [
            ReportRow(
                product_id, ReportAction.SKIPPED, a.asset_id, a.public_id, a.group, message=reason
            )
            for a in s
        ]
        return ProductPlan(product_id, state, state, Operations(), rows, reason)

    taken = {item.media_id for item in before}
    ops = Operations()
    after: list[GalleryItem] = []
    reused_ids: dict[str, str] = {}  # media id → asset id
    created_ids: dict[str, str] = {}
    for slot in arranged:
        if isinstance(slot, GalleryItem):
            after.append(slot)
            continue
        item = reusable.get(slot.identity)
        if item is not None:
            if slot.alt is not None and slot.alt != item.alt:
                ops.alt_updates.append(UpdateAlt(item.media_id, slot.alt))
                assert item.record is not None
                item = replace(item, alt=slot.alt, record=replace(item.record, alt=slot.alt))
            reused_ids[item.media_id] = slot.asset_id
            after.append(item)
            continue
        media_id = _placeholder("new", slot.identity, taken)
        old = replacing.get(slot.asset_id)
        if old is not None and slot.alt is None and old.alt is not None:
            slot = replace(slot, alt=old.alt)  # a new version keeps its media's alt
        asset_id, version, transformation = slot.identity
        alt = slot.alt if slot.alt is not None else previous_alt.get(asset_id)
        ops.creates.append(
            CreateMedia(media_id, asset_id, version, transformation, alt, slot.media_type)
        )
        record = LinkRecord(asset_id, version, transformation, alt)
        after.append(GalleryItem(media_id, "UPLOADED", alt, slot.media_type, record))
        created_ids[media_id] = slot.asset_id

    after_ids = {item.media_id for item in after}
    media_of_asset = {a: m for m, a in {**reused_ids, **created_ids}.items()}
    ops.unlinks = [UnlinkMedia(i.media_id) for i in before if i.media_id not in after_ids]
    kept = [i.media_id for i in before if i.media_id in after_ids]
    ops.moves = reorder_moves(kept + [c.media_id for c in ops.creates], [i.media_id for i in after])

    variant_images = dict(state.variant_images)
    for variant_id, media_id in state.variant_images.items():
        if media_id is not None and media_id not in after_ids:
            variant_images[variant_id] = None  # Shopify clears it with the unlink
    first_image = next(
        (
            i.media_id
            for i in after
            if i.media_type == "IMAGE" and i.record is not None and i.record.asset_id in s_ids
        ),
        None,
    )
    for asset_id, old in replacing.items():
        new_id = media_of_asset.get(asset_id)
        if new_id is None or new_id == old.media_id:
            continue
        for variant_id, media_id in state.variant_images.items():
            if media_id == old.media_id:  # the variant follows its image to the new version
                ops.variant_images.append(AssignVariantImage(variant_id, new_id, media_id))
                variant_images[variant_id] = new_id
    if settings.assign_variant_images and first_image is not None:
        for variant_id in variant_ids:
            previous = variant_images.get(variant_id)
            if previous != first_image:
                ops.variant_images.append(AssignVariantImage(variant_id, first_image, previous))
                variant_images[variant_id] = first_image

    swatch_refs = dict(state.swatch_refs)
    swatch_rows = _plan_swatches(
        ops,
        swatch_refs,
        product_id,
        swatches,
        variant_ids,
        settings,
        dict(store_files or {}),
        taken,
    )

    rows = _gallery_rows(product_id, before, after, s, ops, reused_ids, created_ids)
    after_state = ProductState(product_id, tuple(after), variant_images, swatch_refs)
    return ProductPlan(product_id, state, after_state, ops, rows + swatch_rows)


def _plan_swatches(
    ops: Operations,
    swatch_refs: dict[str, tuple[str, ...]],
    product_id: str,
    swatches: Sequence[SwatchAsset],
    variant_ids: Sequence[str],
    settings: LinkSettings,
    store_files: dict[tuple[str, int, str], str],
    taken: set[str],
) -> list[ReportRow]:
    if not swatches:
        return []  # a product without swatches keeps whatever its metafield holds
    file_ids: list[str] = []
    created: set[str] = set()
    for swatch in swatches:
        file_id = store_files.get(swatch.identity)
        if file_id is None:
            file_id = store_files[swatch.identity] = _placeholder("file", swatch.identity, taken)
            ops.swatch_files.append(CreateSwatchFile(file_id, *swatch.identity, swatch.generated))
            created.add(file_id)
        file_ids.append(file_id)
    refs = tuple(dict.fromkeys(file_ids))
    changed = False
    for owner_id in variant_ids or (product_id,):
        if swatch_refs.get(owner_id) != refs:
            ops.swatch_metafields.append(
                SetSwatchMetafield(owner_id, settings.swatch_namespace, settings.swatch_key, refs)
            )
            swatch_refs[owner_id] = refs
            changed = True
    return [
        ReportRow(
            product_id,
            ReportAction.SWATCH if changed or file_id in created else ReportAction.UNCHANGED,
            swatch.asset_id,
            swatch.public_id,
            swatch.group,
            media_id=file_id,
            message=generated_swatch_message(swatch),
        )
        for swatch, file_id in zip(swatches, file_ids, strict=True)
    ]


def generated_swatch_message(swatch: SwatchAsset) -> str:
    if not swatch.generated:
        return ""
    return (
        f"Swatch generated from the product image {swatch.public_id or swatch.asset_id} "
        f"({swatch.transformation})."
    )


def _gallery_rows(
    product_id: str,
    before: list[GalleryItem],
    after: list[GalleryItem],
    s: list[AssetToLink],
    ops: Operations,
    reused_ids: dict[str, str],
    created_ids: dict[str, str],
) -> list[ReportRow]:
    pos_before = {item.media_id: n for n, item in enumerate(before, 1)}
    pos_after = {item.media_id: n for n, item in enumerate(after, 1)}
    moved = {m.media_id for m in ops.moves}
    alt_updated = {u.media_id for u in ops.alt_updates}
    media_of = {asset_id: media_id for media_id, asset_id in {**reused_ids, **created_ids}.items()}
    unlinked = [item for item in before if item.media_id not in pos_after]
    # The first unlinked media of an asset that got new media is what the new media replaced.
    replaced: dict[str, GalleryItem] = {}
    for item in unlinked:
        if item.record is not None and item.record.asset_id in created_ids.values():
            replaced.setdefault(item.record.asset_id, item)
    rows = []
    for asset in s:
        media_id = media_of[asset.asset_id]
        previous = replaced.get(asset.asset_id)
        if media_id in created_ids:
            action = ReportAction.REPLACED if previous else ReportAction.CREATED
        elif media_id in alt_updated:
            action = ReportAction.ALT_UPDATED
        elif media_id in moved:
            action = ReportAction.MOVED
        elif pos_before[media_id] != pos_after[media_id]:
            action = ReportAction.REUSED  # kept in place; others around it came or went
        else:
            action = ReportAction.UNCHANGED
        previous_id = previous.media_id if previous else None
        rows.append(
            ReportRow(
                product_id,
                action,
                asset.asset_id,
                asset.public_id,
                asset.group,
                media_id,
                previous_id,
                pos_before.get(previous_id or media_id),
                pos_after[media_id],
            )
        )
    replaced_ids = {item.media_id for item in replaced.values()}
    for item in unlinked:
        if item.media_id in replaced_ids:
            continue
        rows.append(
            ReportRow(
                product_id,
                ReportAction.UNLINKED,
                item.record.asset_id if item.record else None,
                media_id=item.media_id,
                position_before=pos_before[item.media_id],
            )
        )
    return rows
