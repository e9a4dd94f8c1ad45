"""The page's enum choices come from one Python source: the bootstrap JSON carries them (with
what the page must know of each), and the page's JavaScript holds no copy of their values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from common.alt_text import ALT_SOURCES_WITH_FIELD, AltSource
from common.link_modes import DESTRUCTIVE_LINK_MODES, LINK_MODES_WITH_POSITION, LinkMode
from linking.core.catalog import SHOPIFY_FIELD_CHOICES

JS = Path(__file__).resolve().parents[2] / "pages" / "static" / "assetlink" / "js"
VALUES = {
    *LinkMode,
    *AltSource,
    "keep",  # the old spelling of keep_shopify: no copy of it either
    *(str(v) for v, _ in SHOPIFY_FIELD_CHOICES),
}


def _bootstrap(client, user) -> dict:
    client.force_login(user)
    page = client.get("/").content.decode()
    found = re.search(r'<script id="assetlink-bootstrap"[^>]*>(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


@pytest.mark.django_db
def test_the_bootstrap_carries_every_choice_and_its_flags(client, user_member):
    boot = _bootstrap(client, user_member.user)
    modes = {m["value"]: m for m in boot["linkModes"]}
    assert list(modes) == [str(m) for m in LinkMode]
    assert {v for v, m in modes.items() if m["destructive"]} == set(DESTRUCTIVE_LINK_MODES)
    assert {v for v, m in modes.items() if m["needsPosition"]} == set(LINK_MODES_WITH_POSITION)
    sources = {s["value"]: s for s in boot["altSources"]}
    assert list(sources) == [str(s) for s in AltSource]  # Setup's and a plan's alike
    assert {v for v, s in sources.items() if s["needsField"]} == set(ALT_SOURCES_WITH_FIELD)
    assert boot["templateAltSource"] == AltSource.TEMPLATE
    assert [c["value"] for c in boot["shopifyFields"]] == [str(v) for v, _ in SHOPIFY_FIELD_CHOICES]


@pytest.mark.parametrize("path", sorted(JS.glob("*.js")), ids=lambda p: p.name)
def test_the_pages_javascript_compares_with_no_enum_value(path):
    """`mode.value === "position"`, `["overwrite", "reset"].includes(…)`, `{ keep: … }`: such
    copies drift from the Python enums (as `keep` vs `keep_shopify` once did)."""
    text = path.read_text()
    copies = []
    for value in VALUES:
        quoted = re.escape(f'"{value}"')
        patterns = [
            rf"[!=]==?\s*{quoted}",  # x === "value"
            rf"{quoted}\s*[!=]==?",  # "value" === x
            rf"\[\s*{quoted}\s*,",  # ["value", …] (a list of choices)
            rf",\s*{quoted}\s*\]",  # […, "value"]
            rf"\{{\s*{re.escape(value)}\s*:",  # { value: … } (a mapping of choices)
        ]
        copies += [value for p in patterns if re.search(p, text)]
    assert not copies, f"{path.name} copies enum values {sorted(set(copies))}; use boot.*"
