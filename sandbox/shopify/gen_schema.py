"""Regenerate `schema.graphql` (the subset the emulator serves) from the real Admin schema.

    python -m sandbox.shopify.gen_schema [path/to/admin.graphql]

Without a path, Shopify's published schema of SHOPIFY_API_VERSION (default 2026-10) from the
pinned @shopify/dev-mcp npm package (stores.shopify.versions) is used.

SUBSET lists, per type, the fields kept (None = all fields / values). Enums and scalars
referenced by kept fields are added whole. Descriptions are dropped; deprecations are kept.
The output is committed; tests check it against the real schema again.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

from graphql import parse, print_ast
from graphql.language import (
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ListTypeNode,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    UnionTypeDefinitionNode,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

_CONN = ["edges", "nodes", "pageInfo"]
_EDGE = ["cursor", "node"]
_FILE = ["id", "alt", "createdAt", "updatedAt", "fileStatus", "fileErrors", "preview"]
_MEDIA = ["id", "alt", "mediaContentType", "status", "mediaErrors", "preview"]

SUBSET: dict[str, list[str] | None] = {
    "QueryRoot": [
        "products",
        "product",
        "productByIdentifier",
        "productVariants",
        "productVariant",
        "nodes",
        "node",
        "files",
        "shop",
        "job",
        "bulkOperation",
        "currentBulkOperation",
    ],
    "Mutation": [
        "productUpdate",
        "productCreateMedia",
        "productReorderMedia",
        "fileCreate",
        "fileUpdate",
        "fileDelete",
        "stagedUploadsCreate",
        "metafieldsSet",
        "metafieldsDelete",
        "productVariantAppendMedia",
        "productVariantDetachMedia",
        "bulkOperationRunQuery",
    ],
    "Node": ["id"],
    "Product": [
        "id",
        "title",
        "handle",
        "status",
        "tags",
        "vendor",
        "productType",
        "createdAt",
        "updatedAt",
        "totalVariants",
        "variants",
        "variantsCount",
        "media",
        "mediaCount",
        "featuredMedia",
        "metafield",
        "metafields",
        "legacyResourceId",
    ],
    "ProductVariant": [
        "id",
        "title",
        "sku",
        "barcode",
        "price",
        "position",
        "displayName",
        "product",
        "media",
        "image",
        "metafield",
        "metafields",
        "createdAt",
        "updatedAt",
        "legacyResourceId",
    ],
    "Media": _MEDIA,
    "File": _FILE,
    "MediaImage": sorted(set(_MEDIA + _FILE + ["image", "mimeType", "originalSource"])),
    "Video": sorted(set(_MEDIA + _FILE + ["filename", "sources", "originalSource", "duration"])),
    "GenericFile": _FILE + ["url", "mimeType", "originalFileSize"],
    "Image": ["id", "url", "width", "height", "altText", "src", "originalSrc"],
    "ImageTransformInput": None,
    "MediaPreviewImage": None,
    "MediaImageOriginalSource": None,
    "VideoSource": None,
    "MediaError": None,
    "FileError": None,
    "Metafield": [
        "id",
        "namespace",
        "key",
        "value",
        "type",
        "compareDigest",
        "ownerType",
        "jsonValue",
        "createdAt",
        "updatedAt",
        "legacyResourceId",
    ],
    "Shop": ["id", "name", "myshopifyDomain", "email", "currencyCode", "plan", "url"],
    "ShopPlan": None,
    "Job": ["id", "done"],
    "BulkOperation": None,
    "Count": None,
    "PageInfo": None,
    "ProductConnection": _CONN,
    "ProductEdge": _EDGE,
    "ProductVariantConnection": _CONN,
    "ProductVariantEdge": _EDGE,
    "MediaConnection": _CONN,
    "MediaEdge": _EDGE,
    "FileConnection": _CONN,
    "FileEdge": _EDGE,
    "MetafieldConnection": _CONN,
    "MetafieldEdge": _EDGE,
    "ProductIdentifierInput": ["id", "handle", "customId"],
    "UniqueMetafieldValueInput": None,
    "ProductInput": ["id", "title", "handle", "tags", "status"],
    "ProductUpdateInput": ["id", "title", "handle", "tags", "vendor", "productType", "status"],
    "CreateMediaInput": None,
    "MoveInput": None,
    "FileCreateInput": None,
    "FileUpdateInput": None,
    "StagedUploadInput": None,
    "MetafieldsSetInput": None,
    "MetafieldIdentifierInput": None,
    "ProductVariantAppendMediaInput": None,
    "ProductVariantDetachMediaInput": None,
    "ProductUpdatePayload": None,
    "ProductCreateMediaPayload": None,
    "ProductReorderMediaPayload": None,
    "FileCreatePayload": None,
    "FileUpdatePayload": None,
    "FileDeletePayload": None,
    "StagedUploadsCreatePayload": None,
    "StagedMediaUploadTarget": None,
    "StagedUploadParameter": None,
    "MetafieldsSetPayload": None,
    "MetafieldsSetUserError": None,
    "MetafieldsDeletePayload": None,
    "MetafieldIdentifier": None,
    "ProductVariantAppendMediaPayload": None,
    "ProductVariantDetachMediaPayload": None,
    "BulkOperationRunQueryPayload": None,
    "BulkOperationUserError": None,
    "FilesUserError": None,
    "MediaUserError": None,
    "UserError": None,
}

_OUTPUT = (ObjectTypeDefinitionNode, InterfaceTypeDefinitionNode, InputObjectTypeDefinitionNode)


def _named(type_node):
    while isinstance(type_node, ListTypeNode | NonNullTypeNode):
        type_node = type_node.type
    return type_node.name.value


def generate(big_sdl: str) -> str:
    doc = parse(big_sdl, no_location=True)
    defs = {d.name.value: d for d in doc.definitions if hasattr(d, "name") and d.name}
    keep = dict(SUBSET)
    out = []
    missing = set()
    queue = list(keep)
    seen = set()
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        node = defs[name]
        wanted = keep.get(name)
        changes: dict = {"description": None}
        if isinstance(node, _OUTPUT):
            fields = [f for f in node.fields if wanted is None or f.name.value in wanted]
            if wanted is not None and len(fields) != len(wanted):
                known = {f.name.value for f in fields}
                raise SystemExit(f"{name}: unknown fields {set(wanted) - known}")
            new_fields = []
            for f in fields:
                args = getattr(f, "arguments", None)
                if args:
                    args = tuple(replace(a, description=None) for a in args)
                    missing.update(_named(a.type) for a in args)
                    f = replace(f, description=None, arguments=args)
                else:
                    f = replace(f, description=None)
                missing.add(_named(f.type))
                new_fields.append(f)
            changes["fields"] = tuple(new_fields)
            if getattr(node, "interfaces", None):
                changes["interfaces"] = tuple(i for i in node.interfaces if i.name.value in keep)
        elif isinstance(node, EnumTypeDefinitionNode):
            changes["values"] = tuple(replace(v, description=None) for v in node.values)
        elif isinstance(node, UnionTypeDefinitionNode):
            raise SystemExit(f"union {name} not supported by the generator")
        node = replace(node, **changes)
        out.append(node)
        for ref in sorted(missing):
            if ref in ("String", "Int", "Float", "Boolean", "ID"):
                continue
            if ref not in keep:
                if isinstance(defs[ref], ScalarTypeDefinitionNode | EnumTypeDefinitionNode):
                    keep[ref] = None
                    queue.append(ref)
                else:
                    raise SystemExit(f"{name} references {ref}: add it to SUBSET or drop the field")
        missing.clear()
    header = (
        "# The subset of the Shopify Admin GraphQL API 2026-10 that the sandbox emulator serves.\n"
        "# Generated by `python -m sandbox.shopify.gen_schema`; checked against the real schema\n"
        "# by tests/sandbox/shopify/test_schema_subset.py. Edit SUBSET in gen_schema.py, not this.\n\n"
        "schema {\n  query: QueryRoot\n  mutation: Mutation\n}\n\n"
    )
    out.sort(key=lambda n: (n.kind, n.name.value))
    return header + "\n\n".join(print_ast(n) for n in out) + "\n"


def main() -> None:
    if len(sys.argv) > 1:
        big_sdl = Path(sys.argv[1]).read_text()
    else:
        from graphql import print_schema

        from stores.shopify.versions import admin_schema

        big_sdl = print_schema(admin_schema(os.environ.get("SHOPIFY_API_VERSION", "2026-10")))
    (HERE / "schema.graphql").write_text(generate(big_sdl))
    print(f"wrote {HERE / 'schema.graphql'}")


if __name__ == "__main__":
    main()
