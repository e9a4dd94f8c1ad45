"""A worker killed right after Shopify answered a call: the real client (HTTP to the emulator),
wrapped so that the answer to the named mutation (or to any call) arrives and then the worker
"dies" (a BaseException nothing in the engine catches: no clean-up, nothing recorded)."""

from __future__ import annotations

import threading

from reports.engine import default_client


class WorkerKilled(BaseException):
    """The worker died (like SIGKILL: no ``except Exception`` sees it)."""


class KilledAfter:
    """Delegates everything to ``client``; raises :class:`WorkerKilled` once Shopify has
    answered the ``times``-th call of a mutation with root field ``mutation`` (``None``: the
    ``times``-th call of any operation). A dead worker sends nothing more: every call after
    that (from any of the run's threads) raises it too, before it goes out. Calls of the
    mutations in ``spare`` are neither counted nor died after."""

    def __init__(self, client, mutation: str | None, times: int = 1, spare: tuple[str, ...] = ()):
        self._client, self._mutation, self._left = client, mutation, times
        self._spare = spare
        self._lock = threading.Lock()
        self.dead = False

    def execute(self, operation, variables=None, **kwargs):
        if self.dead:
            raise WorkerKilled("the worker is dead")
        result = self._client.execute(operation, variables, **kwargs)
        with self._lock:
            if self.dead:
                raise WorkerKilled("the worker is dead")
            if any(m in operation.payloads for m in self._spare):
                return result
            if self._mutation is None or self._mutation in operation.payloads:
                self._left -= 1
                if self._left == 0:
                    self.dead = True
                    raise WorkerKilled(f"worker killed after {operation.name}'s answer arrived")
        return result

    def __getattr__(self, name):
        return getattr(self._client, name)


def killed_after(mutation: str | None, times: int = 1, spare: tuple[str, ...] = ()):
    """A ``client_for`` for ``execute_run`` / ``execute_upload_run``."""
    return lambda store: KilledAfter(default_client(store), mutation, times, spare)
