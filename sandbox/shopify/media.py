"""Media/file lifecycle: UPLOADED -> PROCESSING -> READY | FAILED, with a real HTTP download.

A background thread per file downloads `originalSource`, validates the bytes (Pillow for images)
and, once `media_delay` seconds have passed since creation, marks the file READY (with the real
width/height and an emulator-served CDN URL) or FAILED with Shopify's media error codes.
"""

from __future__ import annotations

import io
import mimetypes
import os
import threading
import time
from urllib.parse import unquote, urlparse

import requests
from PIL import Image, UnidentifiedImageError

from .state import FileObj, Shop, State

IMAGE_EXT = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".avif", ".bmp", ".tif", ".tiff"}
VIDEO_EXT = {".mp4", ".mov", ".webm", ".m4v"}

MESSAGES = {
    "IMAGE_DOWNLOAD_FAILURE": "Image could not be downloaded.",
    "UNSUPPORTED_IMAGE_FILE_TYPE": "Image file type is not supported.",
    "INVALID_IMAGE_FILE_SIZE": "Image file size is invalid.",
    "INVALID_IMAGE_RESOLUTION": "Image resolution exceeds the maximum of 20 megapixels.",
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


def mark_ready(shop: Shop, f: FileObj, content: bytes, base_url: str, mime: str | None) -> None:
    f.content = content
    f.size = len(content)
    if f.kind == "IMAGE":
        with Image.open(io.BytesIO(content)) as img:
            f.width, f.height = img.size
            f.mime_type = Image.MIME.get(img.format or "", mime or "image/jpeg")
    else:
        f.mime_type = mime or mimetypes.guess_type(f.filename)[0] or "application/octet-stream"
    f.status = "READY"
    f.errors = []
    f.version += 1
    f.url = cdn_url(base_url, shop, f)
    f.updated = time.time()


def _validate(f: FileObj, content: bytes) -> str | None:
    """Returns a media error code, or None when the bytes are acceptable for the file kind."""
    if f.kind == "IMAGE":
        if not content:
            return "INVALID_IMAGE_FILE_SIZE"
        try:
            with Image.open(io.BytesIO(content)) as img:
                img.verify()
                w, h = img.size
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
            return "UNSUPPORTED_IMAGE_FILE_TYPE"
        if w * h > 25_000_000:
            return "INVALID_IMAGE_RESOLUTION"
        return None
    if f.kind == "VIDEO":
        mp4 = len(content) >= 8 and content[4:8] in (b"ftyp", b"moov", b"mdat", b"wide")
        webm = content.startswith(b"\x1aE\xdf\xa3")
        return None if mp4 or webm else "VIDEO_INVALID_FILETYPE_ERROR"
    return None


def _download(state: State, url: str) -> tuple[bytes | None, str | None]:
    try:
        r = requests.get(url, timeout=state.config["download_timeout"])
    except requests.RequestException:
        return None, None
    if r.status_code != 200:
        return None, None
    return r.content, r.headers.get("Content-Type", "").split(";")[0] or None


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

    def run() -> None:
        time.sleep(min(0.05, delay / 4))
        with state.lock:
            if f.generation != generation or state.generation != state_gen:
                return
            f.status = "PROCESSING"
        content, mime = _download(state, source)
        if content is None:
            code = (
                "IMAGE_DOWNLOAD_FAILURE" if f.kind == "IMAGE" else "GENERIC_FILE_DOWNLOAD_FAILURE"
            )
            if f.kind == "VIDEO":
                code = "UNKNOWN"
        else:
            code = _validate(f, content)
        remaining = delay - (time.monotonic() - created)
        if remaining > 0:
            time.sleep(remaining)
        with state.lock:
            if f.generation != generation or state.generation != state_gen:
                return
            if code is None:
                try:
                    mark_ready(shop, f, content, base_url, mime)
                    return
                except Exception:  # noqa: BLE001 - any decoding problem fails the media
                    code = "UNSUPPORTED_IMAGE_FILE_TYPE"
            f.status = "FAILED"
            f.errors = [{"code": code, "message": MESSAGES.get(code, code), "details": source}]
            f.updated = time.time()

    threading.Thread(target=run, name=f"shopify-media-{f.id}", daemon=True).start()


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
