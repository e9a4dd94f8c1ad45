"""Benchmark: Upload to Store Files of 1,000 images on a Shopify plan, and a naive baseline.

1,000 images (tag ``bench``) uploaded to the store's Files library through the product's path:
batch → dry run → start → run (RQ job, in-process worker), Shopify media processing delay 1 s.

Prints calls, requested/actual points, THROTTLED seen, wall time, the floor and wall/floor
(target ≤ 1.5), and where the time went (Shopify bucket waits, HTTP, database; see
bench/harness.py). The floor is what Shopify makes any client wait (`harness.shopify_floor`):
max(cost floor, cost floor of the points granted up to the last fileCreate + media delay), the
cost floor of P points being max(0, P − bucket) / restoreRate — a file is READY no sooner than
the media delay after its fileCreate, and that fileCreate needed every point granted before it.
Then a naive baseline on a fresh
store of the same plan — one fileCreate per image, then each file polled until READY — with the
same figures, and the ratios.

    .venv/bin/python -m bench.upload_run [--assets 1000] [--media-delay 1.0]
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

PER_GROUP = 5


def upload(workspace, store) -> tuple:
    """Batch → dry run → start, as the Upload tab does; returns (batch, run)."""
    from uploads import services

    batch = services.batch_create(
        user=None,
        workspace=workspace,
        data={"expression": "tags=bench", "stores": [store.shop_domain]},
    )
    batch = services.batch_dry_run(batch=batch)
    (run,) = services.batch_start(batch=batch)
    return batch, run


def check(sandbox: Sandbox, domain: str, batch, run) -> dict:
    """Files in the store against the batch: READY, FAILED, missing, duplicates."""
    from uploads.models import UploadItem

    files = sandbox.get(f"shops/{domain}")["files"]
    by_id = {f["id"]: f for f in files}
    items = list(UploadItem.objects.filter(run=run))
    ids = [i.file_id for i in items if i.file_id]
    return {
        "assets": len(batch.assets),
        "files": len(files),
        "ready": sum(1 for i in ids if by_id.get(i, {}).get("status") == "READY"),
        "missing": sum(1 for i in items if not i.file_id or i.file_id not in by_id),
        "duplicates": len(ids) - len(set(ids)),
        "failed_rows": run.rows.filter(action="failed").count(),
    }


STATUS = """query NaiveFileStatus($id: ID!) { node(id: $id) { ... on File { fileStatus } } }"""


def naive_baseline(domain: str, token: str, assets: list[dict], timings) -> dict:
    """Bench-only: a straightforward client: one fileCreate per image (the same source URL,
    filename and alt as ours), then each file polled until it is READY."""
    from stores.shopify.client import ShopifyClient
    from stores.shopify.operations import Operation

    create = Operation(
        "NaiveFileCreate",
        "mutation NaiveFileCreate($files: [FileCreateInput!]!) {\n"
        "  fileCreate(files: $files) { files { id } userErrors { code message } }\n}",
        idempotent=False,
    )
    status = Operation("NaiveFileStatus", STATUS)
    client = ShopifyClient(domain, token)
    started = time.monotonic()
    with timings.measure() as spent:
        created = []
        for asset in assets:
            spec = {
                "originalSource": asset["url"],
                "filename": asset["filename"],
                "alt": asset["alt"] or "",
                "contentType": "IMAGE",
            }
            result = client.execute(create, {"files": [spec]})
            created.append(result.data["fileCreate"]["files"][0]["id"])
        for file_id in created:
            while True:
                node = client.execute(status, {"id": file_id}).data["node"]
                if node["fileStatus"] in ("READY", "FAILED"):
                    break
                time.sleep(0.2)
    ledger = client.ledger
    return {
        "calls": ledger.calls,
        "requested": ledger.requested_points,
        "actual": ledger.actual_points,
        "throttled": ledger.throttled_seen,
        "wall": time.monotonic() - started,
        "spent": spent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--media-delay", type=float, default=1.0)
    parser.add_argument("--plan", choices=PLANS, default="standard")
    parser.add_argument("--skip-naive", action="store_true")
    add_emulator_argument(parser)
    args = parser.parse_args()

    start_django("upload-run")

    timings = Timings().install()
    t0 = time.monotonic()
    groups = -(-args.assets // PER_GROUP)
    sandbox = Sandbox(
        media_delay=args.media_delay,
        groups=groups,
        per_group=PER_GROUP,
        existing=0,
        emulators=args.emulators,
    )
    domain = "bench-ours.myshopify.com"
    token = sandbox.shop(domain, args.plan, products=0)
    workspace, store = make_workspace(sandbox, domain, token)
    print(
        f"set-up: {sandbox.assets} images, {args.plan} plan, media delay {args.media_delay}s "
        f"({time.monotonic() - t0:.1f}s)"
    )

    t0, since = time.monotonic(), time.time()
    batch, run = upload(workspace, store)
    print(f"batch + dry run: {time.monotonic() - t0:.1f}s, {len(batch.assets)} assets")
    run, wall, size, rate = work_run(
        sandbox, domain, "uploads", run.pk, timings, since=since, media_delay=args.media_delay,
        target=1.5, title=lambda run: f"upload run {run.pk}: {run.status}, {run.summary}",
    )  # fmt: skip
    print(f"  checks               {check(sandbox, domain, batch, run)}")

    if args.skip_naive:
        return
    naive_domain = "bench-naive.myshopify.com"
    naive_token = sandbox.shop(naive_domain, args.plan, products=0)
    naive_since = time.time()
    naive = naive_baseline(naive_domain, naive_token, batch.assets, timings)
    print_naive(
        sandbox, naive_domain, naive, since=naive_since, size=size, rate=rate,
        media_delay=args.media_delay,
        title="naive baseline (fileCreate per image, then each file polled until READY):",
    )  # fmt: skip
    print("\nours vs naive:")
    print(f"  points (actual)      {run.points_actual} vs {naive['actual']}: "
          f"ratio {run.points_actual / naive['actual']:.3f}")  # fmt: skip
    print(f"  wall                 {wall:.1f}s vs {naive['wall']:.1f}s: "
          f"ratio {wall / naive['wall']:.3f}")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
