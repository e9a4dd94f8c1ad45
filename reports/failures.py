"""What a failed report row means for a merchant: Shopify's error code → a human message and
what to do about it (the page's failures table and the API's rows read this one table).

Codes are Shopify's ``MediaErrorCode`` / ``FileErrorCode`` / ``MediaUserErrorCode`` values plus
the few AssetLink gives itself (``MEDIA_TIMEOUT``, ``MISSING``, ``STAGED_UPLOAD_FAILED``,
``FILE_DELETED``, ``NOT_DELETED``, ``UNRESOLVED``).
"""

from __future__ import annotations

from stores.shopify.media import MAX_IMAGE_PIXELS

RETRY = "Retry the failed products; if it fails again, check the asset in Cloudinary."
_CHECK_ASSET = (
    "Check that the asset still exists in Cloudinary and is delivered publicly (not private or "
    "authenticated), then retry the failed products."
)
_TRANSFORM = (
    "Use a smaller image: an admin can set a batch transformation such as c_limit,w_2048 and retry."
)

HELP: dict[str, tuple[str, str]] = {
    "IMAGE_DOWNLOAD_FAILURE": ("Shopify could not download the image.", _CHECK_ASSET),
    "GENERIC_FILE_DOWNLOAD_FAILURE": ("Shopify could not download the file.", _CHECK_ASSET),
    "INVALID_SIGNED_URL": ("Shopify rejected the file's URL.", _CHECK_ASSET),
    "IMAGE_PROCESSING_FAILURE": (
        "Shopify downloaded the image but could not process it.",
        "Re-save the image in a common format (JPEG, PNG or WebP), or set a transformation "
        "with f_jpg, and retry.",
    ),
    "UNSUPPORTED_IMAGE_FILE_TYPE": (
        "Shopify does not accept this image format.",
        "Deliver it as JPEG, PNG, WebP or GIF: an admin can set f_jpg in the batch transformation.",
    ),
    "INVALID_IMAGE_FILE_SIZE": ("The image file is too large for Shopify (20 MB).", _TRANSFORM),
    "INVALID_IMAGE_RESOLUTION": (
        f"The image is over Shopify's {MAX_IMAGE_PIXELS // 1_000_000}-megapixel limit "
        "(e.g. 4472 × 4472 px).",
        _TRANSFORM,
    ),
    "INVALID_IMAGE_ASPECT_RATIO": (
        "Shopify does not accept the image's aspect ratio.",
        "Crop the image (e.g. c_pad,ar_1:1 in the transformation) and retry.",
    ),
    "GENERIC_FILE_INVALID_SIZE": ("The file is too large for Shopify.", _TRANSFORM),
    "VIDEO_INVALID_FILETYPE_ERROR": (
        "Shopify does not accept this video format.",
        "Deliver the video as MP4 or MOV and retry.",
    ),
    "VIDEO_METADATA_READ_ERROR": (
        "Shopify could not read the video.",
        "Re-encode the video (MP4, H.264) and retry.",
    ),
    "VIDEO_VALIDATION_ERROR": ("Shopify rejected the video.", "Check its size and length."),
    "FILE_STORAGE_LIMIT_EXCEEDED": (
        "The store's file storage is full.",
        "Delete unused files in Shopify (Content → Files), then retry.",
    ),
    "DUPLICATE_FILENAME_ERROR": (
        "A file of the same name already exists in Shopify.",
        "Rename or delete the existing file in Shopify's Files, then retry.",
    ),
    "MEDIA_TIMEOUT_ERROR": ("Another change to this media was under way.", RETRY),
    "MEDIA_TIMEOUT": ("Shopify did not finish processing the media in time.", RETRY),
    "MISSING": ("Shopify did not return the new media.", RETRY),
    "STAGED_UPLOAD_FAILED": ("Uploading the file to Shopify failed.", RETRY),
    "THROTTLED": ("Shopify asked AssetLink to slow down and the call ran out of time.", RETRY),
    "PRODUCT_DOES_NOT_EXIST": (
        "The product no longer exists in Shopify.",
        "Nothing to do; run a new dry run to refresh the catalog.",
    ),
    "NON_READY_STATE": ("The media was still being processed by Shopify.", RETRY),
    "FILE_LOCKED": ("The file was locked by another change in Shopify.", RETRY),
    "FILE_DELETED": (
        "The file was deleted in Shopify meanwhile.",
        "Retry the failed products to link the asset again.",
    ),
    "NOT_DELETED": (
        "Shopify kept a file AssetLink asked it to delete.",
        "Delete it in Shopify's Files if nothing uses it.",
    ),
    "UNRESOLVED": (
        "Cloudinary has no asset with this id (unknown, deleted or inaccessible).",
        "Check the selection; the asset may have been deleted.",
    ),
}

UNKNOWN = ("Shopify could not complete this change.", RETRY)


def explain(code: str, message: str = "") -> dict:
    """{"error_code", "human", "what_to_do"} for a row: the table's wording for ``code``, or for
    an unknown code the row's own message."""
    human, what = HELP.get((code or "").upper(), (message or UNKNOWN[0], UNKNOWN[1]))
    return {"error_code": code, "human": human, "what_to_do": what}
