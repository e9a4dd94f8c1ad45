"""The Shopify Admin GraphQL client: one instance per store per run, shared by its threads.

- HTTP through the one outbound session (`assetlink_project.http_client`: no redirects, no
  transport retries for these POSTs) to `endpoints.graphql_url(shop)` with connect/read
  timeouts. `ShopifyAPI`'s `GraphQL().execute` is not used: it has no timeout, no retries,
  returns a raw string and reads its site from process-wide class attributes; the URL comes
  from `endpoints` (sandbox-aware) and the API version is validated by settings, so nothing of
  ShopifyAPI is needed on this path.
- Retries with jittered exponential backoff on 5xx, 429 (Retry-After honoured), timeouts and
  connection errors, then `ShopifyUnavailable`. A non-idempotent mutation (e.g. adding media)
  is retried only when Shopify surely did not run it (connect errors, 429, 503); after a read
  timeout or another 5xx it fails with `maybe_applied=True` so the run can reconcile instead
  of creating duplicates.
- Pacing: `ThrottleBucket` models the shop's leaky bucket from every `throttleStatus`; before
  a request the client waits until the model holds the request's expected cost (the cost
  Shopify reported for the same operation and shape last time, else a static estimate).
  A `THROTTLED` answer is waited out ((requested − available) / restoreRate) and retried; it
  never reaches the caller.
- Typed results: `Result.user_errors` (UserError dataclasses from userErrors and
  mediaUserErrors), `ShopifyGraphQLError`/`MaxCostExceeded` for top-level errors.
- Every call is counted in the run's `CostLedger` (`client.ledger`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests
from django.conf import settings

from assetlink_project import http_client

from . import drift, endpoints
from .cost import CallCost, CostLedger, ThrottleBucket, estimate_cost, throttled_wait
from .errors import (
    GraphQLErrorDetail,
    MaxCostExceeded,
    ShopifyAuthError,
    ShopifyError,
    ShopifyGraphQLError,
    ShopifyHTTPError,
    ShopifyUnavailable,
    ShopifyUserErrors,
    UserError,
)
from .operations import Operation
from .tokens import StaticToken, TokenProvider

logger = logging.getLogger(__name__)

USER_AGENT = "AssetLink/0.1 (+https://github.com/assetlink)"
RETRYABLE_STATUS = {500, 502, 503, 504}
NOT_EXECUTED_STATUS = {429, 503}  # Shopify answers these before running the operation


@dataclass(frozen=True)
class Result:
    """The answer to one operation."""

    operation: str
    data: dict
    cost: CallCost
    user_errors: tuple[UserError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.user_errors

    def payload(self, name: str | None = None) -> dict:
        """A mutation's payload (the only one when `name` is omitted)."""
        if name is None:
            if len(self.data) != 1:
                raise KeyError("several payloads; name one")
            name = next(iter(self.data))
        return self.data.get(name) or {}

    def raise_for_user_errors(self) -> Result:
        if self.user_errors:
            first = self.user_errors[0]
            raise ShopifyUserErrors(
                f"{self.operation}: {first.message}"
                + (f" (and {len(self.user_errors) - 1} more)" if len(self.user_errors) > 1 else ""),
                errors=self.user_errors,
                data=self.data,
                operation=self.operation,
            )
        return self


def _user_errors(operation: Operation, data: dict) -> tuple[UserError, ...]:
    out: list[UserError] = []
    for key in operation.payloads:
        payload = data.get(key) or {}
        for list_key in ("userErrors", "mediaUserErrors"):
            for err in payload.get(list_key) or ():
                out.append(UserError.from_json(err, payload=key))
    return tuple(out)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class _Retry(Exception):
    def __init__(self, cause: str, safe: bool, delay: float | None = None):
        self.cause, self.safe, self.delay = cause, safe, delay


class ShopifyClient:
    """Admin GraphQL API of one shop. Thread-safe: share one instance across a run's threads."""

    def __init__(
        self,
        shop: str,
        tokens: TokenProvider | str,
        *,
        api_version: str | None = None,
        ledger: CostLedger | None = None,
        bucket: ThrottleBucket | None = None,
        session: requests.Session | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 20.0,
        max_throttled: int = 50,
        sleep=time.sleep,
    ):
        self.shop = shop
        self.tokens: TokenProvider = StaticToken(tokens) if isinstance(tokens, str) else tokens
        self.api_version = api_version or settings.SHOPIFY_API_VERSION
        self.url = endpoints.graphql_url(shop, self.api_version)
        self.ledger = ledger if ledger is not None else CostLedger()
        self.bucket = bucket if bucket is not None else ThrottleBucket(sleep=sleep)
        self.timeout = (connect_timeout, read_timeout)
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_throttled = max_throttled
        self._sleep = sleep
        self._learned: dict[tuple[str, int], int] = {}
        self._learned_lock = threading.Lock()
        self.session = session or http_client.session()

    # --- public API ------------------------------------------------------------------------

    def execute(
        self,
        operation: Operation,
        variables: dict | None = None,
        *,
        raise_user_errors: bool = False,
    ) -> Result:
        """Run a named operation (see `operations`). Raises ShopifyError subclasses."""
        result = self._execute(operation, variables or {})
        if raise_user_errors:
            result.raise_for_user_errors()
        return result

    def expected_cost(self, operation: Operation, variables: dict | None = None) -> int:
        static = estimate_cost(operation.document, variables or {})
        with self._learned_lock:
            return self._learned.get((operation.name, static), static)

    # --- internals -------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return delay * (0.5 + random.random() / 2)

    def _execute(self, op: Operation, variables: dict) -> Result:
        static = estimate_cost(op.document, variables)
        body = {"query": op.document, "variables": variables, "operationName": op.name}
        attempts = throttled = 0
        unauthorized_retried = False
        while True:
            refreshes = self.tokens.refreshes
            token = self.tokens.token()
            if self.tokens.refreshes != refreshes:
                self.ledger.record_refresh()
            with self._learned_lock:
                expected = self._learned.get((op.name, static), static)
            ticket, slept = self.bucket.acquire(expected)
            self.ledger.record_pacing(slept)
            started = time.monotonic()
            self.ledger.start_call(started)
            self.ledger.http_started(started)
            status = None
            try:
                try:
                    response = self.session.post(
                        self.url,
                        json=body,
                        headers={
                            "X-Shopify-Access-Token": token,
                            "Accept": "application/json",
                            "User-Agent": USER_AGENT,
                        },
                        timeout=self.timeout,
                    )
                except requests.ConnectTimeout as exc:
                    raise _Retry("connect_timeout", True) from exc
                except requests.ConnectionError as exc:
                    # connection refused/reset: a reset after sending may have executed it
                    raise _Retry("connection", op.idempotent or _refused(exc)) from exc
                except requests.Timeout as exc:
                    raise _Retry("read_timeout", op.idempotent) from exc
                finally:
                    self.ledger.http_finished(started, time.monotonic())

                drift.observe(self.shop, self.api_version, response.headers)
                if response.status_code == 401:
                    if not unauthorized_retried:
                        unauthorized_retried = True
                        new = self.tokens.after_unauthorized(token)
                        if new:
                            self.ledger.record_refresh()
                            self.ledger.record_retry("unauthorized")
                            continue
                    raise ShopifyAuthError(
                        f"Shopify rejected the access token of {self.shop}; open the app from "
                        "the store's admin to reconnect it.",
                        shop=self.shop,
                        operation=op.name,
                    )
                if response.status_code == 429:
                    raise _Retry(
                        "http_429", True, _retry_after(response.headers.get("Retry-After"))
                    )
                if response.status_code in RETRYABLE_STATUS:
                    safe = op.idempotent or response.status_code in NOT_EXECUTED_STATUS
                    raise _Retry(f"http_{response.status_code}", safe)
                if response.status_code == 403:
                    raise ShopifyAuthError(
                        f"Shopify refused {op.name} on {self.shop} (403): the app lacks a "
                        "permission; reinstall it to grant the current scopes.",
                        shop=self.shop,
                        operation=op.name,
                    )
                if response.status_code != 200:
                    raise ShopifyHTTPError(
                        f"Shopify answered HTTP {response.status_code} to {op.name} on "
                        f"{self.shop}.",
                        http_status=response.status_code,
                        body=response.text[:500],
                        shop=self.shop,
                        operation=op.name,
                    )
                try:
                    payload = response.json()
                except (ValueError, json.JSONDecodeError) as exc:
                    raise _Retry("bad_json", op.idempotent) from exc
            except _Retry as retry:
                self.bucket.release(ticket, None)
                attempts += 1
                if not retry.safe or attempts >= self.max_attempts:
                    self.ledger.record_error(retry.cause)
                    raise ShopifyUnavailable(
                        f"Shopify did not answer {op.name} for {self.shop} "
                        f"({retry.cause}, {attempts} attempt{'s' if attempts > 1 else ''}).",
                        cause=retry.cause,
                        attempts=attempts,
                        maybe_applied=not retry.safe,
                        shop=self.shop,
                        operation=op.name,
                    ) from retry.__cause__
                delay = retry.delay if retry.delay is not None else self._backoff(attempts)
                self.ledger.record_retry(retry.cause)
                logger.info(
                    "Retrying %s on %s in %.2fs (%s, attempt %d)",
                    op.name,
                    self.shop,
                    delay,
                    retry.cause,
                    attempts,
                )
                self._sleep(min(delay, 60.0))
                continue
            except BaseException:
                self.bucket.release(ticket, None)
                raise

            cost = CallCost.from_extensions(payload.get("extensions"))
            status = cost.throttle_status
            errors = payload.get("errors")
            if errors and _has_code(errors, "THROTTLED"):
                self.bucket.release(ticket, status)
                throttled += 1
                wait = throttled_wait(cost.requested or expected, status) if status else 1.0
                self.ledger.record_throttled(wait)
                if cost.requested:
                    with self._learned_lock:
                        self._learned[(op.name, static)] = int(cost.requested)
                if throttled > self.max_throttled:
                    raise ShopifyUnavailable(
                        f"Shopify kept throttling {op.name} on {self.shop}.",
                        cause="throttled",
                        attempts=throttled,
                        shop=self.shop,
                        operation=op.name,
                    )
                self._sleep(wait + 0.01)
                continue
            self.bucket.release(ticket, status)
            finished = time.monotonic()
            self.ledger.record_call(cost, finished)
            if cost.requested:
                with self._learned_lock:
                    self._learned[(op.name, static)] = int(cost.requested)
            if errors:
                self._raise_graphql(op, errors, payload.get("data"))
            data = payload.get("data") or {}
            logger.debug(
                "%s on %s: cost %s/%s in %.3fs",
                op.name,
                self.shop,
                cost.requested,
                cost.actual,
                finished - started,
            )
            return Result(op.name, data, cost, _user_errors(op, data))

    def _raise_graphql(self, op: Operation, errors, data) -> None:
        details = (
            [GraphQLErrorDetail.from_json(e) for e in errors]
            if isinstance(errors, list)
            else [GraphQLErrorDetail(message=str(errors))]
        )
        codes = {d.code for d in details}
        cls = MaxCostExceeded if "MAX_COST_EXCEEDED" in codes else ShopifyGraphQLError
        self.ledger.record_error(cls.__name__)
        raise cls(
            f"{op.name} on {self.shop}: {details[0].message}",
            errors=details,
            data=data,
            shop=self.shop,
            operation=op.name,
        )


def _has_code(errors, code: str) -> bool:
    if not isinstance(errors, list):
        return False
    return any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == code for e in errors
    )


def _refused(exc: requests.ConnectionError) -> bool:
    text = repr(exc).lower()
    return "refused" in text or "name or service not known" in text or "newconnectionerror" in text


__all__ = ["ShopifyClient", "Result", "ShopifyError", "ShopifyUserErrors", "CostLedger"]
