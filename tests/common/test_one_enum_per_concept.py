"""One enum per concept: no two enum classes of the production code spell the same set of
values (LinkMode was defined twice, the alt-text source three times, once as `keep`)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = ["assetlink_project", "common", "stores", "linking", "uploads", "reports", "pages"]
ENUM_BASES = {"Enum", "StrEnum", "IntEnum", "TextChoices", "IntegerChoices", "Choices"}


def _value(node: ast.expr):
    """The member's value: `"x"`, `"x", "Label"` (Django choices) or None when not a literal."""
    if isinstance(node, ast.Tuple) and node.elts:
        node = node.elts[0]
    return node.value if isinstance(node, ast.Constant) else None


def _enums():
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.ClassDef):
                    continue
                bases = {getattr(b, "attr", getattr(b, "id", "")) for b in node.bases}
                if not bases & ENUM_BASES:
                    continue
                values = {
                    _value(item.value)
                    for item in node.body
                    if isinstance(item, ast.Assign) and item.targets[0].id.isupper()
                }
                values.discard(None)
                if values:
                    yield f"{path.relative_to(ROOT)}:{node.name}", frozenset(values)


def test_no_two_enums_spell_the_same_values():
    by_values = defaultdict(list)
    for name, values in _enums():
        by_values[values].append(name)
    twice = {
        ", ".join(names): sorted(values) for values, names in by_values.items() if len(names) > 1
    }
    assert not twice, f"the same concept defined more than once: {twice}"


def test_no_enum_is_a_respelling_of_another():
    """Same members but one value spelled differently (keep / keep_shopify) count too."""
    enums = list(_enums())
    close = [
        (a, b)
        for i, (a, va) in enumerate(enums)
        for b, vb in enums[i + 1 :]
        if len(va) >= 3 and len(va) == len(vb) and len(va & vb) == len(va) - 1
    ]
    assert not close, f"enums that differ in one spelling: {close}"
