"""Benchmark: a run's report CSV (`/api/runs/{id}/report.csv`) of a 10,000-row run, downloaded
by 20 concurrent clients from gunicorn (target: p95 < 1 s), the writer before issue 28 and the
streamed one side by side.

Set-up (in this process): a workspace, a store, `--clients` members and a finished link run of
`--rows` rows (five assets per product: a RunProduct per product with its work — assets with a
transformation and alt texts, variants, the media the dry run saw — and the rows as the
executor writes them, their transformation included; a few hostile cells). Then gunicorn
(gunicorn.conf.py, the production profile, as bench/api_latency.py starts it) serves the app
twice, one after the other: with the old writer (`old_report_lines` below: a model instance per
row, every product's work decoded for the transformations, a Python call per cell — kept here,
not in the app; bench/_report_csv_baseline.py serves it) and with the app's own. Per writer:
one client alone (the median of `--serial` GETs: wall ms, and CPU ms of gunicorn's and
PostgreSQL's processes per request),
then `--clients` clients GET it `--requests` times each, all at once: p50 / p95 / max wall ms
and CPU ms per request. Both writers' bytes are compared (identical, or the bench fails).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/assetlink_bench \\
        .venv/bin/python -m bench.report_csv [--rows 10000] [--clients 20] [--requests 1]

Database: DATABASE_URL's when PostgreSQL (created when missing; the bench's rows are deleted
at the end), else a temporary SQLite file. Redis: REDIS_URL's or the embedded one, db 12.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import http.client
import io
import os
import statistics
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from bench.api_latency import (
    Client,
    database_pids,
    gunicorn_model,
    gunicorn_pids,
    load,
    percentile,
    process_cpu,
    start_gunicorn,
    stop,
)

PER_PRODUCT = 5
TRANSFORMATION = "c_limit,w_1000"
HOSTILE = ['=HYPERLINK("http://evil.example/","x")', "+1+cmd|' /C calc'!A0", "@SUM(1+1)"]


# --- the writer before issue 28 (the baseline) ---------------------------------------------------


def old_neutralise(value):
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def old_stream_csv(header, rows):
    """reports.csv.stream_csv before issue 28: neutralise called on every cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([old_neutralise(value) for value in row])
        if buffer.tell() > 64_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def old_report_lines(run):
    """reports/csv.py's report_lines before issue 28: every product's work decoded for the
    transformations, a ReportRow instance per row, ``value`` and ``old_neutralise`` per cell."""
    from common.transformations import normalise_transformation
    from reports.csv import COLUMNS
    from reports.selectors import with_work

    products = with_work(run.products.only("pk", "run_id", "product_id", "work").order_by("id"))
    transformations = {
        (product.product_id, asset["asset_id"]): normalise_transformation(
            asset.get("transformation")
        )
        for product in products
        for asset in (product.work or {}).get("assets") or ()
    }

    def value(row, column, store, transformations):
        if column == "store":
            return store
        if column == "transformation":
            if row.action in ("unmatched", "excluded", "unlinked", "skipped"):
                return ""
            return transformations.get((row.product_id, row.asset_id), "")
        value = getattr(row, column)
        return "" if value is None else value

    store = run.store.shop_domain
    rows = run.rows.order_by("seq", "id").iterator(chunk_size=2000)
    return old_stream_csv(
        COLUMNS, ([value(row, c, store, transformations) for c in COLUMNS] for row in rows)
    )


# --- set-up -------------------------------------------------------------------------------------


def prepare_database() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return url
    path = os.path.join(tempfile.mkdtemp(prefix="assetlink-report-csv-"), "bench.sqlite3")
    return f"sqlite:///{path}"


def _work(p: int) -> dict:
    return {
        "product_id": f"gid://shopify/Product/{p}", "handle": f"product-{p}",
        "title": f"Product {p}", "planned_ops": PER_PRODUCT,
        "planned_media": [f"gid://shopify/MediaImage/{p * 100 + i}" for i in range(PER_PRODUCT)],
        "variant_ids": [f"gid://shopify/ProductVariant/{p * 10 + i}" for i in range(3)],
        "assets": [{"asset_id": f"asset-{p}-{i}", "version": 1700000000 + i,
                    "transformation": TRANSFORMATION, "alt": f"Product {p}, view {i} of 5",
                    "media_type": "IMAGE", "public_id": f"bench/products/p{p}_{i}",
                    "group": f"SKU-{p:05d}"}
                   for i in range(PER_PRODUCT)],
    }  # fmt: skip


def seed(args) -> dict:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from linking.core.planner import ReportRow
    from linking.runs import _write_rows
    from reports.csv import products_transformations
    from reports.models import Run, RunProduct
    from stores.models import Member, Store, Workspace

    tag = f"{os.getpid()}"
    workspace = Workspace.objects.create(name=f"bench report csv {tag}")
    store = Store.objects.create(workspace=workspace, shop_domain=f"bench-csv-{tag}.myshopify.com",
                                 access_token="x", installed_at=timezone.now())  # fmt: skip
    users = []
    for n in range(args.clients):
        user = User.objects.create_user(f"bench-csv-{tag}-{n}", password="bench-csv-password-1")
        Member.objects.create(workspace=workspace, user=user, role="user")
        users.append(user.username)
    products = args.rows // PER_PRODUCT
    run = Run.objects.create(
        store=store, status=Run.Status.SUCCEEDED, link_mode="append", work={"urls": {}},
        products_done=products, products_total=products, ops_done=args.rows,
        ops_total=args.rows, started_at=timezone.now(), finished_at=timezone.now(),
    )  # fmt: skip
    product_rows = [
        RunProduct(run=run, product_id=f"gid://shopify/Product/{p}", work=_work(p), status="done")
        for p in range(products)
    ]
    RunProduct.objects.bulk_create(product_rows, batch_size=500)
    actions = ["created", "created", "created", "reused", "unchanged"]
    rows = []
    for n in range(args.rows):
        p, i = divmod(n, PER_PRODUCT)
        action = "failed" if n % 500 == 7 else actions[i]
        rows.append(ReportRow(
            f"gid://shopify/Product/{p}", action, f"asset-{p}-{i}", f"bench/products/p{p}_{i}",
            f"SKU-{p:05d}", media_id=f"gid://shopify/MediaImage/{1000000 + n}",
            previous_media_id=f"gid://shopify/MediaImage/{p * 100 + i}" if i == 4 else None,
            position_before=i + 1 if i >= 3 else None, position_after=i + 1,
            message="Shopify refused the media: MEDIA_ERROR, image too large" if action == "failed" else "",
            handle=f"product-{p}", title=HOSTILE[p % 3] if p % 400 == 0 else f"Product {p}, blue",
            status="FAILED" if action == "failed" else "READY",
            error_code="MEDIA_ERROR" if action == "failed" else "",
        ))  # fmt: skip
    _write_rows(run, rows, seq_start=0, transformations=products_transformations(product_rows))
    return {"workspace": workspace, "run": run.pk, "users": users}


# --- measuring -----------------------------------------------------------------------------------


def digest(port: int, client: Client, url: str) -> tuple[str, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", url, headers=client.headers)
    body = connection.getresponse().read()
    connection.close()
    return hashlib.sha256(body).hexdigest(), len(body)


def measure(args, url: str, users: list[str], web, label: str) -> dict:
    clients = [Client(args.port, user) for user in users]
    load(clients[:2], url, 1)  # warm up (each process's first request)
    web_pids = gunicorn_pids(web.pid)
    walls, webs, dbs = [], [], []
    for _ in range(args.serial):
        db_pids = database_pids()
        before = process_cpu(web_pids), process_cpu(db_pids)
        walls.append(load(clients[:1], url, 1)[0][0])
        webs.append((process_cpu(web_pids) - before[0]) * 1000)
        dbs.append((process_cpu(db_pids) - before[1]) * 1000)
    db_pids = database_pids()
    before = process_cpu(web_pids) + process_cpu(db_pids)
    latencies, size, errors = load(clients, url, args.requests)
    cpu = (process_cpu(web_pids) + process_cpu(db_pids) - before) * 1000 / len(latencies)
    sha, length = digest(args.port, clients[0], url)
    figures = {"label": label, "serial": statistics.median(walls),
               "serial_web": statistics.median(webs),
               "serial_db": statistics.median(dbs), "p50": percentile(latencies, 50),
               "p95": percentile(latencies, 95), "max": max(latencies), "cpu": cpu,
               "bytes": length, "sha": sha, "errors": errors}  # fmt: skip
    for client in clients:
        client.connection.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1, help="per client, all at once")
    parser.add_argument("--serial", type=int, default=5, help="GETs of one client alone")
    parser.add_argument("--port", type=int, default=8791)
    args = parser.parse_args()

    database_url = prepare_database()
    os.environ["DATABASE_URL"] = database_url
    import base64
    import secrets

    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ["ENCRYPTION_KEYS"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    from bench._django import setup

    setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.harness import isolate_redis

    call_command("migrate", verbosity=0)
    redis_url = isolate_redis(db=12)
    t0 = time.monotonic()
    ids = seed(args)
    print(f"set-up: a {args.rows}-row run in {time.monotonic() - t0:.1f}s on "
          f"{settings.DATABASES['default']['ENGINE']}", flush=True)  # fmt: skip
    base = f"http://127.0.0.1:{args.port}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "PORT": str(args.port), "APP_URL": base, "ASSETLINK_PROFILE": "production",
           "SHOPIFY_API_KEY": settings.SHOPIFY_API_KEY,
           "SHOPIFY_API_SECRET": settings.SHOPIFY_API_SECRET, "GUNICORN_MAX_REQUESTS": "0",
           "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="assetlink-csv-prom-")}  # fmt: skip
    os.environ["APP_URL"] = base
    url = f"/api/runs/{ids['run']}/report.csv"
    results = []
    web = None
    try:
        for label, app in (("old writer", "bench._report_csv_baseline"),
                           ("streamed", "assetlink_project.wsgi")):  # fmt: skip
            web = start_gunicorn(env, args.port, app=app)
            results.append(measure(args, url, ids["users"], web, label))
            stop(web)
            web = None
    finally:
        if web is not None:
            stop(web)
        ids["workspace"].delete()
        from django.contrib.auth.models import User

        User.objects.filter(username__in=ids["users"]).delete()
    print(f"\n{url}: {args.rows} rows; gunicorn {gunicorn_model(env)}; {os.cpu_count()} CPUs; "
          f"{args.clients} clients × {args.requests} GET at once; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(
        "1 client: median of the GETs one after another, its CPU ms in gunicorn (web) and in "
        "the PostgreSQL processes serving it (db); under load: CPU ms (web + db) per request"
    )
    print(f"{'writer':12} {'1 client ms':>11} {'web':>5} {'db':>5} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'max ms':>7} {'CPU ms':>7} {'bytes':>9}")  # fmt: skip
    for r in results:
        r["serial_cpu"] = r["serial_web"] + r["serial_db"]
        print(f"{r['label']:12} {r['serial']:11.0f} {r['serial_web']:5.0f} {r['serial_db']:5.0f} "
              f"{r['p50']:7.0f} {r['p95']:7.0f} {r['max']:7.0f} {r['cpu']:7.0f} {r['bytes']:9d}"
              + (f"  {r['errors']} errors" if r["errors"] else ""))  # fmt: skip
    old, new = results
    same = old["sha"] == new["sha"]
    print(f"same bytes: {'yes' if same else 'NO'}; p95 {old['p95'] / new['p95']:.1f}× lower, "
          f"CPU per request {old['serial_cpu'] / max(new['serial_cpu'], 1):.1f}× lower "
          f"(target p95 < 1000 ms: {'met' if new['p95'] < 1000 else 'NOT met'})")  # fmt: skip
    if not same or old["errors"] or new["errors"]:
        raise SystemExit("the writers disagree or requests failed")


if __name__ == "__main__":
    main()
