"""Benchmark: a dry run as the background job does it, and reading its result.

Both emulators in a process of their own (`python -m sandbox`) with `make demo`'s defaults (bulk exports COMPLETED after 0.2 s): a
library of --assets assets and --stores shops whose catalogs match it. It prints

1. the dry run (the RQ job's function, ``linking.dry_runs.execute``, in this process): wall time
   from queued to succeeded, per store the catalog and galleries paths and Shopify calls
   (target: 10,000 assets and 3 stores in under 15 s);
2. reading the result, for this plan and for a small one (100 assets), median of --repeat:
   statistics and one page of the result through the API (APIClient: DRF and the queries
   included) — target under 50 ms whatever the plan's size — and the whole CSV.

    .venv/bin/python -m bench.dry_run [--assets 10000] [--stores 3] [--repeat 20]
                                     [--shopify-port 8731] [--cloudinary-port 8732]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from bench._django import setup


def _seed(args):
    import requests
    from django.conf import settings
    from django.db import connection

    from stores.cloudinary.client import clear_caches
    from stores.models import Store, Workspace, WorkspaceSettings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        # A file, as deployed: the stores' threads write beside each other (WAL, busy timeout);
        # SQLite's in-memory test database would answer "table is locked" at once instead.
        db.setdefault("TEST", {})["NAME"] = os.path.join(
            tempfile.gettempdir(), f"assetlink-bench-dry-run-{os.getpid()}.sqlite3"
        )
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    # The emulators in a process of their own: their work (GraphQL execution of bulk exports)
    # must not share this process's interpreter with the dry run being measured.
    env = {**os.environ, "SANDBOX_SHOPIFY_PORT": str(args.shopify_port),
           "SANDBOX_CLOUDINARY_PORT": str(args.cloudinary_port)}  # fmt: skip
    emulators = subprocess.Popen(
        [sys.executable, "-m", "sandbox"], env=env, stdout=subprocess.PIPE, text=True
    )
    for _ in range(2):
        print(emulators.stdout.readline().strip())
    shopify_url = f"http://127.0.0.1:{args.shopify_port}"
    cloudinary_url = f"http://127.0.0.1:{args.cloudinary_port}"
    settings.CLOUDINARY_API_BASE_URL = cloudinary_url
    settings.SHOPIFY_ADMIN_BASE_URL = shopify_url + "/{shop}"
    clear_caches()
    requests.post(f"{cloudinary_url}/_control/clouds", json={
        "cloud_name": "bench", "api_key": "k", "api_secret": "s",
        "seed": {"n_assets": args.assets, "seed": 5}}, timeout=120).raise_for_status()  # fmt: skip
    skus = requests.get(f"{cloudinary_url}/_control/clouds/bench/skus", timeout=60).json()["skus"]
    workspace = Workspace.objects.create(
        name="Bench", cloudinary_cloud_name="bench", cloudinary_api_key="k",
        cloudinary_api_secret="s",
    )  # fmt: skip
    WorkspaceSettings.objects.create(workspace=workspace)
    stores = []
    for n in range(args.stores):
        domain = f"bench-{n + 1}.myshopify.com"
        token = requests.post(f"{shopify_url}/_control/shops", json={
            "domain": domain, "plan": "standard", "token": True}, timeout=10).json()  # fmt: skip
        requests.post(f"{shopify_url}/_control/shops/{domain}/seed", json={
            "products": len(skus), "media_per_product": 3, "sku_pattern": "SKU-{n:05d}",
            "seed": n + 1}, timeout=300).raise_for_status()  # fmt: skip
        stores.append(
            Store.objects.create(
                workspace=workspace, shop_domain=domain, access_token=token["token"]["access_token"]
            )
        )
    return workspace, stores, skus, emulators


def _dry_run(workspace, stores, expression: str):
    from linking import dry_runs, services
    from linking.models import DryRun

    plan = services.plan_create(user=None, workspace=workspace, data={
        "expression": expression, "stores": [s.shop_domain for s in stores],
        "cloudinary_field": "metadata:sku", "shopify_field": "variant.sku",
        "link_mode": "append"})  # fmt: skip
    dry_run = DryRun.objects.create(plan=plan, stores_total=len(stores))
    started, cpu = time.perf_counter(), time.process_time()
    status = dry_runs.execute(dry_run.pk)
    wall = time.perf_counter() - started
    dry_run.cpu = time.process_time() - cpu  # this process only (the emulators run apart)
    cpu = dry_run.cpu
    dry_run.refresh_from_db()
    dry_run.cpu = cpu
    plan.refresh_from_db()
    return plan, status, wall, dry_run


def _median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _reads(plan, user, repeat: int) -> dict:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)

    def get(url):
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        return response

    base = f"/api/plans/{plan.pk}"
    get(f"{base}/statistics/")  # warm
    return {
        "statistics": _median_ms(lambda: get(f"{base}/statistics/"), repeat),
        "result page 1": _median_ms(lambda: get(f"{base}/result/?page=1&page_size=10"), repeat),
        "result page 50": _median_ms(lambda: get(f"{base}/result/?page=50&page_size=10"), repeat),
        "report CSV": _median_ms(lambda: get(f"{base}/report.csv"), max(1, repeat // 10)),
    }


def _thumbnails(workspace) -> tuple[float, float, int]:
    """10,000 thumbnail URLs: the SDK per URL vs built once per kind (what the dry run does)."""
    from linking.services import THUMBNAIL_TRANSFORMATION, _default_cloudinary

    cloud = _default_cloudinary(workspace)
    assets = cloud.resolve(expression="folder:products/*", limit=10_000).assets
    started = time.perf_counter()
    slow = [cloud.delivery_url(a, transformation=THUMBNAIL_TRANSFORMATION, format="jpg")
            for a in assets]  # fmt: skip
    sdk = time.perf_counter() - started
    started = time.perf_counter()
    build = cloud.delivery_urls(transformation=THUMBNAIL_TRANSFORMATION, format="jpg")
    fast = [build(a.public_id, a.version) if a.resource_type == "image" else
            cloud.delivery_url(a, transformation=THUMBNAIL_TRANSFORMATION, format="jpg")
            for a in assets]  # fmt: skip
    built = time.perf_counter() - started
    assert fast == slow
    return sdk, built, len(assets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--stores", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--shopify-port", type=int, default=8731)
    parser.add_argument("--cloudinary-port", type=int, default=8732)
    args = parser.parse_args()
    setup()
    import logging

    for name in ("linking", "assetlink.request"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("linking.services").setLevel(logging.INFO)  # each store's phases
    from tests.factories import MemberFactory

    workspace, stores, skus, emulators = _seed(args)
    try:
        user = MemberFactory(workspace=workspace, role="user").user
        expression = "folder:products/* OR folder:unsorted"
        _, cold_status, cold, cold_run = _dry_run(workspace, stores, expression)
        # What the page does while the selection is made: live match counts refresh each
        # store's catalog index, so the dry run that follows finds it fresh.
        from linking import services

        started = time.perf_counter()
        services.match_counts(
            workspace=workspace, stores=[s.shop_domain for s in stores],
            shopify_field="variant.sku", values=[s["sku"] for s in skus],
        )  # fmt: skip
        counted = time.perf_counter() - started
        plan, status, wall, dry_run = _dry_run(workspace, stores, expression)
        results = list(plan.results.select_related("store").order_by("store__shop_domain"))
        print(f"Dry run as a background job: {plan.assets_resolved:,} assets ({len(skus):,} SKU "
              f"groups), {len(stores)} stores of {len(skus):,} products each")  # fmt: skip
        print(f"  cold                {cold:.2f} s ({cold_status}; builds each store's catalog index "
              f"by a bulk export first); CPU in the app's process {cold_run.cpu:.2f} s")  # fmt: skip
        print(f"  live match counts   {counted:.2f} s (the page's, before the dry run)")
        print(f"  catalog index fresh {wall:.2f} s ({status}{' — ' + dry_run.error if dry_run.error else ''}"
              "; as after the page's live match counts)   target < 15 s")  # fmt: skip
        print(f"                      CPU in the app's process {dry_run.cpu:.2f} s (the rest is "
              "waiting for Shopify: exports, polls)")  # fmt: skip
        print(f"  machine load        {os.getloadavg()[0]:.1f} (1-min load average; "
              f"{os.cpu_count()} CPUs)")  # fmt: skip
        for r in results:
            print(f"  {r.store.shop_domain:<22}{r.product_count:,} products planned, "
                  f"{r.operations:,} operations; catalog '{r.catalog_path}', galleries "
                  f"'{r.galleries_path}', {r.shopify_calls} calls, {r.shopify_points:.0f} points"
                  + (f"; error: {r.error}" if r.error else ""))  # fmt: skip

        small, small_status, small_wall, _ = _dry_run(
            workspace, stores[:1], " OR ".join(f"metadata.sku={s['sku']}" for s in skus[:30])
        )
        sdk, built, n = _thumbnails(workspace)
        print(f"  thumbnail URLs      {n:,}: {sdk:.2f} s through the SDK per URL, {built:.2f} s "
              "built once per kind (the same URLs)")  # fmt: skip
        print(f"\nReading a result, median of {args.repeat} (through the API, DRF included)   "
              f"target < 50 ms")  # fmt: skip
        big = _reads(plan, user, args.repeat)
        little = _reads(small, user, args.repeat)
        print(f"  {'':16}{plan.assets_resolved:>8,} assets / {len(stores)} stores"
              f"{small.assets_resolved:>10,} assets / 1 store")  # fmt: skip
        for name in big:
            print(f"  {name:<16}{big[name]:>12.1f} ms{little[name]:>22.1f} ms")
    finally:
        emulators.terminate()
        emulators.wait(timeout=10)


if __name__ == "__main__":
    main()
