"""Expiring offline tokens: refreshed before expiry and once on a 401, rotated refresh tokens
persisted, and one refresh per store even when workers race."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from stores.clients import shopify_client, store_tokens
from stores.models import Store
from stores.shopify import operations as ops
from stores.shopify.errors import ShopifyAuthError, TokenRefreshError
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db(transaction=True)


def grants_for(emulator, shop):
    _, app = emulator
    return [s for s in app.token_grants if s == shop]


def expiring_store(shopify, *, lifetime: float, expires_in: float | None):
    shop, _ = shopify.new_shop(products=1)
    grant = shopify.post(f"shops/{shop}/token", {"expiring": True, "lifetime": lifetime})
    return StoreFactory(
        shop_domain=shop,
        access_token=grant["access_token"],
        access_token_expires_at=(
            None if expires_in is None else timezone.now() + timedelta(seconds=expires_in)
        ),
        refresh_token=grant["refresh_token"],
        refresh_token_expires_at=timezone.now() + timedelta(days=90),
    )


def test_a_token_about_to_expire_is_refreshed_before_the_request(shopify, shopify_emulator):
    store = expiring_store(shopify, lifetime=3600, expires_in=60)  # inside the 5 min margin
    old_access, old_refresh = store.access_token.reveal(), store.refresh_token.reveal()
    client = shopify_client(store)
    assert client.execute(ops.SHOP_INFO).data["shop"]["myshopifyDomain"] == store.shop_domain
    store.refresh_from_db()
    assert store.access_token.reveal() != old_access
    assert store.refresh_token.reveal() not in ("", old_refresh)  # the rotated one is kept
    assert store.access_token_expires_at > timezone.now() + timedelta(minutes=30)
    assert client.ledger.token_refreshes == 1
    assert grants_for(shopify_emulator, store.shop_domain) == [store.shop_domain]


def test_a_401_refreshes_once_and_retries(shopify, shopify_emulator):
    # Shopify already expired the token although the store thinks it never expires
    store = expiring_store(shopify, lifetime=0, expires_in=None)
    client = shopify_client(store)
    client.execute(ops.SHOP_INFO)
    assert client.ledger.retries["unauthorized"] == 1
    assert len(grants_for(shopify_emulator, store.shop_domain)) == 1


def test_a_dead_refresh_token_is_an_auth_error(shopify):
    store = expiring_store(shopify, lifetime=0, expires_in=None)
    store.refresh_token = "shprt_not_a_real_one"
    store.save()
    with pytest.raises(TokenRefreshError) as exc:
        shopify_client(store).execute(ops.SHOP_INFO)
    assert isinstance(exc.value, ShopifyAuthError)


def test_two_concurrent_refreshers_refresh_once_and_both_work(shopify, shopify_emulator):
    store = expiring_store(shopify, lifetime=3600, expires_in=30)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            # each worker loads the store itself, as two RQ workers would
            client = shopify_client(Store.objects.get(pk=store.pk))
            barrier.wait()
            results.append(client.execute(ops.SHOP_INFO).data["shop"]["myshopifyDomain"])
            results.append(client.execute(ops.SHOP_INFO).data["shop"]["myshopifyDomain"])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [store.shop_domain] * 4
    assert len(grants_for(shopify_emulator, store.shop_domain)) == 1


def test_the_second_refresher_uses_the_token_the_first_saved(shopify, shopify_emulator):
    store = expiring_store(shopify, lifetime=3600, expires_in=30)
    first = store_tokens(Store.objects.get(pk=store.pk))
    second = store_tokens(Store.objects.get(pk=store.pk))  # loaded before the refresh
    token_one = first.token()
    token_two = second.token()
    assert token_one == token_two
    assert (first.refreshes, second.refreshes) == (1, 0)
    assert len(grants_for(shopify_emulator, store.shop_domain)) == 1


def test_two_worker_processes_refresh_once_and_both_work(
    shopify, shopify_emulator, tmp_path, settings
):
    """The Redis lock serialises refreshes across processes: each process loads the store
    from a shared database, both see a token about to expire, one refresh reaches Shopify."""
    root = Path(__file__).resolve().parents[3]
    shop, _ = shopify.new_shop(products=1)
    grant = shopify.post(f"shops/{shop}/token", {"expiring": True, "lifetime": 3600})
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'workers.sqlite3'}",
        "SHOPIFY_ADMIN_BASE_URL": settings.SHOPIFY_ADMIN_BASE_URL,
        "REDIS_URL": settings.REDIS_URL,
        "PYTHONPATH": str(root),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    worker = [sys.executable, str(Path(__file__).with_name("refresh_worker.py"))]
    run = functools.partial(subprocess.run, env=env, cwd=root, check=True, timeout=60)
    run([sys.executable, "manage.py", "migrate", "-v0"])
    run([*worker, "create", shop, grant["access_token"], grant["refresh_token"]])
    start_at = str(time.time() + 2.0)
    procs = [
        subprocess.Popen(
            [*worker, "work", shop, start_at],
            env=env,
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(2)
    ]
    outputs = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err[-2000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert [o["domains"] for o in outputs] == [[shop, shop], [shop, shop]]
    assert sorted(o["refreshes"] for o in outputs) == [0, 1]
    assert len(grants_for(shopify_emulator, shop)) == 1
