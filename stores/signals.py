"""Hooks other apps connect to, so stores/ needs no knowledge of runs, reports or link records.

Receivers run inside the service's transaction; raising aborts the whole operation.

- `store_uninstalled(store)`: the app was uninstalled from the store. The run code must cancel
  the store's queued and running runs here (see `stores.services.store_cancel_runs`).
- `store_erasing(store)`: `shop/redact` — delete everything held about the store (runs,
  reports, link records, catalog indexes) before the store row itself is deleted.
"""

from django.dispatch import Signal

store_uninstalled = Signal()
store_erasing = Signal()
