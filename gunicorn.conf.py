"""gunicorn settings, from the environment (docs/deploy.md). gunicorn reads this file from the
working directory: `gunicorn assetlink_project.wsgi` (what `make serve`, the Procfile and the
container run)."""

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
# Processes × threads = requests served at once. A request is mostly Python on the CPU (its
# queries take ~1-2 ms each on a local database), so threads of one process queue for the GIL:
# single-threaded sync processes, two per CPU, answer 20 concurrent clients with a lower and
# steadier p95 than gthread (bench/api_latency.py --models; figures in docs/sizing.md).
# GUNICORN_THREADS > 1 makes gunicorn use gthread; GUNICORN_WORKER_CLASS chooses another class.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count(), 8)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle processes now and then (bounded memory growth).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Access lines come from the app (RequestContextMiddleware, JSON with the request id).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
control_socket_disable = True  # no control socket (gunicorn >= 25 opens one under $HOME)

# Prometheus: the web processes' HTTP latency figures are merged through files in this
# directory (prometheus-client's multiprocess mode); emptied at each start.
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(tempfile.gettempdir(), f"assetlink-prometheus-{os.getuid()}"),
)


def on_starting(server):
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
