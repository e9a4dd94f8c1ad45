"""A deterministic demo library for the Cloudinary emulator.

`seed_library(state, cloud, n_assets, seed=42, sku_pattern="SKU-{n:05d}")` fills a cloud with
`n_assets` assets (10 … 100,000; images are rendered lazily on delivery, so seeding 100k
takes a couple of seconds):

* Structured metadata fields: `sku` (string), `sequence_number` (integer), `asset_type`
  (enum: product, swatch, lifestyle), `color` (enum, one soft-deleted value), `alt` (string),
  `launch_date` (date) and `channels` (set). Enum/set values are stored on assets as datasource
  external ids (`color_03`, `asset_type_swatch`, …), as Cloudinary does.
* SKU groups: SKU number k (1, 2, 3, …) is `sku_pattern.format(n=k)`, default `SKU-00001`.
  Each group has 1–6 assets with `sequence_number` 1..size; the first is a `product` image,
  then `product`/`lifestyle` images, sometimes a `swatch` last; about 1 in 100 assets is a
  product video (also in a group). Every group has one category (folder
  `products/<category>`) and one color.
* About 1 in 50 assets has no SKU (folder `unsorted`, tag `unsorted`): the "ungrouped" ones.
* Tags: the season (`ss26` or `fw25`), the category, `swatch` / `lifestyle` / `video`.
* Context: `alt` on about half of the images, `photographer` on lifestyle images.

`plan_groups(n_assets, seed)` returns the SKU groups without touching any state, so the
Shopify emulator can build a catalog whose SKUs match the library.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .state import Asset, Cloud, State

DEFAULT_SKU_PATTERN = "SKU-{n:05d}"
BASE_TIME = 1767225600.0  # 2026-01-01T00:00:00Z

CATEGORIES = {
    # category: (noun for captions/titles, plural)
    "shoes": "sneaker",
    "shirts": "shirt",
    "bags": "bag",
    "hats": "hat",
    "jackets": "jacket",
    "socks": "pair of socks",
}

COLORS = [
    # external id, label, RGB
    ("color_01", "Red", (200, 40, 40)),
    ("color_02", "Blue", (40, 80, 200)),
    ("color_03", "Green", (40, 150, 70)),
    ("color_04", "Yellow", (230, 200, 40)),
    ("color_05", "Black", (30, 30, 30)),
    ("color_06", "White", (235, 235, 235)),
    ("color_07", "Orange", (240, 130, 30)),
    ("color_08", "Purple", (130, 60, 170)),
    ("color_09", "Pink", (240, 140, 180)),
    ("color_10", "Grey", (130, 130, 130)),
]
INACTIVE_COLOR = ("color_99", "Beige", (220, 200, 160))
COLOR_RGB = {label: rgb for _, label, rgb in [*COLORS, INACTIVE_COLOR]}
CHANNELS = [("channel_web", "web"), ("channel_store", "store"), ("channel_market", "marketplace")]
ASSET_TYPES = [
    ("asset_type_product", "product"),
    ("asset_type_swatch", "swatch"),
    ("asset_type_lifestyle", "lifestyle"),
]

METADATA_FIELDS = [
    {"external_id": "sku", "type": "string", "label": "SKU"},
    {"external_id": "sequence_number", "type": "integer", "label": "Sequence number"},
    {
        "external_id": "asset_type",
        "type": "enum",
        "label": "Asset type",
        "datasource": {"values": [{"external_id": e, "value": v} for e, v in ASSET_TYPES]},
    },
    {
        "external_id": "color",
        "type": "enum",
        "label": "Color",
        "datasource": {
            "values": [{"external_id": e, "value": v} for e, v, _ in COLORS]
            + [
                {
                    "external_id": INACTIVE_COLOR[0],
                    "value": INACTIVE_COLOR[1],
                    "state": "inactive",
                }
            ]
        },
    },
    {"external_id": "alt", "type": "string", "label": "Alt text"},
    {"external_id": "launch_date", "type": "date", "label": "Launch date"},
    {
        "external_id": "channels",
        "type": "set",
        "label": "Channels",
        "datasource": {"values": [{"external_id": e, "value": v} for e, v in CHANNELS]},
    },
]


@dataclass(frozen=True, slots=True)
class SkuGroup:
    number: int
    sku: str
    size: int
    category: str
    color: str  # label
    color_id: str
    season: str
    has_swatch: bool
    video_at: int  # sequence number of the video in the group, 0 if none

    @property
    def title(self) -> str:
        return f"{self.color} {CATEGORIES[self.category].title()} {self.number}"


def _counts(n_assets: int) -> tuple[int, int]:
    """(ungrouped, videos) for a library of n_assets."""
    return max(1, n_assets // 50), max(1, n_assets // 100)


def plan_groups(
    n_assets: int, seed: int = 42, sku_pattern: str = DEFAULT_SKU_PATTERN
) -> list[SkuGroup]:
    """The SKU groups of `seed_library(..., n_assets, seed, sku_pattern)`, in order."""
    rng = random.Random(f"groups:{seed}")
    n_ungrouped, n_videos = _counts(n_assets)
    grouped = max(0, n_assets - n_ungrouped)
    groups: list[SkuGroup] = []
    left = grouped
    video_every = max(1, grouped // n_videos) if n_videos else 0
    placed_videos = 0
    position = 0
    categories = list(CATEGORIES)
    k = 0
    while left > 0:
        k += 1
        size = min(left, rng.randint(1, 6))
        # one video per `video_every` assets, placed in the group covering that position
        video_at = 0
        if placed_videos < n_videos and position + size > placed_videos * video_every:
            video_at = size if size > 1 else 1
            placed_videos += 1
        cid, label, _ = COLORS[rng.randrange(len(COLORS))]
        groups.append(
            SkuGroup(
                number=k,
                sku=sku_pattern.format(n=k),
                size=size,
                category=categories[rng.randrange(len(categories))],
                color=label,
                color_id=cid,
                season="ss26" if rng.random() < 0.6 else "fw25",
                has_swatch=size >= 3 and rng.random() < 0.5,
                video_at=video_at,
            )
        )
        position += size
        left -= size
    return groups


def seed_library(
    state: State,
    cloud: Cloud | str,
    n_assets: int,
    seed: int = 42,
    sku_pattern: str = DEFAULT_SKU_PATTERN,
    *,
    replace: bool = True,
) -> dict:
    """Fill `cloud` with the demo library; returns a summary. Deterministic in (n, seed)."""
    if isinstance(cloud, str):
        cloud = state.cloud(cloud)
    if n_assets < 0 or n_assets > 200_000:
        raise ValueError("n_assets must be between 0 and 200000")
    try:
        sku_pattern.format(n=1)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(f"bad sku_pattern: {e}") from None
    with state.lock:
        if replace:
            cloud.assets.clear()
            cloud.by_public_id.clear()
        for definition in METADATA_FIELDS:
            cloud.add_metadata_field(definition)
        rng = random.Random(f"assets:{seed}")
        ids = random.Random(f"ids:{seed}:{cloud.name}")
        groups = plan_groups(n_assets, seed, sku_pattern)
        n_ungrouped, _ = _counts(n_assets)
        t = BASE_TIME
        summary = {"assets": 0, "skus": len(groups), "videos": 0, "ungrouped": 0}
        # spread the ungrouped assets through the library
        ungrouped_every = max(1, len(groups) // max(1, n_ungrouped))
        ungrouped_left = n_ungrouped if n_assets else 0
        serial = 0

        def new_id() -> str:
            return f"{ids.getrandbits(128):032x}"

        def add(asset: Asset) -> None:
            key = (asset.resource_type, asset.type, asset.public_id)
            previous = cloud.by_public_id.get(key)
            if previous is not None:  # replace=False over an earlier library
                cloud.assets.pop(previous, None)
            cloud.assets[asset.asset_id] = asset
            cloud.by_public_id[key] = asset.asset_id
            summary["assets"] += 1

        for gi, g in enumerate(groups):
            noun = CATEGORIES[g.category]
            folder = f"products/{g.category}"
            launch = f"2026-{1 + g.number % 12:02d}-{1 + g.number % 28:02d}"
            channels = [c for c, _ in CHANNELS if rng.random() < 0.6] or [CHANNELS[0][0]]
            for seq in range(1, g.size + 1):
                t += 60 + rng.randrange(600)
                is_video = seq == g.video_at
                if is_video or seq == 1:
                    kind = "product"
                elif g.has_swatch and seq == g.size:
                    kind = "swatch"
                else:
                    kind = "lifestyle" if rng.random() < 0.35 else "product"
                stem = g.sku.lower().replace(" ", "_")
                suffix = {"product": "", "swatch": "_swatch", "lifestyle": "_lifestyle"}[kind]
                public_id = f"{folder}/{stem}_{seq}{suffix}"
                tags = [g.season, g.category]
                if kind != "product":
                    tags.append(kind)
                if is_video:
                    tags.append("video")
                alt = _alt_text(g.color, noun, kind, seq, is_video)
                context = {}
                if rng.random() < 0.5 and not is_video:
                    context["alt"] = alt
                if kind == "lifestyle":
                    context["photographer"] = rng.choice(["A. Rivera", "K. Tanaka", "M. Okafor"])
                metadata = {
                    "sku": g.sku,
                    "sequence_number": seq,
                    "asset_type": f"asset_type_{kind}",
                    "color": g.color_id,
                    "alt": alt,
                    "launch_date": launch,
                    "channels": channels,
                }
                if is_video:
                    w, h, fmt, rtype, duration = 320, 180, "mp4", "video", 2.0
                    summary["videos"] += 1
                elif kind == "swatch":
                    w, h, fmt, rtype, duration = 400, 400, "png", "image", None
                elif kind == "lifestyle":
                    w, h, fmt, rtype, duration = 1600, 2000, "jpg", "image", None
                else:
                    w, h, fmt, rtype, duration = 2000, 2000, "jpg", "image", None
                serial += 1
                add(
                    Asset(
                        asset_id=new_id(),
                        public_id=public_id,
                        resource_type=rtype,
                        format=fmt,
                        version=int(t),
                        created_at=t,
                        uploaded_at=t,
                        bytes=_bytes(w, h, fmt, serial) if not is_video else 86_000 + serial,
                        width=w,
                        height=h,
                        asset_folder=folder,
                        display_name=public_id.rsplit("/", 1)[-1],
                        duration=duration,
                        tags=tags,
                        context=context,
                        metadata=metadata,
                    )
                )
            if ungrouped_left and (gi + 1) % ungrouped_every == 0:
                ungrouped_left -= 1
                t += 30
                _add_ungrouped(add, new_id, rng, summary, t)
        while ungrouped_left > 0:
            ungrouped_left -= 1
            t += 30
            _add_ungrouped(add, new_id, rng, summary, t)
        cloud.seed_info = {
            "n_assets": n_assets,
            "seed": seed,
            "sku_pattern": sku_pattern,
            **summary,
        }
        cloud.touch()
        state.search_cache.clear()
        return dict(cloud.seed_info)


def _add_ungrouped(add, new_id, rng, summary, t: float) -> None:
    summary["ungrouped"] += 1
    n = summary["ungrouped"]
    cid, label, _ = COLORS[rng.randrange(len(COLORS))]
    public_id = f"unsorted/img_{n:05d}"
    add(
        Asset(
            asset_id=new_id(),
            public_id=public_id,
            format="jpg",
            version=int(t),
            created_at=t,
            uploaded_at=t,
            bytes=_bytes(1200, 800, "jpg", n),
            width=1200,
            height=800,
            asset_folder="unsorted",
            display_name=f"img_{n:05d}",
            tags=["unsorted"],
            context={},
            metadata={"color": cid},
        )
    )


def _alt_text(color: str, noun: str, kind: str, seq: int, is_video: bool) -> str:
    if is_video:
        return f"Video of the {color.lower()} {noun}"
    if kind == "swatch":
        return f"{color} color swatch"
    if kind == "lifestyle":
        return f"{color} {noun} being worn outdoors"
    return f"{color} {noun}, view {seq}"


def _bytes(w: int, h: int, fmt: str, salt: int) -> int:
    per_px = 0.9 if fmt == "png" else 0.12
    return int(w * h * per_px) + (salt * 7919) % 5000
