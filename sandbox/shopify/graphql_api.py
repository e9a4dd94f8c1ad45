"""`POST .../admin/api/{version}/graphql.json`: auth, faults, cost/throttle, execution."""

from __future__ import annotations

import contextlib
import functools
import json
import random
import re
import socket
import time
import uuid
from pathlib import Path

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationType,
    build_schema,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from werkzeug.wrappers import Request, Response

from . import resolvers
from .cost import ActualCost, requested_cost
from .state import MAX_QUERY_COST, State

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
VERSION_RE = re.compile(r"^(\d{4}-(01|04|07|10)|unstable)$")


@functools.cache
def schema() -> GraphQLSchema:
    s = build_schema(SCHEMA_PATH.read_text())
    for name in ("Node", "Media", "File"):
        s.type_map[name].resolve_type = resolvers.resolve_type
    return s


@functools.lru_cache(maxsize=256)
def _checked(query: str) -> tuple:
    """(document, validation errors) of a query text: clients send the same few documents over
    and over, and validating one against the Admin schema costs 5-12 ms of CPU (Shopify too
    keeps what it learned of a query). A syntax error is raised, and not kept."""
    document = parse(query)
    return document, tuple(validate(schema(), document))


# Request ids from a generator seeded once: uuid4() reads os.urandom, a system call that lets
# go of the interpreter lock on every answer (under load the answering thread then waits its
# turn to take it back). They are as unique as Shopify's, not secret.
_request_ids = random.Random()


def _request_id() -> str:
    return str(uuid.UUID(int=_request_ids.getrandbits(128), version=4))


def _json(data, status: int = 200, headers: dict | None = None) -> Response:
    h = {"X-Request-Id": _request_id()}
    h.update(headers or {})
    return Response(json.dumps(data), status=status, mimetype="application/json", headers=h)


def _format_error(e: GraphQLError) -> dict:
    out = e.formatted
    m = re.match(r"Cannot query field '(\w+)' on type '(\w+)'\.", e.message)
    if m:
        out["message"] = f"Field '{m.group(1)}' doesn't exist on type '{m.group(2)}'"
        out["extensions"] = {
            "code": "undefinedField",
            "typeName": m.group(2),
            "fieldName": m.group(1),
        }
    return out


def _draw_faults(state: State, shop: str, mutation_fields: list[str]) -> dict:
    """One reproducible draw sequence per GraphQL request (under the state lock)."""
    f = state.faults
    out: dict = {"status": None, "slow": 0.0, "throttled": False, "inject": {}, "lost": None}
    if not f or (f["shops"] and shop not in f["shops"]):
        return out
    rng = state.fault_rng
    r = rng.random()
    edge = 0.0
    for code in (500, 502, 503):
        edge += f[f"http_{code}"]
        if r < edge:
            out["status"] = code
            break
    if rng.random() < f["slow"]:
        out["slow"] = f["slow_seconds"]
    if rng.random() < f["throttled"]:
        out["throttled"] = True
    none = {"rate": 0.0}
    for key, name in mutation_fields:
        spec = f["user_errors"].get(name) or f["user_errors"].get("*") or none
        if rng.random() < spec["rate"]:
            out["inject"][key] = spec
    for _key, name in mutation_fields:  # drawn only when configured: older seeds replay as before
        spec = f["lost_answers"].get(name) or f["lost_answers"].get("*")
        if spec and spec["rate"] > 0 and rng.random() < spec["rate"] and out["lost"] is None:
            out["lost"] = spec["mode"]
    return out


FAULT_BODIES = {
    500: ({"errors": "Internal Server Error"}, "application/json"),
    502: ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    503: ({"errors": "Service Unavailable"}, "application/json"),
}


def handle_graphql(
    state: State, request: Request, shop_domain: str | None, base_url: str, version: str
) -> Response:
    started = time.monotonic()
    token = state.token_shop(request.headers.get("X-Shopify-Access-Token"))
    if token is None or (shop_domain and token.shop != shop_domain):
        return _json({"errors": INVALID_TOKEN}, 401)
    if not VERSION_RE.match(version):
        return _json({"errors": "Not Found"}, 404)
    shop = state.shops[token.shop]
    # body
    raw = request.get_data()
    if request.mimetype == "application/graphql":
        body = {"query": raw.decode()}
    else:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return _json({"errors": "Invalid JSON in request body"}, 400)
    query = body.get("query") if isinstance(body, dict) else None
    if not query:
        return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
    variables = body.get("variables") or {}
    op_name = body.get("operationName")
    try:
        document, errors = _checked(query)
    except GraphQLError as e:
        return _json({"errors": [_format_error(e)]})
    if errors:
        return _json({"errors": [_format_error(e) for e in errors]})
    operation = get_operation_ast(document, op_name)
    if operation is None:
        return _json({"errors": [{"message": "An operation name is required"}]})
    mutation_fields = []
    if operation.operation == OperationType.MUTATION:
        for sel in operation.selection_set.selections:
            if sel.kind == "field":
                key = sel.alias.value if sel.alias else sel.name.value
                mutation_fields.append((key, sel.name.value))
    with state.lock:
        faults = _draw_faults(state, shop.domain, mutation_fields)
    if faults["slow"]:
        time.sleep(faults["slow"])
    if faults["status"]:
        payload, mime = FAULT_BODIES[faults["status"]]
        _log(state, shop, operation, None, None, faults["status"], started, "fault")
        if mime == "application/json":
            return _json(payload, faults["status"])
        return Response(payload, status=faults["status"], mimetype=mime)
    try:
        requested = requested_cost(schema(), document, operation, variables)
    except Exception:  # noqa: BLE001 - bad variables etc. are reported by execution
        requested = 1
    with state.lock:
        bucket = state.bucket(shop)
        bucket.refill()
        if requested > MAX_QUERY_COST:
            _log(state, shop, operation, requested, None, 200, started, "MAX_COST_EXCEEDED")
            return _json(
                {
                    "errors": [
                        {
                            "message": (
                                f"Query cost is {requested}, which exceeds the single query max "
                                f"cost limit ({MAX_QUERY_COST}).\n\nSee https://shopify.dev/"
                                "concepts/about-apis/rate-limits for more information on how the"
                                "\ncost of a query is calculated.\n\nTo query larger amounts of "
                                "data with fewer limits, bulk operations should be used instead."
                                "\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-"
                                "admin-api for usage details.\n"
                            ),
                            "extensions": {
                                "code": "MAX_COST_EXCEEDED",
                                "cost": requested,
                                "maxCost": MAX_QUERY_COST,
                            },
                        }
                    ],
                    "extensions": _cost(requested, None, bucket),
                }
            )
        if faults["throttled"] or requested > bucket.available:
            _log(state, shop, operation, requested, None, 200, started, "THROTTLED")
            return _json(
                {
                    "errors": [
                        {
                            "message": "Throttled",
                            "extensions": {
                                "code": "THROTTLED",
                                "documentation": "https://shopify.dev/api/usage/rate-limits",
                            },
                        }
                    ],
                    "extensions": _cost(requested, None, bucket),
                }
            )
        bucket.available -= requested
        ctx = resolvers.Ctx(state=state, shop=shop, base_url=base_url, inject=faults["inject"])
        tracker = ActualCost()
        files_before = len(shop.files)
        result = execute(
            schema(),
            document,
            variable_values=variables,
            operation_name=op_name,
            context_value=ctx,
            field_resolver=resolvers.field_resolver,
            middleware=[tracker],
        )
        actual = min(tracker.total, requested)
        bucket.refill()
        bucket.available = min(bucket.maximum, bucket.available + (requested - actual))
        out: dict = {}
        if result.errors:
            out["errors"] = [_format_error(e) for e in result.errors]
        if result.data is not None or not result.errors:
            out["data"] = result.data  # variable/coercion errors come back without data
        out["extensions"] = _cost(requested, actual, bucket)
        outcome = f"lost ({faults['lost']})" if faults["lost"] else None
        created = max(0, len(shop.files) - files_before)
        _log(
            state, shop, operation, requested, actual, 200, started, outcome, bool(result.errors),
            files_created=created,
        )  # fmt: skip
    headers = {"X-Shopify-API-Version": state.config.get("answer_api_version") or version}
    if state.config.get("deprecated_reason"):
        headers["X-Shopify-API-Deprecated-Reason"] = state.config["deprecated_reason"]
    response = _json(out, headers=headers)
    if faults["lost"]:
        return _lose(request, faults["lost"], state.faults, response)
    return response


def _lose(request: Request, mode: str, faults: dict | None, response: Response) -> Response:
    """The mutations ran; the client does not learn it (see control.LOST_MODES)."""
    if mode == "timeout":
        time.sleep((faults or {}).get("slow_seconds", 5.0))  # the client has given up by now
        return response
    sock = request.environ.get("werkzeug.socket")
    if mode == "drop" and sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        raise ConnectionResetError("fault: answer dropped")  # the server's "client went away"
    payload, _ = FAULT_BODIES[500]
    return _json(payload, 500)


def _cost(requested: int, actual: int | None, bucket) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": bucket.status(),
        }
    }


def _log(
    state, shop, operation, requested, actual, status, started, outcome, errors=False,
    files_created=0,
):  # fmt: skip
    """One call in the shop's call log. Calls execute one at a time under the state lock, so
    the log's order is the order in which they were granted their points; `files_created` is
    how many files (and media) the call made."""
    fields = [s.name.value for s in operation.selection_set.selections if s.kind == "field"]
    shop.call_log.append(
        {
            "at": time.time(),
            "operation": operation.operation.value,
            "name": operation.name.value if operation.name else None,
            "fields": fields,
            "requested_cost": requested,
            "actual_cost": actual,
            "status": status,
            "outcome": outcome or ("errors" if errors else "ok"),
            "duration": round(time.monotonic() - started, 4),
            "files_created": files_created,
        }
    )
    if len(shop.call_log) > 5000:
        del shop.call_log[:1000]
