"""Benchmark: API latency under gunicorn with concurrent clients (target p95 < 200 ms per
list/detail endpoint), and the database queries each endpoint makes.

Set-up (in this process): the emulators, a cloud of `--groups` × 5 assets, three stores of
`--groups` products, a plan with a real dry run over the three stores, `--plans` more plans,
`--runs` finished runs (one with a 10,000-row report), `--batches` upload batches, members and
API keys. Then gunicorn (gunicorn.conf.py; GUNICORN_WORKER_CLASS / WEB_CONCURRENCY /
GUNICORN_THREADS from the environment, or each model of `--models` in turn on the same data)
serves the app on the same database in the production profile (ASSETLINK_PROFILE=production:
persistent database connections, JSON logs, HTTPS as a TLS proxy reports it with
X-Forwarded-Proto), and `--clients` threads, each logged in as a member with a session and a
keep-alive connection of its own (plain http.client: a cheap client, so the load generator
does not take the CPUs from the server it measures), GET one endpoint `--requests` times each,
all at once, endpoint after endpoint. Prints per endpoint: p50 / p95 / p99 / max in ms, the
CPU time per request of gunicorn's processes, of the PostgreSQL processes serving them (when
PostgreSQL runs on this machine), of this client and of the whole machine, the response size,
the queries.

    .venv/bin/python -m bench.api_latency [--clients 20] [--requests 10] [--groups 100]
    .venv/bin/python -m bench.api_latency --heavy-requests 0 --models sync:4,gthread:5x4

Database: a new PostgreSQL database next to DATABASE_URL's when that is PostgreSQL (created,
then dropped), else a temporary SQLite file. Redis: REDIS_URL's or the embedded one, db 12.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-latency-password-1"


def prepare_database() -> tuple[str, callable]:
    """A database of the benchmark's own; returns its URL and how to drop it."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = f"{parts.path.lstrip('/') or 'assetlink'}_latency_{os.getpid()}"
        admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return urlunsplit(parts._replace(path=f"/{name}")), drop
    path = os.path.join(tempfile.mkdtemp(prefix="assetlink-latency-"), "bench.sqlite3")
    return f"sqlite:///{path}", lambda: None


def seed(args) -> dict:
    """The data the endpoints read; returns the ids the URLs need."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from bench.harness import Sandbox, make_workspace
    from linking import services
    from linking.models import Plan, PlanStore
    from reports.models import ReportRow, Run
    from stores import services as store_services
    from stores.models import Member, Store
    from uploads.models import UploadBatch

    sandbox = Sandbox(media_delay=0.01, groups=args.groups, per_group=5, existing=3)
    domains = [f"bench-latency-{n}.myshopify.com" for n in (1, 2, 3)]
    workspace, first = make_workspace(sandbox, domains[0], sandbox.shop(domains[0]))
    stores = [first] + [
        Store.objects.create(workspace=workspace, shop_domain=d, access_token=sandbox.shop(d),
                             installed_at=timezone.now())
        for d in domains[1:]
    ]  # fmt: skip
    admin = User.objects.create_user("bench-admin", password=PASSWORD)
    Member.objects.create(workspace=workspace, user=admin, role="master_admin")
    for n in range(args.clients):
        user = User.objects.create_user(f"bench-user-{n}", password=PASSWORD)
        # Master Admins: they may read every endpoint measured (API keys included).
        Member.objects.create(workspace=workspace, user=user, role="master_admin")
    for n in range(5):
        store_services.api_key_create(user=admin, store=first, label=f"key {n}")

    started = time.monotonic()
    plan = services.plan_create(
        user=None,
        workspace=workspace,
        data={"expression": "tags=bench", "stores": domains, "cloudinary_field": "metadata:sku",
              "shopify_field": "variant.sku", "link_mode": "append",
              "order_field": "metadata:sequence_number"},
    )  # fmt: skip
    plan = services.plan_dry_run(plan=plan)
    print(f"dry run of {args.groups * 5} assets over 3 stores: {time.monotonic() - started:.1f}s",
          flush=True)  # fmt: skip
    results = list(PlanStore.objects.filter(plan=plan))
    for _ in range(args.plans):
        copy = Plan.objects.get(pk=plan.pk)
        copy.pk = None
        copy.save()
        copy.stores.set(stores)
        for result in results:
            result.pk, result.plan = None, copy
            result.save()
    runs = []
    for n in range(args.runs):
        run = Run.objects.create(
            store=stores[n % 3], plan=plan, status=Run.Status.SUCCEEDED, link_mode="append",
            products_done=args.groups, products_total=args.groups, ops_done=args.groups * 5,
            ops_total=args.groups * 5, started_at=timezone.now(), finished_at=timezone.now(),
            summary={"created": args.groups * 5},
        )  # fmt: skip
        runs.append(run)
    big = runs[0]
    ReportRow.objects.bulk_create(
        [ReportRow(run=big, seq=n, product_id=f"gid://shopify/Product/{n // 5}",
                   asset_id=f"asset-{n}", public_id=f"bench/asset-{n}", action="created",
                   media_id=f"gid://shopify/MediaImage/{n}", position_after=n % 5 + 1)
         for n in range(10_000)],
        batch_size=2000,
    )  # fmt: skip
    for n in range(args.batches):
        batch = UploadBatch.objects.create(workspace=workspace, expression="tags=bench")
        batch.stores.set(stores)
        batch.runs.add(Run.objects.create(store=stores[n % 3], kind=Run.Kind.UPLOAD,
                                          status=Run.Status.SUCCEEDED))  # fmt: skip
    return {"workspace": workspace.pk, "store": first.pk, "plan": plan.pk,
            "run": runs[-1].pk, "big_run": big.pk, "batch": batch.pk,
            "upload_run": batch.runs.first().pk}  # fmt: skip


ENDPOINTS = [
    "/api/session/",
    "/api/workspaces/",
    "/api/workspaces/{workspace}/members/",
    "/api/stores/{store}/api-keys/",
    "/api/workspaces/{workspace}/plans/",
    "/api/plans/{plan}/",
    "/api/plans/{plan}/statistics/",
    "/api/runs/",
    "/api/runs/{run}/",
    "/api/workspaces/{workspace}/uploads/",
    "/api/uploads/{batch}/",
    "/api/upload-runs/{upload_run}/",
]
# Not list/detail endpoints, measured for the record (no target).
HEAVY = [
    "/api/plans/{plan}/result/",
    "/api/workspaces/{workspace}/assets/?expression=tags%3Dbench&limit=500",
    "/api/runs/{big_run}/report.csv",
]


def query_counts(ids: dict) -> dict[str, int]:
    """Queries per endpoint, from Django's test client in this process."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username="bench-user-0"))
    counts = {}
    for endpoint in ENDPOINTS + HEAVY:
        url = endpoint.format(**ids)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        counts[endpoint] = len(queries)
    return counts


class Client:
    """One logged-in client: a keep-alive HTTP/1.1 connection of its own (as a browser holds
    one), its session cookie, and plain `http.client` — a cheap client, so the load generator
    leaves the CPUs to the server it measures."""

    def __init__(self, port: int, username: str):
        from django.conf import settings
        from django.contrib.auth.models import User
        from django.test import Client as DjangoClient

        # The session is made here (same database and SECRET_KEY as gunicorn): the production
        # profile marks cookies Secure, which a client speaking plain HTTP would not send back.
        django_client = DjangoClient()
        django_client.force_login(User.objects.get(username=username))
        cookie = django_client.cookies[settings.SESSION_COOKIE_NAME].value
        self.headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}",
                        "X-Forwarded-Proto": "https"}  # fmt: skip
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, url: str) -> tuple[int, int]:
        """GET `url`: its status and the size of its body. A connection the server closed
        (gunicorn's keep-alive timeout between endpoints; sync workers close every one) is
        opened again once, within the request's time."""
        for attempt in (1, 2):
            try:
                self.connection.request("GET", url, headers=self.headers)
                response = self.connection.getresponse()
                return response.status, len(response.read())
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def load(clients: list[Client], url: str, requests_each: int) -> tuple[list[float], int, int]:
    """Every client GETs `url` `requests_each` times, all at once; latencies in ms."""
    latencies: list[float] = []
    errors = []
    size = 0
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients))

    def run(client: Client) -> None:
        nonlocal size
        barrier.wait()
        for _ in range(requests_each):
            started = time.perf_counter()
            status, length = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                size = length
                if status != 200:
                    errors.append(status)

    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, size, len(errors)


def process_cpu(pids) -> float:
    """CPU seconds (user + system) the processes `pids` have used so far (0 for one gone)."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def gunicorn_pids(master: int) -> list[int]:
    """gunicorn's master and its worker processes."""
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        return [master, *map(int, children)]
    return [master]


def database_pids() -> list[int]:
    """The PostgreSQL server processes serving the benchmark's database (gunicorn's
    connections), when PostgreSQL runs on this machine; none on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def machine_cpu() -> float:
    """CPU seconds every process of the machine has used so far (/proc/stat, all CPUs)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(x) for i, x in enumerate(fields) if i not in (3, 4))  # not idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def gunicorn_model(env: dict[str, str]) -> str:
    """The worker model gunicorn.conf.py gives under the environment `env`."""
    import runpy

    saved = dict(os.environ)
    try:
        os.environ.update(env)
        conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    finally:  # it sets PROMETHEUS_MULTIPROC_DIR when unset: not for this process
        os.environ.clear()
        os.environ.update(saved)
    return f"{conf['worker_class']} {conf['workers']} processes × {conf['threads']} threads"


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def parse_model(model: str) -> dict[str, str]:
    """`gthread:2x10` / `sync:5` → the environment gunicorn.conf.py reads; "" → its defaults."""
    if not model:
        return {}
    worker_class, _, size = model.partition(":")
    processes, _, threads = size.partition("x")
    # One thread unless given (gunicorn turns a sync worker with threads into gthread).
    return {"GUNICORN_WORKER_CLASS": worker_class, "WEB_CONCURRENCY": processes,
            "GUNICORN_THREADS": threads or "1"}  # fmt: skip


def start_gunicorn(
    env: dict[str, str], port: int, app: str = "assetlink_project.wsgi"
) -> subprocess.Popen:
    """gunicorn serving the WSGI `app` (a module, or module:callable) on `port`."""
    from assetlink_project.healthcheck import healthy

    name = "gunicorn" if app == "assetlink_project.wsgi" else app.replace(":", "-")
    log = open(Path(tempfile.gettempdir()) / f"assetlink-latency-{name}.log", "w")  # noqa: SIM115
    web = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), app],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not healthy(port)[0]:
        if time.monotonic() > deadline or web.poll() is not None:
            stop(web)
            raise SystemExit(f"gunicorn did not start; see {log.name}")
        time.sleep(0.2)
    return web


def stop(web: subprocess.Popen) -> None:
    web.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        web.wait(timeout=20)


def measure(args, ids: dict, counts: dict, web: subprocess.Popen, env: dict) -> str:
    """The endpoints under load on the gunicorn `web`; prints a line per endpoint, returns
    the summary line."""
    clients = [Client(args.port, f"bench-user-{n}") for n in range(args.clients)]
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"\ngunicorn: {gunicorn_model(env)}; {args.clients} concurrent "
        f"clients × {args.requests} GETs per endpoint; {os.cpu_count()} CPUs; load average "
        f"{loadavg}"
    )
    print("1 client: the median of 10 GETs one after another (the service time)")
    print(
        "CPU ms per request under load: web = gunicorn's processes, db = the PostgreSQL "
        "processes serving them, client = this load generator; all = every process of the "
        "machine (the rest is other work)"
    )
    print(f"{'endpoint':50} {'1 client':>8} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6} "
          f"{'web':>5} {'db':>5} {'client':>6} {'all':>5} {'bytes':>9} {'queries':>7}")  # fmt: skip
    worst = 0.0
    totals = {"web": 0.0, "db": 0.0, "client": 0.0, "all": 0.0, "wall": 0.0}
    for endpoint in ENDPOINTS + HEAVY:
        if args.only and args.only not in endpoint:
            continue
        if endpoint in HEAVY and not args.heavy_requests:
            continue
        url = endpoint.format(**ids)
        load(clients[:2], url, 1)  # warm up
        serial = statistics.median(load(clients[:1], url, 10)[0])
        each = args.requests if endpoint in ENDPOINTS else args.heavy_requests
        web_pids, db_pids = gunicorn_pids(web.pid), database_pids()
        before = (process_cpu(web_pids), process_cpu(db_pids), time.process_time(),
                  machine_cpu(), time.monotonic())  # fmt: skip
        latencies, size, errors = load(clients, url, each)
        after = (process_cpu(web_pids), process_cpu(db_pids), time.process_time(),
                 machine_cpu(), time.monotonic())  # fmt: skip
        cpu = {name: (b - a) * 1000 / len(latencies)
               for name, a, b in zip(("web", "db", "client", "all"), before[:4], after[:4], strict=True)}  # fmt: skip
        if endpoint in ENDPOINTS:
            for name in cpu:
                totals[name] += cpu[name] * len(latencies)
            totals["wall"] += after[-1] - before[-1]
        p95 = percentile(latencies, 95)
        if endpoint in ENDPOINTS:
            worst = max(worst, p95)
        print(
            f"{endpoint[:50]:50} {serial:8.0f} {percentile(latencies, 50):6.0f} {p95:6.0f} "
            f"{percentile(latencies, 99):6.0f} {max(latencies):6.0f} {cpu['web']:5.1f} "
            f"{cpu['db']:5.1f} {cpu['client']:6.1f} {cpu['all']:5.1f} {size:9d} "
            f"{counts[endpoint]:7d}"
            + (f"  {errors} errors" if errors else "")
            + ("" if endpoint in ENDPOINTS else "  (no target)"),
            flush=True,
        )
    if totals["wall"]:
        print(
            "list/detail endpoints under load, CPU used per second: "
            + ", ".join(
                f"{name} {totals[name] / 1000 / totals['wall']:.2f}"
                for name in ("web", "db", "client", "all")
            )  # fmt: skip
            + f" (of {os.cpu_count()})"
        )
    line = (
        f"{gunicorn_model(env)}: worst p95 of the list/detail endpoints {worst:.0f} ms "
        f"(target < 200 ms); load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(line)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=10, help="per client per endpoint")
    parser.add_argument("--groups", type=int, default=100, help="products per store")
    parser.add_argument("--plans", type=int, default=30)
    parser.add_argument("--runs", type=int, default=150)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--heavy-requests", type=int, default=2, help="per client, heavy GETs")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--only", default="", help="only the endpoints whose path has this")
    parser.add_argument(
        "--models",
        default="",
        help="gunicorn models to measure one after another on the same data, e.g. "
        "gthread:2x10,gthread:5x4,sync:5 (class:processes[xthreads]); default: "
        "gunicorn.conf.py's, from the environment",
    )
    args = parser.parse_args()

    database_url, drop = prepare_database()
    os.environ["DATABASE_URL"] = database_url
    # Secrets shared by this process (it seeds the data and makes the sessions) and gunicorn.
    import base64
    import secrets

    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["ENCRYPTION_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    from bench._django import setup

    setup()
    import logging

    logging.getLogger("assetlink.request").setLevel(logging.WARNING)  # this process's own
    from django.conf import settings
    from django.core.management import call_command

    from bench.harness import isolate_redis

    call_command("migrate", verbosity=0)
    redis_url = isolate_redis(db=12)
    web = None
    try:
        t0 = time.monotonic()
        ids = seed(args)
        print(f"set-up: {time.monotonic() - t0:.1f}s on {settings.DATABASES['default']['ENGINE']}")
        counts = query_counts(ids)
        base = f"http://127.0.0.1:{args.port}"
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
               "PORT": str(args.port), "APP_URL": base, "ASSETLINK_PROFILE": "production",
               "SHOPIFY_API_KEY": settings.SHOPIFY_API_KEY,
               "SHOPIFY_API_SECRET": settings.SHOPIFY_API_SECRET,
               "GUNICORN_MAX_REQUESTS": "0",  # no recycling mid-measurement
               "SHOPIFY_ADMIN_BASE_URL": settings.SHOPIFY_ADMIN_BASE_URL,
               "CLOUDINARY_API_BASE_URL": settings.CLOUDINARY_API_BASE_URL}  # fmt: skip
        os.environ["APP_URL"] = base
        summary = []
        for model in args.models.split(",") if args.models else [""]:
            model_env = {**env, **parse_model(model),
                         "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="assetlink-latency-prom-")}  # fmt: skip
            web = start_gunicorn(model_env, args.port)
            summary.append(measure(args, ids, counts, web, model_env))
            stop(web)
            web = None
        if len(summary) > 1:
            print("\nper gunicorn model:")
            for line in summary:
                print("  " + line)
    finally:
        if web is not None:
            stop(web)
        from django.db import connections

        connections.close_all()
        drop()


if __name__ == "__main__":
    main()
