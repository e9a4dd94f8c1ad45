"""The Cloudinary emulator: a standalone werkzeug WSGI app (no Django).

    from sandbox.cloudinary.server import make_app
    app = make_app()            # a `demo` cloud seeded with 1000 assets
    app.state                   # the in-memory State (clouds, assets, rate limits)

Routes (see sandbox/README.md, "Cloudinary emulator"):
  Admin API (Basic auth with api_key:api_secret, rate-limited per cloud per hour)
    GET  /v1_1/{cloud}/ping
    GET  /v1_1/{cloud}/metadata_fields[/{external_id}]
    POST /v1_1/{cloud}/resources/search        (GET with query parameters works too)
    GET  /v1_1/{cloud}/resources/by_asset_ids?asset_ids[]=…   (at most 10)
    GET  /v1_1/{cloud}/resources/{asset_id}     POST: update (tags, context, metadata,
    GET  /v1_1/{cloud}/resources/{rtype}/{type}/{public_id}   detection=captioning, …)
    GET  /v1_1/{cloud}/resources/{rtype}[/{type}]  (list; public_ids[]=… up to 100)
  Delivery (no auth, no rate limit)
    GET  /{cloud}/image/upload/[{transformation}/…][v{version}/]{public_id}[.{ext}]
    GET  /{cloud}/video/upload/[v{version}/]{public_id}.mp4
  Control API (JSON, no auth): /_control/…
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import time
from email.utils import formatdate
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import media, notifications
from .search import Evaluator, candidates, parse
from .seed import DEFAULT_SKU_PATTERN, plan_groups, seed_library
from .state import (
    DEFAULT_CLOUD,
    DEFAULT_KEY,
    DEFAULT_RATE_LIMIT,
    DEFAULT_SECRET,
    Asset,
    Cloud,
    EmulatorError,
    State,
    iso,
)

logger = logging.getLogger("sandbox.cloudinary")
ASSET_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_SEARCH_RESULTS = 500
MAX_BY_ASSET_IDS = 10
MAX_BY_PUBLIC_IDS = 100
WITH_FIELDS = {
    "context",
    "tags",
    "metadata",
    "image_metadata",
    "image_analysis",
    "quality_analysis",
    "accessibility_analysis",
}
SORT_FIELDS = {
    "created_at",
    "uploaded_at",
    "public_id",
    "filename",
    "display_name",
    "asset_id",
    "bytes",
    "width",
    "height",
    "format",
    "resource_type",
    "asset_folder",
    "version",
}


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, mimetype="application/json", headers=headers or {}
    )


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    return json_response({"error": {"message": message}}, status, headers)


def _bool(v) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).lower() in ("1", "true", "yes", "on")


def parse_pipe(value) -> dict[str, Any]:
    """Parse Cloudinary's `key=value|key2=["a","b"]` encoding (`\\=` and `\\|` escaped)."""
    if isinstance(value, dict):
        return dict(value)
    if value is None or value == "":
        return {}
    pairs: dict[str, Any] = {}
    items, cur, esc = [], [], False
    for ch in str(value):
        if esc:
            cur.append("\\" + ch)
            esc = False
        elif ch == "\\":
            esc = True
        elif ch == "|":
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur))
    for item in items:
        if not item:
            continue
        m = re.match(r"^((?:[^=\\]|\\.)*)=(.*)$", item, re.S)
        if not m:
            raise EmulatorError(400, f"Invalid key=value pair: {item}")
        key = re.sub(r"\\(.)", r"\1", m.group(1)).strip()
        raw = m.group(2)
        val: Any = re.sub(r"\\(.)", r"\1", raw)
        if val.startswith("[") and val.endswith("]"):
            with contextlib.suppress(ValueError):
                val = json.loads(val)
        pairs[key] = val
    return pairs


class CloudinaryEmulator:
    """WSGI app; `state` is public so tests and tools can inspect or change it directly."""

    def __init__(self, state: State | None = None, **config):
        self.config = config
        self.state = state or State()
        if state is None:
            self._init_default()
        if config.get("delivery_base_url"):
            self.state.delivery_base_url = config["delivery_base_url"].rstrip("/")

    # -- set-up ------------------------------------------------------------------------------
    def _init_default(self) -> None:
        c = self.config
        with self.state.lock:
            self.state.clouds.clear()
            self.state.search_cache.clear()
            cloud = self.state.create_cloud(
                c.get("cloud_name") or os.environ.get("SANDBOX_CLOUDINARY_CLOUD", DEFAULT_CLOUD),
                c.get("api_key") or os.environ.get("SANDBOX_CLOUDINARY_KEY", DEFAULT_KEY),
                c.get("api_secret") or os.environ.get("SANDBOX_CLOUDINARY_SECRET", DEFAULT_SECRET),
                rate_limit=int(
                    c.get("rate_limit")
                    or _env_int("SANDBOX_CLOUDINARY_RATE_LIMIT", DEFAULT_RATE_LIMIT)
                ),
            )
            n = c.get("n_assets")
            if n is None:
                n = _env_int("SANDBOX_CLOUDINARY_ASSETS", 1000)
            seed_library(
                self.state,
                cloud,
                int(n),
                seed=int(c.get("seed", _env_int("SANDBOX_CLOUDINARY_SEED", 42))),
                sku_pattern=c.get("sku_pattern")
                or os.environ.get("SANDBOX_CLOUDINARY_SKU_PATTERN", DEFAULT_SKU_PATTERN),
            )

    # -- WSGI --------------------------------------------------------------------------------
    def __call__(self, environ, start_response):
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except EmulatorError as e:
            response = error_response(e.status, e.message)
        except HTTPException as e:
            response = error_response(e.code or 500, e.description or e.name)
        except (ValueError, TypeError, KeyError) as e:  # malformed parameters
            response = error_response(400, f"Invalid request: {e}")
        except Exception as e:  # noqa: BLE001 - an emulator bug must still answer JSON
            logger.exception("Cloudinary emulator error")
            response = error_response(500, f"Internal error: {e!r}")
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        parts = [p for p in request.path.split("/") if p != ""]
        if not parts:
            return json_response({"service": "cloudinary-emulator", "control": "/_control/"})
        if parts[0] == "_control":
            return self.control(request, parts[1:])
        if (
            parts[0] == "v1_1"
            and len(parts) == 4
            and parts[2] in ("image", "video", "raw")
            and parts[3] in ("explicit", "metadata", "upload", "destroy")
            and request.method == "POST"
        ):
            return self.upload_api(request, parts[1], parts[2], parts[3])
        if parts[0] == "v1_1" and len(parts) >= 2:
            return self.admin(request, parts[1], parts[2:])
        if len(parts) >= 4:
            return self.deliver(request, parts)
        return error_response(404, "Not found")

    # -- helpers -----------------------------------------------------------------------------
    def base_url(self, request: Request) -> str:
        return self.state.delivery_base_url or request.host_url.rstrip("/")

    def resource_json(
        self,
        cloud: Cloud,
        a: Asset,
        base: str,
        *,
        api: str = "admin",
        tags: bool = True,
        context: bool = True,
        metadata: bool = True,
        fields: list[str] | None = None,
    ) -> dict:
        ext = f".{a.format}" if a.format else ""
        url = f"{base}/{cloud.name}/{a.resource_type}/{a.type}/v{a.version}/{a.public_id}{ext}"
        out: dict[str, Any] = {
            "asset_id": a.asset_id,
            "public_id": a.public_id,
            "asset_folder": a.asset_folder,
            "folder": a.folder,
            "filename": a.filename,
            "display_name": a.display_name,
            "format": a.format,
            "version": a.version,
            "resource_type": a.resource_type,
            "type": a.type,
            "created_at": iso(a.created_at),
            "uploaded_at": iso(a.uploaded_at),
            "bytes": a.bytes,
            "backup_bytes": 0,
            "width": a.width,
            "height": a.height,
            "aspect_ratio": round(a.width / a.height, 5) if a.height else 0,
            "pixels": a.width * a.height,
            "url": url,
            "secure_url": url,
            "status": "active",
            "access_mode": "public",
            "access_control": None,
            "etag": hashlib.md5(f"{a.asset_id}:{a.version}".encode()).hexdigest(),  # noqa: S324
            "created_by": None,
            "uploaded_by": None,
        }
        if a.duration is not None:
            out["duration"] = a.duration
        if tags:
            out["tags"] = list(a.tags)
        if context and a.context:
            out["context"] = dict(a.context) if api == "search" else {"custom": dict(a.context)}
        if metadata and a.metadata:
            out["metadata"] = {
                k: (list(v) if isinstance(v, list) else v)
                for k, v in a.metadata.items()
                if v is not None
            }
        if fields:
            keep = set(fields) | {"asset_id", "public_id"}
            out = {k: v for k, v in out.items() if k in keep}
        return out

    # -- Admin API ---------------------------------------------------------------------------
    def admin(self, request: Request, cloud_name: str, rest: list[str]) -> Response:
        state = self.state
        with state.lock:
            cloud = state.clouds.get(cloud_name)
            if cloud is None:
                return error_response(401, f"Invalid cloud_name {cloud_name}")
            auth = request.authorization
            if auth is None or auth.type != "basic" or not auth.username:
                return error_response(401, "Must supply api_key")
            if auth.username != cloud.api_key:
                return error_response(401, f"Invalid api_key {auth.username}")
            if auth.password != cloud.api_secret:
                return error_response(401, "api_secret mismatch")
            now = state.now()
            cloud.rate.roll(now)
            limited = cloud.rate.used >= cloud.rate.limit
            if not limited:
                cloud.rate.used += 1
            headers = {
                "X-FeatureRateLimit-Limit": str(cloud.rate.limit),
                "X-FeatureRateLimit-Remaining": str(cloud.rate.remaining),
                "X-FeatureRateLimit-Reset": formatdate(cloud.rate.reset_at, usegmt=True),
                "X-Request-Id": hashlib.md5(  # noqa: S324
                    f"{cloud_name}:{now}:{len(cloud.log)}".encode()
                ).hexdigest()[:16],
            }
            if limited:
                response = error_response(
                    420,
                    f"Rate Limit Exceeded. Limit of {cloud.rate.limit} calls per hour; "
                    f"resets at {headers['X-FeatureRateLimit-Reset']}",
                    headers,
                )
            else:
                try:
                    response = self.admin_route(request, cloud, rest)
                except EmulatorError as e:
                    response = error_response(e.status, e.message)
                response.headers.update(headers)
            cloud.log.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": request.query_string.decode("latin-1"),
                    "status": response.status_code,
                    "at": iso(now),
                }
            )
            return response

    def admin_route(self, request: Request, cloud: Cloud, rest: list[str]) -> Response:
        m = request.method
        if rest == ["ping"] and m == "GET":
            return json_response({"status": "ok"})
        if rest and rest[0] == "triggers":
            return self.triggers(request, cloud, rest[1:])
        if rest and rest[0] == "metadata_fields" and m == "GET":
            if len(rest) == 1:
                return json_response({"metadata_fields": list(cloud.metadata_fields.values())})
            field = cloud.metadata_fields.get(rest[1])
            if field is None or len(rest) != 2:
                raise EmulatorError(404, f"Metadata field {'/'.join(rest[1:])} not found")
            return json_response(field)
        if not rest or rest[0] != "resources":
            raise EmulatorError(404, f"Unsupported endpoint {'/'.join(rest)}")
        sub = rest[1:]
        if sub == ["search"] and m in ("GET", "POST"):
            return self.search(request, cloud)
        if sub == ["by_asset_ids"] and m == "GET":
            return self.by_asset_ids(request, cloud)
        if len(sub) == 1 and ASSET_ID.match(sub[0]):
            asset = cloud.assets.get(sub[0])
            if asset is None:
                raise EmulatorError(404, f"Resource not found - {sub[0]}")
            return self.one_resource(request, cloud, asset)
        if len(sub) >= 3 and sub[0] in ("image", "video", "raw"):
            public_id = "/".join(sub[2:])
            asset = cloud.find(sub[0], sub[1], public_id)
            if asset is None:
                raise EmulatorError(404, f"Resource not found - {public_id}")
            return self.one_resource(request, cloud, asset)
        if len(sub) == 2 and sub[0] in ("image", "video", "raw") and m == "DELETE":
            return self.delete_resources(request, cloud, sub[0], sub[1])
        if 1 <= len(sub) <= 2 and sub[0] in ("image", "video", "raw") and m == "GET":
            return self.list_resources(request, cloud, sub[0], sub[1] if len(sub) > 1 else None)
        if len(sub) == 1 and m in ("GET", "POST"):
            raise EmulatorError(404, f"Resource not found - {sub[0]}")
        raise EmulatorError(404, f"Unsupported endpoint {'/'.join(rest)}")

    def _params(self, request: Request) -> dict:
        if request.method == "GET" or (request.method == "DELETE" and not request.get_data()):
            out: dict[str, Any] = {}
            for key in request.args:
                values = request.args.getlist(key)
                if key.endswith("[]"):
                    out[key[:-2]] = values
                else:
                    out[key] = values[0] if len(values) == 1 else values
            return out
        if request.mimetype == "application/json":
            try:
                data = json.loads(request.get_data(as_text=True) or "{}")
            except ValueError:
                raise EmulatorError(400, "Invalid JSON body") from None
            if not isinstance(data, dict):
                raise EmulatorError(400, "Invalid JSON body")
            return data
        return {k: v for k, v in request.form.items()}

    def search(self, request: Request, cloud: Cloud) -> Response:
        started = time.perf_counter()
        p = self._params(request)
        expression = p.get("expression") or ""
        try:
            max_results = int(p.get("max_results", 50))
        except (TypeError, ValueError):
            raise EmulatorError(400, "max_results must be an integer") from None
        if max_results < 1 or max_results > MAX_SEARCH_RESULTS:
            raise EmulatorError(400, f"max_results should be between 1 and {MAX_SEARCH_RESULTS}")
        with_field = p.get("with_field") or []
        if isinstance(with_field, str):
            with_field = [w for w in with_field.split(",") if w]
        bad = [w for w in with_field if w not in WITH_FIELDS]
        if bad:
            raise EmulatorError(400, f"Invalid with_field value: {', '.join(bad)}")
        fields = p.get("fields") or None
        if isinstance(fields, str):
            fields = [f for f in fields.split(",") if f]
        sort = self._sort_spec(p.get("sort_by"))
        ids = self._search_ids(cloud, expression, sort)
        qkey = hashlib.sha1(  # noqa: S324
            json.dumps([cloud.name, expression, sort]).encode()
        ).hexdigest()[:24]
        offset = 0
        cursor = p.get("next_cursor")
        if cursor:
            if not re.fullmatch(r"[0-9a-f]{24}[0-9a-f]+", str(cursor)) or cursor[:24] != qkey:
                raise EmulatorError(400, f"Invalid next_cursor {cursor}")
            offset = int(cursor[24:], 16)
        page = ids[offset : offset + max_results]
        base = self.base_url(request)
        resources = [
            self.resource_json(
                cloud,
                cloud.assets[i],
                base,
                api="search",
                tags="tags" in with_field,
                context="context" in with_field,
                metadata="metadata" in with_field,
                fields=fields,
            )
            for i in page
        ]
        out: dict[str, Any] = {
            "total_count": len(ids),
            "time": int((time.perf_counter() - started) * 1000),
            "resources": resources,
        }
        if offset + max_results < len(ids):
            out["next_cursor"] = f"{qkey}{offset + max_results:x}"
        aggregate = p.get("aggregate")
        if aggregate:
            out["aggregations"] = self._aggregate(cloud, ids, aggregate)
        return json_response(out)

    def _sort_spec(self, sort_by) -> list[tuple[str, str]]:
        if not sort_by:
            return [("created_at", "desc")]
        if isinstance(sort_by, str):
            try:
                sort_by = json.loads(sort_by)
            except ValueError:
                sort_by = [{sort_by: "desc"}]
        if isinstance(sort_by, dict):
            sort_by = [sort_by]
        spec = []
        for item in sort_by:
            if isinstance(item, dict) and len(item) == 1:
                (field, direction) = next(iter(item.items()))
            elif isinstance(item, list | tuple) and len(item) == 2:
                field, direction = item
            else:
                raise EmulatorError(400, f"Invalid sort_by {item!r}")
            direction = str(direction).lower()
            if direction not in ("asc", "desc"):
                raise EmulatorError(400, f"Invalid sort direction {direction}")
            if field not in SORT_FIELDS and not str(field).startswith("metadata."):
                raise EmulatorError(400, f"Invalid sort_by field {field}")
            spec.append((str(field), direction))
        return spec

    def _search_ids(self, cloud: Cloud, expression: str, sort: list) -> list[str]:
        key = (cloud.name, cloud.generation, expression, tuple(sort))
        cache = self.state.search_cache
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        node = parse(expression)
        ev = Evaluator(cloud, self.state.now())
        cand = candidates(node, cloud)
        pool = (
            (cloud.assets[i] for i in cand if i in cloud.assets)
            if cand is not None
            else cloud.assets.values()
        )
        matched = [a for a in pool if ev.match(node, a)]
        matched.sort(key=lambda a: a.asset_id)
        for field, direction in reversed(sort):
            present = [a for a in matched if _sort_value(a, field) is not None]
            missing = [a for a in matched if _sort_value(a, field) is None]
            present.sort(key=lambda a, f=field: _sort_value(a, f), reverse=direction == "desc")
            matched = present + missing
        ids = [a.asset_id for a in matched]
        cache[key] = ids
        while len(cache) > 16:
            cache.popitem(last=False)
        return ids

    def _aggregate(self, cloud: Cloud, ids: list[str], aggregate) -> dict:
        names = aggregate if isinstance(aggregate, list) else [aggregate]
        out = {}
        for name in names:
            name = name.get("type") if isinstance(name, dict) else name
            if name not in ("format", "resource_type", "type"):
                raise EmulatorError(400, f"Unsupported aggregate {name}")
            counts: dict[str, int] = {}
            for i in ids:
                v = getattr(cloud.assets[i], name)
                counts[v] = counts.get(v, 0) + 1
            out[name] = counts
        return out

    def by_asset_ids(self, request: Request, cloud: Cloud) -> Response:
        p = self._params(request)
        ids = p.get("asset_ids") or []
        if isinstance(ids, str):
            ids = [ids]
        if not ids:
            raise EmulatorError(400, "Missing required parameter - asset_ids")
        if len(ids) > MAX_BY_ASSET_IDS:
            raise EmulatorError(
                400, f"Too many asset IDs: {len(ids)} (at most {MAX_BY_ASSET_IDS} per request)"
            )
        fields = p.get("fields")
        fields = [f for f in fields.split(",") if f] if isinstance(fields, str) else fields
        base = self.base_url(request)
        resources = [
            self.resource_json(
                cloud,
                cloud.assets[i],
                base,
                tags=_bool(p.get("tags", False)),
                context=_bool(p.get("context", False)),
                metadata=_bool(p.get("metadata", False)),
                fields=fields,
            )
            for i in dict.fromkeys(ids)
            if i in cloud.assets
        ]
        return json_response({"resources": resources})

    def list_resources(
        self, request: Request, cloud: Cloud, rtype: str, dtype: str | None
    ) -> Response:
        p = self._params(request)
        max_results = int(p.get("max_results", 10))
        if max_results < 1 or max_results > 500:
            raise EmulatorError(400, "max_results should be between 1 and 500")
        public_ids = p.get("public_ids")
        if isinstance(public_ids, str):
            public_ids = [public_ids]
        base = self.base_url(request)
        kw = {
            "tags": _bool(p.get("tags", False)),
            "context": _bool(p.get("context", False)),
            "metadata": _bool(p.get("metadata", False)),
        }
        if public_ids:
            if len(public_ids) > MAX_BY_PUBLIC_IDS:
                raise EmulatorError(400, f"Too many public IDs (at most {MAX_BY_PUBLIC_IDS})")
            found = [cloud.find(rtype, dtype or "upload", pid) for pid in public_ids]
            res = [self.resource_json(cloud, a, base, **kw) for a in found if a]
            return json_response({"resources": res})
        prefix = p.get("prefix") or ""
        by_context = dtype == "context"  # resources/{type}/context?key=K[&value=V]
        if by_context and not p.get("key"):
            raise EmulatorError(400, "Missing required parameter - key")
        pool = sorted(
            (
                a
                for a in cloud.assets.values()
                if a.resource_type == rtype
                and (dtype is None or by_context or a.type == dtype)
                and a.public_id.startswith(prefix)
                and (not by_context or _context_matches(a.context, p["key"], p.get("value")))
            ),
            key=lambda a: (a.created_at, a.asset_id),
            reverse=str(p.get("direction", "desc")).lower() in ("desc", "-1"),
        )
        offset = 0
        if p.get("next_cursor"):
            try:
                offset = int(str(p["next_cursor"]), 16)
            except ValueError:
                raise EmulatorError(400, "Invalid next_cursor") from None
        page = pool[offset : offset + max_results]
        out: dict[str, Any] = {
            "resources": [self.resource_json(cloud, a, base, **kw) for a in page]
        }
        if offset + max_results < len(pool):
            out["next_cursor"] = f"{offset + max_results:x}"
        return json_response(out)

    def one_resource(self, request: Request, cloud: Cloud, asset: Asset) -> Response:
        base = self.base_url(request)
        if request.method == "GET":
            out = self.resource_json(cloud, asset, base)
            out["derived"] = []
            return json_response(out)
        if request.method != "POST":
            raise EmulatorError(404, "Unsupported method")
        p = self._params(request)
        before = notifications.Snapshot(asset)
        info: dict[str, Any] = {}
        detection = p.get("detection")
        if detection:
            info = self._detect(cloud, asset, str(detection))
        updated = False
        if "tags" in p:
            tags = p["tags"]
            tags = tags if isinstance(tags, list) else [t for t in str(tags).split(",")]
            asset.tags = [t.strip() for t in tags if t.strip()]
            updated = True
        if "context" in p:
            asset.context = {k: str(v) for k, v in parse_pipe(p["context"]).items()}
            updated = True
        if "metadata" in p:
            self._apply_metadata(cloud, asset, p["metadata"], p)
            updated = True
        if p.get("display_name"):
            asset.display_name = str(p["display_name"])
            updated = True
        if "asset_folder" in p:
            asset.asset_folder = str(p["asset_folder"] or "")
            updated = True
        if updated:
            cloud.touch()
            before.emit_changes(self.state, cloud)
        out = self.resource_json(cloud, asset, base)
        if info:
            out["info"] = info
        return json_response(out)

    def _detect(self, cloud: Cloud, asset: Asset, detection: str) -> dict:
        kinds = [d.strip() for d in detection.split(",") if d.strip()]
        info: dict[str, Any] = {"detection": {}}
        for kind in kinds:
            if kind != "captioning":
                raise EmulatorError(400, f"Detection '{kind}' is not supported by the emulator")
            if not cloud.captioning:
                raise EmulatorError(
                    400,
                    "You don't have an active subscription for the Cloudinary AI Content "
                    "Analysis add-on",
                )
            if asset.resource_type != "image":
                raise EmulatorError(400, "Captioning is only supported for images")
            info["detection"]["captioning"] = {
                "status": "complete",
                "data": {"caption": media.caption(cloud, asset)},
                "model_version": 1,
                "schema_version": 1,
            }
        return info

    # -- Upload API (signed, not rate-limited): explicit and update_metadata ----------------
    def upload_api(self, request: Request, cloud_name: str, rtype: str, action: str) -> Response:
        state = self.state
        params: dict[str, Any] = {}
        for key in request.form:
            values = request.form.getlist(key)
            if key.endswith("[]"):
                params[key[:-2]] = values
            else:
                params[key] = values[0]
        with state.lock:
            cloud = state.clouds.get(cloud_name)
            if cloud is None:
                return error_response(401, f"Invalid cloud_name {cloud_name}")
            if params.get("api_key") != cloud.api_key:
                return error_response(401, f"Invalid api_key {params.get('api_key', '')}".strip())
            check_signature(params, cloud.api_secret, state.now())
            if action == "upload":
                return self._upload(request, cloud, rtype, params)
            if action == "destroy":
                return self._destroy(cloud, rtype, params)
            if action == "metadata":
                public_ids = params.get("public_ids") or []
                public_ids = [public_ids] if isinstance(public_ids, str) else public_ids
                assets = []
                for pid in public_ids:
                    asset = cloud.find(rtype, params.get("type", "upload"), pid)
                    if asset is None:
                        raise EmulatorError(404, f"Resource not found - {pid}")
                    assets.append(asset)
                snapshots = [notifications.Snapshot(a) for a in assets]
                for asset in assets:
                    self._apply_metadata(cloud, asset, params.get("metadata"), params)
                cloud.touch()
                for snapshot in snapshots:
                    snapshot.emit_changes(state, cloud)
                return json_response({"public_ids": public_ids})
            public_id = params.get("public_id") or ""
            asset = cloud.find(rtype, params.get("type", "upload"), public_id)
            if asset is None:
                raise EmulatorError(404, f"Resource not found - {public_id}")
            info = (
                self._detect(cloud, asset, params["detection"]) if params.get("detection") else {}
            )
            before = notifications.Snapshot(asset)
            if "tags" in params:
                tags = params["tags"]
                tags = tags if isinstance(tags, list) else str(tags).split(",")
                asset.tags = [t.strip() for t in tags if t.strip()]
            if "context" in params:
                asset.context = {k: str(v) for k, v in parse_pipe(params["context"]).items()}
            if "metadata" in params:
                self._apply_metadata(cloud, asset, params["metadata"], params)
            cloud.touch()
            before.emit_changes(state, cloud)
            out = self.resource_json(cloud, asset, self.base_url(request))
            out.pop("status", None)
            if info:
                out["info"] = info
            return json_response(out)

    def _upload(self, request: Request, cloud: Cloud, rtype: str, params: dict) -> Response:
        """``uploader.upload``: a new asset, or a new version of an existing public id
        (``overwrite``, true by default); notifies ``upload`` (``overwritten`` for a version)."""
        from .control import upsert_asset

        if "file" not in params and "file" not in request.files:
            raise EmulatorError(400, "Missing required parameter - file")
        public_id = params.get("public_id") or secrets.token_hex(10)
        existing = cloud.find(rtype, params.get("type", "upload"), public_id)
        base = self.base_url(request)
        if existing is not None and not _bool(params.get("overwrite", True)):
            return json_response({**self.resource_json(cloud, existing, base), "existing": True})
        body: dict[str, Any] = {"public_id": public_id, "resource_type": rtype}
        if "tags" in params:
            tags = params["tags"]
            body["tags"] = [t.strip() for t in (tags if isinstance(tags, list)
                                                else str(tags).split(",")) if t.strip()]  # fmt: skip
        if "context" in params:
            body["context"] = parse_pipe(params["context"])
        if "metadata" in params:
            merged = dict(existing.metadata) if existing is not None else {}
            merged.update(parse_pipe(params["metadata"]))
            body["metadata"] = merged
        for key in ("width", "height", "format"):
            if key in params:
                body[key] = int(params[key]) if key != "format" else str(params[key])
        size = _uploaded_size(request, params)
        if size is not None:
            body["bytes"] = size  # Cloudinary reports the stored file's real size
        asset, created = upsert_asset(self.state, cloud, body)
        out = self.resource_json(cloud, asset, base)
        out.pop("status", None)
        if not created:
            out["overwritten"] = True
        notifications.emit(
            self.state,
            cloud,
            notifications.upload_payload(out, overwritten=not created),
            url=params.get("notification_url") or None,
        )
        return json_response(out)

    def _destroy(self, cloud: Cloud, rtype: str, params: dict) -> Response:
        asset = cloud.find(rtype, params.get("type", "upload"), params.get("public_id") or "")
        if asset is None:
            return json_response({"result": "not found"})
        cloud.remove_asset(asset.asset_id)
        notifications.emit(
            self.state,
            cloud,
            notifications.delete_payload([asset]),
            url=params.get("notification_url") or None,
        )
        return json_response({"result": "ok"})

    def delete_resources(self, request: Request, cloud: Cloud, rtype: str, dtype: str):
        """Admin API ``delete_resources``: ``public_ids[]`` (up to 100); notifies ``delete``."""
        p = self._params(request)
        public_ids = p.get("public_ids") or []
        public_ids = [public_ids] if isinstance(public_ids, str) else list(public_ids)
        if not public_ids or len(public_ids) > 100:
            raise EmulatorError(400, "Give 1 to 100 public_ids")
        deleted: dict[str, str] = {}
        gone = []
        for pid in public_ids:
            asset = cloud.find(rtype, dtype, pid)
            if asset is None:
                deleted[pid] = "not_found"
                continue
            cloud.remove_asset(asset.asset_id)
            gone.append(asset)
            deleted[pid] = "deleted"
        if gone:
            notifications.emit(
                self.state,
                cloud,
                notifications.delete_payload(gone),
                url=p.get("notification_url") or None,
            )
        return json_response({"deleted": deleted, "deleted_counts": {}, "partial": False})

    def triggers(self, request: Request, cloud: Cloud, rest: list[str]) -> Response:
        """Admin API triggers: ``GET``, ``POST {uri, event_type}``, ``DELETE triggers/{id}``."""
        if not rest and request.method == "GET":
            return json_response({"triggers": list(cloud.triggers)})
        if not rest and request.method == "POST":
            p = self._params(request)
            uri, event = str(p.get("uri") or ""), str(p.get("event_type") or "")
            if not uri.startswith(("http://", "https://")):
                raise EmulatorError(400, "uri must be an http(s) URL")
            if event not in ("all", *notifications.EVENT_TYPES):
                raise EmulatorError(400, f"Invalid event_type {event}")
            trigger = {"id": secrets.token_hex(12), "uri": uri, "event_type": event,
                       "created_at": iso(self.state.now())}  # fmt: skip
            cloud.triggers.append(trigger)
            return json_response(trigger)
        if len(rest) == 1 and request.method == "DELETE":
            before = len(cloud.triggers)
            cloud.triggers = [t for t in cloud.triggers if t["id"] != rest[0]]
            if len(cloud.triggers) == before:
                raise EmulatorError(404, f"Trigger {rest[0]} not found")
            return json_response({"message": "ok"})
        raise EmulatorError(404, "Unsupported endpoint triggers")

    def _apply_metadata(self, cloud: Cloud, asset: Asset, encoded, params: dict) -> None:
        clear_invalid = _bool(params.get("clear_invalid", False))
        new = dict(asset.metadata)
        for key, value in parse_pipe(encoded).items():
            try:
                v = cloud.validate_metadata_value(key, value)
            except EmulatorError:
                if clear_invalid:
                    new.pop(key, None)
                    continue
                raise
            if v is None:
                new.pop(key, None)
            else:
                new[key] = v
        asset.metadata = new

    # -- delivery ----------------------------------------------------------------------------
    def deliver(self, request: Request, parts: list[str]) -> Response:
        if request.method not in ("GET", "HEAD"):
            return Response("Method not allowed", 405)
        cloud_name, rtype, dtype, rest = parts[0], parts[1], parts[2], parts[3:]
        with self.state.lock:
            cloud = self.state.clouds.get(cloud_name)
            if cloud is None or rtype not in ("image", "video") or dtype != "upload":
                return _not_found("Resource not found")
            try:
                found = media.resolve(cloud, rtype, rest)
            except ValueError as e:
                return Response(
                    f"Invalid transformation: {e}",
                    400,
                    mimetype="text/plain",
                    headers={"X-Cld-Error": f"Invalid transformation: {e}"},
                )
            if found is None:
                return _not_found("Resource not found")
            asset, steps, ext = found
            snapshot = (asset.asset_id, asset.version, asset.public_id, asset.format)
            colors = media.asset_colors(cloud, asset)
        try:
            fmt = next((v for st in steps for k, v in st if k == "f"), None)
            still = (fmt or ext) in media.IMAGE_FORMATS or fmt == "auto"
            if rtype == "video" and not still:
                body, mimetype = (
                    media.video_bytes(asset.asset_id, asset.version, colors),
                    "video/mp4",
                )
            else:
                body, mimetype = media.render(
                    asset, colors, steps, ext, request.headers.get("Accept", "")
                )
        except ValueError as e:
            return Response(str(e), 400, mimetype="text/plain", headers={"X-Cld-Error": str(e)})
        etag = hashlib.md5(  # noqa: S324
            repr((snapshot, steps, ext)).encode() + str(len(body)).encode()
        ).hexdigest()
        resp = Response(body, 200, mimetype=mimetype)
        resp.headers["Cache-Control"] = "public, max-age=2592000"
        resp.headers["ETag"] = f'"{etag}"'
        resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp

    # -- control API -------------------------------------------------------------------------
    def control(self, request: Request, parts: list[str]) -> Response:
        from .control import handle

        return handle(self, request, parts)

    def reset(self) -> None:
        self.state.time_offset = 0.0
        self._init_default()


UNSIGNED = {"signature", "api_key", "file", "resource_type", "cloud_name"}


def check_signature(params: dict, api_secret: str, now: float) -> None:
    """Verify an Upload API signature as Cloudinary does (SHA-1 or SHA-256, v1 or v2)."""
    signature = str(params.get("signature") or "")
    if not signature:
        raise EmulatorError(401, "Missing required parameter - signature")
    try:
        timestamp = int(params.get("timestamp") or 0)
    except ValueError:
        timestamp = 0
    if abs(now - timestamp) > 3600:
        raise EmulatorError(400, f"Stale request - reported time is {timestamp}")
    parts = []
    for k, v in params.items():
        if k in UNSIGNED or not v:
            continue
        parts.append(f"{k}={','.join(v) if isinstance(v, list) else v}")
    v1 = "&".join(sorted(parts))
    v2 = "&".join(sorted(p.replace("&", "%26") for p in parts))
    for to_sign in (v2, v1):
        for algo in (hashlib.sha1, hashlib.sha256):
            if algo((to_sign + api_secret).encode()).hexdigest() == signature:
                return
    raise EmulatorError(401, f"Invalid Signature {signature}. String to sign - '{v2}'.")


def _sort_value(a: Asset, field: str):
    if field.startswith("metadata."):
        v = a.metadata.get(field[9:])
        if isinstance(v, list):
            v = ",".join(v)
        return v
    if field == "filename":
        return a.filename
    return getattr(a, field, None)


def _not_found(message: str) -> Response:
    return Response(message, 404, mimetype="text/plain", headers={"X-Cld-Error": message})


def make_app(*, state: State | None = None, **config) -> CloudinaryEmulator:
    """Build the emulator. Config (all optional): cloud_name, api_key, api_secret, n_assets
    (default 1000, env SANDBOX_CLOUDINARY_ASSETS), seed (42), sku_pattern ("SKU-{n:05d}"),
    rate_limit (per hour, default 2000), delivery_base_url (default: the request's host).
    With `state`, that state is used as it is (nothing is seeded)."""
    return CloudinaryEmulator(state, **config)


__all__ = ["make_app", "CloudinaryEmulator", "parse_pipe", "plan_groups"]


def _uploaded_size(request: Request, params: dict) -> int | None:
    """The byte count of an upload's file: a multipart file or a base64 data URI (a remote URL
    is not fetched: None, the emulator's made-up size stays)."""
    if "file" in request.files:
        return len(request.files["file"].read())
    source = str(params.get("file") or "")
    if source.startswith("data:") and ";base64," in source:
        import base64
        import binascii

        with contextlib.suppress(binascii.Error, ValueError):
            return len(base64.b64decode(source.split(";base64,", 1)[1], validate=False))
    return None


def _context_matches(context: dict, key: str, value: str | None) -> bool:
    return key in context and (value is None or context[key] == value)
