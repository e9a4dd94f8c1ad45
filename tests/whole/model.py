"""An independent model of what each store must hold, written from the product spec (docs/linking.md)
(plain Python; it calls nothing of AssetLink — not the planner, not the executor).

Media are named by what they show (see shop_view): ``("asset", public_id, version,
transformation)`` for what AssetLink placed from Cloudinary, ``("shop", gid)`` for what was
there before. A swatch's file is compared on its asset and version (which transformation a
swatch file gets is the product's business, not the spec's): :func:`loose`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sandbox.cloudinary import seed
from tests.whole.shop_view import ProductView, ShopView, Token, canonical

DEFAULT_IMAGE_TRANSFORMATION = "c_limit,w_2048,h_2048,q_auto"  # Setup's shipped default
DEFAULT_TRANSFORMATION = "q_auto"  # Setup's shipped default for uploads to Files
MAX_ALT = 512
ENUM_LABELS = {  # the emulator library's datasources: enum values are stored as their ids
    **{e: label for e, label, _ in [*seed.COLORS, seed.INACTIVE_COLOR]},
    **dict(seed.ASSET_TYPES),
    **dict(seed.CHANNELS),
}
MODES = ("overwrite", "reset", "append", "prepend", "position")


# --- Cloudinary: the library as the emulator holds it ------------------------------------


@dataclass(frozen=True)
class CloudAsset:
    asset_id: str
    public_id: str
    version: int
    resource_type: str
    metadata: dict
    tags: tuple[str, ...]
    context: dict

    @classmethod
    def of(cls, raw: dict) -> CloudAsset:
        return cls(
            raw["asset_id"],
            raw["public_id"],
            int(raw["version"]),
            raw.get("resource_type", "image"),
            dict(raw.get("metadata") or {}),
            tuple(raw.get("tags") or ()),
            dict((raw.get("context") or {}).get("custom") or {}),
        )

    @property
    def group(self) -> str | None:
        """Grouping by `metadata:sku`: surrounding whitespace trimmed; no value: ungrouped."""
        value = str(self.metadata.get("sku") or "").strip()
        return value or None

    @property
    def is_swatch(self) -> bool:
        """Setup's default swatch rule: metadata `asset_type` = swatch, or the tag `swatch`."""
        kind = ENUM_LABELS.get(self.metadata.get("asset_type"), self.metadata.get("asset_type"))
        return "swatch" in {t.strip().casefold() for t in self.tags} or (
            str(kind or "").strip().casefold() == "swatch"
        )

    def field(self, kind: str, name: str) -> str | None:
        raw = (self.metadata if kind == "metadata" else self.context).get(name)
        if isinstance(raw, list):
            raw = raw[0] if raw else None
        text = str(ENUM_LABELS.get(raw, raw) if raw is not None else "").strip()
        return text or None


# --- a plan, as the person configured it -------------------------------------------------


@dataclass(frozen=True)
class PlanSpec:
    asset_ids: tuple[str, ...]
    link_mode: str = "append"
    position: int | None = None
    excluded_asset_ids: tuple[str, ...] = ()
    excluded_groups: tuple[str, ...] = ()
    alt_source: str = "keep_shopify"
    alt_field: str = ""
    alt_overrides: tuple[tuple[str, str], ...] = ()
    assign_variant_images: bool = True
    image_transformation: str = ""
    manual_orders: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def body(self) -> dict:
        """The API body that asks for this plan."""
        out = {
            "asset_ids": list(self.asset_ids),
            "cloudinary_field": "metadata:sku",
            "shopify_field": "variant.sku",
            "link_mode": self.link_mode,
            "order_field": "metadata:sequence_number",
            "excluded_asset_ids": list(self.excluded_asset_ids),
            "excluded_groups": list(self.excluded_groups),
            "alt_source": self.alt_source,
            "alt_field": self.alt_field,
            "alt_overrides": dict(self.alt_overrides),
            "assign_variant_images": self.assign_variant_images,
            "manual_orders": {g: list(ids) for g, ids in self.manual_orders},
        }
        if self.position is not None:
            out["position"] = self.position
        if self.image_transformation:
            out["image_transformation"] = self.image_transformation
        return out

    @property
    def transformation(self) -> str:
        return canonical(self.image_transformation or DEFAULT_IMAGE_TRANSFORMATION)


# --- what a store holds -------------------------------------------------------------------


@dataclass
class ProductModel:
    id: str
    title: str
    handle: str
    skus: list[str]
    gallery: list[tuple[Token, str]]
    variant_images: dict[str, list[Token]]
    swatches: dict[str, list[Token] | None]

    @classmethod
    def of(cls, view: ProductView) -> ProductModel:
        return cls(**copy.deepcopy(view.__dict__))


@dataclass
class StoreModel:
    products: dict[str, ProductModel]
    files: set[Token]
    links: dict[tuple[str, Token], str] = field(default_factory=dict)
    """(product id, media) → the link record's alt: the media AssetLink placed."""
    uploads: dict[str, Token] = field(default_factory=dict)
    """asset id → the file an upload to Files placed for it (the newest upload's)."""

    @classmethod
    def of(cls, view: ShopView) -> StoreModel:
        return cls({p.id: ProductModel.of(p) for p in view.products.values()}, set(view.files))

    def snapshot(self) -> StoreModel:
        return copy.deepcopy(self)


def loose(token: Token, swatch_ids: set[str]) -> Token:
    if token[0] == "asset" and token[1] in swatch_ids:
        return ("swatch", token[1], token[2])
    return token


# --- what a run must do --------------------------------------------------------------------


@dataclass
class ExpectedRow:
    product_id: str
    asset_id: str
    actions: frozenset[str]


@dataclass
class Outcome:
    """A plan applied to one store: the products it changes, their state after, the rows."""

    after: dict[str, ProductModel]
    rows: list[ExpectedRow]
    created: set[Token]
    new_links: dict[tuple[str, Token], str]
    dropped_links: set[tuple[str, Token]]

    def apply(self, store: StoreModel) -> None:
        for pid, product in self.after.items():
            store.products[pid] = copy.deepcopy(product)
        store.files |= self.created
        for key in self.dropped_links:
            store.links.pop(key, None)
        store.links.update(self.new_links)


def _natural(asset: CloudAsset):
    value = asset.metadata.get("sequence_number")
    return (value is None, int(value) if value is not None else 0, asset.public_id)


def _alt(asset: CloudAsset, spec: PlanSpec, product: ProductModel, group: str) -> str | None:
    """The alt text to set, or None: leave Shopify's as it is."""
    overrides = dict(spec.alt_overrides)
    if asset.asset_id in overrides:
        return overrides[asset.asset_id].strip()[:MAX_ALT].rstrip()
    if spec.alt_source in ("metadata", "context"):
        text = asset.field(spec.alt_source, spec.alt_field)
    elif spec.alt_source == "template":

        def one(found: re.Match) -> str:
            name = found.group(1).strip()
            if name == "product.title":
                return product.title
            if name == "group":
                return group
            kind, key = name.split(".", 1)
            return asset.field(kind, key) or ""

        text = re.sub(r"\{([^{}]*)\}", one, spec.alt_field)
    else:
        return None
    return text.strip()[:MAX_ALT].rstrip() if text and text.strip() else None


def _gallery_after(mode: str, position: int | None, E: list, S: list, s_media: set[int]) -> list:
    """PRODUCT.md's table: ``E`` the gallery before, ``S`` the group's assets, ``s_media``
    the indexes of E's S-media."""
    rest = [m for i, m in enumerate(E) if i not in s_media]
    if not S:  # a group of swatches only: its product's gallery is not the run's business
        return list(E)
    if mode == "overwrite":
        return S + [m for i, m in enumerate(E) if i >= len(S) and i not in s_media]
    if mode == "reset":
        return list(S)
    if mode == "append":
        return rest + S
    if mode == "prepend":
        return S + rest
    p = position or 1
    return rest[: p - 1] + S + rest[p - 1 :]


def plan(store: StoreModel, library: dict[str, CloudAsset], spec: PlanSpec) -> Outcome:
    """What running ``spec`` on ``store`` must do (the model's own planning)."""
    rows: list[ExpectedRow] = []
    selected = []
    for asset_id in dict.fromkeys(spec.asset_ids):
        asset = library.get(asset_id)
        if asset is None:
            rows.append(ExpectedRow("", asset_id, frozenset({"failed", "skipped", "unmatched"})))
        else:
            selected.append(asset)
    groups: dict[str, list[CloudAsset]] = {}
    shown: dict[str, str] = {}
    excluded = set(spec.excluded_asset_ids)
    for asset in selected:
        if asset.group is None:  # ungrouped (excluded or not)
            rows.append(ExpectedRow("", asset.asset_id, frozenset({"unmatched", "excluded"})))
            continue
        if asset.asset_id in excluded:  # reported once, not per product
            rows.append(ExpectedRow("", asset.asset_id, frozenset({"excluded"})))
            continue
        key = asset.group.casefold()
        groups.setdefault(key, []).append(asset)
        shown.setdefault(key, asset.group)
    excluded_groups = {g.strip().casefold() for g in spec.excluded_groups}
    manual = {g.strip().casefold(): ids for g, ids in spec.manual_orders}
    outcome = Outcome({}, rows, set(), {}, set())
    for key, assets in groups.items():
        if key in excluded_groups:  # reported once per asset, before any matching
            rows.extend(ExpectedRow("", a.asset_id, frozenset({"excluded"})) for a in assets)
            continue
        matched = [
            p
            for p in store.products.values()
            if any(s.strip().casefold() == key for s in p.skus if s.strip())
        ]
        if not matched:
            rows.extend(ExpectedRow("", a.asset_id, frozenset({"unmatched"})) for a in assets)
            continue
        if key in manual:
            rank = {a: i for i, a in enumerate(manual[key])}
            ordered = sorted(assets, key=lambda a: (rank.get(a.asset_id, len(rank)), _natural(a)))
        else:
            ordered = sorted(assets, key=_natural)
        for product in matched:
            _plan_product(store, spec, shown[key], ordered, product, outcome)
    return outcome


def _plan_product(store, spec, group, ordered, product, outcome) -> None:
    pid = product.id
    images = [a for a in ordered if not a.is_swatch]
    swatches = [a for a in ordered if a.is_swatch]
    E = product.gallery
    s_ids = {a.public_id for a in images}
    s_media = {
        i for i, (tok, _) in enumerate(E)
        if (pid, tok) in store.links and tok[0] == "asset" and tok[1] in s_ids
    }  # fmt: skip
    current = dict(E)
    S = []
    for a in images:
        tok = ("asset", a.public_id, a.version, spec.transformation)
        reused = (pid, tok) in store.links and tok in current
        alt = _alt(a, spec, product, group)
        alt = alt if alt is not None else (current[tok] if reused else "")
        S.append((tok, alt))
        if reused:
            actions = {"reused", "moved", "alt_updated", "unchanged"}
        else:
            actions = {"created", "replaced"}
            outcome.created.add(tok)
        outcome.rows.append(ExpectedRow(pid, a.asset_id, frozenset(actions)))
    after = copy.deepcopy(product)
    after.gallery = _gallery_after(spec.link_mode, spec.position, list(E), S, s_media)
    kept = {tok for tok, _ in after.gallery}
    if spec.assign_variant_images and S:
        for vid, sku in zip(after.variant_images, after.skus, strict=True):
            if sku.strip().casefold() == group.casefold():
                after.variant_images[vid] = [S[0][0]]
    for vid, media in after.variant_images.items():
        after.variant_images[vid] = [m for m in media if m in kept]
    if swatches:
        tokens = [("asset", a.public_id, a.version, "") for a in swatches]
        for vid, sku in zip(after.variant_images, after.skus, strict=True):
            if sku.strip().casefold() == group.casefold():
                after.swatches[vid] = tokens
        outcome.created |= set(tokens)
        for a in swatches:
            outcome.rows.append(ExpectedRow(pid, a.asset_id, frozenset({"swatch", "unchanged"})))
    if len(after.gallery) > 250:  # never in these stores; the spec's rule, for completeness
        return
    outcome.after[pid] = after
    for tok, _ in E:
        if tok not in kept and (pid, tok) in store.links:
            outcome.dropped_links.add((pid, tok))
    for tok, alt in S:
        outcome.new_links[(pid, tok)] = alt


def changed(before: StoreModel, after: StoreModel) -> Iterable[str]:
    for pid, product in after.products.items():
        if before.products[pid] != product:
            yield pid


# --- Manage links and uploads ------------------------------------------------------------


def unlink(store: StoreModel, keys: Iterable[tuple[str, Token]]) -> None:
    """Unlink (Manage links): each media leaves its gallery and its variants' images; its link
    record goes; the file stays in Files (Setup's "delete unreferenced created files" is off)."""
    for pid, tok in keys:
        product = store.products[pid]
        product.gallery = [(t, alt) for t, alt in product.gallery if t != tok]
        for vid, media in product.variant_images.items():
            product.variant_images[vid] = [m for m in media if m != tok]
        store.links.pop((pid, tok), None)


def outdated(store: StoreModel, library: dict[str, CloudAsset]) -> dict[tuple[str, Token], int]:
    """Links whose asset has a newer version in the library → that version."""
    newest = {a.public_id: a.version for a in library.values()}
    return {
        (pid, tok): newest[tok[1]]
        for pid, tok in store.links
        if tok[1] in newest and newest[tok[1]] != tok[2]
    }


def relink(store: StoreModel, library: dict[str, CloudAsset], public_ids: set[str]) -> int:
    """Re-link (Manage links) to each asset's newest version, in place: the same position and
    alt text, the variants whose image it was get the new media, the link record follows; the
    new media is a new file. Answers how many links were replaced."""
    replaced = 0
    for (pid, tok), version in outdated(store, library).items():
        if tok[1] not in public_ids:
            continue
        new = ("asset", tok[1], version, tok[3])
        product = store.products[pid]
        product.gallery = [(new if t == tok else t, alt) for t, alt in product.gallery]
        for vid, media in product.variant_images.items():
            product.variant_images[vid] = [new if m == tok else m for m in media]
        store.links[(pid, new)] = store.links.pop((pid, tok))
        store.files.add(new)
        replaced += 1
    return replaced


def upload(
    store: StoreModel, library: dict[str, CloudAsset], asset_ids: Iterable[str]
) -> dict[str, frozenset[str]]:
    """Upload to Store Files with Setup's default transformation: an asset already uploaded
    (same asset, version, transformation) is not uploaded again; a newer version replaces the
    file it uploaded before. Answers the report's possible actions per asset."""
    actions = {}
    for asset_id in dict.fromkeys(asset_ids):
        asset = library[asset_id]
        tok = ("asset", asset.public_id, asset.version, canonical(DEFAULT_TRANSFORMATION))
        before = store.uploads.get(asset_id)
        if before == tok:
            actions[asset_id] = frozenset({"reused", "unchanged", "skipped"})
            continue
        if before is not None:
            store.files.discard(before)
            actions[asset_id] = frozenset({"replaced"})
        else:
            actions[asset_id] = frozenset({"created"})
        store.files.add(tok)
        store.uploads[asset_id] = tok
    return actions
