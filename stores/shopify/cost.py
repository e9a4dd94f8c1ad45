"""Query cost: a local model of Shopify's leaky bucket (pacing), a static estimate of a
document's requested cost, and the per-run `CostLedger`.

Pure code (no network, no Django); the clock and the sleep are injectable for tests.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, OperationType, parse
from graphql.language import OperationDefinitionNode
from graphql.utilities import value_from_ast_untyped

MUTATION_COST = 10
MAX_QUERY_COST = 1000


# --- dynamic mutation complexity ----------------------------------------------------------
# Shopify's developer changelog prices these mutations by their input instead of a flat 10:
# - productCreate / productUpdate: 10 + 0.4 per product metafield + 1.9 per product media
#   https://shopify.dev/changelog/dynamic-complexity-cost-for-productcreate-and-productupdate-mutations
# - productSet: 10 + 0.2 per variant + 0.6 per variant file + 0.4 per variant metafield
#   + 0.4 per product metafield + 1.9 per product file
#   https://shopify.dev/changelog/dynamic-complexity-cost-for-productset-mutation
# - metafieldsSet (2026-09-15): 10 + per distinct owner the weight of its type (Order 10,
#   Product 4, the 2-point row = ProductVariant, Collection/Customer/Shop 1, others 0)
#   https://shopify.dev/changelog/dynamic-complexity-cost-for-metafieldsset-mutation
# Shopify reports integer costs; fractions round to the nearest integer, halves up (the
# changelogs' worked examples are whole numbers; rounding is not documented).
METAFIELD_OWNER_WEIGHTS = {
    "Order": 10, "Product": 4, "ProductVariant": 2, "Collection": 1, "Customer": 1, "Shop": 1,
}  # fmt: skip


def _count(value) -> int:
    return len(value) if isinstance(value, list) else 0


def mutation_cost(name: str, args: dict) -> int:
    """The base cost of one mutation root field called with `args` (its payload aside)."""
    points = float(MUTATION_COST)
    if name in ("productCreate", "productUpdate"):
        product = args.get("product") or args.get("input") or {}
        points += 0.4 * _count(product.get("metafields")) + 1.9 * _count(args.get("media"))
    elif name == "productSet":
        product = args.get("input") or {}
        variants = product.get("variants") if isinstance(product.get("variants"), list) else []
        points += 0.2 * len(variants)
        points += sum(
            0.6 * (v.get("file") is not None) + 0.4 * _count(v.get("metafields")) for v in variants
        )
        points += 0.4 * _count(product.get("metafields")) + 1.9 * _count(product.get("files"))
    elif name == "metafieldsSet":
        owners = {m.get("ownerId") for m in args.get("metafields") or [] if isinstance(m, dict)}
        points += sum(
            METAFIELD_OWNER_WEIGHTS.get(str(o).split("/")[-2] if str(o).count("/") >= 2 else "", 0)
            for o in owners
        )
    return int(points + 0.5)


# --- static estimate ----------------------------------------------------------------------


def _arg(node: FieldNode, name: str, variables: dict):
    for a in node.arguments or ():
        if a.name.value == name:
            return value_from_ast_untyped(a.value, variables)
    return None


class _Estimator:
    """Shopify's requested-cost rules without the schema: a field with a selection is an
    object (1), a field with `first`/`last` is a connection (2 + n x one node), `nodes(ids:)`
    costs per id, leaves are free, and a mutation is 10 plus the connections in its payload.
    Type-conditioned fragments: those that apply to one concrete type add up (a fragment on
    `Media` or `File` applies to the types in INTERFACES), and the most expensive type counts,
    as in the emulator's `sandbox/shopify/cost.py`, which reads this from the schema."""

    def __init__(self, document, variables: dict | None):
        self.variables = variables or {}
        self.fragments = {
            d.name.value: d for d in document.definitions if d.kind == "fragment_definition"
        }

    def operation(self, op: OperationDefinitionNode) -> int:
        if op.operation == OperationType.MUTATION:
            total = 0
            for sel in op.selection_set.selections:
                if isinstance(sel, FieldNode):
                    args = {
                        a.name.value: _arg(sel, a.name.value, self.variables)
                        for a in sel.arguments or ()
                    }
                    total += mutation_cost(sel.name.value, args)
                    total += self.selection(sel.selection_set, free=True)
            return total
        return self.selection(op.selection_set, free=False, root=True)

    def selection(self, selection_set, free: bool, root: bool = False) -> int:
        if selection_set is None:
            return 0
        total = 0
        conditioned: dict[str, int] = {}  # type condition -> summed cost of its fragments
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                total += self.field(sel, free, root)
                continue
            if isinstance(sel, InlineFragmentNode):
                cond, sset = sel.type_condition, sel.selection_set
            elif isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is None:
                    continue
                cond, sset = frag.type_condition, frag.selection_set
            else:
                continue
            cost = self.selection(sset, free)
            if cond is None:
                total += cost
            else:
                conditioned[cond.name.value] = conditioned.get(cond.name.value, 0) + cost
        return total + _best_branch(conditioned)

    def field(self, node: FieldNode, free: bool, root: bool) -> int:
        if node.name.value.startswith("__") or node.selection_set is None:
            return 0
        n = _arg(node, "first", self.variables) or _arg(node, "last", self.variables)
        if n is not None:
            return 2 + int(n) * self.connection_item(node.selection_set)
        if root and node.name.value == "nodes":
            ids = _arg(node, "ids", self.variables) or []
            return len(ids) * (1 + self.selection(node.selection_set, False))
        return (0 if free else 1) + self.selection(node.selection_set, free)

    def connection_item(self, selection_set) -> int:
        best = 0
        for sel in selection_set.selections:
            if not isinstance(sel, FieldNode):
                continue
            if sel.name.value == "nodes":
                best = max(best, 1 + self.selection(sel.selection_set, False))
            elif sel.name.value == "edges" and sel.selection_set:
                for sub in sel.selection_set.selections:
                    if isinstance(sub, FieldNode) and sub.name.value == "node":
                        best = max(best, 1 + self.selection(sub.selection_set, False))
        return best


# The media and file interfaces of the Admin API (2026-01) and the types implementing them, so
# that `... on Media {…} ... on MediaImage {…}` adds up for a MediaImage as Shopify counts it.
INTERFACES = {
    "Media": frozenset({"ExternalVideo", "MediaImage", "Model3d", "Video"}),
    "File": frozenset({"ExternalVideo", "GenericFile", "MediaImage", "Model3d", "Video"}),
}


def _best_branch(conditioned: dict[str, int]) -> int:
    """Fragments that apply to one concrete type add up; the most expensive type counts."""
    if not conditioned:
        return 0
    types = {t for c in conditioned for t in INTERFACES.get(c, {c})}
    return max(
        sum(
            cost for cond, cost in conditioned.items() if t == cond or t in INTERFACES.get(cond, ())
        )
        for t in types
    )


def estimate_cost(document: str | object, variables: dict | None = None) -> int:
    """Static estimate of the requested cost of a one-operation document."""
    doc = parse(document) if isinstance(document, str) else document
    ops = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    if len(ops) != 1:
        raise ValueError("estimate_cost wants a document with exactly one operation")
    return _Estimator(doc, variables).operation(ops[0])


# --- the bucket model ---------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottleStatus:
    maximum_available: float
    currently_available: float
    restore_rate: float

    @classmethod
    def from_json(cls, data: dict | None) -> ThrottleStatus | None:
        if not data:
            return None
        try:
            return cls(
                maximum_available=float(data["maximumAvailable"]),
                currently_available=float(data["currentlyAvailable"]),
                restore_rate=float(data["restoreRate"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class CallCost:
    """`extensions.cost` of one response."""

    requested: int | None
    actual: int | None
    throttle_status: ThrottleStatus | None

    @classmethod
    def from_extensions(cls, extensions: dict | None) -> CallCost:
        cost = (extensions or {}).get("cost") or {}
        return cls(
            requested=cost.get("requestedQueryCost"),
            actual=cost.get("actualQueryCost"),
            throttle_status=ThrottleStatus.from_json(cost.get("throttleStatus")),
        )


class ThrottleBucket:
    """Local model of one shop's leaky bucket, shared by the threads of a run.

    Readings come from `throttleStatus` (currentlyAvailable after the call, refunds
    included). Between readings the model refills at restoreRate. `acquire(cost)` reserves
    `cost` points, sleeping first just long enough for the model to hold them; readings
    subtract the reservations of requests still in flight (their cost may not be in the
    reading yet), so concurrent threads pace each other instead of racing into THROTTLED.
    Until the first reading nothing is known and nothing waits.
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sleep=time.sleep):
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.maximum: float | None = None
        self.restore_rate: float | None = None
        self._available = 0.0
        self._stamp = 0.0
        self._in_flight: dict[int, float] = {}
        self._next_ticket = 0

    @property
    def known(self) -> bool:
        return self.maximum is not None

    def available(self) -> float | None:
        with self._lock:
            return self._refill() if self.known else None

    def _refill(self) -> float:
        now = self._clock()
        self._available = min(
            self.maximum, self._available + (now - self._stamp) * self.restore_rate
        )
        self._stamp = now
        return self._available

    def wait_needed(self, cost: float) -> float:
        """Seconds until the model holds `cost` points (0 if unknown or enough)."""
        with self._lock:
            return self._wait_locked(cost)

    def _wait_locked(self, cost: float) -> float:
        if not self.known or self.restore_rate <= 0:
            return 0.0
        need = min(float(cost), self.maximum)
        have = self._refill()
        return 0.0 if have >= need else (need - have) / self.restore_rate

    def acquire(self, cost: float) -> tuple[int, float]:
        """Reserve `cost` points; returns (ticket, seconds slept)."""
        slept = 0.0
        while True:
            with self._lock:
                wait = self._wait_locked(cost)
                if wait <= 0:
                    ticket = self._next_ticket
                    self._next_ticket += 1
                    reserve = min(float(cost), self.maximum) if self.known else float(cost)
                    if self.known:
                        self._available -= reserve
                    self._in_flight[ticket] = reserve
                    return ticket, slept
            # a hair more than needed so float rounding never leaves us 0.001 point short
            self._sleep(wait + 0.002)
            slept += wait + 0.002

    def release(self, ticket: int, status: ThrottleStatus | None) -> None:
        """The request of `ticket` got its answer; `status` is its throttleStatus (or None)."""
        with self._lock:
            reserved = self._in_flight.pop(ticket, 0.0)
            if status is None:
                if self.known:  # no reading (e.g. a 5xx): the reservation was not spent
                    self._available = min(self.maximum, self._available + reserved)
                return
            self.maximum = status.maximum_available
            self.restore_rate = status.restore_rate
            self._stamp = self._clock()
            others = sum(self._in_flight.values())
            self._available = status.currently_available - others

    def observe(self, status: ThrottleStatus) -> None:
        """A reading without a reservation (e.g. a THROTTLED answer, before the retry)."""
        with self._lock:
            self.maximum = status.maximum_available
            self.restore_rate = status.restore_rate
            self._stamp = self._clock()
            self._available = status.currently_available - sum(self._in_flight.values())


def throttled_wait(requested: float, status: ThrottleStatus) -> float:
    """How long a THROTTLED request must wait: (requested − available) / restoreRate."""
    if status.restore_rate <= 0:
        return 1.0
    need = min(requested, status.maximum_available)
    return max(0.0, (need - status.currently_available) / status.restore_rate)


# --- the ledger ---------------------------------------------------------------------------


@dataclass
class CostLedger:
    """What a run spent on the Admin API. Thread-safe; `merge` combines runs."""

    calls: int = 0
    requested_points: int = 0
    actual_points: int = 0
    throttled_seen: int = 0
    throttled_wait_seconds: float = 0.0
    pacing_waits: int = 0
    pacing_wait_seconds: float = 0.0
    http_seconds: float = 0.0
    """Wall time during which at least one HTTP request to Shopify was in flight (sent until
    its answer was read): concurrent calls of a wave count once, so it never exceeds the run's."""
    http_call_seconds: float = 0.0
    """The sum of every call's own HTTP time (concurrent calls each count)."""
    retries: Counter = field(default_factory=Counter)
    token_refreshes: int = 0
    errors: Counter = field(default_factory=Counter)
    first_started: float | None = None
    last_finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _in_flight: int = field(default=0, repr=False, compare=False)
    _busy_since: float = field(default=0.0, repr=False, compare=False)

    def start_call(self, at: float) -> None:
        with self._lock:
            if self.first_started is None or at < self.first_started:
                self.first_started = at

    def record_call(self, cost: CallCost, at: float) -> None:
        with self._lock:
            self.calls += 1
            self.requested_points += int(cost.requested or 0)
            self.actual_points += int(cost.actual or 0)
            if self.last_finished is None or at > self.last_finished:
                self.last_finished = at

    def record_throttled(self, wait: float) -> None:
        with self._lock:
            self.throttled_seen += 1
            self.throttled_wait_seconds += wait

    def record_pacing(self, wait: float) -> None:
        if wait > 0:
            with self._lock:
                self.pacing_waits += 1
                self.pacing_wait_seconds += wait

    def http_started(self, at: float) -> None:
        with self._lock:
            if self._in_flight == 0:
                self._busy_since = at
            self._in_flight += 1

    def http_finished(self, started: float, at: float) -> None:
        with self._lock:
            self.http_call_seconds += at - started
            self._in_flight -= 1
            if self._in_flight == 0:
                self.http_seconds += at - self._busy_since

    def record_retry(self, cause: str) -> None:
        with self._lock:
            self.retries[cause] += 1

    def record_error(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def record_refresh(self) -> None:
        with self._lock:
            self.token_refreshes += 1

    @property
    def wall_seconds(self) -> float:
        if self.first_started is None or self.last_finished is None:
            return 0.0
        return max(0.0, self.last_finished - self.first_started)

    @property
    def retries_total(self) -> int:
        return sum(self.retries.values())

    def merge(self, other: CostLedger) -> CostLedger:
        """A new ledger holding both (wall time spans both)."""
        out = CostLedger(
            calls=self.calls + other.calls,
            requested_points=self.requested_points + other.requested_points,
            actual_points=self.actual_points + other.actual_points,
            throttled_seen=self.throttled_seen + other.throttled_seen,
            throttled_wait_seconds=self.throttled_wait_seconds + other.throttled_wait_seconds,
            pacing_waits=self.pacing_waits + other.pacing_waits,
            pacing_wait_seconds=self.pacing_wait_seconds + other.pacing_wait_seconds,
            http_seconds=self.http_seconds + other.http_seconds,
            http_call_seconds=self.http_call_seconds + other.http_call_seconds,
            retries=self.retries + other.retries,
            token_refreshes=self.token_refreshes + other.token_refreshes,
            errors=self.errors + other.errors,
        )
        starts = [t for t in (self.first_started, other.first_started) if t is not None]
        ends = [t for t in (self.last_finished, other.last_finished) if t is not None]
        out.first_started = min(starts) if starts else None
        out.last_finished = max(ends) if ends else None
        return out

    def as_dict(self) -> dict:
        return {
            "calls": self.calls,
            "requested_points": self.requested_points,
            "actual_points": self.actual_points,
            "throttled_seen": self.throttled_seen,
            "throttled_wait_seconds": round(self.throttled_wait_seconds, 3),
            "pacing_waits": self.pacing_waits,
            "pacing_wait_seconds": round(self.pacing_wait_seconds, 3),
            "http_seconds": round(self.http_seconds, 3),
            "http_call_seconds": round(self.http_call_seconds, 3),
            "retries": dict(self.retries),
            "token_refreshes": self.token_refreshes,
            "errors": dict(self.errors),
            "wall_seconds": round(self.wall_seconds, 3),
        }

    def __str__(self) -> str:
        retries = ", ".join(f"{k}={v}" for k, v in sorted(self.retries.items())) or "none"
        return (
            f"calls={self.calls} points requested={self.requested_points} "
            f"actual={self.actual_points} throttled_seen={self.throttled_seen} "
            f"(waited {self.throttled_wait_seconds:.2f}s) pacing_waits={self.pacing_waits} "
            f"({self.pacing_wait_seconds:.2f}s) retries: {retries} "
            f"refreshes={self.token_refreshes} wall={self.wall_seconds:.2f}s"
        )
