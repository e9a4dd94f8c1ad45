"""Undo planning: what gives a product its gallery before a run back.

Two steps, both pure:

1. :func:`undo_target` — from what the undone run recorded of the product (its state
   before and after, the media its report says it created, the files it deleted): the state
   to get back, which media the run added (the only media an undo may unlink) and which media
   of the state before cannot come back (their files are gone);
2. :func:`plan_restore` — from the product's gallery now and that target: the operations, in
   the executor's order (re-link before unlink, reorder, alt text, variant images, swatch
   metafields: set back to their value before, deleted where the owner had none), and the
   state they lead to. A rollback of a failed product uses the same
   function with no ``removable`` restriction (everything the product did not have goes).

:func:`apply_restore` models Shopify applying a :class:`RestorePlan` (for the properties).
Media added by someone else since the run stay, after the restored gallery; media the run
did not add are never unlinked.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace

from .gallery import ProductState
from .operations import AssignVariantImage, DeleteSwatchMetafield, SetSwatchMetafield


@dataclass(frozen=True)
class UndoTarget:
    restore: ProductState
    """The state to get back: the undone run's state before."""
    added: frozenset[str]
    """Media the undone run added to the product (the undo unlinks these, and only these)."""
    gone: tuple[str, ...] = ()
    """Media of ``restore`` the undone run deleted: they cannot be linked again."""
    swatch_owners: frozenset[str] | None = None
    """Owners whose swatch metafield the undone run changed (the undo gives back only those);
    None when the run recorded no state after."""


@dataclass(frozen=True)
class RestorePlan:
    target: tuple[str, ...]
    """The gallery's media ids in their final order."""
    unlinks: tuple[str, ...] = ()
    relinks: tuple[str, ...] = ()
    """Files of the state before that are not on the product: linked again (before unlinks)."""
    alts: dict[str, str] = field(default_factory=dict)
    variant_images: tuple[AssignVariantImage, ...] = ()
    variant_detaches: tuple[tuple[str, str], ...] = ()
    """(variant id, media id): images to take off variants that had none before."""
    swatch_metafields: tuple[SetSwatchMetafield, ...] = ()
    swatch_deletes: tuple[DeleteSwatchMetafield, ...] = ()
    """Swatch metafields on owners that had none in the state restored."""

    def __bool__(self) -> bool:
        return bool(
            self.unlinks
            or self.relinks
            or self.alts
            or self.variant_images
            or self.variant_detaches
            or self.swatch_metafields
            or self.swatch_deletes
        )


def undo_target(
    before: ProductState,
    after: ProductState | None = None,
    *,
    created: Iterable[str] = (),
    deleted: Collection[str] = (),
) -> UndoTarget:
    """What the undo of one product aims at. ``after``: the undone run's state after (None
    when it did not record one); ``created``: media ids its report says it created or
    replaced; ``deleted``: files it deleted (delete unreferenced created files)."""
    had = {i.media_id for i in before.gallery}
    added = set(created)
    owners = None
    if after is not None:
        added.update(i.media_id for i in after.gallery)
        owners = frozenset(
            owner
            for owner in {*before.swatch_refs, *after.swatch_refs}
            if tuple(before.swatch_refs.get(owner, ())) != tuple(after.swatch_refs.get(owner, ()))
        )
    return UndoTarget(
        before,
        frozenset(added - had),
        tuple(i.media_id for i in before.gallery if i.media_id in deleted),
        owners,
    )


def plan_restore(
    current: ProductState,
    restore: ProductState,
    *,
    gone: Collection[str] = (),
    removable: Collection[str] | None = None,
    swatch_namespace: str = "",
    swatch_key: str = "",
    swatch_owners: Collection[str] | None = None,
) -> RestorePlan:
    """The operations that take ``current`` back to ``restore`` (without the ``gone`` media).

    ``removable``: the media that may be unlinked (an undo: those its run added); None: any
    media ``restore`` does not have (a rollback). Media kept although ``restore`` lacks them
    go after the restored gallery, in their current order. ``swatch_owners``: the owners whose
    swatch metafield may be given back (an undo: those its run changed; None: any). A metafield
    is deleted only on an owner ``restore`` was read with (the product, or a variant of its
    ``variant_images``) and had none: an owner it never read may have one of its own."""
    now = {i.media_id: i for i in current.gallery}
    wanted = {i.media_id: i for i in restore.gallery if i.media_id not in gone}
    unlinks = tuple(m for m in now if m not in wanted and (removable is None or m in removable))
    kept = tuple(m for m in now if m not in wanted and m not in unlinks)
    present = set(wanted) | set(kept)
    alts = {}
    for media_id, item in wanted.items():
        have = now.get(media_id)
        # Re-linked files kept their alt; only media still on the product may differ.
        if have is not None and item.alt is not None and (have.alt or "") != item.alt:
            alts[media_id] = item.alt
    assigns, detaches = [], []
    for variant_id, media_id in restore.variant_images.items():
        was = current.variant_images.get(variant_id)
        if was == media_id:
            continue
        if media_id is None:
            if was is not None and was in present:
                detaches.append((variant_id, was))
            continue
        if media_id in gone:
            continue
        assigns.append(AssignVariantImage(variant_id, media_id, was if was in present else None))

    def may(owner: str) -> bool:
        return swatch_owners is None or owner in swatch_owners

    metafields = tuple(
        SetSwatchMetafield(owner, swatch_namespace, swatch_key, tuple(refs))
        for owner, refs in restore.swatch_refs.items()
        if refs and may(owner) and tuple(current.swatch_refs.get(owner, ())) != tuple(refs)
    )
    read = {restore.product_id, *restore.variant_images}
    deletes = tuple(
        DeleteSwatchMetafield(owner, swatch_namespace, swatch_key)
        for owner, refs in current.swatch_refs.items()
        if refs and may(owner) and owner in read and not restore.swatch_refs.get(owner)
    )
    return RestorePlan(
        tuple(wanted) + kept,
        unlinks,
        tuple(m for m in wanted if m not in now),
        alts,
        tuple(assigns),
        tuple(detaches),
        metafields,
        deletes,
    )


def apply_restore(current: ProductState, plan: RestorePlan, restore: ProductState) -> ProductState:
    """The state after Shopify applies ``plan`` to ``current`` (re-linked files come back as
    ``restore`` had them)."""
    items = {i.media_id: i for i in current.gallery}
    items.update({i.media_id: i for i in restore.gallery if i.media_id in plan.relinks})
    for media_id in plan.unlinks:
        del items[media_id]
    for media_id, alt in plan.alts.items():
        item = items[media_id]
        record = replace(item.record, alt=alt) if item.record else None
        items[media_id] = replace(item, alt=alt, record=record)
    gallery = tuple(items[m] for m in plan.target)
    # Unlinking media clears it from the variants that used it.
    variant_images = {v: (m if m in items else None) for v, m in current.variant_images.items()}
    for variant_id, _ in plan.variant_detaches:
        variant_images[variant_id] = None
    for assign in plan.variant_images:
        variant_images[assign.variant_id] = assign.media_id
    swatch_refs = dict(current.swatch_refs)
    for metafield in plan.swatch_metafields:
        swatch_refs[metafield.owner_id] = metafield.file_ids
    for deleted in plan.swatch_deletes:
        swatch_refs.pop(deleted.owner_id, None)
    return ProductState(current.product_id, gallery, variant_images, swatch_refs)
