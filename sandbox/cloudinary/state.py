"""In-memory state of the Cloudinary emulator: clouds, metadata fields, assets, rate limits.

Everything here is plain Python (no Django). One `State` holds many clouds (product
environments); each `Cloud` has its credentials, its structured metadata field definitions,
its assets, its hourly Admin API budget and a small log of the Admin API calls it received.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_CLOUD = "demo"
DEFAULT_KEY = "sandbox-key"
DEFAULT_SECRET = "sandbox-secret"
DEFAULT_RATE_LIMIT = 2000  # per hour; Cloudinary's limit depends on the plan

METADATA_TYPES = ("string", "integer", "date", "enum", "set")


class EmulatorError(Exception):
    """An error the emulator reports as `{"error": {"message": ...}}` with an HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(slots=True)
class Asset:
    asset_id: str
    public_id: str
    resource_type: str = "image"  # image | video | raw
    type: str = "upload"
    format: str = "jpg"
    version: int = 1
    created_at: float = 0.0  # epoch seconds
    uploaded_at: float = 0.0
    bytes: int = 0
    width: int = 1000
    height: int = 1000
    asset_folder: str = ""
    display_name: str = ""
    duration: float | None = None
    tags: list[str] = field(default_factory=list)
    context: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return self.public_id.rsplit("/", 1)[-1]

    @property
    def folder(self) -> str:
        """The public-id folder (fixed folder mode); `asset_folder` is the dynamic folder."""
        return self.public_id.rsplit("/", 1)[0] if "/" in self.public_id else ""


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RateLimit:
    limit: int = DEFAULT_RATE_LIMIT
    window_start: float = 0.0  # start of the current clock hour
    used: int = 0

    def roll(self, now: float) -> None:
        start = now - (now % 3600)
        if start != self.window_start:
            self.window_start = start
            self.used = 0

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def reset_at(self) -> float:
        return self.window_start + 3600


class Cloud:
    """One product environment."""

    def __init__(
        self,
        name: str,
        api_key: str,
        api_secret: str,
        *,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        captioning: bool = True,
    ):
        self.name = name
        self.api_key = api_key
        self.api_secret = api_secret
        self.metadata_fields: dict[str, dict] = {}
        self.assets: dict[str, Asset] = {}
        self.by_public_id: dict[tuple[str, str, str], str] = {}
        self.rate = RateLimit(limit=rate_limit)
        self.captioning = captioning
        self.generation = 0  # bumped on every change; keys the search cache
        self.log: collections.deque = collections.deque(maxlen=2000)
        self.seed_info: dict | None = None
        # Webhook notifications (sandbox/cloudinary/notifications.py): the global URL, Admin API
        # triggers ({uri, event_type}) and the retry schedule of a failed delivery.
        self.notification_url: str | None = None
        self.triggers: list[dict] = []
        self.notification_retry_delays: tuple[float, ...] = (180.0, 360.0, 540.0)

    # -- assets -----------------------------------------------------------------------------
    def add_asset(self, asset: Asset) -> Asset:
        key = (asset.resource_type, asset.type, asset.public_id)
        old = self.by_public_id.get(key)
        if old is not None and old != asset.asset_id:
            self.assets.pop(old, None)
        self.assets[asset.asset_id] = asset
        self.by_public_id[key] = asset.asset_id
        self.generation += 1
        return asset

    def remove_asset(self, asset_id: str) -> Asset:
        asset = self.assets.pop(asset_id, None)
        if asset is None:
            raise EmulatorError(404, f"Resource not found - {asset_id}")
        self.by_public_id.pop((asset.resource_type, asset.type, asset.public_id), None)
        self.generation += 1
        return asset

    def find(self, resource_type: str, type_: str, public_id: str) -> Asset | None:
        asset_id = self.by_public_id.get((resource_type, type_, public_id))
        return self.assets.get(asset_id) if asset_id else None

    def touch(self) -> None:
        self.generation += 1

    # -- metadata fields --------------------------------------------------------------------
    def add_metadata_field(self, definition: dict) -> dict:
        ext = definition.get("external_id")
        ftype = definition.get("type")
        if not ext or ftype not in METADATA_TYPES:
            raise EmulatorError(400, "Metadata field needs an external_id and a valid type")
        if len(self.metadata_fields) >= 100 and ext not in self.metadata_fields:
            raise EmulatorError(400, "Maximum number of metadata fields (100) reached")
        field_def = {
            "type": ftype,
            "external_id": ext,
            "label": definition.get("label", ext),
            "mandatory": bool(definition.get("mandatory", False)),
            "default_value": definition.get("default_value"),
            "validation": definition.get("validation"),
            "default_disabled": bool(definition.get("default_disabled", False)),
            "restrictions": definition.get("restrictions", {"readonly_ui": False}),
        }
        if ftype in ("enum", "set"):
            values = []
            for v in (definition.get("datasource") or {}).get("values", []):
                values.append(
                    {
                        "external_id": v["external_id"],
                        "value": v["value"],
                        "state": v.get("state", "active"),
                    }
                )
            field_def["datasource"] = {"values": values}
            field_def["allow_dynamic_list_values"] = bool(
                definition.get("allow_dynamic_list_values", False)
            )
        self.metadata_fields[ext] = field_def
        self.generation += 1
        return field_def

    def datasource_label(self, external_id: str, value_id: str) -> str | None:
        f = self.metadata_fields.get(external_id)
        if not f or "datasource" not in f:
            return None
        for v in f["datasource"]["values"]:
            if v["external_id"] == value_id:
                return v["value"]
        return None

    def validate_metadata_value(self, external_id: str, value: Any) -> Any:
        """Coerce and check a value for field `external_id`; raise 400 like Cloudinary."""
        f = self.metadata_fields.get(external_id)
        if f is None:
            raise EmulatorError(400, f"Metadata field {external_id} does not exist")
        ftype = f["type"]
        if value is None or value == "" or value == []:
            return None
        if ftype == "string":
            return str(value)
        if ftype == "integer":
            try:
                return int(value)
            except (TypeError, ValueError):
                raise EmulatorError(
                    400, f"Value {value!r} is not valid for field {external_id}"
                ) from None
        if ftype == "date":
            try:
                datetime.strptime(str(value), "%Y-%m-%d")
            except ValueError:
                raise EmulatorError(
                    400, f"Value {value!r} is not valid for field {external_id}"
                ) from None
            return str(value)
        active = {v["external_id"] for v in f["datasource"]["values"] if v["state"] == "active"}
        if ftype == "enum":
            if isinstance(value, list):
                if len(value) != 1:
                    raise EmulatorError(
                        400, f"Value {value!r} is not valid for field {external_id}"
                    )
                value = value[0]
            if value not in active:
                raise EmulatorError(400, f"Value {value} is not valid for field {external_id}")
            return value
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v not in active:
                raise EmulatorError(400, f"Value {v} is not valid for field {external_id}")
        return list(values)


class State:
    """All clouds of one emulator process. Guard every access with `lock`."""

    def __init__(self, *, clock=time.time):
        self.lock = threading.RLock()
        self.clouds: dict[str, Cloud] = {}
        self._clock = clock
        self.time_offset = 0.0
        self.delivery_base_url: str | None = None  # else taken from each request's host
        self.search_cache: collections.OrderedDict = collections.OrderedDict()

    def now(self) -> float:
        return self._clock() + self.time_offset

    def cloud(self, name: str) -> Cloud:
        c = self.clouds.get(name)
        if c is None:
            raise EmulatorError(404, f"Unknown cloud {name}")
        return c

    def create_cloud(self, name: str, api_key: str, api_secret: str, **kw) -> Cloud:
        if not name or "/" in name:
            raise EmulatorError(400, "Invalid cloud_name")
        if name in self.clouds:
            raise EmulatorError(409, f"Cloud {name} already exists")
        cloud = Cloud(name, api_key, api_secret, **kw)
        cloud.rate.roll(self.now())
        self.clouds[name] = cloud
        return cloud
