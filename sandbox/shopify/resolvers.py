"""Resolvers for the emulator's GraphQL schema (queries and mutations).

The schema is built from `schema.graphql` with graphql-core; resolvers are looked up in
RESOLVERS by (type name, field name), otherwise dict keys / attributes of the same name are used.
All resolvers run with the state lock held (the endpoint holds it for the whole execution).
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError

from . import media as media_mod
from .search import compile_query
from .state import (
    MAX_ALT,
    MAX_MEDIA_PER_PRODUCT,
    BulkOp,
    FileObj,
    Job,
    Metafield,
    Product,
    Shop,
    State,
    Variant,
    now_iso,
    parse_gid,
)

APP_NAMESPACE = "app--sandbox"
FILE_KINDS = ("MediaImage", "Video", "GenericFile")


@dataclass
class Ctx:
    state: State
    shop: Shop
    base_url: str
    bulk: bool = False
    # mutation fields (response keys) that get a fault userError -> {rate, code, message}
    inject: dict[str, dict] = field(default_factory=dict)


RESOLVERS: dict[tuple[str, str], Any] = {}


def _accepting(fn):
    """Drops arguments (e.g. schema defaults like `scale: 1`) that `fn` does not declare."""
    params = inspect.signature(fn).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return fn
    names = set(params)
    return functools.wraps(fn)(
        lambda source, info, **args: fn(
            source, info, **{k: v for k, v in args.items() if k in names}
        )
    )


def resolver(*keys: str):
    def deco(fn):
        for key in keys:
            type_name, field_name = key.split(".")
            RESOLVERS[(type_name, field_name)] = _accepting(fn)
        return fn

    return deco


def field_resolver(source, info, **args):
    fn = RESOLVERS.get((info.parent_type.name, info.field_name))
    if fn is not None:
        return fn(source, info, **args)
    if isinstance(source, dict):
        return source.get(info.field_name)
    return getattr(source, info.field_name, None)


def resolve_type(obj, info, abstract_type):
    return obj.typename


# --- helpers -------------------------------------------------------------------------------


def _cursor(key) -> str:
    return base64.b64encode(json.dumps({"last_id": key}).encode()).decode()


def _uncursor(cursor: str):
    try:
        return json.loads(base64.b64decode(cursor))["last_id"]
    except Exception as e:  # noqa: BLE001
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor!r}") from e


def connection(info, items: list, args: dict, key=lambda o: o.id) -> dict:
    ctx: Ctx = info.context
    first, last = args.get("first"), args.get("last")
    after, before = args.get("after"), args.get("before")
    if not ctx.bulk:
        if first is None and last is None:
            raise GraphQLError("you must provide one of first or last")
        if first is not None and last is not None:
            raise GraphQLError("providing both first and last is not supported")
        for n in (first, last):
            if n is not None and not 0 <= n <= 250:
                raise GraphQLError(
                    f"The page size must be between 0 and 250 (requested {n})."
                    if n > 250
                    else "Argument 'first'/'last' must be non-negative."
                )
    items = list(items)
    if args.get("reverse"):
        items.reverse()
    keys = [key(o) for o in items]
    start, end = 0, len(items)
    if after is not None:
        k = _uncursor(after)
        start = keys.index(k) + 1 if k in keys else end
    if before is not None:
        k = _uncursor(before)
        end = keys.index(k) if k in keys else end
    window = items[start:end]
    has_prev, has_next = start > 0, end < len(items)
    if not ctx.bulk:
        if first is not None:
            has_next = has_next or len(window) > first
            window = window[:first]
        elif last is not None:
            has_prev = has_prev or len(window) > last
            window = window[-last:] if last else []
    conn: dict = {"nodes": window}
    conn["edges"] = [{"cursor": _cursor(key(o)), "node": o, "_conn": conn} for o in window]
    conn["pageInfo"] = {
        "hasNextPage": has_next,
        "hasPreviousPage": has_prev,
        "startCursor": _cursor(key(window[0])) if window else None,
        "endCursor": _cursor(key(window[-1])) if window else None,
    }
    return conn


def lookup(shop: Shop, gid_value: str):
    parsed = parse_gid(gid_value)
    if parsed is None:
        return None
    kind, num = parsed
    if kind == "Product":
        return shop.products.get(num)
    if kind == "ProductVariant":
        return shop.variant(num)
    if kind in FILE_KINDS:
        f = shop.files.get(num)
        return f if f is not None and f.typename == kind else None
    if kind == "Metafield":
        return shop.find_metafield(num)
    if kind == "BulkOperation":
        return shop.bulk_ops.get(num)
    if kind == "Shop" and num == shop.id:
        return shop
    return None


def _invalid_id(value: str, type_name: str = "ID") -> GraphQLError:
    return GraphQLError(
        f"Invalid global id '{value}'", extensions={"code": "argumentLiteralsIncompatible"}
    )


def _check_gid(value: str) -> None:
    if parse_gid(value) is None:
        raise _invalid_id(value)


def iso(ts: float) -> str:
    return now_iso(ts)


def _touch(obj) -> None:
    obj.updated = time.time()


# --- QueryRoot -----------------------------------------------------------------------------

_PRODUCT_SORT = {
    "ID": lambda p: p.id,
    "TITLE": lambda p: p.title.lower(),
    "CREATED_AT": lambda p: (p.created, p.id),
    "UPDATED_AT": lambda p: (p.updated, p.id),
    "VENDOR": lambda p: (p.vendor.lower(), p.id),
    "PRODUCT_TYPE": lambda p: (p.product_type.lower(), p.id),
    "INVENTORY_TOTAL": lambda p: p.id,
    "PUBLISHED_AT": lambda p: (p.created, p.id),
    "RELEVANCE": lambda p: p.id,
}


def _mf_values(mfs: dict) -> dict:
    return {f"metafields.{ns}.{k}": m.value for (ns, k), m in mfs.items()}


def product_search_fields(shop: Shop) -> dict:
    def mf_getter(name):
        ns_key = name.split(".", 1)[1]
        return lambda p: [m.value for (ns, k), m in p.metafields.items() if f"{ns}.{k}" == ns_key]

    fields = {
        "default": lambda p: (
            [p.title, p.vendor, p.product_type, *p.tags] + [v.sku for v in p.variants]
        ),
        "title": lambda p: [p.title],
        "handle": lambda p: [p.handle],
        "sku": lambda p: [v.sku for v in p.variants],
        "barcode": lambda p: [v.barcode for v in p.variants],
        "tag": lambda p: p.tags,
        "tag_not": lambda p: [] if p.tags else [""],
        "id": lambda p: [str(p.id)],
        "status": lambda p: [p.status],
        "vendor": lambda p: [p.vendor],
        "product_type": lambda p: [p.product_type],
        "variant_id": lambda p: [str(v.id) for v in p.variants],
        "variant_title": lambda p: [v.title for v in p.variants],
        "created_at": lambda p: [iso(p.created)],
        "updated_at": lambda p: [iso(p.updated)],
    }
    for p in shop.products.values():
        for ns, k in p.metafields:
            fields.setdefault(f"metafields.{ns}.{k}", mf_getter(f"metafields.{ns}.{k}"))
    return fields


def _filter(items, text, fields, tokenized=frozenset()):
    try:
        pred = compile_query(text, fields, tokenized)
    except ValueError as e:
        raise GraphQLError(f"Invalid search query: {e}") from e
    return [o for o in items if pred(o)]


def _tag_not(field_getter):
    return field_getter


@resolver("QueryRoot.products")
def q_products(_, info, query=None, sortKey="ID", **args):
    shop = info.context.shop
    fields = product_search_fields(shop)
    items = list(shop.products.values())
    if query and "tag_not:" in query:
        # tag_not:x == NOT tag:x
        query = re.sub(r"(?<![\w-])tag_not:", "-tag:", query)
    items = _filter(items, query, fields, tokenized={"title", "default", "variant_title"})
    items.sort(key=_PRODUCT_SORT.get(sortKey or "ID", _PRODUCT_SORT["ID"]))
    return connection(info, items, args)


@resolver("QueryRoot.product")
def q_product(_, info, id):
    _check_gid(id)
    obj = lookup(info.context.shop, id)
    return obj if isinstance(obj, Product) else None


@resolver("QueryRoot.productByIdentifier")
def q_product_by_identifier(_, info, identifier):
    shop = info.context.shop
    if identifier.get("id"):
        return q_product(_, info, identifier["id"])
    if identifier.get("handle"):
        return next((p for p in shop.products.values() if p.handle == identifier["handle"]), None)
    cid = identifier.get("customId")
    if cid:
        ns = cid.get("namespace") or APP_NAMESPACE
        for p in shop.products.values():
            m = p.metafields.get((ns, cid["key"]))
            if m and m.value == cid["value"]:
                return p
        return None
    raise GraphQLError("ProductIdentifierInput requires one of id, handle or customId")


@resolver("QueryRoot.productVariants")
def q_product_variants(_, info, query=None, sortKey="ID", **args):
    shop = info.context.shop
    variants = [v for p in shop.products.values() for v in p.variants]

    def prod(v):
        return shop.products[v.product_id]

    fields = {
        "default": lambda v: [v.sku, v.title, v.barcode, prod(v).title],
        "sku": lambda v: [v.sku],
        "barcode": lambda v: [v.barcode],
        "title": lambda v: [v.title],
        "id": lambda v: [str(v.id)],
        "product_id": lambda v: [str(v.product_id)],
        "product_ids": lambda v: [str(v.product_id)],
        "product_status": lambda v: [prod(v).status],
        "tag": lambda v: prod(v).tags,
        "vendor": lambda v: [prod(v).vendor],
        "product_type": lambda v: [prod(v).product_type],
    }
    items = _filter(variants, query, fields, tokenized={"title", "default"})
    if sortKey == "SKU":
        items.sort(key=lambda v: (v.sku, v.id))
    elif sortKey == "TITLE":
        items.sort(key=lambda v: (v.title, v.id))
    elif sortKey == "POSITION":
        items.sort(key=lambda v: (v.product_id, v.position))
    else:
        items.sort(key=lambda v: v.id)
    return connection(info, items, args)


@resolver("QueryRoot.productVariant")
def q_product_variant(_, info, id):
    _check_gid(id)
    obj = lookup(info.context.shop, id)
    return obj if isinstance(obj, Variant) else None


@resolver("QueryRoot.nodes")
def q_nodes(_, info, ids):
    for i in ids:
        _check_gid(i)
    if len(ids) > 250:
        raise GraphQLError("The maximum number of ids is 250.")
    return [_node(info, i) for i in ids]


def _node(info, gid_value):
    obj = lookup(info.context.shop, gid_value)
    if obj is None:
        return None
    return obj


@resolver("QueryRoot.node")
def q_node(_, info, id):
    _check_gid(id)
    return _node(info, id)


@resolver("QueryRoot.files")
def q_files(_, info, query=None, sortKey="ID", **args):
    shop = info.context.shop
    type_names = {"IMAGE": "IMAGE", "VIDEO": "VIDEO", "GENERIC_FILE": "GENERIC_FILE"}
    fields = {
        "default": lambda f: [f.filename, f.alt],
        "filename": lambda f: [f.filename],
        "id": lambda f: [str(f.id)],
        "ids": lambda f: [str(f.id)],
        "media_type": lambda f: [type_names.get(f.kind, f.kind)],
        "status": lambda f: [f.status],
        "product_id": lambda f: [str(p) for p in f.product_ids],
        "used_in": lambda f: ["product"] if f.product_ids else ["none"],
        "created_at": lambda f: [iso(f.created)],
        "updated_at": lambda f: [iso(f.updated)],
        "original_upload_size": lambda f: [str(f.size or 0)],
    }
    items = _filter(list(shop.files.values()), query, fields, tokenized={"default"})
    if sortKey == "FILENAME":
        items.sort(key=lambda f: (f.filename.lower(), f.id))
    elif sortKey in ("CREATED_AT", "UPDATED_AT"):
        items.sort(key=lambda f: (f.created if sortKey == "CREATED_AT" else f.updated, f.id))
    else:
        items.sort(key=lambda f: f.id)
    return connection(info, items, args)


@resolver("QueryRoot.shop")
def q_shop(_, info):
    return info.context.shop


@resolver("QueryRoot.job")
def q_job(_, info, id):
    m = re.fullmatch(r"gid://shopify/Job/([\w-]+)", id or "")
    if not m:
        raise _invalid_id(id)
    return info.context.shop.jobs.get(m.group(1))


@resolver("QueryRoot.bulkOperation")
def q_bulk_operation(_, info, id):
    _check_gid(id)
    obj = lookup(info.context.shop, id)
    return obj if isinstance(obj, BulkOp) else None


@resolver("QueryRoot.currentBulkOperation")
def q_current_bulk(_, info, type="QUERY"):
    ops = list(info.context.shop.bulk_ops.values())
    return ops[-1] if ops and type == "QUERY" else None


# --- object fields -------------------------------------------------------------------------


def _gid(obj, info, **_):
    return obj.gid


for _t in (
    "Product",
    "ProductVariant",
    "MediaImage",
    "Video",
    "GenericFile",
    "Metafield",
    "Shop",
    "Job",
    "BulkOperation",
):
    RESOLVERS[(_t, "id")] = _accepting(_gid)
    RESOLVERS[(_t, "legacyResourceId")] = lambda o, i: str(o.id)
    RESOLVERS[(_t, "createdAt")] = lambda o, i: iso(o.created)
    RESOLVERS[(_t, "updatedAt")] = lambda o, i: iso(o.updated)


@resolver("Product.productType")
def p_type(p, info):
    return p.product_type


@resolver("Product.totalVariants")
def p_total_variants(p, info):
    return len(p.variants)


@resolver("Product.variants")
def p_variants(p, info, sortKey=None, **args):
    return connection(info, sorted(p.variants, key=lambda v: v.position), args)


@resolver("Product.variantsCount")
def p_variants_count(p, info, **_):
    return {"count": len(p.variants), "precision": "EXACT"}


def _gallery(shop: Shop, p: Product) -> list[FileObj]:
    return [shop.files[m] for m in p.media_ids if m in shop.files]


@resolver("Product.media")
def p_media(p, info, sortKey="POSITION", query=None, **args):
    items = _gallery(info.context.shop, p)
    if query:
        items = _filter(
            items,
            query,
            {
                "media_type": lambda f: [f.media_content_type],
                "status": lambda f: [f.status],
                "id": lambda f: [str(f.id)],
            },
        )
    if sortKey == "ID":
        items.sort(key=lambda f: f.id)
    return connection(info, items, args)


@resolver("Product.mediaCount")
def p_media_count(p, info, **_):
    return {"count": len(_gallery(info.context.shop, p)), "precision": "EXACT"}


@resolver("Product.featuredMedia")
def p_featured(p, info):
    g = _gallery(info.context.shop, p)
    return g[0] if g else None


@resolver("Product.metafield", "ProductVariant.metafield")
def o_metafield(o, info, key, namespace=None):
    return o.metafields.get((namespace or APP_NAMESPACE, key))


@resolver("Product.metafields", "ProductVariant.metafields")
def o_metafields(o, info, namespace=None, keys=None, **args):
    items = list(o.metafields.values())
    if namespace:
        items = [m for m in items if m.namespace == namespace]
    if keys:
        wanted = set(keys)
        items = [m for m in items if f"{m.namespace}.{m.key}" in wanted]
    items.sort(key=lambda m: m.id)
    return connection(info, items, args)


@resolver("ProductVariant.product")
def v_product(v, info):
    return info.context.shop.products.get(v.product_id)


@resolver("ProductVariant.displayName")
def v_display_name(v, info):
    p = info.context.shop.products.get(v.product_id)
    return f"{p.title} - {v.title}" if p else v.title


@resolver("ProductVariant.media")
def v_media(v, info, **args):
    shop = info.context.shop
    return connection(info, [shop.files[m] for m in v.media_ids if m in shop.files], args)


@resolver("ProductVariant.image")
def v_image(v, info):
    shop = info.context.shop
    for m in v.media_ids:
        f = shop.files.get(m)
        if f and f.kind == "IMAGE":
            return _image(f)
    return None


@resolver("Metafield.compareDigest")
def mf_digest(m, info):
    return m.compare_digest


@resolver("Metafield.ownerType")
def mf_owner_type(m, info):
    return m.owner_type


@resolver("Metafield.jsonValue")
def mf_json(m, info):
    if m.type.startswith("list.") or m.type == "json":
        try:
            return json.loads(m.value)
        except ValueError:
            return m.value
    if m.type == "number_integer":
        return int(m.value)
    if m.type == "boolean":
        return m.value == "true"
    return m.value


def _image(f: FileObj) -> dict | None:
    if f.kind != "IMAGE" or f.status != "READY" or not f.url:
        return None
    return {
        "id": f"gid://shopify/ImageSource/{f.id}",
        "url": f.url,
        "src": f.url,
        "originalSrc": f.url,
        "width": f.width,
        "height": f.height,
        "altText": f.alt or None,
    }


for _t in FILE_KINDS:
    RESOLVERS[(_t, "fileStatus")] = lambda f, i: f.status
    RESOLVERS[(_t, "status")] = lambda f, i: f.status
    RESOLVERS[(_t, "mediaContentType")] = lambda f, i: f.media_content_type
    RESOLVERS[(_t, "alt")] = lambda f, i: f.alt
    RESOLVERS[(_t, "mediaErrors")] = lambda f, i: list(f.errors)
    RESOLVERS[(_t, "fileErrors")] = lambda f, i: list(f.errors)
    RESOLVERS[(_t, "mimeType")] = lambda f, i: f.mime_type
    RESOLVERS[(_t, "preview")] = lambda f, i: {
        "status": {"READY": "READY", "FAILED": "FAILED"}.get(f.status, "PROCESSING"),
        "image": _image(f),
    }


@resolver("MediaImage.image")
def mi_image(f, info):
    return _image(f)


@resolver("MediaImage.originalSource")
def mi_original(f, info):
    return {"url": f.original_source, "fileSize": f.size}


@resolver("GenericFile.url")
def gf_url(f, info):
    return f.url if f.status == "READY" else None


@resolver("GenericFile.originalFileSize")
def gf_size(f, info):
    return f.size


def _video_source(f: FileObj) -> dict:
    ext = os.path.splitext(f.filename)[1].lstrip(".") or "mp4"
    return {
        "url": f.url or f.original_source,
        "mimeType": f.mime_type or "video/mp4",
        "format": ext,
        "height": 1080,
        "width": 1920,
        "fileSize": f.size,
    }


@resolver("Video.sources")
def video_sources(f, info):
    return [_video_source(f)] if f.status == "READY" else []


@resolver("Video.originalSource")
def video_original(f, info):
    return _video_source(f) if f.status == "READY" else None


@resolver("Video.filename")
def video_filename(f, info):
    return f.filename


@resolver("Video.duration")
def video_duration(f, info):
    return None


@resolver("Shop.myshopifyDomain")
def shop_domain(s, info):
    return s.domain


@resolver("Shop.currencyCode")
def shop_currency(s, info):
    return "USD"


@resolver("Shop.url")
def shop_url(s, info):
    return f"https://{s.domain}"


@resolver("Shop.plan")
def shop_plan(s, info):
    display, _rate, plus = s.plan_info
    return {
        "displayName": display,
        "publicDisplayName": display,
        "partnerDevelopment": s.plan == "development",
        "shopifyPlus": plus,
    }


@resolver("BulkOperation.errorCode")
def bo_error(b, info):
    return b.error_code


@resolver("BulkOperation.objectCount")
def bo_count(b, info):
    return str(b.object_count)


@resolver("BulkOperation.rootObjectCount")
def bo_root_count(b, info):
    return str(b.root_object_count)


@resolver("BulkOperation.fileSize")
def bo_size(b, info):
    return None if b.file_size is None else str(b.file_size)


@resolver("BulkOperation.partialDataUrl")
def bo_partial(b, info):
    return None


@resolver("BulkOperation.completedAt")
def bo_completed(b, info):
    return iso(b.completed) if b.completed else None


@resolver("BulkOperation.type")
def bo_type(b, info):
    return "QUERY"


# --- mutations -----------------------------------------------------------------------------


MAX_INPUT_SIZE = 250  # every input array of the Admin API


def _input_too_large(info, args: dict) -> GraphQLError | None:
    """Shopify refuses an input array of more than 250 items before running the mutation."""
    for arg, value in args.items():
        if isinstance(value, list) and len(value) > MAX_INPUT_SIZE:
            return GraphQLError(
                f"The input array size of {len(value)} is greater than the maximum allowed of "
                f"{MAX_INPUT_SIZE}.",
                info.field_nodes,
                path=[info.path.key, arg],
                extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
            )
    return None


def _injected_error(name: str, spec: dict) -> dict:
    default = "INTERNAL_ERROR" if name == "metafieldsSet" else "INVALID"
    return {
        "field": None,
        "message": spec.get("message")
        or "Injected fault: an internal error occurred, please retry.",
        "code": spec.get("code") if spec.get("code") in _codes(name) else default,
    }


def _codes(name: str) -> frozenset[str]:
    from .control import error_codes  # late: control reads the schema graphql_api builds

    return error_codes(name) or frozenset()


def mutation(name: str):
    """Registers a Mutation resolver; injected faults return a userError and change nothing."""

    def deco(fn):
        def wrapper(root, info, **args):
            too_large = _input_too_large(info, args)
            if too_large is not None:
                raise too_large
            spec = info.context.inject.get(info.path.key)
            if spec is not None:
                err = _injected_error(name, spec)
                return {"userErrors": [err], "mediaUserErrors": [err]}
            return fn(info.context, **args)

        RESOLVERS[("Mutation", name)] = wrapper
        return fn

    return deco


def _err(field_path, message, code=None, **extra):
    out = {"field": field_path, "message": message}
    if code:
        out["code"] = code
    out.update(extra)
    return out


def _media_kind(content_type: str) -> str | None:
    return {"IMAGE": "IMAGE", "VIDEO": "VIDEO"}.get(content_type)


def _media_item_errors(m: dict, path: list[str]) -> list[dict]:
    """What is wrong with one CreateMediaInput (empty: it can be added)."""
    errors = []
    src = m.get("originalSource") or ""
    if not src.strip():
        errors.append(_err([*path, "originalSource"], "Original source can't be blank", "BLANK"))
    elif not media_mod.valid_source(src):
        errors.append(_err([*path, "originalSource"], "Image URL is invalid", "INVALID"))
    if len(m.get("alt") or "") > MAX_ALT:
        errors.append(
            _err([*path, "alt"], f"Alt is too long (maximum is {MAX_ALT} characters)", "INVALID")
        )
    kind = _media_kind(m.get("mediaContentType"))
    if kind is None:
        errors.append(
            _err(
                [*path, "mediaContentType"],
                f"Media type {m.get('mediaContentType')} is not supported by the sandbox",
                "INVALID_MEDIA_TYPE",
            )
        )
    elif kind == "VIDEO" and media_mod.staged_token(src) is None:
        errors.append(
            _err(
                [*path, "originalSource"],
                "Video must be uploaded with a staged upload URL",
                "VIDEO_VALIDATION_ERROR",
            )
        )
    return errors


def _split_media(p: Product, media: list[dict], field0: str) -> tuple[list[dict], list[dict]]:
    """(the valid inputs, the userErrors): Shopify adds the valid media and reports the others
    ("The mutation adds all valid files and returns errors for any invalid ones."), unless the
    valid ones would take the product past 250 media; then nothing is added."""
    valid, errors = [], []
    for i, m in enumerate(media):
        item = _media_item_errors(m, [field0, str(i)])
        errors.extend(item)
        if not item:
            valid.append(m)
    if len(p.media_ids) + len(valid) > MAX_MEDIA_PER_PRODUCT:
        limit = _err(
            [field0],
            f"Exceeded maximum media count: a product can have up to {MAX_MEDIA_PER_PRODUCT}"
            " media.",
            "PRODUCT_MEDIA_LIMIT_EXCEEDED",
        )
        return [], [limit, *errors]
    return valid, errors


def _add_media(ctx: Ctx, p: Product, media: list[dict]) -> list[FileObj]:
    created = []
    for m in media:
        f = media_mod.new_file(
            ctx.state,
            ctx.shop,
            m["originalSource"],
            ctx.base_url,
            kind=_media_kind(m["mediaContentType"]),
            alt=m.get("alt") or "",
        )
        f.product_ids.append(p.id)
        p.media_ids.append(f.id)
        created.append(f)
    _touch(p)
    return created


def _product_or_none(ctx: Ctx, gid_value) -> Product | None:
    obj = lookup(ctx.shop, gid_value or "")
    return obj if isinstance(obj, Product) else None


def _busy(ctx: Ctx, p: Product) -> str | None:
    """Why the media of `p` cannot be modified now (config `media_locks`), or None: a reorder
    job of the product is pending, or some of its media are still being processed."""
    if not ctx.state.config.get("media_locks", True):
        return None
    if p.reorders_pending:
        return "reorder"
    files = ctx.shop.files
    if any(files[m].status in ("UPLOADED", "PROCESSING") for m in p.media_ids if m in files):
        return "processing"
    return None


MEDIA_BUSY = "Media cannot be modified. It is currently being modified by another operation."
FILE_LOCKED = "File has a pending operation."


@mutation("productUpdate")
def m_product_update(ctx: Ctx, product=None, input=None, media=None):
    data = product or input or {}
    p = _product_or_none(ctx, data.get("id"))
    if p is None:
        return {"product": None, "userErrors": [_err(["id"], "Product does not exist")]}
    valid, media_errors = _split_media(p, media or [], "media")
    if data.get("handle") and any(
        o.handle == data["handle"] and o.id != p.id for o in ctx.shop.products.values()
    ):  # a product field error changes nothing
        errors = [_err(["handle"], f"Handle '{data['handle']}' already in use"), *media_errors]
        return {"product": None, "userErrors": [_plain(e) for e in errors]}
    for attr, key in (
        ("title", "title"),
        ("handle", "handle"),
        ("vendor", "vendor"),
        ("product_type", "productType"),
        ("status", "status"),
    ):
        if data.get(key) is not None:
            setattr(p, attr, data[key])
    if data.get("tags") is not None:
        tags = data["tags"]
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",")]
        p.tags = sorted({t for t in tags if t})
    _add_media(ctx, p, valid)
    _touch(p)
    return {"product": p, "userErrors": [_plain(e) for e in media_errors]}


def _plain(error: dict) -> dict:
    """productUpdate's userErrors are `UserError {field message}` (no code)."""
    return {"field": error["field"], "message": error["message"]}


@mutation("productCreateMedia")
def m_product_create_media(ctx: Ctx, productId, media):
    p = _product_or_none(ctx, productId)
    if p is None:
        e = _err(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"media": None, "product": None, "mediaUserErrors": [e], "userErrors": [e]}
    valid, errors = _split_media(p, media, "media")
    created = _add_media(ctx, p, valid) if valid else None
    return {"media": created, "product": p, "mediaUserErrors": errors, "userErrors": errors}


def _position(value) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n >= 0 else None


def apply_moves(order: list[int], moves: list[tuple[int, int]]) -> list[int]:
    """Shopify's MoveInput semantics: sequential, zero-based, past-the-end moves to the end."""
    order = list(order)
    for mid, pos in moves:
        if mid not in order:
            continue
        order.remove(mid)
        order.insert(min(pos, len(order)), mid)
    return order


@mutation("productReorderMedia")
def m_reorder(ctx: Ctx, id, moves):
    p = _product_or_none(ctx, id)
    if p is None:
        e = _err(["id"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")
        return {"job": None, "mediaUserErrors": [e], "userErrors": [e]}
    errors = []
    parsed = []
    if not moves:
        errors.append(_err(["moves"], "Moves can't be blank", "BLANK"))
    busy = _busy(ctx, p)
    if busy:
        e = _err(["id"], MEDIA_BUSY, "MEDIA_CANNOT_BE_MODIFIED")
        return {"job": None, "mediaUserErrors": [e], "userErrors": [e]}
    for i, mv in enumerate(moves):
        ref = parse_gid(mv["id"])
        pos = _position(mv["newPosition"])
        if ref is None or ref[0] not in FILE_KINDS or ref[1] not in ctx.shop.files:
            errors.append(
                _err(["moves", str(i), "id"], "Media does not exist", "MEDIA_DOES_NOT_EXIST")
            )
        elif ref[1] not in p.media_ids:
            errors.append(
                _err(
                    ["moves", str(i), "id"],
                    f"Media id {mv['id']} does not exist on product id {p.gid}",
                    "MEDIA_DOES_NOT_EXIST_ON_PRODUCT",
                )
            )
        if pos is None:
            errors.append(_err(["moves", str(i), "newPosition"], "Invalid position", "INVALID"))
        if ref and pos is not None:
            parsed.append((ref[1], pos))
    if errors:
        return {"job": None, "mediaUserErrors": errors, "userErrors": errors}
    job = Job(id=str(uuid.uuid4()))
    ctx.shop.jobs[job.id] = job
    p.reorders_pending += 1
    state, shop, gen = ctx.state, ctx.shop, ctx.state.generation

    def finish():
        with state.lock:
            if state.generation != gen:
                return
            p.media_ids = apply_moves(p.media_ids, parsed)
            p.reorders_pending -= 1
            _touch(p)
            job.done = True

    t = threading.Timer(float(state.config["job_delay"]), finish)
    t.daemon = True
    t.start()
    _ = shop
    return {"job": job, "mediaUserErrors": [], "userErrors": []}


def _ext(name: str) -> str:
    return os.path.splitext(name or "")[1].lower()


@mutation("fileCreate")
def m_file_create(ctx: Ctx, files):
    errors = []
    existing = {f.filename: f for f in ctx.shop.files.values()}
    plans = []
    for i, fi in enumerate(files):
        src = fi.get("originalSource") or ""
        base = ["files", str(i)]
        if not media_mod.valid_source(src):
            errors.append(
                _err([*base, "originalSource"], "Image URL is invalid", "INVALID_IMAGE_SOURCE_URL")
            )
            continue
        if len(fi.get("alt") or "") > MAX_ALT:
            errors.append(
                _err(
                    [*base, "alt"],
                    f"The alt value exceeds the maximum limit of {MAX_ALT} characters.",
                    "ALT_VALUE_LIMIT_EXCEEDED",
                )
            )
        ct = fi.get("contentType")
        if ct in ("MODEL_3D", "EXTERNAL_VIDEO"):
            errors.append(
                _err([*base, "contentType"], f"{ct} is not supported by the sandbox", "INVALID")
            )
            continue
        kind = media_mod.guess_kind(src, ct)
        if kind == "VIDEO" and media_mod.staged_token(src) is None:
            errors.append(
                _err(
                    [*base, "originalSource"],
                    "Video files must be uploaded with a staged upload",
                    "INVALID",
                )
            )
        name = fi.get("filename")
        mode = fi.get("duplicateResolutionMode") or "APPEND_UUID"
        src_name = media_mod.filename_from(src)
        if (
            name
            and _ext(name)
            and _ext(src_name)
            and _ext(name) != _ext(src_name)
            and media_mod.staged_token(src) is None
        ):
            errors.append(
                _err(
                    [*base, "filename"],
                    "The filename extension doesn't match the original source.",
                    "MISMATCHED_FILENAME_AND_ORIGINAL_SOURCE",
                )
            )
        if mode == "REPLACE" and not name:
            errors.append(
                _err(
                    [*base, "filename"],
                    "A filename is required for duplicate mode REPLACE.",
                    "MISSING_FILENAME_FOR_DUPLICATE_MODE_REPLACE",
                )
            )
        final = name or None
        target = None
        check_name = name or src_name
        if check_name in existing:
            if mode == "RAISE_ERROR":
                errors.append(
                    _err(
                        [*base, "filename"],
                        f"A file named {check_name} already exists.",
                        "FILENAME_ALREADY_EXISTS",
                    )
                )
            elif mode == "REPLACE":
                target = existing[check_name]
            else:
                stem, ext = os.path.splitext(check_name)
                final = f"{stem}_{uuid.uuid4()}{ext}"
        plans.append((fi, kind, final, target))
    if errors:
        return {"files": None, "userErrors": errors}
    out = []
    for fi, kind, final, target in plans:
        if target is not None:
            target.original_source = fi["originalSource"]
            if fi.get("alt") is not None:
                target.alt = fi["alt"]
            media_mod.process(ctx.state, ctx.shop, target, ctx.base_url)
            out.append(target)
            continue
        out.append(
            media_mod.new_file(
                ctx.state,
                ctx.shop,
                fi["originalSource"],
                ctx.base_url,
                kind=kind,
                alt=fi.get("alt") or "",
                filename=final,
            )
        )
    return {"files": out, "userErrors": []}


def _detach(shop: Shop, f: FileObj, p: Product) -> None:
    if f.id in p.media_ids:
        p.media_ids.remove(f.id)
    if p.id in f.product_ids:
        f.product_ids.remove(p.id)
    for v in p.variants:
        if f.id in v.media_ids:
            v.media_ids.remove(f.id)
    _touch(p)


def _file_lock(ctx: Ctx, f: FileObj, fu: dict) -> tuple[str, str] | None:
    """(message, code) when a product the update touches is busy (see `_busy`)."""
    touched = set(f.product_ids)
    for key in ("referencesToAdd", "referencesToRemove"):
        for r in fu.get(key) or ():
            p = _product_or_none(ctx, r)
            if p is not None:
                touched.add(p.id)
    for pid in sorted(touched):
        p = ctx.shop.products.get(pid)
        busy = _busy(ctx, p) if p else None
        if busy == "reorder":
            return FILE_LOCKED, "FILE_LOCKED"
        if busy:
            return MEDIA_BUSY, "MEDIA_CANNOT_BE_MODIFIED"
    return None


@mutation("fileUpdate")
def m_file_update(ctx: Ctx, files):
    """All or nothing: any userError and no file changes."""
    shop = ctx.shop
    errors = []
    galleries: dict[int, set[int]] = {}  # the products' media as the inputs so far leave them
    for i, fu in enumerate(files):
        base = ["files", str(i)]
        ref = parse_gid(fu["id"])
        f = shop.files.get(ref[1]) if ref and ref[0] in FILE_KINDS else None
        if f is None:
            errors.append(
                _err([*base, "id"], f"File id {fu['id']} does not exist.", "FILE_DOES_NOT_EXIST")
            )
            continue
        if f.status != "READY":
            errors.append(
                _err([*base, "id"], "Non-ready files cannot be updated.", "NON_READY_STATE")
            )
            continue
        if fu.get("alt") is not None and len(fu["alt"]) > MAX_ALT:
            errors.append(
                _err(
                    [*base, "alt"],
                    f"The alt value exceeds the maximum limit of {MAX_ALT} characters.",
                    "ALT_VALUE_LIMIT_EXCEEDED",
                )
            )
        if fu.get("originalSource") and fu.get("previewImageSource"):
            errors.append(
                _err(
                    [*base], "Cannot update both originalSource and previewImageSource.", "INVALID"
                )
            )
        if fu.get("originalSource") and not media_mod.valid_source(fu["originalSource"]):
            errors.append(
                _err([*base, "originalSource"], "Image URL is invalid", "INVALID_IMAGE_SOURCE_URL")
            )
        for key in ("referencesToAdd", "referencesToRemove"):
            refs = fu.get(key) or []
            if refs and f.kind == "GENERIC_FILE":
                errors.append(
                    _err(
                        [*base, key],
                        "This file type can't be referenced by products.",
                        "UNSUPPORTED_FILE_REFERENCE",
                    )
                )
                continue
            for r in refs:
                if _product_or_none(ctx, r) is None:
                    errors.append(
                        _err(
                            [*base, key],
                            f"The reference target {r} does not exist.",
                            "REFERENCE_TARGET_DOES_NOT_EXIST",
                        )
                    )
        lock = _file_lock(ctx, f, fu)
        if lock is not None:
            errors.append(_err([*base, "id"], *lock))
        for r in fu.get("referencesToAdd") or []:
            p = _product_or_none(ctx, r)
            gallery = galleries.setdefault(p.id, set(p.media_ids)) if p else None
            if gallery is None or f.id in gallery:
                continue
            gallery.add(f.id)
            if len(gallery) > MAX_MEDIA_PER_PRODUCT:
                errors.append(
                    _err(
                        [*base, "referencesToAdd"],
                        f"Exceeded the limit of media per product: {p.gid} would have more "
                        f"than {MAX_MEDIA_PER_PRODUCT} media.",
                        "PRODUCT_MEDIA_LIMIT_EXCEEDED",
                    )
                )
        for r in fu.get("referencesToRemove") or []:
            p = _product_or_none(ctx, r)
            if p:
                galleries.setdefault(p.id, set(p.media_ids)).discard(f.id)
    if errors:
        return {"files": None, "userErrors": errors}
    out = []
    for fu in files:
        f = shop.files[parse_gid(fu["id"])[1]]
        if fu.get("alt") is not None:
            f.alt = fu["alt"]
        if fu.get("filename"):
            f.filename = fu["filename"]
        for r in fu.get("referencesToAdd") or []:
            p = _product_or_none(ctx, r)
            if f.id not in p.media_ids:
                p.media_ids.append(f.id)
                f.product_ids.append(p.id)
                _touch(p)
        for r in fu.get("referencesToRemove") or []:
            _detach(shop, f, _product_or_none(ctx, r))
        if fu.get("originalSource"):
            f.original_source = fu["originalSource"]
            media_mod.process(ctx.state, shop, f, ctx.base_url)
        _touch(f)
        out.append(f)
    return {"files": out, "userErrors": []}


@mutation("fileDelete")
def m_file_delete(ctx: Ctx, fileIds):
    shop = ctx.shop
    errors = []
    targets = []
    for i, fid in enumerate(fileIds):
        ref = parse_gid(fid)
        f = shop.files.get(ref[1]) if ref and ref[0] in FILE_KINDS else None
        if f is None:
            errors.append(
                _err(["fileIds", str(i)], f"File id {fid} does not exist.", "FILE_DOES_NOT_EXIST")
            )
        else:
            targets.append(f)
    if errors:
        return {"deletedFileIds": None, "userErrors": errors}
    for f in targets:
        for pid in list(f.product_ids):
            p = shop.products.get(pid)
            if p:
                _detach(shop, f, p)
        f.generation += 1
        shop.files.pop(f.id, None)
    return {"deletedFileIds": [f.gid for f in targets], "userErrors": []}


@mutation("stagedUploadsCreate")
def m_staged(ctx: Ctx, input):
    errors = []
    targets = []
    for i, si in enumerate(input):
        if si["resource"] in ("VIDEO", "MODEL_3D") and not si.get("fileSize"):
            errors.append(
                _err(["input", str(i), "fileSize"], "File size is required for video/3D uploads")
            )
            continue
        if not si.get("filename"):
            errors.append(_err(["input", str(i), "filename"], "Filename can't be blank"))
            continue
        token = uuid.uuid4().hex
        signature = uuid.uuid4().hex
        name = re.sub(r"[^\w.\-]", "_", si["filename"])
        ctx.state.staged[token] = {
            "filename": si["filename"],
            "mime_type": si["mimeType"],
            "resource": si["resource"],
            "signature": signature,
            "content": None,
        }
        resource_url = f"{ctx.base_url}/staged-uploads/{token}/{name}"
        if (si.get("httpMethod") or "PUT") == "PUT":
            targets.append(
                {
                    "url": f"{resource_url}?signature={signature}",
                    "resourceUrl": resource_url,
                    "parameters": [
                        {"name": "content_type", "value": si["mimeType"]},
                        {"name": "acl", "value": "private"},
                    ],
                }
            )
        else:
            targets.append(
                {
                    "url": f"{ctx.base_url}/staged-uploads/{token}",
                    "resourceUrl": resource_url,
                    "parameters": [
                        {"name": "Content-Type", "value": si["mimeType"]},
                        {"name": "success_action_status", "value": "201"},
                        {"name": "acl", "value": "private"},
                        {"name": "key", "value": f"tmp/{token}/{name}"},
                        {"name": "signature", "value": signature},
                    ],
                }
            )
    if errors:
        return {"stagedTargets": None, "userErrors": errors}
    return {"stagedTargets": targets, "userErrors": []}


FILE_REF_KINDS = set(FILE_KINDS)


def _check_value(ctx: Ctx, mtype: str, value: str) -> str | None:
    """Returns an error message when `value` is not valid for metafield type `mtype`."""

    def file_ok(v):
        ref = parse_gid(v)
        return ref is not None and ref[0] in FILE_REF_KINDS and ref[1] in ctx.shop.files

    def product_ok(v):
        return _product_or_none(ctx, v) is not None

    if mtype.startswith("list."):
        try:
            items = json.loads(value)
        except ValueError:
            return "Value must be a JSON array."
        if not isinstance(items, list):
            return "Value must be a JSON array."
        if len(items) > 128:
            return "Value has more than 128 items."
        inner = mtype[5:]
        for k, item in enumerate(items):
            if not isinstance(item, str) and inner.endswith("reference"):
                return f"Value item {k} must be a GID string."
            err = _check_value(ctx, inner, item if isinstance(item, str) else json.dumps(item))
            if err:
                return f"Value item {k}: {err}"
        return None
    if mtype == "file_reference":
        return (
            None
            if file_ok(value)
            else f"Value must be a file reference GID of this shop: {value!r}"
        )
    if mtype == "product_reference":
        return None if product_ok(value) else f"Value must be a product GID of this shop: {value!r}"
    if mtype == "variant_reference":
        ref = parse_gid(value)
        ok = ref and ref[0] == "ProductVariant" and ctx.shop.variant(ref[1])
        return None if ok else "Value must be a product variant GID of this shop."
    if mtype == "single_line_text_field":
        return "Value must be a single line." if "\n" in value else None
    if mtype == "number_integer":
        return None if re.fullmatch(r"-?\d+", value) else "Value must be an integer."
    if mtype == "number_decimal":
        return None if re.fullmatch(r"-?\d+(\.\d+)?", value) else "Value must be a decimal."
    if mtype == "boolean":
        return None if value in ("true", "false") else "Value must be true or false."
    if mtype == "json":
        try:
            json.loads(value)
        except ValueError:
            return "Value must be valid JSON."
    return None


KNOWN_TYPES = {
    "single_line_text_field",
    "multi_line_text_field",
    "number_integer",
    "number_decimal",
    "boolean",
    "json",
    "url",
    "date",
    "date_time",
    "color",
    "file_reference",
    "product_reference",
    "variant_reference",
    "collection_reference",
    "metaobject_reference",
    "page_reference",
    "rich_text_field",
    "rating",
    "weight",
    "dimension",
    "volume",
    "money",
    "link",
}


@mutation("metafieldsSet")
def m_metafields_set(ctx: Ctx, metafields):
    if len(metafields) > 25:
        return {
            "metafields": None,
            "userErrors": [
                _err(
                    ["metafields"],
                    "Exceeded the maximum metafields input limit of 25.",
                    "LESS_THAN_OR_EQUAL_TO",
                )
            ],
        }
    errors = []
    plans = []
    for i, mi in enumerate(metafields):
        base = ["metafields", str(i)]

        def add(f, msg, code, _base=base, _i=i):
            errors.append(_err([*_base, f], msg, code, elementIndex=_i))

        owner = lookup(ctx.shop, mi["ownerId"])
        if not isinstance(owner, Product | Variant):
            add(
                "ownerId",
                f"Owner {mi['ownerId']} does not exist or does not support metafields.",
                "INVALID",
            )
            continue
        ns = mi.get("namespace") or APP_NAMESPACE
        key = mi["key"]
        if not 3 <= len(ns) <= 255:
            add(
                "namespace",
                "Namespace must be 3-255 characters.",
                "TOO_SHORT" if len(ns) < 3 else "TOO_LONG",
            )
        if not re.fullmatch(r"[A-Za-z0-9_-]{2,64}", key):
            code = "TOO_SHORT" if len(key) < 2 else "TOO_LONG" if len(key) > 64 else "INVALID"
            add("key", "Key must be 2-64 characters of letters, digits, - and _.", code)
        existing = owner.metafields.get((ns, key))
        mtype = mi.get("type") or (existing.type if existing else None)
        if not mtype:
            add("type", "Type can't be blank when no definition exists.", "BLANK")
            continue
        base_type = mtype[5:] if mtype.startswith("list.") else mtype
        if base_type not in KNOWN_TYPES:
            add("type", f"Type {mtype!r} is not a valid metafield type.", "INVALID_TYPE")
            continue
        if existing and mi.get("type") and existing.type != mi["type"]:
            add(
                "type",
                f"Type must be {existing.type!r} to match the existing metafield.",
                "INVALID_TYPE",
            )
            continue
        if mi.get("compareDigest") is not None and (
            existing is None or existing.compare_digest != mi["compareDigest"]
        ):
            add(
                "compareDigest",
                "The resource has been updated since it was loaded.",
                "STALE_OBJECT",
            )
            continue
        err = _check_value(ctx, mtype, mi["value"])
        if err:
            add("value", err, "INVALID_VALUE")
            continue
        plans.append((owner, ns, key, mtype, mi["value"], existing))
    if errors:
        return {"metafields": None, "userErrors": errors}
    out = []
    for owner, ns, key, mtype, value, existing in plans:
        if existing:
            existing.value, existing.type = value, mtype
            _touch(existing)
            out.append(existing)
        else:
            m = Metafield(
                id=ctx.state.next_id(),
                owner_gid=owner.gid,
                namespace=ns,
                key=key,
                type=mtype,
                value=value,
            )
            owner.metafields[(ns, key)] = m
            out.append(m)
        _touch(owner)
    return {"metafields": out, "userErrors": []}


@mutation("metafieldsDelete")
def m_metafields_delete(ctx: Ctx, metafields):
    """Deletes by (owner, namespace, key), at most 25 at once (Shopify's changelog, 2024-04); a
    metafield that does not exist answers null in its place, not an error."""
    if not metafields or len(metafields) > 25:
        message = (
            "At least one identifier must be specified."
            if not metafields
            else "Exceeded the maximum metafields input limit of 25."
        )
        return {"deletedMetafields": None, "userErrors": [_err(["metafields"], message)]}
    errors = []
    for i, mi in enumerate(metafields):
        if not isinstance(lookup(ctx.shop, mi["ownerId"]), Product | Variant):
            errors.append(
                _err(["metafields", str(i), "ownerId"], f"Owner {mi['ownerId']} does not exist.")
            )
    if errors:
        return {"deletedMetafields": None, "userErrors": errors}
    out = []
    for mi in metafields:
        owner = lookup(ctx.shop, mi["ownerId"])
        gone = owner.metafields.pop((mi["namespace"], mi["key"]), None)
        if gone is None:
            out.append(None)
            continue
        _touch(owner)
        out.append({"ownerId": owner.gid, "namespace": gone.namespace, "key": gone.key})
    return {"deletedMetafields": out, "userErrors": []}


def _variant_media_common(ctx: Ctx, productId, variantMedia, attach: bool):
    p = _product_or_none(ctx, productId)
    if p is None:
        return None, [_err(["productId"], "Product does not exist", "PRODUCT_DOES_NOT_EXIST")], []
    errors = []
    plans = []
    if len(variantMedia) > 100:
        errors.append(
            _err(
                ["variantMedia"],
                "Exceeded the maximum of 100 variant media pairs.",
                "MAXIMUM_VARIANT_MEDIA_PAIRS_EXCEEDED",
            )
        )
    seen = set()
    for i, vm in enumerate(variantMedia):
        base = ["variantMedia", str(i)]
        ref = parse_gid(vm["variantId"])
        v = next((x for x in p.variants if ref and x.id == ref[1]), None)
        if v is None:
            errors.append(
                _err(
                    [*base, "variantId"],
                    f"Variant {vm['variantId']} does not exist on the product.",
                    "PRODUCT_VARIANT_DOES_NOT_EXIST_ON_PRODUCT",
                )
            )
            continue
        if v.id in seen:
            errors.append(
                _err(
                    [*base, "variantId"],
                    "Variant was specified in more than one pair.",
                    "PRODUCT_VARIANT_SPECIFIED_MULTIPLE_TIMES",
                )
            )
            continue
        seen.add(v.id)
        if len(vm["mediaIds"]) != 1:
            errors.append(
                _err(
                    [*base, "mediaIds"],
                    "Exactly one media id is allowed per variant.",
                    "TOO_MANY_MEDIA_PER_INPUT_PAIR",
                )
            )
            continue
        mref = parse_gid(vm["mediaIds"][0])
        f = ctx.shop.files.get(mref[1]) if mref and mref[0] in FILE_KINDS else None
        if f is None:
            errors.append(_err([*base, "mediaIds"], "Media does not exist", "MEDIA_DOES_NOT_EXIST"))
            continue
        if attach:
            if f.id not in p.media_ids:
                errors.append(
                    _err(
                        [*base, "mediaIds"],
                        "Media does not exist on the product.",
                        "MEDIA_DOES_NOT_EXIST_ON_PRODUCT",
                    )
                )
                continue
            if f.status != "READY":
                errors.append(
                    _err(
                        [*base, "mediaIds"],
                        "Non-ready media cannot be attached to variants.",
                        "NON_READY_MEDIA",
                    )
                )
                continue
            if f.kind != "IMAGE":
                errors.append(
                    _err(
                        [*base, "mediaIds"],
                        "Only images can be attached to variants.",
                        "INVALID_MEDIA_TYPE",
                    )
                )
                continue
            if v.media_ids and v.media_ids != [f.id]:
                errors.append(
                    _err(
                        [*base, "variantId"],
                        "The variant already has attached media.",
                        "PRODUCT_VARIANT_ALREADY_HAS_MEDIA",
                    )
                )
                continue
        elif f.id not in v.media_ids:
            errors.append(
                _err(
                    [*base, "mediaIds"],
                    "Media is not attached to the variant.",
                    "MEDIA_IS_NOT_ATTACHED_TO_VARIANT",
                )
            )
            continue
        plans.append((v, f))
    return p, errors, plans


@mutation("productVariantAppendMedia")
def m_variant_append(ctx: Ctx, productId, variantMedia):
    p, errors, plans = _variant_media_common(ctx, productId, variantMedia, attach=True)
    if errors:
        return {"product": p, "productVariants": None, "userErrors": errors}
    for v, f in plans:
        v.media_ids = [f.id]
        _touch(v)
    return {"product": p, "productVariants": [v for v, _ in plans], "userErrors": []}


@mutation("productVariantDetachMedia")
def m_variant_detach(ctx: Ctx, productId, variantMedia):
    p, errors, plans = _variant_media_common(ctx, productId, variantMedia, attach=False)
    if errors:
        return {"product": p, "productVariants": None, "userErrors": errors}
    for v, f in plans:
        v.media_ids.remove(f.id)
        _touch(v)
    return {"product": p, "productVariants": [v for v, _ in plans], "userErrors": []}


@mutation("bulkOperationRunQuery")
def m_bulk_run(ctx: Ctx, query, groupObjects=False):
    from .bulk import start_bulk  # late import: bulk executes queries against the schema

    shop = ctx.shop
    running = [b for b in shop.bulk_ops.values() if b.status in ("CREATED", "RUNNING")]
    if len(running) >= 5:
        return {
            "bulkOperation": None,
            "userErrors": [
                _err(
                    None,
                    "A maximum of 5 bulk query operations can run at the same time.",
                    "OPERATION_IN_PROGRESS",
                )
            ],
        }
    op, error = start_bulk(ctx, query)
    if error:
        return {"bulkOperation": None, "userErrors": [_err(["query"], error, "INVALID")]}
    return {"bulkOperation": op, "userErrors": []}
