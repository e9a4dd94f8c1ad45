"""Hooks other apps connect to, so stores/ needs no knowledge of runs, reports or link records.

Receivers run inside the service's transaction; raising aborts the whole operation.

- `store_uninstalled(store)`: the app was uninstalled from the store (`stores.services.
  store_uninstall`). `reports.receivers` aborts the store's queued and running runs.
- `store_erasing(store)`: `shop/redact` — delete everything held about the store before the
  store row itself is deleted (`linking.receivers`: plans; `uploads.receivers`: upload batches).
"""

from django.dispatch import Signal

store_uninstalled = Signal()
store_erasing = Signal()
