"""Typed assets and the pure parts of resolving a selection: chunking asset ids into search
expressions and mapping enum/set metadata datasource ids to their labels."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

ASSET_ID_RE = re.compile(r"^[0-9a-f]{32}$")
SEARCH_PAGE_SIZE = 500  # the Search API's max_results
# Cloudinary documents no expression length limit; stay well inside what a Lucene-style
# query parser and proxies accept: 500 clauses of ~45 characters (one page per chunk).
MAX_EXPRESSION_CHARS = 24_000


@dataclass(frozen=True)
class Asset:
    asset_id: str
    public_id: str
    resource_type: str
    type: str
    format: str
    version: int
    width: int | None
    height: int | None
    bytes: int | None
    tags: tuple[str, ...]
    context: dict[str, str]
    metadata: dict  # enum → label, set → list of labels, other types as stored
    metadata_ids: dict  # as stored by Cloudinary (enum/set values are datasource ids)
    folder: str
    asset_folder: str
    filename: str
    display_name: str
    created_at: datetime | None
    secure_url: str = ""
    duration: float | None = None

    @property
    def is_image(self) -> bool:
        return self.resource_type == "image"


@dataclass
class MetadataField:
    external_id: str
    type: str
    label: str
    labels: dict[str, str] = field(default_factory=dict)  # datasource id → label


class MetadataSchema:
    """The structured metadata fields of a product environment (from `metadata_fields`)."""

    def __init__(self, fields: list[MetadataField]):
        self.fields = {f.external_id: f for f in fields}

    @classmethod
    def from_api(cls, payload: dict) -> MetadataSchema:
        fields = []
        for raw in payload.get("metadata_fields") or ():
            values = ((raw.get("datasource") or {}).get("values")) or ()
            fields.append(
                MetadataField(
                    external_id=raw["external_id"],
                    type=raw.get("type", "string"),
                    label=raw.get("label") or raw["external_id"],
                    # inactive (soft-deleted) entries still label the assets that hold them
                    labels={v["external_id"]: v.get("value", "") for v in values},
                )
            )
        return cls(fields)

    def labelled(self, metadata: dict) -> dict:
        out = {}
        for key, value in (metadata or {}).items():
            f = self.fields.get(key)
            if f is None or f.type not in ("enum", "set"):
                out[key] = value
            elif f.type == "enum":
                out[key] = f.labels.get(value, value) if isinstance(value, str) else value
            else:
                ids = value if isinstance(value, list) else [value]
                out[key] = [f.labels.get(v, v) for v in ids]
        return out


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def flat_context(context) -> dict[str, str]:
    """Search results carry a flat context; Admin API results nest it under `custom`."""
    if not isinstance(context, dict):
        return {}
    if set(context) == {"custom"} and isinstance(context["custom"], dict):
        context = context["custom"]
    return {str(k): str(v) for k, v in context.items()}


def asset_from_resource(resource: dict, schema: MetadataSchema) -> Asset:
    public_id = resource["public_id"]
    raw_metadata = dict(resource.get("metadata") or {})
    return Asset(
        asset_id=resource["asset_id"],
        public_id=public_id,
        resource_type=resource.get("resource_type", "image"),
        type=resource.get("type", "upload"),
        format=resource.get("format") or "",
        version=int(resource.get("version") or 1),
        width=resource.get("width"),
        height=resource.get("height"),
        bytes=resource.get("bytes"),
        tags=tuple(resource.get("tags") or ()),
        context=flat_context(resource.get("context")),
        metadata=schema.labelled(raw_metadata),
        metadata_ids=raw_metadata,
        folder=resource.get("folder", public_id.rsplit("/", 1)[0] if "/" in public_id else ""),
        asset_folder=resource.get("asset_folder") or "",
        filename=resource.get("filename") or public_id.rsplit("/", 1)[-1],
        display_name=resource.get("display_name") or "",
        created_at=_parse_time(resource.get("created_at")),
        secure_url=resource.get("secure_url") or "",
        duration=resource.get("duration"),
    )


def asset_id_expressions(
    asset_ids: list[str],
    *,
    max_ids: int = SEARCH_PAGE_SIZE,
    max_chars: int = MAX_EXPRESSION_CHARS,
) -> list[tuple[list[str], str]]:
    """Chunks of well-formed asset ids, each with its `asset_id=a OR asset_id=b …` expression
    (at most `max_ids` ids, so one search page, and at most `max_chars` characters)."""
    chunks: list[tuple[list[str], str]] = []
    ids: list[str] = []
    length = 0
    for asset_id in asset_ids:
        clause = f"asset_id={asset_id}"
        extra = len(clause) + (4 if ids else 0)  # " OR "
        if ids and (len(ids) >= max_ids or length + extra > max_chars):
            chunks.append((ids, " OR ".join(f"asset_id={i}" for i in ids)))
            ids, length, extra = [], 0, len(clause)
        ids.append(asset_id)
        length += extra
    if ids:
        chunks.append((ids, " OR ".join(f"asset_id={i}" for i in ids)))
    return chunks


def split_asset_ids(asset_ids) -> tuple[list[str], list[str]]:
    """(well-formed ids without duplicates, in order; malformed ones)."""
    good, bad = [], []
    seen = set()
    for raw in asset_ids:
        value = str(raw).strip()
        if value in seen:
            continue
        seen.add(value)
        (good if ASSET_ID_RE.match(value) else bad).append(value)
    return good, bad
