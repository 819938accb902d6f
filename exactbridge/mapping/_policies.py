"""Booking policies: every option of the integrations exactbridge replaces, as data.

Each policy is a frozen attrs class that checks itself when built (a bad value
raises :class:`~exactbridge.errors.ConfigurationError` naming the dotted key, as it
appears in a configuration file: ``numbering.prefix``). :class:`BookingConfig` groups
them and loads them from an already parsed TOML mapping
(:meth:`BookingConfig.from_mapping`).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar, cast

import attrs

from exactbridge.codes import strip_code
from exactbridge.errors import ConfigurationError
from exactbridge.mapping._common import validate_template

__all__ = [
    "BookingConfig",
    "BookingMode",
    "CodeSource",
    "CreditNoteMode",
    "CreditNotePolicy",
    "DateSource",
    "DebtorPolicy",
    "LedgerMapping",
    "LedgerSource",
    "LedgerTarget",
    "NonNumericNumber",
    "NumberingPolicy",
    "PaymentMatchingPolicy",
    "PeriodPolicy",
    "ReceiptSign",
    "SummaryPolicy",
    "UnavailablePeriod",
    "UnmatchedPayments",
    "VatMapping",
    "category_key",
    "rate_key",
]


class CodeSource(enum.Enum):
    """Where a debtor code comes from (Coachview: which field is used as debtor number)."""

    INTERNAL_NUMBER = "internal_number"
    EXTERNAL_NUMBER = "external_number"
    EXTERN_ID = "extern_id"


class DateSource(enum.Enum):
    """Which date decides the booking period (Coachview: invoice date, order start...)."""

    INVOICE_DATE = "invoice_date"
    ORDER_START = "order_start"
    ORDER_END = "order_end"
    SERVICE_PERIOD_START = "service_period_start"
    EXPORT_DATE = "export_date"


class UnavailablePeriod(enum.Enum):
    """What to do when the chosen date falls in a missing or closed period."""

    ERROR = "error"
    NEXT_OPEN = "next_open"


class CreditNoteMode(enum.Enum):
    """How a negative invoice is booked: Exact type 21 or a negative type 20 entry."""

    CREDIT_NOTE = "credit_note"
    NEGATIVE_ENTRY = "negative_entry"


class LedgerSource(enum.Enum):
    """A table of :class:`LedgerMapping` that can choose a line's GL account.

    ``LINE`` is no table: it stands for the line's own ``ledger_account``,
    ``cost_center`` and ``cost_unit`` (as the source sent them) at its place in
    :attr:`LedgerMapping.order`.
    """

    LINE = "line"
    COURSE_EDITION = "course_edition"
    COURSE_TEMPLATE = "course_template"
    PRODUCT = "product"
    INCOME_CATEGORY = "income_category"
    VAT_CATEGORY = "vat_category"


class NonNumericNumber(enum.Enum):
    """What to do with a source invoice number that is not a number (``"INV-0042"``)."""

    ERROR = "error"
    DIGITS_ONLY = "digits_only"
    LET_EXACT_NUMBER = "let_exact_number"


class BookingMode(enum.Enum):
    """Virtuagym's "Book revenue": one entry per invoice, or one summary per day or period."""

    PER_INVOICE = "per_invoice"
    PER_DAY = "per_day"
    PER_PERIOD = "per_period"


class UnmatchedPayments(enum.Enum):
    """Where a payment that matches no open receivable 100 % is booked.

    ``UNASSIGNED_ACCOUNT``: on ``payments.unassigned_account`` (Pay. "create new
    relations: no"); ``STANDARD_DEBTOR``: on the debtors account against the standard
    debtor; ``NEW_RELATION``: on the debtors account against the payer's relation (Pay.
    "create new relations in Exact Online if they do not exist"): the one customer of
    that name, else a new customer; a payment without a payer name, or whose name
    several customers share, goes to the unassigned account.
    """

    UNASSIGNED_ACCOUNT = "unassigned_account"
    STANDARD_DEBTOR = "standard_debtor"
    NEW_RELATION = "new_relation"


class ReceiptSign(enum.Enum):
    """The sign of money received on a bank entry line.

    Exact's documentation does not say which sign a customer receipt has on a bank
    entry line (the reference marks it UNCERTAIN), so it is a policy value:
    ``positive`` books receipts as positive and money going out (fees, the payout
    transfer) as negative amounts; ``negative`` flips every sign.
    """

    POSITIVE = "positive"
    NEGATIVE = "negative"


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


_E = TypeVar("_E", bound=enum.Enum)


def _enum(cls: type[_E], key: str) -> Callable[[Any], _E]:
    """A converter that also accepts an enum's value (``"next_open"``) in code."""

    def convert(value: Any) -> _E:
        if isinstance(value, cls):
            return value
        for member in cls:
            if member.value == value:
                return member
        raise ConfigurationError(
            f"{value!r} is not accepted",
            key=key,
            expected="one of " + ", ".join(repr(m.value) for m in cls),
        )

    return convert


def _enums(cls: type[_E], key: str) -> Callable[[Any], tuple[_E, ...]]:
    """Like :func:`_enum`, for a sequence of values."""
    one = _enum(cls, key)

    def convert(value: Any) -> tuple[_E, ...]:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ConfigurationError(f"{value!r} is not a list", key=key, expected="a list")
        return tuple(one(item) for item in value)

    return convert


def _mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _to_code_sources(value: Any) -> tuple[CodeSource, ...]:
    return _enums(CodeSource, "debtor.code_sources")(value)


def _to_date_sources(value: Any) -> tuple[DateSource, ...]:
    return _enums(DateSource, "period.date_sources")(value)


def _to_unavailable(value: Any) -> UnavailablePeriod:
    return _enum(UnavailablePeriod, "period.when_unavailable")(value)


def _to_credit_mode(value: Any) -> CreditNoteMode:
    return _enum(CreditNoteMode, "credit_notes.mode")(value)


def _to_ledger_order(value: Any) -> tuple[LedgerSource, ...]:
    return _enums(LedgerSource, "ledger.order")(value)


def _to_non_numeric(value: Any) -> NonNumericNumber:
    return _enum(NonNumericNumber, "numbering.non_numeric")(value)


def _to_booking_mode(value: Any) -> BookingMode:
    return _enum(BookingMode, "summary.mode")(value)


def _to_unmatched(value: Any) -> UnmatchedPayments:
    return _enum(UnmatchedPayments, "payments.unmatched")(value)


def _to_receipt_sign(value: Any) -> ReceiptSign:
    return _enum(ReceiptSign, "payments.receipt_sign")(value)


def category_key(value: str) -> str:
    """Normalise a source category, product or course key: stripped and case-folded."""
    return value.strip().casefold()


_PERCENT = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*%?\s*$")


def rate_key(value: str | Decimal) -> str | None:
    """Normalise a percentage (``"21"``, ``"21.0 %"``, ``Decimal("21")``) to ``"21"``."""
    if isinstance(value, Decimal):
        number = value
    else:
        match = _PERCENT.match(value)
        if match is None:
            return None
        number = Decimal(match.group(1).replace(",", "."))
    if not number.is_finite():
        return None
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _check_code(key: str, value: object, *, max_length: int | None = None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip() or not value.strip().isprintable():
        raise ConfigurationError(f"{value!r} is not a code", key=key, expected="a non-empty code")
    if max_length is not None and len(value.strip()) > max_length:
        raise ConfigurationError(
            f"{value!r} is longer than {max_length} characters",
            key=key,
            expected=f"a code of at most {max_length} characters",
        )


def _code_or_none(value: Any) -> Any:
    return strip_code(value) if isinstance(value, str) else value


@attrs.frozen
class DebtorPolicy:
    """How an invoice's party becomes an Exact customer (``resolve_debtor``).

    - ``code_sources``: candidate debtor numbers in order, the first that gives a
      value wins (Coachview "Option 1 (mandatory) ... Option 2 (optional) ...
      Option 3 (optional)");
    - ``extern_source``: the extern source whose id ``extern_id`` uses (Coachview
      "fill in exactly the ExternSource");
    - ``prefix``: put in front of the code, "only added if the internal debtor number
      is used";
    - ``match_by_email``: look for an existing customer by e-mail (Virtuagym "Disable
      check on email address?" is ``False`` here); ``match_by_vat_number`` likewise;
    - ``guest_debtor_code``: the customer for invoices without a party (Virtuagym
      "Debtor number for guest orders");
    - ``create_missing``: create a customer that does not exist yet;
    - ``let_exact_number``: when no code source gives a debtor number and nothing
      matched, create the customer *without* a code and let Exact number it. Off by
      default: the code sources are the only ways to a debtor number (Coachview's
      options 1-3), so such an invoice fails with a ``MappingError`` naming the fields
      tried, and the batch goes on;
    - ``overwrite_existing``: update an existing customer with the source's data
      (Coachview's "Ticked means that the data of an existing relation is overwritten");
    - ``refuse_supplier_codes``: never book sales on a relation that is only a
      supplier (Coachview: a relation number "can occur as ... supplier").
    """

    code_sources: tuple[CodeSource, ...] = attrs.field(
        default=(CodeSource.INTERNAL_NUMBER,), converter=_to_code_sources
    )
    extern_source: str | None = None
    prefix: str = ""
    match_by_email: bool = True
    match_by_vat_number: bool = True
    guest_debtor_code: str | None = attrs.field(default=None, converter=_code_or_none)
    create_missing: bool = True
    let_exact_number: bool = False
    overwrite_existing: bool = False
    refuse_supplier_codes: bool = True

    def __attrs_post_init__(self) -> None:
        if not self.code_sources:
            raise ConfigurationError(
                "at least one debtor code source is needed (option 1 is mandatory)",
                key="debtor.code_sources",
                expected="one to three of internal_number, external_number, extern_id",
            )
        if len(set(self.code_sources)) != len(self.code_sources):
            raise ConfigurationError(
                "a debtor code source is listed twice",
                key="debtor.code_sources",
                expected="distinct code sources",
            )
        if CodeSource.EXTERN_ID in self.code_sources and not self.extern_source:
            raise ConfigurationError(
                "code source extern_id needs the name of the extern source",
                key="debtor.extern_source",
                expected="the ExternSource name, exactly as in the source",
            )
        prefix: object = self.prefix
        if not isinstance(prefix, str) or (prefix and not prefix.isprintable()):
            raise ConfigurationError(
                f"{self.prefix!r} is not a prefix", key="debtor.prefix", expected="a text"
            )
        if self.prefix != self.prefix.strip():
            raise ConfigurationError(
                "a debtor prefix cannot start or end with spaces",
                key="debtor.prefix",
                expected="a prefix without surrounding spaces",
            )
        _check_code("debtor.guest_debtor_code", self.guest_debtor_code, max_length=18)


@attrs.frozen
class PeriodPolicy:
    """Which date decides the booking period, and what if its period is missing or closed.

    ``date_sources`` are tried in order until one gives a date (Coachview "Select
    option 2 if you expect that the first option cannot produce a date");
    ``when_unavailable`` chooses between an error and the next open period;
    ``line_service_period`` sends the service period of each line (or of the invoice)
    as the line's From/To (Virtuagym "use the periods added to the invoice");
    ``entry_date_in_period`` moves the entry date into the chosen period when the
    invoice date lies outside it, so date, year and period always agree (Exact
    refuses an entry whose date and period disagree).
    """

    date_sources: tuple[DateSource, ...] = attrs.field(
        default=(DateSource.INVOICE_DATE,), converter=_to_date_sources
    )
    when_unavailable: UnavailablePeriod = attrs.field(
        default=UnavailablePeriod.ERROR,
        converter=_to_unavailable,
    )
    line_service_period: bool = False
    entry_date_in_period: bool = True

    def __attrs_post_init__(self) -> None:
        if not self.date_sources:
            raise ConfigurationError(
                "at least one date source is needed",
                key="period.date_sources",
                expected=(
                    "invoice_date, order_start, order_end, service_period_start or export_date"
                ),
            )


_CREDIT_TEMPLATE_FIELDS = (
    "number",
    "credited_invoice",
    "party_name",
    "description",
    "reference",
    "feature",
    "tenant",
    "source",
    "invoice_date",
)


@attrs.frozen
class CreditNotePolicy:
    """How a negative invoice is booked (Coachview "Book negative invoices as credit invoices").

    ``mode = "credit_note"`` books it as an Exact sales credit note (type 21),
    ``"negative_entry"`` as a sales entry (type 20) with negative amounts. ``journal``
    optionally books credit notes in their own journal. ``description_template``
    describes a credit note; ``{credited_invoice}`` is the number of the invoice it
    reverses, where the source gives one.
    """

    mode: CreditNoteMode = attrs.field(
        default=CreditNoteMode.CREDIT_NOTE, converter=_to_credit_mode
    )
    journal: str | None = attrs.field(default=None, converter=_code_or_none)
    description_template: str = "Credit note {number} for {credited_invoice}"
    description_template_without_original: str = "Credit note {number}"

    def __attrs_post_init__(self) -> None:
        _check_code("credit_notes.journal", self.journal)
        validate_template(
            self.description_template,
            _CREDIT_TEMPLATE_FIELDS,
            key="credit_notes.description_template",
        )
        validate_template(
            self.description_template_without_original,
            _CREDIT_TEMPLATE_FIELDS,
            key="credit_notes.description_template_without_original",
        )


@attrs.frozen
class VatMapping:
    """Source VAT categories to Exact VAT codes, and the check against source totals.

    ``codes`` maps a source VAT category (an id, a name or a percentage, compared
    stripped and case-insensitively) to an Exact VAT code (Virtuagym "Connect the VAT
    categories of Virtuagym to your Exact Online account"). ``rates`` maps a
    percentage (``"21"``) to a code, for categories written as a percentage
    (``"21%"``) and for lines that state a rate but no mapped category;
    ``default_code`` is the last resort. ``check_rate`` refuses a line whose
    stated rate differs from its Exact code's percentage. ``check_totals`` compares
    the computed totals with the invoice's own totals, allowing ``total_tolerance``.

    Rounding rule: VAT is computed per line and rounded to cents half away from zero
    (``ROUND_HALF_UP``). A line including VAT of ``g`` at rate ``r`` has
    ``vat = round(g * r / (1 + r))`` and ``net = g - vat``; a line excluding VAT of
    ``n`` has ``vat = round(n * r)``. The rule is symmetric, so a credit note that
    negates an invoice gets exactly the negated VAT.
    """

    codes: Mapping[str, str] = attrs.field(factory=dict, converter=_mapping)
    rates: Mapping[str, str] = attrs.field(factory=dict, converter=_mapping)
    default_code: str | None = attrs.field(default=None, converter=_code_or_none)
    check_rate: bool = True
    check_totals: bool = True
    total_tolerance: Decimal = Decimal("0.00")

    _by_category: dict[str, str] = attrs.field(init=False, repr=False, eq=False)
    _by_rate: dict[str, str] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_category: dict[str, str] = {}
        for category, code in self.codes.items():
            _check_code(f"vat.codes.{category}", code, max_length=3)
            by_category[category_key(category)] = strip_code(code)
        by_rate: dict[str, str] = {}
        for rate, code in self.rates.items():
            _check_code(f"vat.rates.{rate}", code, max_length=3)
            key = rate_key(rate)
            if key is None:
                raise ConfigurationError(
                    f"{rate!r} is not a percentage",
                    key=f"vat.rates.{rate}",
                    expected='a percentage such as "21"',
                )
            by_rate[key] = strip_code(code)
        _check_code("vat.default_code", self.default_code, max_length=3)
        tolerance = self.total_tolerance
        if type(tolerance) is not Decimal or not tolerance.is_finite() or tolerance < 0:
            raise ConfigurationError(
                f"{tolerance!r} is not a tolerance",
                key="vat.total_tolerance",
                expected='a non-negative amount such as "0.01"',
            )
        object.__setattr__(self, "_by_category", by_category)
        object.__setattr__(self, "_by_rate", by_rate)

    def code_for_category(self, category: str) -> str | None:
        """The Exact VAT code mapped to a source category, if any."""
        return self._by_category.get(category_key(category))

    def code_for_percentage_text(self, category: str) -> str | None:
        """The code ``rates`` maps to a category written as a percentage (``"21 %"``), if any."""
        key = rate_key(category)
        return self._by_rate.get(key) if key is not None else None

    def code_for_rate(self, rate: Decimal) -> str | None:
        """The Exact VAT code mapped to a rate given as a fraction (``Decimal("0.21")``)."""
        key = rate_key(rate * 100)
        return self._by_rate.get(key) if key is not None else None


def _target(value: Any) -> Any:
    return LedgerTarget(gl_account=value) if isinstance(value, str) else value


@attrs.frozen
class LedgerTarget:
    """A GL account, cost center and cost unit, each optional (a course's "Exact Online" tab)."""

    gl_account: str | None = attrs.field(default=None, converter=_code_or_none)
    cost_center: str | None = attrs.field(default=None, converter=_code_or_none)
    cost_unit: str | None = attrs.field(default=None, converter=_code_or_none)


def _targets(value: Mapping[str, Any] | None) -> Mapping[str, LedgerTarget]:
    return MappingProxyType({str(k): _target(v) for k, v in (value or {}).items()})


_DEFAULT_LEDGER_ORDER = (
    LedgerSource.LINE,
    LedgerSource.COURSE_EDITION,
    LedgerSource.COURSE_TEMPLATE,
    LedgerSource.PRODUCT,
    LedgerSource.INCOME_CATEGORY,
    LedgerSource.VAT_CATEGORY,
)


@attrs.frozen
class LedgerMapping:
    """Revenue GL account, cost center and cost unit of each line.

    The tables are tried in ``order`` (by default the line's own values -> course
    edition -> course template -> product -> income category -> VAT category); for
    each of GL account, cost
    center and cost unit the first table that fills it in wins, then the defaults
    (``default_account``: Virtuagym "Ledger account revenue", Eduframe "Ledger code").
    Each table value is a GL account code or a table with ``gl_account``,
    ``cost_center`` and ``cost_unit``. Discount lines never carry a cost center or
    cost unit and may go to ``discount_account``. ``send_cost_center`` and
    ``send_cost_unit`` switch them off altogether (Coachview "Should the cost center
    be sent to Exact-Online"). ``project_attribute`` names the invoice attribute whose
    value becomes the line's project code (Coachview "Have project code generated
    from a Coachview field").
    """

    default_account: str | None = attrs.field(default=None, converter=_code_or_none)
    by_vat_category: Mapping[str, LedgerTarget] = attrs.field(factory=dict, converter=_targets)
    by_income_category: Mapping[str, LedgerTarget] = attrs.field(factory=dict, converter=_targets)
    by_product: Mapping[str, LedgerTarget] = attrs.field(factory=dict, converter=_targets)
    by_course_template: Mapping[str, LedgerTarget] = attrs.field(factory=dict, converter=_targets)
    by_course_edition: Mapping[str, LedgerTarget] = attrs.field(factory=dict, converter=_targets)
    order: tuple[LedgerSource, ...] = attrs.field(
        default=_DEFAULT_LEDGER_ORDER, converter=_to_ledger_order
    )
    default_cost_center: str | None = attrs.field(default=None, converter=_code_or_none)
    default_cost_unit: str | None = attrs.field(default=None, converter=_code_or_none)
    discount_account: str | None = attrs.field(default=None, converter=_code_or_none)
    send_cost_center: bool = True
    send_cost_unit: bool = True
    project_attribute: str | None = None

    _tables: tuple[tuple[LedgerSource, dict[str, LedgerTarget]], ...] = attrs.field(
        init=False, repr=False, eq=False
    )

    def __attrs_post_init__(self) -> None:
        if len(set(self.order)) != len(self.order):
            raise ConfigurationError(
                "a ledger source is listed twice", key="ledger.order", expected="distinct sources"
            )
        _check_code("ledger.default_account", self.default_account)
        _check_code("ledger.discount_account", self.discount_account)
        _check_code("ledger.default_cost_center", self.default_cost_center, max_length=8)
        _check_code("ledger.default_cost_unit", self.default_cost_unit, max_length=8)
        tables = {
            LedgerSource.VAT_CATEGORY: ("by_vat_category", self.by_vat_category),
            LedgerSource.INCOME_CATEGORY: ("by_income_category", self.by_income_category),
            LedgerSource.PRODUCT: ("by_product", self.by_product),
            LedgerSource.COURSE_TEMPLATE: ("by_course_template", self.by_course_template),
            LedgerSource.COURSE_EDITION: ("by_course_edition", self.by_course_edition),
        }
        ordered: list[tuple[LedgerSource, dict[str, LedgerTarget]]] = []
        for source in self.order:
            if source is LedgerSource.LINE:
                ordered.append((source, {}))
                continue
            name, table = tables[source]
            normalized: dict[str, LedgerTarget] = {}
            for key, target in table.items():
                if not isinstance(target, LedgerTarget):
                    raise ConfigurationError(
                        f"{target!r} is not a ledger target",
                        key=f"ledger.{name}.{key}",
                        expected=(
                            "a GL account code or a table of gl_account, cost_center, cost_unit"
                        ),
                    )
                _check_code(f"ledger.{name}.{key}.gl_account", target.gl_account)
                _check_code(f"ledger.{name}.{key}.cost_center", target.cost_center, max_length=8)
                _check_code(f"ledger.{name}.{key}.cost_unit", target.cost_unit, max_length=8)
                normalized[category_key(key)] = target
            if normalized:
                ordered.append((source, normalized))
        object.__setattr__(self, "_tables", tuple(ordered))

    @property
    def tables(self) -> tuple[tuple[LedgerSource, dict[str, LedgerTarget]], ...]:
        """The non-empty tables in ``order``, keyed by normalised key (``LINE``: empty)."""
        return self._tables


_NUMBER_TEMPLATE_FIELDS = ("prefix", "tenant", "number", "year", "yy")
_DESCRIPTION_TEMPLATE_FIELDS = (
    "number",
    "party_name",
    "description",
    "reference",
    "feature",
    "tenant",
    "source",
    "invoice_date",
)


@attrs.frozen
class NumberingPolicy:
    """Entry numbers, ``YourRef`` and the entry description.

    The entry number is ``template`` filled in and read as a number: ``{prefix}``
    (a fixed number such as a year, Coachview "Fill in a prefix (e.g. 2018). This
    must be a number"), ``{tenant}`` (the club id, Virtuagym "Add club ID to invoice
    number"), ``{number}`` (the source number, zero-padded to ``number_width``),
    ``{year}``/``{yy}`` (of the invoice date). It must fit Exact's Int32
    (1 to 2,147,483,647). ``enabled = False`` leaves numbering to Exact. A source
    number that is not a number is refused, reduced to its digits, or left for Exact
    to number (``non_numeric``). The source's own number always goes to ``YourRef``.
    """

    enabled: bool = True
    template: str = "{prefix}{number}"
    prefix: str = ""
    number_width: int = 0
    non_numeric: NonNumericNumber = attrs.field(
        default=NonNumericNumber.LET_EXACT_NUMBER, converter=_to_non_numeric
    )
    description_template: str = "{number} {party_name}"

    def __attrs_post_init__(self) -> None:
        validate_template(self.template, _NUMBER_TEMPLATE_FIELDS, key="numbering.template")
        validate_template(
            self.description_template,
            _DESCRIPTION_TEMPLATE_FIELDS,
            key="numbering.description_template",
        )
        prefix: object = self.prefix
        if not isinstance(prefix, str) or (prefix and not (prefix.isascii() and prefix.isdigit())):
            raise ConfigurationError(
                f"{self.prefix!r} is not a number",
                key="numbering.prefix",
                expected="digits, e.g. 2018",
            )
        if type(self.number_width) is not int or not 0 <= self.number_width <= 10:
            raise ConfigurationError(
                f"{self.number_width!r} is not a width",
                key="numbering.number_width",
                expected="a whole number from 0 to 10",
            )


@attrs.frozen
class SummaryPolicy:
    """Virtuagym "How would you like the revenue to be booked?".

    ``mode = "per_invoice"`` books one sales entry per invoice; ``"per_day"`` and
    ``"per_period"`` book one summary entry per day or per financial period on the
    collective debtor ``collective_debtor_code``, with one line per VAT code, GL
    account, cost center and cost unit.
    """

    mode: BookingMode = attrs.field(default=BookingMode.PER_INVOICE, converter=_to_booking_mode)
    collective_debtor_code: str | None = attrs.field(default=None, converter=_code_or_none)
    description_template: str = "Revenue {label}"
    line_description_template: str = "Revenue {gl_account} VAT {vat_code}"
    your_ref_template: str = "{source}-{label}"

    def __attrs_post_init__(self) -> None:
        _check_code("summary.collective_debtor_code", self.collective_debtor_code, max_length=18)
        if self.mode is not BookingMode.PER_INVOICE and not self.collective_debtor_code:
            raise ConfigurationError(
                "summary booking needs a collective debtor",
                key="summary.collective_debtor_code",
                expected="the code of the collective debtor",
            )
        fields = ("label", "source", "count", "currency")
        validate_template(self.description_template, fields, key="summary.description_template")
        validate_template(self.your_ref_template, fields, key="summary.your_ref_template")
        validate_template(
            self.line_description_template,
            ("gl_account", "vat_code", "cost_center", "cost_unit", "label"),
            key="summary.line_description_template",
        )


@attrs.frozen
class PaymentMatchingPolicy:
    """How a payment provider's payout is booked (the Pay. integration's options).

    Payments are matched to open receivables by reference and exact amount, at 100 %
    only. ``bank_journal``: "the bank journal where the invoice payments should be
    recorded"; ``debtors_account``: "the default general ledger account for debtors";
    ``psp_cost_account``: "... for Payment Service Provider costs"; ``payout_account``:
    "... for payouts" (the transfer account the payout leaves through);
    ``unmatched``: book unmatched payments on ``unassigned_account`` ("General Ledger
    Account: Unassigned") or on the standard debtor ``standard_debtor_code``;
    ``revenue_groups``: only payouts of these revenue groups (empty: all);
    ``receipt_sign``: the sign convention of the lines.
    """

    bank_journal: str | None = attrs.field(default=None, converter=_code_or_none)
    debtors_account: str = attrs.field(default="1300", converter=_code_or_none)
    psp_cost_account: str | None = attrs.field(default=None, converter=_code_or_none)
    payout_account: str | None = attrs.field(default=None, converter=_code_or_none)
    unassigned_account: str | None = attrs.field(default=None, converter=_code_or_none)
    unmatched: UnmatchedPayments = attrs.field(
        default=UnmatchedPayments.UNASSIGNED_ACCOUNT,
        converter=_to_unmatched,
    )
    standard_debtor_code: str | None = attrs.field(default=None, converter=_code_or_none)
    revenue_groups: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    receipt_sign: ReceiptSign = attrs.field(
        default=ReceiptSign.POSITIVE, converter=_to_receipt_sign
    )

    def __attrs_post_init__(self) -> None:
        _check_code("payments.bank_journal", self.bank_journal)
        _check_code("payments.debtors_account", self.debtors_account)
        _check_code("payments.psp_cost_account", self.psp_cost_account)
        _check_code("payments.payout_account", self.payout_account)
        _check_code("payments.unassigned_account", self.unassigned_account)
        _check_code("payments.standard_debtor_code", self.standard_debtor_code, max_length=18)
        if self.unmatched is UnmatchedPayments.STANDARD_DEBTOR and not self.standard_debtor_code:
            raise ConfigurationError(
                "unmatched payments go to the standard debtor, but none is set",
                key="payments.standard_debtor_code",
                expected="the code of the standard debtor",
            )
        groups: tuple[object, ...] = self.revenue_groups
        for group in groups:
            if not isinstance(group, str) or not group.strip():
                raise ConfigurationError(
                    f"{group!r} is not a revenue group",
                    key="payments.revenue_groups",
                    expected="revenue group names",
                )


def _method_keys(value: Mapping[object, Any] | None) -> Mapping[str, Any]:
    keys: dict[object, Any] = {}
    for key, code in (value or {}).items():
        keys[key.strip().casefold() if isinstance(key, str) else key] = code
    return cast("Mapping[str, Any]", MappingProxyType(keys))


@attrs.frozen
class PaymentTermsPolicy:
    """The payment condition of each sales entry (``SalesEntries.PaymentCondition``).

    Club-assistent: "de incasso's die in de facturen staan via Exact Online
    incasseren": an invoice the club collects by direct debit gets a payment
    condition whose payment method is collection (Exact ``PaymentMethod`` ``I``), so
    Exact's direct debit run picks it up (the customer's mandate comes from
    :class:`~exactbridge.sync.mandates.MandatePipeline`).

    - ``by_payment_method``: the invoice's payment method (the
      ``Invoice.attributes`` value named by ``method_attribute``, compared without
      case) -> payment condition code, e.g. ``{"incasso": "IN"}``;
    - ``condition``: the code for every other invoice; ``None`` sends none, so Exact
      takes the customer's sales condition (or the division's default);
    - ``method_attribute``: the attribute holding the payment method
      (``payment_method`` for Club-assistent and Virtuagym).

    A code the division does not have fails the invoice on this policy. Summary
    entries (``summary.mode``) mix payment methods and get ``condition`` only.
    """

    by_payment_method: Mapping[str, str] = attrs.field(factory=dict, converter=_method_keys)
    condition: str | None = attrs.field(default=None, converter=_code_or_none)
    method_attribute: str = "payment_method"

    def __attrs_post_init__(self) -> None:
        _check_code("payment_terms.condition", self.condition)
        methods: Iterable[tuple[object, object]] = self.by_payment_method.items()
        for method, code in methods:
            if not isinstance(method, str) or not method:
                raise ConfigurationError(
                    f"{method!r} is not a payment method",
                    key="payment_terms.by_payment_method",
                    expected="payment method names, e.g. incasso",
                )
            _check_code(f"payment_terms.by_payment_method.{method}", code)
        attribute: object = self.method_attribute
        if not isinstance(attribute, str) or not attribute.strip():
            raise ConfigurationError(
                f"{attribute!r} is not an attribute name",
                key="payment_terms.method_attribute",
                expected="the name of an invoice attribute, e.g. payment_method",
            )

    @property
    def in_use(self) -> bool:
        """Whether any entry gets a payment condition (the engine then reads them)."""
        return self.condition is not None or bool(self.by_payment_method)


@attrs.frozen
class BookingConfig:
    """All booking policies of one Exact division, as one value.

    ``sales_journal`` is the sales journal code (Coachview "The sales diary number.
    By default it is set to 70").

    >>> config = BookingConfig.from_mapping(
    ...     {"sales_journal": "70", "ledger": {"default_account": "8000"}}
    ... )
    >>> config.ledger.default_account
    '8000'
    """

    sales_journal: str = attrs.field(default="70", converter=_code_or_none)
    debtor: DebtorPolicy = DebtorPolicy()
    period: PeriodPolicy = PeriodPolicy()
    credit_notes: CreditNotePolicy = CreditNotePolicy()
    vat: VatMapping = VatMapping()
    ledger: LedgerMapping = LedgerMapping()
    numbering: NumberingPolicy = NumberingPolicy()
    summary: SummaryPolicy = SummaryPolicy()
    payments: PaymentMatchingPolicy = PaymentMatchingPolicy()
    payment_terms: PaymentTermsPolicy = PaymentTermsPolicy()

    def __attrs_post_init__(self) -> None:
        _check_code("sales_journal", self.sales_journal)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BookingConfig:
        """Build a config from a parsed TOML (or JSON) mapping.

        Unknown keys and bad values raise :class:`~exactbridge.errors.ConfigurationError`
        naming the dotted key path (``debtor.code_sources[1]``) and what was expected.
        """
        from exactbridge.mapping._config import structure_config

        return structure_config(data)
