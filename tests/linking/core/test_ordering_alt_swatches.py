"""Order within a group, exclusions, alt text, swatch detection, transformation identity."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linking.core import (
    MAX_ALT_LENGTH,
    AltSource,
    AltTextError,
    AltTextRule,
    Asset,
    Group,
    Product,
    SwatchRule,
    alt_text_for,
    apply_exclusions,
    is_swatch,
    natural_key,
    normalise_transformation,
    order_assets,
    parse_field_ref,
    same_transformation,
    validate_alt_override,
    validate_alt_rule,
)


def ordered(values, field="metadata:pos", **kwargs):
    assets = [
        Asset(f"a{i}", f"p/{pid}", metadata={} if value is None else {"pos": value})
        for i, (pid, value) in enumerate(values)
    ]
    return [a.public_id for a in order_assets(assets, parse_field_ref(field), **kwargs)]


def test_natural_order_puts_2_before_10():
    assert ordered([("x", "10"), ("y", "2"), ("z", "1")]) == ["p/z", "p/y", "p/x"]


def test_numbers_as_numbers_including_decimals_and_ints():
    assert ordered([("x", 10), ("y", "2.5"), ("z", "-1")]) == ["p/z", "p/y", "p/x"]


def test_text_with_digits_sorts_naturally_and_ignores_case():
    assert ordered([("x", "img10"), ("y", "IMG2"), ("z", "img1")]) == ["p/z", "p/y", "p/x"]


def test_iso_dates_as_dates():
    values = [("x", "2026-10-01"), ("y", "2026-9-30"), ("z", "2026-02-01T10:00:00Z")]
    # "2026-9-30" is not ISO: it sorts as text, after the real dates.
    assert ordered(values) == ["p/z", "p/x", "p/y"]
    assert natural_key("2026-02-01")[1] == natural_key("2026-02-01T00:00:00")[1]
    assert natural_key("2026-02-01T01:00:00+01:00")[1] == natural_key("2026-02-01T00:00:00Z")[1]


def test_assets_without_a_value_come_last_and_ties_go_by_public_id():
    values = [("b", None), ("c", "1"), ("a10", "1"), ("a2", "1"), ("a", None)]
    assert ordered(values) == ["p/a2", "p/a10", "p/c", "p/a", "p/b"]


def test_without_an_order_field_assets_go_by_public_id():
    assets = [Asset("1", "p/img10"), Asset("2", "p/img2")]
    assert [a.public_id for a in order_assets(assets)] == ["p/img2", "p/img10"]


def test_manual_order_first_unknown_ids_ignored_missing_ones_appended_in_natural_order():
    values = [("w", "4"), ("x", "3"), ("y", "2"), ("z", "1")]
    result = ordered(values, manual_order=["a0", "nope", "a2", "a0"])
    assert result == ["p/w", "p/y", "p/z", "p/x"]


@given(
    st.lists(
        st.one_of(
            st.none(), st.integers(-50, 50).map(str), st.dates().map(str), st.text(max_size=6)
        ),
        max_size=20,
    )
)
def test_natural_order_is_total_on_mixed_values(values):
    assets = [Asset(f"a{i}", f"p/{i}", metadata={"pos": v}) for i, v in enumerate(values)]
    first = order_assets(assets, parse_field_ref("metadata:pos"))
    again = order_assets(list(reversed(assets)), parse_field_ref("metadata:pos"))
    assert first == again
    missing = [a for a in first if not (a.metadata["pos"] or "").strip()]
    assert first[len(first) - len(missing) :] == missing


def test_exclusions_of_assets_and_groups():
    a1, a2, a3 = Asset("a1", "p/1"), Asset("a2", "p/2"), Asset("a3", "p/3")
    groups = [Group("x", "X", [a1, a2]), Group("y", "Y", [a2, a3]), Group("z", "Z", [a3])]
    result = apply_exclusions(groups, excluded_asset_ids={"a2"}, excluded_group_keys={"z"})
    assert [(g.key, [a.asset_id for a in g.assets]) for g in result.kept] == [
        ("x", ["a1"]),
        ("y", ["a3"]),
    ]
    assert [g.key for g in result.excluded_groups] == ["z"]
    assert [(g.key, a.asset_id) for g, a in result.excluded_assets] == [("x", "a2"), ("y", "a2")]
    assert [a.asset_id for a in groups[0].assets] == ["a1", "a2"]  # input untouched


ASSET = Asset(
    "a1",
    "products/shoes/AB-1_front",
    metadata={"color": "c1", "alt": "Red runner"},
    context={"alt": "ctx alt", "x": "eXtra"},
)
PRODUCT = Product("p1", handle="runner", title="Runner Shoe")
LABELS = {"color": {"c1": "Red"}}


def alt(rule, **kwargs):
    kwargs.setdefault("product", PRODUCT)
    kwargs.setdefault("group_value", "AB-1")
    kwargs.setdefault("enum_labels", LABELS)
    return alt_text_for(ASSET, rule, **kwargs)


def test_keep_shopify_alt_leaves_it():
    assert alt(AltTextRule()) is None


def test_alt_from_metadata_context_and_ai_caption():
    assert alt(AltTextRule(AltSource.METADATA, "color")) == "Red"
    assert alt(AltTextRule(AltSource.CONTEXT, "alt")) == "ctx alt"
    assert alt(AltTextRule(AltSource.AI_CAPTION), caption=" A red shoe ") == "A red shoe"
    assert alt(AltTextRule(AltSource.AI_CAPTION)) is None
    assert alt(AltTextRule(AltSource.METADATA, "missing")) is None


def test_alt_template_fills_placeholders():
    rule = AltTextRule(AltSource.TEMPLATE, "{product.title} – {metadata.color}")
    assert alt(rule) == "Runner Shoe – Red"
    rule = AltTextRule(
        AltSource.TEMPLATE, "{{{group}}} {public_id} {filename} {context.x} {product.handle}"
    )
    assert alt(rule) == "{AB-1} products/shoes/AB-1_front AB-1_front eXtra runner"


def test_template_with_a_missing_value_renders_it_empty():
    rule = AltTextRule(AltSource.TEMPLATE, "{product.title} {metadata.nope}")
    assert alt(rule) == "Runner Shoe"


@pytest.mark.parametrize(
    ("template", "hint"),
    [
        ("{product.price}", "Unknown placeholder {product.price}"),
        ("{metadata.}", "Unknown placeholder"),
        ("{title", "unmatched brace"),
        ("", "empty"),
    ],
)
def test_bad_templates_are_rejected_at_validation_time(template, hint):
    with pytest.raises(AltTextError, match=hint.replace("{", r"\{").replace("}", r"\}")):
        validate_alt_rule(AltTextRule(AltSource.TEMPLATE, template))


def test_metadata_alt_source_needs_a_field():
    with pytest.raises(AltTextError, match="needs a field name"):
        validate_alt_rule(AltTextRule(AltSource.METADATA))


def test_per_asset_override_wins():
    rule = AltTextRule(AltSource.METADATA, "color")
    assert alt(rule, override=" Mine ") == "Mine"
    assert alt(AltTextRule(), override="Mine") == "Mine"


def test_alt_text_is_cut_to_512_characters():
    long = "é" * 600
    assert len(alt(AltTextRule(AltSource.AI_CAPTION), caption=long)) == MAX_ALT_LENGTH
    assert len(alt(AltTextRule(), override=long)) == MAX_ALT_LENGTH
    with pytest.raises(AltTextError, match="at most 512"):
        validate_alt_override(long)
    assert validate_alt_override(" ok ") == "ok"


def test_swatch_by_metadata_or_tag():
    rule = SwatchRule()
    assert is_swatch(Asset("a", "p", metadata={"asset_type": "Swatch"}), rule)
    assert is_swatch(Asset("a", "p", tags=("swatch",)), rule)
    assert not is_swatch(Asset("a", "p", metadata={"asset_type": "image"}, tags=("ss26",)), rule)
    labels = {"asset_type": {"t1": "swatch"}}
    assert is_swatch(Asset("a", "p", metadata={"asset_type": ["t9", "t1"]}), rule, labels)


def test_swatch_rule_is_configurable():
    only_tag = SwatchRule(metadata_field=None, tag="chip")
    assert is_swatch(Asset("a", "p", tags=("chip",)), only_tag)
    assert not is_swatch(Asset("a", "p", metadata={"asset_type": "swatch"}), only_tag)
    only_meta = SwatchRule("kind", "colour-chip", tag=None)
    assert is_swatch(Asset("a", "p", metadata={"kind": "colour-chip"}), only_meta)
    assert not is_swatch(Asset("a", "p", tags=("swatch",)), only_meta)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("c_limit,w_2048,h_2048,q_auto", "q_auto, h_2048,w_2048,c_limit"),
        ("c_fill,w_100/e_sepia", "w_100,c_fill/e_sepia/"),
        ("a,,b", "b,a"),
        (None, ""),
        ("/", ""),
    ],
)
def test_equivalent_transformations_are_the_same(a, b):
    assert same_transformation(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("c_fill/e_sepia", "e_sepia/c_fill"),
        ("c_Limit", "c_limit"),
        ("w_100", "w_100.0"),
        ("", "q_auto"),
    ],
)
def test_different_transformations_differ(a, b):
    assert not same_transformation(a, b)


def test_normalised_transformation_is_stable():
    once = normalise_transformation("w_1, c_x / e_y")
    assert once == "c_x,w_1/e_y" == normalise_transformation(once)
