"""The Search API expression language (Lucene-like), as the emulator understands it.

Grammar (keywords are upper case; a space between two terms means AND)::

    expr    := and ("OR" and)*
    and     := unary (["AND"] unary)*
    unary   := "NOT" unary | "-" unary | primary
    primary := "(" expr ")" | term
    term    := FIELD OP value | value          # a bare value searches all text fields
    OP      := ":" | "=" | ">" | "<" | ">=" | "<="
    value   := "quoted text" | bare | "[" a "TO" b "]" | "{" a "TO" b "}"

Fields: asset_id, public_id, filename, display_name, folder, asset_folder, resource_type,
type, format, tags, created_at, uploaded_at, bytes, width, height, pixels, aspect_ratio,
duration, version, `metadata.<external_id>`, `context.<key>`.

Semantics:
* `=` is an exact (case-sensitive) match of the whole value; `*` in the value is a wildcard.
* `:` is a tokenized, case-insensitive match: the value's words must appear, in order, among the
  field's words (words split on anything that is not a letter or digit); a trailing `*` makes
  the last word a prefix. For path-like fields (public_id, folder, asset_folder) a value with
  `*` also matches as a path glob: `folder:products/*` = `products` and everything below.
* `field:*` / `field=*` matches assets that have any value for the field.
* Enum and set metadata match on the datasource value's **external id** (what Cloudinary
  stores on the asset); a set matches if any of its ids matches.
* Numbers and dates accept `>`, `<`, `>=`, `<=` and ranges; dates take ISO dates or relative
  ages (`created_at>1d` = within the last day; units h, d, w, m(onths), y); sizes take `kb`,
  `mb`, `gb` suffixes (1024-based).
Unquoted values must escape the reserved characters ``! ( ) { } [ ] * ^ ~ ? : \\ = & > < "``
and spaces with a backslash (an unescaped `*` is a wildcard); inside quotes only `"` and `*`
are escaped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .state import Asset, Cloud, EmulatorError

WILD = "\x00"  # an unescaped `*` inside a parsed value

TEXT_FIELDS = {
    "asset_id",
    "public_id",
    "filename",
    "display_name",
    "folder",
    "asset_folder",
    "resource_type",
    "type",
    "format",
    "tags",
    "status",
    "access_mode",
}
NUMBER_FIELDS = {"bytes", "width", "height", "pixels", "aspect_ratio", "duration", "version"}
DATE_FIELDS = {"created_at", "uploaded_at", "last_updated"}
PATH_FIELDS = {"public_id", "folder", "asset_folder"}
RTYPES = ("image", "video", "raw")
OPS = (">=", "<=", ":", "=", ">", "<")


class SearchSyntaxError(EmulatorError):
    def __init__(self, message: str):
        super().__init__(400, f"Invalid search expression: {message}")


# -- AST ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    field: str | None  # None: free text
    op: str  # ":", "=", ">", "<", ">=", "<=", "range"
    value: str  # WILD marks wildcards; for ranges "lo\x01hi\x01[]" (inclusive flags)


@dataclass(frozen=True)
class Not:
    child: Any


@dataclass(frozen=True)
class And:
    children: tuple


@dataclass(frozen=True)
class Or:
    children: tuple


@dataclass(frozen=True)
class MatchAll:
    pass


# -- lexer ----------------------------------------------------------------------------------
RESERVED = set('!(){}[]*^~?:\\=&><"')


@dataclass
class Tok:
    kind: str  # LP RP AND OR NOT MINUS TERM
    term: Term | None = None
    pos: int = 0


def _read_quoted(s: str, i: int) -> tuple[str, int]:
    assert s[i] == '"'
    i += 1
    out = []
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(WILD if c == "*" else c)
        i += 1
    raise SearchSyntaxError(f"unterminated quote at position {i}")


def _read_bare(s: str, i: int, stop: str) -> tuple[str, int]:
    """Read an unquoted word; stops at whitespace, parentheses and the `stop` characters."""
    out = []
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s):
                raise SearchSyntaxError("dangling backslash")
            out.append(s[i + 1])
            i += 2
            continue
        if c.isspace() or c in "()" or c in stop:
            break
        if c == "*":
            out.append(WILD)
        elif c in '"{}[]^~?&!<>=:' and c not in stop:
            raise SearchSyntaxError(f"unexpected {c!r} at position {i} (quote or escape it)")
        else:
            out.append(c)
        i += 1
    return "".join(out), i


def tokenize(s: str) -> list[Tok]:
    toks: list[Tok] = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
            continue
        start = i
        if c == "(":
            toks.append(Tok("LP", pos=i))
            i += 1
            continue
        if c == ")":
            toks.append(Tok("RP", pos=i))
            i += 1
            continue
        if c == "-" and i + 1 < n and not s[i + 1].isspace():
            toks.append(Tok("NOT", pos=i))
            i += 1
            continue
        if c == '"':
            value, i = _read_quoted(s, i)
            toks.append(Tok("TERM", Term(None, ":", value), start))
            continue
        if s.startswith("&&", i) or s.startswith("||", i):
            toks.append(Tok("AND" if c == "&" else "OR", pos=i))
            i += 2
            continue
        # a field name, or a bare free-text value
        word, j = _read_bare(s, i, stop=":=<>")
        op = None
        for candidate in OPS:
            if s.startswith(candidate, j):
                op = candidate
                break
        if op is None:
            if word in ("AND", "OR", "NOT") and (j >= n or s[j].isspace() or s[j] in "()"):
                toks.append(Tok(word, pos=start))
            else:
                if not word:
                    raise SearchSyntaxError(f"unexpected {s[j]!r} at position {j}")
                toks.append(Tok("TERM", Term(None, ":", word), start))
            i = j
            continue
        field = word
        if not field or WILD in field:
            raise SearchSyntaxError(f"missing field name before {op!r} at position {j}")
        _check_field(field)
        i = j + len(op)
        if i >= n or s[i].isspace() or s[i] == ")":
            raise SearchSyntaxError(f"missing value after {field}{op}")
        if s[i] == '"':
            value, i = _read_quoted(s, i)
            toks.append(Tok("TERM", Term(field, op, value), start))
        elif s[i] in "[{" and op == ":":
            m = re.compile(r"([\[{])\s*(\S+)\s+TO\s+(\S+?)\s*([\]}])").match(s, i)
            if not m:
                raise SearchSyntaxError(f"bad range at position {i}")
            flags = ("[" if m.group(1) == "[" else "{") + ("]" if m.group(4) == "]" else "}")
            value = f"{m.group(2)}\x01{m.group(3)}\x01{flags}"
            toks.append(Tok("TERM", Term(field, "range", value), start))
            i = m.end()
        else:
            value, i = _read_bare(s, i, stop="")
            if not value:
                raise SearchSyntaxError(f"missing value after {field}{op}")
            toks.append(Tok("TERM", Term(field, op, value), start))
    return toks


def _check_field(field: str) -> None:
    if field in TEXT_FIELDS or field in NUMBER_FIELDS or field in DATE_FIELDS:
        return
    if field in ("tag", "metadata", "context"):
        return
    if re.fullmatch(r"(metadata|context)\.[A-Za-z0-9_\-]+", field):
        return
    raise SearchSyntaxError(f"unknown field {field!r}")


# -- parser ---------------------------------------------------------------------------------
class _Parser:
    def __init__(self, toks: list[Tok]):
        self.toks = toks
        self.i = 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def parse(self):
        if not self.toks:
            return MatchAll()
        node = self.expr()
        if self.peek() is not None:
            raise SearchSyntaxError(f"unexpected token at position {self.peek().pos}")
        return node

    def expr(self):
        parts = [self.and_()]
        while (t := self.peek()) is not None and t.kind == "OR":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self):
        parts = [self.unary()]
        while (t := self.peek()) is not None and t.kind in ("AND", "NOT", "TERM", "LP"):
            if t.kind == "AND":
                self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self):
        t = self.peek()
        if t is None:
            raise SearchSyntaxError("unexpected end of expression")
        if t.kind == "NOT":
            self.take()
            return Not(self.unary())
        return self.primary()

    def primary(self):
        t = self.peek()
        if t is None:
            raise SearchSyntaxError("unexpected end of expression")
        if t.kind == "LP":
            self.take()
            node = self.expr()
            close = self.peek()
            if close is None or close.kind != "RP":
                raise SearchSyntaxError("missing closing parenthesis")
            self.take()
            return node
        if t.kind == "TERM":
            self.take()
            return t.term
        raise SearchSyntaxError(f"unexpected {t.kind} at position {t.pos}")


def parse(expression: str | None):
    """Parse an expression into an AST (Term / And / Or / Not / MatchAll)."""
    if expression is None or not str(expression).strip():
        return MatchAll()
    return _Parser(tokenize(str(expression))).parse()


# -- evaluation -----------------------------------------------------------------------------
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_REL = re.compile(r"^(\d+(?:\.\d+)?)(h|d|w|m|y)$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)(b|kb|k|mb|m|gb|g)?$", re.I)
_UNITS = {"h": 3600, "d": 86400, "w": 7 * 86400, "m": 30 * 86400, "y": 365 * 86400}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _glob(pattern: str, text: str, *, fold: bool) -> bool:
    if fold:
        pattern, text = pattern.lower(), text.lower()
    rx = ".*".join(re.escape(p) for p in pattern.split(WILD))
    return re.fullmatch(rx, text, re.S) is not None


def _token_match(value: str, text: str, *, path: bool) -> bool:
    if path and WILD in value and _glob(value, text, fold=True):
        return True
    q = [(w, False) for w in words(value.replace(WILD, " "))]
    if not q:
        return WILD in value or value.lower() == text.lower()
    if value.rstrip().endswith(WILD):
        q[-1] = (q[-1][0], True)  # a trailing wildcard makes the last word a prefix
    twords = words(text)
    n = len(q)
    for start in range(len(twords) - n + 1):
        ok = True
        for k, (w, prefix) in enumerate(q):
            tw = twords[start + k]
            if not (tw.startswith(w) if prefix else tw == w):
                ok = False
                break
        if ok:
            return True
    return False


def _parse_date(value: str, now: float) -> float:
    v = value.replace(WILD, "")
    m = _REL.match(v)
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(v, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            pass
    raise SearchSyntaxError(f"invalid date {v!r}")


def _parse_number(value: str, field: str) -> float:
    v = value.replace(WILD, "")
    m = _SIZE.match(v)
    if not m:
        raise SearchSyntaxError(f"invalid number {v!r} for {field}")
    mult = {"k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}
    return float(m.group(1)) * mult.get((m.group(2) or "").lower(), 1)


class Evaluator:
    """Compiles nothing; walks the AST per asset. `now` fixes relative dates for one search."""

    def __init__(self, cloud: Cloud, now: float | None = None):
        self.cloud = cloud
        self.now = time.time() if now is None else now

    # values of a field on an asset: a list of str / float
    def values(self, asset: Asset, field: str) -> tuple[str, list]:
        """(kind, values) with kind in text | number | date."""
        if field in ("tags", "tag"):
            return "text", list(asset.tags)
        if field in TEXT_FIELDS:
            if field == "status":
                return "text", ["active"]
            if field == "access_mode":
                return "text", ["public"]
            v = getattr(asset, field)
            return "text", [v] if v else []
        if field in NUMBER_FIELDS:
            if field == "pixels":
                return "number", [asset.width * asset.height]
            if field == "aspect_ratio":
                return "number", [asset.width / asset.height if asset.height else 0]
            v = getattr(asset, field)
            return "number", [] if v is None else [v]
        if field in DATE_FIELDS:
            v = asset.uploaded_at if field != "created_at" else asset.created_at
            return "date", [v]
        if field.startswith("metadata."):
            ext = field[9:]
            fdef = self.cloud.metadata_fields.get(ext)
            if fdef is None:
                raise SearchSyntaxError(f"unknown metadata field {ext!r}")
            v = asset.metadata.get(ext)
            if v is None:
                return "text", []
            if fdef["type"] == "integer":
                return "number", [v]
            if fdef["type"] == "date":
                return "date", [datetime.strptime(v, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()]
            return "text", list(v) if isinstance(v, list) else [str(v)]
        if field.startswith("context."):
            v = asset.context.get(field[8:])
            return "text", [] if v is None else [v]
        if field == "context":
            return "text", list(asset.context)  # context:key matches assets having the key
        if field == "metadata":
            return "text", [k for k, v in asset.metadata.items() if v not in (None, "", [])]
        raise SearchSyntaxError(f"unknown field {field!r}")

    def free_text(self, asset: Asset) -> list[str]:
        out = [asset.public_id, asset.display_name, asset.format, *asset.tags]
        out.extend(asset.context.values())
        for ext, v in asset.metadata.items():
            for item in v if isinstance(v, list) else [v]:
                label = self.cloud.datasource_label(ext, item) if isinstance(item, str) else None
                out.append(label or str(item))
        return out

    def match(self, node, asset: Asset) -> bool:
        if isinstance(node, Term):
            return self.term(node, asset)
        if isinstance(node, And):
            return all(self.match(c, asset) for c in node.children)
        if isinstance(node, Or):
            return any(self.match(c, asset) for c in node.children)
        if isinstance(node, Not):
            return not self.match(node.child, asset)
        return True

    def term(self, t: Term, asset: Asset) -> bool:
        if t.field is None:
            return any(_token_match(t.value, x, path=False) for x in self.free_text(asset))
        kind, vals = self.values(asset, t.field)
        if t.value == WILD and t.op in (":", "="):
            return bool(vals)
        if not vals:
            return False
        if kind in ("number", "date"):
            conv = (
                (lambda v: _parse_date(v, self.now))
                if kind == "date"
                else (lambda v: _parse_number(v, t.field))
            )
            if t.op == "range":
                lo, hi, flags = t.value.split("\x01")
                lo_v = None if lo == WILD else conv(lo)
                hi_v = None if hi == WILD else conv(hi)
                return any(
                    (lo_v is None or (x >= lo_v if flags[0] == "[" else x > lo_v))
                    and (hi_v is None or (x <= hi_v if flags[1] == "]" else x < hi_v))
                    for x in vals
                )
            if kind == "date" and _REL.match(t.value):
                # relative ages: created_at>1d means "newer than one day"
                ref = conv(t.value)
                if t.op in (":", "="):
                    return any(x >= ref for x in vals)
            else:
                ref = conv(t.value)
            if kind == "date" and t.op in (":", "=") and len(t.value) == 10:
                return any(ref <= x < ref + 86400 for x in vals)
            return any(_compare(x, t.op, ref) for x in vals)
        if t.op in (">", "<", ">=", "<="):
            return any(_compare(x, t.op, t.value) for x in vals)
        if t.op == "range":
            lo, hi, flags = t.value.split("\x01")
            return any(
                (lo == WILD or (x >= lo if flags[0] == "[" else x > lo))
                and (hi == WILD or (x <= hi if flags[1] == "]" else x < hi))
                for x in vals
            )
        if t.op == "=":
            if WILD in t.value:
                return any(_glob(t.value, x, fold=False) for x in vals)
            return t.value in vals
        path = t.field in PATH_FIELDS
        return any(_token_match(t.value, x, path=path) for x in vals)


def _compare(x, op: str, ref) -> bool:
    if op == ">":
        return x > ref
    if op == "<":
        return x < ref
    if op == ">=":
        return x >= ref
    if op == "<=":
        return x <= ref
    return x == ref


def candidates(node, cloud: Cloud) -> set[str] | None:
    """Asset ids that may match (a superset), or None when every asset must be checked.

    Uses the asset_id and public_id indexes, so batches of `asset_id=…` OR-clauses are cheap.
    """
    if isinstance(node, Term) and node.op == "=" and WILD not in node.value:
        if node.field == "asset_id":
            return {node.value} if node.value in cloud.assets else set()
        if node.field == "public_id":
            found = (cloud.by_public_id.get((rt, "upload", node.value)) for rt in RTYPES)
            return {aid for aid in found if aid in cloud.assets}
    if isinstance(node, Term) and node.op == ":" and node.field == "asset_id":
        v = node.value.lower()
        if re.fullmatch(r"[0-9a-f]{32}", v):
            return {v} if v in cloud.assets else set()
    if isinstance(node, Or):
        out: set[str] = set()
        for c in node.children:
            sub = candidates(c, cloud)
            if sub is None:
                return None
            out |= sub
        return out
    if isinstance(node, And):
        best = None
        for c in node.children:
            sub = candidates(c, cloud)
            if sub is not None and (best is None or len(sub) < len(best)):
                best = sub
        return best
    return None
