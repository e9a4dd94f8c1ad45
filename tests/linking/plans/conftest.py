"""Both emulators in-process (one each per session); each test gets its own Cloudinary cloud
and Shopify shop, seeded so that the cloud's SKU groups match the shop's variant SKUs."""

from __future__ import annotations

import itertools

import pytest
import requests

from sandbox.cloudinary.server import make_app as make_cloudinary
from sandbox.common import serve_in_thread
from sandbox.shopify.server import make_app as make_shopify
from stores.cloudinary.client import clear_caches
from tests.factories import MemberFactory, StoreFactory, WorkspaceFactory

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def emulators():
    cloudinary = serve_in_thread(make_cloudinary(n_assets=10))
    shopify = serve_in_thread(make_shopify(media_delay=0.01, job_delay=0.01, bulk_delay=0.02))
    yield cloudinary.url, shopify.url
    cloudinary.shutdown()
    shopify.shutdown()


class Sandbox:
    def __init__(self, cloudinary_url: str, shopify_url: str, workspace):
        self.cloudinary_url = cloudinary_url
        self.shopify_url = shopify_url
        self.workspace = workspace
        self.cloud = workspace.cloudinary_cloud_name

    def skus(self) -> list[dict]:
        r = requests.get(f"{self.cloudinary_url}/_control/clouds/{self.cloud}/skus", timeout=10)
        r.raise_for_status()
        return r.json()["skus"]

    def assets(self, expression: str = "", limit: int = 1000) -> list[dict]:
        r = requests.get(
            f"{self.cloudinary_url}/_control/clouds/{self.cloud}/assets",
            params={"limit": limit, **({"expression": expression} if expression else {})},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["assets"]

    def add_asset(self, body: dict) -> dict:
        r = requests.post(
            f"{self.cloudinary_url}/_control/clouds/{self.cloud}/assets", json=body, timeout=10
        )
        r.raise_for_status()
        return r.json()

    def shop(self, *, products: int, media_per_product: int = 2, **seed):
        """A new shop of the workspace: a Store row and a catalog whose SKUs are SKU-00001…"""
        domain = f"plan-test-{next(_numbers)}.myshopify.com"
        r = requests.post(
            f"{self.shopify_url}/_control/shops", json={"domain": domain, "token": True}
        )
        r.raise_for_status()
        token = r.json()["token"]["access_token"]
        if products:
            r = requests.post(
                f"{self.shopify_url}/_control/shops/{domain}/seed",
                json={"products": products, "media_per_product": media_per_product,
                      "sku_pattern": "SKU-{n:05d}", **seed},
            )  # fmt: skip
            r.raise_for_status()
        return StoreFactory(workspace=self.workspace, shop_domain=domain, access_token=token)

    def shop_state(self, domain: str) -> dict:
        r = requests.get(f"{self.shopify_url}/_control/shops/{domain}", timeout=10)
        r.raise_for_status()
        return r.json()

    def calls(self, domain: str) -> list[dict]:
        r = requests.get(f"{self.shopify_url}/_control/shops/{domain}/calls", timeout=10)
        return r.json()["calls"]


@pytest.fixture
def sandbox(emulators, settings, db):
    cloudinary_url, shopify_url = emulators
    settings.CLOUDINARY_API_BASE_URL = cloudinary_url
    settings.SHOPIFY_ADMIN_BASE_URL = shopify_url + "/{shop}"
    clear_caches()
    name = f"plan-cloud-{next(_numbers)}"
    r = requests.post(
        f"{cloudinary_url}/_control/clouds",
        json={"cloud_name": name, "api_key": "k-" + name, "api_secret": "s-" + name,
              "seed": {"n_assets": 40, "seed": 3}},
    )  # fmt: skip
    r.raise_for_status()
    workspace = WorkspaceFactory(
        cloudinary_cloud_name=name,
        cloudinary_api_key="k-" + name,
        cloudinary_api_secret="s-" + name,
    )
    return Sandbox(cloudinary_url, shopify_url, workspace)


@pytest.fixture
def member(sandbox):
    return MemberFactory(workspace=sandbox.workspace, role="user")


@pytest.fixture
def admin(sandbox):
    return MemberFactory(workspace=sandbox.workspace, role="master_admin")
