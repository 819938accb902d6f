"""The accounting rules: pure functions from canonical records to Exact Online drafts.

Everything here is pure: canonical records (:mod:`exactbridge.records`), explicit
policies (:class:`BookingConfig` and its parts) and lookup tables
(:class:`ReferenceData`) go in; drafts (:class:`SalesEntryDraft`,
:class:`BankEntryDraft`, :class:`AccountDraft`...) or a
:class:`~exactbridge.errors.MappingError` naming the record, the field, the policy and
the value come out. No I/O, no clock (dates such as the export date are arguments),
and no HTTP client is imported.

>>> import datetime as dt
>>> from decimal import Decimal
>>> from exactbridge.records import Invoice, InvoiceLine, Party
>>> reference = ReferenceData(
...     gl_accounts=[GLAccount("8000", 110)],
...     vat_codes=[VatCode("2", Decimal("0.21"))],
...     journals=[Journal("70", 20)],
...     periods=[FinancialPeriod(2024, 5, dt.date(2024, 5, 1), dt.date(2024, 5, 31))],
... )
>>> config = BookingConfig.from_mapping(
...     {"vat": {"codes": {"high": "2"}}, "ledger": {"default_account": "8000"}}
... )
>>> invoice = Invoice(
...     "virtuagym", "inv-1", "1001", dt.date(2024, 5, 3),
...     lines=[InvoiceLine("Membership May", Decimal("121.00"), vat_category="high")],
...     party=Party("virtuagym", "m-7", "Ann de Vries", internal_number="7"),
... )
>>> draft = to_sales_entry(invoice, reference, config)
>>> draft.lines[0].amount_excl_vat, draft.lines[0].vat_amount, draft.customer_code
(Decimal('100.00'), Decimal('21.00'), '                 7')
"""

from __future__ import annotations

from exactbridge.mapping._debtor import candidate_code, resolve_debtor
from exactbridge.mapping._drafts import (
    AccountDraft,
    BankEntryDraft,
    BankEntryLineDraft,
    BankLineKind,
    DebtorAction,
    DebtorDecision,
    EntryType,
    PayoutMatch,
    PeriodChoice,
    SalesEntryDraft,
    SalesEntryLineDraft,
    SummaryResult,
    UnmatchedPayment,
    UnmatchedReason,
    VatSplit,
)
from exactbridge.mapping._ledger import ledger_for_line
from exactbridge.mapping._numbering import INT32_MAX, entry_number
from exactbridge.mapping._payments import match_payout
from exactbridge.mapping._period import select_period
from exactbridge.mapping._policies import (
    BookingConfig,
    BookingMode,
    CodeSource,
    CreditNoteMode,
    CreditNotePolicy,
    DateSource,
    DebtorPolicy,
    LedgerMapping,
    LedgerSource,
    LedgerTarget,
    NonNumericNumber,
    NumberingPolicy,
    PaymentMatchingPolicy,
    PaymentTermsPolicy,
    PeriodPolicy,
    ReceiptSign,
    SummaryPolicy,
    UnavailablePeriod,
    UnmatchedPayments,
    VatMapping,
)
from exactbridge.mapping._reference import (
    CostUsage,
    FinancialPeriod,
    GLAccount,
    Journal,
    KnownAccount,
    OpenReceivable,
    PaymentCondition,
    ReferenceData,
    VatCode,
    VatTransactionType,
    VatType,
)
from exactbridge.mapping._sales import to_sales_entry
from exactbridge.mapping._summary import summarize, summarize_day, summarize_period
from exactbridge.mapping._vat import split_excluding, split_including

__all__ = [
    "INT32_MAX",
    "AccountDraft",
    "BankEntryDraft",
    "BankEntryLineDraft",
    "BankLineKind",
    "BookingConfig",
    "BookingMode",
    "CodeSource",
    "CostUsage",
    "CreditNoteMode",
    "CreditNotePolicy",
    "DateSource",
    "DebtorAction",
    "DebtorDecision",
    "DebtorPolicy",
    "EntryType",
    "FinancialPeriod",
    "GLAccount",
    "Journal",
    "KnownAccount",
    "LedgerMapping",
    "LedgerSource",
    "LedgerTarget",
    "NonNumericNumber",
    "NumberingPolicy",
    "OpenReceivable",
    "PaymentCondition",
    "PaymentMatchingPolicy",
    "PaymentTermsPolicy",
    "PayoutMatch",
    "PeriodChoice",
    "PeriodPolicy",
    "ReceiptSign",
    "ReferenceData",
    "SalesEntryDraft",
    "SalesEntryLineDraft",
    "SummaryPolicy",
    "SummaryResult",
    "UnavailablePeriod",
    "UnmatchedPayment",
    "UnmatchedPayments",
    "UnmatchedReason",
    "VatCode",
    "VatMapping",
    "VatSplit",
    "VatTransactionType",
    "VatType",
    "candidate_code",
    "entry_number",
    "ledger_for_line",
    "match_payout",
    "resolve_debtor",
    "select_period",
    "split_excluding",
    "split_including",
    "summarize",
    "summarize_day",
    "summarize_period",
    "to_sales_entry",
]
