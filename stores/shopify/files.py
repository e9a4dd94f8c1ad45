"""Typed verbs on the store's Files library, on top of `batching.send_batches`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from . import operations as ops
from .batching import Backoff, BatchOutcome, Refused, send_batches


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
