"""Galleries before: the media of every matched product, as the planner's ``ProductState``s.

Two paths, chosen by estimated cost (:func:`choose_path`):

- **nodes** — a few products: ``nodes(ids:)`` with ``media(first: MEDIA_FIRST)``, as many ids
  per call as the 1000-point maximum allows; only products with more media than that are
  paged (one ``product.media`` call each). Answers at once; costs ≈ 5 + 2 points per media.
- **bulk** — many products: one bulk export of their galleries (``products(query: "id:…")``)
  costs ≈ 10 points plus a point per poll whatever the number of products.

Media AssetLink placed are recognised by their ``LinkRecord`` (store + media id).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from common.transformations import normalise_transformation
from linking.core import GalleryItem, LinkRecord, ProductState
from linking.models import LinkRecord as LinkRecordRow
from stores.shopify import operations as ops
from stores.shopify.bulk import run_bulk_queries

MEDIA_FIRST = 10
PAGE_FIRST = 250
MAX_REQUESTED = 900  # under Shopify's 1000-point single-query maximum, with margin
VARIANTS_PER_CALL = 150
BULK_IDS_PER_EXPORT = 250
# Estimated media per product before we know (for the path choice only).
ASSUMED_MEDIA = 6
# Up to this many estimated points the nodes path answers at once for about the price of a
# bulk export's polling; above, one bulk export per 250 products is far cheaper.
NODES_MAX_POINTS = 300


@dataclass
class Galleries:
    states: dict[str, ProductState] = field(default_factory=dict)
    thumbnails: dict[str, str] = field(default_factory=dict)
    """Media id → image URL (images only)."""
    titles: dict[str, str] = field(default_factory=dict)
    path: str = ""
    reason: str = ""
    missing: list[str] = field(default_factory=list)
    """Products that could not be read (deleted since the catalog index was refreshed)."""


def choose_path(n_products: int) -> tuple[str, str]:
    per_product = 5 + 2 * ASSUMED_MEDIA
    nodes_points = n_products * per_product
    if nodes_points <= NODES_MAX_POINTS:
        return "nodes", (f"{n_products} products: nodes(ids:) calls, about {nodes_points} points.")
    exports = math.ceil(n_products / BULK_IDS_PER_EXPORT)
    return "bulk", (
        f"{n_products} products: about {nodes_points} points by nodes(ids:), so "
        f"{exports} bulk export{'s' if exports > 1 else ''} (about {exports * 20} points)."
    )


def _swatch_refs(metafield: dict | None) -> tuple[str, ...] | None:
    if not metafield or metafield.get("value") in (None, ""):
        return None
    try:
        value = json.loads(metafield["value"])
    except ValueError:
        return None
    return tuple(str(v) for v in value) if isinstance(value, list) else None


def _records(store, media_ids: Iterable[str]) -> dict[str, LinkRecord]:
    ids = list(media_ids)
    out: dict[str, LinkRecord] = {}
    for start in range(0, len(ids), 500):
        for row in LinkRecordRow.objects.filter(store=store, media_id__in=ids[start : start + 500]):
            out[row.media_id] = LinkRecord(
                row.asset_id, row.version, normalise_transformation(row.transformation), row.alt
            )
    return out


def read_galleries(
    client,
    store,
    product_ids: Sequence[str],
    *,
    variant_ids: Sequence[str] = (),
    swatch_metafield: tuple[str, str] = ("cloudinary", "swatch"),
    path: str | None = None,
    **bulk_kwargs,
) -> Galleries:
    """The galleries of `product_ids` (and, for a variant-field match, the image and swatch
    metafield of `variant_ids`)."""
    chosen, reason = choose_path(len(product_ids))
    path = path or chosen
    raw: dict[str, dict] = {}
    if path == "nodes":
        _read_nodes(client, product_ids, swatch_metafield, raw)
        _read_variants(client, variant_ids, swatch_metafield, raw)
    else:
        _read_bulk(client, product_ids, swatch_metafield, raw, **bulk_kwargs)
    records = _records(store, (m["id"] for p in raw.values() for m in p["media"]))
    galleries = Galleries(path=path, reason=reason)
    for pid in product_ids:
        data = raw.get(pid)
        if data is None:
            galleries.missing.append(pid)
            continue
        items = []
        for media in data["media"]:
            record = records.get(media["id"])
            items.append(
                GalleryItem(
                    media["id"],
                    media.get("status") or "READY",
                    media.get("alt"),
                    media.get("mediaContentType") or "IMAGE",
                    record,
                )
            )
            url = ((media.get("image") or {}).get("url")) or ""
            if url:
                galleries.thumbnails[media["id"]] = url
        swatch_refs = {
            owner: refs for owner, refs in data["swatch_refs"].items() if refs is not None
        }
        galleries.states[pid] = ProductState(
            pid, tuple(items), dict(data["variant_images"]), swatch_refs
        )
    return galleries


def _new(raw: dict[str, dict], pid: str) -> dict:
    return raw.setdefault(pid, {"media": [], "variant_images": {}, "swatch_refs": {}})


def _read_nodes(client, product_ids, swatch_metafield, raw) -> None:
    namespace, key = swatch_metafield
    base = {"mediaFirst": MEDIA_FIRST, "swatchNamespace": namespace, "swatchKey": key}
    per_product = client.expected_cost(ops.PLAN_GALLERIES, {**base, "ids": ["x"]})
    batch = max(1, MAX_REQUESTED // max(1, per_product))
    ids = list(product_ids)
    to_page: list[tuple[str, str]] = []
    for start in range(0, len(ids), batch):
        result = client.execute(ops.PLAN_GALLERIES, {**base, "ids": ids[start : start + batch]})
        for node in result.data.get("nodes") or ():
            if not node or "id" not in node:
                continue
            data = _new(raw, node["id"])
            data["swatch_refs"][node["id"]] = _swatch_refs(node.get("metafield"))
            connection = node.get("media") or {}
            data["media"].extend(connection.get("nodes") or ())
            page = connection.get("pageInfo") or {}
            if page.get("hasNextPage"):
                to_page.append((node["id"], page.get("endCursor")))
    for pid, cursor in to_page:
        while cursor:
            result = client.execute(
                ops.PLAN_GALLERY_PAGE, {"id": pid, "first": PAGE_FIRST, "after": cursor}
            )
            connection = ((result.data.get("product") or {}).get("media")) or {}
            raw[pid]["media"].extend(connection.get("nodes") or ())
            page = connection.get("pageInfo") or {}
            cursor = page.get("endCursor") if page.get("hasNextPage") else None


def _read_variants(client, variant_ids, swatch_metafield, raw) -> None:
    namespace, key = swatch_metafield
    ids = list(dict.fromkeys(variant_ids))
    for start in range(0, len(ids), VARIANTS_PER_CALL):
        result = client.execute(
            ops.PLAN_VARIANTS,
            {"ids": ids[start : start + VARIANTS_PER_CALL], "swatchNamespace": namespace,
             "swatchKey": key},
        )  # fmt: skip
        for node in result.data.get("nodes") or ():
            if not node or "id" not in node:
                continue
            pid = (node.get("product") or {}).get("id")
            if pid not in raw:
                continue
            data = raw[pid]
            first = ((node.get("media") or {}).get("nodes")) or []
            data["variant_images"][node["id"]] = first[0]["id"] if first else None
            data["swatch_refs"][node["id"]] = _swatch_refs(node.get("metafield"))


def _read_bulk(client, product_ids, swatch_metafield, raw, **bulk_kwargs) -> None:
    """One export per BULK_IDS_PER_EXPORT products, run overlapped (run_bulk_queries)."""
    ids = list(product_ids)
    queries = []
    for start in range(0, len(ids), BULK_IDS_PER_EXPORT):
        chunk = ids[start : start + BULK_IDS_PER_EXPORT]
        search = " OR ".join(f"id:{pid.rsplit('/', 1)[-1]}" for pid in chunk)
        queries.append(
            ops.bulk_products_query(ops.GALLERY_EXPORT, search, swatch_metafield=swatch_metafield)
        )
    for lines in run_bulk_queries(client, queries, **bulk_kwargs):
        variants: dict[str, str] = {}  # variant id → product id
        for line in lines:
            gid = line.get("id") or ""
            parent = line.get("__parentId")
            if parent is None:
                data = _new(raw, gid)
                data["swatch_refs"][gid] = _swatch_refs(line.get("metafield"))
            elif "/ProductVariant/" in gid:
                variants[gid] = parent
                data = _new(raw, parent)
                data["variant_images"].setdefault(gid, None)
                data["swatch_refs"][gid] = _swatch_refs(line.get("metafield"))
            elif parent in variants:
                images = raw[variants[parent]]["variant_images"]
                if images.get(parent) is None:
                    images[parent] = gid  # a variant's first media is its image
            elif parent in raw:
                raw[parent]["media"].append(line)
