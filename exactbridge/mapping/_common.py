"""Shared plumbing of the mapping functions: decimal arithmetic, totality, templates.

Every public mapping function is wrapped by :func:`total`: it runs under one fixed
decimal context (whatever the host configured for its own thread does not change a
booking) and turns anything unexpected into a :class:`~exactbridge.errors.MappingError`
naming the record, so a hostile record can never make a mapping function raise
anything else.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import re
import string
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, NoReturn, TypeVar, cast

from exactbridge.errors import ConfigurationError, MappingError

__all__ = [
    "CENT",
    "DECIMAL_CONTEXT",
    "MAX_AMOUNT",
    "check_amount",
    "check_date",
    "check_text",
    "fail",
    "record_identity",
    "render",
    "round_cents",
    "text_or_none",
    "total",
    "validate_template",
]

#: Cents: every amount in a draft is quantized to this.
CENT = Decimal("0.01")

#: The largest amount (in absolute value) the mapping functions accept. Exact stores
#: amounts as doubles: 15 significant digits are safe, so 12 digits before the
#: decimal point plus two after is the most an amount may have.
MAX_AMOUNT = Decimal("999999999999.99")

#: The one decimal context the mapping functions compute in: enough precision for
#: every product and quotient of accepted amounts and rates, half-up rounding, and
#: traps on anything that is not a plain finite number.
DECIMAL_CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_UP,
    Emin=-999999,
    Emax=999999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_F = TypeVar("_F", bound=Callable[..., Any])


def record_identity(record: object) -> tuple[str, str | None]:
    """Return ``(source_id, source)`` of a record, tolerating anything."""
    source_id = getattr(record, "source_id", None)
    source = getattr(record, "source", None)
    return (
        source_id if isinstance(source_id, str) and source_id.strip() else "<unknown>",
        source if isinstance(source, str) and source.strip() else None,
    )


#: The ``[booking]`` table (and :class:`BookingConfig` attribute) of each policy.
_SETTING_TABLES = {
    "BookingConfig": "",
    "DebtorPolicy": "debtor.",
    "PeriodPolicy": "period.",
    "CreditNotePolicy": "credit_notes.",
    "VatMapping": "vat.",
    "LedgerMapping": "ledger.",
    "NumberingPolicy": "numbering.",
    "SummaryPolicy": "summary.",
    "PaymentMatchingPolicy": "payments.",
}


def setting(policy: str) -> str:
    """The ``[booking]`` key of a policy name: ``"DebtorPolicy.create_missing"`` ->
    ``"debtor.create_missing"`` (also the attribute path on ``BookingConfig``)."""
    head, _, attribute = policy.partition(".")
    table = _SETTING_TABLES.get(head)
    if table is None:
        return policy
    return (table + attribute) if attribute else table.rstrip(".") or "[booking]"


def fail(
    record: object,
    field: str,
    policy: str,
    value: Any,
    message: str,
    *,
    fix: str | None = None,
) -> NoReturn:
    """Raise a :class:`MappingError` for ``record``.

    ``fix`` tells the user what makes the record book (the setting and the value to
    use). Without one, the record's own data is what is wrong, and the message says
    to correct ``field`` in the source.
    """
    record_id, source = record_identity(record)
    if fix is None:
        fix = f"correct {field} of this record in {source or 'the source'}"
    raise MappingError(
        message,
        record_id=record_id,
        field=field,
        policy=policy,
        value=value,
        source=source,
        fix=fix,
    )


def total(function: _F) -> _F:
    """Make a mapping function total: only :class:`MappingError` leaves it.

    The first positional argument is taken as the record being mapped, to name it
    in the error when something unexpected goes wrong.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with decimal.localcontext(DECIMAL_CONTEXT):
                return function(*args, **kwargs)
        except MappingError:
            raise
        except ConfigurationError as exc:
            record = args[0] if args else None
            record_id, source = record_identity(record)
            raise MappingError(
                f"the configuration does not fit this record: {exc}",
                record_id=record_id,
                field=exc.key or "<configuration>",
                policy=exc.key or "BookingConfig",
                value=None,
                source=source,
                fix=f"change {exc.key or 'the booking configuration'}"
                + (f" to {exc.expected}" if getattr(exc, "expected", None) else ""),
            ) from exc
        except Exception as exc:
            record = args[0] if args else None
            record_id, source = record_identity(record)
            raise MappingError(
                f"the record is malformed ({type(exc).__name__}: {exc})",
                record_id=record_id,
                field="<record>",
                policy=function.__name__,
                value=None,
                source=source,
                fix=f"correct this record in {source or 'the source'}; "
                "if it looks right, report it as an exactbridge bug",
            ) from exc

    return cast("_F", wrapper)


def check_amount(record: object, field: str, policy: str, value: object) -> Decimal:
    """Return ``value`` if it is a finite :class:`Decimal` within :data:`MAX_AMOUNT`."""
    if type(value) is not Decimal:
        fail(record, field, policy, value, "expected a decimal.Decimal amount")
    if not value.is_finite():
        fail(record, field, policy, value, "the amount is not a finite number")
    if abs(value) > MAX_AMOUNT:
        fail(record, field, policy, value, f"the amount exceeds {MAX_AMOUNT} in absolute value")
    return value


def round_cents(value: Decimal) -> Decimal:
    """Round to cents, half away from zero (``ROUND_HALF_UP`` in :mod:`decimal`)."""
    return value.quantize(CENT, rounding=decimal.ROUND_HALF_UP, context=DECIMAL_CONTEXT)


def text_or_none(value: object) -> str | None:
    """``value`` stripped if it is a non-empty text, else ``None``."""
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return None


def check_date(record: object, field: str, policy: str, value: object) -> dt.date:
    """Return ``value`` if it is a :class:`datetime.date` (not a datetime)."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        fail(record, field, policy, value, "expected a datetime.date")
    return value


def check_text(record: object, field: str, policy: str, value: object) -> str:
    """Return ``value`` stripped if it is a non-empty string without control characters."""
    if not isinstance(value, str) or not value.strip():
        fail(record, field, policy, value, "expected a non-empty text")
    text = value.strip()
    if not text.isprintable():
        fail(record, field, policy, value, "the text contains control characters")
    return text


_FORMATTER = string.Formatter()
_FIELD_NAME = re.compile(r"^[a-z_]+$")


def validate_template(template: str, allowed: Iterable[str], *, key: str) -> str:
    """Check a description template: plain ``{name}`` fields from ``allowed`` only.

    Attribute access, indexing, conversions and format specs are refused so a
    template from a configuration file can only ever insert the named values.
    """
    allowed_set = frozenset(allowed)
    expected = "a text with {field} placeholders from: " + ", ".join(sorted(allowed_set))
    if not isinstance(template, str):
        raise ConfigurationError(f"{template!r} is not a text", key=key, expected=expected)
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ConfigurationError(
            f"{template!r} is not a valid template ({exc})", key=key, expected=expected
        ) from exc
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if not _FIELD_NAME.match(name) or name not in allowed_set or spec or conversion:
            raise ConfigurationError(
                f"template {template!r} uses an unknown or complex field {{{name}}}",
                key=key,
                expected=expected,
            )
    return template


def render(template: str, values: dict[str, str]) -> str:
    """Fill a template checked by :func:`validate_template`."""
    return template.format_map(values)
