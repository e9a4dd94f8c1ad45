"""Where a run's time went: wall seconds per phase (the phases the run showed, summed over its
waves), and across phases the time spent in HTTP requests to Shopify, waiting for Shopify's
rate limit (pacing before a call and THROTTLED answers) and in the database (the run's own
thread). Stored on ``Run.timings`` (summed over a resumed run's attempts), shown in the API and
the admin, and logged as one JSON line when the run ends.

    timer = RunTimer(progress, client.ledger)
    timer.start(since=t0)  # in the run's thread, before the executor
    ...                    # the executor sets progress.phase at its phase boundaries
    timings = timer.stop(previous=run.timings)
"""

from __future__ import annotations

import contextlib
import logging
import time

from django.db import DatabaseError, connection

from reports.progress import Progress

logger = logging.getLogger(__name__)


class RunTimer:
    def __init__(self, progress: Progress, ledger, *, clock=time.monotonic):
        self.progress, self.ledger, self.clock = progress, ledger, clock
        self.database_seconds = 0.0
        self.database_queries = 0
        self._stack = contextlib.ExitStack()
        self._started: float | None = None

    def start(self, since: float | None = None) -> None:
        """`since`: when the job began (reading the run's work before the executor starts is
        the phase "preparing")."""
        self._started = self.clock()
        if since is not None:
            self.progress.phase_seconds["preparing"] = self._started - since
            self._started = since
        self.progress.start_clock(self.clock)
        self._stack.enter_context(connection.execute_wrapper(self._timed_query))

    def _timed_query(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.database_seconds += time.perf_counter() - started
            self.database_queries += 1

    def stop(self, previous: dict | None = None) -> dict:
        """This attempt's timings added to `previous` (an earlier attempt's, when resumed)."""
        self._stack.close()
        phases = self.progress.stop_clock()
        ledger = self.ledger
        now = {
            "seconds": self.clock() - self._started if self._started is not None else 0.0,
            "phases": phases,
            "shopify_http_seconds": getattr(ledger, "http_seconds", 0.0),
            "shopify_throttle_wait_seconds": getattr(ledger, "throttled_wait_seconds", 0.0)
            + getattr(ledger, "pacing_wait_seconds", 0.0),
            "database_seconds": self.database_seconds,
            "database_queries": self.database_queries,
            "attempts": 1,
        }
        return merge(previous or {}, now)


def merge(a: dict, b: dict) -> dict:
    """Sums of two attempts' timings (seconds rounded to milliseconds)."""
    out: dict = {}
    for key in dict.fromkeys([*a, *b]):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) or isinstance(y, dict):
            out[key] = merge(x or {}, y or {})
        elif isinstance(x, int | float) or isinstance(y, int | float):
            total = (x or 0) + (y or 0)
            out[key] = round(total, 3) if isinstance(total, float) else total
    return out


def finish(run, timer: RunTimer) -> dict:
    """Stop `timer`, add this attempt to the run's timings (best effort: a database that
    failed under the run may not take it) and log them as one line."""
    timings = timer.stop(previous=run.timings)
    with contextlib.suppress(DatabaseError):
        type(run).objects.filter(pk=run.pk).update(timings=timings)
        run.timings = timings
    phases = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in timings["phases"].items())
    logger.info(
        "Run %s took %.2fs (%s); Shopify HTTP %.2fs, rate-limit waits %.2fs, database %.2fs",
        run.pk,
        timings["seconds"],
        phases,
        timings["shopify_http_seconds"],
        timings["shopify_throttle_wait_seconds"],
        timings["database_seconds"],
        extra={"timings": timings},
    )
    return timings
