"""What linking does when a store is erased (`shop/redact`, `stores.signals.store_erasing`)."""

from __future__ import annotations

from django.dispatch import receiver

from linking.models import Plan
from stores import signals


@receiver(signals.store_erasing, dispatch_uid="linking.erase_plans_of_store")
def erase_plans_of_store(sender, store, **kwargs) -> None:
    """Plans of this store only are deleted; a plan that also names other stores loses this
    store (its per-store results cascade with the store) and any message naming it. Link
    records and the catalog index go with the store row (database cascades)."""
    plans = Plan.objects.filter(stores=store)
    for plan in plans.prefetch_related("stores"):
        if all(s.pk == store.pk for s in plan.stores.all()):
            plan.delete()
        elif store.shop_domain in plan.error:
            plan.error = plan.error.replace(store.shop_domain, "an erased store")
            plan.save(update_fields=["error"])
