"""Per-run phase timings, the pure part: the phase clock and the sum of a resumed run's attempts
(a real run's timings: tests/linking/runs/test_run_timings.py)."""

from __future__ import annotations

import itertools

from reports.progress import Progress
from reports.timings import merge


def test_each_phase_gets_the_time_until_the_next_phase_starts():
    ticks = itertools.count()
    progress = Progress(phase="starting")
    progress.start_clock(lambda: float(next(ticks)))  # 0
    progress.phase = "creating media"  # 1: starting took 1 s
    progress.phase = "waiting for Shopify to process media"  # 2
    progress.phase = "creating media"  # 3: the next wave
    assert progress.stop_clock() == {  # 4
        "starting": 1.0,
        "creating media": 2.0,
        "waiting for Shopify to process media": 1.0,
    }
    progress.phase = "succeeded"  # after the clock stopped: not counted
    assert "succeeded" not in progress.phase_seconds


def test_a_resumed_run_adds_its_attempts():
    first = {"seconds": 1.5, "phases": {"creating media": 1.0}, "attempts": 1}
    second = {"seconds": 2.0, "phases": {"creating media": 0.5, "reordering": 1.5}, "attempts": 1}
    assert merge(first, second) == {
        "seconds": 3.5,
        "phases": {"creating media": 1.5, "reordering": 1.5},
        "attempts": 2,
    }
