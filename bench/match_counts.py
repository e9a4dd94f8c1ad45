"""Benchmark: live match counts (the Link tab's per-store / per-group counts before any dry
run) — `services.match_counts` against the Shopify emulator in-process.

Per number of group values: the first count (the catalog index built by one bulk export, or
batched searches when cheaper) and the counts after it (the index fresh: no Shopify call).
The page asks for counts ~250 ms after each change; the target is under 2 s.

    .venv/bin/python -m bench.match_counts [--products 5000] [--values 100,2000,10000]
"""

from __future__ import annotations

import argparse
import time

from bench._django import setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--values", default="100,2000,10000")
    args = parser.parse_args()
    setup()

    from datetime import timedelta

    import requests
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from linking import services
    from linking.models import StoreCatalog
    from sandbox.common import serve_in_thread
    from sandbox.shopify.server import make_app as make_shopify
    from stores.models import Store, Workspace, WorkspaceSettings

    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    shopify = serve_in_thread(make_shopify(bulk_delay=0.2))
    settings.SHOPIFY_ADMIN_BASE_URL = shopify.url + "/{shop}"
    domain = "bench-match.myshopify.com"
    token = requests.post(f"{shopify.url}/_control/shops", json={
        "domain": domain, "plan": "standard", "token": True}, timeout=10).json()  # fmt: skip
    requests.post(f"{shopify.url}/_control/shops/{domain}/seed", json={
        "products": args.products, "media_per_product": 0, "variants_per_product": 2,
        "sku_pattern": "SKU-{p:05d}", "seed": 1}, timeout=600).raise_for_status()  # fmt: skip
    workspace = Workspace.objects.create(name="Bench", cloudinary_cloud_name="bench")
    WorkspaceSettings.objects.create(workspace=workspace)
    store = Store.objects.create(
        workspace=workspace, shop_domain=domain, access_token=token["token"]["access_token"]
    )
    print(f"Catalog: {args.products} products, 2 variants each (SKU-00000-…)")
    for n in (int(v) for v in args.values.split(",")):
        StoreCatalog.objects.filter(store=store).delete()  # cold: no index yet
        # half the values match a variant SKU, half match nothing
        values = [f"SKU-{i:05d}" if i % 2 == 0 else f"NONE-{i}" for i in range(n)]
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            (entry,) = services.match_counts(
                workspace=workspace, stores=[domain], shopify_field="variant.sku", values=values
            )
            timings.append(time.perf_counter() - started)
        stats = entry["statistics"]
        # an index older than INDEX_FRESH_SECONDS: an incremental export of what changed
        stale = ""
        if StoreCatalog.objects.filter(store=store, built_at__isnull=False).exists():
            StoreCatalog.objects.filter(store=store).update(
                refreshed_at=timezone.now() - timedelta(hours=1)
            )
            started = time.perf_counter()
            services.match_counts(
                workspace=workspace, stores=[domain], shopify_field="variant.sku", values=values
            )
            stale = f", {time.perf_counter() - started:.2f} s with a stale index (incremental)"
        print(
            f"  {n:>6} values: first {timings[0]:.2f} s ({entry['catalog_path']} path at first), "
            f"then {min(timings[1:]):.2f} s{stale}; {stats['groups_matched']} groups matched, "
            f"{stats['products_matched']} products"
        )
    shopify.shutdown()


if __name__ == "__main__":
    main()
