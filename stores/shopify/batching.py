"""Sending many Admin API calls of one run: independent calls at once, and batches whose
userErrors set some inputs aside.

`send_batches` is the one place that carries out a list mutation's userErrors per input: the
inputs Shopify refused are set aside (with its code and message), those it asks to retry go
again after a backoff, the rest is resent; typed results (`BatchOutcome`). `send_retrying`
retries independent calls (reorders, variant media, metafields) in rounds.

`ConcurrentSender` sends independent operations from a few threads. Only HTTP happens there:
the caller's thread reads the answers and does every database write (journal, records), so
"journal before the mutation" holds as before. All threads share the client's `ThrottleBucket`
(thread-safe), which paces them, so Shopify's cost bucket, not the number of threads, is the
bound; `workers` only has to cover the latency of the calls in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from .errors import ShopifyAuthError, ShopifyError, ShopifyUnavailable, UserError

if TYPE_CHECKING:
    from .client import Result
    from .operations import Operation

T = TypeVar("T")

NOT_SENT = object()
"""The answer of a call that `send_all`'s ``skip`` kept from being sent (an abort)."""


def _close_thread_connections() -> None:
    """A token refresh may read or write the Store from a pool thread: its connection is that
    thread's own, closed when the call is done (none is left to time out or leak)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()


class ConcurrentSender:
    def __init__(self, client, *, workers: int = 8):
        self.client = client
        self.workers = max(1, int(workers))
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _call(self, operation, variables: dict, skip: Callable[[], bool] | None):
        if skip is not None and skip():
            return NOT_SENT
        try:
            return self.client.execute(operation, variables)
        except ShopifyError as exc:  # an answer like any other: the caller decides
            return exc
        finally:
            _close_thread_connections()

    def submit(
        self, operation, variables: dict, *, skip: Callable[[], bool] | None = None
    ) -> Future:
        """One call, sent from a pool thread; the future holds the `Result`, the
        `ShopifyError` it raised, or `NOT_SENT`. Anything else it raised is re-raised by
        ``future.result()``."""
        if self.workers == 1:
            future: Future = Future()
            try:
                skipped = skip is not None and skip()
                future.set_result(
                    NOT_SENT if skipped else self.client.execute(operation, variables)
                )
            except ShopifyError as exc:
                future.set_result(exc)
            except BaseException as exc:  # noqa: BLE001 - re-raised by future.result()
                future.set_exception(exc)
            return future
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="shopify-send")
            pool = self._pool
        return pool.submit(self._call, operation, variables, skip)

    def send_all(
        self,
        calls: Sequence[tuple[Hashable, object, dict]],
        *,
        skip: Callable[[], bool] | None = None,
    ) -> dict:
        """Independent calls ``(key, operation, variables)`` at once; per key the `Result`,
        the `ShopifyError` or `NOT_SENT` (``skip()`` was true when its turn came)."""
        if len(calls) == 1 or self.workers == 1:
            return {key: self.submit(op, v, skip=skip).result() for key, op, v in calls}
        futures = [(key, self.submit(op, v, skip=skip)) for key, op, v in calls]
        return {key: future.result() for key, future in futures}

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


# --- batches whose userErrors set some inputs aside ------------------------------------------

MAX_INPUT = 250  # Shopify's limit on the items of one input list (fileUpdate, fileCreate, ...)


@dataclass(frozen=True)
class Triage:
    """A mutation's userErrors sorted by the input they name (``field`` = [list, index, ...])."""

    by_input: dict[int, UserError]
    """The first userError of each input it names (index in the call's input list)."""
    general: tuple[UserError, ...]
    """The errors that name no input of the call: they refuse the call as a whole."""


def triage(result: Result, input_key: str, count: int) -> Triage:
    """Sort ``result``'s userErrors by the input of ``input_key`` (e.g. "files") they name."""
    by_input: dict[int, UserError] = {}
    general: list[UserError] = []
    for error in result.user_errors:
        index = input_index(error, input_key)
        if index is not None and 0 <= index < count:
            by_input.setdefault(index, error)
        else:
            general.append(error)
    return Triage(by_input, tuple(general))


def input_index(error: UserError, input_key: str) -> int | None:
    """The index of the input ``error`` names in the list ``input_key``, if it names one."""
    parts = error.field
    if len(parts) >= 2 and parts[0] == input_key and parts[1].isdigit():
        return int(parts[1])
    return None


def error_code(exc: ShopifyError) -> str:
    """A code for a failure the client raised: its cause (``HTTP_503``, ``READ_TIMEOUT``), the
    first GraphQL error code, else the error's type."""
    cause = getattr(exc, "cause", None)
    if cause:
        return str(cause).upper()
    codes = getattr(exc, "codes", None)
    if codes:
        return codes[0]
    return type(exc).__name__


@dataclass(frozen=True)
class Applied(Generic[T]):
    """An input Shopify applied: ``result`` is the answer of the call that applied it and
    ``index`` its position in that call's input list (its node in the payload)."""

    item: T
    result: Result
    index: int


@dataclass(frozen=True)
class Refused(Generic[T]):
    """An input Shopify did not apply, for good: its userError (or the call's failure)."""

    item: T
    code: str
    message: str


@dataclass
class BatchOutcome(Generic[T]):
    applied: list[Applied[T]] = field(default_factory=list)
    refused: list[Refused[T]] = field(default_factory=list)

    @property
    def items(self) -> list[T]:
        """The inputs applied, in the order Shopify applied them."""
        return [a.item for a in self.applied]


@dataclass(frozen=True)
class Backoff:
    """The pause before round ``n`` (1, 2, ...) of a retry: ``first`` x 2^(n+1), at most
    ``cap`` seconds."""

    first: float = 0.05
    cap: float = 4.0

    def delay(self, round_no: int) -> float:
        return min(self.cap, self.first * 2 ** (round_no + 1))


def send_batches(
    client,
    operation: Operation,
    items: Sequence[T],
    *,
    input_key: str,
    spec: Callable[[T], object],
    attempts: int = 6,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
    batch_size: int = MAX_INPUT,
    variables: dict | None = None,
    before_send: Callable[[list[T]], None] | None = None,
    not_applied: Callable[[list[T]], None] | None = None,
    settle_doubt: Callable[[list[T], ShopifyUnavailable], list[T]] | None = None,
    applied_despite_errors: Callable[[Result, list[T]], set[int]] | None = None,
) -> BatchOutcome[T]:
    """Send ``items`` through a mutation that takes a list (``variables[input_key]``, one
    ``spec(item)`` each, ``batch_size`` per call) and carry out Shopify's userErrors per input.

    A call with userErrors changes nothing (fileUpdate, fileCreate, fileDelete): the inputs they
    name are set aside and the rest is sent again at once. An input refused with a retryable
    code (FILE_LOCKED or MEDIA_CANNOT_BE_MODIFIED while Shopify processes or reorders,
    NON_READY_STATE, INTERNAL_ERROR, ... see `UserError.retryable`) goes again in the next
    round, after ``backoff``; at most ``attempts`` rounds. Errors that name no input refuse the
    whole call (retried likewise when retryable). A call Shopify did not answer is sent again
    in the next round when sending it twice is harmless (`Operation.idempotent`); when it may
    have run (``maybe_applied``), ``settle_doubt(batch, exc)`` says which inputs it did not apply
    (the caller adopts the others) and those go again. ``ShopifyAuthError`` is raised.

    ``before_send(batch)`` comes before every call (journal before every mutation);
    ``not_applied(batch)`` after a call that surely changed nothing for those inputs.
    ``applied_despite_errors(result, batch)``: for a mutation that applies some inputs of a
    call with userErrors, the indexes it applied.
    """
    outcome: BatchOutcome[T] = BatchOutcome()

    def refuse(batch: Sequence[T], code: str, message: str) -> None:
        outcome.refused.extend(Refused(item, code, message) for item in batch)

    todo = list(items)
    for round_no in range(max(1, attempts)):
        if round_no:
            sleep(backoff.delay(round_no))
        last = round_no + 1 >= attempts
        later: list[T] = []
        for start in range(0, len(todo), batch_size):
            batch = todo[start : start + batch_size]
            while batch:
                if before_send is not None:
                    before_send(batch)
                call = dict(variables or {})
                call[input_key] = [spec(item) for item in batch]
                try:
                    result = client.execute(operation, call)
                except ShopifyAuthError:
                    raise
                except ShopifyUnavailable as exc:
                    if exc.maybe_applied and settle_doubt is not None:
                        rest = settle_doubt(batch, exc)
                    elif exc.maybe_applied:
                        refuse(batch, error_code(exc), str(exc))
                        break
                    else:
                        rest = batch
                    if not_applied is not None and rest:
                        not_applied(rest)
                    if (operation.idempotent or exc.maybe_applied) and not last:
                        later += rest
                    else:
                        refuse(rest, error_code(exc), str(exc))
                    break
                except ShopifyError as exc:
                    if not_applied is not None:
                        not_applied(batch)
                    refuse(batch, error_code(exc), str(exc))
                    break
                if result.ok:
                    outcome.applied += [Applied(item, result, n) for n, item in enumerate(batch)]
                    break
                done = applied_despite_errors(result, batch) if applied_despite_errors else set()
                outcome.applied += [Applied(batch[n], result, n) for n in sorted(done)]
                sorted_errors = triage(result, input_key, len(batch))
                if not_applied is not None:
                    not_applied([item for n, item in enumerate(batch) if n not in done])
                if sorted_errors.general:  # an error that names no input: the whole call
                    error = sorted_errors.general[0]
                    rest = [item for n, item in enumerate(batch) if n not in done]
                    if error.retryable and not last:
                        later += rest
                    else:
                        refuse(rest, error.code or "INVALID", error.message)
                    break
                keep = []
                for n, item in enumerate(batch):
                    error = sorted_errors.by_input.get(n)
                    if n in done:
                        continue
                    if error is None:
                        keep.append(item)
                    elif error.retryable and not last:
                        later.append(item)
                    else:
                        refuse([item], error.code or "INVALID", error.message)
                batch = keep
        todo = later
        if not todo:
            break
    return outcome


@dataclass(frozen=True)
class CallOutcome:
    """The end of one retried call: its `Result`, or why Shopify did not apply it."""

    result: Result | None
    code: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.result is not None


def send_retrying(
    sender: ConcurrentSender,
    calls: Sequence[tuple[Hashable, Operation, dict]],
    *,
    attempts: int = 5,
    backoff: Backoff = Backoff(),
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Independent mutations ``(key, operation, variables)``, each retried while Shopify asks
    to retry (a retryable first userError; no answer, when the operation is safe to send twice)
    — in rounds, one pause per round for all of them; a round's calls go out at once. Per key a
    `CallOutcome`: the result, or Shopify's code and message (its first userError) when it
    refused or never answered."""
    answers: dict = {}
    todo = list(calls)
    for round_no in range(max(1, attempts)):
        if round_no:
            sleep(backoff.delay(round_no))
        last = round_no + 1 >= attempts
        again = []
        sent = sender.send_all([(n, op, v) for n, (_, op, v) in enumerate(todo)])
        for n, (key, operation, variables) in enumerate(todo):
            result = sent[n]
            if isinstance(result, ShopifyAuthError):
                raise result
            if isinstance(result, ShopifyError):
                doubtful = getattr(result, "maybe_applied", False) and not operation.idempotent
                if isinstance(result, ShopifyUnavailable) and not last and not doubtful:
                    again.append((key, operation, variables))
                else:
                    answers[key] = CallOutcome(None, error_code(result), str(result))
                continue
            if result.ok:
                answers[key] = CallOutcome(result)
                continue
            error = result.user_errors[0]
            if error.retryable and not last:
                again.append((key, operation, variables))
            else:
                answers[key] = CallOutcome(None, error.code or "INVALID", error.message)
        todo = again
        if not todo:
            break
    for key, _, _ in todo:
        answers[key] = CallOutcome(None, "RETRIES_EXHAUSTED", "Shopify kept asking to retry.")
    return answers
