"""Reads of runs and their reports, scoped to what a request may see."""

from __future__ import annotations

from django.db.models import QuerySet

from reports.models import Run
from stores import selectors as store_selectors


def runs_for_request(request) -> QuerySet[Run]:
    """Runs the request may see. ``work`` (the run's whole input, megabytes for a big run) is
    left out: reading progress costs the same whatever the run's size."""
    return (
        Run.objects.filter(store__in=store_selectors.stores_for_request(request))
        .select_related("store")
        .defer("work")
    )
