"""Benchmark: the Shopify client against the emulator at Standard plan.

300 mixed read queries and 100 mutations, as fast as the bucket allows, from several threads
sharing one client. Prints the cost ledger and the cost floor
max(0, points − bucket) / restoreRate; target wall/floor ≤ 1.15 with 0 THROTTLED surfaced.

    .venv/bin/python -m bench.shopify_client [--threads 4] [--reads 300] [--mutations 100]
"""

from __future__ import annotations

import argparse
import itertools
import queue
import random
import threading
import time

from bench._django import setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reads", type=int, default=300)
    parser.add_argument("--mutations", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    setup()

    import requests
    from django.conf import settings

    from sandbox.common import serve_in_thread
    from sandbox.shopify.server import make_app
    from stores.shopify import operations as ops
    from stores.shopify.client import ShopifyClient
    from stores.shopify.errors import ShopifyError

    server = serve_in_thread(make_app(media_delay=0.05, job_delay=0.05))
    settings.SHOPIFY_ADMIN_BASE_URL = server.url + "/{shop}"
    shop = "bench-standard.myshopify.com"
    control = f"{server.url}/_control"
    token = requests.post(
        f"{control}/shops", json={"domain": shop, "plan": "standard", "token": True}, timeout=10
    ).json()["token"]["access_token"]
    requests.post(
        f"{control}/shops/{shop}/seed",
        json={"products": 60, "variants_per_product": 3, "media_per_product": 4, "seed": 1},
        timeout=30,
    ).raise_for_status()
    catalog = requests.get(f"{control}/shops/{shop}", timeout=10).json()["products"]
    products = [p["id"] for p in catalog]
    media = {p["id"]: p["media"] for p in catalog}
    variants = {p["id"]: [v["id"] for v in p["variants"]] for p in catalog}
    skus = [v["sku"] for p in catalog for v in p["variants"]]

    rng = random.Random(args.seed)
    reads = [
        lambda: (ops.PRODUCTS_SEARCH, {
            "query": f"sku:{rng.choice(skus)}", "first": 3, "variantsFirst": 5, "mediaFirst": 5,
        }),
        lambda: (ops.PRODUCT_VARIANTS_SEARCH, {"query": f"sku:{rng.choice(skus)}", "first": 5}),
        lambda: (ops.PRODUCT_GALLERIES, {"ids": rng.sample(products, 2), "mediaFirst": 10}),
        lambda: (ops.MEDIA_STATUS, {"ids": media[rng.choice(products)]}),
        lambda: (ops.FILES_SEARCH, {"query": "media_type:IMAGE", "first": 5}),
        lambda: (ops.SHOP_INFO, {}),
    ]  # fmt: skip

    def metafields():
        pid = rng.choice(products)
        value = f'["{rng.choice(media[pid])}"]'
        return ops.METAFIELDS_SET, {"metafields": [{
            "ownerId": pid, "namespace": "cloudinary", "key": "swatch",
            "type": "list.file_reference", "value": value,
        }]}  # fmt: skip

    def alt():
        pid = rng.choice(products)
        files = [{"id": rng.choice(media[pid]), "alt": f"Alt {rng.randrange(10**6)}"}]
        return ops.FILE_UPDATE, {"files": files}

    def reorder():
        pid = rng.choice(products)
        moves = [{"id": media[pid][-1], "newPosition": "0"}]
        return ops.PRODUCT_REORDER_MEDIA, {"id": pid, "moves": moves}

    def variant_media():
        pid = rng.choice(products)
        pairs = [{"variantId": variants[pid][0], "mediaIds": [media[pid][0]]}]
        op = rng.choice([ops.PRODUCT_VARIANT_APPEND_MEDIA, ops.PRODUCT_VARIANT_DETACH_MEDIA])
        return op, {"productId": pid, "variantMedia": pairs}

    mutations = [metafields, alt, reorder, variant_media]
    tasks = [reads[i % len(reads)] for i in range(args.reads)]
    tasks += [mutations[i % len(mutations)] for i in range(args.mutations)]
    rng.shuffle(tasks)
    work: queue.Queue = queue.Queue()
    for t in tasks:
        work.put(t)

    client = ShopifyClient(shop, token)
    surfaced, user_errors, done = [], 0, itertools.count()
    lock = threading.Lock()

    def worker():
        nonlocal user_errors
        while True:
            try:
                task = work.get_nowait()
            except queue.Empty:
                return
            with lock:
                op, variables = task()
            try:
                result = client.execute(op, variables)
                if result.user_errors:
                    with lock:
                        user_errors += 1
            except ShopifyError as exc:
                surfaced.append(exc)
            next(done)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    server.shutdown()

    ledger = client.ledger
    bucket, rate = client.bucket.maximum, client.bucket.restore_rate
    floor_actual = max(0, ledger.actual_points - bucket) / rate
    floor_requested = max(0, ledger.requested_points - bucket) / rate
    throttled_surfaced = sum(1 for e in surfaced if "THROTTLED" in getattr(e, "codes", []))
    print(f"Shopify client benchmark — Standard plan (bucket {bucket:.0f}, {rate:.0f} points/s)")
    print(f"  operations          {args.reads} reads + {args.mutations} mutations, "
          f"{args.threads} threads sharing one client")  # fmt: skip
    print(f"  calls               {ledger.calls}")
    print(f"  points requested    {ledger.requested_points}")
    print(f"  points actual       {ledger.actual_points}")
    print(
        f"  THROTTLED seen      {ledger.throttled_seen} (waited {ledger.throttled_wait_seconds:.2f}s)"
    )
    print(f"  THROTTLED surfaced  {throttled_surfaced}")
    print(
        f"  other errors        {len(surfaced) - throttled_surfaced}; userErrors answers {user_errors}"
    )
    print(f"  retries             {ledger.retries_total} {dict(ledger.retries) or ''}")
    print(
        f"  pacing waits        {ledger.pacing_waits} ({ledger.pacing_wait_seconds:.1f}s summed over threads)"
    )
    print(f"  wall time           {wall:.2f}s")
    print(
        f"  cost floor          {floor_actual:.2f}s = max(0, {ledger.actual_points} actual − {bucket:.0f}) / {rate:.0f}"
    )
    print(
        f"  wall / floor        {wall / floor_actual:.3f}  (target ≤ 1.15)"
        if floor_actual
        else "  wall / floor        n/a"
    )
    print(f"  (floor on requested points: {floor_requested:.2f}s; wall / that = "
          f"{wall / floor_requested:.3f})" if floor_requested else "")  # fmt: skip


if __name__ == "__main__":
    main()
