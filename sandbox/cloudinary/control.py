"""The emulator's control API (`/_control/…`, JSON, no auth) for tests, the demo and tools.

GET    /_control/                                 this list
POST   /_control/reset                            back to the start-up state
POST   /_control/clock                            {"advance": 3600} shifts the clock
GET    /_control/clouds                           all clouds
POST   /_control/clouds                           {"cloud_name", "api_key", "api_secret",
                                                   "rate_limit"?, "captioning"?, "seed"?:
                                                   {"n_assets", "seed", "sku_pattern"}}
GET    /_control/clouds/{cloud}                   credentials, counts, rate limit, seed
DELETE /_control/clouds/{cloud}
POST   /_control/clouds/{cloud}/settings          {"captioning", "api_key", "api_secret"}
POST   /_control/clouds/{cloud}/seed              {"n_assets", "seed", "sku_pattern",
                                                   "replace"}
GET    /_control/clouds/{cloud}/skus              SKU groups, to seed a matching catalog
GET    /_control/clouds/{cloud}/assets            ?offset=&limit=&expression=
POST   /_control/clouds/{cloud}/assets            add an asset; an existing public_id gets
                                                  a new version
GET    /_control/clouds/{cloud}/assets/{asset_id}
POST   /_control/clouds/{cloud}/assets/{asset_id} new version (+ changed fields)
DELETE /_control/clouds/{cloud}/assets/{asset_id}
GET    /_control/clouds/{cloud}/rate_limit
POST   /_control/clouds/{cloud}/rate_limit        {"limit", "remaining", "reset": true}
POST   /_control/clouds/{cloud}/metadata_fields   a field definition (Admin API shape)
GET    /_control/clouds/{cloud}/requests          the Admin API calls received (last 2000)
DELETE /_control/clouds/{cloud}/requests
GET    /_control/clouds/{cloud}/notifications     the global notification URL, triggers,
                                                  retry delays, pending deliveries and the
                                                  delivery log (every attempt)
POST   /_control/clouds/{cloud}/notifications     {"url": "http://…" or null,
                                                   "retry_delays": [180, 360, 540]}
"""

from __future__ import annotations

import json
import secrets
from email.utils import formatdate
from typing import Any

from werkzeug.wrappers import Request, Response

from . import notifications
from .search import Evaluator, parse
from .seed import DEFAULT_SKU_PATTERN, seed_library
from .state import Asset, Cloud, EmulatorError, iso


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=1), status=status, mimetype="application/json")


def _body(request: Request) -> dict:
    if not request.get_data():
        return {}
    try:
        data = json.loads(request.get_data(as_text=True))
    except ValueError:
        raise EmulatorError(400, "Invalid JSON body") from None
    if not isinstance(data, dict):
        raise EmulatorError(400, "JSON body must be an object")
    return data


def cloud_info(cloud: Cloud, now: float) -> dict:
    cloud.rate.roll(now)
    return {
        "cloud_name": cloud.name,
        "api_key": cloud.api_key,
        "api_secret": cloud.api_secret,
        "assets": len(cloud.assets),
        "images": sum(1 for a in cloud.assets.values() if a.resource_type == "image"),
        "videos": sum(1 for a in cloud.assets.values() if a.resource_type == "video"),
        "metadata_fields": list(cloud.metadata_fields),
        "captioning": cloud.captioning,
        "rate_limit": rate_info(cloud),
        "seed": cloud.seed_info,
    }


def rate_info(cloud: Cloud) -> dict:
    return {
        "limit": cloud.rate.limit,
        "used": cloud.rate.used,
        "remaining": cloud.rate.remaining,
        "reset_at": formatdate(cloud.rate.reset_at, usegmt=True),
    }


def handle(app, request: Request, parts: list[str]) -> Response:
    state = app.state
    m = request.method
    with state.lock:
        if not parts:
            from . import control

            return Response(control.__doc__, mimetype="text/plain")
        if parts == ["reset"] and m == "POST":
            app.reset()
            return _json({"clouds": [cloud_info(c, state.now()) for c in state.clouds.values()]})
        if parts == ["clock"] and m == "POST":
            body = _body(request)
            if "offset" in body:
                state.time_offset = float(body["offset"])
            state.time_offset += float(body.get("advance", 0))
            return _json({"now": iso(state.now()), "offset": state.time_offset})
        if parts == ["clouds"]:
            if m == "GET":
                return _json(
                    {"clouds": [cloud_info(c, state.now()) for c in state.clouds.values()]}
                )
            if m == "POST":
                return create_cloud(state, _body(request))
        if len(parts) >= 2 and parts[0] == "clouds":
            cloud = state.cloud(parts[1])
            return cloud_routes(app, request, cloud, parts[2:])
    raise EmulatorError(404, f"Unknown control endpoint {request.path}")


def create_cloud(state, body: dict) -> Response:
    name = body.get("cloud_name")
    if not name:
        raise EmulatorError(400, "cloud_name is required")
    cloud = state.create_cloud(
        name,
        body.get("api_key") or secrets.token_hex(8),
        body.get("api_secret") or secrets.token_urlsafe(18),
        rate_limit=int(body.get("rate_limit") or 2000),
        captioning=bool(body.get("captioning", True)),
    )
    seed = body.get("seed")
    if seed:
        _seed(state, cloud, seed if isinstance(seed, dict) else {})
    return _json(cloud_info(cloud, state.now()), 201)


def _seed(state, cloud: Cloud, body: dict) -> dict:
    try:
        return seed_library(
            state,
            cloud,
            int(body.get("n_assets", 100)),
            seed=int(body.get("seed", 42)),
            sku_pattern=body.get("sku_pattern") or DEFAULT_SKU_PATTERN,
            replace=bool(body.get("replace", True)),
        )
    except ValueError as e:
        raise EmulatorError(400, str(e)) from None


def cloud_routes(app, request: Request, cloud: Cloud, rest: list[str]) -> Response:
    state = app.state
    m = request.method
    base = app.base_url(request)
    if not rest:
        if m == "GET":
            return _json(cloud_info(cloud, state.now()))
        if m == "DELETE":
            del state.clouds[cloud.name]
            state.search_cache.clear()
            return _json({"deleted": cloud.name})
    elif rest == ["settings"] and m == "POST":
        body = _body(request)
        if "captioning" in body:
            cloud.captioning = bool(body["captioning"])
        if body.get("api_key"):
            cloud.api_key = str(body["api_key"])
        if body.get("api_secret"):
            cloud.api_secret = str(body["api_secret"])
        return _json(cloud_info(cloud, state.now()))
    elif rest == ["seed"] and m == "POST":
        return _json(_seed(state, cloud, _body(request)))
    elif rest == ["skus"] and m == "GET":
        return _json(sku_groups(cloud))
    elif rest == ["rate_limit"]:
        cloud.rate.roll(state.now())
        if m == "POST":
            body = _body(request)
            if body.get("reset"):
                cloud.rate.used = 0
            if "limit" in body:
                cloud.rate.limit = max(0, int(body["limit"]))
            if "remaining" in body:
                cloud.rate.used = max(0, cloud.rate.limit - int(body["remaining"]))
        return _json(rate_info(cloud))
    elif rest == ["metadata_fields"] and m == "POST":
        return _json(cloud.add_metadata_field(_body(request)), 201)
    elif rest == ["notifications"]:
        if m == "POST":
            body = _body(request)
            if "url" in body:
                url = body["url"]
                if url is not None and not str(url).startswith(("http://", "https://")):
                    raise EmulatorError(400, "url must be an http(s) URL or null")
                cloud.notification_url = url
            if "retry_delays" in body:
                cloud.notification_retry_delays = tuple(float(d) for d in body["retry_delays"])
        n = notifications.notifier(state)
        return _json(
            {
                "url": cloud.notification_url,
                "triggers": cloud.triggers,
                "retry_delays": list(cloud.notification_retry_delays),
                "pending": n.pending(),
                "log": [e for e in n.log if e["cloud"] == cloud.name],
            }
        )
    elif rest == ["requests"]:
        if m == "DELETE":
            cloud.log.clear()
        return _json({"requests": list(cloud.log)})
    elif rest == ["assets"]:
        if m == "GET":
            args = request.args
            offset, limit = int(args.get("offset", 0)), int(args.get("limit", 100))
            pool = list(cloud.assets.values())
            if args.get("expression"):
                node = parse(args["expression"])
                ev = Evaluator(cloud, state.now())
                pool = [a for a in pool if ev.match(node, a)]
            return _json(
                {
                    "total": len(pool),
                    "assets": [
                        app.resource_json(cloud, a, base) for a in pool[offset : offset + limit]
                    ],
                }
            )
        if m == "POST":
            asset, created = upsert_asset(state, cloud, _body(request))
            _notify_upload(app, cloud, asset, created, base)
            return _json(
                {"created": created, "asset": app.resource_json(cloud, asset, base)},
                201 if created else 200,
            )
    elif len(rest) == 2 and rest[0] == "assets":
        asset = cloud.assets.get(rest[1])
        if asset is None:
            raise EmulatorError(404, f"Resource not found - {rest[1]}")
        if m == "GET":
            return _json(app.resource_json(cloud, asset, base))
        if m == "DELETE":
            cloud.remove_asset(asset.asset_id)
            notifications.emit(state, cloud, notifications.delete_payload([asset]), source="ui")
            return _json({"deleted": asset.asset_id})
        if m == "POST":
            body = {**_body(request), "public_id": asset.public_id}
            body.setdefault("resource_type", asset.resource_type)
            asset, _ = upsert_asset(state, cloud, body)
            _notify_upload(app, cloud, asset, False, base)
            return _json({"created": False, "asset": app.resource_json(cloud, asset, base)})
    raise EmulatorError(404, f"Unknown control endpoint {request.path}")


def _notify_upload(app, cloud: Cloud, asset: Asset, created: bool, base: str) -> None:
    """A control-API upload is a Console (Media Library) upload: it notifies like one."""
    resource = app.resource_json(cloud, asset, base)
    payload = notifications.upload_payload(resource, overwritten=not created)
    notifications.emit(app.state, cloud, payload, source="ui")


def upsert_asset(state, cloud: Cloud, body: dict) -> tuple[Asset, bool]:
    public_id = body.get("public_id")
    if not public_id or not isinstance(public_id, str):
        raise EmulatorError(400, "public_id is required")
    rtype = body.get("resource_type", "image")
    if rtype not in ("image", "video", "raw"):
        raise EmulatorError(400, f"Invalid resource_type {rtype}")
    metadata = {}
    for key, value in (body.get("metadata") or {}).items():
        v = cloud.validate_metadata_value(key, value)
        if v is not None:
            metadata[key] = v
    now = state.now()
    existing = cloud.find(rtype, "upload", public_id)
    if existing is not None:
        a = existing
        a.version = max(a.version + 1, int(now))
        a.uploaded_at = now
        for key in ("format", "width", "height", "bytes", "asset_folder", "display_name"):
            if key in body:
                setattr(a, key, body[key])
        if "tags" in body:
            a.tags = list(body["tags"])
        if "context" in body:
            a.context = {k: str(v) for k, v in body["context"].items()}
        if "metadata" in body:
            a.metadata = metadata
        cloud.touch()
        return a, False
    fmt = body.get("format") or ("mp4" if rtype == "video" else "jpg")
    w = int(body.get("width", 320 if rtype == "video" else 1000))
    h = int(body.get("height", 180 if rtype == "video" else 1000))
    asset_id = body.get("asset_id") or secrets.token_hex(16)
    if asset_id in cloud.assets:
        raise EmulatorError(409, f"asset_id {asset_id} already exists")
    folder = public_id.rsplit("/", 1)[0] if "/" in public_id else ""
    a = Asset(
        asset_id=asset_id,
        public_id=public_id,
        resource_type=rtype,
        format=fmt,
        version=int(now),
        created_at=now,
        uploaded_at=now,
        bytes=int(body.get("bytes", w * h // 8)),
        width=w,
        height=h,
        asset_folder=body.get("asset_folder", folder),
        display_name=body.get("display_name") or public_id.rsplit("/", 1)[-1],
        duration=2.0 if rtype == "video" else None,
        tags=list(body.get("tags") or []),
        context={k: str(v) for k, v in (body.get("context") or {}).items()},
        metadata=metadata,
    )
    cloud.add_asset(a)
    return a, True


def sku_groups(cloud: Cloud) -> dict:
    """Per SKU: how many assets, the color label, the category folder, a product title."""
    from .media import NOUNS

    groups: dict[str, dict] = {}
    for a in cloud.assets.values():
        sku = a.metadata.get("sku")
        if not sku:
            continue
        g = groups.get(sku)
        if g is None:
            color = cloud.datasource_label("color", a.metadata.get("color") or "") or ""
            category = a.asset_folder.rsplit("/", 1)[-1] if a.asset_folder else ""
            noun = NOUNS.get(category, "item")
            g = groups[sku] = {
                "sku": sku,
                "assets": 0,
                "images": 0,
                "videos": 0,
                "swatches": 0,
                "color": color,
                "category": category,
                "title": f"{color} {noun} {sku}".strip().capitalize(),
            }
        g["assets"] += 1
        if a.resource_type == "video":
            g["videos"] += 1
        elif a.metadata.get("asset_type") == "asset_type_swatch":
            g["swatches"] += 1
        else:
            g["images"] += 1
    skus = sorted(groups.values(), key=lambda g: g["sku"])
    ungrouped = sum(1 for a in cloud.assets.values() if not a.metadata.get("sku"))
    return {
        "sku_pattern": (cloud.seed_info or {}).get("sku_pattern"),
        "count": len(skus),
        "ungrouped_assets": ungrouped,
        "skus": skus,
    }
