"""How the phases send their mutations: batched file updates and deletes, retried calls."""

from __future__ import annotations

import logging

from stores.shopify import operations as ops
from stores.shopify.errors import (
    ShopifyAuthError,
    ShopifyError,
    ShopifyUnavailable,
    UserError,
    retryable,
)

from .model import MAX_INPUT, _code, _index, _Step

logger = logging.getLogger(__name__)


class _Sending:
    """Part of :class:`linking.executor.Executor`."""

    def _answer(self, first, operation, variables: dict):
        """The answer ``first`` (a future of `ConcurrentSender`) holds, else a new call."""
        if first is None:
            return self.client.execute(operation, variables)
        result = first.result()
        if isinstance(result, ShopifyError):
            raise result
        return result

    def _mutate(self, step: _Step, operation, variables: dict, what: str):
        """One mutation for one product (see :meth:`_retrying`): the result, or None with
        ``step.error`` set."""
        result, code, message = self._retrying(operation, variables)
        if result is None:
            step.error = f"{what} failed: {code} {message}"
        return result

    def _retrying(self, operation, variables: dict, attempts: int = 5):
        """One mutation, see :meth:`_retrying_many`."""
        return self._retrying_many([(0, operation, variables)], attempts)[0]

    def _retrying_many(self, calls: list[tuple], attempts: int = 5) -> dict:
        """Independent mutations ``(key, operation, variables)``, each retried with backoff
        while Shopify asks to retry (retryable userErrors; no answer, when the operation is
        safe to send twice) — in rounds, one wait per round for all of them; a round's calls go
        out at once. Per key ``(result, "", "")`` on success, ``(None, code, message)`` when
        Shopify refused it (its first userError) or never answered."""
        answers: dict = {}
        todo = list(calls)
        for attempt in range(attempts):
            if attempt:
                self._sleep(min(self.poll_max * 2, self.poll_min * 2 ** (attempt + 2)))
            last = attempt + 1 == attempts
            again = []
            sent = self.sender.send_all([(n, op, v) for n, (_, op, v) in enumerate(todo)])
            for n, (key, operation, variables) in enumerate(todo):
                result = sent[n]
                if isinstance(result, ShopifyAuthError):
                    raise result
                if isinstance(result, ShopifyError):
                    exc = result
                    doubtful = getattr(exc, "maybe_applied", False) and not operation.idempotent
                    if isinstance(exc, ShopifyUnavailable) and not last and not doubtful:
                        again.append((key, operation, variables))
                    else:
                        answers[key] = (None, _code(exc), str(exc))
                    continue
                if result.ok:
                    answers[key] = (result, "", "")
                    continue
                err = result.user_errors[0]
                if err.retryable and not last:
                    again.append((key, operation, variables))
                else:
                    answers[key] = (None, err.code or "INVALID", err.message)
            todo = again
            if not todo:
                break
        for key, _, _ in todo:
            answers[key] = (None, "RETRIES_EXHAUSTED", "Shopify kept asking to retry.")
        return answers

    def _file_updates(self, inputs: list[tuple[_Step, str, dict]], *, attempts: int = 6):
        """fileUpdate in batches of 250. A call with userErrors changes nothing: the failing
        entries are set aside (those Shopify asks to retry — locked while processing or while a
        reorder is pending, internal errors — are retried later with backoff) and the rest
        resent. A call Shopify did not answer is retried (fileUpdate sets states: idempotent)."""
        done = []
        todo = list(inputs)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            retry_later = []
            for start in range(0, len(todo), MAX_INPUT):
                batch = todo[start : start + MAX_INPUT]
                while batch:
                    try:
                        result = self.client.execute(
                            ops.RUN_FILE_UPDATE, {"files": [spec for _, _, spec in batch]}
                        )
                    except ShopifyAuthError:
                        raise
                    except ShopifyError as exc:
                        if isinstance(exc, ShopifyUnavailable) and not last:
                            retry_later.extend(batch)
                        else:
                            for step, media_id, _ in batch:
                                step.fail(media_id, _code(exc), str(exc))
                        break
                    if result.ok:
                        done.extend(batch)
                        break
                    bad: dict[int, UserError] = {}
                    general = None
                    for err in result.user_errors:
                        index = _index(err.field)
                        if index is not None and 0 <= index < len(batch):
                            bad.setdefault(index, err)
                        else:
                            general = general or err
                    if general is not None:  # an error we cannot place: the whole call
                        if general.retryable and not last:
                            retry_later.extend(batch)
                        else:
                            for step, media_id, _ in batch:
                                step.fail(media_id, general.code or "INVALID", general.message)
                        break
                    keep = []
                    for i, item in enumerate(batch):
                        if i not in bad:
                            keep.append(item)
                        elif bad[i].retryable and not last:
                            retry_later.append(item)
                        else:
                            item[0].fail(item[1], bad[i].code or "INVALID", bad[i].message)
                    batch = keep
            if not retry_later:
                break
            todo = retry_later
            self._sleep(min(self.poll_max * 2, self.poll_min * 2 ** (attempt + 2)))
        return done

    def _delete_files(self, file_ids: list[str]) -> set[str]:
        """fileDelete in batches; the ids Shopify confirms deleted."""
        deleted: set[str] = set()
        for start in range(0, len(file_ids), MAX_INPUT):
            chunk = file_ids[start : start + MAX_INPUT]
            for attempt in range(4):
                try:
                    result = self.client.execute(ops.FILE_DELETE, {"fileIds": chunk})
                except ShopifyAuthError:
                    raise
                except ShopifyError as exc:
                    logger.warning("fileDelete failed: %s", exc)
                    if attempt == 3:
                        break
                    self._sleep(self.poll_min * 2 ** (attempt + 2))
                    continue
                deleted.update(result.payload("fileDelete").get("deletedFileIds") or ())
                if result.ok or not any(retryable(e) for e in result.user_errors):
                    break
                chunk = [m for m in chunk if m not in deleted]
                self._sleep(self.poll_min * 2 ** (attempt + 2))
        return deleted
