"""Demo data: an admin login, a workspace on the Cloudinary emulator, two stores on the Shopify one.

The stores get catalogs whose SKUs match the Cloudinary demo library (the library's SKU list comes
from the Cloudinary emulator's control API), some products with existing media, and the app is
installed on them through the real OAuth flow against the Shopify emulator. A third shop,
demo-3, gets a matching catalog but no install: a newcomer connects it from Setup.
"""

from __future__ import annotations

import os

import requests
from django.contrib.auth import get_user_model
from django.db import transaction

from stores.models import Member, Role, Workspace
from stores.services import workspace_create

DEMO_USERNAME = "admin"
DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "assetlink-demo")
DEMO_USER = ("merchandiser", os.environ.get("DEMO_USER_PASSWORD", "assetlink-user"))
DEMO_WORKSPACE = "Demo workspace"
DEMO_STORES = [("demo-1.myshopify.com", "standard"), ("demo-2.myshopify.com", "plus")]
DEMO_CONNECTABLE = "demo-3.myshopify.com"  # in the emulator, not installed: Setup connects it


def _post(url: str, body: dict) -> dict:
    response = requests.post(url, json=body, timeout=30)
    response.raise_for_status()
    return response.json()


@transaction.atomic
def seed_app() -> Workspace:
    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"is_staff": True, "email": "admin@example.com"}
    )
    admin.set_password(DEMO_PASSWORD)
    admin.save()
    workspace = Workspace.objects.filter(name=DEMO_WORKSPACE).first()
    if workspace is None:
        workspace = workspace_create(
            name=DEMO_WORKSPACE,
            owner=admin,
            cloudinary_cloud_name=os.environ.get("SANDBOX_CLOUDINARY_CLOUD", "demo"),
            cloudinary_api_key=os.environ.get("SANDBOX_CLOUDINARY_KEY", "sandbox-key"),
            cloudinary_api_secret=os.environ.get("SANDBOX_CLOUDINARY_SECRET", "sandbox-secret"),
        )
    Member.objects.update_or_create(
        user=admin, workspace=workspace, defaults={"role": Role.MASTER_ADMIN}
    )
    user, _ = User.objects.get_or_create(username=DEMO_USER[0])
    user.set_password(DEMO_USER[1])
    user.save()
    Member.objects.get_or_create(user=user, workspace=workspace, defaults={"role": Role.USER})
    return workspace


def seed_shops(shopify_url: str, cloudinary_url: str, cloud: str) -> list[dict]:
    """Create the demo shops with catalogs matching the Cloudinary library's SKUs."""
    skus = requests.get(f"{cloudinary_url}/_control/clouds/{cloud}/skus", timeout=30).json()
    pattern, count = skus["sku_pattern"], skus["count"]
    shops = []
    for index, (domain, plan) in enumerate(DEMO_STORES):
        _post(f"{shopify_url}/_control/shops", {"domain": domain, "plan": plan})
        state = requests.get(f"{shopify_url}/_control/shops/{domain}", timeout=30).json()
        if not state.get("products"):
            # Store 1 carries every SKU of the library; store 2 the first two thirds, plus a few
            # products of its own that no asset matches.
            products = count if index == 0 else (count * 2) // 3
            _post(
                f"{shopify_url}/_control/shops/{domain}/seed",
                {
                    "products": products,
                    "sku_pattern": pattern,
                    "seed": index + 1,
                    "media_per_product": [0, 3],
                },
            )
            if index:
                _post(
                    f"{shopify_url}/_control/shops/{domain}/seed",
                    {"products": 20, "start": 9001, "sku_pattern": "OTHER-{n:05d}", "seed": 9},
                )
        shops.append({"domain": domain, "plan": plan})
    return shops


def install(workspace: Workspace, shops: list[dict]) -> None:
    """Install the app on the demo stores through the real OAuth flow against the emulator."""
    from stores.dev_install import install_by_oauth

    for shop in shops:
        install_by_oauth(shop["domain"], workspace=workspace)


def seed(*, shopify_url: str, cloudinary_url: str, app_url: str) -> dict:
    from sandbox.__main__ import seed_shop

    workspace = seed_app()
    shops = seed_shops(shopify_url, cloudinary_url, workspace.cloudinary_cloud_name)
    install(workspace, shops)
    seed_shop(shopify_url, cloudinary_url, DEMO_CONNECTABLE, workspace.cloudinary_cloud_name)
    # The Media Library notifies the app, as a Cloudinary environment set up for sync rules.
    _post(
        f"{cloudinary_url}/_control/clouds/{workspace.cloudinary_cloud_name}/notifications",
        {"url": f"{app_url.rstrip('/')}/cloudinary/notifications/{workspace.pk}"},
    )
    return {
        "username": DEMO_USERNAME,
        "password": DEMO_PASSWORD,
        "user": DEMO_USER,
        "stores": [s["domain"] for s in shops],
        "connectable": DEMO_CONNECTABLE,
    }
