"""Every GraphQL document the app sends is valid against Shopify's own published Admin schema of
the configured version and of the other still-supported versions (versions.schema_matrix:
2026-04, 2026-07, 2026-10 for 2026-10), read from the pinned @shopify/dev-mcp npm package in
node_modules, and uses no deprecated field or argument (except DEPRECATED_ALLOWED, each with its
reason)."""

from __future__ import annotations

import pytest
from django.conf import settings
from graphql import TypeInfo, TypeInfoVisitor, Visitor, parse, validate, visit

from stores.shopify import operations, versions

MATRIX = versions.schema_matrix(settings.SHOPIFY_API_VERSION)


@pytest.fixture(scope="session")
def admin_schema():
    """The configured version's schema; a missing npm package fails (never skips)."""
    return versions.admin_schema(settings.SHOPIFY_API_VERSION)


def _deprecated_uses(schema, document) -> list[str]:
    info = TypeInfo(schema)
    found: list[str] = []

    class Finder(Visitor):
        def enter_field(self, node, *_):
            parent = info.get_parent_type()
            fdef = info.get_field_def()
            if fdef is not None and fdef.deprecation_reason is not None:
                found.append(f"{parent.name}.{node.name.value}")

        def enter_argument(self, node, *_):
            arg = info.get_argument()
            fdef = info.get_field_def()
            if arg is not None and arg.deprecation_reason is not None and fdef is not None:
                found.append(f"{info.get_parent_type().name}.{node.name.value}(arg)")

        def enter_enum_value(self, node, *_):
            enum = info.get_input_type()
            named = getattr(enum, "of_type", enum)
            values = getattr(named, "values", {}) or {}
            value = values.get(node.value)
            if value is not None and value.deprecation_reason is not None:
                found.append(f"{named.name}.{node.value}")

    visit(document, TypeInfoVisitor(info, Finder()))
    return found


OPERATIONS = sorted(operations.REGISTRY.values(), key=lambda op: op.name)


def test_the_registry_holds_every_operation_the_app_needs():
    needed = {
        "ShopInfo", "ProductsSearch", "ProductVariantsSearch", "ProductGalleries",
        "MediaStatus", "FilesSearch", "JobStatus", "BulkOperationStatus",
        "CurrentBulkOperation", "ProductAddMedia", "ProductReorderMedia", "FileCreate",
        "FileUpdate", "FileDelete", "StagedUploadsCreate", "MetafieldsSet",
        "ProductVariantAppendMedia", "ProductVariantDetachMedia", "BulkOperationRunQuery",
    }  # fmt: skip
    assert needed <= set(operations.REGISTRY)


def test_the_default_version_is_2026_10_and_the_matrix_covers_the_supported_ones():
    assert settings.SHOPIFY_API_VERSION == "2026-10"
    assert MATRIX == ["2026-04", "2026-07", "2026-10"]


@pytest.mark.parametrize("version", MATRIX)
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_operation_is_valid_against_the_admin_schema(op, version):
    errors = validate(versions.admin_schema(version), parse(op.document))
    assert [e.message for e in errors] == []


@pytest.mark.parametrize("version", MATRIX)
def test_a_document_with_a_removed_field_fails_validation(version):
    """A scratch copy of a real document naming a field Shopify does not have fails: the matrix
    above would catch a version bump that removes a field a document uses."""
    doc = operations.REGISTRY["ShopInfo"].document
    scratch = doc.replace("myshopifyDomain", "myshopifyDomainRemoved", 1)
    assert scratch != doc
    errors = validate(versions.admin_schema(version), parse(scratch))
    assert any("myshopifyDomainRemoved" in e.message for e in errors)


def test_end_of_support_is_twelve_months_after_release():
    import datetime as dt

    assert versions.end_of_support("2026-01") == dt.date(2027, 1, 1)
    assert versions.end_of_support("2026-10") == dt.date(2027, 10, 1)
    with pytest.raises(ValueError):
        versions.release_date("2026-02")


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_operation_uses_no_deprecated_field(admin_schema, op):
    used = _deprecated_uses(admin_schema, parse(op.document))
    unexplained = [u for u in used if u not in operations.DEPRECATED_ALLOWED]
    assert unexplained == []


def test_every_allowed_deprecation_is_still_deprecated_and_used(admin_schema):
    used = set()
    for op in OPERATIONS:
        used.update(_deprecated_uses(admin_schema, parse(op.document)))
    for key, reason in operations.DEPRECATED_ALLOWED.items():
        assert reason.strip(), key
        assert key in used, (
            f"{key} is allowed but no operation uses it (or it is no longer deprecated)"
        )


def test_the_deprecation_check_catches_a_deprecated_field(admin_schema):
    doc = parse("query X { products(first: 1) { nodes { totalVariants } } }")
    assert _deprecated_uses(admin_schema, doc) == ["Product.totalVariants"]


def test_the_deprecation_check_catches_a_deprecated_argument(admin_schema):
    doc = parse(
        "mutation Y($i: ProductInput) { productUpdate(input: $i) { userErrors { message } } }"
    )
    assert _deprecated_uses(admin_schema, doc) == ["Mutation.input(arg)"]
