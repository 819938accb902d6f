"""Lookup tables the mapping functions decide against: the division's reference data.

The sync engine reads these once per run from Exact Online (GL accounts, VAT codes,
journals, financial periods, known accounts, open receivables) and passes them in;
tests and host applications build them by hand. Codes are kept without Exact's
padding; the drafts pad what they send through :mod:`exactbridge.codes`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import enum
import re
from collections.abc import Iterable
from decimal import Decimal

import attrs

from exactbridge.codes import strip_code
from exactbridge.errors import ConfigurationError

__all__ = [
    "CostUsage",
    "FinancialPeriod",
    "GLAccount",
    "Journal",
    "KnownAccount",
    "OpenReceivable",
    "PaymentCondition",
    "ReferenceData",
    "VatCode",
    "VatTransactionType",
    "VatType",
    "normalize_email",
    "normalize_vat_number",
]

# GL account types that Exact refuses on a sales entry line (cash, bank, credit card,
# payment services, receivables, payables and VAT): "Ongeldig: Grootboekrekeningtype".
SALES_LINE_FORBIDDEN_GL_TYPES = frozenset({10, 12, 14, 16, 20, 21, 22, 24})

# Journal types (financial/Journals.Type).
JOURNAL_CASH = 10
JOURNAL_BANK = 12
JOURNAL_PAYMENT_SERVICE = 16
JOURNAL_SALES = 20
JOURNAL_RETURN_INVOICE = 21


class CostUsage(enum.IntEnum):
    """Whether a GL account takes a cost center or cost unit (``UseCostcenter``/``UseCostunit``)."""

    OPTIONAL = 0
    MANDATORY = 1
    NOT_ALLOWED = 2


class VatType(enum.Enum):
    """How an Exact VAT code computes (``VATCodes.Type``)."""

    BASE_ONLY = "B"
    EXCLUDING = "E"
    INCLUDING = "I"
    NO_VAT = "N"


class VatTransactionType(enum.Enum):
    """Whether a VAT code is meant for sales, purchases or both (``VATTransactionType``)."""

    BOTH = "B"
    PURCHASE = "P"
    SALES = "S"


def _code(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"code {value!r} is not a non-empty text", expected="a code")
    return strip_code(value)


def _optional_code(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"code {value!r} is not a text", expected="a code or None")
    return strip_code(value) or None


def normalize_email(value: str | None) -> str | None:
    """Compare e-mail addresses case-insensitively and without surrounding spaces."""
    if not value:
        return None
    text = value.strip().casefold()
    return text or None


_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]")


def normalize_vat_number(value: str | None) -> str | None:
    """Compare VAT numbers without spaces, dots and dashes, upper case (``nl 0000.00.000 b01``)."""
    if not value:
        return None
    text = _NOT_ALNUM.sub("", value).upper()
    return text or None


@attrs.frozen
class GLAccount:
    """A general ledger account (``financial/GLAccounts``), by its unpadded code."""

    code: str = attrs.field(converter=_code)
    type: int
    description: str = ""
    use_cost_center: CostUsage = CostUsage.OPTIONAL
    use_cost_unit: CostUsage = CostUsage.OPTIONAL
    blocked: bool = False
    id: str | None = None


def _fraction(value: object) -> Decimal:
    if type(value) is not Decimal or not value.is_finite() or not (0 <= value < 1):
        raise ConfigurationError(
            f"VAT percentage {value!r} is not a fraction",
            expected="a Decimal from 0 up to 1, e.g. 0.21",
        )
    return value


@attrs.frozen
class VatCode:
    """An Exact VAT code (``vat/VATCodes``). ``percentage`` is a fraction: ``Decimal("0.21")``."""

    code: str = attrs.field(converter=_code)
    percentage: Decimal = attrs.field(converter=_fraction)
    type: VatType = VatType.EXCLUDING
    transaction_type: VatTransactionType = VatTransactionType.BOTH
    blocked: bool = False
    description: str = ""

    @property
    def sales_allowed(self) -> bool:
        """Whether the code may be used on a sales entry."""
        return not self.blocked and self.transaction_type is not VatTransactionType.PURCHASE


@attrs.frozen
class Journal:
    """A journal (``financial/Journals``): 20 sales, 21 return invoices, 12 bank, 16 PSP..."""

    code: str = attrs.field(converter=_code)
    type: int
    description: str = ""


@attrs.frozen
class PaymentCondition:
    """A payment condition (``cashflow/PaymentConditions``).

    ``payment_method``: Exact's ``PaymentMethod``, ``B`` on credit (bank transfer),
    ``I`` collection (direct debit), ``K`` cash, ``Q`` other.
    """

    code: str = attrs.field(converter=_code)
    description: str = ""
    payment_method: str = "B"
    payment_days: int = 0


def _journal_codes(value: Iterable[str]) -> frozenset[str]:
    return frozenset(strip_code(code) for code in value)


@attrs.frozen
class FinancialPeriod:
    """One financial period of the division, both ends inclusive.

    ``closed`` closes it for every journal; ``closed_journals`` for the named
    journals only (Exact keeps the status per journal).
    """

    year: int
    period: int
    start: dt.date
    end: dt.date
    closed: bool = False
    closed_journals: frozenset[str] = attrs.field(factory=frozenset, converter=_journal_codes)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ConfigurationError(
                f"financial period {self.year}/{self.period} ends before it starts",
                expected="start <= end",
            )

    def is_open_for(self, journal: str) -> bool:
        """Whether entries may be booked in this period in ``journal``."""
        return not self.closed and journal not in self.closed_journals

    def contains(self, day: dt.date) -> bool:
        """Whether ``day`` falls in this period."""
        return self.start <= day <= self.end


@attrs.frozen
class KnownAccount:
    """An account (relation) that exists in the division (``crm/Accounts``)."""

    id: str
    code: str | None = attrs.field(default=None, converter=_optional_code)
    name: str = ""
    email: str | None = None
    vat_number: str | None = None
    is_customer: bool = True
    is_supplier: bool = False
    blocked: bool = False


@attrs.frozen
class OpenReceivable:
    """An open item of a customer (``read/financial/ReceivablesList``), for payment matching.

    ``amount`` is what is still open (negative for an open credit note),
    ``invoice_number`` the sales entry's invoice number, ``your_ref`` the source's
    own invoice number that exactbridge stores in ``YourRef``.
    """

    account_id: str
    amount: Decimal
    invoice_number: int | None = None
    your_ref: str | None = None
    account_code: str | None = attrs.field(default=None, converter=_optional_code)
    entry_number: int | None = None
    currency: str = "EUR"
    description: str = ""
    id: str | None = None


def _sorted_periods(value: Iterable[FinancialPeriod]) -> tuple[FinancialPeriod, ...]:
    return tuple(sorted(value, key=lambda period: period.start))


@attrs.frozen
class ReferenceData:
    """Everything the mapping functions look up in the division, indexed once.

    >>> import datetime as dt
    >>> from decimal import Decimal
    >>> ref = ReferenceData(
    ...     gl_accounts=[GLAccount("8000", 110)],
    ...     vat_codes=[VatCode("2", Decimal("0.21"))],
    ...     journals=[Journal("70", 20)],
    ...     periods=[FinancialPeriod(2024, 1, dt.date(2024, 1, 1), dt.date(2024, 1, 31))],
    ... )
    >>> ref.period_for(dt.date(2024, 1, 15)).period
    1
    """

    gl_accounts: tuple[GLAccount, ...] = attrs.field(default=(), converter=tuple)
    vat_codes: tuple[VatCode, ...] = attrs.field(default=(), converter=tuple)
    journals: tuple[Journal, ...] = attrs.field(default=(), converter=tuple)
    periods: tuple[FinancialPeriod, ...] = attrs.field(default=(), converter=_sorted_periods)
    accounts: tuple[KnownAccount, ...] = attrs.field(default=(), converter=tuple)
    payment_conditions: tuple[PaymentCondition, ...] = attrs.field(default=(), converter=tuple)

    _gl_by_code: dict[str, GLAccount] = attrs.field(init=False, repr=False, eq=False)
    _vat_by_code: dict[str, VatCode] = attrs.field(init=False, repr=False, eq=False)
    _journal_by_code: dict[str, Journal] = attrs.field(init=False, repr=False, eq=False)
    _condition_by_code: dict[str, PaymentCondition] = attrs.field(init=False, repr=False, eq=False)
    _period_starts: list[dt.date] = attrs.field(init=False, repr=False, eq=False)
    _account_by_id: dict[str, KnownAccount] = attrs.field(init=False, repr=False, eq=False)
    _account_by_code: dict[str, KnownAccount] = attrs.field(init=False, repr=False, eq=False)
    _accounts_by_email: dict[str, tuple[KnownAccount, ...]] = attrs.field(
        init=False, repr=False, eq=False
    )
    _accounts_by_vat: dict[str, tuple[KnownAccount, ...]] = attrs.field(
        init=False, repr=False, eq=False
    )
    # Line rules (VAT code, GL account, cost center, cost unit) already decided for a set of
    # line keys under given policies; see exactbridge.mapping._sales. Kept here because the
    # decisions are only valid for this reference data.
    rules_cache: dict[object, object] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        setter = object.__setattr__
        setter(self, "_gl_by_code", _unique("gl_accounts", ((a.code, a) for a in self.gl_accounts)))
        setter(self, "_vat_by_code", _unique("vat_codes", ((v.code, v) for v in self.vat_codes)))
        setter(self, "_journal_by_code", _unique("journals", ((j.code, j) for j in self.journals)))
        conditions = ((c.code, c) for c in self.payment_conditions)
        setter(self, "_condition_by_code", _unique("payment_conditions", conditions))
        for earlier, later in zip(self.periods, self.periods[1:], strict=False):
            if later.start <= earlier.end:
                raise ConfigurationError(
                    f"financial periods {earlier.year}/{earlier.period} and "
                    f"{later.year}/{later.period} overlap",
                    key="periods",
                    expected="periods that do not overlap",
                )
        setter(self, "_period_starts", [period.start for period in self.periods])
        setter(self, "_account_by_id", _unique("accounts", ((a.id, a) for a in self.accounts)))
        setter(
            self,
            "_account_by_code",
            _unique("accounts", ((a.code, a) for a in self.accounts if a.code)),
        )
        by_email: dict[str, list[KnownAccount]] = {}
        by_vat: dict[str, list[KnownAccount]] = {}
        for account in self.accounts:
            email = normalize_email(account.email)
            if email:
                by_email.setdefault(email, []).append(account)
            vat = normalize_vat_number(account.vat_number)
            if vat:
                by_vat.setdefault(vat, []).append(account)
        setter(self, "_accounts_by_email", {k: tuple(v) for k, v in by_email.items()})
        setter(self, "_accounts_by_vat", {k: tuple(v) for k, v in by_vat.items()})
        setter(self, "rules_cache", {})

    def gl_account(self, code: str) -> GLAccount | None:
        """The GL account with this (unpadded) code, if any."""
        return self._gl_by_code.get(code)

    def vat_code(self, code: str) -> VatCode | None:
        """The VAT code with this (unpadded) code, if any."""
        return self._vat_by_code.get(code)

    def journal(self, code: str) -> Journal | None:
        """The journal with this code, if any."""
        return self._journal_by_code.get(code)

    def payment_condition(self, code: str) -> PaymentCondition | None:
        """The payment condition with this code, if any."""
        return self._condition_by_code.get(code)

    def account_by_id(self, account_id: str) -> KnownAccount | None:
        """The known account with this Exact id, if any."""
        return self._account_by_id.get(account_id)

    def account_by_code(self, code: str) -> KnownAccount | None:
        """The known account with this (unpadded) code, if any."""
        return self._account_by_code.get(code)

    def accounts_by_email(self, email: str) -> tuple[KnownAccount, ...]:
        """Known accounts with this e-mail address (compared case-insensitively)."""
        key = normalize_email(email)
        return self._accounts_by_email.get(key, ()) if key else ()

    def accounts_by_vat_number(self, vat_number: str) -> tuple[KnownAccount, ...]:
        """Known accounts with this VAT number (compared without punctuation)."""
        key = normalize_vat_number(vat_number)
        return self._accounts_by_vat.get(key, ()) if key else ()

    def period_for(self, day: dt.date) -> FinancialPeriod | None:
        """The financial period that contains ``day``, if the division has one."""
        index = bisect.bisect_right(self._period_starts, day) - 1
        if index >= 0:
            period = self.periods[index]
            if day <= period.end:
                return period
        return None

    def next_open_period(self, day: dt.date, journal: str) -> FinancialPeriod | None:
        """The first period open for ``journal`` that starts after ``day``."""
        index = bisect.bisect_right(self._period_starts, day)
        for period in self.periods[index:]:
            if period.is_open_for(journal):
                return period
        return None


def _unique(name: str, items: Iterable[tuple[str, object]]) -> dict[str, object]:
    index: dict[str, object] = {}
    for key, item in items:
        if key in index:
            raise ConfigurationError(
                f"{name} holds {key!r} twice", key=name, expected="unique codes and ids"
            )
        index[key] = item
    return index
