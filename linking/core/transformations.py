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
