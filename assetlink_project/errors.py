"""Expected failures and how the API shows them."""

from __future__ import annotations

from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """An expected failure with a message a user can act on."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InputError(ApplicationError):
    """Input the user can fix: ``field`` names it, the message says how (a 400 with both)."""

    def __init__(self, field: str, message: str):
        super().__init__(message, extra={"field": field})
        self.field = field


class PermissionDeniedError(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN


class NotFoundError(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, **exc.extra}, status=exc.status_code)
    return exception_handler(exc, context)
