"""Sending many Admin API calls of one run: independent calls at once, and batches whose
userErrors set some inputs aside.

`ConcurrentSender` sends independent operations from a few threads. Only HTTP happens there:
the caller's thread reads the answers and does every database write (journal, records), so
"journal before the mutation" holds as before. All threads share the client's `ThrottleBucket`
(thread-safe), which paces them, so Shopify's cost bucket, not the number of threads, is the
bound; `workers` only has to cover the latency of the calls in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from .errors import ShopifyError

NOT_SENT = object()
"""The answer of a call that `send_all`'s ``skip`` kept from being sent (an abort)."""


def _close_thread_connections() -> None:
    """A token refresh may read or write the Store from a pool thread: its connection is that
    thread's own, closed when the call is done (none is left to time out or leak)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()


class ConcurrentSender:
    def __init__(self, client, *, workers: int = 8):
        self.client = client
        self.workers = max(1, int(workers))
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _call(self, operation, variables: dict, skip: Callable[[], bool] | None):
        if skip is not None and skip():
            return NOT_SENT
        try:
            return self.client.execute(operation, variables)
        except ShopifyError as exc:  # an answer like any other: the caller decides
            return exc
        finally:
            _close_thread_connections()

    def submit(
        self, operation, variables: dict, *, skip: Callable[[], bool] | None = None
    ) -> Future:
        """One call, sent from a pool thread; the future holds the `Result`, the
        `ShopifyError` it raised, or `NOT_SENT`. Anything else it raised is re-raised by
        ``future.result()``."""
        if self.workers == 1:
            future: Future = Future()
            try:
                skipped = skip is not None and skip()
                future.set_result(
                    NOT_SENT if skipped else self.client.execute(operation, variables)
                )
            except ShopifyError as exc:
                future.set_result(exc)
            except BaseException as exc:  # noqa: BLE001 - re-raised by future.result()
                future.set_exception(exc)
            return future
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="shopify-send")
            pool = self._pool
        return pool.submit(self._call, operation, variables, skip)

    def send_all(
        self,
        calls: Sequence[tuple[Hashable, object, dict]],
        *,
        skip: Callable[[], bool] | None = None,
    ) -> dict:
        """Independent calls ``(key, operation, variables)`` at once; per key the `Result`,
        the `ShopifyError` or `NOT_SENT` (``skip()`` was true when its turn came)."""
        if len(calls) == 1 or self.workers == 1:
            return {key: self.submit(op, v, skip=skip).result() for key, op, v in calls}
        futures = [(key, self.submit(op, v, skip=skip)) for key, op, v in calls]
        return {key: future.result() for key, future in futures}

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
