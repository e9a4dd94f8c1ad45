"""`python -m sandbox --shop DOMAIN[:PRODUCTS]`: a shop whose catalog matches the Cloudinary
library's SKUs, created with one control call (`POST /_control/shops` with `seed`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_shop_flag_creates_a_shop_with_a_catalog_matching_the_library():
    shopify, cloudinary = _free_port(), _free_port()
    env = {**os.environ, "SANDBOX_SHOPIFY_PORT": str(shopify),
           "SANDBOX_CLOUDINARY_PORT": str(cloudinary), "SANDBOX_CLOUDINARY_ASSETS": "60"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--shop", "demo-3.myshopify.com", "--shop", "x-1:4"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        base = f"http://127.0.0.1:{shopify}/_control/shops"
        skus = requests.get(
            f"http://127.0.0.1:{cloudinary}/_control/clouds/demo/skus", timeout=10
        ).json()
        shop = requests.get(f"{base}/demo-3.myshopify.com", timeout=10).json()
        small = requests.get(f"{base}/x-1.myshopify.com", timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert f"Shop demo-3.myshopify.com: {skus['count']} products\n" in lines, lines
    assert "Shop x-1.myshopify.com: 4 products\n" in lines
    library = {s["sku"] for s in skus["skus"]}
    catalog = {v["sku"] for p in shop["products"] for v in p["variants"]}
    assert library <= catalog
    assert small.status_code == 200 and len(small.json()["products"]) == 4
