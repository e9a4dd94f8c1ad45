"""The WSGI application gunicorn serves (assetlink_project.wsgi)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_application_is_loaded_whole_and_out_of_the_garbage_collectors_reach():
    # In a process of its own, as a gunicorn worker imports it: the views are imported before
    # the first request, and what loading made (~140,000 objects, there for the process's
    # life) is frozen, so that no request pays for a full collection scanning all of it.
    code = (
        "import gc, sys; import assetlink_project.wsgi; "
        "print(gc.get_freeze_count(), len(gc.get_objects()), "
        "all(m in sys.modules for m in ('stores.api', 'linking.api', 'reports.api', 'uploads.api')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    frozen, tracked, views_loaded = done.stdout.split()
    assert views_loaded == "True"
    assert int(frozen) > 50_000
    assert int(tracked) < int(frozen) // 10
