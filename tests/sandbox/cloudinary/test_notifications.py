"""Webhook notifications of the Cloudinary emulator: what changes notify, the payloads, the
signature the real SDK verifies, the notification URL(s) and the retries of failed deliveries."""

from __future__ import annotations

import json
import threading
import time

import cloudinary
import cloudinary.api
import cloudinary.uploader
import cloudinary.utils
import pytest
from werkzeug.wrappers import Request, Response

from sandbox.common import serve_in_thread


class Receiver:
    """A notification URL: records every POST; answers 500 to the first ``fail`` of them."""

    def __init__(self, fail: int = 0):
        self.fail = fail
        self.received: list[tuple[dict, str]] = []
        self.lock = threading.Lock()
        self.server = serve_in_thread(self)
        self.url = self.server.url + "/hook"

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self.lock:
            self.received.append((dict(request.headers), request.get_data(as_text=True)))
            failing = len(self.received) <= self.fail
        return Response("no" if failing else "ok", 500 if failing else 200)(environ, start_response)

    def wait(self, n: int, timeout: float = 10) -> list[tuple[dict, dict, str]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < n:
            assert time.monotonic() < deadline, f"{len(self.received)} of {n} notifications"
            time.sleep(0.01)
        return [(h, json.loads(b), b) for h, b in self.received]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def listening(cloud, receiver):
    r = cloud.control("post", f"clouds/{cloud.name}/notifications", json={"url": receiver.url})
    assert r.status_code == 200 and r.json()["url"] == receiver.url
    return receiver


def _image(cloud):
    return next(a for a in cloud.assets() if a.resource_type == "image" and a.metadata.get("sku"))


def test_a_metadata_change_notifies_signed_with_the_api_secret(cloud, listening):
    asset = _image(cloud)
    old_sku = asset.metadata["sku"]

    cloudinary.uploader.update_metadata({"sku": "NEW-1"}, [asset.public_id])

    ((headers, payload, body),) = listening.wait(1)
    assert payload["notification_type"] == "resource_metadata_changed"
    change = payload["resources"][asset.public_id]
    assert change["asset_id"] == asset.asset_id
    assert change["updated"] == [{"external_id": "sku", "value": "NEW-1", "old_value": old_sku}]
    assert change["added"] == change["removed"] == []
    assert payload["signature_key"] == cloud.cloud.api_key
    timestamp, signature = headers["X-Cld-Timestamp"], headers["X-Cld-Signature"]
    assert cloudinary.utils.verify_notification_signature(body, timestamp, signature)
    cloudinary.config(api_secret="another-secret")
    assert not cloudinary.utils.verify_notification_signature(body, timestamp, signature)


def test_tags_and_context_changes_notify_and_an_unchanged_value_does_not(cloud, listening):
    asset = _image(cloud)
    cloudinary.api.update(asset.public_id, tags=[*asset.tags, "sale"])
    cloudinary.api.update(asset.public_id, context="alt=A new alt")
    cloudinary.api.update(asset.public_id, tags=[*asset.tags])  # the same tags: no notification

    received = listening.wait(2)
    time.sleep(0.2)  # a third one would have arrived by now
    assert len(listening.received) == 2
    tags, context = (p for _, p, _ in received)
    assert tags["notification_type"] == "resource_tags_changed"
    assert tags["resources"] == [
        {"asset_id": asset.asset_id, "public_id": asset.public_id, "resource_type": "image",
         "type": "upload", "added": ["sale"], "removed": []}
    ]  # fmt: skip
    assert context["notification_type"] == "resource_context_changed"
    assert context["resources"][asset.public_id]["asset_id"] == asset.asset_id


def test_uploading_over_a_public_id_is_a_new_version_and_notifies_overwritten(cloud, listening):
    asset = _image(cloud)
    old_version = asset.version

    result = cloudinary.uploader.upload(
        "data:image/png;base64,iVBORw0KGgo=", public_id=asset.public_id, overwrite=True
    )
    fresh = cloudinary.uploader.upload("data:image/png;base64,iVBORw0KGgo=", public_id="new/one")

    assert result["asset_id"] == asset.asset_id and result["version"] > old_version
    assert result["overwritten"] is True
    assert "overwritten" not in fresh
    first, second = (p for _, p, _ in listening.wait(2))
    assert first["notification_type"] == "upload" and first["overwritten"] is True
    assert first["version"] == result["version"] and first["asset_id"] == asset.asset_id
    assert second["public_id"] == "new/one" and "overwritten" not in second
    kept = cloudinary.uploader.upload(
        "data:image/png;base64,iVBORw0KGgo=", public_id="new/one", overwrite=False
    )
    assert kept["existing"] is True and kept["version"] == fresh["version"]


def test_an_uploads_notification_url_takes_its_notification(cloud, listening):
    other = Receiver()
    try:
        cloudinary.uploader.upload(
            "data:image/png;base64,iVBORw0KGgo=", public_id="x/y", notification_url=other.url
        )
        ((_, payload, _),) = other.wait(1)
        assert payload["public_id"] == "x/y"
        time.sleep(0.2)
        assert listening.received == []
    finally:
        other.server.shutdown()


def test_deletes_through_the_admin_and_upload_apis_notify(cloud, listening):
    a, b, c = [x for x in cloud.assets() if x.resource_type == "image"][:3]

    result = cloudinary.api.delete_resources([a.public_id, b.public_id, "no/such"])
    assert cloudinary.uploader.destroy(c.public_id) == {"result": "ok"}
    assert cloudinary.uploader.destroy(c.public_id) == {"result": "not found"}

    assert result["deleted"] == {a.public_id: "deleted", b.public_id: "deleted",
                                 "no/such": "not_found"}  # fmt: skip
    first, second = (p for _, p, _ in listening.wait(2))
    assert first["notification_type"] == second["notification_type"] == "delete"
    assert [r["asset_id"] for r in first["resources"]] == [a.asset_id, b.asset_id]
    assert second["resources"][0]["public_id"] == c.public_id
    assert a.asset_id not in cloud.cloud.assets


def test_a_failed_delivery_is_retried_then_dropped(cloud):
    flaky, dead = Receiver(fail=2), Receiver(fail=99)
    try:
        for receiver in (flaky, dead):
            cloud.control(
                "post",
                f"clouds/{cloud.name}/notifications",
                json={"url": receiver.url, "retry_delays": [0.05, 0.05, 0.05]},
            )
            cloudinary.api.update(_image(cloud).public_id, tags=[f"t{id(receiver)}"])
            receiver.wait(3 if receiver is flaky else 4)
        time.sleep(0.3)  # no fifth attempt comes
        assert len(flaky.received) == 3 and len(dead.received) == 4
        log = cloud.control("get", f"clouds/{cloud.name}/notifications").json()["log"]
        assert [e["status"] for e in log if e["url"] == flaky.url] == [500, 500, 200]
        assert [e["attempt"] for e in log if e["url"] == dead.url] == [1, 2, 3, 4]
        assert all(
            cloudinary.utils.verify_notification_signature(
                b, h["X-Cld-Timestamp"], h["X-Cld-Signature"]
            )
            for h, b in flaky.received
        )
    finally:
        flaky.server.shutdown()
        dead.server.shutdown()


def test_admin_api_triggers_pick_the_event_types_they_get(cloud, receiver):
    r = cloud.admin("post", "triggers", data={"uri": receiver.url,
                                              "event_type": "resource_tags_changed"})  # fmt: skip
    assert r.status_code == 200, r.text
    asset = _image(cloud)
    cloudinary.uploader.update_metadata({"sku": "T-2"}, [asset.public_id])
    cloudinary.api.update(asset.public_id, tags=["only-this"])

    ((_, payload, _),) = receiver.wait(1)
    time.sleep(0.2)
    assert len(receiver.received) == 1
    assert payload["notification_type"] == "resource_tags_changed"
    assert cloud.admin("get", "triggers").json()["triggers"][0]["uri"] == receiver.url
    bad = cloud.admin("post", "triggers", data={"uri": "ftp://x", "event_type": "upload"})
    assert bad.status_code == 400
