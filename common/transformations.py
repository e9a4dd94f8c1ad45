"""Transformation identity: equivalent spellings of a Cloudinary transformation compare equal.

Treated as equal:
- surrounding whitespace, empty components and empty segments (``a,,b`` = ``a,b``,
  ``a//b`` = ``a/b``, leading/trailing ``/`` and ``,`` dropped);
- the order of components inside one segment (``w_100,c_limit`` = ``c_limit,w_100``):
  Cloudinary applies a segment's parameters as a set (its SDKs sort them too);
- None and the empty string (no transformation).

Not equal: the order of chained segments (``a/b`` ≠ ``b/a``), case (``c_Limit`` ≠
``c_limit``: values such as text overlays are case-sensitive), and semantic aliases
(``w_2048`` ≠ ``w_2048.0``, ``q_auto`` ≠ ``q_auto:good``).
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=4096)  # a plan has a few transformations, compared for every media item
def normalise_transformation(text: str | None) -> str:
    if not text:
        return ""
    segments = []
    for segment in text.split("/"):
        components = sorted(c.strip() for c in segment.split(",") if c.strip())
        if components:
            segments.append(",".join(components))
    return "/".join(segments)


def same_transformation(a: str | None, b: str | None) -> bool:
    return normalise_transformation(a) == normalise_transformation(b)


# The parameter keys of Cloudinary's transformation URL syntax (those the Python SDK's
# ``generate_transformation_string`` writes, plus ``if``/variables): anything else is a typo.
PARAMETER_KEYS = frozenset(
    [
        "a",
        "ac",
        "af",
        "ar",
        "b",
        "bo",
        "br",
        "c",
        "co",
        "cs",
        "d",
        "dl",
        "dn",
        "dpr",
        "du",
        "e",
        "eo",
        "f",
        "fl",
        "fn",
        "fps",
        "g",
        "h",
        "if",
        "ki",
        "l",
        "o",
        "p",
        "pg",
        "q",
        "r",
        "so",
        "sp",
        "t",
        "u",
        "vc",
        "vs",
        "w",
        "x",
        "y",
        "z",
    ]
)
MAX_TRANSFORMATION_LENGTH = 500
EXAMPLE = "c_limit,w_2048,q_auto"


class TransformationError(ValueError):
    """A transformation that is not Cloudinary syntax; the message names the bad part."""


def validate_transformation(text: str | None) -> str:
    """The transformation, stripped, if it is Cloudinary syntax (``key_value`` components,
    ``,`` within a segment, ``/`` between chained segments); else TransformationError."""
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) > MAX_TRANSFORMATION_LENGTH:
        raise TransformationError(
            f"A transformation has at most {MAX_TRANSFORMATION_LENGTH} characters."
        )
    if any(c.isspace() for c in text):
        raise TransformationError(f"Remove the spaces: Cloudinary syntax is e.g. {EXAMPLE}.")
    for segment in text.split("/"):
        if not segment:
            raise TransformationError(f"Empty segment (//) in {text!r}; e.g. {EXAMPLE}.")
        for component in segment.split(","):
            key, sep, value = component.partition("_")
            if not component or not sep or not value:
                raise TransformationError(
                    f"{component or '(empty)'!r} is not a parameter: use key_value, e.g. {EXAMPLE}."
                )
            if key not in PARAMETER_KEYS and not key.startswith("$"):
                raise TransformationError(
                    f"{key!r} (in {component!r}) is not a Cloudinary transformation "
                    f"parameter; e.g. {EXAMPLE}."
                )
            rule = VALUE_RULES.get(key)
            if rule is not None and not value.startswith("$") and not rule[0].match(value):
                raise TransformationError(
                    f"{component!r} is not Cloudinary syntax: {key}_ takes {rule[1]}."
                )
    return text


# What Cloudinary accepts as the value of the parameters a Setup or a batch typically sets
# (anything else there is refused when the URL is delivered, so Shopify gets an error
# instead of an image). A value may also be a user variable ($name), as for any key.
_NUMBER = r"(\d+(\.\d*)?|\.\d+)"
_OPERAND = rf"({_NUMBER}|iw|ih|w|h|cw|ch|ar|iar|dpr|fw|fh|\$[A-Za-z]\w*)"
_EXPRESSION = rf"{_OPERAND}(_(add|sub|mul|div|mod|pow)_{_OPERAND})*"
CROP_MODES = (
    "scale", "fit", "limit", "mfit", "fill", "lfill", "pad", "lpad", "mpad", "fill_pad", "crop",
    "thumb", "imagga_crop", "imagga_scale", "auto", "auto_pad",
)  # fmt: skip
FORMATS = (
    "auto", "jpg", "jpe", "jpeg", "jp2", "jxl", "png", "webp", "avif", "gif", "bmp", "tif",
    "tiff", "ico", "heic", "heif", "svg", "pdf", "psd", "tga", "wdp", "jxr", "hdp", "eps", "ai",
    "ps", "djvu", "flif", "mp4", "webm", "mov", "ogv", "mkv", "m3u8", "mpd", "ts", "avi", "flv",
    "wmv", "3gp", "3g2", "mpeg", "mp3", "ogg", "wav", "aac", "flac", "m4a", "opus",
)  # fmt: skip
VALUE_RULES: dict[str, tuple[re.Pattern, str]] = {
    key: (re.compile(pattern + r"\Z"), rule)
    for key, pattern, rule in [
        ("w", rf"({_EXPRESSION}|auto(:[\w:]+)?)", "a size in pixels (e.g. 2048), a fraction "
         "(0.5), auto or an expression (iw_div_2)"),
        ("h", rf"({_EXPRESSION}|auto(:[\w:]+)?)", "a size in pixels (e.g. 2048), a fraction "
         "(0.5), auto or an expression (ih_div_2)"),
        ("c", "(" + "|".join(CROP_MODES) + ")", "a crop mode: " + ", ".join(CROP_MODES)),
        ("f", "(" + "|".join(FORMATS) + ")", "a format such as auto, jpg, png or webp"),
        ("q", r"(auto(:(best|good|eco|low))?|(100|[1-9]\d?)(:(420|444))?|jpegmini(:[0-2])?)",
         "auto, auto:best, auto:good, auto:eco, auto:low or a number from 1 to 100"),
        ("dpr", rf"(auto|{_NUMBER})", "a device pixel ratio such as 2.0, or auto"),
        ("ar", rf"({_NUMBER}(:{_NUMBER})?)", "an aspect ratio such as 16:9 or 1.5"),
    ]
}  # fmt: skip
