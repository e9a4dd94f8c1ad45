"""A worker process for test_tokens: `create` a store, or `work` as a separate RQ-like worker
would (load the store, call Shopify twice), printing JSON. Run with DATABASE_URL etc. set."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assetlink_project.settings")
    import django

    django.setup()
    from django.utils import timezone

    from stores.clients import shopify_client
    from stores.models import Store, Workspace
    from stores.shopify import operations as ops

    mode, shop = sys.argv[1], sys.argv[2]
    if mode == "create":
        access, refresh = sys.argv[3], sys.argv[4]
        workspace = Workspace.objects.create(name="w")
        Store.objects.create(
            workspace=workspace,
            shop_domain=shop,
            access_token=access,
            access_token_expires_at=timezone.now() + timedelta(seconds=30),
            refresh_token=refresh,
            refresh_token_expires_at=timezone.now() + timedelta(days=90),
        )
        print(json.dumps({"created": shop}))
        return
    start_at = float(sys.argv[3])
    client = shopify_client(Store.objects.get(shop_domain=shop))
    time.sleep(max(0.0, start_at - time.time()))
    domains = [client.execute(ops.SHOP_INFO).data["shop"]["myshopifyDomain"] for _ in range(2)]
    print(json.dumps({"domains": domains, "refreshes": client.tokens.refreshes}))


if __name__ == "__main__":
    main()
