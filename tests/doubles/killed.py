"""A worker killed right after Shopify answered a mutation: the real client (HTTP to the
emulator), wrapped so that the first answer to the named mutation arrives and then the worker
"dies" (a BaseException nothing in the engine catches: no clean-up, nothing recorded)."""

from __future__ import annotations

from reports.engine import default_client


class WorkerKilled(BaseException):
    """The worker died (like SIGKILL: no ``except Exception`` sees it)."""


class KilledAfter:
    """Delegates everything to ``client``; raises :class:`WorkerKilled` once Shopify has
    answered the ``times``-th call of a mutation with root field ``mutation``."""

    def __init__(self, client, mutation: str, times: int = 1):
        self._client, self._mutation, self._left = client, mutation, times

    def execute(self, operation, variables=None, **kwargs):
        result = self._client.execute(operation, variables, **kwargs)
        if self._mutation in operation.payloads:
            self._left -= 1
            if self._left == 0:
                raise WorkerKilled(f"worker killed after {operation.name}'s answer arrived")
        return result

    def __getattr__(self, name):
        return getattr(self._client, name)


def killed_after(mutation: str, times: int = 1):
    """A ``client_for`` for ``execute_run`` / ``execute_upload_run``."""
    return lambda store: KilledAfter(default_client(store), mutation, times)
