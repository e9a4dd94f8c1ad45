"""Bulk query operations: start ``bulkOperationRunQuery``, poll, download the JSONL result.

Several run overlapped, up to the number Shopify runs at once per app and shop; one polling
round covers every running operation. The operations are typed in :mod:`.operations`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from assetlink_project import http_client

from . import operations as ops
from .errors import ShopifyError


class BulkOperationError(ShopifyError):
    """Shopify did not start a bulk operation, or it ended without a result."""

    status_code = 502


BULK_CONCURRENT = 5  # Shopify runs up to 5 bulk query operations per app and shop at once

# The status poll schedule: a first look soon after the start (small exports finish in well under
# a second), then a gently growing interval that never exceeds POLL_CAP, so a finished export is
# noticed at most POLL_CAP seconds late; after any export finishes the schedule starts again (the
# others started together are likely close). A status poll costs 1 point: at the cap, a
# 10-minute export polls ~600 times, a few seconds of a Standard bucket's refill.
POLL_FIRST = 0.1
POLL_GROWTH = 1.5
POLL_CAP = 1.0


def run_bulk_query(client, query: str, **kwargs) -> list[dict]:
    """Run a bulk query, wait for it, and return its JSONL lines (children carry
    ``__parentId`` and come after their parent)."""
    return run_bulk_queries(client, [query], **kwargs)[0]


def run_bulk_queries(
    client,
    queries: list[str],
    *,
    poll_interval: float = POLL_FIRST,
    timeout: float = 600.0,
    sleep=time.sleep,
    concurrent: int = BULK_CONCURRENT,
    on_done: Callable[[int, int], None] | None = None,
) -> list[list[dict]]:
    """Run several bulk queries overlapped (up to ``concurrent`` at once, as Shopify allows)
    and return each one's JSONL lines, in the order of ``queries``. One polling round covers
    every running operation, so n exports wait about as long as the slowest, not n times.
    ``on_done(done, total)`` is told as each export is downloaded; ``sleep`` may raise to stop
    (a cancelled dry run)."""
    results: list[list[dict] | None] = [None] * len(queries)
    waiting = list(range(len(queries)))
    running: dict[int, str] = {}  # query index → bulk operation id
    deadline = time.monotonic() + timeout
    delay = poll_interval
    done = 0
    while waiting or running:
        while waiting and len(running) < concurrent:
            op_id = _start_bulk(client, queries[waiting[0]])
            if op_id is None:
                break  # Shopify's limit is reached (other exports of the app): start it later
            running[waiting.pop(0)] = op_id
        finished = []
        for index, op_id in running.items():
            status = client.execute(ops.BULK_OPERATION_STATUS, {"id": op_id}).data.get(
                "bulkOperation"
            )
            state = (status or {}).get("status")
            if state == "COMPLETED":
                results[index] = _download(status.get("url"))
                finished.append(index)
                done += 1
                if on_done is not None:
                    on_done(done, len(queries))
            elif state in ("FAILED", "CANCELED", "EXPIRED", None):
                raise BulkOperationError(
                    f"Shopify's export {op_id} ended {state or 'missing'} "
                    f"({(status or {}).get('errorCode') or 'no error code'}); try again."
                )
        for index in finished:
            del running[index]
        if finished:
            delay = poll_interval  # the others may be close behind: look again soon
            if waiting or running:
                continue  # start the next exports at once
        if not (waiting or running):
            break
        if time.monotonic() > deadline:
            raise BulkOperationError(f"Shopify's exports did not finish in {timeout:.0f} s.")
        sleep(delay)
        delay = min(delay * POLL_GROWTH, max(POLL_CAP, poll_interval))
    return [r or [] for r in results]


def _start_bulk(client, query: str) -> str | None:
    started = client.execute(ops.BULK_OPERATION_RUN_QUERY, {"query": query})
    payload = started.payload("bulkOperationRunQuery")
    if payload.get("bulkOperation") and not started.user_errors:
        return payload["bulkOperation"]["id"]
    error = started.user_errors[0] if started.user_errors else None
    if error is not None and error.code == "OPERATION_IN_PROGRESS":
        return None
    message = error.message if error else "no operation"
    raise BulkOperationError(f"Shopify did not start the export: {message}")


def _download(url: str | None) -> list[dict]:
    if not url:
        return []  # Shopify gives no file when nothing matched
    response = http_client.session().get(url, timeout=(http_client.CONNECT_TIMEOUT, 120))
    if response.status_code != 200:
        raise BulkOperationError(
            f"Downloading Shopify's export failed (HTTP {response.status_code})."
        )
    return [json.loads(line) for line in response.text.splitlines() if line.strip()]
