"""Cloudinary field references, the values they give, and grouping."""

import pytest

from common.fields import first_value
from linking.core import (
    Asset,
    FieldError,
    FieldKind,
    GroupingOptions,
    field_values,
    group_assets,
    parse_field_ref,
)

LABELS = {"color": {"c1": "Red", "c2": "Blue"}, "sizes": {"s1": "AB-1", "s2": "AB-2"}}


def values(asset, ref, **options):
    return [
        v.display for v in field_values(asset, GroupingOptions(parse_field_ref(ref), **options))
    ]


def keys(asset, ref, **options):
    return [v.key for v in field_values(asset, GroupingOptions(parse_field_ref(ref), **options))]


@pytest.mark.parametrize(
    ("text", "kind", "name"),
    [
        ("metadata:sku", FieldKind.METADATA, "sku"),
        ("context:product_id", FieldKind.CONTEXT, "product_id"),
        ("tag:sku:", FieldKind.TAG, "sku:"),
        ("public_id:^products/([^/]+)/", FieldKind.PUBLIC_ID, "^products/([^/]+)/"),
        ("filename:^([A-Z0-9-]+)_", FieldKind.FILENAME, "^([A-Z0-9-]+)_"),
        ("METADATA: sku ", FieldKind.METADATA, "sku"),
    ],
)
def test_field_references_parse(text, kind, name):
    ref = parse_field_ref(text)
    assert (ref.kind, ref.name) == (kind, name)


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("sku", "kind:name"),
        ("meta:sku", "use one of metadata, context, tag, public_id, filename"),
        ("metadata:", "needs a name"),
        ("context:  ", "needs a name"),
        ("tag:", "needs a prefix"),
        ("public_id:^products/[^/]+", "no capture group"),
        ("filename:([A-Z", "not valid"),
    ],
)
def test_bad_field_references_say_how_to_fix_them(text, hint):
    with pytest.raises(FieldError, match=hint.replace("(", r"\(")):
        parse_field_ref(text)


def test_field_error_is_a_value_error():
    assert issubclass(FieldError, ValueError)


def test_string_metadata_value_is_trimmed():
    asset = Asset("a1", "p/a1", metadata={"sku": "  AB-1 \n"})
    assert values(asset, "metadata:sku") == ["AB-1"]


def test_number_metadata_value_is_text():
    assert values(Asset("a1", "p/a1", metadata={"pid": 1234}), "metadata:pid") == ["1234"]
    assert values(Asset("a1", "p/a1", metadata={"pid": 12.0}), "metadata:pid") == ["12"]


def test_enum_metadata_maps_datasource_id_to_label():
    asset = Asset("a1", "p/a1", metadata={"color": "c2"})
    assert values(asset, "metadata:color", enum_labels=LABELS) == ["Blue"]


def test_enum_id_without_label_stays_as_it_is():
    asset = Asset("a1", "p/a1", metadata={"color": "c9"})
    assert values(asset, "metadata:color", enum_labels=LABELS) == ["c9"]


def test_set_metadata_gives_several_values():
    asset = Asset("a1", "p/a1", metadata={"sizes": ["s1", "s2"]})
    assert values(asset, "metadata:sizes", enum_labels=LABELS) == ["AB-1", "AB-2"]


def test_missing_metadata_gives_no_value():
    assert values(Asset("a1", "p/a1", metadata={"other": "x"}), "metadata:sku") == []
    assert values(Asset("a1", "p/a1", metadata={"sku": None}), "metadata:sku") == []
    assert values(Asset("a1", "p/a1", metadata={"sku": "   "}), "metadata:sku") == []


def test_context_value():
    assert values(Asset("a1", "p/a1", context={"pid": " 77 "}), "context:pid") == ["77"]


def test_tag_prefix_is_removed():
    asset = Asset("a1", "p/a1", tags=("sku:AB-1", "ss26", "sku:AB-2", "xsku:AB-3"))
    assert values(asset, "tag:sku:") == ["AB-1", "AB-2"]


def test_tag_prefix_follows_the_case_rule():
    asset = Asset("a1", "p/a1", tags=("SKU:AB-1",))
    assert values(asset, "tag:sku:") == ["AB-1"]
    assert values(asset, "tag:sku:", case_sensitive=True) == []


def test_public_id_regex_gives_the_first_capture_group():
    asset = Asset("a1", "products/shoes/AB-1_front")
    assert values(asset, r"public_id:/([A-Z]+-\d+)_") == ["AB-1"]
    assert values(asset, r"public_id:^nothing/(.*)") == []


def test_optional_capture_group_that_did_not_match_gives_no_value():
    assert values(Asset("a1", "products/x"), r"public_id:^products/x(-\d+)?$") == []


def test_filename_regex_uses_the_last_segment_or_the_filename_field():
    asset = Asset("a1", "products/shoes/AB-1_front")
    assert values(asset, r"filename:^([^_]+)_") == ["AB-1"]
    asset = Asset("a1", "products/shoes/x7", filename="CD-2_back")
    assert values(asset, r"filename:^([^_]+)_") == ["CD-2"]


def test_separator_splits_one_value_into_several():
    asset = Asset("a1", "p/a1", metadata={"sku": "AB-1, AB-2 ,,AB-3"})
    assert values(asset, "metadata:sku", separator=",") == ["AB-1", "AB-2", "AB-3"]
    assert values(asset, "metadata:sku") == ["AB-1, AB-2 ,,AB-3"]


def test_case_rule_insensitive_by_default_keeps_the_display_value():
    asset = Asset("a1", "p/a1", metadata={"sku": "Ab-1,AB-1"})
    options = {"separator": ","}
    assert keys(asset, "metadata:sku", **options) == ["ab-1"]
    assert values(asset, "metadata:sku", **options) == ["Ab-1"]
    assert keys(asset, "metadata:sku", case_sensitive=True, **options) == ["Ab-1", "AB-1"]


def test_first_value_for_ordering_and_alt():
    asset = Asset("a1", "p/a1", metadata={"sizes": ["s2", "s1"]})
    assert first_value(asset, parse_field_ref("metadata:sizes"), LABELS) == "AB-2"
    assert first_value(asset, parse_field_ref("metadata:nope")) is None


def test_groups_in_order_of_first_appearance_with_ungrouped_assets():
    assets = [
        Asset("a1", "p/1", metadata={"sku": "B"}),
        Asset("a2", "p/2", metadata={}),
        Asset("a3", "p/3", metadata={"sku": "A"}),
        Asset("a4", "p/4", metadata={"sku": "b"}),
    ]
    grouping = group_assets(assets, GroupingOptions(parse_field_ref("metadata:sku")))
    assert [(g.key, g.value, [a.asset_id for a in g.assets]) for g in grouping.groups] == [
        ("b", "B", ["a1", "a4"]),
        ("a", "A", ["a3"]),
    ]
    assert [a.asset_id for a in grouping.ungrouped] == ["a2"]


def test_case_sensitive_grouping_keeps_spellings_apart():
    assets = [Asset("a1", "p/1", metadata={"sku": "B"}), Asset("a2", "p/2", metadata={"sku": "b"})]
    options = GroupingOptions(parse_field_ref("metadata:sku"), case_sensitive=True)
    assert [g.key for g in group_assets(assets, options).groups] == ["B", "b"]


def test_set_metadata_puts_an_asset_in_two_groups():
    assets = [
        Asset("a1", "p/1", metadata={"sizes": ["s1", "s2"]}),
        Asset("a2", "p/2", metadata={"sizes": ["s2"]}),
    ]
    options = GroupingOptions(parse_field_ref("metadata:sizes"), enum_labels=LABELS)
    grouping = group_assets(assets, options)
    assert [(g.value, [a.asset_id for a in g.assets]) for g in grouping.groups] == [
        ("AB-1", ["a1"]),
        ("AB-2", ["a1", "a2"]),
    ]


def test_separator_value_links_one_asset_to_two_groups():
    assets = [Asset("a1", "p/1", metadata={"sku": "AB-1,AB-2"})]
    options = GroupingOptions(parse_field_ref("metadata:sku"), separator=",")
    assert [g.value for g in group_assets(assets, options).groups] == ["AB-1", "AB-2"]


def test_an_asset_selected_twice_counts_once():
    asset = Asset("a1", "p/1", metadata={"sku": "A"})
    grouping = group_assets([asset, asset], GroupingOptions(parse_field_ref("metadata:sku")))
    assert len(grouping.groups[0].assets) == 1


def test_unknown_metadata_field_and_wrong_order_field_type_are_rejected():
    from common.fields import validate_field_exists, validate_order_field

    types = {"sku": "string", "sizes": "set", "shot": "integer"}
    validate_field_exists(parse_field_ref("metadata:sku"), types)
    validate_field_exists(parse_field_ref("context:anything"), types)
    validate_order_field(parse_field_ref("metadata:shot"), types)
    with pytest.raises(FieldError, match="no structured metadata field 'colour'"):
        validate_field_exists(parse_field_ref("metadata:colour"), types)
    with pytest.raises(FieldError, match="set"):
        validate_order_field(parse_field_ref("metadata:sizes"), types)
