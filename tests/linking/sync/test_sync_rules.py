"""Sync rules, end to end through the public surface: Cloudinary changes made through the
emulator's Upload and Admin APIs notify the app (signed, over HTTP), the rule's debounce job
applies them as a delta with real RQ workers, and the stores' galleries follow."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter

import pytest
import requests

from linking.models import LinkRecord
from linking.sync.models import SyncChange, SyncRun
from reports.models import Run
from tests.linking.sync.conftest import Sync

pytestmark = pytest.mark.django_db(transaction=True)


def _images(sync: Sync, sku: str) -> list[dict]:
    return [
        a for a in sync.box.assets(f'metadata.sku="{sku}"')
        if a["resource_type"] == "image" and "swatch" not in a.get("tags", [])
    ]  # fmt: skip


def _group_with(sync: Sync, n: int) -> tuple[str, list[dict]]:
    for group in sync.box.skus():
        images = _images(sync, group["sku"])
        if len(images) >= n and not group["swatches"] and not group["videos"]:
            return group["sku"], images
    raise AssertionError(f"no group with {n} images")


def _media_of(store, asset_id: str) -> list[LinkRecord]:
    return list(LinkRecord.objects.filter(store=store, asset_id=asset_id))


def test_a_metadata_change_moves_the_asset_in_every_store_and_nothing_else(sync):
    sync.create_rule()
    source_sku, images = _group_with(sync, 2)
    target_sku = next(g["sku"] for g in sync.box.skus() if g["sku"] != source_sku)
    moved = images[-1]
    before = sync.galleries()
    for store in sync.stores:
        assert _media_of(store, moved["asset_id"]), "the first reconciliation linked the asset"
    started = time.monotonic()

    sync.update_metadata(moved["public_id"], sku=target_sku)
    sync.wait_for_changes(1)
    sync.apply()

    print(f"metadata change → galleries in step: {time.monotonic() - started:.1f} s")
    after = sync.galleries()
    for store in sync.stores:
        records = _media_of(store, moved["asset_id"])
        assert len(records) == 1
        products = {p: sku for sku, p in _product_ids(sync, store).items()}
        assert products[records[0].product_id] == target_sku
        domain = store.shop_domain
        assert [m for m, _ in after[domain][source_sku]] != [
            m for m, _ in before[domain][source_sku]
        ]
        assert records[0].media_id in [m for m, _ in after[domain][target_sku]]
        assert records[0].media_id not in [m for m, _ in after[domain][source_sku]]
        for sku, media in after[domain].items():
            if sku not in (source_sku, target_sku):
                assert media == before[domain][sku], f"{sku} changed in {domain}"
    sync.assert_in_step()
    history = sync.history()
    assert history[0]["trigger"] == "notification"
    assert history[0]["status"] == "started"
    assert set(history[0]["groups"]) == {source_sku.lower(), target_sku.lower()}
    assert len(history[0]["runs"]) == 2
    assert all(r["status"] == "succeeded" for r in history[0]["runs"])
    assert history[-1]["trigger"] == "reconcile"
    # the delta is a plan of its own (its runs link to it), not listed with the user's plans
    delta = sync.client.get(f"/api/plans/{history[0]['plan']}/").json()
    assert delta["expression"] == "" and sorted(delta["asset_ids"])
    listed = sync.client.get(f"/api/workspaces/{sync.box.workspace.pk}/plans/").json()
    assert history[0]["plan"] not in [p["id"] for p in listed]


def _product_ids(sync: Sync, store) -> dict[str, str]:
    state = sync.box.shop_state(store.shop_domain)
    return {p["variants"][0]["sku"]: p["id"] for p in state["products"]}


def test_a_new_version_replaces_its_media_in_place_with_its_alt(sync):
    sync.create_rule()
    sku, images = _group_with(sync, 3)
    asset = images[1]
    store = sync.stores[0]
    before = sync.galleries()[store.shop_domain][sku]
    (old,) = _media_of(store, asset["asset_id"])
    position = [m for m, _ in before].index(old.media_id)

    sync.upload_version(asset["public_id"])
    sync.wait_for_changes(1)
    sync.apply()

    after = sync.galleries()[store.shop_domain][sku]
    (new,) = _media_of(store, asset["asset_id"])
    assert new.version > old.version
    assert new.media_id != old.media_id
    assert len(after) == len(before)
    assert after[position][0] == new.media_id, "same position"
    assert after[position][1] == before[position][1], "alt kept"
    assert [m for i, m in enumerate(after) if i != position] == [
        m for i, m in enumerate(before) if i != position
    ]
    sync.assert_in_step()


def test_a_deleted_asset_is_unlinked(sync):
    sync.create_rule()
    sku, images = _group_with(sync, 2)
    asset = images[0]
    before = sync.galleries()
    records = {s.pk: _media_of(s, asset["asset_id"])[0] for s in sync.stores}

    sync.delete(asset["public_id"])
    sync.wait_for_changes(1)
    sync.apply()

    after = sync.galleries()
    for store in sync.stores:
        media = [m for m, _ in after[store.shop_domain][sku]]
        assert records[store.pk].media_id not in media
        assert media == [
            m for m, _ in before[store.shop_domain][sku] if m != records[store.pk].media_id
        ]
        assert not _media_of(store, asset["asset_id"])
        for other, gallery in after[store.shop_domain].items():
            if other != sku:
                assert gallery == before[store.shop_domain][other]
    assert SyncRun.objects.filter(trigger="notification").get().deleted_asset_ids == [
        asset["asset_id"]
    ]


def test_a_group_whose_every_asset_is_deleted_loses_their_media(sync):
    sync.create_rule()
    sku, images = _group_with(sync, 1)
    store = sync.stores[0]
    ours = {r.media_id for a in images for r in _media_of(store, a["asset_id"])}
    assert ours

    for image in images:
        sync.delete(image["public_id"])
    sync.wait_for_changes(len(images))
    sync.apply()

    media = [m for m, _ in sync.galleries()[store.shop_domain][sku]]
    assert not ours & set(media)
    assert len(media) == 2, "the product's own media stay"


def _post(sync: Sync, body: bytes, headers: dict) -> requests.Response:
    rule = sync.client.get(f"/api/sync-rules/{sync.rule_id}/").json()
    url = sync.app_url + "/cloudinary/" + rule["notification_url"].split("/cloudinary/", 1)[1]
    return requests.post(url, data=body, headers=headers, timeout=10)


def test_an_unsigned_or_forged_notification_is_refused_and_nothing_runs(sync):
    sync.create_rule()
    runs_before = Run.objects.count()
    sku, images = _group_with(sync, 1)
    body = json.dumps(
        {"notification_type": "delete", "resources": [
            {"asset_id": images[0]["asset_id"], "public_id": images[0]["public_id"],
             "resource_type": "image", "type": "upload"}]}
    )  # fmt: skip
    now = str(int(time.time()))

    def signed(secret: str, timestamp: str = now) -> dict:
        digest = hashlib.sha1(f"{body}{timestamp}{secret}".encode()).hexdigest()  # noqa: S324
        return {"X-Cld-Timestamp": timestamp, "X-Cld-Signature": digest}

    secret = "s-" + sync.box.cloud
    answers = [
        _post(sync, body.encode(), {}),
        _post(sync, body.encode(), {"X-Cld-Timestamp": now}),
        _post(sync, body.encode(), signed("not-the-secret")),
        _post(sync, body.encode(), signed(secret, str(int(time.time()) - 3 * 3600))),
        _post(sync, body.replace("delete", "upload").encode(), signed(secret)),
    ]

    assert [a.status_code for a in answers] == [401] * 5
    assert not SyncChange.objects.exists()
    assert sync.queue.count == 0
    assert Run.objects.count() == runs_before
    # the same body, signed with the workspace's secret, is taken
    assert _post(sync, body.encode(), signed(secret)).status_code == 200
    assert SyncChange.objects.count() == 1


def test_a_storm_of_notifications_makes_a_handful_of_runs_and_no_duplicate_media(sync):
    """500 metadata changes as fast as the emulator takes them, with workers running all the
    while: the debounce (shipped defaults) folds them into a few deltas."""
    sync.create_rule()
    runs_before = Run.objects.count()
    skus = [g["sku"] for g in sync.box.skus() if not g["videos"]][:5]
    assets = [a for sku in skus for a in _images(sync, sku)]
    import threading

    done = threading.Event()

    def storm():
        for i in range(500):
            asset = assets[i % len(assets)]
            # every update changes the value (an unchanged value notifies nothing)
            sync.update_metadata(asset["public_id"], sequence_number=100 + (i * 7919) % 500)
        done.set()

    started = time.monotonic()
    thread = threading.Thread(target=storm)
    thread.start()
    while (
        not done.is_set()
        or SyncChange.objects.filter(sync_run=None).exists()
        or (sync.control("notifications", method="get")["pending"])
    ):
        sync.apply()
        time.sleep(0.2)
    thread.join()
    storm_seconds = time.monotonic() - started
    deliveries = sync.control("notifications", method="get")["log"]
    assert Counter(d["status"] for d in deliveries) == {200: 500}

    notified = SyncRun.objects.filter(trigger="notification")
    link_runs = Run.objects.count() - runs_before
    print(
        f"storm: 500 notifications in {storm_seconds:.1f} s → {notified.count()} deltas, "
        f"{link_runs} link runs over {len(sync.stores)} stores"
    )
    assert SyncChange.objects.count() == 500
    assert sum(notified.values_list("notifications", flat=True)) == 500
    assert 1 <= notified.count() <= 5
    assert link_runs <= 2 * notified.count()
    assert not Run.objects.exclude(status=Run.Status.SUCCEEDED).exists()
    for store in sync.stores:
        for sku, media in sync.galleries()[store.shop_domain].items():
            assert len(media) == len(set(media)), f"duplicate media on {sku}"
        per_asset = Counter(
            LinkRecord.objects.filter(store=store).values_list("product_id", "asset_id")
        )
        assert max(per_asset.values()) == 1
    sync.assert_in_step()


def _reorder_by_hand(sync: Sync, store, product_id: str, media_id: str, position: int) -> None:
    """What a merchant does in the Shopify admin: drag a media to another place."""
    token = store.access_token
    token = token.reveal() if hasattr(token, "reveal") else str(token)
    r = requests.post(
        f"{sync.box.shopify_url}/{store.shop_domain}/admin/api/2026-10/graphql.json",
        json={
            "query": "mutation m($id: ID!, $moves: [MoveInput!]!) { productReorderMedia("
            "id: $id, moves: $moves) { job { id } mediaUserErrors { message } } }",
            "variables": {
                "id": product_id,
                "moves": [{"id": media_id, "newPosition": str(position)}],
            },
        },  # fmt: skip
        headers={"X-Shopify-Access-Token": token},
        timeout=10,
    )
    r.raise_for_status()
    assert not r.json()["data"]["productReorderMedia"]["mediaUserErrors"], r.json()


def test_reconciliation_repairs_drift_made_by_hand_in_shopify_and_reports_it(sync):
    sync.create_rule()
    store = sync.stores[0]
    sku, _ = _group_with(sync, 2)
    product_id = _product_ids(sync, store)[sku]
    in_step = sync.galleries()
    last = in_step[store.shop_domain][sku][-1][0]
    _reorder_by_hand(sync, store, product_id, last, 0)
    deadline = time.monotonic() + 10
    while sync.galleries()[store.shop_domain][sku][0][0] != last:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    r = sync.client.post(f"/api/sync-rules/{sync.rule_id}/reconcile/")
    assert r.status_code == 202
    sync.apply()

    assert sync.galleries() == in_step
    latest = sync.history()[0]
    assert latest["trigger"] == "reconcile" and latest["status"] == "started"
    assert latest["drift"] == [
        {"store": store.shop_domain,
         "products": [{"product_id": product_id, "handle": latest["drift"][0]["products"][0][
             "handle"], "operations": 1}]}
    ]  # fmt: skip
    assert "1 product(s) drifted" in latest["message"]
    assert [r["status"] for r in latest["runs"]] == ["succeeded"]
    # nothing drifted since: the next reconciliation starts no run
    sync.client.post(f"/api/sync-rules/{sync.rule_id}/reconcile/")
    sync.apply()
    assert sync.history()[0]["status"] == "nothing"


def test_the_workers_sweeper_queues_the_nightly_reconciliation_and_a_paused_rule_ignores_changes(
    sync,
):
    from django.utils import timezone

    from linking.sync.models import SyncRule
    from reports.management.commands.worker import run_periodic_checks

    sync.create_rule()
    rule = SyncRule.objects.get(pk=sync.rule_id)
    assert rule.next_reconcile_at > timezone.now()
    SyncRule.objects.filter(pk=rule.pk).update(
        next_reconcile_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    run_periodic_checks()
    run_periodic_checks()  # a second worker's sweep finds nothing due
    assert sync.queue.count == 1
    rule.refresh_from_db()
    assert rule.next_reconcile_at > timezone.now()
    assert rule.next_reconcile_at.hour == rule.reconcile_hour
    sync.apply()
    assert [h["trigger"] for h in sync.history()] == ["reconcile", "reconcile"]

    assert sync.client.post(f"/api/sync-rules/{sync.rule_id}/pause/").json()["paused"] is True
    sku, images = _group_with(sync, 2)
    before = sync.galleries()
    sync.delete(images[0]["public_id"])
    deadline = time.monotonic() + 10
    while not any(
        d["notification_type"] == "delete" and d["status"] == 200
        for d in sync.control("notifications", method="get")["log"]
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sync.apply()
    assert not SyncChange.objects.exists()
    assert sync.galleries() == before
    # resuming catches up with a reconciliation: the deleted asset's media leave
    assert sync.client.post(f"/api/sync-rules/{sync.rule_id}/resume/").json()["paused"] is False
    sync.apply()
    for store in sync.stores:
        assert not _media_of(store, images[0]["asset_id"])
    assert sync.history()[0]["trigger"] == "reconcile"
