"""Alt text of a linked asset: the batch's source, a per-asset override, Shopify's 512 limit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from .fields import Asset, EnumLabels, FieldError, FieldKind, FieldRef, first_value
from .products import Product

MAX_ALT_LENGTH = 512


class AltTextError(FieldError):
    pass


class AltSource(StrEnum):
    """Where alt text comes from: the one spelling in code, API, page, CLI and docs (a plan's
    ``alt_source``, an upload batch's, Setup's ``alt_text_source``)."""

    KEEP_SHOPIFY = "keep_shopify"
    METADATA = "metadata"
    CONTEXT = "context"
    TEMPLATE = "template"
    AI_CAPTION = "ai_caption"

    @property
    def label(self) -> str:
        return _ALT_SOURCE_LABELS[self]


_ALT_SOURCE_LABELS = {
    AltSource.KEEP_SHOPIFY: "Keep Shopify's alt text",
    AltSource.METADATA: "A metadata field",
    AltSource.CONTEXT: "A context key",
    AltSource.TEMPLATE: "A template",
    AltSource.AI_CAPTION: "AI caption",
}
ALT_SOURCE_CHOICES = [(source.value, source.label) for source in AltSource]
"""``(value, label)`` pairs for model fields, serializers and the page."""
ALT_SOURCES_WITH_FIELD = (AltSource.METADATA, AltSource.CONTEXT, AltSource.TEMPLATE)
"""Sources that need a name: a metadata field, a context key or the template."""
OLD_ALT_SOURCE_SPELLINGS = {"keep": AltSource.KEEP_SHOPIFY}
"""Spellings still accepted on input (Setup spelled Shopify's alt text ``keep`` until 2026-12)."""


def parse_alt_source(text: str) -> AltSource:
    """The source named by ``text`` (an old spelling too); AltTextError for an unknown one."""
    text = str(text).strip()
    try:
        return OLD_ALT_SOURCE_SPELLINGS.get(text) or AltSource(text)
    except ValueError:
        raise AltTextError(f"Use one of {', '.join(AltSource)}.") from None


def alt_rule(source: str, name: str = "") -> AltTextRule:
    """The rule of a source as given on input (an old spelling too) and its name."""
    return AltTextRule(parse_alt_source(source), name or "")


def default_alt_source(setup) -> tuple[AltSource, str]:
    """Setup's default source and its name (``alt_text_field`` or ``alt_text_template``)."""
    source = parse_alt_source(setup.alt_text_source)
    if source is AltSource.TEMPLATE:
        return source, setup.alt_text_template
    if source in ALT_SOURCES_WITH_FIELD:
        return source, setup.alt_text_field
    return source, ""


@dataclass(frozen=True)
class AltTextRule:
    source: AltSource = AltSource.KEEP_SHOPIFY
    name: str = ""
    """Metadata external id (METADATA), context key (CONTEXT) or the template (TEMPLATE)."""


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_SIMPLE = {"public_id", "filename", "group", "product.title", "product.handle"}
_PREFIXED = ("metadata.", "context.")
ALLOWED_PLACEHOLDERS = (
    "{product.title}, {product.handle}, {metadata.<external_id>}, {context.<key>}, "
    "{public_id}, {filename}, {group}"
)


def template_placeholders(template: str) -> list[str]:
    """The placeholders of ``template``; unknown ones and stray braces raise AltTextError."""
    names = []
    stripped = _PLACEHOLDER.sub("", template)
    if "{" in stripped or "}" in stripped:
        raise AltTextError(
            f"The alt text template {template!r} has an unmatched brace: write {{{{ or }}}} "
            "for a literal brace."
        )
    for found in _PLACEHOLDER.finditer(template):
        name = found.group(1)
        if name is None:
            continue
        name = name.strip()
        if name in _SIMPLE or (name.startswith(_PREFIXED) and name.split(".", 1)[1].strip()):
            names.append(name)
        else:
            raise AltTextError(
                f"Unknown placeholder {{{name}}} in the alt text template: use "
                f"{ALLOWED_PLACEHOLDERS}."
            )
    return names


def validate_alt_rule(rule: AltTextRule) -> None:
    """Raise AltTextError when ``rule`` cannot produce alt text (checked before any run)."""
    if rule.source in (AltSource.METADATA, AltSource.CONTEXT) and not rule.name.strip():
        raise AltTextError(f"Alt text from {rule.source.value} needs a field name.")
    if rule.source is AltSource.TEMPLATE:
        if not rule.name.strip():
            raise AltTextError(
                "The alt text template is empty: e.g. {product.title} – {metadata.color}."
            )
        template_placeholders(rule.name)


def validate_alt_override(text: str) -> str:
    """A per-asset override as typed by a user: trimmed, at most 512 characters."""
    text = text.strip()
    if len(text) > MAX_ALT_LENGTH:
        raise AltTextError(
            f"Alt text is {len(text)} characters long; Shopify accepts at most {MAX_ALT_LENGTH}."
        )
    return text


def clip(text: str) -> str:
    """Trim and cut to 512 characters (characters, not bytes: Shopify counts characters)."""
    return text.strip()[:MAX_ALT_LENGTH].rstrip()


def render_template(
    template: str,
    asset: Asset,
    *,
    product: Product | None = None,
    group_value: str = "",
    enum_labels: EnumLabels | None = None,
) -> str:
    template_placeholders(template)

    def value(found: re.Match[str]) -> str:
        token = found.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = found.group(1).strip()
        if name == "public_id":
            return asset.public_id
        if name == "filename":
            return asset.file_name
        if name == "group":
            return group_value
        if name == "product.title":
            return product.title if product else ""
        if name == "product.handle":
            return product.handle if product else ""
        kind, key = name.split(".", 1)
        ref = FieldRef(FieldKind.METADATA if kind == "metadata" else FieldKind.CONTEXT, key.strip())
        # A missing value renders empty rather than failing the whole product.
        return first_value(asset, ref, enum_labels) or ""

    return _PLACEHOLDER.sub(value, template)


def alt_text_for(
    asset: Asset,
    rule: AltTextRule,
    *,
    product: Product | None = None,
    group_value: str = "",
    enum_labels: EnumLabels | None = None,
    caption: str | None = None,
    override: str | None = None,
) -> str | None:
    """The alt text to set, or None to leave Shopify's alt as it is."""
    if override is not None:
        return clip(override)
    if rule.source is AltSource.KEEP_SHOPIFY:
        return None
    if rule.source is AltSource.AI_CAPTION:
        text = caption
    elif rule.source is AltSource.METADATA:
        text = first_value(asset, FieldRef(FieldKind.METADATA, rule.name), enum_labels)
    elif rule.source is AltSource.CONTEXT:
        text = first_value(asset, FieldRef(FieldKind.CONTEXT, rule.name))
    else:
        text = render_template(
            rule.name, asset, product=product, group_value=group_value, enum_labels=enum_labels
        )
    # No value for this asset: leave Shopify's alt rather than blanking it.
    return clip(text) if text and text.strip() else None
