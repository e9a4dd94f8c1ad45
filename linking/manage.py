"""Manage links: what AssetLink linked (per store, product or asset), and unlink or re-link it.

Every action is a link run whose work is generated here instead of by a dry run: each product's
work names the media to unlink or the assets to re-link *in place* (``plan_product(in_place=…)``),
so the link executor carries it out with its guarantees — create before destroy, rollback,
resume, a report, undo, and "delete unreferenced created files" when Setup turns it on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from assetlink_project.errors import ApplicationError
from linking.core import AssetToLink, LinkSettings
from linking.executor import ProductWork
from linking.models import CatalogProduct, PlanStore
from linking.models import LinkRecord as LinkRecordRow
from reports.models import Run, RunProduct
from reports.selectors import with_work
from stores.models import Store, Workspace
from stores.services import SWATCH_FIELDS, setup_for_run

UNLINK, RELINK = "unlink", "relink"
LIST_LIMIT = 500


@dataclass
class LinkSelection:
    """Which links an action takes: every filter given narrows it; ``all`` takes every link
    of the stores (and is required when no filter is given, so an empty body unlinks nothing)."""

    media_ids: Sequence[str] = ()
    product_ids: Sequence[str] = ()
    asset_ids: Sequence[str] = ()
    groups: Sequence[str] = ()
    """Group values (e.g. SKUs): the links of the assets each linking plan grouped under them."""
    all: bool = False
    record_ids: Sequence[int] = ()
    """Link records by id (the Django admin's selected rows)."""

    def check(self) -> None:
        if not (
            self.media_ids
            or self.product_ids
            or self.asset_ids
            or self.groups
            or self.record_ids
            or self.all
        ):
            raise ApplicationError(
                "Say which links: media_ids, product_ids, asset_ids or groups, or all: true for "
                "every link of the stores."
            )


@dataclass
class Started:
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What was left out, and why (current links, assets gone from Cloudinary)."""


# --- reading ---------------------------------------------------------------------------------


def links_of(
    stores: QuerySet[Store],
    *,
    product_ids: Iterable[str] = (),
    asset_ids: Iterable[str] = (),
    media_ids: Iterable[str] = (),
    groups: Iterable[str] = (),
    record_ids: Iterable[int] = (),
    products_only: bool = False,
) -> QuerySet[LinkRecordRow]:
    """Link records of ``stores`` (the caller's reach), narrowed by the filters given. Records
    of no product are files AssetLink put in Files (swatches)."""
    qs = LinkRecordRow.objects.filter(store__in=stores).select_related("store")
    if groups := list(groups):
        qs = qs.filter(_of_groups(stores, groups))
    if product_ids := list(product_ids):
        qs = qs.filter(product_id__in=product_ids)
    if asset_ids := list(asset_ids):
        qs = qs.filter(asset_id__in=asset_ids)
    if media_ids := list(media_ids):
        qs = qs.filter(media_id__in=media_ids)
    if record_ids := list(record_ids):
        qs = qs.filter(pk__in=record_ids)
    if products_only:
        qs = qs.exclude(product_id="")
    return qs.order_by("store__shop_domain", "product_id", "created_at", "pk")


def _of_groups(stores: QuerySet[Store], values: list[str]) -> Q:
    """The links whose asset the plan that linked it grouped under one of ``values`` in that
    store (its dry-run result names each group's assets), values compared case-insensitively."""
    wanted = {v.casefold() for v in values}
    members: dict[tuple[int, int], set[str]] = defaultdict(set)
    linking_plans = LinkRecordRow.objects.filter(store__in=stores).values("plan_id")
    results = PlanStore.objects.filter(store__in=stores, plan_id__in=linking_plans).values_list(
        "plan_id", "store_id", "groups"
    )
    for plan_id, store_id, groups in results:
        for group in groups or ():
            if str(group.get("value", "")).casefold() in wanted:
                members[(plan_id, store_id)].update(group.get("assets") or ())
    match = Q(pk__in=[])
    for (plan_id, store_id), asset_ids in members.items():
        match |= Q(plan_id=plan_id, store_id=store_id, asset_id__in=sorted(asset_ids))
    return match


@dataclass
class ProductInfo:
    handle: str = ""
    title: str = ""
    variant_ids: list[str] = field(default_factory=list)


def _products(records: Sequence[LinkRecordRow]) -> dict[tuple[int, str], ProductInfo]:
    """Handle, title and matched variants of the records' products: from the runs that linked
    them (their work names the variants whose image they set), else the catalog index."""
    wanted = {(r.store_id, r.product_id) for r in records if r.product_id}
    out: dict[tuple[int, str], ProductInfo] = {}
    if not wanted:
        return out
    # Each record's (run, product): one indexed read of those products' work, not every
    # product of every run that linked them.
    stores = {r.run_id: r.store_id for r in records if r.run_id and r.product_id}
    ran = RunProduct.objects.filter(
        run_id__in=list(stores), product_id__in=list({p for _, p in wanted})
    ).only("pk", "run_id", "product_id", "work")
    for row in with_work(ran.order_by("-run_id", "id")):  # the newest run first, as before
        key = (stores[row.run_id], row.product_id)
        if key in wanted and row.work:
            info = out.setdefault(key, ProductInfo())
            info.handle = info.handle or row.work.get("handle") or ""
            info.title = info.title or row.work.get("title") or ""
            info.variant_ids += [
                v for v in row.work.get("variant_ids") or () if v not in info.variant_ids
            ]
    rows = CatalogProduct.objects.filter(
        catalog__store_id__in={s for s, _ in wanted},
        product_id__in={p for _, p in wanted},
    ).select_related("catalog")
    for row in rows:
        info = out.setdefault((row.catalog.store_id, row.product_id), ProductInfo())
        info.handle, info.title = info.handle or row.handle, info.title or row.title
        info.variant_ids += [
            v["id"] for v in row.variants or () if v.get("id") and v["id"] not in info.variant_ids
        ]
    return out


def link_json(
    record: LinkRecordRow, product: ProductInfo | None, latest: dict[str, int] | None
) -> dict:
    newest = latest.get(record.asset_id) if latest is not None else None
    if latest is None:
        state = "linked"
    elif newest is None:
        state = "asset_missing"
    elif newest > record.version:
        state = "outdated"
    else:
        state = "current"
    return {
        "id": record.pk,
        "store": record.store.shop_domain,
        "kind": "product_media" if record.product_id else "file",
        "product_id": record.product_id,
        "product_handle": getattr(product, "handle", ""),
        "product_title": getattr(product, "title", ""),
        "media_id": record.media_id,
        "asset_id": record.asset_id,
        "version": record.version,
        "latest_version": newest,
        "transformation": record.transformation,
        "alt": record.alt,
        "status": state,
        "run": record.run_id,
        "plan": record.plan_id,
        "linked_at": record.updated_at,
    }


def links_listing(
    records: QuerySet[LinkRecordRow], *, workspace: Workspace, check_versions: bool, cloud=None
) -> dict:
    """At most :data:`LIST_LIMIT` links as JSON, with each asset's newest version from
    Cloudinary when ``check_versions`` (status ``current``, ``outdated`` or ``asset_missing``)."""
    count = records.count()
    page = list(records[:LIST_LIMIT])
    latest = None
    if check_versions and page:
        latest = _newest_versions(workspace, [r.asset_id for r in page], cloud=cloud)[0]
    products = _products(page)
    links = [link_json(r, products.get((r.store_id, r.product_id)), latest) for r in page]
    stores: dict[str, int] = defaultdict(int)
    for domain in records.values_list("store__shop_domain", flat=True):
        stores[domain] += 1
    return {"count": count, "stores": dict(stores), "links": links}


def _newest_versions(workspace, asset_ids: Sequence[str], cloud=None):
    from stores.cloudinary.client import CloudinaryClient

    cloud = cloud or CloudinaryClient.for_workspace(workspace)
    resolution = cloud.resolve_asset_ids(list(dict.fromkeys(asset_ids)))
    return {a.asset_id: int(a.version) for a in resolution.assets}, resolution, cloud


# --- actions ---------------------------------------------------------------------------------


def _link_settings(workspace: Workspace) -> LinkSettings:
    setup = setup_for_run(workspace, SWATCH_FIELDS)
    return LinkSettings(
        assign_variant_images=False,
        swatch_namespace=setup.swatch_metafield_namespace,
        swatch_key=setup.swatch_metafield_key,
    )


def _selected(stores: QuerySet[Store], selection: LinkSelection) -> dict[Store, list]:
    selection.check()
    records = links_of(
        stores,
        product_ids=selection.product_ids,
        asset_ids=selection.asset_ids,
        media_ids=selection.media_ids,
        groups=selection.groups,
        record_ids=selection.record_ids,
        products_only=True,
    )
    by_store: dict[Store, list[LinkRecordRow]] = defaultdict(list)
    for record in records:
        by_store[record.store].append(record)
    if not by_store:
        raise ApplicationError("No link of the stores you reach matches this selection.")
    return by_store


def _start(store, works: list[ProductWork], urls: dict, rows: list[dict], user, action: str):
    from linking import runs

    return runs.run_start(
        store=store, works=works, urls=urls, rows=rows, user=user, link_mode=action
    )


def _by_product(records: Sequence[LinkRecordRow]) -> dict[str, list[LinkRecordRow]]:
    out: dict[str, list[LinkRecordRow]] = defaultdict(list)
    for record in records:
        out[record.product_id].append(record)
    return out


def _work(store, product_id: str, settings: LinkSettings, products, **kwargs) -> ProductWork:
    product = products.get((store.pk, product_id)) or ProductInfo()
    return ProductWork(
        product_id,
        settings=settings,
        # The variants are read with the gallery, so their images follow re-linked media.
        variant_ids=list(product.variant_ids),
        handle=product.handle,
        title=product.title,
        in_place=True,
        **kwargs,
    )


def unlink_start(
    *, workspace: Workspace, stores: QuerySet[Store], selection: LinkSelection, user=None
) -> Started:
    """One run per store that unlinks the selected media from their products (the files stay
    in Files unless Setup's "delete unreferenced created files" is on)."""
    settings = _link_settings(workspace)
    started = Started()
    for store, records in _selected(stores.filter(workspace=workspace), selection).items():
        products = _products(records)
        works = [
            _work(store, pid, settings, products, unlink=[r.media_id for r in group])
            for pid, group in _by_product(records).items()
        ]
        started.runs.append(_start(store, works, {}, [], user, UNLINK))
    return started


def relink_start(
    *,
    workspace: Workspace,
    stores: QuerySet[Store],
    selection: LinkSelection,
    user=None,
    cloud=None,
) -> Started:
    """One run per store that re-links the selected media whose asset has a newer version in
    Cloudinary: the new version's media takes the old one's place (position, alt, variant
    images), then the old media is unlinked. Links already current are left alone."""
    from linking.runs import identity_key

    settings = _link_settings(workspace)
    by_store = _selected(stores.filter(workspace=workspace), selection)
    ids = [r.asset_id for records in by_store.values() for r in records]
    _, resolution, cloud = _newest_versions(workspace, ids, cloud=cloud)
    assets = {a.asset_id: a for a in resolution.assets}
    started = Started()
    current = missing = twice = 0
    for store, records in by_store.items():
        products = _products(records)
        works, urls, rows = [], {}, []
        for pid, group in _by_product(records).items():
            s: list[AssetToLink] = []
            replaces: dict[str, str] = {}  # only the selected media: others of the asset stay
            for record in group:
                asset = assets.get(record.asset_id)
                if asset is None:
                    missing += 1
                    rows.append(_missing_row(record, products))
                    continue
                if int(asset.version) <= record.version:
                    current += 1
                    continue
                video = asset.resource_type == "video"
                link = AssetToLink(
                    asset.asset_id, int(asset.version), record.transformation, record.alt,
                    "VIDEO" if video else "IMAGE", asset.public_id,
                )  # fmt: skip
                if any(a.asset_id == link.asset_id for a in s):
                    twice += 1  # one asset twice on a product: its first media is re-linked
                    continue
                s.append(link)
                replaces[record.media_id] = link.asset_id
                urls[identity_key(*link.identity)] = cloud.delivery_url(
                    asset, transformation=record.transformation
                )
            if s:
                works.append(_work(store, pid, settings, products, assets=s, replaces=replaces))
        if works:
            started.runs.append(_start(store, works, urls, rows, user, RELINK))
    if current:
        started.notes.append(f"{current} link(s) already use the newest version; left as they are.")
    if missing:
        started.notes.append(
            f"{missing} link(s) are of assets Cloudinary no longer has; left as they are "
            "(unlink them instead)."
        )
    if twice:
        started.notes.append(
            f"{twice} link(s) are a second media of an asset on the same product; only the "
            "first was re-linked (re-link again for the next)."
        )
    if not started.runs:
        raise ApplicationError(
            "Nothing to re-link: " + " ".join(started.notes or ["no link matched."])
        )
    return started


def _missing_row(record: LinkRecordRow, products) -> dict:
    product = products.get((record.store_id, record.product_id))
    name = getattr(product, "handle", "") or record.product_id
    # A row of no product: the product's own rows are replaced as the run finishes it.
    return {
        "product_id": None,
        "action": "skipped",
        "asset_id": record.asset_id,
        "media_id": record.media_id,
        "message": f"Not re-linked on {name}: Cloudinary no longer has this asset; its media "
        "stays on the product.",
    }
