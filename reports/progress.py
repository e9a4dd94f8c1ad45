"""A run's progress as its executor counts it (plain Python: executors import it without
Django)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from threading import Lock


@dataclass
class Progress:
    phase: str = "queued"
    ops_done: int = 0
    ops_total: int = 0
    products_done: int = 0
    products_total: int = 0
    failures: int = 0
    lock: Lock = field(default_factory=Lock, repr=False, compare=False)

    def add(self, **deltas) -> None:
        with self.lock:
            for key, value in deltas.items():
                setattr(self, key, getattr(self, key) + value)

    def snapshot(self) -> dict:
        with self.lock:
            return {k: v for k, v in vars(self).items() if k != "lock"}


def nap(seconds: float, *, should_abort: Callable[[], bool], sleep=time.sleep) -> None:
    """Sleep, waking early for an abort (so it is honoured within seconds)."""
    end = time.monotonic() + seconds
    while not should_abort():
        left = end - time.monotonic()
        if left <= 0:
            return
        sleep(min(left, 0.25))
