"""Reads of plans and their dry-run results, scoped to what a request may see."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

from django.db.models import QuerySet

from linking.models import Plan, PlanProduct, PlanStore
from reports.csv import COLUMNS, stream_csv
from stores.models import Store, WorkspaceSettings
from stores.selectors import is_narrowed, stores_for_request, workspaces_for, workspaces_for_request

# The dry-run CSV has the run report's layout (reports.csv.COLUMNS, the one CSV layout), so a
# promise and its result compare column by column; the columns only a run fills (Shopify's
# media status, error code, an upload's file) stay empty. The dry run's rows name two of them
# as the planner does.
REPORT_COLUMNS = tuple(COLUMNS)
_ROW_KEYS = {"product_handle": "handle", "product_title": "title"}


def plans_for_request(request) -> QuerySet[Plan]:
    """Plans of the workspaces the request may see (others: 404); a session token or API key
    sees the plans that include its store."""
    plans = Plan.objects.filter(workspace__in=workspaces_for_request(request))
    if is_narrowed(request):
        plans = plans.filter(stores__in=stores_for_request(request)).distinct()
    return plans


def plans_listed(plans: QuerySet[Plan], fields: Iterable[str], scope: QuerySet[Store]) -> list:
    """`plans` as the API shows them: per plan a dict of `fields` (columns, as
    Plan.objects.values reads them, and `stores`: the domains of its stores within `scope`,
    the caller's). Two queries whatever the number of plans, and no model instance per plan
    or store."""
    columns = [name for name in fields if name != "stores"]
    rows = list(plans.values(*columns))
    domains = {row["id"]: [] for row in rows}
    links = (
        Plan.stores.through.objects.filter(plan_id__in=domains, store__in=scope)
        .order_by("store__shop_domain")
        .values_list("plan_id", "store__shop_domain")
    )
    for plan_id, domain in links:
        domains[plan_id].append(domain)
    return [
        {name: domains[row["id"]] if name == "stores" else row[name] for name in fields}
        for row in rows
    ]


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
    # Setup's column alone (one query; the workspace is not read), else Setup as made.
    default = (
        WorkspaceSettings.objects.filter(workspace_id=plan.workspace_id)
        .values_list("default_image_transformation", flat=True)
        .first()
    )
    if default is None:
        default = settings_for(plan.workspace).default_image_transformation
    return {"value": default, "source": "setup"}


def counted(n: int, word: str) -> str:
    """``1 asset``, ``2 assets``, ``1,000 assets``."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def link_button(assets: int, groups: int, products: int) -> str:
    """The Link button's words: "Link 1 asset in 1 group to 2 products"."""
    return (
        f"Link {counted(assets, 'asset')} in {counted(groups, 'group')} to "
        f"{counted(products, 'product')}"
    )


SUMMARY_FIELDS = (
    "store__shop_domain", "catalog_path", "catalog_reason", "galleries_path", "statistics",
    "product_count", "products_changed", "operations", "assets_matched", "shopify_points",
    "shopify_calls", "error",
)  # fmt: skip


# The plan's own columns plan_summary reads.
SUMMARY_PLAN_FIELDS = ("workspace", "totals", "unresolved_asset_ids", "image_transformation")


def plan_summary(plan: Plan, scope: QuerySet[Store] | None = None) -> dict:
    """What the Link button says: X assets in Y groups to Z products (over every store in
    scope), and each store's statistics. Reads only the counts the dry run stored (never the
    products, groups or rows), so it costs the same whatever the plan's size."""
    results = list(plan_results(plan, scope=scope).values("store_id", *SUMMARY_FIELDS))
    totals = plan.totals or {}
    if sorted(r["store_id"] for r in results) == sorted(totals.get("stores", ())):
        assets, groups = totals.get("assets", 0), totals.get("groups", 0)
    elif len(results) == 1:
        assets, groups = (
            results[0]["assets_matched"],
            results[0]["statistics"].get("groups_matched", 0),
        )
    else:  # some of several stores (a narrowed caller): count their groups' union
        assets, groups = _matched_union(plan_results(plan, scope=scope))
    products = sum(r["product_count"] for r in results)
    return {
        "assets": assets,
        "groups": groups,
        "products": products,
        "operations": sum(r["operations"] for r in results),
        "button": link_button(assets, groups, products),
        "stores": [
            {
                "store": r["store__shop_domain"],
                **{k: r[k] for k in SUMMARY_FIELDS[1:] if k != "assets_matched"},
            }
            for r in results
        ],
        "unresolved_asset_ids": list(plan.unresolved_asset_ids or ()),
        "image_transformation": effective_transformation(plan),
    }


def _matched_union(results: QuerySet[PlanStore]) -> tuple[int, int]:
    assets: set[str] = set()
    groups: set[str] = set()
    for value_groups in results.filter(error="").values_list("groups", flat=True):
        for group in value_groups:
            if group["matched"]:
                groups.add(group["value"])
                assets.update(group["assets"])
    return len(assets), len(groups)


RESULT_PAGE_SIZE = 10
RESULT_MAX_PAGE_SIZE = 250


def plan_result_page(
    plan: Plan,
    *,
    store: str | None = None,
    scope: QuerySet[Store] | None = None,
    page: int = 1,
    page_size: int = RESULT_PAGE_SIZE,
    include: frozenset[str] = frozenset(),
) -> list[dict]:
    """One page of each store's planned products (before/after, operations, warnings, and
    their report rows); ``include`` adds the store's ``groups`` and its other ``rows`` (every
    asset's fate: unmatched, excluded, unresolved)."""
    page_size = max(1, min(page_size, RESULT_MAX_PAGE_SIZE))
    page = max(1, page)
    fields = [*SUMMARY_FIELDS, "pk"]
    if "groups" in include:
        fields.append("groups")
    if "rows" in include:
        fields.append("static_rows")
    results = list(plan_results(plan, store, scope).values(*fields))
    # A page is a range of `seq` (0, 1, … per store): one query for every store's page.
    shown: dict[int, list[dict]] = {}
    for product in (
        PlanProduct.objects.filter(
            result_id__in=[r["pk"] for r in results],
            seq__gte=(page - 1) * page_size,
            seq__lt=page * page_size,
        )
        .order_by("result_id", "seq")
        .values("result_id", "data", "rows")
    ):
        shown.setdefault(product["result_id"], []).append(product)
    out = []
    for result in results:
        page_products = shown.get(result["pk"], [])
        entry = {
            "store": result["store__shop_domain"],
            **{k: result[k] for k in SUMMARY_FIELDS[1:]},
            "page": page,
            "page_size": page_size,
            "products": [p["data"] for p in page_products],
        }
        if "groups" in include:
            entry["groups"] = result["groups"]
        if "rows" in include:
            entry["rows"] = [row for p in page_products for row in p["rows"]] + result[
                "static_rows"
            ]
        out.append(entry)
    return out


def report_rows(plan: Plan, scope: QuerySet[Store] | None = None) -> Iterable[dict]:
    """The dry run's rows (``transformation``: that of the media the asset has after it),
    read product by product: the CSV streams, never holding the whole plan."""
    for result in plan_results(plan, scope=scope).only("pk", "store__shop_domain", "static_rows"):
        domain = result.store.shop_domain
        products = PlanProduct.objects.filter(result_id=result.pk).order_by("seq")
        for rows in products.values_list("rows", flat=True).iterator(chunk_size=500):
            for row in rows:
                yield {"store": domain, **row}
        for row in result.static_rows:
            yield {"store": domain, **row}


_ROW_CELLS = [_ROW_KEYS.get(column, column) for column in REPORT_COLUMNS]


def report_lines(
    plan: Plan, scope: QuerySet[Store] | None = None, counted: list[int] | None = None
) -> Iterator[str]:
    """The dry-run report as CSV text, a chunk at a time (for streaming responses): one row
    per asset per product per store. ``counted`` (a one-item list) gets the rows written."""
    count = 0

    def rows():
        nonlocal count
        for row in report_rows(plan, scope):
            count += 1
            yield ["" if value is None else value for value in map(row.get, _ROW_CELLS)]
        if counted is not None:
            counted[0] = count

    return stream_csv(REPORT_COLUMNS, rows())


def write_report_csv(plan: Plan, out: IO[str], scope: QuerySet[Store] | None = None) -> int:
    """The dry-run report as CSV written to ``out``; returns the rows written."""
    counted = [0]
    out.writelines(report_lines(plan, scope, counted))
    return counted[0]


def store_files(store) -> dict[tuple[str, int, str], str]:
    """The files AssetLink put in the store's Files (swatches): identity → Shopify file id.
    Dry runs and runs plan against them, so a known swatch file is never planned again."""
    from linking.models import LinkRecord

    return {
        (r.asset_id, int(r.version), r.transformation): r.media_id
        for r in LinkRecord.objects.filter(store=store, product_id="")
    }
