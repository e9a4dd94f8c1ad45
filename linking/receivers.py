"""What linking does when a store is erased (`shop/redact`, `stores.signals.store_erasing`)."""

from __future__ import annotations

from django.dispatch import receiver

from linking.models import Plan
from stores import signals


@receiver(signals.store_erasing, dispatch_uid="linking.erase_plans_of_store")
def erase_plans_of_store(sender, store, **kwargs) -> None:
    """Plans of this store only are deleted; a plan that also names other stores loses this
    store (its per-store results cascade with the store) and any message naming it. Link
    records and the catalog index go with the store row (database cascades); its dry runs
    forget the store's progress and any error naming it."""
    plans = Plan.objects.filter(stores=store)
    for plan in plans.prefetch_related("stores"):
        if all(s.pk == store.pk for s in plan.stores.all()):
            plan.delete()
        elif store.shop_domain in plan.error:
            plan.error = plan.error.replace(store.shop_domain, "an erased store")
            plan.save(update_fields=["error"])
        if plan.pk is None:
            continue
        for dry_run in plan.dry_runs.all():
            dry_run.stores.pop(store.shop_domain, None)
            dry_run.error = dry_run.error.replace(store.shop_domain, "an erased store")
            dry_run.phase = dry_run.phase.replace(store.shop_domain, "an erased store")
            dry_run.save(update_fields=["stores", "error", "phase"])
