"""`make serve`: the production-like stack on this machine without containers — gunicorn and
`manage.py worker` processes per queue, on the PostgreSQL and Redis named by DATABASE_URL and
REDIS_URL. Migrates and collects static files first. Ctrl-C (or SIGTERM) stops all.

    DATABASE_URL=postgres://… REDIS_URL=redis://… make serve

Worker counts per queue: WORKERS_DRY_RUNS (default 1), WORKERS_LINKS (2), WORKERS_UPLOADS (1),
WORKERS_DEFAULT (1);
gunicorn's from WEB_CONCURRENCY / GUNICORN_THREADS / GUNICORN_WORKER_CLASS / PORT
(gunicorn.conf.py). A worker that exits is started again (a supervisor's job in production:
systemd, compose, Kubernetes).
"""

from __future__ import annotations

import os
import signal
import sys
import time

from assetlink_project.healthcheck import healthy
from assetlink_project.processes import Children

# A dry run's worker of its own: a dry run starts at once however long the link workers' runs are.
QUEUES = {"dry_runs": 1, "links": 2, "uploads": 1, "default": 1}


def worker_counts(env: dict[str, str]) -> dict[str, int]:
    counts = {}
    for queue, default in QUEUES.items():
        raw = env.get(f"WORKERS_{queue.upper()}", str(default))
        if not raw.isdigit():
            raise SystemExit(f"WORKERS_{queue.upper()}={raw!r} must be a number of processes.")
        counts[queue] = int(raw)
    return counts


def main() -> None:
    env = dict(os.environ)
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not env.get(name)]
    if missing:
        raise SystemExit(
            f"make serve runs on PostgreSQL and Redis: set {' and '.join(missing)}, e.g. "
            "DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/assetlink "
            "REDIS_URL=redis://127.0.0.1:6379/0 (make demo runs on the embedded defaults)."
        )
    env.setdefault("DJANGO_SETTINGS_MODULE", "assetlink_project.settings")
    env["PYTHONUNBUFFERED"] = "1"
    counts = worker_counts(env)
    children = Children(env)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    try:
        children.run("manage.py", "migrate", "--noinput", "-v", "0")
        children.run("manage.py", "collectstatic", "--noinput", "-v", "0")
        children.start(os.path.join(os.path.dirname(sys.executable), "gunicorn"),
                       "assetlink_project.wsgi")  # fmt: skip
        workers = {
            child.pid: (child, queue)
            for queue, count in counts.items()
            for child in [
                children.start("manage.py", "worker", "--queues", queue) for _ in range(count)
            ]
        }
        deadline = time.monotonic() + 60
        while not (ok := healthy())[0] and time.monotonic() < deadline:
            time.sleep(0.3)
        if not ok[0]:
            raise SystemExit(f"The web server did not become healthy: {ok[1]}")
        port = env.get("PORT", "8000")
        print(
            f"AssetLink is serving on port {port} (gunicorn) with workers "
            + ", ".join(f"{queue}×{n}" for queue, n in counts.items())
            + ". Ctrl-C stops all.",
            flush=True,
        )
        web = children.procs[0]
        while web.poll() is None:
            for pid, (child, queue) in list(workers.items()):
                if child.poll() is not None:
                    print(f"A {queue} worker exited ({child.returncode}); starting another.",
                          file=sys.stderr, flush=True)  # fmt: skip
                    children.procs.remove(child)
                    del workers[pid]
                    new = children.start("manage.py", "worker", "--queues", queue)
                    workers[new.pid] = (new, queue)
            time.sleep(0.5)
        print("The web server exited; stopping the workers.", file=sys.stderr)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    finally:
        children.stop_all()


if __name__ == "__main__":
    main()
