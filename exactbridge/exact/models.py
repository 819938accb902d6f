"""Typed models of the Exact Online entities exactbridge reads and writes.

Read models (``Account``, ``SalesEntry``, ...) are frozen attrs classes with
snake_case fields. **Every field is optional** (default ``None``) because a
``$select`` returns only the properties asked for; properties Exact sends that a
model does not know are kept in ``extra`` (never an error). Amounts are
:class:`decimal.Decimal`, dates that are calendar dates in Exact (``EntryDate``,
``DueDate``, ``StartDate``...) are :class:`datetime.date`, and instants
(``Created``, ``Modified``) are aware datetimes in ``Europe/Amsterdam``. Padded codes
(18-character account codes, 3-character VAT and country codes) are stripped when
read and padded again when written.

Write models (``NewAccount``, ``NewSalesEntry``, ...) hold what a POST sends; their
required fields have no default, and fields left ``None`` are not sent.

Each field names its Exact property explicitly with :func:`wire`; the private
converter in ``exactbridge.exact._serde`` does the renaming and conversions.

>>> line = NewSalesEntryLine(gl_account=uuid.UUID(int=1), amount_fc=Decimal("41.98"), vat_code="2")
>>> line.vat_code
'2'
"""

# wire() and _required() return attrs fields, which ruff cannot see through:
# ruff: noqa: RUF009

from __future__ import annotations

import datetime as _dt
import enum
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from exactbridge.errors import ConfigurationError

__all__ = [
    "CODEC",
    "SYNC_ONLY",
    "WIRE",
    "Account",
    "BankAccount",
    "BankEntry",
    "BankEntryLine",
    "Codec",
    "Contact",
    "CostCenter",
    "CostUnit",
    "DeletedRecord",
    "DirectDebitMandate",
    "Division",
    "DivisionStatus",
    "Document",
    "DocumentAttachment",
    "EntryStatus",
    "ExactModel",
    "FinancialPeriod",
    "GLAccount",
    "GLAccountType",
    "GeneralJournalEntry",
    "GeneralJournalEntryLine",
    "GeneralJournalEntryType",
    "Journal",
    "JournalType",
    "Me",
    "NewAccount",
    "NewBankAccount",
    "NewBankEntry",
    "NewBankEntryLine",
    "NewContact",
    "NewCostCenter",
    "NewCostUnit",
    "NewDirectDebitMandate",
    "NewDocument",
    "NewDocumentAttachment",
    "NewGeneralJournalEntry",
    "NewGeneralJournalEntryLine",
    "NewJournal",
    "NewSalesEntry",
    "NewSalesEntryLine",
    "PaymentCondition",
    "Project",
    "Receivable",
    "ReceivableStatus",
    "ReceivablesListItem",
    "SalesEntry",
    "SalesEntryLine",
    "SalesEntryType",
    "TransactionLine",
    "VATCode",
    "VATTransactionType",
    "VATType",
    "WriteModel",
    "wire",
]

#: attrs metadata key holding a field's Exact property name.
WIRE = "exactbridge.wire"
#: attrs metadata key holding a field's :class:`Codec` (padded codes).
CODEC = "exactbridge.codec"
#: attrs metadata key marking a property only the ``sync/`` endpoints return (``Timestamp``).
SYNC_ONLY = "exactbridge.sync_only"


class Codec(enum.Enum):
    """How a text field is padded on write and stripped on read."""

    ACCOUNT_CODE = "account_code"  # 18 characters, right-aligned
    VAT_CODE = "vat_code"  # 3 characters, left-aligned
    COUNTRY = "country"  # ISO alpha-2, padded to 3 characters
    STRIP = "strip"  # padded by Exact (e.g. legislation "FR "): stripped on read only


def wire(
    name: str, *, codec: Codec | None = None, repr: bool = True, sync_only: bool = False
) -> Any:
    """Declare an optional model field and its Exact property name.

    ``codec`` says how a padded code is stripped and padded; ``sync_only`` marks a
    property that only the ``sync/`` endpoints return (it is left out of a default
    ``$select``).

    >>> import attrs
    >>> @attrs.frozen
    ... class Example:
    ...     vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    """
    return attrs.field(
        default=None, metadata={WIRE: name, CODEC: codec, SYNC_ONLY: sync_only}, repr=repr
    )


def _required(name: str, *, codec: Codec | None = None, repr: bool = True) -> Any:
    """A write-model field without default (Exact requires it on POST)."""
    return attrs.field(metadata={WIRE: name, CODEC: codec}, repr=repr)


def _nonempty_lines(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not value:
        raise ConfigurationError(
            f"{type(instance).__name__}.{attribute.name} needs at least one line "
            "(Exact creates an entry and its lines in one request)",
            expected="a non-empty tuple of lines",
        )


def _lines_tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


# --------------------------------------------------------------------------- enums


class JournalType(enum.IntEnum):
    """``Journals.Type``."""

    CASH = 10
    BANK = 12
    PAYMENT_SERVICE = 16
    SALES = 20
    RETURN_INVOICE = 21
    PURCHASE = 22
    RECEIVED_RETURN_INVOICE = 23
    GENERAL = 90


class GLAccountType(enum.IntEnum):
    """``GLAccounts.Type``."""

    CASH = 10
    BANK = 12
    CREDIT_CARD = 14
    PAYMENT_SERVICES = 16
    ACCOUNTS_RECEIVABLE = 20
    PREPAYMENT_ACCOUNTS_RECEIVABLE = 21
    ACCOUNTS_PAYABLE = 22
    VAT = 24
    EMPLOYEES_PAYABLE = 25
    PREPAID_EXPENSES = 26
    ACCRUED_EXPENSES = 27
    INCOME_TAXES_PAYABLE = 29
    FIXED_ASSETS = 30
    OTHER_ASSETS = 32
    ACCUMULATED_DEPRECIATION = 35
    INVENTORY = 40
    CAPITAL_STOCK = 50
    RETAINED_EARNINGS = 52
    LONG_TERM_DEBT = 55
    CURRENT_PORTION_OF_DEBT = 60
    GENERAL = 90
    TAX_PAYABLE = 100
    REVENUE = 110
    COST_OF_GOODS = 111
    OTHER_COSTS = 120
    SALES_GENERAL_ADMIN_EXPENSES = 121
    DEPRECIATION_COSTS = 122
    RESEARCH_AND_DEVELOPMENT = 123
    EMPLOYEE_COSTS = 125
    EMPLOYMENT_COSTS = 126
    EXCEPTIONAL_COSTS = 130
    EXCEPTIONAL_INCOME = 140
    INCOME_TAXES = 150
    INTEREST_INCOME = 160
    YEAR_END_REFLECTION = 300
    INDIRECT_YEAR_END_COSTING = 301
    DIRECT_YEAR_END_COSTING = 302


class VATType(str, enum.Enum):
    """``VATCodes.Type``."""

    BASE_ONLY = "B"  # VAT 0 %, only the base is reported
    EXCLUDING = "E"
    INCLUDING = "I"
    NO_VAT = "N"


class VATTransactionType(str, enum.Enum):
    """``VATCodes.VATTransactionType``: whether a code is for sales, purchases or both."""

    BOTH = "B"
    PURCHASE = "P"
    SALES = "S"


class EntryStatus(enum.IntEnum):
    """``Status`` of sales, bank and general journal entries."""

    REJECTED = 5
    OPEN = 20
    PROCESSED = 50


class SalesEntryType(enum.IntEnum):
    """``SalesEntries.Type``."""

    SALES_ENTRY = 20
    CREDIT_NOTE = 21


class GeneralJournalEntryType(enum.IntEnum):
    """``GeneralJournalEntries.Type``."""

    OPENING_BALANCE = 10
    OTHER = 90


class ReceivableStatus(enum.IntEnum):
    """``cashflow/Receivables.Status``."""

    OPEN = 20
    SELECTED = 30
    PROCESSED = 40
    MATCHED = 50


class DivisionStatus(enum.IntEnum):
    """``system/Divisions.Status``."""

    INACTIVE = 0
    ACTIVE = 1
    ARCHIVED = 2


# --------------------------------------------------------------------------- bases


def _short_repr(obj: Any) -> str:
    parts = []
    for field in attrs.fields(type(obj)):
        if not field.repr:
            continue
        value = getattr(obj, field.name)
        if value is not None:
            parts.append(f"{field.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(parts)})"


@attrs.frozen(kw_only=True, repr=False)
class ExactModel:
    """Base of the read models: ``extra`` holds properties the model does not know.

    The ``repr`` lists only the fields that are set, so a ``$select``-trimmed row
    stays readable.
    """

    extra: Mapping[str, Any] = attrs.field(factory=dict, hash=False, repr=False)

    def __repr__(self) -> str:
        return _short_repr(self)


@attrs.frozen(kw_only=True, repr=False)
class _Audited(ExactModel):
    created: _dt.datetime | None = wire("Created")
    creator: uuid.UUID | None = wire("Creator")
    creator_full_name: str | None = wire("CreatorFullName")
    modified: _dt.datetime | None = wire("Modified")
    modifier: uuid.UUID | None = wire("Modifier")
    modifier_full_name: str | None = wire("ModifierFullName")
    division: int | None = wire("Division")


@attrs.frozen(kw_only=True, repr=False)
class WriteModel:
    """Base of the write models (``New...``): ``None`` fields are not sent."""

    def __repr__(self) -> str:
        return _short_repr(self)


# --------------------------------------------------------------------------- CRM


@attrs.frozen(kw_only=True, repr=False)
class BankAccount(_Audited):
    """``crm/BankAccounts``: a bank account of an account (relation)."""

    id: uuid.UUID | None = wire("ID")
    account: uuid.UUID | None = wire("Account")
    account_name: str | None = wire("AccountName")
    bank_account: str | None = wire("BankAccount")
    bank_account_holder_name: str | None = wire("BankAccountHolderName")
    bic_code: str | None = wire("BICCode")
    description: str | None = wire("Description")
    iban: str | None = wire("IBAN")
    main: bool | None = wire("Main")
    type: str | None = wire("Type")
    type_description: str | None = wire("TypeDescription")


@attrs.frozen(kw_only=True, repr=False)
class Account(_Audited):
    """``crm/Accounts``: a customer or supplier (relation).

    ``code`` is shown without Exact's 18-character padding.
    """

    id: uuid.UUID | None = wire("ID")
    code: str | None = wire("Code", codec=Codec.ACCOUNT_CODE)
    name: str | None = wire("Name")
    status: str | None = wire("Status")
    is_sales: bool | None = wire("IsSales")
    is_supplier: bool | None = wire("IsSupplier")
    is_purchase: bool | None = wire("IsPurchase")
    blocked: bool | None = wire("Blocked")
    type: str | None = wire("Type")
    email: str | None = wire("Email")
    phone: str | None = wire("Phone")
    phone_extension: str | None = wire("PhoneExtension")
    fax: str | None = wire("Fax")
    website: str | None = wire("Website")
    address_line1: str | None = wire("AddressLine1")
    address_line2: str | None = wire("AddressLine2")
    address_line3: str | None = wire("AddressLine3")
    postcode: str | None = wire("Postcode")
    city: str | None = wire("City")
    state: str | None = wire("State")
    country: str | None = wire("Country", codec=Codec.COUNTRY)
    country_name: str | None = wire("CountryName")
    language: str | None = wire("Language")
    main_contact: uuid.UUID | None = wire("MainContact")
    vat_number: str | None = wire("VATNumber")
    chamber_of_commerce: str | None = wire("ChamberOfCommerce")
    vat_liability: str | None = wire("VATLiability")
    rsin: str | None = wire("RSIN")
    bsn: str | None = wire("BSN")
    oin_number: str | None = wire("OINNumber")
    eori_number: str | None = wire("EORINumber")
    gln_number: str | None = wire("GlnNumber")
    peppol_identifier: str | None = wire("PeppolIdentifier")
    peppol_identifier_type: int | None = wire("PeppolIdentifierType")
    unique_taxpayer_reference: str | None = wire("UniqueTaxpayerReference")
    datev_debtor_code: str | None = wire("DatevDebtorCode")
    datev_creditor_code: str | None = wire("DatevCreditorCode")
    sales_vat_code: str | None = wire("SalesVATCode", codec=Codec.VAT_CODE)
    purchase_vat_code: str | None = wire("PurchaseVATCode", codec=Codec.VAT_CODE)
    payment_condition_sales: str | None = wire("PaymentConditionSales")
    payment_condition_purchase: str | None = wire("PaymentConditionPurchase")
    gl_ar: uuid.UUID | None = wire("GLAR")
    gl_ap: uuid.UUID | None = wire("GLAP")
    gl_account_sales: uuid.UUID | None = wire("GLAccountSales")
    gl_account_purchase: uuid.UUID | None = wire("GLAccountPurchase")
    sales_currency: str | None = wire("SalesCurrency")
    purchase_currency: str | None = wire("PurchaseCurrency")
    credit_line_sales: Decimal | None = wire("CreditLineSales")
    discount_sales: Decimal | None = wire("DiscountSales")
    invoicing_method: int | None = wire("InvoicingMethod")
    invoice_attachment_type: int | None = wire("InvoiceAttachmentType")
    timestamp: int | None = wire("Timestamp", sync_only=True)
    bank_accounts: tuple[BankAccount, ...] | None = wire("BankAccounts")


@attrs.frozen(kw_only=True, repr=False)
class Contact(_Audited):
    """``crm/Contacts``: a person at an account."""

    id: uuid.UUID | None = wire("ID")
    account: uuid.UUID | None = wire("Account")
    account_name: str | None = wire("AccountName")
    account_is_customer: bool | None = wire("AccountIsCustomer")
    account_is_supplier: bool | None = wire("AccountIsSupplier")
    first_name: str | None = wire("FirstName")
    last_name: str | None = wire("LastName")
    middle_name: str | None = wire("MiddleName")
    initials: str | None = wire("Initials")
    title: str | None = wire("Title")
    full_name: str | None = wire("FullName")
    gender: str | None = wire("Gender")
    language: str | None = wire("Language")
    email: str | None = wire("Email")
    business_email: str | None = wire("BusinessEmail")
    phone: str | None = wire("Phone")
    mobile: str | None = wire("Mobile")
    business_phone: str | None = wire("BusinessPhone")
    job_title_description: str | None = wire("JobTitleDescription")
    is_main_contact: bool | None = wire("IsMainContact")
    is_anonymised: int | None = wire("IsAnonymised")
    notes: str | None = wire("Notes")
    start_date: _dt.date | None = wire("StartDate")
    end_date: _dt.date | None = wire("EndDate")
    hid: int | None = wire("HID")
    address_street: str | None = wire("AddressStreet")
    address_street_number: str | None = wire("AddressStreetNumber")
    address_street_number_suffix: str | None = wire("AddressStreetNumberSuffix")
    address_line2: str | None = wire("AddressLine2")
    postcode: str | None = wire("Postcode")
    city: str | None = wire("City")
    state: str | None = wire("State")
    country: str | None = wire("Country", codec=Codec.COUNTRY)
    timestamp: int | None = wire("Timestamp", sync_only=True)


# --------------------------------------------------------------------------- sales entries


@attrs.frozen(kw_only=True, repr=False)
class SalesEntryLine(_Audited):
    """``salesentry/SalesEntryLines``: one revenue line of a sales entry."""

    id: uuid.UUID | None = wire("ID")
    entry_id: uuid.UUID | None = wire("EntryID")
    line_number: int | None = wire("LineNumber")
    amount_fc: Decimal | None = wire("AmountFC")
    amount_dc: Decimal | None = wire("AmountDC")
    gl_account: uuid.UUID | None = wire("GLAccount")
    gl_account_code: str | None = wire("GLAccountCode")
    gl_account_description: str | None = wire("GLAccountDescription")
    description: str | None = wire("Description")
    quantity: Decimal | None = wire("Quantity")
    vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    vat_code_description: str | None = wire("VATCodeDescription")
    vat_percentage: Decimal | None = wire("VATPercentage")
    vat_amount_fc: Decimal | None = wire("VATAmountFC")
    vat_amount_dc: Decimal | None = wire("VATAmountDC")
    vat_base_amount_fc: Decimal | None = wire("VATBaseAmountFC")
    vat_base_amount_dc: Decimal | None = wire("VATBaseAmountDC")
    cost_center: str | None = wire("CostCenter")
    cost_center_description: str | None = wire("CostCenterDescription")
    cost_unit: str | None = wire("CostUnit")
    cost_unit_description: str | None = wire("CostUnitDescription")
    project: uuid.UUID | None = wire("Project")
    project_description: str | None = wire("ProjectDescription")
    project_wbs: uuid.UUID | None = wire("ProjectWBS")
    asset: uuid.UUID | None = wire("Asset")
    tax_schedule: uuid.UUID | None = wire("TaxSchedule")
    extra_duty_amount_fc: Decimal | None = wire("ExtraDutyAmountFC")
    extra_duty_percentage: Decimal | None = wire("ExtraDutyPercentage")
    notes: str | None = wire("Notes")
    from_date: _dt.date | None = wire("From")
    to_date: _dt.date | None = wire("To")
    serial_number: str | None = wire("SerialNumber")
    tracking_number: uuid.UUID | None = wire("TrackingNumber")
    subscription: uuid.UUID | None = wire("Subscription")
    type: SalesEntryType | int | None = wire("Type")


@attrs.frozen(kw_only=True, repr=False)
class SalesEntry(_Audited):
    """``salesentry/SalesEntries``: a sales invoice booked in a sales journal.

    ``lines`` is filled only when the request expanded ``SalesEntryLines``.
    """

    entry_id: uuid.UUID | None = wire("EntryID")
    customer: uuid.UUID | None = wire("Customer")
    customer_name: str | None = wire("CustomerName")
    journal: str | None = wire("Journal")
    journal_description: str | None = wire("JournalDescription")
    entry_date: _dt.date | None = wire("EntryDate")
    due_date: _dt.date | None = wire("DueDate")
    reporting_period: int | None = wire("ReportingPeriod")
    reporting_year: int | None = wire("ReportingYear")
    description: str | None = wire("Description")
    your_ref: str | None = wire("YourRef")
    invoice_number: int | None = wire("InvoiceNumber")
    entry_number: int | None = wire("EntryNumber")
    payment_condition: str | None = wire("PaymentCondition")
    payment_condition_description: str | None = wire("PaymentConditionDescription")
    payment_condition_payment_method: str | None = wire("PaymentConditionPaymentMethod")
    payment_reference: str | None = wire("PaymentReference")
    currency: str | None = wire("Currency")
    rate: Decimal | None = wire("Rate")
    amount_dc: Decimal | None = wire("AmountDC")
    amount_fc: Decimal | None = wire("AmountFC")
    vat_amount_dc: Decimal | None = wire("VATAmountDC")
    vat_amount_fc: Decimal | None = wire("VATAmountFC")
    document: uuid.UUID | None = wire("Document")
    document_number: int | None = wire("DocumentNumber")
    document_subject: str | None = wire("DocumentSubject")
    order_number: int | None = wire("OrderNumber")
    batch_number: int | None = wire("BatchNumber")
    reversal: bool | None = wire("Reversal")
    g_account_amount_fc: Decimal | None = wire("GAccountAmountFC")
    is_extra_duty: bool | None = wire("IsExtraDuty")
    external_link_reference: str | None = wire("ExternalLinkReference")
    external_link_description: str | None = wire("ExternalLinkDescription")
    process_number: int | None = wire("ProcessNumber")
    status: EntryStatus | int | None = wire("Status")
    status_description: str | None = wire("StatusDescription")
    type: SalesEntryType | int | None = wire("Type")
    type_description: str | None = wire("TypeDescription")
    lines: tuple[SalesEntryLine, ...] | None = wire("SalesEntryLines")


# --------------------------------------------------------------------------- ledgers


@attrs.frozen(kw_only=True, repr=False)
class Journal(_Audited):
    """``financial/Journals``: referenced by its ``code`` (e.g. ``"70"``)."""

    id: uuid.UUID | None = wire("ID")
    code: str | None = wire("Code")
    description: str | None = wire("Description")
    type: JournalType | int | None = wire("Type")
    gl_account: uuid.UUID | None = wire("GLAccount")
    gl_account_code: str | None = wire("GLAccountCode")
    gl_account_description: str | None = wire("GLAccountDescription")
    gl_account_type: GLAccountType | int | None = wire("GLAccountType")
    currency: str | None = wire("Currency")
    allow_variable_currency: bool | None = wire("AllowVariableCurrency")
    allow_variable_exchange_rate: bool | None = wire("AllowVariableExchangeRate")
    allow_vat: bool | None = wire("AllowVAT")
    auto_save: bool | None = wire("AutoSave")
    is_blocked: bool | None = wire("IsBlocked")
    bank: uuid.UUID | None = wire("Bank")
    bank_account_id: uuid.UUID | None = wire("BankAccountID")
    bank_account_including_mask: str | None = wire("BankAccountIncludingMask")
    bank_account_iban: str | None = wire("BankAccountIBAN")
    bank_account_bic_code: str | None = wire("BankAccountBICCode")
    bank_name: str | None = wire("BankName")
    payment_in_transit_account: uuid.UUID | None = wire("PaymentInTransitAccount")
    payment_service_provider: int | None = wire("PaymentServiceProvider")


@attrs.frozen(kw_only=True, repr=False)
class VATCode(_Audited):
    """``vat/VATCodes``: ``code`` without padding; ``percentage`` is a fraction (0.21)."""

    id: uuid.UUID | None = wire("ID")
    code: str | None = wire("Code", codec=Codec.VAT_CODE)
    description: str | None = wire("Description")
    percentage: Decimal | None = wire("Percentage")
    type: VATType | str | None = wire("Type")
    vat_transaction_type: VATTransactionType | str | None = wire("VATTransactionType")
    charged: bool | None = wire("Charged")
    gl_to_pay: uuid.UUID | None = wire("GLToPay")
    gl_to_pay_code: str | None = wire("GLToPayCode")
    gl_to_pay_description: str | None = wire("GLToPayDescription")
    gl_to_claim: uuid.UUID | None = wire("GLToClaim")
    gl_to_claim_code: str | None = wire("GLToClaimCode")
    gl_to_claim_description: str | None = wire("GLToClaimDescription")
    eu_sales_listing: str | None = wire("EUSalesListing")
    is_blocked: bool | None = wire("IsBlocked")
    legal_text: str | None = wire("LegalText")
    calculation_basis: int | None = wire("CalculationBasis")
    exclude_vat_listing: int | None = wire("ExcludeVATListing")
    intra_stat: bool | None = wire("IntraStat")
    tax_return_type: int | None = wire("TaxReturnType")
    vat_doc_type: str | None = wire("VatDocType")
    vat_margin: int | None = wire("VatMargin")
    vat_partial_ratio: int | None = wire("VATPartialRatio")
    account: uuid.UUID | None = wire("Account")
    account_code: str | None = wire("AccountCode", codec=Codec.ACCOUNT_CODE)
    account_name: str | None = wire("AccountName")


@attrs.frozen(kw_only=True, repr=False)
class GLAccount(_Audited):
    """``financial/GLAccounts``: a general ledger account."""

    id: uuid.UUID | None = wire("ID")
    code: str | None = wire("Code")
    description: str | None = wire("Description")
    search_code: str | None = wire("SearchCode")
    balance_side: str | None = wire("BalanceSide")
    balance_type: str | None = wire("BalanceType")
    type: GLAccountType | int | None = wire("Type")
    type_description: str | None = wire("TypeDescription")
    vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    vat_description: str | None = wire("VATDescription")
    use_costcenter: int | None = wire("UseCostcenter")
    use_costunit: int | None = wire("UseCostunit")
    costcenter: str | None = wire("Costcenter")
    costcenter_description: str | None = wire("CostcenterDescription")
    costunit: str | None = wire("Costunit")
    costunit_description: str | None = wire("CostunitDescription")
    is_blocked: bool | None = wire("IsBlocked")
    matching: bool | None = wire("Matching")
    timestamp: int | None = wire("Timestamp", sync_only=True)


@attrs.frozen(kw_only=True, repr=False)
class FinancialPeriod(_Audited):
    """``financial/FinancialPeriods``: one reporting period of a financial year."""

    id: uuid.UUID | None = wire("ID")
    fin_year: int | None = wire("FinYear")
    fin_period: int | None = wire("FinPeriod")
    start_date: _dt.date | None = wire("StartDate")
    end_date: _dt.date | None = wire("EndDate")


@attrs.frozen(kw_only=True, repr=False)
class CostCenter(_Audited):
    """``hrm/Costcenters``: lines refer to it by ``code``."""

    id: uuid.UUID | None = wire("ID")
    code: str | None = wire("Code")
    description: str | None = wire("Description")
    active: bool | None = wire("Active")
    end_date: _dt.date | None = wire("EndDate")


@attrs.frozen(kw_only=True, repr=False)
class Project(_Audited):
    """``project/Projects``: sales lines refer to it by ``id`` (``SalesEntryLines.Project``).

    The sync engine looks a project up by ``code`` (Coachview "Have project code
    generated from a Coachview field").
    """

    id: uuid.UUID | None = wire("ID")
    code: str | None = wire("Code")
    description: str | None = wire("Description")
    type: int | None = wire("Type")
    account: uuid.UUID | None = wire("Account")
    start_date: _dt.date | None = wire("StartDate")
    end_date: _dt.date | None = wire("EndDate")


@attrs.frozen(kw_only=True, repr=False)
class CostUnit(_Audited):
    """``hrm/Costunits``: lines refer to it by ``code``."""

    id: uuid.UUID | None = wire("ID")
    code: str | None = wire("Code")
    description: str | None = wire("Description")
    active: bool | None = wire("Active")
    end_date: _dt.date | None = wire("EndDate")


# --------------------------------------------------------------------------- documents


@attrs.frozen(kw_only=True, repr=False)
class Document(_Audited):
    """``documents/Documents``: the container an attachment (PDF) hangs on."""

    id: uuid.UUID | None = wire("ID")
    subject: str | None = wire("Subject")
    type: int | None = wire("Type")
    type_description: str | None = wire("TypeDescription")
    account: uuid.UUID | None = wire("Account")
    account_code: str | None = wire("AccountCode", codec=Codec.ACCOUNT_CODE)
    account_name: str | None = wire("AccountName")
    document_date: _dt.date | None = wire("DocumentDate")
    category: uuid.UUID | None = wire("Category")
    category_description: str | None = wire("CategoryDescription")
    document_folder: uuid.UUID | None = wire("DocumentFolder")
    body: str | None = wire("Body")
    amount_fc: Decimal | None = wire("AmountFC")
    currency: str | None = wire("Currency")
    financial_transaction_entry_id: uuid.UUID | None = wire("FinancialTransactionEntryID")
    sales_invoice_number: int | None = wire("SalesInvoiceNumber")
    language: str | None = wire("Language")
    document_view_url: str | None = wire("DocumentViewUrl")
    has_empty_body: bool | None = wire("HasEmptyBody")
    hid: int | None = wire("HID")
    timestamp: int | None = wire("Timestamp", sync_only=True)


@attrs.frozen(kw_only=True, repr=False)
class DocumentAttachment(_Audited):
    """``documents/DocumentAttachments``: a file; ``attachment`` holds the decoded bytes.

    Exact usually answers ``Attachment: null``; download the file from ``url``.
    """

    id: uuid.UUID | None = wire("ID")
    document: uuid.UUID | None = wire("Document")
    file_name: str | None = wire("FileName")
    attachment: bytes | None = wire("Attachment", repr=False)
    file_size: Decimal | None = wire("FileSize")
    url: str | None = wire("Url")
    timestamp: int | None = wire("Timestamp", sync_only=True)


# --------------------------------------------------------------------------- bank and memo


@attrs.frozen(kw_only=True, repr=False)
class BankEntryLine(_Audited):
    """``financialtransaction/BankEntryLines``: one bank statement line."""

    id: uuid.UUID | None = wire("ID")
    entry_id: uuid.UUID | None = wire("EntryID")
    line_number: int | None = wire("LineNumber")
    entry_number: int | None = wire("EntryNumber")
    date: _dt.date | None = wire("Date")
    amount_fc: Decimal | None = wire("AmountFC")
    amount_dc: Decimal | None = wire("AmountDC")
    gl_account: uuid.UUID | None = wire("GLAccount")
    gl_account_code: str | None = wire("GLAccountCode")
    gl_account_description: str | None = wire("GLAccountDescription")
    account: uuid.UUID | None = wire("Account")
    account_code: str | None = wire("AccountCode", codec=Codec.ACCOUNT_CODE)
    account_name: str | None = wire("AccountName")
    description: str | None = wire("Description")
    our_ref: int | None = wire("OurRef")
    notes: str | None = wire("Notes")
    document: uuid.UUID | None = wire("Document")
    amount_vat_fc: Decimal | None = wire("AmountVATFC")
    vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    vat_percentage: Decimal | None = wire("VATPercentage")
    vat_type: str | None = wire("VATType")
    cost_center: str | None = wire("CostCenter")
    cost_unit: str | None = wire("CostUnit")
    project: uuid.UUID | None = wire("Project")
    project_wbs: uuid.UUID | None = wire("ProjectWBS")
    asset: uuid.UUID | None = wire("Asset")
    quantity: Decimal | None = wire("Quantity")
    exchange_rate: Decimal | None = wire("ExchangeRate")
    offset_id: uuid.UUID | None = wire("OffsetID")


@attrs.frozen(kw_only=True, repr=False)
class BankEntry(_Audited):
    """``financialtransaction/BankEntries``: a bank statement (``lines`` when expanded)."""

    entry_id: uuid.UUID | None = wire("EntryID")
    journal_code: str | None = wire("JournalCode")
    journal_description: str | None = wire("JournalDescription")
    currency: str | None = wire("Currency")
    financial_year: int | None = wire("FinancialYear")
    financial_period: int | None = wire("FinancialPeriod")
    opening_balance_fc: Decimal | None = wire("OpeningBalanceFC")
    closing_balance_fc: Decimal | None = wire("ClosingBalanceFC")
    entry_number: int | None = wire("EntryNumber")
    bank_statement_document: uuid.UUID | None = wire("BankStatementDocument")
    bank_statement_document_number: int | None = wire("BankStatementDocumentNumber")
    bank_statement_document_subject: str | None = wire("BankStatementDocumentSubject")
    status: EntryStatus | int | None = wire("Status")
    status_description: str | None = wire("StatusDescription")
    lines: tuple[BankEntryLine, ...] | None = wire("BankEntryLines")


@attrs.frozen(kw_only=True, repr=False)
class GeneralJournalEntryLine(_Audited):
    """``generaljournalentry/GeneralJournalEntryLines``: one memorial line."""

    id: uuid.UUID | None = wire("ID")
    entry_id: uuid.UUID | None = wire("EntryID")
    line_number: int | None = wire("LineNumber")
    gl_account: uuid.UUID | None = wire("GLAccount")
    gl_account_code: str | None = wire("GLAccountCode")
    gl_account_description: str | None = wire("GLAccountDescription")
    amount_fc: Decimal | None = wire("AmountFC")
    amount_dc: Decimal | None = wire("AmountDC")
    amount_vat_fc: Decimal | None = wire("AmountVATFC")
    vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    vat_percentage: Decimal | None = wire("VATPercentage")
    vat_type: str | None = wire("VATType")
    account: uuid.UUID | None = wire("Account")
    account_code: str | None = wire("AccountCode", codec=Codec.ACCOUNT_CODE)
    account_name: str | None = wire("AccountName")
    date: _dt.date | None = wire("Date")
    description: str | None = wire("Description")
    our_ref: int | None = wire("OurRef")
    notes: str | None = wire("Notes")
    cost_center: str | None = wire("CostCenter")
    cost_unit: str | None = wire("CostUnit")
    project: uuid.UUID | None = wire("Project")
    quantity: Decimal | None = wire("Quantity")
    document: uuid.UUID | None = wire("Document")


@attrs.frozen(kw_only=True, repr=False)
class GeneralJournalEntry(_Audited):
    """``generaljournalentry/GeneralJournalEntries``: a memorial entry (``lines`` when expanded)."""

    entry_id: uuid.UUID | None = wire("EntryID")
    journal_code: str | None = wire("JournalCode")
    journal_description: str | None = wire("JournalDescription")
    financial_year: int | None = wire("FinancialYear")
    financial_period: int | None = wire("FinancialPeriod")
    currency: str | None = wire("Currency")
    exchange_rate: Decimal | None = wire("ExchangeRate")
    reversal: bool | None = wire("Reversal")
    entry_number: int | None = wire("EntryNumber")
    type: GeneralJournalEntryType | int | None = wire("Type")
    type_description: str | None = wire("TypeDescription")
    status: EntryStatus | int | None = wire("Status")
    status_description: str | None = wire("StatusDescription")
    lines: tuple[GeneralJournalEntryLine, ...] | None = wire("GeneralJournalEntryLines")


@attrs.frozen(kw_only=True, repr=False)
class TransactionLine(_Audited):
    """``financialtransaction/TransactionLines`` (also ``sync/Financial/TransactionLines``).

    ``line_number`` 0 is the entry's header line.
    """

    id: uuid.UUID | None = wire("ID")
    entry_id: uuid.UUID | None = wire("EntryID")
    entry_number: int | None = wire("EntryNumber")
    line_number: int | None = wire("LineNumber")
    date: _dt.date | None = wire("Date")
    financial_period: int | None = wire("FinancialPeriod")
    financial_year: int | None = wire("FinancialYear")
    journal_code: str | None = wire("JournalCode")
    journal_description: str | None = wire("JournalDescription")
    gl_account: uuid.UUID | None = wire("GLAccount")
    gl_account_code: str | None = wire("GLAccountCode")
    gl_account_description: str | None = wire("GLAccountDescription")
    account: uuid.UUID | None = wire("Account")
    account_code: str | None = wire("AccountCode", codec=Codec.ACCOUNT_CODE)
    account_name: str | None = wire("AccountName")
    amount_dc: Decimal | None = wire("AmountDC")
    amount_fc: Decimal | None = wire("AmountFC")
    amount_vat_base_fc: Decimal | None = wire("AmountVATBaseFC")
    amount_vat_fc: Decimal | None = wire("AmountVATFC")
    currency: str | None = wire("Currency")
    exchange_rate: Decimal | None = wire("ExchangeRate")
    description: str | None = wire("Description")
    due_date: _dt.date | None = wire("DueDate")
    invoice_number: int | None = wire("InvoiceNumber")
    your_ref: str | None = wire("YourRef")
    payment_reference: str | None = wire("PaymentReference")
    vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    vat_code_description: str | None = wire("VATCodeDescription")
    vat_percentage: Decimal | None = wire("VATPercentage")
    vat_type: str | None = wire("VATType")
    cost_center: str | None = wire("CostCenter")
    cost_center_description: str | None = wire("CostCenterDescription")
    cost_unit: str | None = wire("CostUnit")
    cost_unit_description: str | None = wire("CostUnitDescription")
    document: uuid.UUID | None = wire("Document")
    notes: str | None = wire("Notes")
    status: int | None = wire("Status")
    type: int | None = wire("Type")
    timestamp: int | None = wire("Timestamp", sync_only=True)


# --------------------------------------------------------------------------- receivables


@attrs.frozen(kw_only=True, repr=False)
class ReceivablesListItem(ExactModel):
    """``read/financial/ReceivablesList``: one open payment term of a customer."""

    hid: int | None = wire("HID")
    id: uuid.UUID | None = wire("Id")
    account_id: uuid.UUID | None = wire("AccountId")
    account_code: str | None = wire("AccountCode", codec=Codec.ACCOUNT_CODE)
    account_name: str | None = wire("AccountName")
    amount: Decimal | None = wire("Amount")
    amount_in_transit: Decimal | None = wire("AmountInTransit")
    currency_code: str | None = wire("CurrencyCode")
    description: str | None = wire("Description")
    due_date: _dt.date | None = wire("DueDate")
    entry_number: int | None = wire("EntryNumber")
    invoice_date: _dt.date | None = wire("InvoiceDate")
    invoice_number: int | None = wire("InvoiceNumber")
    journal_code: str | None = wire("JournalCode")
    journal_description: str | None = wire("JournalDescription")
    your_ref: str | None = wire("YourRef")
    notes: str | None = wire("Notes")


@attrs.frozen(kw_only=True, repr=False)
class Receivable(_Audited):
    """``cashflow/Receivables``: a receivable (payment term) and its payment state."""

    id: uuid.UUID | None = wire("ID")
    account: uuid.UUID | None = wire("Account")
    account_code: str | None = wire("AccountCode", codec=Codec.ACCOUNT_CODE)
    account_name: str | None = wire("AccountName")
    amount_dc: Decimal | None = wire("AmountDC")
    amount_fc: Decimal | None = wire("AmountFC")
    currency: str | None = wire("Currency")
    description: str | None = wire("Description")
    due_date: _dt.date | None = wire("DueDate")
    end_date: _dt.date | None = wire("EndDate")
    end_period: int | None = wire("EndPeriod")
    end_year: int | None = wire("EndYear")
    entry_date: _dt.date | None = wire("EntryDate")
    entry_number: int | None = wire("EntryNumber")
    gl_account: uuid.UUID | None = wire("GLAccount")
    gl_account_code: str | None = wire("GLAccountCode")
    gl_account_description: str | None = wire("GLAccountDescription")
    invoice_date: _dt.date | None = wire("InvoiceDate")
    invoice_number: int | None = wire("InvoiceNumber")
    is_fully_paid: bool | None = wire("IsFullyPaid")
    journal: str | None = wire("Journal")
    journal_description: str | None = wire("JournalDescription")
    last_payment_date: _dt.date | None = wire("LastPaymentDate")
    payment_condition: str | None = wire("PaymentCondition")
    payment_condition_description: str | None = wire("PaymentConditionDescription")
    payment_method: str | None = wire("PaymentMethod")
    payment_reference: str | None = wire("PaymentReference")
    status: ReceivableStatus | int | None = wire("Status")
    transaction_entry_id: uuid.UUID | None = wire("TransactionEntryID")
    transaction_id: uuid.UUID | None = wire("TransactionID")
    transaction_is_reversal: bool | None = wire("TransactionIsReversal")
    transaction_reporting_period: int | None = wire("TransactionReportingPeriod")
    transaction_reporting_year: int | None = wire("TransactionReportingYear")
    transaction_status: int | None = wire("TransactionStatus")
    transaction_type: int | None = wire("TransactionType")
    your_ref: str | None = wire("YourRef")


@attrs.frozen(kw_only=True, repr=False)
class PaymentCondition(_Audited):
    """``cashflow/PaymentConditions``: referenced by ``code`` (e.g. ``"14"``)."""

    id: uuid.UUID | None = wire("ID")
    code: str | None = wire("Code")
    description: str | None = wire("Description")
    payment_days: int | None = wire("PaymentDays")
    payment_end_of_months: int | None = wire("PaymentEndOfMonths")
    discount_percentage: Decimal | None = wire("DiscountPercentage")
    discount_payment_days: int | None = wire("DiscountPaymentDays")
    payment_method: str | None = wire("PaymentMethod")


@attrs.frozen(kw_only=True, repr=False)
class DirectDebitMandate(_Audited):
    """``cashflow/DirectDebitMandates``: a SEPA direct debit mandate of an account."""

    id: uuid.UUID | None = wire("ID")
    account: uuid.UUID | None = wire("Account")
    account_name: str | None = wire("AccountName")
    bank_account: uuid.UUID | None = wire("BankAccount")
    bank_account_number: str | None = wire("BankAccountNumber")
    reference: str | None = wire("Reference")
    description: str | None = wire("Description")
    signature_date: _dt.date | None = wire("SignatureDate")
    cancellation_date: _dt.date | None = wire("CancellationDate")
    first_send: int | None = wire("FirstSend")
    main: int | None = wire("Main")
    payment_type: int | None = wire("PaymentType")
    type: int | None = wire("Type")


# --------------------------------------------------------------------------- system


@attrs.frozen(kw_only=True, repr=False)
class Division(ExactModel):
    """``system/Divisions``: a company (administration) the user may access."""

    code: int | None = wire("Code")
    description: str | None = wire("Description")
    country: str | None = wire("Country", codec=Codec.COUNTRY)
    currency: str | None = wire("Currency")
    legislation: str | None = wire("Legislation", codec=Codec.STRIP)
    hid: str | None = wire("Hid")
    status: DivisionStatus | int | None = wire("Status")
    start_date: _dt.date | None = wire("StartDate")
    division_move_date: _dt.datetime | None = wire("DivisionMoveDate")
    is_main_division: bool | None = wire("IsMainDivision")
    current: bool | None = wire("Current")
    customer: uuid.UUID | None = wire("Customer")
    customer_code: str | None = wire("CustomerCode", codec=Codec.ACCOUNT_CODE)
    customer_name: str | None = wire("CustomerName")
    vat_number: str | None = wire("VATNumber")
    created: _dt.datetime | None = wire("Created")
    modified: _dt.datetime | None = wire("Modified")


@attrs.frozen(kw_only=True, repr=False)
class Me(ExactModel):
    """``current/Me``: the signed-in user (for discovery only; store the division)."""

    user_id: uuid.UUID | None = wire("UserID")
    current_division: int | None = wire("CurrentDivision")
    accounting_division: int | None = wire("AccountingDivision")
    division_customer: uuid.UUID | None = wire("DivisionCustomer")
    division_customer_code: str | None = wire("DivisionCustomerCode", codec=Codec.ACCOUNT_CODE)
    division_customer_name: str | None = wire("DivisionCustomerName")
    division_customer_vat_number: str | None = wire("DivisionCustomerVatNumber")
    email: str | None = wire("Email")
    full_name: str | None = wire("FullName")
    first_name: str | None = wire("FirstName")
    last_name: str | None = wire("LastName")
    user_name: str | None = wire("UserName")
    language_code: str | None = wire("LanguageCode")
    language: str | None = wire("Language")
    legislation: str | None = wire("Legislation", codec=Codec.STRIP)
    server_time: _dt.datetime | None = wire("ServerTime")
    server_utc_offset: int | None = wire("ServerUtcOffset")
    package_code: str | None = wire("PackageCode")
    customer_code: str | None = wire("CustomerCode")
    is_client_user: bool | None = wire("IsClientUser")


@attrs.frozen(kw_only=True, repr=False)
class DeletedRecord(ExactModel):
    """``sync/Deleted``: a deletion (``entity_type`` 2 = Accounts, 5 = Contacts, ...)."""

    id: uuid.UUID | None = wire("ID")
    entity_key: uuid.UUID | None = wire("EntityKey")
    entity_type: int | None = wire("EntityType")
    deleted_by: uuid.UUID | None = wire("DeletedBy")
    deleted_date: _dt.datetime | None = wire("DeletedDate")
    division: int | None = wire("Division")
    timestamp: int | None = wire("Timestamp")


# --------------------------------------------------------------------------- write models


@attrs.frozen(kw_only=True, repr=False)
class NewAccount(WriteModel):
    """A new ``crm/Accounts`` record. ``code`` is padded to 18 characters when sent.

    >>> NewAccount(name="Gym Noord", code="1001", is_sales=True, country="NL").code
    '1001'
    """

    name: str = _required("Name")
    code: str | None = wire("Code", codec=Codec.ACCOUNT_CODE)
    status: str | None = wire("Status")
    is_sales: bool | None = wire("IsSales")
    is_supplier: bool | None = wire("IsSupplier")
    blocked: bool | None = wire("Blocked")
    email: str | None = wire("Email")
    phone: str | None = wire("Phone")
    website: str | None = wire("Website")
    address_line1: str | None = wire("AddressLine1")
    address_line2: str | None = wire("AddressLine2")
    address_line3: str | None = wire("AddressLine3")
    postcode: str | None = wire("Postcode")
    city: str | None = wire("City")
    state: str | None = wire("State")
    country: str | None = wire("Country", codec=Codec.COUNTRY)
    language: str | None = wire("Language")
    main_contact: uuid.UUID | None = wire("MainContact")
    vat_number: str | None = wire("VATNumber")
    chamber_of_commerce: str | None = wire("ChamberOfCommerce")
    sales_vat_code: str | None = wire("SalesVATCode", codec=Codec.VAT_CODE)
    purchase_vat_code: str | None = wire("PurchaseVATCode", codec=Codec.VAT_CODE)
    payment_condition_sales: str | None = wire("PaymentConditionSales")
    payment_condition_purchase: str | None = wire("PaymentConditionPurchase")
    gl_ar: uuid.UUID | None = wire("GLAR")
    gl_account_sales: uuid.UUID | None = wire("GLAccountSales")
    sales_currency: str | None = wire("SalesCurrency")
    credit_line_sales: Decimal | None = wire("CreditLineSales")
    discount_sales: Decimal | None = wire("DiscountSales")
    invoicing_method: int | None = wire("InvoicingMethod")
    invoice_attachment_type: int | None = wire("InvoiceAttachmentType")


@attrs.frozen(kw_only=True, repr=False)
class NewBankAccount(WriteModel):
    """A new ``crm/BankAccounts`` record for an account."""

    account: uuid.UUID = _required("Account")
    bank_account: str = _required("BankAccount")
    bank_account_holder_name: str | None = wire("BankAccountHolderName")
    bic_code: str | None = wire("BICCode")
    description: str | None = wire("Description")
    iban: str | None = wire("IBAN")
    main: bool | None = wire("Main")
    type: str | None = wire("Type")


@attrs.frozen(kw_only=True, repr=False)
class NewContact(WriteModel):
    """A new ``crm/Contacts`` record (give at least a first or last name)."""

    account: uuid.UUID = _required("Account")
    first_name: str | None = wire("FirstName")
    last_name: str | None = wire("LastName")
    middle_name: str | None = wire("MiddleName")
    initials: str | None = wire("Initials")
    title: str | None = wire("Title")
    gender: str | None = wire("Gender")
    language: str | None = wire("Language")
    email: str | None = wire("Email")
    business_email: str | None = wire("BusinessEmail")
    phone: str | None = wire("Phone")
    mobile: str | None = wire("Mobile")
    business_phone: str | None = wire("BusinessPhone")
    job_title_description: str | None = wire("JobTitleDescription")
    is_main_contact: bool | None = wire("IsMainContact")
    notes: str | None = wire("Notes")
    start_date: _dt.date | None = wire("StartDate")
    end_date: _dt.date | None = wire("EndDate")
    address_street: str | None = wire("AddressStreet")
    address_street_number: str | None = wire("AddressStreetNumber")
    address_street_number_suffix: str | None = wire("AddressStreetNumberSuffix")
    address_line2: str | None = wire("AddressLine2")
    postcode: str | None = wire("Postcode")
    city: str | None = wire("City")
    state: str | None = wire("State")
    country: str | None = wire("Country", codec=Codec.COUNTRY)


@attrs.frozen(kw_only=True, repr=False)
class NewSalesEntryLine(WriteModel):
    """A sales entry line: ``amount_fc`` excludes VAT; ``gl_account`` is a revenue account.

    Inside a :class:`NewSalesEntry` leave ``entry_id`` empty; set it only when adding
    a line to an existing entry through ``salesentry/SalesEntryLines``.
    """

    gl_account: uuid.UUID = _required("GLAccount")
    amount_fc: Decimal = _required("AmountFC")
    entry_id: uuid.UUID | None = wire("EntryID")
    description: str | None = wire("Description")
    quantity: Decimal | None = wire("Quantity")
    vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    vat_amount_fc: Decimal | None = wire("VATAmountFC")
    vat_percentage: Decimal | None = wire("VATPercentage")
    cost_center: str | None = wire("CostCenter")
    cost_unit: str | None = wire("CostUnit")
    project: uuid.UUID | None = wire("Project")
    notes: str | None = wire("Notes")
    from_date: _dt.date | None = wire("From")
    to_date: _dt.date | None = wire("To")


@attrs.frozen(kw_only=True, repr=False)
class NewSalesEntry(WriteModel):
    """A new ``salesentry/SalesEntries`` record with its lines (at least one).

    ``journal`` is the journal **code** (``"70"``), not its ID. ``entry_id`` may be
    chosen by the caller (a client-generated GUID). ``type`` is 20 (sales entry) or 21
    (credit note); left out, Exact takes it from the sign of the total. Whether Exact
    keeps a posted 20 on a negative total is not documented: the fake's
    ``sales_entry_type`` option plays both answers.
    """

    customer: uuid.UUID = _required("Customer")
    journal: str = _required("Journal")
    lines: tuple[NewSalesEntryLine, ...] = attrs.field(
        converter=_lines_tuple,
        validator=_nonempty_lines,
        metadata={WIRE: "SalesEntryLines", CODEC: None},
    )
    entry_id: uuid.UUID | None = wire("EntryID")
    type: SalesEntryType | int | None = wire("Type")
    entry_date: _dt.date | None = wire("EntryDate")
    due_date: _dt.date | None = wire("DueDate")
    reporting_period: int | None = wire("ReportingPeriod")
    reporting_year: int | None = wire("ReportingYear")
    description: str | None = wire("Description")
    your_ref: str | None = wire("YourRef")
    invoice_number: int | None = wire("InvoiceNumber")
    entry_number: int | None = wire("EntryNumber")
    payment_condition: str | None = wire("PaymentCondition")
    payment_reference: str | None = wire("PaymentReference")
    currency: str | None = wire("Currency")
    vat_amount_fc: Decimal | None = wire("VATAmountFC")
    document: uuid.UUID | None = wire("Document")
    order_number: int | None = wire("OrderNumber")
    reversal: bool | None = wire("Reversal")
    external_link_reference: str | None = wire("ExternalLinkReference")


@attrs.frozen(kw_only=True, repr=False)
class NewBankEntryLine(WriteModel):
    """A bank statement line (``our_ref``: the invoice number this line pays)."""

    gl_account: uuid.UUID = _required("GLAccount")
    amount_fc: Decimal = _required("AmountFC")
    entry_id: uuid.UUID | None = wire("EntryID")
    date: _dt.date | None = wire("Date")
    description: str | None = wire("Description")
    account: uuid.UUID | None = wire("Account")
    our_ref: int | None = wire("OurRef")
    notes: str | None = wire("Notes")
    document: uuid.UUID | None = wire("Document")
    amount_vat_fc: Decimal | None = wire("AmountVATFC")
    vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    cost_center: str | None = wire("CostCenter")
    cost_unit: str | None = wire("CostUnit")
    project: uuid.UUID | None = wire("Project")
    quantity: Decimal | None = wire("Quantity")


@attrs.frozen(kw_only=True, repr=False)
class NewBankEntry(WriteModel):
    """A new ``financialtransaction/BankEntries`` record with its lines (at least one)."""

    journal_code: str = _required("JournalCode")
    lines: tuple[NewBankEntryLine, ...] = attrs.field(
        converter=_lines_tuple,
        validator=_nonempty_lines,
        metadata={WIRE: "BankEntryLines", CODEC: None},
    )
    entry_id: uuid.UUID | None = wire("EntryID")
    currency: str | None = wire("Currency")
    financial_year: int | None = wire("FinancialYear")
    financial_period: int | None = wire("FinancialPeriod")
    opening_balance_fc: Decimal | None = wire("OpeningBalanceFC")
    closing_balance_fc: Decimal | None = wire("ClosingBalanceFC")
    bank_statement_document: uuid.UUID | None = wire("BankStatementDocument")


@attrs.frozen(kw_only=True, repr=False)
class NewGeneralJournalEntryLine(WriteModel):
    """A memorial line; ``vat_code`` only for journals that allow VAT."""

    gl_account: uuid.UUID = _required("GLAccount")
    amount_fc: Decimal | None = wire("AmountFC")
    entry_id: uuid.UUID | None = wire("EntryID")
    amount_vat_fc: Decimal | None = wire("AmountVATFC")
    vat_code: str | None = wire("VATCode", codec=Codec.VAT_CODE)
    account: uuid.UUID | None = wire("Account")
    date: _dt.date | None = wire("Date")
    description: str | None = wire("Description")
    our_ref: int | None = wire("OurRef")
    notes: str | None = wire("Notes")
    cost_center: str | None = wire("CostCenter")
    cost_unit: str | None = wire("CostUnit")
    project: uuid.UUID | None = wire("Project")
    quantity: Decimal | None = wire("Quantity")
    document: uuid.UUID | None = wire("Document")


@attrs.frozen(kw_only=True, repr=False)
class NewGeneralJournalEntry(WriteModel):
    """A new ``generaljournalentry/GeneralJournalEntries`` record with its lines."""

    journal_code: str = _required("JournalCode")
    lines: tuple[NewGeneralJournalEntryLine, ...] = attrs.field(
        converter=_lines_tuple,
        validator=_nonempty_lines,
        metadata={WIRE: "GeneralJournalEntryLines", CODEC: None},
    )
    entry_id: uuid.UUID | None = wire("EntryID")
    financial_year: int | None = wire("FinancialYear")
    financial_period: int | None = wire("FinancialPeriod")
    currency: str | None = wire("Currency")
    exchange_rate: Decimal | None = wire("ExchangeRate")
    reversal: bool | None = wire("Reversal")


@attrs.frozen(kw_only=True, repr=False)
class NewDocument(WriteModel):
    """A new ``documents/Documents`` record (``type`` 10 is "Sales invoice")."""

    subject: str = _required("Subject")
    type: int = _required("Type")
    account: uuid.UUID | None = wire("Account")
    document_date: _dt.date | None = wire("DocumentDate")
    category: uuid.UUID | None = wire("Category")
    document_folder: uuid.UUID | None = wire("DocumentFolder")
    body: str | None = wire("Body")
    amount_fc: Decimal | None = wire("AmountFC")
    currency: str | None = wire("Currency")
    financial_transaction_entry_id: uuid.UUID | None = wire("FinancialTransactionEntryID")
    sales_invoice_number: int | None = wire("SalesInvoiceNumber")
    language: str | None = wire("Language")


@attrs.frozen(kw_only=True, repr=False)
class NewDocumentAttachment(WriteModel):
    """A file for a document: give the raw bytes, they are sent base64-encoded."""

    document: uuid.UUID = _required("Document")
    file_name: str = _required("FileName")
    attachment: bytes = _required("Attachment", repr=False)


@attrs.frozen(kw_only=True, repr=False)
class NewCostCenter(WriteModel):
    """A new ``hrm/Costcenters`` record (the code cannot be changed later)."""

    code: str = _required("Code")
    description: str = _required("Description")
    active: bool | None = wire("Active")
    end_date: _dt.date | None = wire("EndDate")


@attrs.frozen(kw_only=True, repr=False)
class NewCostUnit(WriteModel):
    """A new ``hrm/Costunits`` record (the code cannot be changed later)."""

    code: str = _required("Code")
    description: str = _required("Description")
    active: bool | None = wire("Active")
    end_date: _dt.date | None = wire("EndDate")


@attrs.frozen(kw_only=True, repr=False)
class NewDirectDebitMandate(WriteModel):
    """A new ``cashflow/DirectDebitMandates`` record."""

    account: uuid.UUID = _required("Account")
    bank_account: uuid.UUID = _required("BankAccount")
    reference: str = _required("Reference")
    description: str | None = wire("Description")
    signature_date: _dt.date | None = wire("SignatureDate")
    cancellation_date: _dt.date | None = wire("CancellationDate")
    first_send: int | None = wire("FirstSend")
    main: int | None = wire("Main")
    payment_type: int | None = wire("PaymentType")
    type: int | None = wire("Type")


@attrs.frozen(kw_only=True, repr=False)
class NewJournal(WriteModel):
    """A new ``financial/Journals`` record."""

    code: str = _required("Code")
    type: JournalType | int = _required("Type")
    description: str | None = wire("Description")
    gl_account: uuid.UUID | None = wire("GLAccount")
    currency: str | None = wire("Currency")
    allow_variable_currency: bool | None = wire("AllowVariableCurrency")
    allow_vat: bool | None = wire("AllowVAT")
    bank_account_including_mask: str | None = wire("BankAccountIncludingMask")
    payment_service_provider: int | None = wire("PaymentServiceProvider")
