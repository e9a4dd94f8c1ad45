"""`python -m sandbox`: start the Shopify and Cloudinary emulators until Ctrl-C.

Environment: SANDBOX_HOST (127.0.0.1), SANDBOX_SHOPIFY_PORT (8701),
SANDBOX_CLOUDINARY_PORT (8702). See sandbox/README.md.

`--shop DOMAIN[:PRODUCTS]` (repeatable) creates a shop whose catalog matches the Cloudinary
library's SKUs (one product per SKU group unless PRODUCTS is given), ready to be installed.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

import requests

from sandbox.common import serve_in_thread


def seed_shop(shopify_url: str, cloudinary_url: str, spec: str, cloud: str) -> dict:
    """Create a shop (`domain[:products]`) with a catalog matching `cloud`'s SKUs."""
    domain, _, count = spec.partition(":")
    if "." not in domain:
        domain += ".myshopify.com"
    skus = requests.get(f"{cloudinary_url}/_control/clouds/{cloud}/skus", timeout=30).json()
    products = int(count) if count else skus["count"]
    body = {
        "domain": domain,
        "seed": {"products": products, "sku_pattern": skus["sku_pattern"],
                 "media_per_product": [0, 2], "seed": sum(map(ord, domain))},
    }  # fmt: skip
    response = requests.post(f"{shopify_url}/_control/shops", json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--shop",
        action="append",
        default=[],
        metavar="DOMAIN[:PRODUCTS]",
        help="create a shop with a catalog matching the Cloudinary library's SKUs, e.g. "
        "demo-3.myshopify.com (repeatable)",
    )
    args = parser.parse_args(argv)
    host = os.environ.get("SANDBOX_HOST", "127.0.0.1")
    servers = []
    from sandbox.shopify.server import make_app as make_shopify

    servers.append(
        (
            "Shopify",
            serve_in_thread(
                make_shopify(), host, int(os.environ.get("SANDBOX_SHOPIFY_PORT", "8701"))
            ),
        )
    )
    from sandbox.cloudinary.server import make_app as make_cloudinary

    servers.append(
        (
            "Cloudinary",
            serve_in_thread(
                make_cloudinary(), host, int(os.environ.get("SANDBOX_CLOUDINARY_PORT", "8702"))
            ),
        )
    )
    for name, running in servers:
        print(f"{name} emulator: {running.url}", flush=True)
    cloud = os.environ.get("SANDBOX_CLOUDINARY_CLOUD", "demo")
    for spec in args.shop:
        shop = seed_shop(servers[0][1].url, servers[1][1].url, spec, cloud)
        print(f"Shop {shop['domain']}: {shop['products_count']} products", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for _, running in servers:
            running.shutdown()


if __name__ == "__main__":
    main()
