"""Benchmark: resolve 10,000 assets by id through the Cloudinary client (real SDK) against the
emulator. Prints the Admin API calls (target ≤ 25) and the wall time.

    .venv/bin/python -m bench.cloudinary_resolve [--assets 10000] [--missing 25]
"""

from __future__ import annotations

import argparse
import random
import time

from bench._django import setup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--missing", type=int, default=25, help="unknown ids mixed in")
    args = parser.parse_args()
    setup()

    import requests
    from django.conf import settings

    from sandbox.cloudinary.server import make_app
    from sandbox.common import serve_in_thread
    from stores.cloudinary import CloudinaryClient, Credentials
    from stores.cloudinary.client import clear_caches

    t0 = time.monotonic()
    app = make_app(n_assets=args.assets + 500, seed=42, rate_limit=2000)
    server = serve_in_thread(app)
    settings.CLOUDINARY_API_BASE_URL = server.url
    seeded = time.monotonic() - t0
    cloud = app.state.clouds["demo"]
    rng = random.Random(1)
    ids = rng.sample(sorted(cloud.assets), args.assets)
    unknown = [f"{rng.getrandbits(128):032x}" for _ in range(args.missing)]
    selection = ids + unknown
    rng.shuffle(selection)

    clear_caches()
    client = CloudinaryClient(Credentials("demo", cloud.api_key, cloud.api_secret))
    requests.delete(f"{server.url}/_control/clouds/demo/requests", timeout=10)
    started = time.monotonic()
    result = client.resolve(asset_ids=selection, limit=len(selection))
    wall = time.monotonic() - started
    log = requests.get(f"{server.url}/_control/clouds/demo/requests", timeout=10).json()
    calls = log["requests"]
    rate = client.rate_limit
    server.shutdown()

    by_path: dict[str, int] = {}
    for c in calls:
        key = c["path"].split("/demo/", 1)[1]
        by_path[key] = by_path.get(key, 0) + 1
    print("Cloudinary resolve benchmark — asset ids through the Search API (real SDK)")
    print(f"  selection           {len(ids)} known ids + {len(unknown)} unknown, shuffled")
    print(f"  assets resolved     {len(result.assets)}")
    print(f"  ids reported missing {len(result.missing_ids)}")
    print(
        f"  Admin API calls     {result.calls} (emulator saw {len(calls)}: {by_path}); target ≤ 25"
    )
    print(
        f"  wall time           {wall:.2f}s  (emulator start + seeding {seeded:.1f}s not counted)"
    )
    print(
        f"  rate limit after    {rate.remaining}/{rate.limit} left, resets {rate.reset_at:%H:%M} UTC"
    )


if __name__ == "__main__":
    main()
