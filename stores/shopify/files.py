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
    import requests

    response = requests.put(target.url, data=body, headers=target.headers, timeout=timeout)
    response.raise_for_status()
