"""What a store holds, read back from the Shopify emulator over its Admin GraphQL API (as any
Shopify client reads it), in the model's words: media are named by what they show, not by
Shopify's ids — ``("asset", public_id, version, transformation)`` for a Cloudinary delivery
URL, ``("shop", gid)`` for media that were there before AssetLink."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

import requests
from django.conf import settings

# /<cloud>/image/upload/<transformation…>/v<version>/<public id>.<format>
_DELIVERY = re.compile(
    r"^/(?P<cloud>[^/]+)/(?P<kind>image|video)/upload/(?:(?P<t>.+?)/)?v(?P<v>\d+)/(?P<pid>.+)\.\w+$"
)

Token = tuple

QUERY = """
query WholeProductState($after: String, $ns: String!, $key: String!) {
  products(first: 5, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id title handle
      media(first: 40) {
        nodes {
          id alt
          ... on MediaImage { originalSource { url } }
          ... on Video { videoSource: originalSource { url } }
        }
      }
      metafield(namespace: $ns, key: $key) { type value }
      variants(first: 3) {
        nodes {
          id sku
          media(first: 3) { nodes { id } }
          metafield(namespace: $ns, key: $key) { type value }
        }
      }
    }
  }
}
"""

FILES = """
query WholeProductFiles($after: String) {
  files(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id alt fileStatus
      ... on MediaImage { originalSource { url } }
      ... on GenericFile { url }
      ... on Video { videoSource: originalSource { url } }
    }
  }
}
"""


def canonical(transformation: str) -> str:
    """The order of parameters within a Cloudinary transformation component means nothing."""
    return "/".join(",".join(sorted(c.split(","))) for c in transformation.split("/") if c)


def token_of(url: str | None, gid: str) -> Token:
    match = _DELIVERY.match(unquote(urlsplit(url or "").path))
    if match is None:
        return ("shop", gid)
    return ("asset", match["pid"], int(match["v"]), canonical(match["t"] or ""))


@dataclass
class ProductView:
    id: str
    title: str
    handle: str
    skus: list[str]
    gallery: list[tuple[Token, str]]
    """(what the media shows, its alt) in gallery order."""
    variant_images: dict[str, list[Token]]
    swatches: dict[str, list[Token] | None] = field(default_factory=dict)
    """Owner gid (the product or a variant) → the swatch metafield's files, None if unset."""


@dataclass
class ShopView:
    products: dict[str, ProductView]
    files: list[Token]
    by_gid: dict[str, Token] = field(default_factory=dict)


def _graphql(domain: str, token: str, query: str, variables: dict) -> dict:
    base = settings.SHOPIFY_ADMIN_BASE_URL.format(shop=domain)
    for _ in range(30):
        r = requests.post(
            f"{base}/admin/api/{settings.SHOPIFY_API_VERSION}/graphql.json",
            json={"query": query, "variables": variables},
            headers={"X-Shopify-Access-Token": token},
            timeout=30,
        )
        r.raise_for_status()
        body = r.json()
        errors = body.get("errors") or []
        if not any(e.get("extensions", {}).get("code") == "THROTTLED" for e in errors):
            break
        # The shop's bucket is shared with AssetLink's runs: wait until it holds the query.
        cost = body["extensions"]["cost"]
        status = cost["throttleStatus"]
        missing = cost["requestedQueryCost"] - status["currentlyAvailable"]
        time.sleep(max(missing, 1) / status["restoreRate"])
    assert not errors, errors
    return body["data"]


def _pages(domain: str, token: str, query: str, root: str, **variables):
    after = None
    while True:
        page = _graphql(domain, token, query, {**variables, "after": after})[root]
        yield from page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return
        after = page["pageInfo"]["endCursor"]


def read_shop(domain: str, token: str, *, namespace: str = "cloudinary", key: str = "swatch"):
    """The store's products (galleries, alts, variant images, swatch metafields) and Files."""
    files = {}
    for node in _pages(domain, token, FILES, "files"):
        files[node["id"]] = token_of(source_url(node), node["id"])
    products = {}
    for node in _pages(domain, token, QUERY, "products", ns=namespace, key=key):
        media = node["media"]["nodes"]
        for m in media:
            files.setdefault(m["id"], token_of(source_url(m), m["id"]))
        variants = node["variants"]["nodes"]
        swatches = {node["id"]: _swatch_tokens(node["metafield"], files)}
        for v in variants:
            swatches[v["id"]] = _swatch_tokens(v["metafield"], files)
        products[node["id"]] = ProductView(
            id=node["id"],
            title=node["title"],
            handle=node["handle"],
            skus=[v["sku"] or "" for v in variants],
            gallery=[(files[m["id"]], m["alt"] or "") for m in media],
            variant_images={
                v["id"]: [files.get(m["id"], ("shop", m["id"])) for m in v["media"]["nodes"]]
                for v in variants
            },
            swatches=swatches,
        )
    return ShopView(products=products, files=sorted(files.values(), key=repr), by_gid=files)


def source_url(node: dict) -> str | None:
    source = node.get("originalSource") or node.get("videoSource") or {}
    return source.get("url") or node.get("url")


def _swatch_tokens(metafield: dict | None, files: dict[str, Token]) -> list[Token] | None:
    if not metafield:
        return None
    assert metafield["type"] == "list.file_reference", metafield
    return [files.get(gid, ("missing", gid)) for gid in json.loads(metafield["value"])]
