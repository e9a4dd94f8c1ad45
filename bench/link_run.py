"""Benchmark: a link run on a Shopify plan, and a naive baseline doing the same work, no more.

1,000 assets in 200 groups (5 each, tag ``bench``) linked by ``metadata:sku`` → ``variant.sku``
to 200 products with 5 media each, append mode, Shopify media processing delay 1 s. The run is
the product's path end to end: plan → dry run → run (RQ job, in-process worker). Variant image
assignment is off so that both sides do the same work (the baseline does none).

Prints calls, requested/actual points, THROTTLED seen, wall time, the floor — what Shopify makes
any client wait (`harness.shopify_floor`): max(cost floor, cost floor of the points granted up to
the last call creating media + media delay), the cost floor of P points being
max(0, P − bucket) / restoreRate, since media are READY no sooner than the media delay after
their create — wall/floor (target ≤ 1.25) and where the time went
(Shopify bucket waits, HTTP, database; see bench/harness.py); then the naive baseline on a
fresh store of the same plan: one lookup per group, one productCreateMedia per asset (appended
in order, so no reorder is needed) and one READY check per product, and the ratios (target:
our points ≤ 0.4 of the baseline's).

    .venv/bin/python -m bench.link_run [--groups 200] [--per-group 5] [--media-delay 1.0]
                                       [--plan standard|advanced|plus] [--skip-naive]
                                       [--emulators process|thread]
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.harness import (
    PLANS,
    Sandbox,
    Timings,
    add_emulator_argument,
    make_workspace,
    print_naive,
    start_django,
    work_run,
)


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
    """Galleries against the plan (append: the old media, then the group's assets in order):
    products at neither their gallery before nor their plan (half-changed), media of before
    gone from Files (lost), duplicate media, assets missing from the report."""
    from linking.models import LinkRecord

    records = {r.media_id: r for r in LinkRecord.objects.filter(store=store)}
    wanted: dict[str, list[str]] = {
        p.product_id: [a["asset_id"] for a in p.work["assets"]] for p in run.products.order_by("id")
    }
    after = sandbox.galleries(store.shop_domain)
    files = {f["id"] for f in sandbox.get(f"shops/{store.shop_domain}")["files"]}
    differs = duplicates = half_changed = 0
    lost = sum(1 for media in before.values() for m in media if m not in files)
    for product_id, assets in wanted.items():
        media = after.get(product_id, [])
        old = [m for m in media if m in set(before.get(product_id, []))]
        new = [records[m].asset_id if m in records else f"?{m}" for m in media if m not in old]
        planned = old == before.get(product_id, []) and new == assets and media[: len(old)] == old
        if not planned:
            differs += 1
            half_changed += media != before.get(product_id, [])
        duplicates += len(new) - len(set(new)) + sum(1 for a in new if a.startswith("?"))
    selection = {a for assets in wanted.values() for a in assets}
    reported = set(run.rows.exclude(asset_id="").values_list("asset_id", flat=True))
    return {
        "products": len(wanted),
        "differs": differs,
        "half_changed": half_changed,
        "lost": lost,
        "duplicates": duplicates,
        "missing_from_report": len(selection - reported),
        "failed_rows": run.rows.filter(action="failed").count(),
    }


CONFIRM = """query NaiveConfirm($id: ID!, $last: Int!) {
  product(id: $id) { media(last: $last) { nodes { status } } }
}"""


def naive_baseline(sandbox: Sandbox, domain: str, token: str, works, urls, timings) -> dict:
    """Bench-only: what a straightforward client would do, call by call, for the same result
    as ours and no more: per group one variant lookup, per asset one productCreateMedia
    (appended one after another they land in the planned order, so no reorder), then per
    product one read of the new media until they are READY (ours confirms READY too)."""
    from linking.runs import identity_key
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
    confirm = Operation("NaiveConfirm", CONFIRM)
    client = ShopifyClient(domain, token)
    points: dict[str, int] = {}

    def phase(name: str, before: int) -> None:
        points[name] = points.get(name, 0) + client.ledger.actual_points - before

    started = time.monotonic()
    with timings.measure() as spent:
        products = []
        for work in works:
            before = client.ledger.actual_points
            group = work.assets[0].group
            found = client.execute(lookup, {"q": f"sku:{group}"}).data["productVariants"]["nodes"]
            product_id = found[0]["product"]["id"]
            phase("lookup", before)
            before = client.ledger.actual_points
            for asset in work.assets:
                url = urls[identity_key(*asset.identity)]
                media = [
                    {"originalSource": url, "alt": asset.alt or "", "mediaContentType": "IMAGE"}
                ]
                client.execute(create, {"productId": product_id, "media": media})
            phase("productCreateMedia", before)
            products.append((product_id, len(work.assets)))
        for product_id, count in products:
            before = client.ledger.actual_points
            while True:
                nodes = client.execute(confirm, {"id": product_id, "last": count}).data
                if all(
                    n["status"] in ("READY", "FAILED") for n in nodes["product"]["media"]["nodes"]
                ):
                    break
                time.sleep(0.2)
            phase("confirm READY", before)
    ledger = client.ledger
    return {
        "calls": ledger.calls,
        "requested": ledger.requested_points,
        "actual": ledger.actual_points,
        "throttled": ledger.throttled_seen,
        "wall": time.monotonic() - started,
        "points": points,
        "spent": spent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--per-group", type=int, default=5)
    parser.add_argument("--existing", type=int, default=5)
    parser.add_argument("--media-delay", type=float, default=1.0)
    parser.add_argument("--plan", choices=PLANS, default="standard")
    parser.add_argument("--skip-naive", action="store_true")
    add_emulator_argument(parser)
    args = parser.parse_args()

    start_django("link-run")
    from linking import runs

    timings = Timings().install()
    t0 = time.monotonic()
    sandbox = Sandbox(
        media_delay=args.media_delay,
        groups=args.groups,
        per_group=args.per_group,
        existing=args.existing,
        emulators=args.emulators,
    )
    domain = "bench-ours.myshopify.com"
    token = sandbox.shop(domain, args.plan)
    workspace, store = make_workspace(sandbox, domain, token)
    print(
        f"set-up: {sandbox.assets} assets in {args.groups} groups, "
        f"{args.groups} products x {args.existing} media, {args.plan} plan, "
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
    since = time.time()
    run, wall, size, rate = work_run(
        sandbox, domain, "links", run.pk, timings, since=since, media_delay=args.media_delay,
        target=1.25,
        title=lambda run: f"link run {run.pk}: {run.status}, {run.products_done} products, "
        f"{run.summary}",
    )  # fmt: skip
    print(f"  checks               {check(sandbox, store, before, run)}")

    if args.skip_naive:
        return
    naive_domain = "bench-naive.myshopify.com"
    naive_token = sandbox.shop(naive_domain, args.plan)
    works, urls, _ = runs.works_from_plan_store(result)
    naive_since = time.time()
    naive = naive_baseline(sandbox, naive_domain, naive_token, works, urls, timings)
    print_naive(
        sandbox, naive_domain, naive, since=naive_since, size=size, rate=rate,
        media_delay=args.media_delay,
        title="naive baseline (lookup per group, productCreateMedia per asset, READY check per "
        "product):",
    )  # fmt: skip
    print("  points by step       " + ", ".join(f"{k} {v}" for k, v in naive["points"].items()))
    without_confirm = naive["actual"] - naive["points"].get("confirm READY", 0)
    print("\nours vs naive:")
    print(f"  points (actual)      {run.points_actual} vs {naive['actual']}: "
          f"ratio {run.points_actual / naive['actual']:.3f} (target <= 0.4)")  # fmt: skip
    print(f"  (vs naive without the READY check: {without_confirm}, "
          f"ratio {run.points_actual / without_confirm:.3f})")  # fmt: skip
    print(f"  wall                 {wall:.1f}s vs {naive['wall']:.1f}s: "
          f"ratio {wall / naive['wall']:.3f}")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
