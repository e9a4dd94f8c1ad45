"""/metrics for Prometheus: runs by outcome, products and operations done, Shopify points spent,
THROTTLED seen (sums over the runs kept in the database), queue depths, RQ worker heartbeats,
the oldest heartbeat of a running run, and HTTP latency.

Run, queue and worker figures are read at scrape time (one aggregate query, a few Redis calls),
so every web process answers the same. HTTP latency is counted in each process; under gunicorn
`PROMETHEUS_MULTIPROC_DIR` (set by gunicorn.conf.py) merges the processes' figures.

Protected: `Authorization: Bearer $METRICS_TOKEN`, or a logged-in superuser. When the database
or Redis is down the answer is a 503 naming what is down (the checks of /healthz), not a 500.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterable

import redis
from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from assetlink_project import health

HTTP_LATENCY = Histogram(
    "assetlink_http_request_duration_seconds",
    "Time to answer an HTTP request, by route, method and status.",
    ["route", "method", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2, 5, 10),
    registry=None,
)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_LATENCY.labels(route=route or "/", method=method, status=str(status)).observe(seconds)


_FIGURES: list[Callable[[], Iterable]] = []


def register(figures: Callable[[], Iterable]) -> None:
    """An app adds figures read at scrape time (``reports`` its runs, from its app config), so
    this module imports no app."""
    if figures not in _FIGURES:
        _FIGURES.append(figures)


class AssetLinkCollector:
    """Figures read from the database and Redis at each scrape."""

    def collect(self):
        for figures in _FIGURES:
            yield from figures()
        yield from self._queues()

    def _queues(self):
        import django_rq
        from rq import Worker
        from rq.registry import FailedJobRegistry, StartedJobRegistry

        depth = GaugeMetricFamily("assetlink_queue_depth", "Jobs waiting.", labels=["queue"])
        started = GaugeMetricFamily("assetlink_queue_started", "Jobs running.", labels=["queue"])
        failed = GaugeMetricFamily("assetlink_queue_failed", "Failed jobs kept.", labels=["queue"])
        workers = GaugeMetricFamily(
            "assetlink_worker_heartbeat_timestamp_seconds",
            "Unix time of each RQ worker's last heartbeat.",
            labels=["worker", "queues", "state"],
        )
        seen: set[str] = set()
        for name in settings.RQ_QUEUES:
            queue = django_rq.get_queue(name)
            depth.add_metric([name], queue.count)
            started.add_metric([name], StartedJobRegistry(queue=queue).count)
            failed.add_metric([name], FailedJobRegistry(queue=queue).count)
            for worker in Worker.all(queue=queue):
                if worker.name in seen:
                    continue
                seen.add(worker.name)
                beat = worker.last_heartbeat
                workers.add_metric(
                    [worker.name, ",".join(worker.queue_names()), str(worker.get_state())],
                    beat.timestamp() if beat else 0,
                )
        yield from (depth, started, failed, workers)
        count = GaugeMetricFamily("assetlink_workers", "RQ workers registered in Redis.")
        count.add_metric([], len(seen))
        yield count
        yield self._drift()
        now = GaugeMetricFamily("assetlink_scrape_timestamp_seconds", "Unix time of this scrape.")
        now.add_metric([], time.time())
        yield now

    @staticmethod
    def _drift():
        from prometheus_client.core import CounterMetricFamily

        from stores.shopify import drift

        family = CounterMetricFamily(
            "assetlink_shopify_api_drift",
            "Shopify answers/webhooks in another Admin API version than configured (kind "
            "version) or flagging a deprecated use (kind deprecated), per store.",
            labels=["shop", "kind", "value"],
        )
        for (shop, kind, value), n in sorted(drift.counts().items()):
            family.add_metric([shop, kind, value], n)
        return family


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and offered and hmac.compare_digest(token, offered):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_superuser)


def metrics_view(request):
    if request.method != "GET":
        return HttpResponse(status=405, headers={"Allow": "GET"})
    if not _allowed(request):
        return HttpResponse(
            "Send Authorization: Bearer $METRICS_TOKEN, or log in as a superuser.\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(HTTP_LATENCY)
    registry.register(AssetLinkCollector())
    checks = health.checks()
    if all(state == "ok" for state in checks.values()):
        try:
            return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
        except redis.RedisError as exc:  # went down between the check and the scrape
            checks["redis"] = f"error: {type(exc).__name__}"
        except DatabaseError as exc:
            checks["database"] = f"error: {type(exc).__name__}"
    lines = [f"{name}: {state}" for name, state in checks.items()]
    return HttpResponse(
        "unavailable\n" + "\n".join(lines) + "\n", status=503, content_type="text/plain"
    )
