"""Bulk query operations: run a query over the whole catalog, write Shopify-style JSONL.

Connections inside a bulk query need no `first`; each node of a nested connection becomes its
own line with `__parentId`, emitted after its parent.
"""

from __future__ import annotations

import json
import threading
import time

from graphql import GraphQLError, execute, parse, validate

from .state import BulkOp


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
        with state.lock:
            if state.generation != gen:
                return
            result = execute(schema(), doc, context_value=bulk_ctx, field_resolver=field_resolver)
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
