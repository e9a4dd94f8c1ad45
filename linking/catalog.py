"""Catalog access per store: the products a selection's group values may match.

Two paths, chosen per store by estimated cost (:func:`choose_path`) and recorded in the plan:

- **search** — a small selection on a searchable field: batched `productVariants`/`products`
  search queries, many quoted values per query joined with `OR`. Shopify's search is
  approximate (tokenized, case-insensitive), so the returned products only feed a
  :class:`CatalogIndex` and the core re-checks every hit exactly.
- **index** — a large selection, a field Shopify cannot search reliably (metafields), or a
  large catalog for a tokenized field: the store's catalog index (``StoreCatalog``), built by a
  bulk operation export and refreshed incrementally with ``updated_at:>…``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from linking.core import CatalogIndex, Product, ShopifyField, ShopifyFieldKind, Variant
from linking.core.catalog import numeric_product_id
from linking.models import CatalogProduct, StoreCatalog
from stores.shopify import operations as ops
from stores.shopify.bulk import run_bulk_query

logger = logging.getLogger(__name__)

# Search: values per query (Shopify caps query text length; 25 short values stay far below)
# and the page size (variants or products per call).
VALUES_PER_QUERY = 25
SEARCH_PAGE_SIZE = 50
# Beyond this many search calls, one bulk export (≈10 points + polls) is cheaper and the index
# it leaves serves the next plans too.
MAX_SEARCH_CALLS = 20
# Tokenized fields (title, tag) return many near misses in a big catalog: use the index.
LARGE_CATALOG_PRODUCTS = 20_000
# An index refreshed this recently is used as it is (no export at all): back-to-back dry runs
# of one session cost no catalog points.
INDEX_FRESH_SECONDS = 120
BULK_POLL_POINTS = 1
BULK_RUN_POINTS = 10

_SEARCH_FIELDS = {
    ShopifyFieldKind.VARIANT_SKU: ("variants", "sku"),
    ShopifyFieldKind.VARIANT_BARCODE: ("variants", "barcode"),
    ShopifyFieldKind.PRODUCT_HANDLE: ("products", "handle"),
    ShopifyFieldKind.PRODUCT_TITLE: ("products", "title"),
    ShopifyFieldKind.PRODUCT_TAG: ("products", "tag"),
    ShopifyFieldKind.PRODUCT_ID: ("products", "id"),
}
_TOKENIZED = {ShopifyFieldKind.PRODUCT_TITLE, ShopifyFieldKind.PRODUCT_TAG}


@dataclass(frozen=True)
class CatalogChoice:
    path: str  # "search" | "index"
    reason: str
    estimated_points: int
    estimated_calls: int


def search_query(kind: ShopifyFieldKind, values: Iterable[str]) -> str:
    """`sku:"A" OR sku:"B"`: values quoted, quotes and backslashes escaped."""
    _, name = _SEARCH_FIELDS[kind]
    parts = []
    for value in values:
        if kind is ShopifyFieldKind.PRODUCT_ID:
            digits = numeric_product_id(value)
            if digits.isdigit():
                parts.append(f"id:{digits}")
            continue
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        parts.append(f'{name}:"{escaped}"')
    return " OR ".join(parts)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _search_variables(kind: ShopifyFieldKind, query: str, after: str | None = None) -> dict:
    scope, _ = _SEARCH_FIELDS[kind]
    variables: dict = {"query": query, "first": SEARCH_PAGE_SIZE, "after": after}
    if scope == "products":
        variables.update(variantsFirst=0, mediaFirst=0)
    return variables


def _search_operation(kind: ShopifyFieldKind):
    scope, _ = _SEARCH_FIELDS[kind]
    return ops.PRODUCT_VARIANTS_SEARCH if scope == "variants" else ops.PRODUCTS_SEARCH


def choose_path(
    shopify_field: ShopifyField, values: list[str], catalog: StoreCatalog | None, client
) -> CatalogChoice:
    """Search or index, by estimated Shopify cost (and what search can answer exactly)."""
    bulk_points = BULK_RUN_POINTS + 10 * BULK_POLL_POINTS
    if is_fresh(catalog):
        return CatalogChoice(
            "index",
            f"The catalog index was refreshed less than {INDEX_FRESH_SECONDS} s ago: no "
            "Shopify call needed.",
            0,
            0,
        )
    if shopify_field.kind not in _SEARCH_FIELDS:
        return CatalogChoice(
            "index",
            f"{shopify_field} cannot be searched reliably (Shopify ignores metafield filters "
            "without a filterable definition), so the catalog index is used.",
            bulk_points,
            12,
        )
    with_comma = next((v for v in values if "," in v), None)
    if with_comma is not None:
        return CatalogChoice(
            "index",
            f"The value {with_comma[:80]!r} has a comma, which Shopify's search reads as a list "
            "of values: the catalog index matches it exactly.",
            bulk_points,
            12,
        )
    calls = max(1, math.ceil(len(values) / VALUES_PER_QUERY))
    op = _search_operation(shopify_field.kind)
    per_call = client.expected_cost(op, _search_variables(shopify_field.kind, "x"))
    points = calls * per_call
    size = catalog.product_count if catalog is not None and catalog.built_at else None
    if shopify_field.kind in _TOKENIZED and size is not None and size > LARGE_CATALOG_PRODUCTS:
        return CatalogChoice(
            "index",
            f"{shopify_field} is matched by words in Shopify's search; in a catalog of {size} "
            "products the index is cheaper and exact.",
            bulk_points,
            12,
        )
    if calls > MAX_SEARCH_CALLS:
        return CatalogChoice(
            "index",
            f"{len(values)} values need {calls} search calls (about {points} points); one "
            f"bulk export (about {bulk_points} points) refreshes the catalog index instead.",
            bulk_points,
            12,
        )
    return CatalogChoice(
        "search",
        f"{len(values)} values fit in {calls} batched search call{'s' if calls > 1 else ''} "
        f"(at most {points} points requested).",
        points,
        calls,
    )


def is_fresh(catalog: StoreCatalog | None) -> bool:
    if catalog is None or catalog.built_at is None or catalog.refreshed_at is None:
        return False
    return (timezone.now() - catalog.refreshed_at).total_seconds() < INDEX_FRESH_SECONDS


# --- search path --------------------------------------------------------------------------


def search_products(client, shopify_field: ShopifyField, values: list[str]) -> list[Product]:
    """Candidate products for `values` through batched search queries (re-checked later)."""
    kind = shopify_field.kind
    op = _search_operation(kind)
    products: dict[str, dict] = {}
    for chunk in _chunks(list(dict.fromkeys(values)), VALUES_PER_QUERY):
        query = search_query(kind, chunk)
        if not query:
            continue
        after = None
        while True:
            result = client.execute(op, _search_variables(kind, query, after))
            if op is ops.PRODUCT_VARIANTS_SEARCH:
                connection = result.data.get("productVariants") or {}
                for node in connection.get("nodes") or ():
                    product = node.get("product") or {}
                    entry = products.setdefault(
                        product["id"],
                        {"handle": product.get("handle") or "", "title": product.get("title")},
                    )
                    entry.setdefault("variants", {})[node["id"]] = Variant(
                        node["id"], node.get("sku") or None, node.get("barcode") or None
                    )
            else:
                connection = result.data.get("products") or {}
                for node in connection.get("nodes") or ():
                    products[node["id"]] = {
                        "handle": node.get("handle") or "",
                        "title": node.get("title") or "",
                        "tags": tuple(node.get("tags") or ()),
                    }
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            after = page.get("endCursor")
    return [
        Product(
            pid,
            handle=data.get("handle") or "",
            title=data.get("title") or "",
            tags=data.get("tags", ()),
            variants=tuple((data.get("variants") or {}).values()),
        )
        for pid, data in products.items()
    ]


def _kind(gid: str) -> str:
    return gid.split("/")[3] if gid.startswith("gid://") and gid.count("/") >= 4 else ""


def products_from_export(lines: list[dict]) -> list[dict]:
    """CatalogExport JSONL → product rows: {id, handle, title, tags, updatedAt, metafields,
    variants: [{id, sku, barcode, metafields}]}."""
    products: dict[str, dict] = {}
    variants: dict[str, dict] = {}
    for line in lines:
        parent = line.get("__parentId")
        gid = line.get("id") or ""
        if parent is None and _kind(gid) == "Product":
            products[gid] = {
                "id": gid,
                "handle": line.get("handle") or "",
                "title": line.get("title") or "",
                "tags": list(line.get("tags") or ()),
                "updatedAt": line.get("updatedAt") or "",
                "metafields": {},
                "variants": [],
            }
        elif _kind(gid) == "ProductVariant" and parent in products:
            variant = {
                "id": gid,
                "sku": line.get("sku") or None,
                "barcode": line.get("barcode") or None,
                "metafields": {},
            }
            variants[gid] = variant
            products[parent]["variants"].append(variant)
        elif "namespace" in line and "key" in line:
            owner = products.get(parent) or variants.get(parent)
            if owner is not None:
                owner["metafields"][f"{line['namespace']}.{line['key']}"] = line.get("value")
    return list(products.values())


def refresh_catalog(store, client, **bulk_kwargs) -> StoreCatalog:
    """Build the store's catalog index, or bring it up to date with the products updated since
    the last export. Deleted products stay until a full rebuild; their galleries cannot be
    read, so the plan skips them with a message."""
    catalog, _ = StoreCatalog.objects.get_or_create(store=store)
    incremental = bool(catalog.built_at and catalog.source_updated_at)
    # >= : products updated in the newest second seen may not all have been exported yet
    search = f"updated_at:>='{catalog.source_updated_at}'" if incremental else ""
    rows = products_from_export(
        run_bulk_query(client, ops.bulk_products_query(ops.CATALOG_EXPORT, search), **bulk_kwargs)
    )
    with transaction.atomic():
        catalog = StoreCatalog.objects.select_for_update().get(pk=catalog.pk)
        ids = [row["id"] for row in rows]
        if incremental:
            for chunk in _chunks(ids, 500):
                CatalogProduct.objects.filter(catalog=catalog, product_id__in=chunk).delete()
        else:
            CatalogProduct.objects.filter(catalog=catalog).delete()
        CatalogProduct.objects.bulk_create(
            [
                CatalogProduct(
                    catalog=catalog,
                    product_id=row["id"],
                    handle=row["handle"][:255],
                    title=row["title"][:255],
                    tags=row["tags"],
                    metafields=row["metafields"],
                    variants=row["variants"],
                    updated_at=row["updatedAt"],
                )
                for row in rows
            ],
            batch_size=1000,
        )
        now = timezone.now()
        if not incremental:
            catalog.built_at = now
        catalog.refreshed_at = now
        newest = max((row["updatedAt"] for row in rows if row["updatedAt"]), default="")
        catalog.source_updated_at = max(catalog.source_updated_at, newest)
        products = CatalogProduct.objects.filter(catalog=catalog)
        catalog.product_count = products.count()
        catalog.variant_count = sum(len(v) for v in products.values_list("variants", flat=True))
        catalog.save()
    return catalog


def load_index(catalog: StoreCatalog) -> CatalogIndex:
    """The catalog index of a store, from its rows."""
    return CatalogIndex(
        product_from_row(row)
        for row in CatalogProduct.objects.filter(catalog=catalog)
        .order_by("id")
        .values("product_id", "handle", "title", "tags", "metafields", "variants")
        .iterator(chunk_size=2000)
    )


def product_from_row(row: dict) -> Product:
    return Product(
        row["product_id"],
        handle=row["handle"],
        title=row["title"],
        tags=tuple(row["tags"] or ()),
        metafields=row["metafields"] or {},
        variants=tuple(
            Variant(v["id"], v.get("sku"), v.get("barcode"), v.get("metafields") or {})
            for v in row["variants"] or ()
        ),
    )


@dataclass
class CatalogResult:
    index: CatalogIndex
    choice: CatalogChoice


def catalog_for(store, client, shopify_field: ShopifyField, values: list[str]) -> CatalogResult:
    """The products `values` may match in `store`, by the cheaper path."""
    catalog = StoreCatalog.objects.filter(store=store).first()
    choice = choose_path(shopify_field, values, catalog, client)
    if choice.path == "search":
        return CatalogResult(CatalogIndex(search_products(client, shopify_field, values)), choice)
    if choice.estimated_calls:
        catalog = refresh_catalog(store, client)
    return CatalogResult(load_index(catalog), choice)


def forget_products(store, product_ids: list[str]) -> None:
    """Drop products from the index that Shopify no longer has (an incremental export cannot
    see deletions; reading their galleries can)."""
    if product_ids:
        CatalogProduct.objects.filter(catalog__store=store, product_id__in=product_ids).delete()
