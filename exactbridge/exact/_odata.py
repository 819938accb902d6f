"""OData v2 query building for Exact Online (pure, no I/O).

Everything here turns Python values into the text of ``$filter``, ``$select``,
``$expand``, ``$orderby``, ``$top``, ``$skip`` and ``$inlinecount`` query options,
with Exact's literal syntax:

>>> str((P("YourRef") == "O'Brien 12") & (P("ReportingYear") >= 2026))
"YourRef eq 'O''Brien 12' and ReportingYear ge 2026"
>>> literal(Int64(123))
'123L'
>>> Query().where(P("Code").trim() == "8").with_select("ID", "Name").params()
[('$filter', "trim(Code) eq '8'"), ('$select', 'ID,Name')]

Property names are checked against a strict pattern and every value goes through
:func:`literal`, so a value can never change the structure of a filter. The only way
to write filter text by hand is :meth:`Filter.raw`.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import enum
import re
import uuid
import zoneinfo
from collections.abc import Iterable

import attrs

from exactbridge.errors import ConfigurationError

__all__ = [
    "AMSTERDAM",
    "Filter",
    "Int64",
    "P",
    "Query",
    "key_literal",
    "literal",
]

#: Exact Online's wall-clock time zone: its date-times are Amsterdam local time.
AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")

# A property name, optionally a navigation path (``Account/Name``).
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:/[A-Za-z_][A-Za-z0-9_]*)*$")
_ORDER_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_/]*)(?:\s+(asc|desc))?$")


def _check_name(name: object, what: str = "property name") -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigurationError(
            f"{what} {name!r} is not valid",
            expected="an OData property name such as 'Code' or 'Account/Name'",
        )
    return name


@attrs.frozen
class Int64:
    """An ``Edm.Int64`` value, rendered with Exact's ``L`` suffix.

    >>> literal(Int64(42))
    '42L'
    """

    value: int = attrs.field()

    @value.validator
    def _check(self, _attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigurationError(f"Int64 needs an int, got {value!r}", expected="an int")


def _format_wall_clock(value: _dt.datetime) -> str:
    """Render a datetime as Amsterdam wall-clock ISO text without offset."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        value = value.astimezone(AMSTERDAM)
    text = value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text


def literal(value: object) -> str:
    """Render a Python value as an OData v2 literal as Exact expects it.

    * ``str`` -> ``'text'`` with every ``'`` doubled;
    * ``bool`` -> ``true`` / ``false``; ``int`` -> bare digits; :class:`Int64` -> ``123L``;
    * :class:`uuid.UUID` -> ``guid'...'``;
    * :class:`datetime.datetime` -> ``datetime'YYYY-MM-DDTHH:MM:SS'`` in Amsterdam wall-clock
      time (aware values are converted first, naive ones are taken as wall-clock time);
      :class:`datetime.date` -> the same at midnight;
    * :class:`decimal.Decimal` -> plain digits (never exponent notation);
    * ``None`` -> ``null``; an :class:`enum.Enum` member -> the literal of its value.

    Anything else (notably ``float``) raises :class:`~exactbridge.errors.ConfigurationError`.

    >>> literal("it's")
    "'it''s'"
    >>> literal(_dt.date(2026, 6, 25))
    "datetime'2026-06-25T00:00:00'"
    """
    if value is None:
        return "null"
    if isinstance(value, enum.Enum):
        return literal(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, Int64):
        return f"{value.value}L"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, uuid.UUID):
        return f"guid'{value}'"
    if isinstance(value, _dt.datetime):
        return f"datetime'{_format_wall_clock(value)}'"
    if isinstance(value, _dt.date):
        return f"datetime'{value.isoformat()}T00:00:00'"
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ConfigurationError(
                f"cannot use {value!r} in a filter", expected="a finite Decimal"
            )
        return format(value, "f")
    raise ConfigurationError(
        f"cannot render a {type(value).__name__} value ({value!r}) as an OData literal",
        expected="str, bool, int, Int64, Decimal, uuid.UUID, datetime.date, datetime.datetime "
        "or None (use Decimal instead of float)",
    )


def key_literal(key: uuid.UUID | int | str | Int64, *, kind: str | None = None) -> str:
    """Render an entity key for a path such as ``Accounts(guid'...')`` or ``Divisions(123)``.

    ``kind`` (``"guid"``, ``"int"`` or ``"int64"``, as in
    :attr:`ResourceSpec.key_kind <exactbridge.exact._resources.ResourceSpec.key_kind>`)
    makes the check strict and lets a ``str`` carry a GUID or a number. Without it a
    ``str`` that parses as a GUID becomes ``guid'...'`` and any other ``str`` a quoted
    string.

    >>> key_literal(uuid.UUID("40d4c49d-1790-4a13-b890-42909af24348"))
    "guid'40d4c49d-1790-4a13-b890-42909af24348'"
    >>> key_literal(123)
    '123'
    >>> key_literal("17", kind="int64")
    '17L'
    """
    if kind not in (None, "guid", "int", "int64"):
        raise ConfigurationError(f"unknown key kind {kind!r}", expected="'guid', 'int' or 'int64'")
    if kind == "guid":
        if isinstance(key, uuid.UUID):
            return literal(key)
        if isinstance(key, str):
            try:
                return literal(uuid.UUID(key))
            except ValueError:
                pass
        raise ConfigurationError(f"entity key {key!r} is not a GUID", expected="a uuid.UUID")
    if kind in ("int", "int64"):
        number: int | None = None
        if isinstance(key, Int64):
            number = key.value
        elif isinstance(key, int) and not isinstance(key, bool):
            number = key
        elif isinstance(key, str) and re.fullmatch(r"-?[0-9]+", key.strip()):
            number = int(key.strip())
        if number is None:
            raise ConfigurationError(f"entity key {key!r} is not an integer", expected="an int")
        return f"{number}L" if kind == "int64" else str(number)
    if isinstance(key, (uuid.UUID, Int64)):
        return literal(key)
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    if isinstance(key, str):
        try:
            return literal(uuid.UUID(key))
        except ValueError:
            return literal(key)
    raise ConfigurationError(
        f"cannot use {key!r} as an entity key", expected="a uuid.UUID, an int or a str"
    )


# Precedence levels of rendered filter expressions (higher binds tighter).
_RAW = 0  # hand-written text: always parenthesised when combined
_OR = 1
_AND = 2
_ATOM = 3  # comparisons, function calls, parenthesised groups, not (...)


@attrs.frozen
class Filter:
    """A ``$filter`` expression. Build it from :class:`P` comparisons and combine it.

    ``a & b`` renders ``a and b``, ``a | b`` renders ``a or b`` and ``~a`` renders
    ``not (a)``; parentheses are added wherever precedence needs them, so the
    structure you build is the structure Exact parses.

    >>> f = (P("A") == 1) | (P("B") == 2)
    >>> str(f & (P("C") == 3))
    '(A eq 1 or B eq 2) and C eq 3'
    """

    text: str
    precedence: int = _ATOM

    @classmethod
    def raw(cls, text: object) -> Filter:
        """Wrap hand-written filter text (escape hatch; you are responsible for quoting).

        >>> str(Filter.raw("Timestamp gt 5L") & (P("A") == 1))
        '(Timestamp gt 5L) and A eq 1'
        """
        if not isinstance(text, str) or not text.strip():
            raise ConfigurationError("a raw filter needs non-empty text", expected="a str")
        return cls(text.strip(), _RAW)

    def render(self) -> str:
        """Return the ``$filter`` text."""
        return self.text

    def __str__(self) -> str:
        return self.text

    def _operand(self, parent: int) -> str:
        # Parenthesise anything that is not an atom when it sits under another operator
        # (an ``and`` inside an ``or`` is parenthesised too, for readability).
        if self.precedence == _ATOM or self.precedence == parent:
            return self.text
        return f"({self.text})"

    def __and__(self, other: Filter) -> Filter:
        if not isinstance(other, Filter):
            return NotImplemented
        return Filter(f"{self._operand(_AND)} and {other._operand(_AND)}", _AND)

    def __or__(self, other: Filter) -> Filter:
        if not isinstance(other, Filter):
            return NotImplemented
        return Filter(f"{self._operand(_OR)} or {other._operand(_OR)}", _OR)

    def __invert__(self) -> Filter:
        return Filter(f"not ({self.text})", _ATOM)

    @staticmethod
    def all(filters: Iterable[Filter]) -> Filter | None:
        """Combine filters with ``and`` (``None`` when there are none)."""
        result: Filter | None = None
        for item in filters:
            result = item if result is None else result & item
        return result

    @staticmethod
    def any(filters: Iterable[Filter]) -> Filter | None:
        """Combine filters with ``or`` (``None`` when there are none)."""
        result: Filter | None = None
        for item in filters:
            result = item if result is None else result | item
        return result


def _operand_text(value: object) -> str:
    if isinstance(value, P):
        return value.render()
    return literal(value)


@attrs.frozen(eq=False)
class P:
    """A reference to an entity property inside a filter.

    Comparison operators build :class:`Filter` objects (so ``P`` itself cannot be used
    as a dict key by value; compare names with ``p.name`` instead).

    >>> str(P("Code").trim() == "8")
    "trim(Code) eq '8'"
    >>> str(P("Name").contains("gym"))
    "substringof('gym',Name)"
    >>> str(P("InvoiceNumber").is_in([1, 2]))
    '(InvoiceNumber eq 1 or InvoiceNumber eq 2)'
    """

    name: str = attrs.field(validator=lambda _i, _a, v: _check_name(v))
    function: str | None = None

    def render(self) -> str:
        """Return the property as it appears in a filter (``Code`` or ``trim(Code)``)."""
        return f"{self.function}({self.name})" if self.function else self.name

    def __str__(self) -> str:
        return self.render()

    def __hash__(self) -> int:
        return hash((self.name, self.function))

    def trim(self) -> P:
        """Compare on the value with surrounding spaces removed (``trim(Code)``)."""
        return P(self.name, "trim")

    def _compare(self, op: str, other: object) -> Filter:
        return Filter(f"{self.render()} {op} {_operand_text(other)}")

    def __eq__(self, other: object) -> Filter:  # type: ignore[override]
        return self._compare("eq", other)

    def __ne__(self, other: object) -> Filter:  # type: ignore[override]
        return self._compare("ne", other)

    def __gt__(self, other: object) -> Filter:
        return self._compare("gt", other)

    def __ge__(self, other: object) -> Filter:
        return self._compare("ge", other)

    def __lt__(self, other: object) -> Filter:
        return self._compare("lt", other)

    def __le__(self, other: object) -> Filter:
        return self._compare("le", other)

    def startswith(self, prefix: str) -> Filter:
        """``startswith(Name,'prefix')`` (support by Exact is not documented)."""
        return Filter(f"startswith({self.render()},{literal(_need_str(prefix))})")

    def contains(self, text: str) -> Filter:
        """``substringof('text',Name)`` (support by Exact is not documented)."""
        return Filter(f"substringof({literal(_need_str(text))},{self.render()})")

    def is_in(self, values: Iterable[object]) -> Filter:
        """Any of several values: ``(X eq a or X eq b)``.

        Keep the list short (Exact's URLs get long; about 40 values is a sensible batch).
        """
        if isinstance(values, (str, bytes)):
            raise ConfigurationError("is_in() needs a collection of values, not a string")
        items = list(values)
        if not items:
            raise ConfigurationError(
                "is_in() needs at least one value", expected="a non-empty list"
            )
        if len(items) == 1:
            return self == items[0]
        return Filter("(" + " or ".join(str(self == item) for item in items) + ")")


def _need_str(value: object) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(f"expected text, got {value!r}", expected="a str")
    return value


def _names(values: Iterable[str | P] | str, what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [part.strip() for part in values.split(",") if part.strip()]
    out = []
    for value in values:
        name = value.name if isinstance(value, P) else value
        out.append(_check_name(name, what))
    return tuple(out)


def _orderings(values: Iterable[str | P] | str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [part.strip() for part in values.split(",") if part.strip()]
    out = []
    for value in values:
        text = value.name if isinstance(value, P) else value
        if not isinstance(text, str):
            raise ConfigurationError(f"$orderby item {text!r} is not valid", expected="a str")
        match = _ORDER_RE.match(text.strip())
        if not match:
            raise ConfigurationError(
                f"$orderby item {text!r} is not valid", expected="'Property' or 'Property desc'"
            )
        _check_name(match.group(1))
        out.append(" ".join(part for part in match.groups() if part))
    return tuple(out)


def _non_negative(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(f"{what} must be a non-negative int, got {value!r}")
    return value


def _top(value: object) -> int | None:
    return _non_negative(value, "$top")


def _skip(value: object) -> int | None:
    return _non_negative(value, "$skip")


def _select_names(value: Iterable[str | P] | str) -> tuple[str, ...]:
    return _names(value, "$select property")


def _expand_names(value: Iterable[str | P] | str) -> tuple[str, ...]:
    return _names(value, "$expand property")


def _filter_or_none(value: object) -> Filter | None:
    if value is not None and not isinstance(value, Filter):
        raise ConfigurationError(
            f"filter must be a Filter, got {type(value).__name__}",
            expected="a Filter built with P(...) or Filter.raw(...)",
        )
    return value


@attrs.frozen
class Query:
    """The query options of one request; immutable, built step by step.

    >>> q = Query(top=5).where(P("Journal") == "70").with_orderby("EntryNumber desc")
    >>> q.params()
    [('$filter', "Journal eq '70'"), ('$orderby', 'EntryNumber desc'), ('$top', '5')]
    """

    filter: Filter | None = attrs.field(default=None, converter=_filter_or_none)
    select: tuple[str, ...] = attrs.field(default=(), converter=_select_names)
    expand: tuple[str, ...] = attrs.field(default=(), converter=_expand_names)
    orderby: tuple[str, ...] = attrs.field(default=(), converter=_orderings)
    top: int | None = attrs.field(default=None, converter=_top)
    skip: int | None = attrs.field(default=None, converter=_skip)
    inlinecount: bool = False

    def where(self, *filters: Filter) -> Query:
        """Add filters, combined with ``and`` with any filter already present."""
        combined = Filter.all([*([self.filter] if self.filter else []), *filters])
        return attrs.evolve(self, filter=combined)

    def with_filter(self, value: Filter | None) -> Query:
        """Replace the filter (``None`` removes it)."""
        return attrs.evolve(self, filter=value)

    def with_select(self, *names: str | P) -> Query:
        """Replace ``$select`` (no names removes it)."""
        return attrs.evolve(self, select=names)

    def with_expand(self, *names: str | P) -> Query:
        """Replace ``$expand`` (navigation properties such as ``SalesEntryLines``)."""
        return attrs.evolve(self, expand=names)

    def with_orderby(self, *items: str | P) -> Query:
        """Replace ``$orderby`` (``"Modified"``, ``"Modified desc"``...)."""
        return attrs.evolve(self, orderby=items)

    def with_top(self, top: int | None) -> Query:
        """Replace ``$top``."""
        return attrs.evolve(self, top=top)

    def with_skip(self, skip: int | None) -> Query:
        """Replace ``$skip``."""
        return attrs.evolve(self, skip=skip)

    def with_inlinecount(self, on: bool = True) -> Query:
        """Ask for ``$inlinecount=allpages`` (adds ``__count`` to the response)."""
        return attrs.evolve(self, inlinecount=on)

    def params(self) -> list[tuple[str, str]]:
        """The query parameters, unencoded, in a fixed order.

        The order is ``$filter``, ``$select``, ``$expand``, ``$orderby``, ``$top``,
        ``$skip``, ``$inlinecount``; empty options are left out.
        """
        out: list[tuple[str, str]] = []
        if self.filter is not None:
            out.append(("$filter", self.filter.render()))
        if self.select:
            out.append(("$select", ",".join(self.select)))
        if self.expand:
            out.append(("$expand", ",".join(self.expand)))
        if self.orderby:
            out.append(("$orderby", ",".join(self.orderby)))
        if self.top is not None:
            out.append(("$top", str(self.top)))
        if self.skip is not None:
            out.append(("$skip", str(self.skip)))
        if self.inlinecount:
            out.append(("$inlinecount", "allpages"))
        return out
