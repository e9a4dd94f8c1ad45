"""Reads of plans and their dry-run results, scoped to what a request may see."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO

from django.db.models import QuerySet

from linking.models import Plan, PlanStore
from stores.selectors import workspaces_for, workspaces_for_request

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
    """Plans of the workspaces the request may see (others: 404)."""
    return Plan.objects.filter(workspace__in=workspaces_for_request(request))


def plans_for(user) -> QuerySet[Plan]:
    return Plan.objects.filter(workspace__in=workspaces_for(user))


def plan_results(plan: Plan, store: str | None = None) -> QuerySet[PlanStore]:
    results = plan.results.select_related("store").order_by("store__shop_domain")
    if store:
        results = results.filter(store__shop_domain=store.lower())
    return results


def effective_transformation(plan: Plan) -> dict:
    """The image transformation the plan's new media get: the batch's, or Setup's default."""
    from stores.services import settings_for

    if plan.image_transformation:
        return {"value": plan.image_transformation, "source": "batch"}
    return {"value": settings_for(plan.workspace).default_image_transformation, "source": "setup"}


def count(n: int, word: str) -> str:
    """``1 asset``, ``2 assets``, ``1,000 assets``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def link_button(assets: int, groups: int, products: int) -> str:
    """The Link button's words: "Link 1 asset in 1 group to 2 products"."""
    return (
        f"Link {count(assets, 'asset')} in {count(groups, 'group')} to {count(products, 'product')}"
    )


def plan_summary(plan: Plan) -> dict:
    """What the Link button says: X assets in Y groups to Z products (over every store)."""
    assets: set[str] = set()
    groups: set[str] = set()
    products = operations = 0
    stores = []
    for result in plan_results(plan):
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
        "unresolved_asset_ids": list(plan.unresolved_asset_ids or ()),
        "image_transformation": effective_transformation(plan),
        "button": link_button(len(assets), len(groups), products),
        "stores": stores,
    }


def report_rows(plan: Plan) -> Iterable[dict]:
    """The dry run's rows; ``transformation`` is that of the media the asset has after it."""
    for result in plan_results(plan):
        transformations = {
            (p["product_id"], item["asset_id"]): item.get("transformation") or ""
            for p in result.products
            for item in p["after"]
            if item.get("asset_id")
        }
        for row in result.rows:
            key = (row.get("product_id"), row.get("asset_id"))
            yield {
                "store": result.store.shop_domain,
                "transformation": transformations.get(key, ""),
                **row,
            }


def write_report_csv(plan: Plan, out: IO[str]) -> int:
    """The dry-run report as CSV (one row per asset per product per store); returns rows."""
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in report_rows(plan):
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in REPORT_COLUMNS})
        count += 1
    return count
