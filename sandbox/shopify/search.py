"""Shopify search syntax: `field:value`, quoting, implicit AND, `AND`, `OR`, `NOT`/`-`, parens,
comparisons (`id:>123`), trailing `*` prefix wildcard, comma lists (`status:active,draft`).

`compile_query(text, fields)` returns a predicate over objects; `fields` maps a field name to a
function(obj) -> list of candidate strings; `"default"` is used for bare terms. Matching is
case-insensitive. Fields in `tokenized` match when every word of the value appears as a word
(Shopify's text fields are tokenized); other fields compare whole values. Unknown fields match
nothing, as a filter Shopify does not know returns no results... except that Shopify ignores
them; we follow Shopify and ignore unknown fields (they match everything).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Getter = Callable[[object], list[str]]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lp>\() | (?P<rp>\)) |
      (?P<term>-?(?:[\w.$]+:)?(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?:[^\s()\\]|\\.)+))
    )""",
    re.X,
)


@dataclass
class Term:
    field: str | None
    op: str
    value: str
    negate: bool = False


def tokenize(text: str) -> list:
    out = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ValueError(f"cannot parse search query near {text[pos:]!r}")
        pos = m.end()
        if m.group("lp"):
            out.append("(")
        elif m.group("rp"):
            out.append(")")
        else:
            out.append(m.group("term"))
    return out


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
        v = v[1:-1]
    return re.sub(r"\\(.)", r"\1", v)


def _term(tok: str) -> Term:
    negate = False
    if tok.startswith("-") and len(tok) > 1:
        negate, tok = True, tok[1:]
    m = re.match(r"^([\w.$]+):(.*)$", tok, re.S)
    if m and not tok.startswith(('"', "'")):
        field, rest = m.group(1).lower(), m.group(2)
        op = ":"
        for cand in (">=", "<=", ">", "<"):
            if rest.startswith(cand):
                op, rest = cand, rest[len(cand) :]
                break
        return Term(field, op, _unquote(rest), negate)
    return Term(None, ":", _unquote(tok), negate)


class _Parser:
    def __init__(self, tokens: list) -> None:
        self.t = tokens
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def parse_or(self):
        nodes = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            nodes.append(self.parse_and())
        return ("or", nodes) if len(nodes) > 1 else nodes[0]

    def parse_and(self):
        nodes = [self.parse_unary()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
                continue
            nodes.append(self.parse_unary())
        return ("and", nodes) if len(nodes) > 1 else nodes[0]

    def parse_unary(self):
        tok = self.take()
        if tok == "NOT":
            return ("not", self.parse_unary())
        if tok == "(":
            node = self.parse_or()
            if self.take() != ")":
                raise ValueError("unbalanced parentheses in search query")
            return node
        if tok in (None, ")"):
            raise ValueError("unexpected end of search query")
        return ("term", _term(tok))


def _cmp(op: str, cand: str, value: str) -> bool:
    a, b = cand, value
    if re.fullmatch(r"-?\d+(\.\d+)?", a or "") and re.fullmatch(r"-?\d+(\.\d+)?", b or ""):
        a, b = float(a), float(b)  # type: ignore[assignment]
    return {">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]  # type: ignore[operator]


def _match_value(cand: str, value: str, tokenized: bool) -> bool:
    # Shopify's search index holds values without their surrounding whitespace.
    cand, value = cand.strip().lower(), value.lower()
    if tokenized:
        words = re.findall(r"[\w-]+", cand)
        wanted = re.findall(r"[\w*-]+", value)
        if not wanted:
            return False
        for w in wanted:
            if w.endswith("*"):
                if not any(x.startswith(w[:-1]) for x in words):
                    return False
            elif w not in words:
                return False
        return True
    if value.endswith("*"):
        return cand.startswith(value[:-1])
    return cand == value


def _exact_sets(node, fields, tokenized):
    """An OR of exact, positive terms on one known, untokenized field (the id lists of bulk
    exports: 250 terms) becomes one set lookup — the same answer, without evaluating every term
    for every object."""
    if node[0] in ("and", "or"):
        children = [_exact_sets(n, fields, tokenized) for n in node[1]]
        node = (node[0], children)
    if node[0] != "or":
        return node[0:1] + (_exact_sets(node[1], fields, tokenized),) if node[0] == "not" else node
    terms = [n[1] for n in node[1] if n[0] == "term"]
    if len(terms) != len(node[1]) or len({t.field for t in terms}) != 1:
        return node
    field = terms[0].field
    if field is None or field in tokenized or field not in fields:
        return node
    values = set()
    for term in terms:
        if term.op != ":" or term.negate:
            return node
        for value in term.value.split(","):
            value = value.strip().lower()
            if value.endswith("*"):
                return node
            if value:
                values.add(value)
    return ("in", field, values)


def compile_query(
    text: str | None, fields: dict[str, Getter], tokenized: set[str] | frozenset = frozenset()
) -> Callable[[object], bool]:
    if not text or not text.strip():
        return lambda obj: True
    tree = _exact_sets(_Parser(tokenize(text)).parse_or(), fields, tokenized)

    def ev(node, obj) -> bool:
        kind = node[0]
        if kind == "in":  # an OR of exact values of one field (e.g. id:1 OR id:2 …)
            return any(
                str(c).strip().lower() in node[2] for c in fields[node[1]](obj) if c is not None
            )
        if kind == "or":
            return any(ev(n, obj) for n in node[1])
        if kind == "and":
            return all(ev(n, obj) for n in node[1])
        if kind == "not":
            return not ev(node[1], obj)
        term: Term = node[1]
        name = term.field or "default"
        getter = fields.get(name)
        if getter is None:
            result = True  # Shopify ignores filters it does not know
        else:
            cands = [c for c in getter(obj) if c is not None]
            if term.op != ":":
                result = any(_cmp(term.op, str(c), term.value) for c in cands)
            else:
                values = term.value.split(",") if term.field else [term.value]
                tok = name in tokenized or term.field is None
                result = any(
                    _match_value(str(c), v.strip(), tok) for c in cands for v in values if v.strip()
                )
        return not result if term.negate else result

    return lambda obj: ev(tree, obj)
