"""Query cost like Shopify's calculated query cost.

Requested cost (static, before execution):
- scalar and enum fields: 0
- object / interface fields: 1 + the cost of their selection
- connections (`...Connection` types): 2 + (first|last) x the cost of one node
  (`nodes{...}` or `edges{node{...}}`, whichever is larger; `edges`, `pageInfo`, `cursor` free)
- `nodes(ids:)`: len(ids) x (1 + selection)
- embedded lists of objects (e.g. `mediaErrors`, `userErrors`): like one object
- interfaces: common fields + the most expensive concrete type, whose cost is the sum of all
  the fragments that apply to it (two `... on MediaImage` fragments add up; a fragment on an
  interface applies to every type implementing it)
- mutation root fields: 10, plus the requested cost of connections inside their payload
  (other objects in a payload are free); since 2025-10 Shopify prices some by their input
  (`dynamic_cost` below, with the changelog entries it follows)

Actual cost (after execution) is counted by `ActualCost`, a graphql-core middleware, with the
same rules applied to what was returned (a null object costs nothing and stops its subtree; a
connection costs 2 + the nodes it really returned). It is capped at the requested cost.
"""

from __future__ import annotations

import contextlib
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLSchema,
    OperationType,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
    value_from_ast_untyped,
)
from graphql.pyutils import Path

MUTATION_COST = 10


# Shopify's developer changelog: dynamic complexity of
# productCreate/productUpdate (10 + 0.4/product metafield + 1.9/media),
#   https://shopify.dev/changelog/dynamic-complexity-cost-for-productcreate-and-productupdate-mutations
# productSet (10 + 0.2/variant + 0.6/variant file + 0.4/variant or product metafield
#   + 1.9/product file), https://shopify.dev/changelog/dynamic-complexity-cost-for-productset-mutation
# metafieldsSet (10 + per distinct owner its type's weight),
#   https://shopify.dev/changelog/dynamic-complexity-cost-for-metafieldsset-mutation
# Costs are reported as integers: nearest, halves up.
OWNER_WEIGHT = {"Order": 10, "Product": 4, "ProductVariant": 2, "Collection": 1, "Customer": 1}
OWNER_WEIGHT["Shop"] = 1


def _n(items) -> int:
    return len(items) if isinstance(items, list) else 0


def dynamic_cost(field: str, args: dict) -> int:
    extra = 0.0
    if field in {"productCreate", "productUpdate"}:
        product = args.get("product") or args.get("input") or {}
        extra = 0.4 * _n(product.get("metafields")) + 1.9 * _n(args.get("media"))
    elif field == "productSet":
        data = args.get("input") or {}
        for variant in data.get("variants") or []:
            extra += 0.2 + (0.6 if variant.get("file") is not None else 0.0)
            extra += 0.4 * _n(variant.get("metafields"))
        extra += 0.4 * _n(data.get("metafields")) + 1.9 * _n(data.get("files"))
    elif field == "metafieldsSet":
        owners = {str(m.get("ownerId", "")) for m in args.get("metafields") or []}
        extra = sum(OWNER_WEIGHT.get((o.split("/") + ["", ""])[3], 0) for o in owners)
    return int(MUTATION_COST + extra + 0.5)


def _arg(field: FieldNode, name: str, variables: dict) -> Any:
    for a in field.arguments or ():
        if a.name.value == name:
            return value_from_ast_untyped(a.value, variables)
    return None


def is_connection(type_) -> bool:
    return get_named_type(type_).name.endswith("Connection")


class RequestedCost:
    def __init__(self, schema: GraphQLSchema, document, variables: dict | None) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if d.kind == "fragment_definition"
        }
        self.variables = variables or {}

    def operation(self, op) -> int:
        if op.operation == OperationType.MUTATION:
            root = self.schema.mutation_type
            total = 0
            for f in self._fields(op.selection_set, root):
                fdef = root.fields.get(f.name.value)
                if fdef is None:
                    continue
                sub = get_named_type(fdef.type)
                args = {
                    a.name.value: _arg(f, a.name.value, self.variables) for a in f.arguments or ()
                }
                total += dynamic_cost(f.name.value, args)
                total += self.selection(f.selection_set, sub, free=True)
            return total
        return self.selection(op.selection_set, self.schema.query_type, free=False)

    def _fields(self, selection_set, parent):
        for sel in selection_set.selections if selection_set else ():
            if isinstance(sel, FieldNode):
                yield sel

    def selection(self, selection_set, parent, free: bool) -> int:
        if selection_set is None:
            return 0
        total = 0
        conditioned: dict = {}  # type condition -> summed cost of its fragments
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                total += self.field(sel, parent, free)
                continue
            if isinstance(sel, FragmentSpreadNode):
                frag = self.fragments.get(sel.name.value)
                if frag is None:
                    continue
                cond, sset = frag.type_condition, frag.selection_set
            else:
                cond, sset = sel.type_condition, sel.selection_set
            ftype = (self.schema.get_type(cond.name.value) if cond else None) or parent
            cost = self.selection(sset, ftype, free)
            if ftype == parent or self._applies(ftype, parent):
                total += cost
            else:
                conditioned[ftype] = conditioned.get(ftype, 0) + cost
        return total + self._best_branch(parent, conditioned)

    def _applies(self, condition, type_) -> bool:
        """A fragment on `condition` applies to every object of concrete type `type_`."""
        return (
            is_object_type(type_)
            and is_abstract_type(condition)
            and self.schema.is_sub_type(condition, type_)
        )

    def _best_branch(self, parent, conditioned: dict) -> int:
        """Fragments on one concrete type add up; the most expensive concrete type counts."""
        if not conditioned:
            return 0
        types = self.schema.get_possible_types(parent) if is_abstract_type(parent) else [parent]
        return max(
            sum(c for cond, c in conditioned.items() if cond == t or self._applies(cond, t))
            for t in types
        )

    def field(self, node: FieldNode, parent, free: bool) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0
        fields = getattr(parent, "fields", None) or {}
        fdef = fields.get(name)
        if fdef is None:
            return 0
        named = get_named_type(fdef.type)
        if is_leaf_type(named):
            return 0
        if is_connection(fdef.type):
            n = _arg(node, "first", self.variables) or _arg(node, "last", self.variables) or 0
            return 2 + int(n) * self.connection_item(node.selection_set, named)
        if parent.name == "QueryRoot" and name == "nodes":
            ids = _arg(node, "ids", self.variables) or []
            return len(ids) * (1 + self.selection(node.selection_set, named, False))
        return (0 if free else 1) + self.selection(node.selection_set, named, free)

    def connection_item(self, selection_set, conn_type) -> int:
        best = 0
        for sel in selection_set.selections if selection_set else ():
            if not isinstance(sel, FieldNode):
                continue
            if sel.name.value == "nodes":
                item_type = get_named_type(conn_type.fields["nodes"].type)
                best = max(best, 1 + self.selection(sel.selection_set, item_type, False))
            elif sel.name.value == "edges":
                edge_type = get_named_type(conn_type.fields["edges"].type)
                for sub in sel.selection_set.selections if sel.selection_set else ():
                    if isinstance(sub, FieldNode) and sub.name.value == "node":
                        item_type = get_named_type(edge_type.fields["node"].type)
                        best = max(best, 1 + self.selection(sub.selection_set, item_type, False))
        return best


def requested_cost(schema: GraphQLSchema, document, operation, variables: dict | None) -> int:
    return RequestedCost(schema, document, variables).operation(operation)


def _in_connection(path: Path | None) -> bool:
    while path is not None:
        if path.typename and path.typename.endswith("Connection"):
            return True
        path = path.prev
    return False


class ActualCost:
    """graphql-core middleware counting the actual cost of what resolvers return."""

    def __init__(self) -> None:
        self.total = 0
        self._args: dict = {}
        self._route: dict[int, str] = {}  # id(connection) -> "nodes" | "edges" (count once)

    def resolve(self, next_, root, info, **args):
        value = next_(root, info, **args)
        with contextlib.suppress(Exception):  # cost accounting never breaks a response
            self._args = args
            self._count(value, root, info)
        return value

    def _count(self, value, root, info) -> None:
        if value is None:
            return
        rtype = info.return_type
        named = get_named_type(rtype)
        if is_leaf_type(named) or info.field_name.startswith("__"):
            return
        parent = info.parent_type.name
        mutation = info.operation.operation == OperationType.MUTATION
        if parent == "Mutation":
            self.total += dynamic_cost(info.field_name, self._args)
            return
        if named.name.endswith("Connection"):
            self.total += 2
            return
        if parent.endswith("Connection"):
            if info.field_name == "nodes" and self._route.setdefault(id(root), "nodes") == "nodes":
                self.total += len(value)
            return  # edges/pageInfo free
        if parent.endswith("Edge"):
            if info.field_name == "node":
                conn = root.get("_conn") if isinstance(root, dict) else None
                if conn is None or self._route.setdefault(id(conn), "edges") == "edges":
                    self.total += 1
            return
        if mutation and not _in_connection(info.path):
            return
        if parent == "QueryRoot" and info.field_name == "nodes":
            self.total += sum(1 for v in value if v is not None)
            return
        if isinstance(value, list):
            if value:
                self.total += 1
            return
        self.total += 1
