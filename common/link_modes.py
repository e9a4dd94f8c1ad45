"""The link modes: where a group's assets go in a product's gallery (docs/linking.md, "Link
modes"). One enum for the core's arithmetic (:mod:`linking.core.modes`), the models, the API,
the page and the CLI."""

from __future__ import annotations

from enum import StrEnum


class LinkMode(StrEnum):
    OVERWRITE = "overwrite"
    RESET = "reset"
    APPEND = "append"
    PREPEND = "prepend"
    POSITION = "position"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    LinkMode.OVERWRITE: "In-place overwrite",
    LinkMode.RESET: "Reset",
    LinkMode.APPEND: "Append",
    LinkMode.PREPEND: "Prepend",
    LinkMode.POSITION: "Specific position",
}
LINK_MODE_CHOICES = [(mode.value, mode.label) for mode in LinkMode]
"""``(value, label)`` pairs for model fields, serializers and the page."""
DESTRUCTIVE_LINK_MODES = (LinkMode.OVERWRITE, LinkMode.RESET)
"""Modes that unlink media already in a gallery (Setup can require a dry run before them)."""
LINK_MODES_WITH_POSITION = (LinkMode.POSITION,)
"""Modes that need a position."""
