"""Every GraphQL document the app sends is valid against the pinned Admin schema and uses no
deprecated field or argument (except DEPRECATED_ALLOWED, each with its reason)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from graphql import TypeInfo, TypeInfoVisitor, Visitor, build_schema, parse, validate, visit

from stores.shopify import operations


@pytest.fixture(scope="session")
def admin_schema():
    path = Path(settings.SHOPIFY_SCHEMA_PATH)
    if not path.is_file():
        pytest.skip(
            f"Shopify Admin schema not found at {path}. Put admin-2026-01.graphql there "
            "(see ../shared/shopify/README.md: soenneker/soenneker.shopify.graphqlclient, file "
            "graphql.schema, or introspect https://shopify.dev/admin-graphql-direct-proxy/2026-01) "
            "or point SHOPIFY_SCHEMA_PATH at it."
        )
    # assume_valid: the real schema breaks graphql-core's strict deprecation-inheritance rule
    return build_schema(path.read_text(), assume_valid=True)


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


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_operation_is_valid_against_the_admin_schema(admin_schema, op):
    errors = validate(admin_schema, parse(op.document))
    assert [e.message for e in errors] == []


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
