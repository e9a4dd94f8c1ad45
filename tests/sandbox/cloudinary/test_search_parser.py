"""The search expression parser and evaluator, with examples and hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.cloudinary.search import (
    WILD,
    And,
    Evaluator,
    MatchAll,
    Not,
    Or,
    SearchSyntaxError,
    Term,
    parse,
)
from sandbox.cloudinary.seed import seed_library
from sandbox.cloudinary.state import State

RESERVED = set('!(){}[]*^~?:\\=&><"')


def test_examples():
    assert parse("") == MatchAll()
    assert parse("tags=ss26") == Term("tags", "=", "ss26")
    assert parse('metadata.sku="SKU 1"') == Term("metadata.sku", "=", "SKU 1")
    assert parse("a b") == And((Term(None, ":", "a"), Term(None, ":", "b")))
    assert parse("a OR b AND c") == Or(
        (Term(None, ":", "a"), And((Term(None, ":", "b"), Term(None, ":", "c"))))
    )
    assert parse("NOT (a OR b)") == Not(Or((Term(None, ":", "a"), Term(None, ":", "b"))))
    assert parse("-tags:x") == Not(Term("tags", ":", "x"))
    assert parse("public_id:shoe*") == Term("public_id", ":", "shoe" + WILD)
    assert parse(r'public_id:"shoe\*"') == Term("public_id", ":", "shoe*")
    assert parse(r"context.alt:a\:b") == Term("context.alt", ":", "a:b")
    assert parse("bytes>=10kb") == Term("bytes", ">=", "10kb")
    assert parse("width:[100 TO 200}").op == "range"


@pytest.mark.parametrize(
    "bad", ['"x', "tags=", "(a", "a)", "AND", "a OR", "foo=1", "tags:a:b", "x\\", "tags=(a)"]
)
def test_syntax_errors(bad):
    with pytest.raises(SearchSyntaxError):
        parse(bad)


# -- hypothesis: printing and parsing agree ------------------------------------------------
FIELDS = ["tags", "public_id", "folder", "asset_folder", "metadata.sku", "context.alt", "format"]
values = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)


def quote(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*")
    return f'"{out}"'


def escape(value: str) -> str:
    return "".join("\\" + c if c in RESERVED or c.isspace() else c for c in value)


terms = st.builds(
    lambda f, op, v, quoted: (Term(f, op, v), f"{f}{op}{quote(v) if quoted else escape(v)}"),
    st.sampled_from(FIELDS),
    st.sampled_from([":", "="]),
    values,
    st.booleans(),
)


def render(node_and_text):
    return node_and_text[1]


def compound(children):
    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(
            lambda xs: (And(tuple(x[0] for x in xs)), " AND ".join(f"({x[1]})" for x in xs))
        ),
        st.lists(children, min_size=2, max_size=3).map(
            lambda xs: (Or(tuple(x[0] for x in xs)), " OR ".join(f"({x[1]})" for x in xs))
        ),
        children.map(lambda x: (Not(x[0]), f"NOT ({x[1]})")),
    )


trees = st.recursive(terms, compound, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_parse_inverts_printing(tree):
    node, text = tree
    assert parse(text) == node


@settings(max_examples=200, deadline=None)
@given(values)
def test_quoted_and_escaped_values_round_trip(value):
    assert parse(f"tags={quote(value)}") == Term("tags", "=", value)
    assert parse(f"tags={escape(value)}") == Term("tags", "=", value)


# -- hypothesis: boolean laws on a seeded cloud --------------------------------------------
_state = State()
_cloud = _state.create_cloud("h", "k", "s")
seed_library(_state, _cloud, 150, seed=11)
_ev = Evaluator(_cloud, now=2_000_000_000)
_assets = list(_cloud.assets.values())

ATOMS = [
    "tags=ss26",
    "tags:swatch",
    "folder:products/*",
    'asset_folder="products/shoes"',
    "resource_type:video",
    "metadata.asset_type=asset_type_lifestyle",
    "metadata.color=color_01",
    "metadata.sequence_number>2",
    "metadata.sequence_number:[2 TO 3]",
    "context.alt:*",
    "context.alt:red",
    "width>=1600",
    "bytes<100kb",
    'created_at>"2026-01-01T06:00:00Z"',
    "public_id:sku-0001*",
    "marketplace",
    "sneaker",
]
atoms = st.sampled_from(ATOMS)


def matching(expr: str) -> set[str]:
    node = parse(expr)
    return {a.asset_id for a in _assets if _ev.match(node, a)}


ALL = {a.asset_id for a in _assets}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(atoms, atoms)
def test_boolean_laws(a, b):
    sa, sb = matching(a), matching(b)
    assert matching(f"({a}) AND ({b})") == sa & sb
    assert matching(f"({a}) ({b})") == sa & sb  # implicit AND
    assert matching(f"({a}) OR ({b})") == sa | sb
    assert matching(f"NOT ({a})") == ALL - sa
    assert matching(f"-({a})") == ALL - sa
    assert matching(f"NOT (({a}) OR ({b}))") == matching(f"NOT ({a}) AND NOT ({b})")


def test_atoms_are_meaningful():
    # each atom used above matches some but not all assets
    for expr in ATOMS:
        assert 0 < len(matching(expr)) < len(ALL), expr


def test_field_semantics():
    lifestyle = matching("metadata.asset_type=asset_type_lifestyle")
    assert lifestyle == {
        a.asset_id for a in _assets if a.metadata.get("asset_type") == "asset_type_lifestyle"
    }
    assert matching("tags:SS26") == matching("tags=ss26")  # ':' ignores case
    assert matching("tags=SS26") == set()  # '=' does not
    assert matching("folder=products") == set()  # '=' is the exact folder
    assert matching("metadata.sequence_number:[2 TO 3]") == {
        a.asset_id for a in _assets if a.metadata.get("sequence_number") in (2, 3)
    }
    assert matching("metadata.launch_date>2026-06-01") == {
        a.asset_id for a in _assets if (a.metadata.get("launch_date") or "") > "2026-06-01"
    }
    assert matching("created_at>1d") == set()  # all seeded long before `now`
    assert matching("public_id:sku-0001*") == {
        a.asset_id for a in _assets if a.filename.startswith("sku-0001")
    }
    assert matching("metadata.sku:*") == {a.asset_id for a in _assets if a.metadata.get("sku")}
