"""Benchmark: API latency under gunicorn with concurrent clients (target p95 < 200 ms per
list/detail endpoint), and the database queries each endpoint makes.

Set-up (in this process): the emulators, a cloud of `--groups` × 5 assets, three stores of
`--groups` products, a plan with a real dry run over the three stores, `--plans` more plans,
`--runs` finished runs (one with a 10,000-row report), `--batches` upload batches, members and
API keys. Then gunicorn (gunicorn.conf.py; WEB_CONCURRENCY / GUNICORN_THREADS from the
environment) serves the app on the same database in the production profile
(ASSETLINK_PROFILE=production: persistent database connections, JSON logs, HTTPS as a TLS proxy
reports it with X-Forwarded-Proto), and `--clients` threads, each logged in as a member with a
session of its own, GET one endpoint `--requests` times each, endpoint after endpoint. Prints per endpoint: p50 / p95 / p99 / max in ms, the response size, the queries.

    .venv/bin/python -m bench.api_latency [--clients 20] [--requests 10] [--groups 100]

Database: a new PostgreSQL database next to DATABASE_URL's when that is PostgreSQL (created,
then dropped), else a temporary SQLite file. Redis: REDIS_URL's or the embedded one, db 12.
"""

from __future__ import annotations

import argparse
import contextlib
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


def login(username: str):
    """A client with a session of its own for `username`, as a TLS proxy would forward it."""
    import requests
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    # The session is made here (same database and SECRET_KEY as gunicorn): the production
    # profile marks cookies Secure, which a client speaking plain HTTP would not send back.
    django_client = Client()
    django_client.force_login(User.objects.get(username=username))
    session = requests.Session()
    session.cookies.set(
        settings.SESSION_COOKIE_NAME, django_client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    session.headers["X-Forwarded-Proto"] = "https"
    # gunicorn closes idle keep-alive connections after 5 s (between endpoints): reconnect.
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=2, connect=2, read=2)))
    return session


def load(base: str, sessions, url: str, requests_each: int) -> tuple[list[float], int, int]:
    """Every session GETs `url` `requests_each` times, all at once; latencies in ms."""
    latencies: list[float] = []
    errors = []
    size = 0
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions))

    def client(session) -> None:
        nonlocal size
        barrier.wait()
        for _ in range(requests_each):
            started = time.perf_counter()
            response = session.get(base + url, timeout=120)
            body = response.content
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                size = len(body)
                if response.status_code != 200:
                    errors.append(response.status_code)

    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, size, len(errors)


def cpu_seconds(master: int) -> float:
    """CPU time (user + system) used so far by gunicorn's worker processes."""
    total = 0.0
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        for pid in children:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


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
               "CLOUDINARY_API_BASE_URL": settings.CLOUDINARY_API_BASE_URL,
               "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="assetlink-latency-prom-")}  # fmt: skip
        log = open(Path(tempfile.gettempdir()) / "assetlink-latency-gunicorn.log", "w")  # noqa: SIM115
        web = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "assetlink_project.wsgi"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        from assetlink_project.healthcheck import healthy

        os.environ["APP_URL"] = base
        deadline = time.monotonic() + 60
        while not healthy(args.port)[0]:
            if time.monotonic() > deadline or web.poll() is not None:
                raise SystemExit(f"gunicorn did not start; see {log.name}")
            time.sleep(0.2)
        sessions = [login(f"bench-user-{n}") for n in range(args.clients)]
        print(
            f"gunicorn: WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', 'default')} "
            f"GUNICORN_THREADS={os.environ.get('GUNICORN_THREADS', 'default')}; "
            f"{args.clients} concurrent clients × {args.requests} GETs per endpoint; "
            f"{os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        print("1 client: the median of 10 GETs one after another (the service time)")
        print(
            "cpu ms: gunicorn's CPU time per request under load (less noisy than latency on a "
            "shared machine)"
        )
        print(f"{'endpoint':58} {'1 client':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7} "
              f"{'cpu ms':>6} {'bytes':>9} {'queries':>7}")  # fmt: skip
        worst = 0.0
        for endpoint in ENDPOINTS + HEAVY:
            url = endpoint.format(**ids)
            load(base, sessions[:2], url, 1)  # warm up
            serial = statistics.median(load(base, sessions[:1], url, 10)[0])
            each = args.requests if endpoint in ENDPOINTS else args.heavy_requests
            cpu_before = cpu_seconds(web.pid)
            latencies, size, errors = load(base, sessions, url, each)
            cpu = (cpu_seconds(web.pid) - cpu_before) * 1000 / len(latencies)
            p95 = percentile(latencies, 95)
            if endpoint in ENDPOINTS:
                worst = max(worst, p95)
            print(
                f"{endpoint[:58]:58} {serial:8.0f} {percentile(latencies, 50):7.0f} {p95:7.0f} "
                f"{percentile(latencies, 99):7.0f} {max(latencies):7.0f} {cpu:6.1f} {size:9d} "
                f"{counts[endpoint]:7d}"
                + (f"  {errors} errors" if errors else "")
                + ("" if endpoint in ENDPOINTS else "  (no target)"),
                flush=True,
            )
        print(
            f"worst p95 of the list/detail endpoints: {worst:.0f} ms (target < 200 ms); "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
    finally:
        if web is not None:
            web.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                web.wait(timeout=20)
        from django.db import connections

        connections.close_all()
        drop()


if __name__ == "__main__":
    main()
