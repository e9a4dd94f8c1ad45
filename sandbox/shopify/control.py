"""The emulator's control API under `/_control/` (JSON in, JSON out). See sandbox/README.md."""

from __future__ import annotations

import functools
import json
import random
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from . import media, oauth, webhooks
from .state import FileObj, Metafield, Product, Shop, State, Variant, _default_config

CONFIG_KEYS = {
    "api_key": str,
    "api_secret": str,
    "media_delay": float,
    "job_delay": float,
    "bulk_delay": float,
    "download_timeout": float,
    "token_lifetime": float,
    "refresh_token_lifetime": float,
    "bucket_size": float,
    "auto_create_shops": bool,
    "scopes": str,
    "media_locks": bool,
    "app_name": str,
    "app_url": str,
    "answer_api_version": str,
    "deprecated_reason": str,
}

FAULT_KEYS = {
    "seed",
    "http_500",
    "http_502",
    "http_503",
    "slow",
    "slow_seconds",
    "throttled",
    "user_errors",
    "lost_answers",
    "lost_answer_mode",
    "shops",
}

# How an answer is lost after its mutations ran: an HTTP 500, an answer held back for
# `slow_seconds` (past the client's read timeout), or the connection closed without an answer.
LOST_MODES = ("http_500", "timeout", "drop")

ENDPOINTS = {
    "GET /_control/": "this index",
    "GET /_control/health": "liveness: {ok: true}",
    "GET /_control/state": "config, faults and the full state of every shop",
    "POST /_control/reset": "drop all shops, tokens, faults (config kept)",
    "GET|POST /_control/config": "read / change config",
    "GET /_control/shops": "list shops",
    "POST /_control/shops": "create or update a shop {domain, plan, name, token, seed}",
    "GET /_control/shops/{domain}": "full state of a shop (products, media, files)",
    "POST /_control/shops/{domain}/seed": "seed a deterministic catalog",
    "POST /_control/shops/{domain}/token": "issue an access token {scope, expiring, lifetime}",
    "POST /_control/shops/{domain}/session-token": "mint an App Bridge session token (JWT)",
    "GET /_control/shops/{domain}/calls": "GraphQL call log with costs",
    "GET|POST|DELETE /_control/faults": "fault injection settings",
    "POST /_control/webhooks": "deliver a webhook {shop, topic, address}",
    "GET /_control/webhooks": "delivered webhooks",
}


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=1), status=status, mimetype="application/json")


def apply_config(state: State, values: dict) -> dict:
    unknown = set(values) - set(CONFIG_KEYS)
    if unknown:
        raise ValueError(f"unknown config keys: {sorted(unknown)}")
    with state.lock:
        defaults = _default_config()
        for k, v in values.items():
            state.config[k] = defaults[k] if v is None else CONFIG_KEYS[k](v)
        if "bucket_size" in values:
            for shop in state.shops.values():
                shop.bucket = None
    return public_config(state)


def public_config(state: State) -> dict:
    return dict(state.config)


def _rate(value, where: str) -> float:
    rate = float(value)
    if not 0 <= rate <= 1:
        raise ValueError(f"{where}: a rate is between 0 and 1, not {value!r}")
    return rate


def _mutation_names() -> set[str]:
    from .graphql_api import schema

    return set(schema().mutation_type.fields)


@functools.cache
def error_codes(mutation: str) -> frozenset[str] | None:
    """The codes the userErrors of `mutation` can carry (None: its userErrors have no code)."""
    from graphql import get_named_type

    from .graphql_api import schema

    payload = get_named_type(schema().mutation_type.fields[mutation].type)
    for name in ("mediaUserErrors", "userErrors"):
        if name in payload.fields:
            error_type = get_named_type(payload.fields[name].type)
            code = error_type.fields.get("code")
            return frozenset(get_named_type(code.type).values) if code else None
    return None


def _per_mutation(values: dict | None, key: str, parse) -> dict[str, dict]:
    """`{"productUpdate": 0.5, "*": 0.1}` or `{"fileUpdate": {"rate": 0.5, ...}}`, checked."""
    if not values:
        return {}
    if not isinstance(values, dict):
        raise ValueError(f"{key}: an object of mutation name (or '*') -> rate expected")
    known = _mutation_names()
    out = {}
    for name, spec in values.items():
        if name != "*" and name not in known:
            raise ValueError(f"{key}: unknown mutation {name!r}; one of {sorted(known)} or '*'")
        spec = spec if isinstance(spec, dict) else {"rate": spec}
        out[name] = parse(name, spec, f"{key}.{name}")
    return out


def _user_error_spec(name: str, spec: dict, where: str) -> dict:
    unknown = set(spec) - {"rate", "code", "message"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed rate, code, message")
    code = spec.get("code")
    if code is not None and name != "*":
        codes = error_codes(name)
        if codes is None:
            raise ValueError(f"{where}: the userErrors of {name} have no code")
        if code not in codes:
            raise ValueError(f"{where}: {code!r} is not one of {name}'s codes {sorted(codes)}")
    return {"rate": _rate(spec.get("rate", 0), where), "code": code, "message": spec.get("message")}


def _lost_spec(default_mode: str):
    def parse(name: str, spec: dict, where: str) -> dict:
        unknown = set(spec) - {"rate", "mode"}
        if unknown:
            raise ValueError(f"{where}: unknown keys {sorted(unknown)}; allowed rate, mode")
        mode = spec.get("mode", default_mode)
        if mode not in LOST_MODES:
            raise ValueError(f"{where}: mode {mode!r} is not one of {list(LOST_MODES)}")
        return {"rate": _rate(spec.get("rate", 0), where), "mode": mode}

    return parse


def set_faults(state: State, values: dict | None) -> dict | None:
    if not values:
        with state.lock:
            state.faults = None
            state.fault_rng = None
        return None
    unknown = set(values) - FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault keys: {sorted(unknown)}; allowed {sorted(FAULT_KEYS)}")
    mode = values.get("lost_answer_mode", "http_500")
    if mode not in LOST_MODES:
        raise ValueError(f"lost_answer_mode {mode!r} is not one of {list(LOST_MODES)}")
    faults = {
        "seed": int(values.get("seed", 0)),
        "http_500": _rate(values.get("http_500", 0), "http_500"),
        "http_502": _rate(values.get("http_502", 0), "http_502"),
        "http_503": _rate(values.get("http_503", 0), "http_503"),
        "slow": _rate(values.get("slow", 0), "slow"),
        "slow_seconds": float(values.get("slow_seconds", 5.0)),
        "throttled": _rate(values.get("throttled", 0), "throttled"),
        "user_errors": _per_mutation(values.get("user_errors"), "user_errors", _user_error_spec),
        "lost_answers": _per_mutation(values.get("lost_answers"), "lost_answers", _lost_spec(mode)),
        "lost_answer_mode": mode,
        "shops": values.get("shops"),
    }
    with state.lock:
        state.faults = faults
        state.fault_rng = random.Random(faults["seed"])
    return faults


# --- state dumps ---------------------------------------------------------------------------


def dump_file(f: FileObj) -> dict:
    return {
        "id": f.gid,
        "kind": f.kind,
        "status": f.status,
        "errors": f.errors,
        "alt": f.alt,
        "filename": f.filename,
        "original_source": f.original_source,
        "url": f.url,
        "width": f.width,
        "height": f.height,
        "mime_type": f.mime_type,
        "products": [f"gid://shopify/Product/{p}" for p in f.product_ids],
        "created": f.created,
        "updated": f.updated,
        "processed": f.processed,
    }


def dump_metafields(mfs: dict) -> list[dict]:
    return [
        {"id": m.gid, "namespace": m.namespace, "key": m.key, "type": m.type, "value": m.value}
        for m in mfs.values()
    ]


def dump_product(shop: Shop, p: Product) -> dict:
    return {
        "id": p.gid,
        "title": p.title,
        "handle": p.handle,
        "status": p.status,
        "tags": p.tags,
        "vendor": p.vendor,
        "variants": [
            {
                "id": v.gid,
                "title": v.title,
                "sku": v.sku,
                "barcode": v.barcode,
                "media": [shop.files[m].gid for m in v.media_ids if m in shop.files],
                "metafields": dump_metafields(v.metafields),
            }
            for v in p.variants
        ],
        "media": [shop.files[m].gid for m in p.media_ids if m in shop.files],
        "metafields": dump_metafields(p.metafields),
    }


def dump_shop(shop: Shop, full: bool = True) -> dict:
    out = {
        "domain": shop.domain,
        "id": shop.gid,
        "name": shop.name,
        "plan": shop.plan,
        "installed": shop.installed,
        "products_count": len(shop.products),
        "files_count": len(shop.files),
    }
    if full:
        out["products"] = [dump_product(shop, p) for p in shop.products.values()]
        out["files"] = [dump_file(f) for f in shop.files.values()]
        out["jobs"] = [{"id": j.gid, "done": j.done} for j in shop.jobs.values()]
        out["bulk_operations"] = [
            {"id": b.gid, "status": b.status, "url": b.url, "objectCount": b.object_count}
            for b in shop.bulk_ops.values()
        ]
    return out


# --- seeding -------------------------------------------------------------------------------

WORDS = [
    "Classic",
    "Organic",
    "Vintage",
    "Urban",
    "Alpine",
    "Coastal",
    "Midnight",
    "Sunny",
    "Rugged",
    "Silk",
    "Linen",
    "Canvas",
    "Leather",
    "Wool",
    "Cotton",
    "Denim",
]
ITEMS = ["Shirt", "Sneaker", "Bag", "Hat", "Jacket", "Scarf", "Mug", "Lamp", "Chair", "Watch"]
TAGS = ["summer", "winter", "sale", "new", "bestseller", "ss26", "fw26", "eco"]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def seed(state: State, shop: Shop, spec: dict, base_url: str) -> dict:
    """Deterministic catalog from `spec` (see README). Returns a summary."""
    rng = random.Random(spec.get("seed", 0))
    n = int(spec.get("products", 10))
    vpp = spec.get("variants_per_product", 1)
    sku_pattern = spec.get("sku_pattern", "SKU-{n:05d}")
    barcode_pattern = spec.get("barcode_pattern", "{ean13}")
    title_pattern = spec.get("title_pattern")
    mpp = spec.get("media_per_product", 0)
    media_urls = spec.get("media_urls")  # list (round robin) or None -> generated placeholders
    process_media = bool(spec.get("process_media", False))
    metafields_spec = spec.get("metafields", [])  # [{namespace,key,type,value_pattern}]
    variant_mf_spec = spec.get("variant_metafields", [])
    statuses = spec.get("statuses", ["ACTIVE"])
    start = int(spec.get("start", 1))
    fixed_tags = spec.get("tags")  # a list given: every product gets exactly these tags
    created = []
    sku_n = int(spec.get("sku_start", start))
    url_i = 0
    with state.lock:
        handles = {p.handle for p in shop.products.values()}
        for i in range(start, start + n):
            if title_pattern:
                title = title_pattern.format(n=i)
            else:
                title = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(ITEMS)} {i}"
            handle = _slug(title)
            while handle in handles:
                handle += "-1"
            handles.add(handle)
            p = Product(
                id=state.next_id(),
                title=title,
                handle=handle,
                status=statuses[(i - start) % len(statuses)],
                tags=sorted(rng.sample(TAGS, rng.randint(0, 3)))
                if fixed_tags is None
                else list(fixed_tags),
                vendor=spec.get("vendor", "Sandbox Co"),
                product_type=rng.choice(ITEMS),
            )
            nv = vpp if isinstance(vpp, int) else rng.randint(int(vpp[0]), int(vpp[1]))
            for j in range(1, nv + 1):
                digits = f"0{rng.randrange(10**10, 10**11)}"
                check = (10 - sum((3 if k % 2 else 1) * int(d) for k, d in enumerate(digits))) % 10
                fmt = {"n": sku_n, "p": i, "v": j, "ean13": f"{digits}{check}"}
                v = Variant(
                    id=state.next_id(),
                    product_id=p.id,
                    title="Default Title" if nv == 1 else f"Option {j}",
                    sku=sku_pattern.format(**fmt) if sku_pattern else "",
                    barcode=barcode_pattern.format(**fmt) if barcode_pattern else "",
                    price=f"{rng.randint(5, 200)}.00",
                    position=j,
                )
                sku_n += 1
                for mf in variant_mf_spec:
                    _seed_mf(state, v, v.gid, mf, fmt)
                p.variants.append(v)
            for mf in metafields_spec:
                _seed_mf(
                    state,
                    p,
                    p.gid,
                    mf,
                    {"n": i, "p": i, "sku": p.variants[0].sku if p.variants else ""},
                )
            count = mpp if isinstance(mpp, int) else rng.randint(int(mpp[0]), int(mpp[1]))
            for k in range(count):
                if media_urls:
                    src = media_urls[url_i % len(media_urls)]
                    url_i += 1
                    f = media.new_file(
                        state,
                        shop,
                        src,
                        base_url,
                        kind=media.guess_kind(src),
                        alt=f"{title} {k + 1}",
                        start=process_media,
                    )
                    if not process_media:
                        f.status, f.url = "READY", src
                else:
                    w, h = rng.choice([(800, 800), (1024, 768), (600, 900), (1200, 1200)])
                    color = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
                    f = media.new_file(
                        state,
                        shop,
                        f"{base_url}/seed/{p.handle}-{k + 1}.png",
                        base_url,
                        kind="IMAGE",
                        alt=f"{title} {k + 1}",
                        start=False,
                        filename=f"{p.handle}-{k + 1}.png",
                    )
                    f.placeholder = (w, h, color)  # PNG rendered lazily by the CDN route
                    f.width, f.height, f.mime_type = w, h, "image/png"
                    f.status, f.version = "READY", 1
                    f.url = f.original_source = media.cdn_url(base_url, shop, f)
                f.product_ids.append(p.id)
                p.media_ids.append(f.id)
            shop.products[p.id] = p
            created.append(p)
    return {
        "shop": shop.domain,
        "created": len(created),
        "products": [
            {"id": p.gid, "handle": p.handle, "skus": [v.sku for v in p.variants]} for p in created
        ],
    }


def _seed_mf(state: State, owner, owner_gid: str, mf: dict, fmt: dict) -> None:
    value = str(mf.get("value_pattern", mf.get("value", ""))).format(**fmt)
    m = Metafield(
        id=state.next_id(),
        owner_gid=owner_gid,
        namespace=mf.get("namespace", "custom"),
        key=mf["key"],
        type=mf.get("type", "single_line_text_field"),
        value=value,
    )
    owner.metafields[(m.namespace, m.key)] = m


# --- dispatcher ----------------------------------------------------------------------------


def _body(request: Request) -> dict:
    raw = request.get_data()
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("JSON object expected")
    return data


def handle(state: State, request: Request, path: str, base_url: str) -> Response:
    try:
        return _handle(state, request, path.strip("/"), base_url)
    except (ValueError, KeyError, TypeError) as e:
        return _json({"error": f"{type(e).__name__}: {e}"}, 400)


def _handle(state: State, request: Request, path: str, base_url: str) -> Response:
    method = request.method
    parts = path.split("/") if path else []
    body = _body(request) if method in ("POST", "DELETE") else {}
    if not parts:
        return _json({"endpoints": ENDPOINTS})
    head = parts[0]
    if head == "health":
        return _json({"ok": True, "emulator": "shopify", "shops": len(state.shops)})
    if head == "state" and method == "GET":
        with state.lock:
            return _json(
                {
                    "config": {k: v for k, v in public_config(state).items() if k != "api_secret"},
                    "faults": state.faults,
                    "shops": [dump_shop(s) for s in state.shops.values()],
                    "webhooks": state.webhook_log,
                }
            )
    if head == "reset" and method == "POST":
        state.reset()
        return _json({"ok": True})
    if head == "config":
        if method == "POST":
            return _json(apply_config(state, body))
        return _json(public_config(state))
    if head == "faults":
        if method == "POST":
            return _json({"faults": set_faults(state, body)})
        if method == "DELETE":
            return _json({"faults": set_faults(state, None)})
        return _json({"faults": state.faults})
    if head == "webhooks":
        if method == "POST":
            result = webhooks.deliver(
                state,
                body["shop"],
                body["topic"],
                body["address"],
                api_version=body.get("api_version", "2026-10"),
                payload=body.get("payload"),
                secret=body.get("secret"),
                timeout=float(body.get("timeout", 10)),
            )
            return _json(result)
        return _json({"deliveries": state.webhook_log})
    if head == "shops":
        if len(parts) == 1:
            if method == "POST":
                shop = state.create_shop(
                    body["domain"], body.get("plan", "standard"), body.get("name")
                )
                seeded = None
                if isinstance(body.get("seed"), dict) and not shop.products:
                    seeded = seed(state, shop, body["seed"], base_url)["created"]
                out = dump_shop(shop, full=False)
                if seeded is not None:
                    out["seeded"] = seeded
                if body.get("token"):
                    out["token"] = state.issue_token(shop.domain, expiring=False)
                return _json(out, 201)
            with state.lock:
                return _json({"shops": [dump_shop(s, full=False) for s in state.shops.values()]})
        shop = state.get_shop(parts[1])
        if shop is None:
            return _json({"error": f"unknown shop {parts[1]!r}"}, 404)
        sub = parts[2] if len(parts) > 2 else ""
        if sub == "" and method == "GET":
            with state.lock:
                return _json(dump_shop(shop))
        if sub == "seed" and method == "POST":
            return _json(seed(state, shop, body, base_url), 201)
        if sub == "token" and method == "POST":
            shop.installed = True
            out = state.issue_token(
                shop.domain,
                body.get("scope"),
                expiring=bool(body.get("expiring", False)),
                lifetime=body.get("lifetime"),
            )
            return _json(out, 201)
        if sub == "session-token" and method == "POST":
            claims = body.get("claims") or {}
            tok = oauth.mint_session_token(
                state, shop.domain, lifetime=int(body.get("lifetime", 60)), **claims
            )
            return _json({"session_token": tok})
        if sub == "calls" and method == "GET":
            with state.lock:
                return _json({"calls": list(shop.call_log)})
        if sub == "calls" and method == "DELETE":
            with state.lock:
                shop.call_log.clear()
            return _json({"ok": True})
        if sub == "bucket" and method == "GET":
            with state.lock:
                return _json(state.bucket(shop).status())
    return _json({"error": f"no control endpoint {method} /_control/{path}"}, 404)
