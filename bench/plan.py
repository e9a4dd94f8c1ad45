"""Benchmark: the linking engine's planning cost and a dry run's Shopify cost.

1. Pure core: 10,000 assets in 2,000 groups against a 100,000-variant catalog index —
   CPU seconds and peak memory for grouping + matching + planning (targets < 5 s, < 500 MB).
2. Sandbox: a dry run of 200 matched products (both emulators in-process) — the Shopify
   points and calls spent finding the products and reading their galleries, per path
   (target: galleries under 5 points per product).

    .venv/bin/python -m bench.plan [--assets 10000] [--groups 2000] [--variants 100000]
                                   [--products 200]
"""

from __future__ import annotations

import argparse
import gc
import resource
import time
import tracemalloc

from bench._django import setup


def synthetic(n_assets: int, n_groups: int, n_variants: int):
    from linking.core import Asset, GalleryItem, LinkRecord, Product, ProductState, Variant

    per_group = n_assets // n_groups
    assets = [
        Asset(
            f"{g:016x}{i:016x}",
            f"products/sku-{g:05d}_{i}",
            version=1,
            metadata={"sku": f"SKU-{g:05d}", "sequence_number": per_group - i},
            tags=("swatch",) if i == per_group - 1 and g % 10 == 0 else (),
        )
        for g in range(n_groups)
        for i in range(per_group)
    ]
    variants_per_product = 5
    products = []
    for p in range(n_variants // variants_per_product):
        variants = tuple(
            Variant(f"gid://shopify/ProductVariant/{p * 10 + v}", f"SKU-{p:05d}" if v == 0 else
                    f"X-{p}-{v}")
            for v in range(variants_per_product)
        )  # fmt: skip
        products.append(Product(f"gid://shopify/Product/{p}", f"p-{p}", f"Product {p}", (),
                                {}, variants))  # fmt: skip
    galleries = {}
    for g in range(n_groups):
        pid = f"gid://shopify/Product/{g}"
        items = [GalleryItem(f"gid://shopify/MediaImage/{g}-{k}") for k in range(3)]
        if g % 2:  # half the products hold media of an earlier run: reuse and refresh
            items.append(
                GalleryItem(f"gid://shopify/MediaImage/{g}-r", record=LinkRecord(
                    f"{g:016x}{0:016x}", 1, "c_limit,h_2048,q_auto,w_2048"))
            )  # fmt: skip
        galleries[pid] = ProductState(pid, tuple(items))
    return assets, products, galleries


def core_once(assets, products, galleries):
    from linking.core import (
        CatalogIndex,
        LinkConfig,
        LinkMode,
        LinkSettings,
        match_groups,
        parse_field_ref,
        parse_shopify_field,
        plan_store,
        prepare_groups,
    )

    config = LinkConfig(
        parse_field_ref("metadata:sku"),
        parse_shopify_field("variant.sku"),
        LinkSettings(mode=LinkMode.POSITION, position=2),
        order_field=parse_field_ref("metadata:sequence_number"),
        image_transformation="c_limit,w_2048,h_2048,q_auto",
    )
    config.validate()
    index = CatalogIndex(products)
    prepared = prepare_groups(assets, config)
    match = match_groups(prepared.kept_groups, index, config.shopify_field)
    return plan_store(prepared, match, index, galleries, config)


def bench_core(args) -> None:
    assets, products, galleries = synthetic(args.assets, args.groups, args.variants)
    gc.collect()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    plan = core_once(assets, products, galleries)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    del plan
    gc.collect()
    tracemalloc.start()
    plan = core_once(assets, products, galleries)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ops = sum(len(p.operations) for p in plan.products)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("Planning (pure core): grouping + matching + planning")
    print(f"  input               {len(assets):,} assets in {args.groups:,} groups; catalog "
          f"index of {len(products):,} products / {args.variants:,} variants")  # fmt: skip
    print(f"  result              {plan.statistics.products_matched:,} products planned, "
          f"{ops:,} operations, {len(plan.rows):,} report rows")  # fmt: skip
    print(f"  CPU                 {cpu:.2f} s (wall {wall:.2f} s)   target < 5 s")
    print(f"  peak memory         {peak / 2**20:.0f} MB traced by tracemalloc (process max RSS "
          f"{rss:.0f} MB incl. the synthetic input)   target < 500 MB")  # fmt: skip


def bench_sandbox(args) -> None:
    import requests
    from django.conf import settings
    from django.db import connection

    from linking import catalog as catalog_module
    from linking import galleries as galleries_module
    from linking import services
    from linking.core import match_groups
    from sandbox.cloudinary.server import make_app as make_cloudinary
    from sandbox.common import serve_in_thread
    from sandbox.shopify.server import make_app as make_shopify
    from stores.clients import shopify_client
    from stores.cloudinary.client import clear_caches
    from stores.models import Store, Workspace, WorkspaceSettings
    from stores.shopify.cost import CostLedger

    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    cloudinary = serve_in_thread(make_cloudinary(n_assets=10))
    shopify = serve_in_thread(make_shopify(bulk_delay=0.2, media_delay=0.01))
    settings.CLOUDINARY_API_BASE_URL = cloudinary.url
    settings.SHOPIFY_ADMIN_BASE_URL = shopify.url + "/{shop}"
    clear_caches()
    n = args.products
    # ~3.4 assets per SKU in the seeded library: enough SKUs for n products
    requests.post(f"{cloudinary.url}/_control/clouds", json={
        "cloud_name": "bench", "api_key": "k", "api_secret": "s",
        "seed": {"n_assets": int(n * 3.6) + 50, "seed": 5}}, timeout=60).raise_for_status()  # fmt: skip
    skus = requests.get(f"{cloudinary.url}/_control/clouds/bench/skus", timeout=60).json()
    domain = "bench-shop.myshopify.com"
    token = requests.post(f"{shopify.url}/_control/shops", json={
        "domain": domain, "plan": "standard", "token": True}, timeout=10).json()  # fmt: skip
    requests.post(f"{shopify.url}/_control/shops/{domain}/seed", json={
        "products": n, "media_per_product": 4, "variants_per_product": 2,
        "sku_pattern": "SKU-{p:05d}", "seed": 1}, timeout=60).raise_for_status()  # fmt: skip
    workspace = Workspace.objects.create(
        name="Bench", cloudinary_cloud_name="bench", cloudinary_api_key="k",
        cloudinary_api_secret="s",
    )  # fmt: skip
    WorkspaceSettings.objects.create(workspace=workspace)
    store = Store.objects.create(
        workspace=workspace, shop_domain=domain, access_token=token["token"]["access_token"]
    )
    wanted = [s["sku"] for s in skus["skus"][:n]]
    expression = " OR ".join(f"metadata.sku={s}" for s in wanted)
    plan = services.plan_create(user=None, workspace=workspace, data={
        "expression": expression, "stores": [domain], "cloudinary_field": "metadata:sku",
        "shopify_field": "variant.sku", "link_mode": "append"})  # fmt: skip

    started = time.monotonic()
    plan = services.plan_dry_run(plan=plan)
    wall = time.monotonic() - started
    result = plan.results.get()

    # The same reads, phase by phase and per galleries path, with a ledger each.
    def fresh():
        return shopify_client(store, ledger=CostLedger())

    from common.fields import core_asset
    from linking.services import link_config

    cloud = services._default_cloudinary(workspace)
    config = link_config(plan, WorkspaceSettings.objects.get(workspace=workspace))
    resolution = cloud.resolve(expression=expression)
    prepared = services.prepare_groups([core_asset(a) for a in resolution.assets], config)
    values = [g.value for g in prepared.kept_groups]
    client = fresh()
    found = catalog_module.catalog_for(store, client, config.shopify_field, values)
    match = match_groups(prepared.kept_groups, found.index, config.shopify_field)
    catalog_ledger = client.ledger
    product_ids = list(match.groups_by_product)
    variant_ids = [v for m in match.group_matches for h in m.hits for v in h.variant_ids]
    per_path = {}
    for path in ("nodes", "bulk"):
        client = fresh()
        galleries_module.read_galleries(
            client, store, product_ids, variant_ids=variant_ids, path=path
        )
        per_path[path] = client.ledger
    cloudinary.shutdown()
    shopify.shutdown()

    print(f"\nDry run against the sandbox: {len(product_ids)} matched products "
          f"(4 media and 2 variants each), {len(resolution.assets)} assets")  # fmt: skip
    print(f"  whole dry run       {result.shopify_calls} calls, {result.shopify_points:.0f} "
          f"points, {wall:.2f} s wall; catalog path '{result.catalog_path}', galleries path "
          f"'{result.galleries_path}'")  # fmt: skip
    print(f"  finding products    {catalog_ledger.calls} calls, {catalog_ledger.actual_points} "
          f"points ({found.choice.reason})")  # fmt: skip
    for path, ledger in per_path.items():
        per = ledger.actual_points / max(1, len(product_ids))
        print(f"  galleries ({path:5}) {ledger.calls} calls, {ledger.actual_points} points "
              f"actual ({ledger.requested_points} requested) = {per:.2f} points per product"
              f"{'   target < 5' if path == result.galleries_path else ''}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=2_000)
    parser.add_argument("--variants", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--skip-sandbox", action="store_true")
    args = parser.parse_args()
    setup()
    bench_core(args)
    if not args.skip_sandbox:
        bench_sandbox(args)


if __name__ == "__main__":
    main()
