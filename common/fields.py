"""Cloudinary field references and the values an asset has for one.

A field reference names where a group value comes from:
``metadata:<external_id>``, ``context:<key>``, ``tag:<prefix>``,
``public_id:<regex>`` or ``filename:<regex>`` (first capture group).

User regexes run on RE2 (linear time in the subject, whatever the pattern), so a pattern such
as ``^(.+.+)+!`` cannot make a request take minutes; RE2's syntax has no backreferences or
lookaround, and a pattern that needs more than a small compile budget is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import re2

EnumLabels = Mapping[str, Mapping[str, str]]
"""``{metadata field external_id: {datasource entry external_id: label}}``."""


class FieldError(ValueError):
    """A configuration the user can fix: the message says what is wrong and how to fix it."""


class FieldKind(StrEnum):
    METADATA = "metadata"
    CONTEXT = "context"
    TAG = "tag"
    PUBLIC_ID = "public_id"
    FILENAME = "filename"


@dataclass(frozen=True)
class FieldRef:
    kind: FieldKind
    name: str
    """Metadata external id, context key, tag prefix, or the regex source."""

    @property
    def pattern(self) -> Any:
        if self.kind in (FieldKind.PUBLIC_ID, FieldKind.FILENAME):
            return _compile(self.name)
        return None

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.name}"


@dataclass(frozen=True)
class Asset:
    """A Cloudinary asset as read by the server (Search API shape, context flattened)."""

    asset_id: str
    public_id: str
    version: int = 1
    resource_type: str = "image"
    filename: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        # Search results carry ``filename``; fall back to the public id's last segment.
        return self.filename or self.public_id.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FieldValue:
    key: str
    """Normalised under the case rule; what groups and matches compare."""
    display: str
    """The trimmed value as first seen, for people."""


@dataclass(frozen=True)
class GroupingOptions:
    field: FieldRef
    separator: str | None = None
    case_sensitive: bool = False
    enum_labels: EnumLabels = field(default_factory=dict)


MAX_REGEX_LENGTH = 300
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.max_mem = 1 << 20  # compiled-program budget: bigger patterns are refused
_REGEX_CACHE: dict[str, Any] = {}


def _compile(source: str):
    """The RE2 program of a user regex; raise FieldError when RE2 cannot run it."""
    pattern = _REGEX_CACHE.get(source)
    if pattern is None:
        if len(source) > MAX_REGEX_LENGTH:
            raise FieldError(
                f"The regular expression is {len(source)} characters long; use at most "
                f"{MAX_REGEX_LENGTH}."
            )
        try:
            pattern = re2.compile(source, options=_RE2_OPTIONS)
        except re2.error as exc:
            detail = exc.args[0] if exc.args else exc
            if isinstance(detail, bytes):
                detail = detail.decode(errors="replace")
            raise FieldError(
                f"The regular expression {source!r} is not valid here: {detail}. Patterns follow "
                "RE2 syntax (no backreferences or lookaround) and must stay small."
            ) from None
        _REGEX_CACHE[source] = pattern
    return pattern


_EXAMPLES = "metadata:sku, context:product_id, tag:sku:, public_id:^products/([^/_]+), filename:^([A-Z0-9-]+)_"


def parse_field_ref(text: str) -> FieldRef:
    """Parse ``kind:name``; raise :class:`FieldError` with a fix when it is not usable."""
    if not isinstance(text, str) or ":" not in text:
        raise FieldError(
            f"Unknown Cloudinary field {text!r}: write it as kind:name, one of {_EXAMPLES}."
        )
    kind_text, name = text.split(":", 1)
    try:
        kind = FieldKind(kind_text.strip().lower())
    except ValueError:
        kinds = ", ".join(k.value for k in FieldKind)
        raise FieldError(
            f"Unknown Cloudinary field kind {kind_text!r} in {text!r}: use one of {kinds}."
        ) from None
    if kind in (FieldKind.METADATA, FieldKind.CONTEXT):
        name = name.strip()
        if not name:
            raise FieldError(f"{kind.value}: needs a name, e.g. {kind.value}:sku.")
    elif kind is FieldKind.TAG:
        if not name.strip():
            raise FieldError("tag: needs a prefix, e.g. tag:sku: (the tag sku:AB-1 gives AB-1).")
    else:
        pattern = _compile(name)
        if pattern.groups < 1:
            raise FieldError(
                f"The regular expression {name!r} has no capture group: put the part that is "
                f"the value in parentheses, e.g. {kind.value}:^([^_]+)_."
            )
    return FieldRef(kind, name)


def normalise(value: str, case_sensitive: bool) -> str:
    """The comparison key of a value under the case rule (whitespace always trimmed)."""
    value = value.strip()
    return value if case_sensitive else value.casefold()


def _scalar_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def raw_values(
    asset: Asset, ref: FieldRef, enum_labels: EnumLabels | None = None, *, case_sensitive=False
) -> list[str]:
    """The untrimmed, unsplit values of ``asset`` for ``ref`` (several for set metadata, tags)."""
    if ref.kind is FieldKind.METADATA:
        value = asset.metadata.get(ref.name)
        labels = (enum_labels or {}).get(ref.name)
        items: Sequence[Any] = value if isinstance(value, list | tuple) else [value]
        out = []
        for item in items:
            text = _scalar_text(item)
            if text is None:
                continue
            # Enum and set values are datasource ids; an id without a label stays as it is.
            out.append(labels.get(text, text) if labels else text)
        return out
    if ref.kind is FieldKind.CONTEXT:
        text = _scalar_text(asset.context.get(ref.name))
        return [] if text is None else [text]
    if ref.kind is FieldKind.TAG:
        # The prefix is compared under the case rule but never trimmed: "sku: " is deliberate.
        prefix = ref.name if case_sensitive else ref.name.casefold()
        prefix_len = len(ref.name)
        out = []
        for tag in asset.tags:
            head = tag[:prefix_len]
            if (head if case_sensitive else head.casefold()) == prefix:
                out.append(tag[prefix_len:])
        return out
    subject = asset.public_id if ref.kind is FieldKind.PUBLIC_ID else asset.file_name
    found = _compile(ref.name).search(subject)
    if found is None or found.group(1) is None:
        return []
    return [found.group(1)]


def field_values(asset: Asset, options: GroupingOptions) -> list[FieldValue]:
    """Distinct values of ``asset`` for the grouping field: split, trimmed, case-normalised."""
    seen: set[str] = set()
    out: list[FieldValue] = []
    raws = raw_values(
        asset, options.field, options.enum_labels, case_sensitive=options.case_sensitive
    )
    for raw in raws:
        parts = raw.split(options.separator) if options.separator else [raw]
        for part in parts:
            display = part.strip()
            if not display:
                continue
            key = normalise(display, options.case_sensitive)
            if key not in seen:
                seen.add(key)
                out.append(FieldValue(key, display))
    return out


def first_value(asset: Asset, ref: FieldRef, enum_labels: EnumLabels | None = None) -> str | None:
    """The first trimmed value of ``asset`` for ``ref``, or None (used for ordering and alt text)."""
    for raw in raw_values(asset, ref, enum_labels):
        if raw.strip():
            return raw.strip()
    return None


METADATA_TYPES = ("string", "integer", "date", "enum", "set")


def validate_field_exists(ref: FieldRef, metadata_types: Mapping[str, str]) -> None:
    """Raise FieldError when ``ref`` names a structured metadata field the environment lacks.

    ``metadata_types`` maps each metadata field's external id to its Cloudinary type.
    """
    if ref.kind is FieldKind.METADATA and ref.name not in metadata_types:
        known = ", ".join(sorted(metadata_types)) or "none"
        raise FieldError(
            f"There is no structured metadata field {ref.name!r} in this Cloudinary "
            f"environment (external ids: {known})."
        )


def validate_order_field(ref: FieldRef, metadata_types: Mapping[str, str]) -> None:
    """An order field must exist and give one value per asset: a set field cannot order."""
    validate_field_exists(ref, metadata_types)
    if ref.kind is FieldKind.METADATA and metadata_types[ref.name] == "set":
        raise FieldError(
            f"{ref.name!r} is a multiple-choice (set) field, so an asset can have several "
            "values and no single place: order by a text, number, date or single-choice field."
        )


def core_asset(asset) -> Asset:
    """The core's Asset of a Cloudinary client's asset (``stores.cloudinary``: metadata labels
    already mapped)."""
    return Asset(
        asset.asset_id,
        asset.public_id,
        int(asset.version),
        asset.resource_type,
        asset.filename,
        dict(asset.metadata),
        dict(asset.context),
        tuple(asset.tags),
    )
