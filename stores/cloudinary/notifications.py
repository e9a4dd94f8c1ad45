"""Cloudinary webhook notifications: verify the signature, read which assets changed.

Cloudinary signs every notification with the product environment's API secret: the
``X-Cld-Timestamp`` header and ``X-Cld-Signature`` = hex SHA-1 of body + timestamp + secret.
The SDK's ``verify_notification_signature`` checks it, but reads the secret from the SDK's
process-wide config, which AssetLink never sets (one process serves many workspaces): the
secret is put there for the one call, under a lock, and taken out again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import cloudinary
import cloudinary.utils

from assetlink_project.redis_client import shared_redis

# Notifications older than this are refused (a replayed capture); Cloudinary retries for
# about 18 minutes, the SDK's default window is two hours.
VALID_FOR_SECONDS = 7200
# …and so are notifications signed ahead of now by more than a clock's drift.
FUTURE_SKEW_SECONDS = 300

# The notification types that change what a plan links (Cloudinary's names).
CHANGED = (
    "upload",
    "resource_tags_changed",
    "resource_context_changed",
    "resource_metadata_changed",
    "rename",
    "move",
    "resource_display_name_changed",
)
DELETED = ("delete",)

_verify_lock = threading.Lock()


def verify(body: str, timestamp: str | None, signature: str | None, api_secret: str) -> bool:
    """Whether the notification was signed with ``api_secret`` within the last two hours (and
    not ahead of now by more than FUTURE_SKEW_SECONDS)."""
    if not (timestamp and signature and api_secret) or not timestamp.strip().isdigit():
        return False
    if not within_window(int(timestamp.strip())):
        return False
    with _verify_lock:
        config = cloudinary.config()
        saved = config.api_secret
        config.api_secret = api_secret
        try:
            return bool(
                cloudinary.utils.verify_notification_signature(
                    body, timestamp.strip(), signature.strip(), valid_for=VALID_FOR_SECONDS
                )
            )
        finally:
            config.api_secret = saved


def within_window(timestamp: int, now: float | None = None) -> bool:
    """A notification's timestamp is at most VALID_FOR_SECONDS old and FUTURE_SKEW_SECONDS
    ahead."""
    now = time.time() if now is None else now
    return now - VALID_FOR_SECONDS <= timestamp <= now + FUTURE_SKEW_SECONDS


def first_delivery(workspace_id: int, signature: str) -> bool:
    """Whether this is the first time this signed notification arrives (a replay, or
    Cloudinary's retry of one already taken, is not): its signature is remembered in Redis
    for as long as its timestamp is accepted. Raises ``redis.RedisError`` when Redis is down."""
    key = f"assetlink:cld-notification:{workspace_id}:{signature.strip().lower()}"
    ttl = VALID_FOR_SECONDS + FUTURE_SKEW_SECONDS
    return bool(shared_redis().set(key, 1, nx=True, ex=ttl))


@dataclass(frozen=True)
class Change:
    """One asset a notification names."""

    asset_id: str
    public_id: str
    deleted: bool
    notification_type: str


def _entries(resources, *, type_: str, deleted: bool) -> list[Change]:
    # ``resources`` is a list of {asset_id, public_id, …} (delete, tags) or an object keyed
    # by public id (context and metadata changes); both are read.
    items = []
    if isinstance(resources, dict):
        for public_id, entry in resources.items():
            entry = entry if isinstance(entry, dict) else {}
            items.append(
                (str(entry.get("asset_id") or ""), str(entry.get("public_id") or public_id))
            )
    elif isinstance(resources, list):
        for entry in resources:
            if isinstance(entry, dict):
                items.append((str(entry.get("asset_id") or ""), str(entry.get("public_id") or "")))
    return [Change(a[:64], p[:1000], deleted, type_) for a, p in items if a or p]


def changes_of(payload) -> list[Change]:
    """The assets a notification says changed or were deleted; other types name none."""
    if not isinstance(payload, dict):
        return []
    type_ = str(payload.get("notification_type") or "")
    if type_ in DELETED:
        return _entries(payload.get("resources"), type_=type_, deleted=True)
    if type_ not in CHANGED:
        return []
    if "resources" in payload:
        return _entries(payload.get("resources"), type_=type_, deleted=False)
    asset_id = str(payload.get("asset_id") or "")
    public_id = str(payload.get("public_id") or payload.get("to_public_id") or "")
    return [Change(asset_id[:64], public_id[:1000], False, type_)] if asset_id or public_id else []
