"""The runs' figures in /metrics (registered with :mod:`assetlink_project.metrics` by the app
config): runs by kind and status, products and operations done, Shopify calls, points and
THROTTLED answers summed over the runs kept, and the age of the stalest running heartbeat."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from reports.models import Run

_RUN_SUMS = {
    "products_done": ("assetlink_run_products_done", "Products done by runs."),
    "ops_done": ("assetlink_run_operations_done", "Gallery operations done by runs."),
    "calls": ("assetlink_run_shopify_calls", "Shopify API calls made by runs."),
    "points_actual": ("assetlink_run_shopify_points", "Shopify query cost points spent by runs."),
    "throttled": ("assetlink_run_throttled", "THROTTLED answers Shopify gave runs."),
    "failures": ("assetlink_run_failures", "Products or files that failed in runs."),
}


def run_figures():
    """Runs by kind and status, the sums over the runs kept, the stalest running heartbeat."""
    runs = GaugeMetricFamily(
        "assetlink_runs",
        "Runs kept in the database, by kind and status.",
        labels=["kind", "status"],
    )
    sums = {
        field: GaugeMetricFamily(name, help_ + " Sum over the runs kept.", labels=["kind"])
        for field, (name, help_) in _RUN_SUMS.items()
    }
    rows = (
        Run.objects.order_by()
        .values("kind", "status")
        .annotate(n=Count("id"), **{f"sum_{field}": Sum(field) for field in _RUN_SUMS})
    )
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        runs.add_metric([row["kind"], row["status"]], row["n"])
        kind_totals = totals.setdefault(row["kind"], dict.fromkeys(_RUN_SUMS, 0))
        for field in _RUN_SUMS:
            kind_totals[field] += row[f"sum_{field}"] or 0
    for kind, values in totals.items():
        for field, value in values.items():
            sums[field].add_metric([kind], value)
    yield runs
    yield from sums.values()
    oldest = Run.objects.filter(status=Run.Status.RUNNING).order_by("heartbeat_at").first()
    age = GaugeMetricFamily(
        "assetlink_run_heartbeat_age_seconds",
        "Seconds since the stalest heartbeat of a running run (0: none running).",
    )
    beat = oldest and (oldest.heartbeat_at or oldest.started_at)
    age.add_metric([], (timezone.now() - beat).total_seconds() if beat else 0)
    yield age
