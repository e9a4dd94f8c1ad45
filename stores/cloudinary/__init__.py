"""The Cloudinary client (see client.py)."""

from .assets import Asset, MetadataSchema, asset_id_expressions
from .client import CloudinaryClient, ConnectionCheck, Credentials, Resolution
from .errors import (
    CaptionUnavailable,
    CloudinaryAuthError,
    CloudinaryError,
    CloudinaryRateLimited,
    CloudinaryUnavailable,
    CloudinaryUnknownCloud,
    SelectionTooLarge,
)

__all__ = [
    "Asset",
    "CaptionUnavailable",
    "CloudinaryAuthError",
    "CloudinaryClient",
    "CloudinaryError",
    "CloudinaryRateLimited",
    "CloudinaryUnavailable",
    "CloudinaryUnknownCloud",
    "ConnectionCheck",
    "Credentials",
    "MetadataSchema",
    "Resolution",
    "SelectionTooLarge",
    "asset_id_expressions",
]
