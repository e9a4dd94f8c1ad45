"""One alt text source enum: every spelling it accepts, and the names of what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.alt_text import (
    ALT_SOURCE_CHOICES,
    OLD_ALT_SOURCE_SPELLINGS,
    AltSource,
    AltTextError,
    parse_alt_source,
)


@pytest.mark.parametrize("source", list(AltSource))
def test_each_source_parses_as_itself_with_a_label(source):
    assert parse_alt_source(f" {source.value} ") is source
    assert (source.value, source.label) in ALT_SOURCE_CHOICES


def test_the_old_spelling_parses_as_keep_shopify():
    assert parse_alt_source("keep") is AltSource.KEEP_SHOPIFY
    assert set(OLD_ALT_SOURCE_SPELLINGS.values()) <= set(AltSource)


@given(st.text(max_size=20))
def test_anything_else_is_refused_naming_the_sources(text):
    known = {s.value for s in AltSource} | set(OLD_ALT_SOURCE_SPELLINGS)
    if text.strip() in known:
        assert parse_alt_source(text) in AltSource
        return
    with pytest.raises(AltTextError, match="keep_shopify, metadata, context, template"):
        parse_alt_source(text)
