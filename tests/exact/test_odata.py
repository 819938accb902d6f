"""Tests for the pure OData query builder (exactbridge.exact._odata)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactbridge.errors import ConfigurationError
from exactbridge.exact._odata import (
    AMSTERDAM,
    Filter,
    Int64,
    P,
    Query,
    key_literal,
    literal,
)

GUID = uuid.UUID("40d4c49d-1790-4a13-b890-42909af24348")


# --------------------------------------------------------------------------- literals


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", "'abc'"),
        ("O'Brien", "'O''Brien'"),
        ("''", "''''''"),
        ("", "''"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (Int64(123456789), "123456789L"),
        (Int64(-1), "-1L"),
        (GUID, "guid'40d4c49d-1790-4a13-b890-42909af24348'"),
        (Decimal("41.98"), "41.98"),
        (Decimal("0.10"), "0.10"),
        (Decimal("1E+3"), "1000"),
        (Decimal("-0.000001"), "-0.000001"),
        (None, "null"),
        (dt.date(2026, 6, 25), "datetime'2026-06-25T00:00:00'"),
        (dt.datetime(2024, 9, 9, 12, 40, 29), "datetime'2024-09-09T12:40:29'"),
        (dt.datetime(2024, 9, 9, 12, 40, 29, 900000), "datetime'2024-09-09T12:40:29.9'"),
    ],
)
def test_literal_renders_exact_syntax(value, expected):
    assert literal(value) == expected


def test_aware_datetime_is_converted_to_amsterdam_wall_clock():
    # 14:31 UTC in summer is 16:31 in Amsterdam (CEST, +02:00)
    summer = dt.datetime(2026, 6, 25, 14, 31, tzinfo=dt.timezone.utc)
    assert literal(summer) == "datetime'2026-06-25T16:31:00'"
    # in winter the offset is +01:00
    winter = dt.datetime(2026, 1, 15, 23, 30, tzinfo=dt.timezone.utc)
    assert literal(winter) == "datetime'2026-01-16T00:30:00'"
    # already in Amsterdam: unchanged wall clock
    local = dt.datetime(2026, 3, 1, 9, 0, tzinfo=AMSTERDAM)
    assert literal(local) == "datetime'2026-03-01T09:00:00'"


def test_enum_member_renders_its_value():
    import enum

    class Kind(enum.IntEnum):
        SALES = 20

    class Letter(enum.Enum):
        B = "B"

    assert literal(Kind.SALES) == "20"
    assert literal(Letter.B) == "'B'"


@pytest.mark.parametrize(
    "value", [1.5, float("nan"), b"bytes", object(), [1], Decimal("NaN"), Decimal("Infinity")]
)
def test_literal_rejects_other_types(value):
    with pytest.raises(ConfigurationError):
        literal(value)


def test_float_error_suggests_decimal():
    with pytest.raises(ConfigurationError, match="Decimal"):
        literal(0.1)


def test_int64_rejects_non_int():
    with pytest.raises(ConfigurationError):
        Int64("12")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        Int64(True)


# --------------------------------------------------------------------------- keys


def test_key_literal_without_kind():
    assert key_literal(GUID) == f"guid'{GUID}'"
    assert key_literal(str(GUID)) == f"guid'{GUID}'"
    assert key_literal(123) == "123"
    assert key_literal(Int64(5)) == "5L"
    assert key_literal("ABC") == "'ABC'"


def test_key_literal_with_kind():
    assert key_literal(str(GUID).upper(), kind="guid") == f"guid'{GUID}'"
    assert key_literal("17", kind="int") == "17"
    assert key_literal(17, kind="int64") == "17L"
    with pytest.raises(ConfigurationError, match="not a GUID"):
        key_literal("nope", kind="guid")
    with pytest.raises(ConfigurationError, match="not an integer"):
        key_literal(GUID, kind="int")
    with pytest.raises(ConfigurationError, match="not an integer"):
        key_literal(True, kind="int")
    with pytest.raises(ConfigurationError):
        key_literal(1, kind="string")
    with pytest.raises(ConfigurationError):
        key_literal(1.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- filters


def test_comparisons():
    assert str(P("A") == 1) == "A eq 1"
    assert str(P("A") != "x") == "A ne 'x'"
    assert str(P("A") > Decimal("1.5")) == "A gt 1.5"
    assert str(P("A") >= dt.date(2026, 1, 1)) == "A ge datetime'2026-01-01T00:00:00'"
    assert str(P("A") < Int64(3)) == "A lt 3L"
    assert str(P("A") <= GUID) == f"A le guid'{GUID}'"
    assert str(P("A") == None) == "A eq null"  # noqa: E711
    assert str(P("A") == P("B")) == "A eq B"
    assert (P("A") == 1).render() == "A eq 1"


def test_trim_and_functions():
    assert str(P("Code").trim() == "8") == "trim(Code) eq '8'"
    assert str(P("Name").startswith("Gym")) == "startswith(Name,'Gym')"
    assert str(P("Name").contains("it's")) == "substringof('it''s',Name)"
    with pytest.raises(ConfigurationError):
        P("Name").contains(5)  # type: ignore[arg-type]


def test_is_in():
    assert str(P("N").is_in([1, 2, 3])) == "(N eq 1 or N eq 2 or N eq 3)"
    assert str(P("N").is_in(["a"])) == "N eq 'a'"
    # an is_in group keeps its parentheses when combined
    assert str(P("N").is_in([1, 2]) & (P("M") == 3)) == "(N eq 1 or N eq 2) and M eq 3"
    with pytest.raises(ConfigurationError):
        P("N").is_in([])
    with pytest.raises(ConfigurationError):
        P("N").is_in("ab")


def test_combinators_parenthesise():
    a, b, c = P("A") == 1, P("B") == 2, P("C") == 3
    assert str(a & b & c) == "A eq 1 and B eq 2 and C eq 3"
    assert str(a | b | c) == "A eq 1 or B eq 2 or C eq 3"
    assert str((a | b) & c) == "(A eq 1 or B eq 2) and C eq 3"
    assert str(a | (b & c)) == "A eq 1 or (B eq 2 and C eq 3)"
    assert str(~(a | b)) == "not (A eq 1 or B eq 2)"
    assert str(~a & b) == "not (A eq 1) and B eq 2"
    assert str(Filter.raw("X eq 1 or Y eq 2") & a) == "(X eq 1 or Y eq 2) and A eq 1"


def test_filter_all_and_any():
    a, b = P("A") == 1, P("B") == 2
    assert Filter.all([]) is None
    assert str(Filter.all([a, b])) == "A eq 1 and B eq 2"
    assert str(Filter.any([a, b])) == "A eq 1 or B eq 2"


def test_filter_rejects_non_filter_operands():
    with pytest.raises(TypeError):
        (P("A") == 1) & "B eq 2"  # type: ignore[operator]
    with pytest.raises(ConfigurationError):
        Filter.raw("   ")


@pytest.mark.parametrize(
    "name", ["", "1Code", "Code eq 1", "Code)", "Code'", "trim(Code)", "a//b", None]
)
def test_property_names_are_validated(name):
    with pytest.raises(ConfigurationError):
        P(name)  # type: ignore[arg-type]


def test_property_name_navigation_path_and_hash():
    assert str(P("Account/Name") == "x") == "Account/Name eq 'x'"
    assert hash(P("A")) == hash(P("A"))
    assert len({P("A"), P("A").trim()}) == 2


# --------------------------------------------------------------------------- Query


def test_query_params_order_and_content():
    query = Query(
        filter=P("Journal") == "70",
        select=("EntryID", "YourRef"),
        expand=("SalesEntryLines",),
        orderby=("EntryNumber desc", "EntryID"),
        top=100,
        skip=0,
        inlinecount=True,
    )
    assert query.params() == [
        ("$filter", "Journal eq '70'"),
        ("$select", "EntryID,YourRef"),
        ("$expand", "SalesEntryLines"),
        ("$orderby", "EntryNumber desc,EntryID"),
        ("$top", "100"),
        ("$skip", "0"),
        ("$inlinecount", "allpages"),
    ]


def test_empty_query_has_no_params():
    assert Query().params() == []


def test_builders_return_new_queries():
    base = Query()
    q = (
        base.where(P("A") == 1)
        .where(P("B") == 2)
        .with_select("ID", P("Name"))
        .with_expand("Lines")
        .with_orderby(P("Modified"), "ID desc")
        .with_top(5)
        .with_skip(10)
        .with_inlinecount()
    )
    assert base == Query()
    assert q.filter is not None
    assert q.filter.render() == "A eq 1 and B eq 2"
    assert q.select == ("ID", "Name")
    assert q.expand == ("Lines",)
    assert q.orderby == ("Modified", "ID desc")
    assert (q.top, q.skip, q.inlinecount) == (5, 10, True)
    assert q.with_filter(None).filter is None
    assert q.with_select().select == ()


def test_select_accepts_comma_string():
    assert Query(select="ID, Name").select == ("ID", "Name")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"select": ("ID", "Name desc")},
        {"orderby": ("Name sideways",)},
        {"orderby": (5,)},
        {"top": -1},
        {"skip": 1.5},
        {"top": True},
        {"filter": "A eq 1"},
    ],
)
def test_query_validates(kwargs):
    with pytest.raises(ConfigurationError):
        Query(**kwargs)


def test_query_is_frozen():
    import attrs

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        Query().top = 5  # type: ignore[misc]


# --------------------------------------------------------------------------- properties


def _unquote(text: str) -> str:
    assert text.startswith("'")
    assert text.endswith("'")
    inner = text[1:-1]
    # every quote inside must be part of a doubled pair
    assert re.fullmatch(r"(?:[^']|'')*", inner), text
    return inner.replace("''", "'")


@settings(max_examples=150)
@given(st.text())
def test_string_literal_round_trips(value):
    assert _unquote(literal(value)) == value


def _tokens(text: str) -> list[str]:
    """Split filter text into tokens, keeping quoted strings whole (OData quoting)."""
    tokens = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == " ":
            i += 1
        elif ch == "'":
            j = i + 1
            while True:
                j = text.index("'", j)
                if j + 1 < len(text) and text[j + 1] == "'":
                    j += 2
                    continue
                break
            tokens.append(text[i : j + 1])
            i = j + 1
        elif ch in "(),":
            tokens.append(ch)
            i += 1
        else:
            j = i
            while j < len(text) and text[j] not in " (),'":
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


@settings(max_examples=150)
@given(st.text())
def test_no_injection_through_string_values(value):
    rendered = str((P("Name") == value) & (P("Code").trim() != value))
    tokens = _tokens(rendered)
    assert tokens[:3] == ["Name", "eq", literal(value)]
    assert tokens[3] == "and"
    assert tokens[4:] == ["trim", "(", "Code", ")", "ne", literal(value)]
    contains = _tokens(str(P("Name").contains(value)))
    assert contains == ["substringof", "(", literal(value), ",", "Name", ")"]


def _trees(depth: int = 3):
    atoms = st.integers(min_value=0, max_value=5).map(lambda i: ("atom", i))
    raws = st.tuples(st.integers(0, 5), st.integers(0, 5)).map(lambda p: ("raw", p))
    return st.recursive(
        st.one_of(atoms, raws),
        lambda children: st.one_of(
            st.tuples(st.just("and"), children, children),
            st.tuples(st.just("or"), children, children),
            st.tuples(st.just("not"), children),
        ),
        max_leaves=8,
    )


def _build(tree):
    kind = tree[0]
    if kind == "atom":
        return P(f"X{tree[1]}") == 1
    if kind == "raw":
        a, b = tree[1]
        return Filter.raw(f"X{a} eq 1 or X{b} eq 1")
    if kind == "not":
        return ~_build(tree[1])
    left, right = _build(tree[1]), _build(tree[2])
    return left & right if kind == "and" else left | right


def _evaluate(tree, truth):
    kind = tree[0]
    if kind == "atom":
        return truth[tree[1]]
    if kind == "raw":
        a, b = tree[1]
        return truth[a] or truth[b]
    if kind == "not":
        return not _evaluate(tree[1], truth)
    left, right = _evaluate(tree[1], truth), _evaluate(tree[2], truth)
    return (left and right) if kind == "and" else (left or right)


@settings(max_examples=150)
@given(_trees(), st.lists(st.booleans(), min_size=6, max_size=6))
def test_rendered_structure_matches_built_structure(tree, truth):
    # OData and Python share precedence (not > and > or), so substituting each
    # comparison by its truth value and evaluating the text must give the same
    # answer as evaluating the tree: any lost parenthesis would change it.
    text = _build(tree).render()
    python = re.sub(r"X(\d) eq 1", lambda m: str(truth[int(m.group(1))]), text)
    assert re.fullmatch(r"[TrueFalsndot() ]*", python), python
    assert eval(python) == _evaluate(tree, truth)
