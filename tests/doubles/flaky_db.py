"""A run's database write that fails once, as SQLite's "database is locked" does."""

from __future__ import annotations


def fail_a_write(patch, hooks: type, write: str, nth: int) -> dict:
    """The ``nth`` call of the run's database write ``write`` (a method of its ``hooks``
    class) fails once with ``OperationalError``; answers what happened: ``{"calls", "raised"}``."""
    from django.db import OperationalError

    original = getattr(hooks, write)
    seen = {"calls": 0, "raised": False}

    def hook(self, *args, **kwargs):
        seen["calls"] += 1
        if seen["calls"] == nth:
            seen["raised"] = True
            raise OperationalError("database is locked")
        return original(self, *args, **kwargs)

    patch.setattr(hooks, write, hook)
    return seen


def fault_schedule(mutations: list[str], writes: list[str], max_nth: int) -> dict:
    """Hypothesis strategies of a run's fault schedule (keyword arguments of ``@given``): the
    emulator's faults (``faults_body``) and a database write that fails (``fail_a_write``)."""
    from hypothesis import strategies as st

    return {
        "seed": st.integers(0, 10_000),
        "rates": st.fixed_dictionaries({m: st.sampled_from([0.0, 0.1, 0.3]) for m in mutations}),
        "lost": st.fixed_dictionaries({m: st.sampled_from([0.0, 0.0, 0.2]) for m in mutations}),
        "lost_mode": st.sampled_from(["http_500", "drop"]),
        "http_500": st.sampled_from([0.0, 0.05]),
        "throttled": st.sampled_from([0.0, 0.1]),
        "db_error": st.one_of(
            st.none(), st.tuples(st.sampled_from(writes), st.integers(1, max_nth))
        ),
    }


def faults_body(store, seed, rates, lost, lost_mode, http_500, throttled) -> dict:
    """The Shopify emulator's faults (``POST /_control/faults``) of a schedule, on ``store``."""
    return {
        "seed": seed, "user_errors": rates, "http_500": http_500, "throttled": throttled,
        "lost_answers": lost, "lost_answer_mode": lost_mode, "shops": [store.shop_domain],
    }  # fmt: skip
