"""Webhook notifications, sent the way Cloudinary sends them.

A change (upload or new version, tags, context or structured metadata changed, delete) makes a
JSON notification with its ``notification_type``; it is POSTed to the upload's
``notification_url`` when the call gave one, else to the cloud's notification URLs (the global
one set through the control API, and Admin API triggers), signed with the cloud's API secret:
``X-Cld-Timestamp`` (Unix seconds) and ``X-Cld-Signature`` = hex SHA-1 of body + timestamp +
secret, which ``cloudinary.utils.verify_notification_signature`` checks. A delivery answered
with anything but a 2xx (or not answered) is retried after each of the cloud's
``notification_retry_delays`` (Cloudinary: about 3, 6 and 9 minutes), then dropped. Every
attempt is logged (``GET /_control/clouds/{cloud}/notifications``).
"""

from __future__ import annotations

import collections
import hashlib
import heapq
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from .state import Asset, Cloud, State, iso

DEFAULT_RETRY_DELAYS = (180.0, 360.0, 540.0)
EVENT_TYPES = (
    "upload",
    "delete",
    "resource_tags_changed",
    "resource_context_changed",
    "resource_metadata_changed",
)


def sign(body: str, timestamp: int, api_secret: str) -> str:
    return hashlib.sha1(f"{body}{timestamp}{api_secret}".encode()).hexdigest()  # noqa: S324


@dataclass(order=True)
class _Delivery:
    due: float
    seq: int
    cloud: str = field(compare=False)
    url: str = field(compare=False)
    payload: dict = field(compare=False)
    attempt: int = field(default=0, compare=False)


class Notifier:
    """One delivery thread per emulator state: a heap of deliveries by due time."""

    def __init__(self, state: State):
        self.state = state
        self._heap: list[_Delivery] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.log: collections.deque = collections.deque(maxlen=5000)

    def send(self, cloud: Cloud, url: str, payload: dict) -> None:
        with self._cond:
            heapq.heappush(
                self._heap, _Delivery(time.monotonic(), next(self._seq), cloud.name, url, payload)
            )
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cloudinary-notifications", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0].due > time.monotonic():
                    wait = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cond.wait(timeout=wait)
                delivery = heapq.heappop(self._heap)
            self._attempt(delivery)

    def _attempt(self, d: _Delivery) -> None:
        with self.state.lock:
            cloud = self.state.clouds.get(d.cloud)
            if cloud is None:
                return
            secret = cloud.api_secret
            delays = list(cloud.notification_retry_delays)
            timestamp = int(self.state.now())
        body = json.dumps(d.payload)
        headers = {
            "Content-Type": "application/json",
            "X-Cld-Timestamp": str(timestamp),
            "X-Cld-Signature": sign(body, timestamp, secret),
            "User-Agent": "Cloudinary-Notifications (emulator)",
        }
        entry = {
            "url": d.url,
            "notification_type": d.payload.get("notification_type"),
            "attempt": d.attempt + 1,
            "at": iso(time.time()),
        }
        try:
            r = requests.post(d.url, data=body.encode(), headers=headers, timeout=10)
            entry["status"] = r.status_code
            ok = 200 <= r.status_code < 300
        except requests.RequestException as e:
            entry["status"], entry["error"], ok = None, str(e)[:300], False
        self.log.append({"cloud": d.cloud, **entry})
        if not ok and d.attempt < len(delays):
            with self._cond:
                d.due = time.monotonic() + float(delays[d.attempt])
                d.attempt += 1
                d.seq = next(self._seq)
                heapq.heappush(self._heap, d)
                self._cond.notify()


def notifier(state: State) -> Notifier:
    with state.lock:
        n = getattr(state, "_notifier", None)
        if n is None:
            n = state._notifier = Notifier(state)  # type: ignore[attr-defined]
        return n


def _context(state: State, cloud: Cloud, source: str) -> dict:
    return {
        "triggered_at": iso(state.now()),
        "triggered_by": {"source": source, "id": cloud.api_key if source == "api" else "ui"},
    }


def urls_for(cloud: Cloud, event: str, override: str | None = None) -> list[str]:
    if override:
        return [override]
    urls = [cloud.notification_url] if cloud.notification_url else []
    for trigger in cloud.triggers:
        if trigger["event_type"] in ("all", event) and trigger["uri"] not in urls:
            urls.append(trigger["uri"])
    return urls


def emit(
    state: State, cloud: Cloud, payload: dict, *, url: str | None = None, source: str = "api"
) -> None:
    """Send ``payload`` (its notification_type set) to whoever listens. Call under state.lock."""
    targets = urls_for(cloud, payload["notification_type"], url)
    if not targets:
        return
    payload = {
        **payload,
        "notification_context": _context(state, cloud, source),
        "signature_key": cloud.api_key,
    }
    n = notifier(state)
    for target in targets:
        n.send(cloud, target, payload)


def _entry(asset: Asset) -> dict:
    return {
        "asset_id": asset.asset_id,
        "public_id": asset.public_id,
        "resource_type": asset.resource_type,
        "type": asset.type,
    }


def upload_payload(resource: dict, *, overwritten: bool) -> dict:
    """The upload notification: the upload response plus its notification fields."""
    out = {
        "notification_type": "upload",
        "timestamp": resource.get("created_at"),
        "request_id": uuid.uuid4().hex,
        **{k: v for k, v in resource.items() if k not in ("status",)},
        "version_id": hashlib.md5(  # noqa: S324
            f"{resource['asset_id']}:{resource['version']}".encode()
        ).hexdigest(),
    }
    if overwritten:
        out["overwritten"] = True
    return out


def delete_payload(assets: list[Asset]) -> dict:
    return {
        "notification_type": "delete",
        "resources": [{**_entry(a), "version": a.version} for a in assets],
    }


def changes_payloads(
    asset: Asset, *, tags_before: list, context_before: dict, metadata_before: dict
) -> list[dict]:
    """The ``resource_*_changed`` notifications a change of ``asset`` makes (none if equal)."""
    out = []
    before, after = set(tags_before), set(asset.tags)
    if before != after:
        out.append(
            {
                "notification_type": "resource_tags_changed",
                "source": "api",
                "resources": [
                    {**_entry(asset), "added": sorted(after - before),
                     "removed": sorted(before - after)}
                ],
            }
        )  # fmt: skip
    for kind, old, new, key in (
        ("resource_context_changed", context_before, asset.context, "name"),
        ("resource_metadata_changed", metadata_before, asset.metadata, "external_id"),
    ):
        if old == new:
            continue
        change = {
            **_entry(asset),
            "added": [{key: k, "value": v} for k, v in new.items() if k not in old],
            "removed": [{key: k, "value": v} for k, v in old.items() if k not in new],
            "updated": [
                {key: k, "value": v, "old_value": old[k]}
                for k, v in new.items()
                if k in old and old[k] != v
            ],
        }
        out.append(
            {"notification_type": kind, "source": "api", "resources": {asset.public_id: change}}
        )
    return out


class Snapshot:
    """What an asset's tags, context and metadata were before a change."""

    def __init__(self, asset: Asset):
        self.asset = asset
        self.tags = list(asset.tags)
        self.context = dict(asset.context)
        self.metadata = {k: (list(v) if isinstance(v, list) else v)
                         for k, v in asset.metadata.items()}  # fmt: skip

    def emit_changes(self, state: State, cloud: Cloud, source: str = "api") -> None:
        for payload in changes_payloads(
            self.asset,
            tags_before=self.tags,
            context_before=self.context,
            metadata_before=self.metadata,
        ):
            emit(state, cloud, payload, source=source)
