"""Drafts: what the sync engine will send to Exact Online, decided but not yet sent.

Drafts hold Exact's codes (journal codes, GL account codes, padded account and VAT
codes, cost center and cost unit codes), never GUIDs the mapping layer cannot know;
the sync engine resolves codes to ids through its cached lookups and translates a
draft into client calls. Every amount is a :class:`~decimal.Decimal` in cents.
"""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import attrs

from exactbridge.errors import MappingError

__all__ = [
    "AccountDraft",
    "BankEntryDraft",
    "BankEntryLineDraft",
    "BankLineKind",
    "DebtorAction",
    "DebtorDecision",
    "EntryType",
    "PayoutMatch",
    "PeriodChoice",
    "SalesEntryDraft",
    "SalesEntryLineDraft",
    "SummaryResult",
    "UnmatchedPayment",
    "UnmatchedReason",
    "VatSplit",
]


class EntryType(enum.IntEnum):
    """Exact's sales entry types."""

    SALES_ENTRY = 20
    SALES_CREDIT_NOTE = 21


@attrs.frozen
class AccountDraft:
    """An account (customer) to create, or the new data of one to update (``id`` set).

    ``code`` is padded to Exact's 18 characters; ``None`` lets Exact assign the next
    free code. ``country`` is padded to 3 characters as Exact stores it.
    """

    name: str
    code: str | None = None
    id: str | None = None
    email: str | None = None
    phone: str | None = None
    vat_number: str | None = None
    chamber_of_commerce: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    postcode: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    language: str | None = None
    is_organisation: bool = False
    is_customer: bool = True


class DebtorAction(enum.Enum):
    """What the sync engine must do for the customer of an entry."""

    EXISTING = "existing"
    CREATE = "create"
    UPDATE = "update"
    GUEST = "guest"


@attrs.frozen
class DebtorDecision:
    """The outcome of :func:`resolve_debtor`.

    ``account_id`` is set for existing, updated and guest debtors; ``code`` is the
    padded code (``None`` only when a new account gets its code from Exact);
    ``account`` is the account to create or the data to write for an update;
    ``matched_by`` says how an existing account was found (``"linked_id"``,
    ``"code"``, ``"email"``, ``"vat_number"``, ``"guest"``, ``"collective"``) and
    ``code_source`` which candidate number gave the code.
    """

    action: DebtorAction
    account_id: str | None = None
    code: str | None = None
    account: AccountDraft | None = None
    matched_by: str | None = None
    code_source: str | None = None


@attrs.frozen
class PeriodChoice:
    """The outcome of :func:`select_period`.

    ``date`` is the date the period was chosen by (from ``date_source``),
    ``entry_date`` the entry date to send (inside the period), and ``moved`` tells
    that the date's own period was missing or closed and the next open one was taken.
    """

    year: int
    period: int
    date: dt.date
    date_source: str
    entry_date: dt.date
    moved: bool = False


@attrs.frozen
class VatSplit:
    """A line amount split into net and VAT, in cents: ``net + vat == gross``."""

    net: Decimal
    vat: Decimal
    gross: Decimal


@attrs.frozen
class SalesEntryLineDraft:
    """One line of a sales entry (``SalesEntryLines``).

    ``vat_amount`` goes to ``VATAmountFC`` (sent explicitly so Exact books exactly
    the VAT computed here) and :attr:`amount_fc` to ``AmountFC``: the amount excluding
    VAT, or including it when ``vat_included`` (the VAT code is an "including" code,
    Exact type ``I``, whose ``AmountFC`` Exact reads as the gross amount);
    ``vat_percentage`` is the code's rate as a fraction; ``date_from``/``date_to`` are the line's
    service period (``From``/``To``) when the period policy sends them.
    """

    gl_account: str
    vat_code: str
    amount_excl_vat: Decimal
    vat_amount: Decimal
    vat_percentage: Decimal
    description: str = ""
    quantity: Decimal = Decimal(1)
    cost_center: str | None = None
    cost_unit: str | None = None
    project_code: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    is_discount: bool = False
    source_line_id: str | None = None
    vat_included: bool = False

    @property
    def amount_incl_vat(self) -> Decimal:
        """Net plus VAT."""
        return self.amount_excl_vat + self.vat_amount

    @property
    def amount_fc(self) -> Decimal:
        """What the line's ``AmountFC`` must say: gross for an including VAT code, else net."""
        return self.amount_incl_vat if self.vat_included else self.amount_excl_vat


@attrs.frozen
class SalesEntryDraft:
    """A sales entry or sales credit note (``salesentry/SalesEntries``) ready to send.

    ``your_ref`` is the source's invoice number (the natural key the sync engine
    looks entries up by), ``entry_number`` the composed Int32 number (``None`` lets
    Exact number it), ``debtor`` the customer decision (which may require creating or
    updating an account first), ``source_ids`` the source invoices the entry books
    (one, or many for a summary entry), ``payment_condition`` the payment condition
    code (``None``: Exact's default for the customer).
    """

    journal: str
    type: EntryType
    debtor: DebtorDecision
    entry_date: dt.date
    reporting_year: int
    reporting_period: int
    your_ref: str
    description: str
    lines: tuple[SalesEntryLineDraft, ...]
    currency: str = "EUR"
    entry_number: int | None = None
    due_date: dt.date | None = None
    payment_reference: str | None = None
    payment_condition: str | None = None
    credited_invoice: str | None = None
    source: str | None = None
    source_ids: tuple[str, ...] = ()

    @property
    def customer_id(self) -> str | None:
        """The Exact id of the customer, when it already exists."""
        return self.debtor.account_id

    @property
    def customer_code(self) -> str | None:
        """The padded code of the customer."""
        return self.debtor.code

    @property
    def total_excl_vat(self) -> Decimal:
        """Sum of the lines' net amounts."""
        return sum((line.amount_excl_vat for line in self.lines), Decimal(0))

    @property
    def total_vat(self) -> Decimal:
        """Sum of the lines' VAT amounts."""
        return sum((line.vat_amount for line in self.lines), Decimal(0))

    @property
    def total_incl_vat(self) -> Decimal:
        """What the customer owes: the receivable Exact books on the debtors account."""
        return self.total_excl_vat + self.total_vat

    @property
    def is_credit(self) -> bool:
        """Whether the entry reduces what customers owe (a negative total)."""
        return self.total_incl_vat < 0


class BankLineKind(enum.Enum):
    """What a bank entry line books."""

    PAYMENT = "payment"
    UNMATCHED = "unmatched"
    FEE = "fee"
    TRANSFER = "transfer"


@attrs.frozen
class BankEntryLineDraft:
    """One line of a bank entry (``BankEntryLines``).

    ``account_id``/``account_code`` is the customer a payment line settles,
    ``our_ref`` the invoice number it pays (``OurRef``), ``source_id`` the payment or
    fee it comes from. ``new_account`` is a relation to create first and book the
    line against (``payments.unmatched = "new_relation"``).
    """

    kind: BankLineKind
    gl_account: str
    amount: Decimal
    date: dt.date
    description: str = ""
    account_id: str | None = None
    account_code: str | None = None
    our_ref: int | None = None
    source_id: str | None = None
    new_account: AccountDraft | None = None


@attrs.frozen
class BankEntryDraft:
    """A bank entry (``financialtransaction/BankEntries``) booking one payout.

    ``lines`` book the payments and fees; they sum to the payout amount (signed by
    the receipt-sign policy). ``transfer_line`` books the payout itself on the
    transfer account, leaving the journal's balance where it was: ``all_lines`` sum
    to zero.
    """

    journal_code: str
    financial_year: int
    financial_period: int
    date: dt.date
    description: str
    lines: tuple[BankEntryLineDraft, ...]
    transfer_line: BankEntryLineDraft
    currency: str = "EUR"
    source: str | None = None
    source_id: str | None = None

    @property
    def all_lines(self) -> tuple[BankEntryLineDraft, ...]:
        """The lines and the transfer line, as the sync engine sends them."""
        return (*self.lines, self.transfer_line)

    @property
    def total(self) -> Decimal:
        """Sum of :attr:`lines` (the payout amount, signed)."""
        return sum((line.amount for line in self.lines), Decimal(0))


class UnmatchedReason(enum.Enum):
    """Why a payment was not matched to an open receivable."""

    NO_REFERENCE = "no_reference"
    NO_OPEN_RECEIVABLE = "no_open_receivable"
    AMOUNT_DIFFERS = "amount_differs"
    AMBIGUOUS = "ambiguous"
    CURRENCY_DIFFERS = "currency_differs"


@attrs.frozen
class UnmatchedPayment:
    """A payment that could not be matched 100 %, with the reason and where it was booked."""

    payment_id: str
    reference: str | None
    amount: Decimal
    reason: UnmatchedReason
    detail: str
    booked_on: str


@attrs.frozen
class PayoutMatch:
    """The outcome of :func:`match_payout`.

    ``draft`` is ``None`` when the payout was filtered out (``skipped`` says why).
    """

    draft: BankEntryDraft | None
    unmatched: tuple[UnmatchedPayment, ...] = ()
    skipped: str | None = None


@attrs.frozen
class SummaryResult:
    """The outcome of summary booking.

    ``entries`` are the summary entries to book, ``failed`` the invoices that could
    not be mapped, and ``nothing_to_book`` the source ids of invoices whose day (or
    period) added up to nothing at all, so no entry was needed for them.
    """

    entries: tuple[SalesEntryDraft, ...]
    failed: tuple[MappingError, ...] = ()
    nothing_to_book: tuple[str, ...] = ()
