"""Typed verbs on the store's Files library, on top of `batching.send_batches`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from . import operations as ops
from .batching import Backoff, BatchOutcome, Refused, send_batches

T = TypeVar("T")


def delete_files(
    client,
    file_ids: Sequence[str],
    *,
    attempts: int = 1,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
) -> BatchOutcome[str]:
    """``fileDelete`` in batches of 250: the ids Shopify deleted (``applied``) and those it
    refused with its code and message (``refused``; e.g. FILE_DOES_NOT_EXIST). An id Shopify
    answers neither way (a call that deleted some and named no error for the rest) is refused
    with NOT_DELETED."""

    def deleted(result, batch: list[str]) -> set[int]:
        ids = _deleted_ids(result)
        return {n for n, file_id in enumerate(batch) if file_id in ids}

    outcome = send_batches(
        client,
        ops.FILE_DELETE,
        list(dict.fromkeys(file_ids)),
        input_key="fileIds",
        spec=lambda file_id: file_id,
        attempts=attempts,
        backoff=backoff,
        sleep=sleep,
        applied_despite_errors=deleted,
    )
    kept = [a for a in outcome.applied if a.item not in _deleted_ids(a.result)]
    outcome.applied = [a for a in outcome.applied if a.item in _deleted_ids(a.result)]
    outcome.refused += [Refused(a.item, "NOT_DELETED", "Shopify kept it.") for a in kept]
    return outcome


def _deleted_ids(result) -> set[str]:
    return set(result.payload("fileDelete").get("deletedFileIds") or ())


# --- staged uploads (videos: Shopify takes them only from its own storage) -------------------


@dataclass(frozen=True)
class StagedUpload:
    """One file to stage: its name and size in bytes."""

    filename: str
    size: int
    mime_type: str = "video/mp4"
    resource: str = "VIDEO"


@dataclass(frozen=True)
class StagedTarget:
    """Where to PUT the bytes (``url`` with ``headers``); ``resource_url`` is then the file's
    ``originalSource``."""

    url: str
    resource_url: str
    headers: dict[str, str]


@dataclass
class Staged(Generic[T]):
    targets: list[tuple[T, StagedTarget]] = field(default_factory=list)
    refused: list[Refused[T]] = field(default_factory=list)


def stage_uploads(
    client,
    items: Sequence[T],
    upload: Callable[[T], StagedUpload],
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Staged[T]:
    """``stagedUploadsCreate`` for ``items`` (250 per call; inputs Shopify refuses are set
    aside with its code, the rest sent again): one PUT target per item staged."""
    uploads = {id(item): upload(item) for item in items}

    def spec(item: T) -> dict:
        u = uploads[id(item)]
        return {
            "resource": u.resource,
            "filename": u.filename,
            "mimeType": u.mime_type,
            "fileSize": str(u.size),
            "httpMethod": "PUT",
        }

    outcome = send_batches(
        client, ops.STAGED_UPLOADS_CREATE, list(items), input_key="input", spec=spec, sleep=sleep
    )
    staged: Staged[T] = Staged(refused=list(outcome.refused))
    for applied in outcome.applied:
        targets = applied.result.payload("stagedUploadsCreate").get("stagedTargets") or []
        target = targets[applied.index] if applied.index < len(targets) else None
        if not target:
            staged.refused.append(
                Refused(applied.item, "STAGED_UPLOAD_FAILED", "Shopify returned no staged target.")
            )
            continue
        headers = {p["name"]: p["value"] for p in target.get("parameters") or ()}
        headers.setdefault("Content-Type", uploads[id(applied.item)].mime_type)
        staged.targets.append(
            (applied.item, StagedTarget(target["url"], target["resourceUrl"], headers))
        )
    return staged


def put_staged(target: StagedTarget, body: bytes, *, timeout: float = 120.0) -> None:
    """Send the bytes to their staged target (raises ``requests`` errors)."""
    from assetlink_project.http_client import session

    response = session().put(target.url, data=body, headers=target.headers, timeout=timeout)
    response.raise_for_status()


# --- reads -----------------------------------------------------------------------------------

IDS_PER_CALL = 250  # nodes(ids:) per read
REFERENCE_IDS_PER_QUERY = 50  # ids per files(query:) search (keeps the query string short)


@dataclass(frozen=True)
class FileNode:
    """A file of the store as Shopify reports it."""

    id: str
    status: str | None
    """fileStatus: UPLOADED, PROCESSING, READY, FAILED."""
    alt: str = ""
    url: str = ""
    error_code: str = ""
    error_message: str = ""

    @classmethod
    def from_json(cls, node: dict) -> FileNode:
        error = (node.get("fileErrors") or [{}])[0]
        return cls(
            node["id"],
            node.get("fileStatus"),
            node.get("alt") or "",
            _url(node),
            error.get("code") or "",
            error.get("message") or "",
        )


def _url(node: dict) -> str:
    if (node.get("image") or {}).get("url"):
        return node["image"]["url"]
    sources = node.get("sources") or []
    if sources:
        return sources[0].get("url") or ""
    return node.get("url") or ""


def created_files(result, mutation: str = "fileCreate") -> list[FileNode]:
    """The files a ``fileCreate`` (or ``fileUpdate``) answer lists, in the order of its
    inputs."""
    return [FileNode.from_json(n) for n in result.payload(mutation).get("files") or ()]


def file_statuses(client, file_ids: Sequence[str], *, brief: bool = False) -> dict[str, FileNode]:
    """The store's files among ``file_ids`` (those gone are left out), 250 per call. ``brief``
    reads only status and alt text (a third of the requested cost: no URL, no errors)."""
    found: dict[str, FileNode] = {}
    ids = list(dict.fromkeys(file_ids))
    op = ops.UPLOAD_FILES_READY if brief else ops.UPLOAD_FILES_STATUS
    for start in range(0, len(ids), IDS_PER_CALL):
        result = client.execute(op, {"ids": ids[start : start + IDS_PER_CALL]})
        for node in result.data.get("nodes") or ():
            if node and node.get("id") and "fileStatus" in node:
                found[node["id"]] = FileNode.from_json(node)
    return found


@dataclass(frozen=True)
class FilePage:
    files: list[FileNode]
    next_cursor: str | None
    """The cursor of the next page; None on the last page."""


def search_files(client, query: str, *, first: int, after: str | None = None) -> FilePage:
    """One page of ``files(query:)`` (Shopify's search syntax, e.g. ``created_at:>=…``)."""
    result = client.execute(ops.FILES_SEARCH, {"query": query, "first": first, "after": after})
    files = result.data.get("files") or {}
    page = files.get("pageInfo") or {}
    return FilePage(
        [FileNode.from_json(n) for n in files.get("nodes") or () if n and n.get("id")],
        page.get("endCursor") if page.get("hasNextPage") else None,
    )


def referenced_by_products(client, file_ids: Sequence[str]) -> set[str]:
    """Of ``file_ids``, the files some product references on Shopify. A File exposes no
    references of its own; ``files(query: "used_in:product")`` does. Raises ShopifyError."""
    used: set[str] = set()
    ids = list(file_ids)
    for start in range(0, len(ids), REFERENCE_IDS_PER_QUERY):
        chunk = ids[start : start + REFERENCE_IDS_PER_QUERY]
        terms = " OR ".join(f"id:{m.rsplit('/', 1)[-1]}" for m in chunk)
        page = search_files(client, f"used_in:product AND ({terms})", first=len(chunk))
        used.update(f.id for f in page.files if f.id in chunk)
    return used
