"""Benchmark: the run-progress endpoints of a 100-asset and of a 10,000-asset run (target: the
same time whatever the run's size).

Per size, a running link run and a running upload run as a worker leaves them mid-run: the
run's URLs, a RunProduct per product with its work (the assets, variants and the gallery the dry
run saw) and its gallery before and after, a report row per asset, the live progress in Redis.
Then `--requests` GETs of each endpoint through Django's test client as a logged-in member, and
per endpoint and size the median and p95 in ms and the database queries of one request.

    .venv/bin/python -m bench.progress [--requests 50] [--sizes 100,10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from bench.harness import Timings, member_client, start_django

PER_PRODUCT = 5


def _gallery(product: int, n: int) -> dict:
    return {
        "product_id": f"gid://shopify/Product/{product}",
        "gallery": [
            {"media_id": f"gid://shopify/MediaImage/{product * 100 + i}", "status": "READY",
             "alt": f"alt {i}", "media_type": "IMAGE",
             "record": {"asset_id": f"asset-{product}-{i}", "version": 1, "transformation": "",
                        "alt": f"alt {i}"}}
            for i in range(n)
        ],
        "variant_images": {},
        "swatch_refs": {},
    }  # fmt: skip


def make_run(store, user, assets: int, kind: str):
    """A running run of `assets` assets, mid-way, with everything a real one stores."""
    from reports.engine import _key, runs_redis
    from reports.models import ReportRow, Run, RunProduct

    products = max(1, assets // PER_PRODUCT)
    works = {
        p: {"product_id": f"gid://shopify/Product/{p}", "handle": f"product-{p}",
             "title": f"Product {p}", "planned_ops": PER_PRODUCT,
             "planned_media": [f"gid://shopify/MediaImage/{p * 100 + i}" for i in range(5)],
             "variant_ids": [f"gid://shopify/ProductVariant/{p}"],
             "assets": [{"asset_id": f"asset-{p}-{i}", "version": 1, "transformation": "",
                         "alt": f"alt {i}", "media_type": "IMAGE",
                         "public_id": f"bench/p{p}_{i}", "group": f"SKU-{p}"}
                        for i in range(PER_PRODUCT)]}
        for p in range(products)
    }  # fmt: skip
    work = {"urls": {f"asset-{p}-{i}:1:": f"https://res.cloudinary.com/bench/p{p}_{i}.jpg"
                     for p in range(products) for i in range(PER_PRODUCT)}}  # fmt: skip
    run = Run.objects.create(
        store=store, kind=kind, created_by=user, status=Run.Status.RUNNING, link_mode="append",
        work=work, ops_total=products * PER_PRODUCT, products_total=products,
        summary={"created": assets // 2},
    )  # fmt: skip
    RunProduct.objects.bulk_create(
        [
            RunProduct(run=run, product_id=f"gid://shopify/Product/{p}", work=works[p],
                       status="done" if p < products // 2 else "pending",
                       before=_gallery(p, 5), after=_gallery(p, 10) if p < products // 2 else None)
            for p in range(products)
        ],
        batch_size=500,
    )  # fmt: skip
    ReportRow.objects.bulk_create(
        [
            ReportRow(run=run, seq=n + 1, product_id=f"gid://shopify/Product/{n // PER_PRODUCT}",
                      asset_id=f"asset-{n // PER_PRODUCT}-{n % PER_PRODUCT}", action="created",
                      media_id=f"gid://shopify/MediaImage/{n}")
            for n in range(assets // 2)
        ],
        batch_size=1000,
    )  # fmt: skip
    live = {"phase": "creating media", "ops_done": assets // 2, "products_done": products // 2}
    runs_redis().set(_key(run.pk, "progress"), json.dumps(live), ex=600)
    return run


def measure(client, timings: Timings, url: str, requests: int) -> tuple[float, float, int]:
    with timings.measure() as spent:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], int(spent["db#"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--sizes", default="100,10000")
    args = parser.parse_args()
    start_django("progress")
    from django.utils import timezone

    from reports.models import Run
    from stores.models import Store

    workspace, user, client = member_client("progress")
    timings = Timings().install()
    store = Store.objects.create(
        workspace=workspace,
        shop_domain="bench-progress.myshopify.com",
        access_token="bench-token",
        installed_at=timezone.now(),
    )

    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'endpoint':<34}{'assets':>8}{'median ms':>11}{'p95 ms':>9}{'queries':>9}")
    for size in sizes:
        link = make_run(store, user, size, Run.Kind.LINK)
        upload = make_run(store, user, size, Run.Kind.UPLOAD)
        for name, url in (
            ("GET /api/runs/{id}/", f"/api/runs/{link.pk}/"),
            ("GET /api/upload-runs/{id}/", f"/api/upload-runs/{upload.pk}/"),
            ("GET /api/runs/ (list)", "/api/runs/"),
        ):
            median, p95, queries = measure(client, timings, url, args.requests)
            print(f"{name:<34}{size:>8}{median:>11.1f}{p95:>9.1f}{queries:>9}")


if __name__ == "__main__":
    main()
