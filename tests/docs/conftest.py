"""The documentation's recipes, run against the live app (tests/live_app.py): slow, as the
browser tests, because they start the app, both emulators and RQ workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live_app import demo, emulators, redis_url, worker  # noqa: F401


def pytest_collection_modifyitems(config, items):
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.path).startswith(here) and "live" in item.fixturenames:
            item.add_marker(pytest.mark.slow)
