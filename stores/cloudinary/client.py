"""The Cloudinary client: one workspace's product environment through the real `cloudinary`
SDK.

Configuration: the SDK's global config (`cloudinary.config()`) is process-wide, and one
process serves many workspaces, so it is never set or read for credentials. Every call passes
`cloud_name`, `api_key`, `api_secret`, `oauth_token=None` and `upload_prefix` as call options
(`_call_api` pops them before it looks at the global config); delivery URLs pass `secure`,
`cname`, `private_cdn` and `secure_distribution` the same way. `upload_prefix` is
`settings.CLOUDINARY_API_BASE_URL` when set (the sandbox), else the SDK default; the sandbox
serves delivery on the same host, so delivery URLs use that host (http, as a cname) there.

Caches (in-process, keyed by upload prefix + cloud name; a worker process lives for many
runs and every worker can rebuild them with one call):
- the metadata schema (`metadata_fields`, for enum/set labels) for METADATA_TTL seconds;
- the last `X-FeatureRateLimit-*` reading, so a spent hourly budget fails fast (no call)
  until its reset time.
The client does no database work: captions are cached per asset id + version by
`stores.services.asset_caption` (`stores.models.AssetCaption`).
"""

from __future__ import annotations

import calendar
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlparse

import cloudinary
import cloudinary.api
import cloudinary.exceptions as cex
import cloudinary.utils
from django.conf import settings

from .assets import (
    SEARCH_PAGE_SIZE,
    Asset,
    MetadataSchema,
    asset_from_resource,
    asset_id_expressions,
    split_asset_ids,
)
from .errors import (
    CaptionUnavailable,
    CloudinaryAuthError,
    CloudinaryError,
    CloudinaryNotConfigured,
    CloudinaryRateLimited,
    CloudinaryUnavailable,
    CloudinaryUnknownCloud,
    SelectionTooLarge,
)

logger = logging.getLogger(__name__)

METADATA_TTL = 600.0
WITH_FIELDS = ("metadata", "context", "tags")
MAX_CAPTION = 512
SHOPIFY_IMAGE_FORMATS = {"jpg", "png", "webp", "gif"}  # formats Shopify accepts as-is


@dataclass(frozen=True)
class Credentials:
    cloud_name: str
    api_key: str
    api_secret: str = field(repr=False)

    @classmethod
    def of_workspace(cls, workspace) -> Credentials:
        secret = workspace.cloudinary_api_secret
        return cls(
            cloud_name=workspace.cloudinary_cloud_name,
            api_key=workspace.cloudinary_api_key,
            api_secret=secret.reveal() if hasattr(secret, "reveal") else str(secret or ""),
        )


@dataclass(frozen=True)
class RateLimitStatus:
    limit: int | None
    remaining: int | None
    reset_at: datetime | None


@dataclass(frozen=True)
class Resolution:
    """A selection read from Cloudinary."""

    assets: list[Asset]
    missing_ids: list[str]  # asset ids that are unknown, deleted, inaccessible or malformed
    calls: int  # Admin API calls made


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    problem: str  # ok | bad_credentials | unknown_cloud | unreachable | rate_limited | ...
    message: str


# --- process-wide caches (see the module docstring) -----------------------------------------

_lock = threading.Lock()
_metadata_cache: dict[tuple[str, str], tuple[float, MetadataSchema]] = {}
_rate_limits: dict[tuple[str, str], RateLimitStatus] = {}


def clear_caches() -> None:
    with _lock:
        _metadata_cache.clear()
        _rate_limits.clear()


def _reset_from_message(message: str) -> datetime | None:
    m = re.search(r"resets at (.+?GMT)", message)
    if not m:
        return None
    try:
        return parsedate_to_datetime(m.group(1))
    except (TypeError, ValueError):
        return None


class CloudinaryClient:
    """One workspace's Cloudinary product environment. Thread-safe."""

    def __init__(self, credentials: Credentials, *, timeout: float = 30.0, max_attempts=3):
        if not (credentials.cloud_name and credentials.api_key and credentials.api_secret):
            raise CloudinaryNotConfigured(
                "Cloudinary is not connected: enter the cloud name, API key and API secret in "
                "Setup."
            )
        self.credentials = credentials
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.prefix = settings.CLOUDINARY_API_BASE_URL.rstrip("/") or None
        self._key = (self.prefix or "", credentials.cloud_name)
        self.calls = 0  # Admin API calls made by this client
        self._calls_lock = threading.Lock()

    @classmethod
    def for_workspace(cls, workspace, **kwargs) -> CloudinaryClient:
        return cls(Credentials.of_workspace(workspace), **kwargs)

    # --- plumbing --------------------------------------------------------------------------

    def _options(self) -> dict:
        c = self.credentials
        return {
            "cloud_name": c.cloud_name,
            "api_key": c.api_key,
            "api_secret": c.api_secret,
            "oauth_token": None,
            "upload_prefix": self.prefix,
            "timeout": self.timeout,
        }

    @property
    def rate_limit(self) -> RateLimitStatus | None:
        with _lock:
            return _rate_limits.get(self._key)

    def _note_rate_limit(self, response) -> None:
        remaining = getattr(response, "rate_limit_remaining", None)
        if remaining is None:
            return
        reset = getattr(response, "rate_limit_reset_at", None)
        reset_at = datetime.fromtimestamp(calendar.timegm(reset), UTC) if reset else None
        with _lock:
            _rate_limits[self._key] = RateLimitStatus(
                getattr(response, "rate_limit_allowed", None), remaining, reset_at
            )

    def _rate_limited(self, needed: int, status: RateLimitStatus | None) -> CloudinaryRateLimited:
        reset_at = status.reset_at if status else None
        when = f"at {reset_at:%H:%M} UTC ({reset_at:%Y-%m-%d})" if reset_at else "within the hour"
        limit = f" of {status.limit} calls" if status and status.limit else ""
        left = status.remaining if status and status.remaining is not None else 0
        return CloudinaryRateLimited(
            f"Cloudinary's hourly Admin API budget{limit} for '{self.credentials.cloud_name}' "
            f"is spent ({left} left, {needed} needed). It resets {when}; try again then, or "
            "ask Cloudinary to raise the plan's limit.",
            reset_at=reset_at,
            limit=status.limit if status else None,
        )

    def check_budget(self, needed: int) -> None:
        """Fail before starting work the known remaining budget cannot finish."""
        status = self.rate_limit
        if (
            status is not None
            and status.remaining is not None
            and status.remaining < needed
            and status.reset_at is not None
            and status.reset_at > datetime.now(UTC)
        ):
            raise self._rate_limited(needed, status)

    def _call(self, fn, *args, **kwargs):
        """One Admin API call: budget check, retries on server errors, typed failures."""
        self.check_budget(1)
        attempt = 0
        while True:
            attempt += 1
            with self._calls_lock:
                self.calls += 1
            try:
                response = fn(*args, **kwargs, **self._options())
            except cex.RateLimited as exc:
                status = self.rate_limit
                reset_at = _reset_from_message(str(exc)) or (status.reset_at if status else None)
                status = RateLimitStatus(status.limit if status else None, 0, reset_at)
                with _lock:
                    _rate_limits[self._key] = status
                raise self._rate_limited(1, status) from exc
            except cex.AuthorizationRequired as exc:
                raise self._auth_error(str(exc)) from exc
            except cex.NotFound as exc:
                raise CloudinaryError(f"Cloudinary: {_clean(exc)}") from exc
            except cex.BadRequest as exc:
                raise CloudinaryError(f"Cloudinary refused the request: {_clean(exc)}") from exc
            except cex.NotAllowed as exc:
                raise CloudinaryAuthError(
                    f"Cloudinary: the API key may not do this ({_clean(exc)}); use a key with "
                    "Admin API permissions."
                ) from exc
            except (cex.GeneralError, Exception) as exc:
                # GeneralError: sockets, 500, 503; other 5xx come as a bare "Error 5xx - …"
                if not isinstance(exc, cex.GeneralError) and not str(exc).startswith("Error 5"):
                    raise
                if attempt >= self.max_attempts:
                    raise CloudinaryUnavailable(
                        f"Cloudinary did not answer ({_clean(exc)}); try again in a few minutes."
                    ) from exc
                time.sleep(min(4.0, 0.25 * 2 ** (attempt - 1)))
                continue
            self._note_rate_limit(response)
            return response

    def _auth_error(self, message: str) -> CloudinaryError:
        name = self.credentials.cloud_name
        if "cloud_name" in message or "cloud name" in message.lower():
            return CloudinaryUnknownCloud(
                f"Cloudinary has no product environment named '{name}'; check the cloud name "
                "in Setup (Cloudinary console → Dashboard → Product Environment)."
            )
        return CloudinaryAuthError(
            f"Cloudinary rejected the API key or secret for '{name}'; copy them again from the "
            "Cloudinary console (Settings → API Keys) into Setup."
        )

    # --- metadata labels --------------------------------------------------------------------

    def metadata_schema(self) -> MetadataSchema:
        with _lock:
            hit = _metadata_cache.get(self._key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        schema = MetadataSchema.from_api(self._call(cloudinary.api.list_metadata_fields))
        with _lock:
            _metadata_cache[self._key] = (time.monotonic() + METADATA_TTL, schema)
        return schema

    def _schema_cached(self) -> bool:
        with _lock:
            hit = _metadata_cache.get(self._key)
        return bool(hit and hit[0] > time.monotonic())

    # --- selection --------------------------------------------------------------------------

    def search_page(self, expression: str, cursor: str | None):
        search = cloudinary.Search().expression(expression).max_results(SEARCH_PAGE_SIZE)
        for f in WITH_FIELDS:
            search = search.with_field(f)
        search = search.sort_by("public_id", "asc")
        if cursor:
            search = search.next_cursor(cursor)
        return self._call(search.execute)

    def resolve_asset_ids(self, asset_ids) -> Resolution:
        """The assets of `asset_ids`, in the given order; ids that did not resolve are
        reported in `missing_ids`. Uses ~1 Search API call per 500 ids."""
        start = self.calls
        good, malformed = split_asset_ids(asset_ids)
        chunks = asset_id_expressions(good)
        self.check_budget(len(chunks) + (0 if self._schema_cached() else 1))
        schema = self.metadata_schema() if good else None
        found: dict[str, Asset] = {}
        for _ids, expression in chunks:
            cursor = None
            while True:
                page = self.search_page(expression, cursor)
                for resource in page.get("resources") or ():
                    found[resource["asset_id"]] = asset_from_resource(resource, schema)
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        assets = [found[i] for i in good if i in found]
        missing = [i for i in good if i not in found] + malformed
        return Resolution(assets, missing, self.calls - start)

    def search(self, expression: str, *, limit: int = 10_000) -> Resolution:
        """Every asset matching a search expression (sorted by public id), at most `limit`."""
        start = self.calls
        schema = self.metadata_schema()
        assets: list[Asset] = []
        cursor = None
        while True:
            page = self.search_page(expression, cursor)
            total = int(page.get("total_count") or 0)
            if total > limit:
                raise SelectionTooLarge(
                    f"The search matches {total} assets; the batch limit is {limit}. Narrow the "
                    "search (e.g. add a folder or tag) or raise the batch size limit in Setup."
                )
            if cursor is None:
                self.check_budget(max(0, -(-total // SEARCH_PAGE_SIZE) - 1))
            assets.extend(asset_from_resource(r, schema) for r in page.get("resources") or ())
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return Resolution(assets, [], self.calls - start)

    def resolve(self, *, asset_ids=None, expression: str | None = None, limit=10_000):
        """A selection: asset ids or a search expression (exactly one)."""
        if (asset_ids is None) == (expression is None):
            raise ValueError("give asset_ids or expression")
        if asset_ids is not None:
            ids = list(asset_ids)
            if len(ids) > limit:
                raise SelectionTooLarge(
                    f"The selection has {len(ids)} assets; the batch limit is {limit}."
                )
            return self.resolve_asset_ids(ids)
        return self.search(expression, limit=limit)

    # --- delivery ---------------------------------------------------------------------------

    def delivery_url(self, asset: Asset, *, transformation: str = "", format: str = "") -> str:
        """A URL Shopify can fetch: the transformation applied and an explicit format
        (never f_auto, whose format depends on the requester's Accept header)."""
        return self._sdk_url(
            asset.public_id,
            resource_type=asset.resource_type,
            type=asset.type,
            version=asset.version,
            format=format or _delivery_format(asset),
            transformation=transformation,
        )

    def delivery_urls(
        self, *, resource_type: str = "image", type: str = "upload", transformation: str = "",
        format: str,
    ) -> Callable[[str, int], str]:  # fmt: skip
        """``url(public_id, version)`` for many assets of one kind: the SDK builds the URL once
        (its option handling is most of a URL's cost) and each asset fills in its version and
        public id, escaped as the SDK escapes them — the same URL :meth:`delivery_url` gives."""
        kind = {"resource_type": resource_type, "type": type, "format": format,
                "transformation": transformation}  # fmt: skip
        tail = f"/v1/{_URL_MARKER}.{format}"
        template = self._sdk_url(_URL_MARKER, version=1, **kind)
        if not template.endswith(tail):  # an SDK that builds URLs differently: no shortcut
            return lambda public_id, version: self._sdk_url(public_id, version=version, **kind)
        head = template[: -len(tail)]

        def url(public_id: str, version: int) -> str:
            if not version or public_id.startswith(("http:", "https:")):
                return self._sdk_url(public_id, version=version, **kind)
            source = cloudinary.utils.smart_escape(unquote(_SLASHES.sub(r"\1/", public_id)))
            return f"{head}/v{version}/{source}.{format}"

        return url

    def _sdk_url(self, public_id, *, resource_type, type, version, format, transformation):
        options = {
            "resource_type": resource_type,
            "type": type,
            "version": version,
            "format": format,
            "raw_transformation": transformation or None,
            "cloud_name": self.credentials.cloud_name,
            "private_cdn": False,
            "secure_distribution": None,
            "sign_url": False,
            "url_suffix": None,
            "use_root_path": False,
            "shorten": False,
        }
        if self.prefix:  # the sandbox delivers on its API host, over http
            options.update(secure=False, cname=urlparse(self.prefix).netloc)
        else:
            options.update(secure=True, cname=None)
        url, _ = cloudinary.utils.cloudinary_url(public_id, **options)
        return url

    # --- AI captions ------------------------------------------------------------------------

    def caption(self, asset: Asset) -> str:
        """Cloudinary's AI caption of an image (one Admin API call; callers cache it)."""
        if not asset.is_image:
            raise CaptionUnavailable(f"{asset.public_id} is not an image; no AI caption.")
        result = self._call(
            cloudinary.api.update,
            asset.public_id,
            resource_type=asset.resource_type,
            type=asset.type,
            detection="captioning",
        )
        info = ((result.get("info") or {}).get("detection") or {}).get("captioning") or {}
        text = ((info.get("data") or {}).get("caption") or "").strip()
        if info.get("status") != "complete" or not text:
            raise CaptionUnavailable(
                f"Cloudinary has no caption for {asset.public_id} yet (status "
                f"{info.get('status') or 'unknown'}); try again shortly."
            )
        return text[:MAX_CAPTION]

    # --- Setup ------------------------------------------------------------------------------

    def test_connection(self) -> ConnectionCheck:
        """A cheap authenticated call (ping) telling apart the usual setup mistakes."""
        try:
            self._call(cloudinary.api.ping)
        except CloudinaryUnknownCloud as exc:
            return ConnectionCheck(False, "unknown_cloud", exc.message)
        except CloudinaryAuthError as exc:
            return ConnectionCheck(False, "bad_credentials", exc.message)
        except CloudinaryRateLimited as exc:
            return ConnectionCheck(False, "rate_limited", exc.message)
        except CloudinaryUnavailable:
            return ConnectionCheck(
                False,
                "unreachable",
                "Cloudinary cannot be reached from AssetLink's server; check the network or "
                "try again later (status: https://status.cloudinary.com).",
            )
        except CloudinaryError as exc:
            return ConnectionCheck(False, "error", exc.message)
        return ConnectionCheck(
            True,
            "ok",
            f"Connected to Cloudinary product environment '{self.credentials.cloud_name}'.",
        )


_URL_MARKER = "assetlinkpublicidmarker"
_SLASHES = re.compile(r"([^:])/+")  # as the SDK collapses repeated slashes in a public id


def _delivery_format(asset: Asset) -> str:
    if asset.resource_type == "video":
        return "mp4"
    fmt = (asset.format or "").lower().replace("jpeg", "jpg")
    return fmt if fmt in SHOPIFY_IMAGE_FORMATS else "jpg"


def _clean(exc: Exception) -> str:
    return re.sub(r"^Error \d+ - ", "", str(exc))
