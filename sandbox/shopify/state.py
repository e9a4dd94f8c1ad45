"""In-memory state of the Shopify emulator: shops, catalog, files/media, tokens, jobs.

One `State` per app; every mutation of it happens under `state.lock` (an RLock), which the
GraphQL endpoint holds for the whole execution of a request and background workers hold for
their (short) updates.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SHOP_RE = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]\.myshopify\.com$")

# plan key -> (ShopPlan.displayName, restore rate points/s, shopifyPlus)
PLANS: dict[str, tuple[str, int, bool]] = {
    "basic": ("Basic", 100, False),
    "shopify": ("Shopify", 100, False),
    "standard": ("Shopify", 100, False),
    "development": ("Development", 100, False),
    "advanced": ("Advanced", 200, False),
    "plus": ("Shopify Plus", 1000, True),
    "enterprise": ("Commerce Components", 2000, True),
}

MAX_MEDIA_PER_PRODUCT = 250
MAX_ALT = 512
MAX_QUERY_COST = 1000


def now_iso(ts: float | None = None) -> str:
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def gid(kind: str, num: int) -> str:
    return f"gid://shopify/{kind}/{num}"


def parse_gid(value: Any) -> tuple[str, int] | None:
    m = re.fullmatch(r"gid://shopify/(\w+)/(\d+)(\?.*)?", str(value or ""))
    return (m.group(1), int(m.group(2))) if m else None


@dataclass
class Metafield:
    id: int
    owner_gid: str
    namespace: str
    key: str
    type: str
    value: str
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    typename = "Metafield"

    @property
    def gid(self) -> str:
        return gid("Metafield", self.id)

    @property
    def compare_digest(self) -> str:
        return hashlib.sha256(f"{self.id}:{self.value}:{self.updated}".encode()).hexdigest()

    @property
    def owner_type(self) -> str:
        kind = parse_gid(self.owner_gid)[0]
        return {"Product": "PRODUCT", "ProductVariant": "PRODUCTVARIANT"}.get(kind, kind.upper())


@dataclass
class FileObj:
    """A file in the shop's Files library; images/videos are also product media (same id)."""

    id: int
    kind: str  # IMAGE | VIDEO | GENERIC_FILE
    original_source: str
    alt: str = ""
    filename: str = ""
    status: str = "UPLOADED"  # UPLOADED | PROCESSING | READY | FAILED
    errors: list[dict] = field(default_factory=list)  # [{code, message, details}]
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None
    content: bytes | None = None
    placeholder: tuple | None = None  # (w, h, rgb): seeded image rendered on first download
    version: int = 0
    url: str | None = None  # the emulator-served CDN URL once READY
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    # when processing last ended (READY/FAILED); a fileUpdate of the alt text does not move it
    processed: float | None = None
    product_ids: list[int] = field(default_factory=list)  # products whose gallery holds it
    generation: int = 0  # bumped when re-processing; stale workers drop their result

    @property
    def typename(self) -> str:
        return {"IMAGE": "MediaImage", "VIDEO": "Video"}.get(self.kind, "GenericFile")

    @property
    def gid(self) -> str:
        return gid(self.typename, self.id)

    @property
    def media_content_type(self) -> str:
        return self.kind if self.kind in ("IMAGE", "VIDEO") else "IMAGE"


@dataclass
class Variant:
    id: int
    product_id: int
    title: str
    sku: str = ""
    barcode: str = ""
    price: str = "10.00"
    position: int = 1
    media_ids: list[int] = field(default_factory=list)
    metafields: dict[tuple[str, str], Metafield] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    typename = "ProductVariant"

    @property
    def gid(self) -> str:
        return gid("ProductVariant", self.id)


@dataclass
class Product:
    id: int
    title: str
    handle: str
    status: str = "ACTIVE"
    tags: list[str] = field(default_factory=list)
    vendor: str = "Sandbox"
    product_type: str = ""
    variants: list[Variant] = field(default_factory=list)
    media_ids: list[int] = field(default_factory=list)  # gallery order
    metafields: dict[tuple[str, str], Metafield] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    reorders_pending: int = 0  # productReorderMedia jobs not done yet
    typename = "Product"

    @property
    def gid(self) -> str:
        return gid("Product", self.id)


@dataclass
class Job:
    id: str  # uuid-like
    done: bool = False
    typename = "Job"

    @property
    def gid(self) -> str:
        return f"gid://shopify/Job/{self.id}"


@dataclass
class BulkOp:
    id: int
    query: str
    status: str = "CREATED"
    error_code: str | None = None
    object_count: int = 0
    root_object_count: int = 0
    file_size: int | None = None
    url: str | None = None
    data: bytes | None = None
    created: float = field(default_factory=time.time)
    completed: float | None = None
    typename = "BulkOperation"

    @property
    def gid(self) -> str:
        return gid("BulkOperation", self.id)


@dataclass
class Bucket:
    maximum: float
    restore_rate: float
    available: float
    stamp: float = field(default_factory=time.monotonic)

    def refill(self) -> float:
        t = time.monotonic()
        self.available = min(self.maximum, self.available + (t - self.stamp) * self.restore_rate)
        self.stamp = t
        return self.available

    def status(self) -> dict:
        self.refill()
        return {
            "maximumAvailable": float(self.maximum),
            "currentlyAvailable": int(self.available),
            "restoreRate": float(self.restore_rate),
        }


@dataclass
class Shop:
    domain: str
    name: str
    plan: str
    id: int
    email: str = ""
    installed: bool = True
    products: dict[int, Product] = field(default_factory=dict)
    files: dict[int, FileObj] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    bulk_ops: dict[int, BulkOp] = field(default_factory=dict)
    bucket: Bucket | None = None
    call_log: list[dict] = field(default_factory=list)
    typename = "Shop"

    @property
    def gid(self) -> str:
        return gid("Shop", self.id)

    @property
    def plan_info(self) -> tuple[str, int, bool]:
        return PLANS.get(self.plan, PLANS["standard"])

    def variant(self, vid: int) -> Variant | None:
        for p in self.products.values():
            for v in p.variants:
                if v.id == vid:
                    return v
        return None

    def find_metafield(self, mid: int) -> Metafield | None:
        for p in self.products.values():
            for m in p.metafields.values():
                if m.id == mid:
                    return m
            for v in p.variants:
                for m in v.metafields.values():
                    if m.id == mid:
                        return m
        return None


@dataclass
class Token:
    token: str
    shop: str
    scope: str
    expires_at: float | None  # None = non-expiring


@dataclass
class RefreshToken:
    token: str
    shop: str
    scope: str
    expires_at: float


def _default_config() -> dict:
    return {
        "api_key": os.environ.get("SHOPIFY_API_KEY") or "sandbox-api-key",
        "api_secret": os.environ.get("SHOPIFY_API_SECRET") or "sandbox-api-secret",
        "media_delay": float(os.environ.get("SANDBOX_SHOPIFY_MEDIA_DELAY") or 1.0),
        "job_delay": 0.2,
        "bulk_delay": 0.2,
        "download_timeout": 5.0,
        "token_lifetime": 3600,
        "refresh_token_lifetime": 90 * 24 * 3600,
        "bucket_size": None,  # None: restore rate x 20
        "auto_create_shops": True,
        "scopes": "read_products,write_products,read_files,write_files",
        "media_locks": True,  # FILE_LOCKED / MEDIA_CANNOT_BE_MODIFIED while a product is busy
        "app_name": os.environ.get("SANDBOX_SHOPIFY_APP_NAME") or "AssetLink",
        # The app the admin frame embeds (GET /{shop}/admin/apps/{api_key}).
        "app_url": os.environ.get("SANDBOX_APP_URL") or os.environ.get("APP_URL") or "",
        "api_versions": None,  # None: any YYYY-MM or "unstable"
        # Shopify falls forward: answer as this version (X-Shopify-API-Version) instead of the
        # requested one, and/or send X-Shopify-API-Deprecated-Reason. None: neither.
        "answer_api_version": None,
        "deprecated_reason": None,
    }


class State:
    def __init__(self, **config: Any) -> None:
        self.lock = threading.RLock()
        self.media_processor = None  # media.Processor, started with the first file
        self.config = _default_config()
        unknown = set(config) - set(self.config)
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        self.config.update({k: v for k, v in config.items() if v is not None})
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.shops: dict[str, Shop] = {}
            self.tokens: dict[str, Token] = {}
            self.refresh_tokens: dict[str, RefreshToken] = {}
            self.codes: dict[str, dict] = {}
            self.staged: dict[str, dict] = {}  # token -> {filename, mime, content}
            self.faults: dict | None = None
            self.fault_rng: random.Random | None = None
            self.webhook_log: list[dict] = []
            self._ids = itertools.count(10_000_000_001)
            self._rand = random.Random(0)
            self.generation = getattr(self, "generation", 0) + 1

    # ids / secrets -------------------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def secret(self, prefix: str, n: int = 32) -> str:
        return prefix + "".join(random.SystemRandom().choices("0123456789abcdef", k=n))

    # shops ---------------------------------------------------------------------------------
    def create_shop(self, domain: str, plan: str = "standard", name: str | None = None) -> Shop:
        domain = domain.lower().strip()
        if not SHOP_RE.match(domain):
            raise ValueError(f"invalid shop domain {domain!r} (want name.myshopify.com)")
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; one of {sorted(PLANS)}")
        with self.lock:
            if domain in self.shops:
                shop = self.shops[domain]
                shop.plan = plan
                if name:
                    shop.name = name
                shop.bucket = None
                return shop
            shop = Shop(
                domain=domain,
                name=name or domain.split(".")[0].replace("-", " ").title(),
                plan=plan,
                id=self.next_id(),
                email=f"owner@{domain}",
            )
            self.shops[domain] = shop
            return shop

    def get_shop(self, domain: str | None, create: bool = False) -> Shop | None:
        if not domain:
            return None
        domain = domain.lower()
        with self.lock:
            shop = self.shops.get(domain)
            if shop is None and create and self.config["auto_create_shops"]:
                shop = self.create_shop(domain)
            return shop

    def bucket(self, shop: Shop) -> Bucket:
        if shop.bucket is None:
            rate = shop.plan_info[1]
            size = self.config["bucket_size"] or rate * 20
            shop.bucket = Bucket(maximum=size, restore_rate=rate, available=size)
        return shop.bucket

    # tokens --------------------------------------------------------------------------------
    def issue_token(
        self,
        shop: str,
        scope: str | None = None,
        expiring: bool = True,
        lifetime: float | None = None,
    ) -> dict:
        scope = scope if scope is not None else self.config["scopes"]
        with self.lock:
            tok = self.secret("shpat_")
            lifetime = self.config["token_lifetime"] if lifetime is None else lifetime
            exp = time.time() + lifetime if expiring else None
            self.tokens[tok] = Token(tok, shop, scope, exp)
            out = {"access_token": tok, "scope": scope}
            if expiring:
                rt = self.secret("shprt_")
                rlife = self.config["refresh_token_lifetime"]
                self.refresh_tokens[rt] = RefreshToken(rt, shop, scope, time.time() + rlife)
                out.update(
                    expires_in=int(lifetime), refresh_token=rt, refresh_token_expires_in=int(rlife)
                )
            return out

    def token_shop(self, token: str | None) -> Token | None:
        if not token:
            return None
        with self.lock:
            t = self.tokens.get(token)
            if t is None or (t.expires_at is not None and t.expires_at < time.time()):
                return None
            shop = self.shops.get(t.shop)
            if shop is None or not shop.installed:
                return None
            return t

    def revoke_shop_tokens(self, shop: str) -> None:
        with self.lock:
            for d in (self.tokens, self.refresh_tokens):
                for k in [k for k, v in d.items() if v.shop == shop]:
                    del d[k]
