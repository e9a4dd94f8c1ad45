"""What uploads do when a store is erased (`shop/redact`, `stores.signals.store_erasing`)."""

from __future__ import annotations

from django.dispatch import receiver

from stores import signals
from uploads.models import UploadBatch


@receiver(signals.store_erasing, dispatch_uid="uploads.erase_batches_of_store")
def erase_batches_of_store(sender, store, **kwargs) -> None:
    """Batches of this store only are deleted; a batch that also names other stores loses
    this store's dry run (kept by shop domain) and any message naming it. Upload records
    and items go with the store's row and runs (database cascades)."""
    for batch in UploadBatch.objects.filter(stores=store).prefetch_related("stores"):
        if all(s.pk == store.pk for s in batch.stores.all()):
            batch.delete()
            continue
        batch.dry_run.pop(store.shop_domain, None)
        batch.error = batch.error.replace(store.shop_domain, "an erased store")
        batch.save(update_fields=["dry_run", "error"])
