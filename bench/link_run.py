"""Benchmark: a link run at Standard plan, and a deliberately naive baseline doing the same work.

1,000 assets in 200 groups (5 each, tag ``bench``) linked by ``metadata:sku`` → ``variant.sku``
to 200 products with 5 media each, append mode, Shopify media processing delay 1 s. The run is
the product's path end to end: plan → dry run → run (RQ job, in-process worker). Variant image
assignment is off so that both sides do the same work (the baseline does none).

Prints calls, requested/actual points, THROTTLED seen, wall time, the cost floor
max(0, points − bucket) / restoreRate and wall/floor (target ≤ 1.25); then the naive baseline
(one lookup per group, one productCreateMedia per asset, one reorder per asset) on a fresh
store, and the ratios (target: our points ≤ 1/4 of the baseline's).

    .venv/bin/python -m bench.link_run [--groups 200] [--per-group 5] [--media-delay 1.0]
                                       [--skip-naive]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor


def prepare_environment(name: str) -> str:
    """A database of the benchmark's own (a temporary SQLite file), set before Django starts."""
    path = os.path.join(tempfile.mkdtemp(prefix=f"assetlink-{name}-"), "bench.sqlite3")
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return path


def isolate_redis(db: int = 14) -> str:
    """Jobs and locks in a Redis database of their own (a demo worker must not take them)."""
    from django.conf import settings

    base = settings.REDIS_URL
    if base.startswith("unix://"):
        url = base.split("?")[0] + f"?db={db}"
    else:
        url = base.rsplit("/", 1)[0] + f"/{db}"
    settings.REDIS_URL = url
    settings.RQ_QUEUES = {n: {**cfg, "URL": url} for n, cfg in settings.RQ_QUEUES.items()}
    import django_rq

    django_rq.get_queue("links").empty()
    return url


class Sandbox:
    """Both emulators in this process, a cloud of `groups` × `per_group` assets and shops."""

    def __init__(self, *, media_delay: float, groups: int, per_group: int, existing: int):
        import requests
        from django.conf import settings

        from sandbox.cloudinary.server import make_app as make_cloudinary
        from sandbox.common import serve_in_thread
        from sandbox.shopify.server import make_app as make_shopify

        self.requests = requests
        self.groups, self.per_group, self.existing = groups, per_group, existing
        self.cloudinary = serve_in_thread(make_cloudinary(n_assets=10))
        self.shopify = serve_in_thread(make_shopify(media_delay=media_delay, job_delay=0.2))
        settings.SHOPIFY_ADMIN_BASE_URL = self.shopify.url + "/{shop}"
        settings.CLOUDINARY_API_BASE_URL = self.cloudinary.url
        self.cloud = "bench"
        self.post(
            self.cloudinary.url,
            "clouds",
            {"cloud_name": self.cloud, "api_key": "bench-key", "api_secret": "bench-secret",
             "rate_limit": 100000, "seed": {"n_assets": 10, "sku_pattern": "SEED-{n:03d}"}},
        )  # fmt: skip

        def add(n: int) -> None:
            group, index = divmod(n, per_group)
            self.post(
                self.cloudinary.url,
                f"clouds/{self.cloud}/assets",
                {"public_id": f"bench/bench-{group + 1:05d}_{index + 1}",
                 "metadata": {"sku": self.sku(group + 1), "sequence_number": index + 1},
                 "tags": ["bench"], "width": 600, "height": 600},
            )  # fmt: skip

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(add, range(groups * per_group)))

    @staticmethod
    def sku(n: int) -> str:
        return f"BENCH-{n:05d}"

    def post(self, base: str, path: str, body: dict) -> dict:
        r = self.requests.post(f"{base}/_control/{path}", json=body, timeout=60)
        r.raise_for_status()
        return r.json()

    def get(self, path: str) -> dict:
        r = self.requests.get(f"{self.shopify.url}/_control/{path}", timeout=60)
        r.raise_for_status()
        return r.json()

    def shop(self, domain: str, plan: str = "standard") -> str:
        token = self.post(
            self.shopify.url, "shops", {"domain": domain, "plan": plan, "token": True}
        )["token"]["access_token"]
        self.post(
            self.shopify.url,
            f"shops/{domain}/seed",
            {"products": self.groups, "sku_pattern": "BENCH-{n:05d}", "seed": 1,
             "media_per_product": self.existing, "variants_per_product": 1},
        )  # fmt: skip
        return token

    def galleries(self, domain: str) -> dict[str, list[str]]:
        state = self.get(f"shops/{domain}")
        return {p["id"]: list(p["media"]) for p in state["products"]}

    def bucket(self, domain: str) -> dict:
        return self.get(f"shops/{domain}/bucket")


def make_workspace(sandbox: Sandbox, domain: str, token: str):
    from django.utils import timezone

    from stores.models import Store, Workspace
    from stores.services import settings_for

    workspace = Workspace.objects.create(
        name=f"bench {domain}",
        cloudinary_cloud_name=sandbox.cloud,
        cloudinary_api_key="bench-key",
        cloudinary_api_secret="bench-secret",
    )
    setup = settings_for(workspace)
    setup.batch_size_limit = max(setup.batch_size_limit, 100_000)
    setup.save()
    store = Store.objects.create(
        workspace=workspace, shop_domain=domain, access_token=token, installed_at=timezone.now()
    )
    return workspace, store


def plan_and_dry_run(workspace, store, mode: str = "append"):
    from linking import services

    plan = services.plan_create(
        user=None,
        workspace=workspace,
        data={
            "expression": "tags=bench",
            "stores": [store.shop_domain],
            "cloudinary_field": "metadata:sku",
            "shopify_field": "variant.sku",
            "link_mode": mode,
            "order_field": "metadata:sequence_number",
            "assign_variant_images": False,
        },
    )
    return services.plan_dry_run(plan=plan)


def check(sandbox: Sandbox, store, before: dict[str, list[str]], run) -> dict:
    """Galleries against the plan (append: the old media, then the group's assets in order),
    duplicate media, assets missing from the report."""
    from linking.models import LinkRecord

    records = {r.media_id: r for r in LinkRecord.objects.filter(store=store)}
    wanted: dict[str, list[str]] = {}
    for work in run.work["products"]:
        wanted[work["product_id"]] = [a["asset_id"] for a in work["assets"]]
    after = sandbox.galleries(store.shop_domain)
    differs = duplicates = 0
    for product_id, assets in wanted.items():
        media = after.get(product_id, [])
        old = [m for m in media if m in set(before.get(product_id, []))]
        new = [records[m].asset_id if m in records else f"?{m}" for m in media if m not in old]
        if old != before.get(product_id, []) or new != assets or media[: len(old)] != old:
            differs += 1
        duplicates += len(new) - len(set(new)) + sum(1 for a in new if a.startswith("?"))
    selection = {a["asset_id"] for w in run.work["products"] for a in w["assets"]}
    reported = set(run.rows.exclude(asset_id="").values_list("asset_id", flat=True))
    return {
        "products": len(wanted),
        "differs": differs,
        "duplicates": duplicates,
        "missing_from_report": len(selection - reported),
        "failed_rows": run.rows.filter(action="failed").count(),
    }


def naive_baseline(sandbox: Sandbox, domain: str, token: str, works, urls) -> dict:
    """Bench-only: what a straightforward client would do, call by call."""
    from linking.runs import identity_key
    from stores.shopify import operations as ops
    from stores.shopify.client import ShopifyClient
    from stores.shopify.operations import Operation

    lookup = Operation(
        "NaiveLookup",
        "query NaiveLookup($q: String!) {\n"
        "  productVariants(first: 1, query: $q) { nodes { id product { id } } }\n}",
    )
    create = Operation(
        "NaiveCreateMedia",
        "mutation NaiveCreateMedia($productId: ID!, $media: [CreateMediaInput!]!) {\n"
        "  productCreateMedia(productId: $productId, media: $media) {\n"
        "    media { id } mediaUserErrors { code message }\n  }\n}",
        idempotent=False,
    )
    client = ShopifyClient(domain, token)
    started = time.monotonic()
    for work in works:
        group = work.assets[0].group
        found = client.execute(lookup, {"q": f"sku:{group}"}).data["productVariants"]["nodes"]
        product_id = found[0]["product"]["id"]
        position = sandbox.existing
        for asset in work.assets:
            url = urls[identity_key(*asset.identity)]
            media = [{"originalSource": url, "alt": asset.alt or "", "mediaContentType": "IMAGE"}]
            result = client.execute(create, {"productId": product_id, "media": media})
            media_id = result.data["productCreateMedia"]["media"][0]["id"]
            client.execute(
                ops.PRODUCT_REORDER_MEDIA,
                {"id": product_id, "moves": [{"id": media_id, "newPosition": str(position)}]},
            )
            position += 1
    wall = time.monotonic() - started
    ledger = client.ledger
    return {
        "calls": ledger.calls,
        "requested": ledger.requested_points,
        "actual": ledger.actual_points,
        "throttled": ledger.throttled_seen,
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--per-group", type=int, default=5)
    parser.add_argument("--existing", type=int, default=5)
    parser.add_argument("--media-delay", type=float, default=1.0)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()

    prepare_environment("link-run")
    from bench._django import setup

    setup()
    import logging

    logging.getLogger("rq").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    isolate_redis()
    import django_rq
    from rq import SimpleWorker

    from linking import runs
    from reports.models import Run

    t0 = time.monotonic()
    sandbox = Sandbox(
        media_delay=args.media_delay,
        groups=args.groups,
        per_group=args.per_group,
        existing=args.existing,
    )
    domain = "bench-ours.myshopify.com"
    token = sandbox.shop(domain)
    workspace, store = make_workspace(sandbox, domain, token)
    print(
        f"set-up: {args.groups * args.per_group} assets in {args.groups} groups, "
        f"{args.groups} products x {args.existing} media, Standard plan, "
        f"media delay {args.media_delay}s ({time.monotonic() - t0:.1f}s)"
    )

    t0 = time.monotonic()
    plan = plan_and_dry_run(workspace, store)
    result = plan.results.get(store=store)
    print(
        f"dry run: {time.monotonic() - t0:.1f}s, {result.shopify_calls} calls, "
        f"{result.shopify_points:.0f} points ({result.catalog_path} catalog, "
        f"{result.galleries_path} galleries)"
    )

    before = sandbox.galleries(domain)
    run = runs.run_start_from_plan(plan=plan, store=store)
    queue = django_rq.get_queue("links")
    SimpleWorker([queue], connection=queue.connection).work(burst=True, with_scheduler=False)
    run = Run.objects.get(pk=run.pk)
    wall = (run.finished_at - run.started_at).total_seconds()
    bucket = sandbox.bucket(domain)
    size, rate = bucket["maximumAvailable"], bucket["restoreRate"]
    floor = max(0.0, run.points_actual - size) / rate
    checks = check(sandbox, store, before, run)
    print(f"\nlink run {run.pk}: {run.status}, {run.products_done} products, {run.summary}")
    print(f"  calls                {run.calls}")
    print(f"  points requested     {run.points_requested}")
    print(f"  points actual        {run.points_actual}")
    print(f"  THROTTLED seen       {run.throttled}")
    print(f"  wall                 {wall:.1f}s")
    print(f"  bucket / restore     {size:.0f} / {rate:.0f} per s")
    print(f"  cost floor           max(0, {run.points_actual} - {size:.0f}) / {rate:.0f} = "
          f"{floor:.1f}s")  # fmt: skip
    print(f"  wall / floor         {wall / floor:.2f}" if floor else "  wall / floor  n/a")
    print(f"  checks               {checks}")

    if args.skip_naive:
        return
    naive_domain = "bench-naive.myshopify.com"
    naive_token = sandbox.shop(naive_domain)
    works, urls, _ = runs.works_from_plan_store(result)
    naive = naive_baseline(sandbox, naive_domain, naive_token, works, urls)
    print("\nnaive baseline (lookup per group, productCreateMedia + reorder per asset):")
    print(f"  calls                {naive['calls']}")
    print(f"  points requested     {naive['requested']}")
    print(f"  points actual        {naive['actual']}")
    print(f"  THROTTLED seen       {naive['throttled']}")
    print(f"  wall                 {naive['wall']:.1f}s")
    print("\nours vs naive:")
    print(f"  points (actual)      {run.points_actual} vs {naive['actual']}: "
          f"ratio {run.points_actual / naive['actual']:.3f} (target <= 0.25)")  # fmt: skip
    print(f"  wall                 {wall:.1f}s vs {naive['wall']:.1f}s: "
          f"ratio {wall / naive['wall']:.3f}")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
