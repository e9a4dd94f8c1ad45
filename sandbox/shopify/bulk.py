"""Bulk query operations: run a query over the whole catalog, write Shopify-style JSONL.

Connections inside a bulk query need no `first`; each node of a nested connection becomes its
own line with `__parentId`, emitted after its parent.

Like Shopify's, an export reads the shop as it goes, not a snapshot: it holds the state lock
while it reads, but lets the other requests (calls, polls, downloads) take it every
YIELD_EVERY fields, so exports do not stall every other request of the emulator for their
whole length. Each field reads its object under the lock, as any call does. Exports still
read one at a time (in the order they got to run), so each completes as early as before.
"""

from __future__ import annotations

import json
import threading
import time

from graphql import GraphQLError, execute, parse, validate

from .state import BulkOp

YIELD_EVERY = 1000  # fields read between two chances for waiting requests to take the lock


def _is_connection(value) -> bool:
    return isinstance(value, dict) and ("edges" in value or "nodes" in value)


def _items(conn: dict) -> list:
    if "nodes" in conn and conn["nodes"] is not None:
        return conn["nodes"]
    return [e["node"] for e in conn.get("edges") or [] if e and "node" in e]


def flatten(conn: dict, parent_id: str | None, out: list) -> None:
    for item in _items(conn):
        line, children = {}, []
        for k, v in item.items():
            if _is_connection(v):
                children.append(v)
            else:
                line[k] = v
        if parent_id is not None:
            line["__parentId"] = parent_id
        out.append(line)
        for child in children:
            flatten(child, item.get("id"), out)


def _yielding(state, resolve):
    """``resolve``, which every YIELD_EVERY calls lets the threads waiting for the state lock
    (held once by the caller) have it before it goes on."""
    calls = 0

    def resolver(source, info, **args):
        nonlocal calls
        calls += 1
        if calls % YIELD_EVERY == 0:
            state.lock.release()
            try:
                time.sleep(0)  # hands the interpreter to the waiting threads
            finally:
                state.lock.acquire()
        return resolve(source, info, **args)

    return resolver


def start_bulk(ctx, query: str):
    """Validate `query`, register a BulkOperation and run it in the background."""
    from .graphql_api import schema  # circular: graphql_api imports resolvers
    from .resolvers import Ctx, field_resolver

    try:
        doc = parse(query)
    except GraphQLError as e:
        return None, f"Invalid bulk query: {e.message}"
    errors = validate(schema(), doc)
    if errors:
        return None, "Invalid bulk query: " + "; ".join(e.message for e in errors)
    ops = [d for d in doc.definitions if d.kind == "operation_definition"]
    if len(ops) != 1 or ops[0].operation.value != "query":
        return None, "Bulk queries must contain exactly one query operation."
    roots = [s for s in ops[0].selection_set.selections if s.kind == "field"]
    conn_roots = [
        s
        for s in roots
        if schema().query_type.fields[s.name.value].type.of_type is not None
        and str(schema().query_type.fields[s.name.value].type).endswith("Connection!")
    ]
    if len(roots) != 1 or not conn_roots:
        return None, "Bulk queries must contain exactly one top-level connection field."
    state, shop = ctx.state, ctx.shop
    op = BulkOp(id=state.next_id(), query=query)
    shop.bulk_ops[op.id] = op
    gen = state.generation
    delay = float(state.config["bulk_delay"])
    bulk_ctx = Ctx(state=state, shop=shop, base_url=ctx.base_url, bulk=True)
    root_key = roots[0].alias.value if roots[0].alias else roots[0].name.value

    def run() -> None:
        time.sleep(delay / 2)
        with state.lock:
            if state.generation != gen:
                return
            op.status = "RUNNING"
        time.sleep(delay / 2)
        # Exports read one after the other (each finishes as soon as it can, as when they
        # held the state lock throughout); the lock is lent to the other requests meanwhile.
        with state.__dict__.setdefault("bulk_export_lock", threading.Lock()), state.lock:
            if state.generation != gen:
                return
            result = execute(
                schema(),
                doc,
                context_value=bulk_ctx,
                field_resolver=_yielding(state, field_resolver),
            )
            if state.generation != gen:
                return  # the emulator was reset while the export read
            if result.errors:
                op.status, op.error_code = "FAILED", "INTERNAL_SERVER_ERROR"
                op.completed = time.time()
                return
        # The result is plain data read under the lock: it is written out without holding it
        # (the shop's calls, its status polls among them, go on meanwhile).
        lines: list = []
        flatten(result.data[root_key], None, lines)
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        with state.lock:
            if state.generation != gen:
                return
            op.data = data
            op.object_count = len(lines)
            op.root_object_count = sum(1 for line in lines if "__parentId" not in line)
            op.file_size = len(op.data)
            # like Shopify: no result file when nothing matched
            op.url = f"{ctx.base_url}/bulk/{shop.domain}/{op.id}.jsonl" if lines else None
            op.status = "COMPLETED"
            op.completed = time.time()

    threading.Thread(target=run, name=f"shopify-bulk-{op.id}", daemon=True).start()
    return op, None
