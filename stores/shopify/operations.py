"""Every GraphQL document AssetLink sends to the Shopify Admin API, as named operations.

Nothing else in the app writes GraphQL. tests/stores/shopify/test_operations_schema.py
validates each document against Shopify's published Admin schemas (stores.shopify.versions) and
rejects deprecated fields/arguments, except those in DEPRECATED_ALLOWED (with the reason).

Connections are bounded so that no query's requested cost can pass Shopify's 1000-point
single-query maximum with the page sizes the callers use (see each operation's note).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from graphql import OperationDefinitionNode, OperationType, parse


@dataclass(frozen=True)
class Operation:
    """One named GraphQL operation.

    `idempotent`: sending it twice has the same effect as once. The client retries
    non-idempotent mutations only when Shopify surely did not execute them.
    `payloads`: the mutation root fields whose userErrors/mediaUserErrors the client types.
    """

    name: str
    document: str
    idempotent: bool = True
    kind: str = field(init=False)
    payloads: tuple[str, ...] = field(init=False)

    def __post_init__(self):
        doc = parse(self.document)
        ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
        if len(ops) != 1 or ops[0].name is None or ops[0].name.value != self.name:
            raise ValueError(f"operation {self.name!r}: document must define exactly it")
        op = ops[0]
        object.__setattr__(
            self, "kind", "mutation" if op.operation == OperationType.MUTATION else "query"
        )
        roots = tuple(
            (s.alias or s.name).value for s in op.selection_set.selections if hasattr(s, "name")
        )
        object.__setattr__(self, "payloads", roots if self.kind == "mutation" else ())

    @property
    def is_mutation(self) -> bool:
        return self.kind == "mutation"


REGISTRY: dict[str, Operation] = {}


def _op(name: str, document: str, *, idempotent: bool = True) -> Operation:
    op = Operation(name, re.sub(r"\n\s*", "\n", document.strip()), idempotent=idempotent)
    if name in REGISTRY:
        raise ValueError(f"duplicate operation name {name}")
    REGISTRY[name] = op
    return op


# Deprecated schema elements an operation may use, with the reason. Keyed "Type.field".
DEPRECATED_ALLOWED: dict[str, str] = {
    "QueryRoot.currentBulkOperation": (
        "Finds the export a crashed worker started when its id was lost, so a resumed run "
        "does not start a second one (docs/runs.md: resuming creates nothing twice). The "
        "replacement bulkOperations(query:) is not served by the sandbox emulator yet; "
        "switch when it is."
    ),
}

# --- fragments (inlined into documents; graphql-core validates them per document) ----------

_MEDIA_FIELDS = """
id alt mediaContentType status
mediaErrors { code details message }
... on MediaImage { image { url width height } }
... on Video { sources { url mimeType } }
"""

_FILE_FIELDS = """
id alt fileStatus createdAt
fileErrors { code details message }
... on MediaImage { mediaContentType status image { url width height } }
... on Video { filename mediaContentType status sources { url } }
... on GenericFile { url mimeType }
"""

# --- queries ----------------------------------------------------------------------------

SHOP_INFO = _op(
    "ShopInfo",
    """
    query ShopInfo {
      shop { id name myshopifyDomain email currencyCode url
             plan { publicDisplayName shopifyPlus partnerDevelopment } }
    }
    """,
)

# cost ≈ 2 + first x (1 + variants(2+v) + media(2+m x 1) + 1 per metafield); first=25,
# variants 50, media 20 → 2 + 25 x 76 = 1902: callers pass first ≤ 10 with those sizes.
PRODUCTS_SEARCH = _op(
    "ProductsSearch",
    f"""
    query ProductsSearch($query: String!, $first: Int!, $after: String,
                         $variantsFirst: Int!, $mediaFirst: Int!,
                         $mfNamespace: String = "custom", $mfKey: String = "none") {{
      products(first: $first, after: $after, query: $query) {{
        nodes {{
          id handle title tags status
          metafield(namespace: $mfNamespace, key: $mfKey) {{ id value }}
          variants(first: $variantsFirst) {{
            nodes {{ id sku barcode title
                     metafield(namespace: $mfNamespace, key: $mfKey) {{ id value }} }}
          }}
          mediaCount {{ count }}
          media(first: $mediaFirst, sortKey: POSITION) {{ nodes {{ {_MEDIA_FIELDS} }} }}
        }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}
    """,
)

PRODUCT_VARIANTS_SEARCH = _op(
    "ProductVariantsSearch",
    """
    query ProductVariantsSearch($query: String!, $first: Int!, $after: String,
                                $mfNamespace: String = "custom", $mfKey: String = "none") {
      productVariants(first: $first, after: $after, query: $query) {
        nodes {
          id sku barcode title
          metafield(namespace: $mfNamespace, key: $mfKey) { id value }
          product { id handle title }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
    """,
)

# Galleries of several products by id; cost ≈ ids x (1 + 2 + mediaFirst x ~3):
# 250 media per product → one product per call; smaller galleries → batch ids.
PRODUCT_GALLERIES = _op(
    "ProductGalleries",
    f"""
    query ProductGalleries($ids: [ID!]!, $mediaFirst: Int!, $after: String) {{
      nodes(ids: $ids) {{
        ... on Product {{
          id handle title
          mediaCount {{ count }}
          media(first: $mediaFirst, after: $after, sortKey: POSITION) {{
            nodes {{ {_MEDIA_FIELDS} }}
            pageInfo {{ hasNextPage endCursor }}
          }}
        }}
      }}
    }}
    """,
)

MEDIA_STATUS = _op(
    "MediaStatus",
    """
    query MediaStatus($ids: [ID!]!) {
      nodes(ids: $ids) {
        id
        ... on Media { status mediaContentType mediaErrors { code details message } }
        ... on MediaImage { image { url width height } }
      }
    }
    """,
)

FILES_SEARCH = _op(
    "FilesSearch",
    f"""
    query FilesSearch($query: String!, $first: Int!, $after: String) {{
      files(first: $first, after: $after, query: $query) {{
        nodes {{ {_FILE_FIELDS} }}
        pageInfo {{ hasNextPage endCursor }}
      }}
    }}
    """,
)

JOB_STATUS = _op(
    "JobStatus",
    """
    query JobStatus($id: ID!) { job(id: $id) { id done } }
    """,
)

BULK_OPERATION_STATUS = _op(
    "BulkOperationStatus",
    """
    query BulkOperationStatus($id: ID!) {
      bulkOperation(id: $id) {
        id status errorCode objectCount rootObjectCount fileSize url partialDataUrl
        createdAt completedAt
      }
    }
    """,
)

CURRENT_BULK_OPERATION = _op(
    "CurrentBulkOperation",
    """
    query CurrentBulkOperation {
      currentBulkOperation(type: QUERY) {
        id status errorCode objectCount url partialDataUrl createdAt completedAt
      }
    }
    """,
)

# --- mutations --------------------------------------------------------------------------

# Adds media at the end of the gallery (not idempotent: a retry would add them twice).
PRODUCT_ADD_MEDIA = _op(
    "ProductAddMedia",
    f"""
    mutation ProductAddMedia($product: ProductUpdateInput!, $media: [CreateMediaInput!]!,
                             $last: Int!) {{
      productUpdate(product: $product, media: $media) {{
        product {{ id media(last: $last, sortKey: POSITION) {{ nodes {{ {_MEDIA_FIELDS} }} }} }}
        userErrors {{ field message }}
      }}
    }}
    """,
    idempotent=False,
)

PRODUCT_REORDER_MEDIA = _op(
    "ProductReorderMedia",
    """
    mutation ProductReorderMedia($id: ID!, $moves: [MoveInput!]!) {
      productReorderMedia(id: $id, moves: $moves) {
        job { id done }
        mediaUserErrors { code field message }
      }
    }
    """,
)

# A created file has no URL, dimensions or errors yet (it is UPLOADED): its id is what a
# caller keeps. Asking Shopify for no more than that keeps a 250-file answer small (it is
# built and parsed field by field on both sides: 56 kB and ~40 ms with every file field,
# 26 kB and ~24 ms with these, measured on the sandbox emulator).
FILE_CREATE = _op(
    "FileCreate",
    """
    mutation FileCreate($files: [FileCreateInput!]!) {
      fileCreate(files: $files) {
        files { id alt fileStatus }
        userErrors { code field message }
      }
    }
    """,
    idempotent=False,
)

# Every fileUpdate: uploads' replacements and alt texts (the answer gives each file's URL, which
# the upload's record keeps) and link runs' unlinks (referencesToRemove), re-links
# (referencesToAdd) and alt updates, batched (≤ 250). One document: the URLs cost no points.
FILE_UPDATE = _op(
    "FileUpdate",
    """
    mutation FileUpdate($files: [FileUpdateInput!]!) {
      fileUpdate(files: $files) {
        files {
          id alt fileStatus
          ... on MediaImage { image { url } }
          ... on Video { sources { url } }
          ... on GenericFile { url }
        }
        userErrors { code field message }
      }
    }
    """,
)

FILE_DELETE = _op(
    "FileDelete",
    """
    mutation FileDelete($fileIds: [ID!]!) {
      fileDelete(fileIds: $fileIds) {
        deletedFileIds
        userErrors { code field message }
      }
    }
    """,
)

STAGED_UPLOADS_CREATE = _op(
    "StagedUploadsCreate",
    """
    mutation StagedUploadsCreate($input: [StagedUploadInput!]!) {
      stagedUploadsCreate(input: $input) {
        stagedTargets { url resourceUrl parameters { name value } }
        userErrors { field message }
      }
    }
    """,
)

METAFIELDS_SET = _op(
    "MetafieldsSet",
    """
    mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
      metafieldsSet(metafields: $metafields) {
        metafields { id namespace key type value compareDigest }
        userErrors { code field message elementIndex }
      }
    }
    """,
)

# Undo and rollback: a swatch metafield the run wrote on an owner that had none (≤ 25 a call).
METAFIELDS_DELETE = _op(
    "MetafieldsDelete",
    """
    mutation MetafieldsDelete($metafields: [MetafieldIdentifierInput!]!) {
      metafieldsDelete(metafields: $metafields) {
        deletedMetafields { ownerId namespace key }
        userErrors { field message }
      }
    }
    """,
)

PRODUCT_VARIANT_APPEND_MEDIA = _op(
    "ProductVariantAppendMedia",
    """
    mutation ProductVariantAppendMedia($productId: ID!,
                                       $variantMedia: [ProductVariantAppendMediaInput!]!) {
      productVariantAppendMedia(productId: $productId, variantMedia: $variantMedia) {
        productVariants { id media(first: 1) { nodes { id } } }
        userErrors { code field message }
      }
    }
    """,
)

PRODUCT_VARIANT_DETACH_MEDIA = _op(
    "ProductVariantDetachMedia",
    """
    mutation ProductVariantDetachMedia($productId: ID!,
                                       $variantMedia: [ProductVariantDetachMediaInput!]!) {
      productVariantDetachMedia(productId: $productId, variantMedia: $variantMedia) {
        productVariants { id }
        userErrors { code field message }
      }
    }
    """,
)

BULK_OPERATION_RUN_QUERY = _op(
    "BulkOperationRunQuery",
    """
    mutation BulkOperationRunQuery($query: String!) {
      bulkOperationRunQuery(query: $query, groupObjects: false) {
        bulkOperation { id status createdAt }
        userErrors { code field message }
      }
    }
    """,
    idempotent=False,
)


def get(name: str) -> Operation:
    return REGISTRY[name]


# --- plans and dry runs (linking: catalog access and galleries before) ----------------------
# Appended by the linking engine (issue #7). Bulk queries take no variables, so the catalog and
# gallery exports are registered with a representative filter and built per call by
# `bulk_products_query`, which only swaps the `products(query: …)` filter text.

# Galleries before of several products: thumbnails only for images (one object each) and the
# product's swatch metafield. Requested cost per product = 5 + 2 x mediaFirst; callers size
# `ids` from `expected_cost` to stay under the 1000-point maximum and page only products whose
# mediaCount is above mediaFirst (PlanGalleryPage).
PLAN_GALLERIES = _op(
    "PlanGalleries",
    """
    query PlanGalleries($ids: [ID!]!, $mediaFirst: Int!, $swatchNamespace: String!,
                        $swatchKey: String!) {
      nodes(ids: $ids) {
        ... on Product {
          id
          mediaCount { count }
          metafield(namespace: $swatchNamespace, key: $swatchKey) { value }
          media(first: $mediaFirst, sortKey: POSITION) {
            nodes { id alt mediaContentType status ... on MediaImage { image { url } } }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
    }
    """,
)

# The matched variants of a variant-field match: their image (first media) and swatch metafield.
PLAN_VARIANTS = _op(
    "PlanVariants",
    """
    query PlanVariants($ids: [ID!]!, $swatchNamespace: String!, $swatchKey: String!) {
      nodes(ids: $ids) {
        ... on ProductVariant {
          id
          product { id }
          media(first: 1) { nodes { id } }
          metafield(namespace: $swatchNamespace, key: $swatchKey) { value }
        }
      }
    }
    """,
)

# The rest of one product's gallery when it has more media than PlanGalleries read.
PLAN_GALLERY_PAGE = _op(
    "PlanGalleryPage",
    """
    query PlanGalleryPage($id: ID!, $first: Int!, $after: String) {
      product(id: $id) {
        id
        media(first: $first, after: $after, sortKey: POSITION) {
          nodes { id alt mediaContentType status ... on MediaImage { image { url } } }
          pageInfo { hasNextPage endCursor }
        }
      }
    }
    """,
)

# Bulk export of the catalog index: what matching needs for every field kind.
CATALOG_EXPORT = _op(
    "CatalogExport",
    """
    query CatalogExport {
      products(query: "updated_at:>'2000-01-01T00:00:00Z'") {
        edges { node {
          id handle title tags updatedAt
          metafields { edges { node { namespace key value } } }
          variants { edges { node {
            id sku barcode
            metafields { edges { node { namespace key value } } }
          } } }
        } }
      }
    }
    """,
)

# Bulk export of galleries before (large plans: a bulk query costs ~10 points whatever its size).
GALLERY_EXPORT = _op(
    "GalleryExport",
    """
    query GalleryExport {
      products(query: "id:1") {
        edges { node {
          id
          metafield(namespace: "cloudinary", key: "swatch") { value }
          media { edges { node {
            id alt mediaContentType status ... on MediaImage { image { url } }
          } } }
          variants { edges { node {
            id
            metafield(namespace: "cloudinary", key: "swatch") { value }
            media { edges { node { id } } }
          } } }
        } }
      }
    }
    """,
)


def bulk_products_query(operation: Operation, search: str, *, swatch_metafield=None) -> str:
    """`operation`'s document (CatalogExport or GalleryExport) with its `products(query:)`
    filter replaced by `search` (and the swatch metafield `(namespace, key)`, for
    GalleryExport). Four connections, nesting depth 2: inside Shopify's bulk limits."""
    document = re.sub(
        r'products\(query: "(?:[^"\\]|\\.)*"\)',
        lambda _: "products(query: " + _graphql_string(search) + ")",
        operation.document,
        count=1,
    )
    if swatch_metafield is not None:
        namespace, key = swatch_metafield
        document = document.replace(
            'metafield(namespace: "cloudinary", key: "swatch")',
            f"metafield(namespace: {_graphql_string(namespace)}, key: {_graphql_string(key)})",
        )
    return document


def _graphql_string(value: str) -> str:
    return json.dumps(value)


# --- link runs (issue #8): lean documents for executing plans ------------------------------
# Only what the executor needs, so that re-reading galleries, creating media and polling their
# status cost as few points as possible (actual cost ≈ what is returned).

# Galleries of the products of one wave and the image + swatch metafield of their matched
# variants. Requested ≈ ids x (4 + mediaFirst) + variantIds x 5; callers size the batch.
RUN_GALLERIES = _op(
    "RunGalleries",
    """
    query RunGalleries($ids: [ID!]!, $variantIds: [ID!]!, $mediaFirst: Int!,
                       $swatchNamespace: String!, $swatchKey: String!) {
      products: nodes(ids: $ids) {
        ... on Product {
          id
          metafield(namespace: $swatchNamespace, key: $swatchKey) { value }
          media(first: $mediaFirst, sortKey: POSITION) {
            nodes { id alt mediaContentType status }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
      variants: nodes(ids: $variantIds) {
        ... on ProductVariant {
          id
          media(first: 1) { nodes { id } }
          metafield(namespace: $swatchNamespace, key: $swatchKey) { value }
        }
      }
    }
    """,
)

# All of one product's new media in one call; they land at the end, in order, so the last
# `$last` media are the new ones (not idempotent: the run journals it and reconciles on resume).
RUN_ADD_MEDIA = _op(
    "RunAddMedia",
    """
    mutation RunAddMedia($product: ProductUpdateInput!, $media: [CreateMediaInput!]!,
                         $last: Int!) {
      productUpdate(product: $product, media: $media) {
        product { id media(last: $last, sortKey: POSITION) { nodes { id status } } }
        userErrors { field message }
      }
    }
    """,
    idempotent=False,
)

# Processing status of media of many products at once: one point per media (the errors of the
# few that FAILED are read afterwards with MediaStatus).
RUN_MEDIA_STATUS = _op(
    "RunMediaStatus",
    """
    query RunMediaStatus($ids: [ID!]!) {
      nodes(ids: $ids) { id ... on Media { status } }
    }
    """,
)

# --- uploads to store Files (issue #9) ------------------------------------------------------

# Status and alt text of up to 250 store files: the READY poll. One point per file where
# UPLOAD_FILES_STATUS asks three: a run polls every file it waits for, and Shopify grants a
# query only when its bucket holds the requested cost, so the poll's requested cost sets the
# pace. Errors and URLs are read (UPLOAD_FILES_STATUS) only for the files that need them.
UPLOAD_FILES_READY = _op(
    "UploadFilesReady",
    """
    query UploadFilesReady($ids: [ID!]!) {
      nodes(ids: $ids) { id ... on File { alt fileStatus } }
    }
    """,
)

# Status, processing errors and URL of up to 250 store files (reuse checks, failed files).
UPLOAD_FILES_STATUS = _op(
    "UploadFilesStatus",
    """
    query UploadFilesStatus($ids: [ID!]!) {
      nodes(ids: $ids) {
        id
        ... on File { alt fileStatus fileErrors { code message } }
        ... on MediaImage { image { url } }
        ... on Video { sources { url } }
        ... on GenericFile { url }
      }
    }
    """,
)
