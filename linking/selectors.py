"""Reads of plans and their dry-run results, scoped to what a request may see."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import IO

from django.core.cache import cache
from django.db.models import QuerySet

from linking.models import Plan, PlanStore
from reports.csv import stream_csv
from stores.models import Store
from stores.selectors import is_narrowed, stores_for_request, workspaces_for, workspaces_for_request

REPORT_COLUMNS = (
    "store",
    "product_id",
    "handle",
    "title",
    "group",
    "asset_id",
    "public_id",
    "action",
    "position_before",
    "position_after",
    "media_id",
    "previous_media_id",
    "message",
    "transformation",
)


def plans_for_request(request) -> QuerySet[Plan]:
    """Plans of the workspaces the request may see (others: 404); a session token or API key
    sees the plans that include its store."""
    plans = Plan.objects.filter(workspace__in=workspaces_for_request(request))
    if is_narrowed(request):
        plans = plans.filter(stores__in=stores_for_request(request)).distinct()
    return plans


def plans_for(user) -> QuerySet[Plan]:
    return Plan.objects.filter(workspace__in=workspaces_for(user))


def plan_results(
    plan: Plan, store: str | None = None, scope: QuerySet[Store] | None = None
) -> QuerySet[PlanStore]:
    """The plan's per-store results; `scope` (the caller's stores) leaves out the others."""
    results = plan.results.select_related("store").order_by("store__shop_domain")
    if store:
        results = results.filter(store__shop_domain=store.lower())
    if scope is not None:
        results = results.filter(store__in=scope)
    return results


def effective_transformation(plan: Plan) -> dict:
    """The image transformation the plan's new media get: the batch's, or Setup's default."""
    from stores.services import settings_for

    if plan.image_transformation:
        return {"value": plan.image_transformation, "source": "batch"}
    return {"value": settings_for(plan.workspace).default_image_transformation, "source": "setup"}


def counted(n: int, word: str) -> str:
    """``1 asset``, ``2 assets``, ``1,000 assets``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def link_button(assets: int, groups: int, products: int) -> str:
    """The Link button's words: "Link 1 asset in 1 group to 2 products"."""
    return (
        f"Link {counted(assets, 'asset')} in {counted(groups, 'group')} to "
        f"{counted(products, 'product')}"
    )


def plan_summary(plan: Plan, scope: QuerySet[Store] | None = None) -> dict:
    """What the Link button says: X assets in Y groups to Z products (over every store).

    Counting reads every store's groups and products (the largest part of a dry run), so the
    counts are cached per version of the results in scope: a dry run writes new rows (new ids)."""
    results = plan_results(plan, scope=scope)
    versions = list(results.order_by("pk").values_list("pk", "planned_at"))
    key = "assetlink:plan-summary:" + hashlib.sha256(repr((plan.pk, versions)).encode()).hexdigest()
    summary = cache.get(key)
    if summary is None:
        # The report rows (the largest column) are not needed for the summary.
        summary = _plan_summary(results.defer("rows"))
        cache.set(key, summary, timeout=3600)
    return {
        **summary,
        "unresolved_asset_ids": list(plan.unresolved_asset_ids or ()),
        "image_transformation": effective_transformation(plan),
    }


def _plan_summary(results: QuerySet[PlanStore]) -> dict:
    assets: set[str] = set()
    groups: set[str] = set()
    products = operations = 0
    stores = []
    for result in results:
        for group in result.groups:
            if group["matched"]:
                groups.add(group["value"])
                assets.update(group["assets"])
        products += len(result.products)
        operations += sum(p["operation_count"] for p in result.products)
        stores.append(
            {
                "store": result.store.shop_domain,
                "catalog_path": result.catalog_path,
                "catalog_reason": result.catalog_reason,
                "galleries_path": result.galleries_path,
                "statistics": result.statistics,
                "products_changed": sum(1 for p in result.products if p["operation_count"]),
                "operations": sum(p["operation_count"] for p in result.products),
                "shopify_points": result.shopify_points,
                "shopify_calls": result.shopify_calls,
                "error": result.error,
            }
        )
    return {
        "assets": len(assets),
        "groups": len(groups),
        "products": products,
        "operations": operations,
        "button": link_button(len(assets), len(groups), products),
        "stores": stores,
    }


def report_rows(plan: Plan, scope: QuerySet[Store] | None = None) -> Iterable[dict]:
    """The dry run's rows; ``transformation`` is that of the media the asset has after it."""
    for result in plan_results(plan, scope=scope):
        transformations = {
            (p["product_id"], item["asset_id"]): item.get("transformation") or ""
            for p in result.products
            for item in p.get("after") or ()
            if item.get("asset_id")
        }
        for row in result.rows:
            key = (row.get("product_id"), row.get("asset_id"))
            yield {
                "store": result.store.shop_domain,
                "transformation": transformations.get(key, ""),
                **row,
            }


def write_report_csv(plan: Plan, out: IO[str], scope: QuerySet[Store] | None = None) -> int:
    """The dry-run report as CSV (one row per asset per product per store); returns rows."""
    count = 0

    def rows():
        nonlocal count
        for row in report_rows(plan, scope):
            count += 1
            yield ["" if row.get(k) is None else row.get(k) for k in REPORT_COLUMNS]

    for chunk in stream_csv(REPORT_COLUMNS, rows()):
        out.write(chunk)
    return count


def store_files(store) -> dict[tuple[str, int, str], str]:
    """The files AssetLink put in the store's Files (swatches): identity → Shopify file id.
    Dry runs and runs plan against them, so a known swatch file is never planned again."""
    from linking.models import LinkRecord

    return {
        (r.asset_id, int(r.version), r.transformation): r.media_id
        for r in LinkRecord.objects.filter(store=store, product_id="")
    }
