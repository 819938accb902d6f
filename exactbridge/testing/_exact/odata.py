"""OData v2 query options of the fake Exact Online: $filter, $select, $orderby, keys.

The ``$filter`` language is parsed by a small recursive-descent parser and checked
against the entity set's fields before it is evaluated:

* operators ``eq ne gt ge lt le and or not`` and parentheses;
* functions ``trim tolower toupper length substringof startswith endswith year month
  day hour minute second``;
* literals ``'text'`` (quotes doubled inside), ``guid'...'``, ``datetime'...'``
  (wall-clock time, like the stored values), ``123``, ``123L`` (Int64), ``1.5``/``1.5M``,
  ``true``, ``false``, ``null``.

Unknown properties and type mismatches raise :class:`QueryError` (answered with 400)
using WCF Data Services' wording, which Exact's OData service is built on.
Comparisons are exact (case- and space-sensitive); a comparison with ``null`` other
than ``eq``/``ne`` is false.
"""

from __future__ import annotations

import datetime as dt
import decimal
import heapq
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from exactbridge.testing._exact.schema import EdmType, EntitySet

__all__ = [
    "Filter",
    "QueryError",
    "first_after",
    "format_literal",
    "parse_expand",
    "parse_filter",
    "parse_key",
    "parse_literal_list",
    "parse_orderby",
    "parse_select",
    "select_page",
    "sort_rows",
]


class QueryError(Exception):
    """A query option Exact would refuse with HTTP 400."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- tokens -------------------------------------------------------------------------------

_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?([LlMmDdFf])?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_./]*")


@attrs.frozen
class _Tok:
    kind: str  # "lit", "ident", "(", ")", ",", "end"
    pos: int
    text: str = ""
    value: Any = None
    type: str = ""  # literal category


_CATEGORY = {
    EdmType.STRING: "string",
    EdmType.INT16: "number",
    EdmType.INT32: "number",
    EdmType.INT64: "number",
    EdmType.BYTE: "number",
    EdmType.DOUBLE: "number",
    EdmType.BOOLEAN: "bool",
    EdmType.GUID: "guid",
    EdmType.DATETIME: "datetime",
    EdmType.BINARY: "binary",
}

_CLR = {
    "string": "System.String",
    "number": "System.Decimal",
    "bool": "System.Boolean",
    "guid": "System.Guid",
    "datetime": "System.DateTime",
    "binary": "System.Byte[]",
    "null": "<null>",
}


def _parse_datetime(text: str, pos: int) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.rstrip("Z"))
    except ValueError:
        raise QueryError(
            f"Unrecognized 'Edm.DateTime' literal 'datetime'{text}'' at '{pos}'."
        ) from None
    return value.replace(tzinfo=None)


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """Read a quoted string starting at the opening quote; return (value, end index)."""
    index = start + 1
    chunks: list[str] = []
    while True:
        close = text.find("'", index)
        if close < 0:
            raise QueryError(f"There is an unterminated string literal at position {start}.")
        chunks.append(text[index:close])
        if text.startswith("''", close):
            chunks.append("'")
            index = close + 2
            continue
        return "".join(chunks), close + 1


def _number_value(raw: str, pos: int) -> Any:
    suffix = raw[-1] if raw[-1] in "LlMmDdFf" else ""
    body = raw[:-1] if suffix else raw
    if suffix in ("L", "l"):
        if "." in body or "e" in body.lower():
            raise QueryError(f"Unrecognized 'Edm.Int64' literal '{raw}' at '{pos}'.")
        return int(body)
    if suffix or "." in body or "e" in body.lower():
        return decimal.Decimal(body)
    return int(body)


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            index += 1
            continue
        if char in "(),":
            tokens.append(_Tok(char, index))
            index += 1
            continue
        if char == "'":
            value, end = _read_quoted(text, index)
            tokens.append(_Tok("lit", index, text[index:end], value, "string"))
            index = end
            continue
        number = _NUMBER.match(text, index)
        if number and (char.isdigit() or char == "-"):
            raw = number.group(0)
            tokens.append(_Tok("lit", index, raw, _number_value(raw, index), "number"))
            index = number.end()
            continue
        ident = _IDENT.match(text, index)
        if ident:
            word = ident.group(0)
            end = ident.end()
            if end < len(text) and text[end] == "'" and word in ("guid", "datetime", "X", "binary"):
                value, after = _read_quoted(text, end)
                tokens.append(_typed_literal(word, value, index, text[index:after]))
                index = after
                continue
            if word in ("true", "false"):
                tokens.append(_Tok("lit", index, word, word == "true", "bool"))
            elif word == "null":
                tokens.append(_Tok("lit", index, word, None, "null"))
            else:
                tokens.append(_Tok("ident", index, word))
            index = end
            continue
        raise QueryError(f"Syntax error: character '{char}' is not valid at position {index}.")
    tokens.append(_Tok("end", len(text)))
    return tokens


def _typed_literal(word: str, value: str, pos: int, raw: str) -> _Tok:
    if word == "guid":
        try:
            return _Tok("lit", pos, raw, uuid.UUID(value), "guid")
        except ValueError:
            raise QueryError(f"Unrecognized 'Edm.Guid' literal '{raw}' at '{pos}'.") from None
    if word == "datetime":
        return _Tok("lit", pos, raw, _parse_datetime(value, pos), "datetime")
    try:
        return _Tok("lit", pos, raw, bytes.fromhex(value), "binary")
    except ValueError:
        raise QueryError(f"Unrecognized 'Edm.Binary' literal '{raw}' at '{pos}'.") from None


# -- expression tree --------------------------------------------------------------------

Evaluator = Callable[[Mapping[str, Any]], Any]


# literal categories an index lookup agrees with ``==`` on (dates are compared as datetimes)
_INDEXABLE = frozenset({"string", "guid", "number"})
_NOTHING = object()


@attrs.frozen
class _Node:
    type: str  # result category
    fn: Evaluator
    fields: frozenset[str]
    prop: str | None = None  # set when the node is a bare property reference
    value: Any = _NOTHING  # set when the node is a literal
    # (property, value) pairs that must hold for the node to be true: the ``prop eq
    # literal`` comparisons joined by ``and`` at the top of the expression
    equal: tuple[tuple[str, Any], ...] = ()
    strict_bool: bool = False  # fn always returns a bool (comparisons, and/or/not)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}


def _as_datetime(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return value


def _string_fn(op: Callable[[str], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else op(value)


def _date_part(name: str) -> Callable[[Any], Any]:
    return lambda value: None if value is None else getattr(_as_datetime(value), name)


# name -> (argument categories, result category, implementation)
_FUNCTIONS: dict[str, tuple[tuple[str, ...], str, Callable[..., Any]]] = {
    "trim": (("string",), "string", _string_fn(str.strip)),
    "tolower": (("string",), "string", _string_fn(str.lower)),
    "toupper": (("string",), "string", _string_fn(str.upper)),
    "length": (("string",), "number", _string_fn(len)),
    "substringof": (
        ("string", "string"),
        "bool",
        lambda needle, hay: needle is not None and hay is not None and needle in hay,
    ),
    "startswith": (
        ("string", "string"),
        "bool",
        lambda hay, prefix: hay is not None and prefix is not None and hay.startswith(prefix),
    ),
    "endswith": (
        ("string", "string"),
        "bool",
        lambda hay, suffix: hay is not None and suffix is not None and hay.endswith(suffix),
    ),
    **{
        part: (("datetime",), "number", _date_part(part))
        for part in ("year", "month", "day", "hour", "minute", "second")
    },
}


class _Parser:
    def __init__(self, text: str, entity_set: EntitySet) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.entity_set = entity_set

    def peek(self) -> _Tok:
        return self.tokens[self.index]

    def take(self) -> _Tok:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def word(self, *words: str) -> str | None:
        token = self.peek()
        if token.kind == "ident" and token.text in words:
            self.index += 1
            return token.text
        return None

    def expect(self, kind: str) -> _Tok:
        token = self.take()
        if token.kind != kind:
            raise QueryError(f"'{kind}' expected at position {token.pos}.")
        return token

    def parse(self) -> _Node:
        node = self.parse_or()
        token = self.peek()
        if token.kind != "end":
            raise QueryError(f"Syntax error at position {token.pos}.")
        if node.type != "bool":
            raise QueryError("Expression of type 'System.Boolean' expected at position 0.")
        return node

    def _logical(self, op: str, left: _Node, right: _Node, pos: int) -> _Node:
        if left.type != "bool" or right.type != "bool":
            raise QueryError(
                f"Operator '{op}' incompatible with operand types '{_CLR[left.type]}' and "
                f"'{_CLR[right.type]}' at position {pos}."
            )
        lf, rf = left.fn, right.fn
        if op == "and":
            fn: Evaluator = lambda row: bool(lf(row)) and bool(rf(row))  # noqa: E731
            return _Node(
                "bool",
                fn,
                left.fields | right.fields,
                equal=left.equal + right.equal,
                strict_bool=True,
            )
        fn = lambda row: bool(lf(row)) or bool(rf(row))  # noqa: E731
        return _Node("bool", fn, left.fields | right.fields, strict_bool=True)

    def parse_or(self) -> _Node:
        node = self.parse_and()
        while True:
            pos = self.peek().pos
            if not self.word("or"):
                return node
            node = self._logical("or", node, self.parse_and(), pos)

    def parse_and(self) -> _Node:
        node = self.parse_not()
        while True:
            pos = self.peek().pos
            if not self.word("and"):
                return node
            node = self._logical("and", node, self.parse_not(), pos)

    def parse_not(self) -> _Node:
        pos = self.peek().pos
        if self.word("not"):
            operand = self.parse_not()
            if operand.type != "bool":
                raise QueryError(
                    f"Operator 'not' incompatible with operand type '{_CLR[operand.type]}' at "
                    f"position {pos}."
                )
            inner = operand.fn
            return _Node("bool", lambda row: not inner(row), operand.fields, strict_bool=True)
        return self.parse_comparison()

    def parse_comparison(self) -> _Node:
        left = self.parse_primary()
        pos = self.peek().pos
        op = self.word(*_COMPARE)
        if op is None:
            if self.word("add", "sub", "mul", "div", "mod"):
                raise QueryError(f"Arithmetic operators are not supported (position {pos}).")
            return left
        right = self.parse_primary()
        self._check_operands(op, left, right, pos)
        compare = _COMPARE[op]
        lf, rf = left.fn, right.fn
        fields = left.fields | right.fields
        if "datetime" in (left.type, right.type):
            return _Node(
                "bool",
                lambda row: bool(compare(_as_datetime(lf(row)), _as_datetime(rf(row)))),
                fields,
                strict_bool=True,
            )
        if left.prop is not None and right.value is not _NOTHING:
            fn = _against_literal(op, left.prop, right.value, literal_first=False)
        elif right.prop is not None and left.value is not _NOTHING:
            fn = _against_literal(op, right.prop, left.value, literal_first=True)
        else:
            fn = lambda row: bool(compare(lf(row), rf(row)))  # noqa: E731
        return _Node("bool", fn, fields, equal=_equality(op, left, right), strict_bool=True)

    @staticmethod
    def _check_operands(op: str, left: _Node, right: _Node, pos: int) -> None:
        types = {left.type, right.type}
        ok = left.type == right.type or (op in ("eq", "ne") and "null" in types)
        if ok and op not in ("eq", "ne") and types & {"bool", "binary", "null"}:
            ok = False
        if not ok:
            raise QueryError(
                f"Operator '{op}' incompatible with operand types '{_CLR[left.type]}' and "
                f"'{_CLR[right.type]}' at position {pos}."
            )

    def parse_primary(self) -> _Node:
        token = self.take()
        if token.kind == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if token.kind == "lit":
            value = token.value
            return _Node(token.type, lambda row: value, frozenset(), value=value)
        if token.kind == "ident":
            if self.peek().kind == "(":
                return self.parse_call(token)
            return self.property(token.text, token.pos)
        raise QueryError(f"Expression expected at position {token.pos}.")

    def property(self, name: str, pos: int) -> _Node:
        field = self.entity_set.fields.get(name)
        if field is None:
            raise QueryError(
                f"No property '{name}' exists in type '{self.entity_set.type_name}' at position "
                f"{pos}."
            )
        return _Node(_CATEGORY[field.type], lambda row: row.get(name), frozenset({name}), prop=name)

    def parse_call(self, name: _Tok) -> _Node:
        spec = _FUNCTIONS.get(name.text)
        if spec is None:
            raise QueryError(f"Unknown function '{name.text}' at position {name.pos}.")
        self.expect("(")
        args: list[_Node] = []
        if self.peek().kind != ")":
            args.append(self.parse_or())
            while self.peek().kind == ",":
                self.take()
                args.append(self.parse_or())
        self.expect(")")
        wanted, result, impl = spec
        if len(args) != len(wanted) or any(
            arg.type not in (kind, "null") for arg, kind in zip(args, wanted, strict=True)
        ):
            raise QueryError(
                f"No applicable function found for '{name.text}' at position {name.pos} with the "
                f"specified arguments. The functions considered are: {name.text}("
                + ", ".join(_CLR[kind] for kind in wanted)
                + ")."
            )
        fns = [arg.fn for arg in args]
        fields = frozenset().union(*(arg.fields for arg in args))
        return _Node(result, lambda row: impl(*(fn(row) for fn in fns)), fields)


def _against_literal(op: str, name: str, value: Any, *, literal_first: bool) -> Evaluator:
    """``property op literal`` as one function of the row (the common filter term, fast)."""
    if op == "eq":
        return lambda row: row.get(name) == value
    if op == "ne":
        return lambda row: row.get(name) != value
    compare = _COMPARE[op]
    if literal_first:
        return lambda row: compare(value, row.get(name))
    return lambda row: compare(row.get(name), value)


def _equality(op: str, left: _Node, right: _Node) -> tuple[tuple[str, Any], ...]:
    """``((property, value),)`` for ``property eq literal`` (either way round), else ``()``."""
    if op != "eq" or left.type != right.type or left.type not in _INDEXABLE:
        return ()
    if left.prop is not None and right.value is not _NOTHING:
        return ((left.prop, right.value),)
    if right.prop is not None and left.value is not _NOTHING:
        return ((right.prop, left.value),)
    return ()


@attrs.frozen
class Filter:
    """A checked ``$filter`` expression: a row predicate and the properties it reads.

    ``equal`` maps properties to values they must equal for the predicate to hold
    (from ``Property eq literal`` terms joined by ``and`` at the top level, for strings,
    GUIDs and numbers); a domain may use it to look rows up in an index before the
    predicate runs. The predicate stays the whole truth: ``equal`` only narrows.
    """

    text: str
    predicate: Callable[[Mapping[str, Any]], bool]
    fields: frozenset[str]
    equal: Mapping[str, Any] = attrs.field(factory=dict)

    def __call__(self, row: Mapping[str, Any]) -> bool:
        return self.predicate(row)


def parse_filter(text: str, entity_set: EntitySet) -> Filter:
    """Parse and type-check a ``$filter`` for ``entity_set``; raise QueryError if invalid.

    >>> from exactbridge.testing._exact.schema import Field
    >>> accounts = EntitySet("crm/Accounts", "Accounts", "ID", "Exact.Web.Api.Models.Account",
    ...     {"ID": Field("ID", EdmType.GUID), "Code": Field("Code", EdmType.STRING)})
    >>> f = parse_filter("trim(Code) eq '8'", accounts)
    >>> f({"Code": "                 8"}), sorted(f.fields), f.equal
    (True, ['Code'], {})
    >>> parse_filter("Code eq '8' and ID ne null", accounts).equal
    {'Code': '8'}
    """
    node = _Parser(text, entity_set).parse()
    fn = node.fn
    predicate: Callable[[Mapping[str, Any]], bool] = (
        fn if node.strict_bool else lambda row: bool(fn(row))
    )
    return Filter(text, predicate, node.fields, dict(node.equal))


# -- $select, $expand, $orderby -------------------------------------------------------------


def _names(text: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    pos = 0
    for part in text.split(","):
        name = part.strip()
        out.append((name, pos + (len(part) - len(part.lstrip()))))
        pos += len(part) + 1
    return out


def parse_select(text: str, entity_set: EntitySet) -> list[str] | None:
    """Property names of ``$select`` (``None`` for ``*``); unknown names raise QueryError."""
    names: list[str] = []
    for name, pos in _names(text):
        if name == "*":
            return None
        head = name.split("/", 1)[0]
        if not name or (head not in entity_set.fields and head not in entity_set.children):
            raise QueryError(
                f"No property '{name}' exists in type '{entity_set.type_name}' at position {pos}."
            )
        if head not in names:
            names.append(head)
    return names


def parse_expand(text: str, entity_set: EntitySet) -> list[str]:
    """Navigation properties of ``$expand``; unknown ones raise QueryError."""
    names: list[str] = []
    for name, pos in _names(text):
        if name not in entity_set.children:
            raise QueryError(
                f"No property '{name}' exists in type '{entity_set.type_name}' at position {pos}."
            )
        names.append(name)
    return names


def parse_orderby(text: str, entity_set: EntitySet) -> list[tuple[str, bool]]:
    """``$orderby`` as ``[(property, descending)]``; unknown properties raise QueryError."""
    order: list[tuple[str, bool]] = []
    for part, pos in _names(text):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise QueryError(f"Syntax error in $orderby at position {pos}.")
        if words[0] not in entity_set.fields:
            raise QueryError(
                f"No property '{words[0]}' exists in type '{entity_set.type_name}' at position "
                f"{pos}."
            )
        order.append((words[0], len(words) == 2 and words[1] == "desc"))
    return order


def _compare(left: Any, right: Any) -> int:
    if left is None or right is None:
        return (left is not None) - (right is not None)
    left, right = _as_datetime(left), _as_datetime(right)
    return int(left > right) - int(left < right)


def compare_keys(left: Sequence[Any], right: Sequence[Any], order: Sequence[bool]) -> int:
    """Compare two sort tuples; ``order`` holds the ``descending`` flag per position."""
    for a, b, descending in zip(left, right, order, strict=False):
        result = _compare(a, b)
        if result:
            return -result if descending else result
    return 0


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, uuid.UUID):
        return (1, value.int)  # same order as comparing UUIDs, without Python-level __lt__
    return (1, _as_datetime(value))


_R = TypeVar("_R", bound=Mapping[str, Any])


def sort_rows(rows: Sequence[_R], order: Sequence[tuple[str, bool]]) -> list[_R]:
    """Sort rows by ``order`` (``None`` sorts first in ascending order).

    Consistent with :func:`compare_keys`: one stable sort per property, the least
    significant first.
    """
    out = list(rows)
    for name, descending in reversed(order):
        out.sort(key=lambda row: _sort_key(row.get(name)), reverse=descending)
    return out


def first_after(
    rows: Sequence[Mapping[str, Any]], order: Sequence[tuple[str, bool]], after: Sequence[Any]
) -> int:
    """Index of the first row (of rows sorted by ``order``) that sorts after ``after``."""
    names = [name for name, _ in order]
    flags = [descending for _, descending in order]
    low, high = 0, len(rows)
    while low < high:
        middle = (low + high) // 2
        if compare_keys([rows[middle].get(n) for n in names], after, flags) > 0:
            high = middle
        else:
            low = middle + 1
    return low


def _row_key(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The sort tuple of a row for ``names`` (compared as :func:`compare_keys` would)."""
    if len(names) == 1:
        (only,) = names
        return lambda row: (_sort_key(row.get(only)),)
    if len(names) == 2:
        first, second = names
        return lambda row: (_sort_key(row.get(first)), _sort_key(row.get(second)))
    return lambda row: tuple([_sort_key(row.get(name)) for name in names])


def select_page(
    rows: Sequence[_R],
    order: Sequence[tuple[str, bool]],
    *,
    after: Sequence[Any] | None = None,
    skip: int = 0,
    limit: int,
) -> tuple[list[_R], int]:
    """One page of ``rows`` in ``order``, and how many rows were left for it.

    The result equals sorting every row (:func:`sort_rows`), dropping the rows up to
    and including the skiptoken values ``after`` (:func:`first_after`), then ``skip``
    rows, and taking ``limit``; the count is of the rows left after ``after`` and
    ``skip`` (the page and everything behind it). When every property sorts in the same
    direction, which is the usual case, only the rows of the page are put in order
    (a heap), so a page of a large table costs one pass over it rather than a sort.

    >>> rows = [{"N": n} for n in (5, 3, None, 4, 1)]
    >>> select_page(rows, [("N", False)], after=[1], limit=2)
    ([{'N': 3}, {'N': 4}], 3)
    """
    directions = {descending for _, descending in order}
    if len(directions) > 1:
        ordered = sort_rows(rows, order)
        if after is not None:
            ordered = ordered[first_after(ordered, order, after) :]
        rest = ordered[skip:]
        return rest[:limit], len(rest)
    descending = directions == {True}
    key = _row_key([name for name, _ in order])
    # Nothing per row outlives this call but the list of candidate rows: keeping a sort
    # tuple per row alive would promote them into the collector's oldest generation and
    # set off full collections over every stored row, which costs more than computing a
    # candidate's key twice.
    candidates: Sequence[_R] = rows
    if after is not None:
        bound = tuple(_sort_key(value) for value in after)
        if descending:
            candidates = [row for row in rows if key(row) < bound]
        else:
            candidates = [row for row in rows if key(row) > bound]
    wanted = skip + limit
    if wanted >= len(candidates):
        page = sorted(candidates, key=key, reverse=descending)
    elif descending:
        page = heapq.nlargest(wanted, candidates, key=key)
    else:
        page = heapq.nsmallest(wanted, candidates, key=key)
    return page[skip:], max(0, len(candidates) - skip)


# -- keys and literals ---------------------------------------------------------------------


def format_literal(value: Any, edm: EdmType | None = None) -> str:
    """An OData literal for a value (used in keys, ``__next`` skiptokens and URIs)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, uuid.UUID):
        return f"guid'{value}'"
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}".rstrip("0")
        return f"datetime'{text}'"
    if isinstance(value, int):
        return f"{value}L" if edm is EdmType.INT64 else str(value)
    if isinstance(value, decimal.Decimal):
        return f"{value}M"
    if isinstance(value, bytes):
        return f"X'{value.hex().upper()}'"
    text = str(value).replace("'", "''")
    return f"'{text}'"


def parse_literal_list(text: str) -> list[Any]:
    """Parse comma-separated literals (a ``$skiptoken``); raise QueryError if malformed."""
    values: list[Any] = []
    tokens = _tokenize(text)
    index = 0
    while True:
        token = tokens[index]
        if token.kind != "lit":
            raise QueryError(f"The $skiptoken '{text}' is not valid.")
        values.append(token.value)
        index += 1
        if tokens[index].kind == "end":
            return values
        if tokens[index].kind != ",":
            raise QueryError(f"The $skiptoken '{text}' is not valid.")
        index += 1


def parse_key(text: str) -> uuid.UUID | int:
    """Parse the key between the parentheses of ``Entity(...)``.

    Accepts ``guid'...'``, bare integers (``123`` or ``123L``) and the named form
    ``ID=guid'...'``.
    """
    if "=" in text and not text.startswith("'"):
        text = text.split("=", 1)[1]
    try:
        values = parse_literal_list(text) if text else []
    except QueryError:
        values = []
    if (
        len(values) != 1
        or isinstance(values[0], bool)
        or not isinstance(values[0], uuid.UUID | int)
    ):
        raise QueryError("Bad Request - Error in query syntax.")
    value: uuid.UUID | int = values[0]
    return value
