"""Typed failures of the Cloudinary client, with messages a user can act on."""

from __future__ import annotations

from datetime import datetime

from assetlink_project.errors import ApplicationError


class CloudinaryError(ApplicationError):
    """Base class of every failure the Cloudinary client raises."""


class CloudinaryNotConfigured(CloudinaryError):
    pass


class CloudinaryAuthError(CloudinaryError):
    """API key or secret rejected."""

    status_code = 401


class CloudinaryUnknownCloud(CloudinaryError):
    """No product environment with this cloud name."""

    status_code = 401


class CloudinaryUnavailable(CloudinaryError):
    """Cloudinary could not be reached or answered with a server error."""

    status_code = 503


class CloudinaryRateLimited(CloudinaryError):
    """The hourly Admin API budget is spent (or would be by the call asked for)."""

    status_code = 429

    def __init__(self, message: str, *, reset_at: datetime | None, limit: int | None = None):
        super().__init__(
            message,
            extra={"reset_at": reset_at.isoformat() if reset_at else None, "limit": limit},
        )
        self.reset_at = reset_at
        self.limit = limit


class CaptionUnavailable(CloudinaryError):
    """Cloudinary gave no caption (add-on missing, not an image, or still pending)."""


class SelectionTooLarge(CloudinaryError):
    pass
