"""What the runs layer does when a store goes away (receivers of `stores.signals`)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from reports.models import Run
from stores import signals

logger = logging.getLogger(__name__)


@receiver(signals.store_uninstalled, dispatch_uid="reports.abort_runs_of_uninstalled_store")
def abort_runs_of_uninstalled_store(sender, store, **kwargs) -> None:
    """Queued runs of the store end at once; running ones stop at their next safe point (a
    product or chunk boundary), as an abort from the page would."""
    from reports.registry import abort_run

    active = list(Run.objects.filter(store=store, status__in=Run.ACTIVE))
    for run in active:
        abort_run(run=run)
    if active:
        logger.info(
            "%s uninstalled: aborted runs %s", store.shop_domain, [run.pk for run in active]
        )
