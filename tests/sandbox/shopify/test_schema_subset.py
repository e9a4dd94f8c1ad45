"""The emulator's SDL is a faithful subset of Shopify's Admin API 2026-10 schema (Shopify's published one, @shopify/dev-mcp)."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    build_schema,
)

from sandbox.shopify.graphql_api import SCHEMA_PATH, schema


def _kind(t) -> str:
    for cls in (
        GraphQLObjectType,
        GraphQLInterfaceType,
        GraphQLInputObjectType,
        GraphQLEnumType,
        GraphQLScalarType,
        GraphQLUnionType,
    ):
        if isinstance(t, cls):
            return cls.__name__
    return type(t).__name__


def test_subset_matches_real_schema(real_schema):
    ours = build_schema(SCHEMA_PATH.read_text())
    problems = []
    checked = 0
    for name, t in ours.type_map.items():
        if name.startswith("__"):
            continue
        real = real_schema.type_map.get(name)
        if real is None:
            problems.append(f"type {name} missing")
            continue
        if _kind(real) != _kind(t):
            problems.append(f"{name}: kind {_kind(t)} != {_kind(real)}")
            continue
        if isinstance(t, GraphQLEnumType):
            extra = set(t.values) - set(real.values)
            problems += [f"enum value {name}.{v} missing" for v in sorted(extra)]
            checked += len(t.values)
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            real_ifaces = {i.name for i in real.interfaces}
            problems += [
                f"{name} does not implement {i.name}"
                for i in t.interfaces
                if i.name not in real_ifaces
            ]
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for fname, f in t.fields.items():
                checked += 1
                rf = real.fields.get(fname)
                if rf is None:
                    problems.append(f"field {name}.{fname} missing")
                    continue
                if str(rf.type) != str(f.type):
                    problems.append(f"{name}.{fname}: type {f.type} != {rf.type}")
                for aname, a in getattr(f, "args", {}).items():
                    checked += 1
                    ra = rf.args.get(aname)
                    if ra is None:
                        problems.append(f"argument {name}.{fname}({aname}) missing")
                    elif str(ra.type) != str(a.type):
                        problems.append(f"{name}.{fname}({aname}): {a.type} != {ra.type}")
                    elif ra.default_value != a.default_value:
                        problems.append(f"{name}.{fname}({aname}) default differs")
                # required arguments of the real field must be declared too
                for aname, ra in getattr(rf, "args", {}).items():
                    if (
                        str(ra.type).endswith("!")
                        and ra.default_value is None
                        and aname not in getattr(f, "args", {})
                    ):
                        problems.append(f"{name}.{fname} lacks required argument {aname}")
    assert ours.query_type.name == real_schema.query_type.name
    assert ours.mutation_type.name == real_schema.mutation_type.name
    assert not problems, "\n".join(problems)
    assert checked > 300


def test_served_schema_is_the_sdl_file():
    s = schema()
    for f in (
        "products",
        "productByIdentifier",
        "productVariants",
        "nodes",
        "files",
        "shop",
        "job",
        "bulkOperation",
        "currentBulkOperation",
    ):
        assert f in s.query_type.fields
    for m in (
        "productUpdate",
        "productCreateMedia",
        "productReorderMedia",
        "fileCreate",
        "fileUpdate",
        "fileDelete",
        "stagedUploadsCreate",
        "metafieldsSet",
        "productVariantAppendMedia",
        "productVariantDetachMedia",
        "bulkOperationRunQuery",
    ):
        assert m in s.mutation_type.fields
