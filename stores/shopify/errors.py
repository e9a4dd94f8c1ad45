"""Typed failures of the Shopify Admin GraphQL client. Callers branch on types and codes,
never on message strings."""

from __future__ import annotations

from dataclasses import dataclass, field

from assetlink_project.errors import ApplicationError


@dataclass(frozen=True)
class UserError:
    """One entry of a mutation's `userErrors` / `mediaUserErrors`.

    `code` is None for payloads whose error type has no code (e.g. productUpdate's UserError).
    `field` is Shopify's path to the input that failed, e.g. ("media", "0", "originalSource").
    """

    code: str | None
    field: tuple[str, ...]
    message: str
    element_index: int | None = None
    payload: str = ""  # the mutation root field the error belongs to, e.g. "fileUpdate"

    @classmethod
    def from_json(cls, data: dict, payload: str = "") -> UserError:
        raw_field = data.get("field") or ()
        return cls(
            code=data.get("code"),
            field=tuple(str(f) for f in raw_field),
            message=str(data.get("message") or ""),
            element_index=data.get("elementIndex"),
            payload=payload,
        )

    @property
    def retryable(self) -> bool:
        """Shopify asks to try again: a transient internal error, or a file/media that is
        locked while Shopify processes it or while a reorder job is pending."""
        if (self.code or "").upper() in RETRYABLE_USER_ERROR_CODES:
            return True
        text = self.message.lower()
        return "retry" in text or "try again" in text


# userError codes that mean "not now" rather than "no" (FileErrorCode, MediaUserErrorCode,
# MetafieldsSetUserErrorCode...).
RETRYABLE_USER_ERROR_CODES = frozenset(
    {
        "INTERNAL_ERROR",
        "NON_READY_STATE",
        "NON_READY_MEDIA",  # a variant image whose media Shopify is still processing
        "FILE_LOCKED",
        "MEDIA_CANNOT_BE_MODIFIED",
        "THROTTLED",
        "TOO_MANY_REQUESTS",
    }
)


def retryable(error: UserError) -> bool:
    return error.retryable


@dataclass(frozen=True)
class GraphQLErrorDetail:
    message: str
    code: str | None = None
    path: tuple = ()
    extensions: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data) -> GraphQLErrorDetail:
        if not isinstance(data, dict):
            return cls(message=str(data))
        ext = data.get("extensions") or {}
        return cls(
            message=str(data.get("message") or ""),
            code=ext.get("code"),
            path=tuple(data.get("path") or ()),
            extensions=ext,
        )


class ShopifyError(ApplicationError):
    """Base class of every failure the client raises."""

    def __init__(self, message: str, *, shop: str = "", operation: str = "", extra=None):
        super().__init__(message, extra=extra)
        self.shop = shop
        self.operation = operation


class ShopifyUnavailable(ShopifyError):
    """Shopify did not answer usefully after the bounded retries (5xx, 429, timeouts,
    connection errors). `maybe_applied` is True when a non-idempotent mutation may have been
    executed by Shopify before the failure (a read timeout or a 5xx after sending it)."""

    status_code = 503

    def __init__(self, message: str, *, cause: str, attempts: int, maybe_applied=False, **kw):
        super().__init__(message, **kw)
        self.cause = cause
        self.attempts = attempts
        self.maybe_applied = maybe_applied


class ShopifyAuthError(ShopifyError):
    """The store's access token is rejected (401 after one refresh) or lacks a scope (403).
    The merchant must reopen the app (reinstall) to grant a new token."""

    status_code = 401


class TokenRefreshError(ShopifyAuthError):
    """The refresh grant failed (refresh token invalid, expired or already used)."""


class ShopifyHTTPError(ShopifyError):
    """An HTTP status that retrying does not fix (400, 402 payment required, 404, 423 locked)."""

    def __init__(self, message: str, *, http_status: int, body: str = "", **kw):
        super().__init__(message, **kw)
        self.http_status = http_status
        self.body = body


class ShopifyGraphQLError(ShopifyError):
    """Top-level GraphQL `errors` (other than THROTTLED, which the client waits out)."""

    def __init__(self, message: str, *, errors: list[GraphQLErrorDetail], data=None, **kw):
        super().__init__(message, **kw)
        self.errors = errors
        self.data = data

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors if e.code]


class MaxCostExceeded(ShopifyGraphQLError):
    """The query's requested cost is above Shopify's single-query maximum (1000 points):
    ask for fewer items per page."""


class ShopifyUserErrors(ShopifyError):
    """A mutation answered with userErrors/mediaUserErrors (raised by
    `Result.raise_for_user_errors()` or `execute(..., raise_user_errors=True)`)."""

    def __init__(self, message: str, *, errors: tuple[UserError, ...], data=None, **kw):
        super().__init__(message, **kw)
        self.errors = errors
        self.data = data

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors if e.code]
