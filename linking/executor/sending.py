"""How the phases send their mutations: through `stores.shopify.batching` (batched file
updates and deletes whose userErrors set inputs aside, retried independent calls)."""

from __future__ import annotations

from stores.shopify import operations as ops
from stores.shopify.batching import Backoff, CallOutcome, send_batches, send_retrying
from stores.shopify.errors import ShopifyError
from stores.shopify.files import delete_files

from .model import _Step


class _Sending:
    """Part of :class:`linking.executor.Executor`."""

    def _backoff(self, first: float | None = None) -> Backoff:
        return Backoff(first=self.poll_min if first is None else first, cap=self.poll_max * 2)

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
        answer = self._retrying(operation, variables)
        if not answer.ok:
            step.error = f"{what} failed: {answer.code} {answer.message}"
        return answer.result

    def _retrying(self, operation, variables: dict, attempts: int = 5) -> CallOutcome:
        """One mutation, see :meth:`_retrying_many`."""
        return self._retrying_many([(0, operation, variables)], attempts)[0]

    def _retrying_many(self, calls: list[tuple], attempts: int = 5) -> dict[object, CallOutcome]:
        """Independent mutations ``(key, operation, variables)``, each retried with backoff
        while Shopify asks to retry; a round's calls go out at once (`send_retrying`)."""
        return send_retrying(
            self.sender,
            calls,
            attempts=attempts,
            backoff=self._backoff(self.poll_min * 2),
            sleep=self._sleep,
        )

    def _file_updates(self, inputs: list[tuple[_Step, str, dict]], *, attempts: int = 6):
        """fileUpdate in batches of 250 (`send_batches`): the inputs applied; those Shopify
        refused for good fail their media with its code and message."""
        outcome = send_batches(
            self.client,
            ops.FILE_UPDATE,
            inputs,
            input_key="files",
            spec=lambda item: item[2],
            attempts=attempts,
            backoff=self._backoff(),
            sleep=self._sleep,
        )
        for refused in outcome.refused:
            step, media_id, _ = refused.item
            step.fail(media_id, refused.code, refused.message)
        return outcome.items

    def _delete_files(self, file_ids: list[str]) -> set[str]:
        """fileDelete in batches (retried while Shopify asks to); the ids it confirms deleted."""
        outcome = delete_files(
            self.client, file_ids, attempts=4, backoff=self._backoff(), sleep=self._sleep
        )
        return set(outcome.items)
