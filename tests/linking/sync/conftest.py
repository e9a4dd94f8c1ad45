"""Sync rules end to end: both emulators, the app on a live server (Cloudinary's notifications
reach it over HTTP, as in production), real RQ workers on a queue of this session's own."""

from __future__ import annotations

import time

import cloudinary.api
import cloudinary.uploader
import pytest
import requests
from rest_framework.test import APIClient

from linking.sync.models import SyncChange, SyncRule, SyncRun
from tests.factories import MemberFactory
from tests.linking.plans.conftest import Sandbox, api_dry_run, emulators, sandbox  # noqa: F401
from tests.linking.runs.conftest import gallery, queue, work  # noqa: F401

PLAN = {
    "expression": "folder:products/*",
    "cloudinary_field": "metadata:sku",
    "shopify_field": "variant.sku",
    "link_mode": "append",
    "order_field": "metadata:sequence_number",
    "alt_source": "context",
    "alt_field": "alt",
}


@pytest.fixture
def sync_queue(queue, settings):  # noqa: F811 - the runs' fixture
    settings.SYNC_QUEUE = queue.name
    return queue


class Sync:
    """The sandbox plus a rule: admin API client, SDK options, helpers that wait for events."""

    def __init__(self, box: Sandbox, stores, client: APIClient, jobs, app_url: str):
        self.box, self.stores, self.client, self.queue, self.app_url = (
            box, stores, client, jobs, app_url,
        )  # fmt: skip
        self.rule_id: int | None = None

    # Cloudinary, through the real SDK (Upload and Admin APIs of the emulator)
    @property
    def sdk(self) -> dict:
        cloud = self.box.cloud
        return {"cloud_name": cloud, "api_key": "k-" + cloud, "api_secret": "s-" + cloud,
                "upload_prefix": self.box.cloudinary_url}  # fmt: skip

    def update_metadata(self, public_id: str, **metadata):
        return cloudinary.uploader.update_metadata(metadata, [public_id], **self.sdk)

    def upload_version(self, public_id: str):
        return cloudinary.uploader.upload(
            "data:image/png;base64,iVBORw0KGgo=", public_id=public_id, overwrite=True, **self.sdk
        )

    def delete(self, public_id: str):
        return cloudinary.api.delete_resources([public_id], **self.sdk)

    def control(self, path: str, body: dict | None = None, method: str = "post") -> dict:
        url = f"{self.box.cloudinary_url}/_control/clouds/{self.box.cloud}/{path}"
        r = requests.request(method, url, json=body, timeout=10)
        r.raise_for_status()
        return r.json()

    # AssetLink, through its API
    def create_rule(self, **plan) -> dict:
        ws = self.box.workspace.pk
        r = self.client.post(
            f"/api/workspaces/{ws}/plans/",
            {**PLAN, **plan, "stores": [s.shop_domain for s in self.stores]},
            format="json",
        )
        assert r.status_code == 201, r.json()
        r = self.client.post(
            f"/api/workspaces/{ws}/sync-rules/", {"plan": r.json()["id"]}, format="json"
        )
        assert r.status_code == 201, r.json()
        rule = r.json()
        self.rule_id = rule["id"]
        path = rule["notification_url"].split("/cloudinary/", 1)[1]
        self.control("notifications", {"url": f"{self.app_url}/cloudinary/{path}"})
        work(self.queue)  # the rule's first reconciliation: the whole plan, once
        return rule

    def history(self) -> list[dict]:
        r = self.client.get(f"/api/sync-rules/{self.rule_id}/history/")
        assert r.status_code == 200
        return r.json()

    def wait_for_changes(self, n: int = 1, timeout: float = 60) -> None:
        """Until the app has recorded ``n`` changes from notifications (they arrive by HTTP)."""
        deadline = time.monotonic() + timeout
        while SyncChange.objects.filter(rule_id=self.rule_id).count() < n:
            assert time.monotonic() < deadline, "the notifications did not arrive"
            time.sleep(0.05)

    def apply(self) -> None:
        """Run the queued jobs (the debounce job, then the link runs it starts) to the end."""
        work(self.queue)

    def galleries(self) -> dict[str, dict[str, list]]:
        """Per store: SKU → [(media id, alt)] in gallery order."""
        out = {}
        for store in self.stores:
            state = self.box.shop_state(store.shop_domain)
            files = {f["id"]: f for f in state["files"]}
            out[store.shop_domain] = {
                p["variants"][0]["sku"]: [(m, files[m]["alt"]) for m in p["media"]]
                for p in state["products"]
            }
        return out

    def assert_in_step(self) -> None:
        """A fresh dry run of the rule's configuration plans nothing: galleries are as planned."""
        ws = self.box.workspace.pk
        rule = SyncRule.objects.get(pk=self.rule_id)
        data = {**PLAN, "stores": [s.shop_domain for s in self.stores]}
        data["expression"] = rule.plan.expression
        plan_id = self.client.post(f"/api/workspaces/{ws}/plans/", data, format="json").json()["id"]
        r = api_dry_run(self.client, plan_id, self.queue)  # a background job, done by a worker
        for store in r.json()["stores"]:
            assert store["error"] == ""
            assert store["operations"] == 0, store


@pytest.fixture
def sync(sandbox, sync_queue, live_server):  # noqa: F811
    box = sandbox
    skus = len(box.skus())
    stores = [box.shop(products=skus, media_per_product=2) for _ in range(2)]
    admin = MemberFactory(workspace=box.workspace, role="master_admin").user
    client = APIClient()
    client.force_login(admin)
    yield Sync(box, stores, client, sync_queue, live_server.url)
    requests.post(
        f"{box.cloudinary_url}/_control/clouds/{box.cloud}/notifications",
        json={"url": None},
        timeout=10,
    )


__all__ = ["Sync", "SyncRun"]
