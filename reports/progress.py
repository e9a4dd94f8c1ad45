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
    phase_seconds: dict[str, float] = field(default_factory=dict, repr=False, compare=False)
    """Wall seconds per phase shown (summed over waves), while `clock` runs."""
    clock: Callable[[], float] | None = field(default=None, repr=False, compare=False)
    _phase_started: float | None = field(default=None, repr=False, compare=False)
    _clock_lock: Lock = field(default_factory=Lock, repr=False, compare=False)

    def __setattr__(self, name: str, value) -> None:
        # Executors mark their phase boundaries by setting `phase` (some under `lock`): the
        # time since the previous boundary is the previous phase's.
        if name == "phase" and self.__dict__.get("clock") is not None:
            self._close_phase()
        object.__setattr__(self, name, value)

    def start_clock(self, clock: Callable[[], float] = time.monotonic) -> None:
        object.__setattr__(self, "clock", clock)
        object.__setattr__(self, "_phase_started", clock())

    def stop_clock(self) -> dict[str, float]:
        """Stops timing phases; returns the seconds per phase."""
        if self.clock is not None:
            self._close_phase()
            object.__setattr__(self, "clock", None)
        return dict(self.phase_seconds)

    def _close_phase(self) -> None:
        with self._clock_lock:  # not `lock`: `phase` may be set while holding it
            now = self.clock()
            started = self._phase_started if self._phase_started is not None else now
            seconds = self.phase_seconds.get(self.phase, 0.0) + now - started
            self.phase_seconds[self.phase] = seconds
            object.__setattr__(self, "_phase_started", now)

    def add(self, **deltas) -> None:
        with self.lock:
            for key, value in deltas.items():
                setattr(self, key, getattr(self, key) + value)

    def snapshot(self) -> dict:
        with self.lock:
            return {k: v for k, v in vars(self).items() if k in _COUNTS}


_COUNTS = ("phase", "ops_done", "ops_total", "products_done", "products_total", "failures")


def nap(seconds: float, *, should_abort: Callable[[], bool], sleep=time.sleep) -> None:
    """Sleep, waking early for an abort (so it is honoured within seconds)."""
    end = time.monotonic() + seconds
    while not should_abort():
        left = end - time.monotonic()
        if left <= 0:
            return
        sleep(min(left, 0.25))
