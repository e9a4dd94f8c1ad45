"""Media/file lifecycle: UPLOADED -> PROCESSING -> READY | FAILED, with a real HTTP download.

A `Processor` per state (one scheduler thread, a few download threads) downloads
`originalSource`, validates the bytes (Pillow for images) and, once `media_delay` seconds have
passed since creation, marks the file READY (with the real width/height and an emulator-served
CDN URL) or FAILED with Shopify's media error codes.
"""

from __future__ import annotations

import heapq
import io
import itertools
import logging
import mimetypes
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlparse

import urllib3
from PIL import Image, UnidentifiedImageError

from .state import FileObj, Shop, State

logger = logging.getLogger(__name__)

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".avif", ".bmp", ".tif", ".tiff"}
VIDEO_EXT = {".mp4", ".mov", ".webm", ".m4v"}

# Shopify's media guide: "The maximum image size is 4472 x 4472 px, or 20 megapixels."
# https://shopify.dev/docs/apps/build/online-store/product-media
MAX_IMAGE_PIXELS = 20_000_000

MESSAGES = {
    "IMAGE_DOWNLOAD_FAILURE": "Image could not be downloaded.",
    "UNSUPPORTED_IMAGE_FILE_TYPE": "Image file type is not supported.",
    "INVALID_IMAGE_FILE_SIZE": "Image file size is invalid.",
    "INVALID_IMAGE_RESOLUTION": f"Image resolution exceeds the maximum of {MAX_IMAGE_PIXELS // 1_000_000} megapixels.",
    "GENERIC_FILE_DOWNLOAD_FAILURE": "File could not be downloaded.",
    "VIDEO_INVALID_FILETYPE_ERROR": "Video file type is not supported.",
    "UNKNOWN": "Media could not be processed.",
}


def filename_from(source: str) -> str:
    name = os.path.basename(unquote(urlparse(source).path)) or "file"
    return name


def guess_kind(source: str, content_type: str | None = None) -> str:
    if content_type in ("IMAGE", "VIDEO"):
        return content_type
    if content_type in ("FILE",):
        return "GENERIC_FILE"
    ext = os.path.splitext(filename_from(source))[1].lower()
    if ext in VIDEO_EXT:
        return "VIDEO"
    if ext in IMAGE_EXT or content_type is None:
        return "IMAGE"
    return "GENERIC_FILE"


def placeholder_png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def cdn_url(base_url: str, shop: Shop, f: FileObj) -> str:
    name = f.filename or "file"
    return f"{base_url}/cdn/{shop.domain}/files/{f.id}/{name}?v={f.version}"


def mark_ready(
    shop: Shop,
    f: FileObj,
    content: bytes,
    base_url: str,
    mime: str | None,
    image: tuple[int, int, str | None] | None = None,
) -> None:
    """`image`: (width, height, format) when the bytes were already read (`_validate`)."""
    f.content = content
    f.size = len(content)
    if f.kind == "IMAGE":
        if image is None:
            with Image.open(io.BytesIO(content)) as img:
                image = (*img.size, img.format)
        f.width, f.height, fmt = image
        f.mime_type = Image.MIME.get(fmt or "", mime or "image/jpeg")
    else:
        f.mime_type = mime or mimetypes.guess_type(f.filename)[0] or "application/octet-stream"
    f.status = "READY"
    f.errors = []
    f.version += 1
    f.url = cdn_url(base_url, shop, f)
    f.updated = f.processed = time.time()


def _validate(f: FileObj, content: bytes) -> tuple[str | None, tuple | None]:
    """(a media error code, or None when the bytes are acceptable for the file kind; an image's
    (width, height, format), or None)."""
    if f.kind == "IMAGE":
        if not content:
            return "INVALID_IMAGE_FILE_SIZE", None
        try:
            with Image.open(io.BytesIO(content)) as img:
                img.verify()
                w, h = img.size
                image = (w, h, img.format)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return "UNSUPPORTED_IMAGE_FILE_TYPE", None
        if w * h > MAX_IMAGE_PIXELS:
            return "INVALID_IMAGE_RESOLUTION", None
        return None, image
    if f.kind == "VIDEO":
        mp4 = len(content) >= 8 and content[4:8] in (b"ftyp", b"moov", b"mdat", b"wide")
        webm = content.startswith(b"\x1aE\xdf\xa3")
        return (None if mp4 or webm else "VIDEO_INVALID_FILETYPE_ERROR"), None
    return None, None


# urllib3 straight (requests' per-call session and environment work was half the emulator's
# CPU per file); one pool of kept connections per source host, shared by the download threads.
_http = urllib3.PoolManager(
    maxsize=32, retries=urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5)
)


def _download(state: State, url: str) -> tuple[bytes | None, str | None]:
    """The bytes and type at ``url``, or (None, None). A dropped connection or a 5xx is tried
    once more, as a fetcher does with a transient failure; a timeout or a 4xx is not."""
    for attempt in (1, 2):
        try:
            r = _http.request("GET", url, timeout=float(state.config["download_timeout"]))
        except (urllib3.exceptions.TimeoutError, ValueError):
            return None, None
        except urllib3.exceptions.HTTPError as exc:
            failure = repr(exc)
        else:
            if r.status == 200:
                return r.data, (r.headers.get("Content-Type") or "").split(";")[0] or None
            if r.status < 500:
                return None, None
            failure = f"HTTP {r.status}"
        logger.warning("Download of %s failed (attempt %d): %s", url, attempt, failure)
    return None, None


class Processor:
    """Shopify's media processing for one `State`: one scheduler thread keeps a heap of due
    times (a file turns PROCESSING shortly after its create and READY/FAILED once `media_delay`
    has passed since it), and a pool of download threads fetches and checks the bytes from the
    create on.
    A thread per file made a thousand sleeping threads fight for the interpreter at once and
    pushed READY seconds past the configured delay."""

    DOWNLOADERS = 32  # Shopify fetches many files at once; fewer made READY wait on the queue

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self.downloads = ThreadPoolExecutor(
            max_workers=self.DOWNLOADERS, thread_name_prefix="shopify-media-download"
        )
        threading.Thread(target=self._loop, name="shopify-media", daemon=True).start()

    def at(self, due: float, action: Callable[[], None]) -> None:
        """Run `action` on the scheduler thread at monotonic time `due` (or as soon as it can)."""
        with self._wake:
            heapq.heappush(self._due, (due, next(self._seq), action))
            self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(self._due[0][0] - time.monotonic() if self._due else None)
                _, _, action = heapq.heappop(self._due)
            try:
                action()
            except Exception:  # noqa: BLE001 - one file's problem must not stop the others
                logger.exception("Shopify emulator: media processing step failed")


def processor(state: State) -> Processor:
    with state.lock:
        if getattr(state, "media_processor", None) is None:
            state.media_processor = Processor()
        return state.media_processor


def process(state: State, shop: Shop, f: FileObj, base_url: str) -> None:
    """Start the background processing of `f` (call with the state lock held or not)."""
    with state.lock:
        f.generation += 1
        generation = f.generation
        f.status = "UPLOADED"
        f.errors = []
        created = time.monotonic()
        source = f.original_source
        state_gen = state.generation
    delay = float(state.config["media_delay"])
    work = processor(state)

    def current() -> bool:
        return f.generation == generation and state.generation == state_gen

    def start() -> None:
        with state.lock:
            if current() and f.status == "UPLOADED":
                f.status = "PROCESSING"

    def fetch() -> None:
        if not current():
            return
        content, mime = _download(state, source)
        image = None
        if content is None:
            code = (
                "IMAGE_DOWNLOAD_FAILURE" if f.kind == "IMAGE" else "GENERIC_FILE_DOWNLOAD_FAILURE"
            )
            if f.kind == "VIDEO":
                code = "UNKNOWN"
        else:
            code, image = _validate(f, content)
        work.at(created + delay, lambda: finish(content, mime, code, image))

    def finish(content: bytes | None, mime: str | None, code: str | None, image) -> None:
        with state.lock:
            if not current():
                return
            if code is None:
                try:
                    mark_ready(shop, f, content, base_url, mime, image)
                    return
                except Exception:  # noqa: BLE001 - any decoding problem fails the media
                    code = "UNSUPPORTED_IMAGE_FILE_TYPE"
            f.status = "FAILED"
            f.errors = [{"code": code, "message": MESSAGES.get(code, code), "details": source}]
            f.updated = f.processed = time.time()

    work.at(created + min(0.05, delay / 4), start)
    work.downloads.submit(fetch)


def new_file(
    state: State,
    shop: Shop,
    source: str,
    base_url: str,
    *,
    kind: str,
    alt: str = "",
    filename: str | None = None,
    start: bool = True,
) -> FileObj:
    with state.lock:
        staged_name = None
        tok = staged_token(source)
        if tok and tok in state.staged:
            staged_name = state.staged[tok]["filename"]
        f = FileObj(
            id=state.next_id(),
            kind=kind,
            original_source=source,
            alt=alt or "",
            filename=filename or staged_name or filename_from(source),
        )
        shop.files[f.id] = f
    if start:
        process(state, shop, f, base_url)
    return f


def staged_token(source: str) -> str | None:
    path = urlparse(source).path
    if path.startswith("/staged-uploads/"):
        return path.split("/")[2]
    return None


def valid_source(source: str) -> bool:
    u = urlparse(source or "")
    return u.scheme in ("http", "https") and bool(u.netloc)
