"""The catalogue of entity sets the fake Exact Online serves.

Each entity is described once as a list of fields; the CRUD, ``bulk/`` and ``sync/``
endpoints of the same entity share one table and differ only in kind, verbs and (for
``sync/``) the ``Timestamp`` column. Field names, Edm types, required and read-only
markers follow the reference (``docs/testing-exact-entities.md`` lists them).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from exactbridge.testing._exact.schema import EdmType, EntitySet, Field, SetKind

__all__ = [
    "CHILD_LINKS",
    "DELETED_ENTITY_TYPES",
    "build_catalog",
]

S = EdmType.STRING
I16 = EdmType.INT16
I32 = EdmType.INT32
I64 = EdmType.INT64
BYTE = EdmType.BYTE
D = EdmType.DOUBLE
B = EdmType.BOOLEAN
G = EdmType.GUID
DT = EdmType.DATETIME
BIN = EdmType.BINARY

_M = "Exact.Web.Api.Models."

_ALL = frozenset({"GET", "POST", "PUT", "DELETE"})
_GET = frozenset({"GET"})
_GP = frozenset({"GET", "POST"})
_GPD = frozenset({"GET", "POST", "DELETE"})
_GU = frozenset({"GET", "PUT"})

# (parent table, navigation property) -> (child table, foreign-key field in the child)
CHILD_LINKS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("Accounts", "BankAccounts"): ("BankAccounts", "Account"),
    ("SalesEntries", "SalesEntryLines"): ("SalesEntryLines", "EntryID"),
    ("BankEntries", "BankEntryLines"): ("BankEntryLines", "EntryID"),
    ("GeneralJournalEntries", "GeneralJournalEntryLines"): ("GeneralJournalEntryLines", "EntryID"),
    ("Transactions", "TransactionLines"): ("TransactionLines", "EntryID"),
}

# table -> EntityType number served by sync/Deleted (only the numbers the reference documents)
DELETED_ENTITY_TYPES: Mapping[str, int] = {
    "TransactionLines": 1,
    "Accounts": 2,
    "DocumentAttachments": 4,
    "Contacts": 5,
    "Documents": 6,
    "GLAccounts": 7,
    "Receivables": 10,  # a receivable is a payment term (sync/Cashflow/PaymentTerms)
    "BankAccounts": 48,
}


def _f(name: str, type_: EdmType, flags: str = "") -> Field:
    """Build a field; ``flags`` holds ``r`` (required), ``o`` (read-only), ``p`` (POST-only)."""
    return Field(name, type_, required="r" in flags, read_only="o" in flags, post_only="p" in flags)


def _audit() -> list[Field]:
    return [
        _f("Created", DT, "o"),
        _f("Creator", G, "o"),
        _f("CreatorFullName", S, "o"),
        _f("Modified", DT, "o"),
        _f("Modifier", G, "o"),
        _f("ModifierFullName", S, "o"),
        _f("Division", I32, "o"),
    ]


def _fields(items: Iterable[Field], *, audit: bool = True) -> dict[str, Field]:
    result = {f.name: f for f in items}
    if audit:
        for f in _audit():
            result.setdefault(f.name, f)
    return result


def _with_timestamp(fields: Mapping[str, Field]) -> dict[str, Field]:
    result = dict(fields)
    result["Timestamp"] = _f("Timestamp", I64, "o")
    return result


_ACCOUNT = _fields(
    [
        _f("ID", G, "o"),
        _f("Code", S, "p"),
        _f("Name", S, "r"),
        _f("Status", S),
        _f("IsSales", B),
        _f("IsSupplier", B),
        _f("IsPurchase", B, "o"),
        _f("Blocked", B),
        _f("Type", S, "o"),
        _f("Email", S),
        _f("Phone", S),
        _f("PhoneExtension", S),
        _f("Fax", S),
        _f("Website", S),
        _f("AddressLine1", S),
        _f("AddressLine2", S),
        _f("AddressLine3", S),
        _f("Postcode", S),
        _f("City", S),
        _f("State", S),
        _f("Country", S),
        _f("CountryName", S, "o"),
        _f("Language", S),
        _f("MainContact", G),
        _f("VATNumber", S),
        _f("ChamberOfCommerce", S),
        _f("VATLiability", S),
        _f("RSIN", S),
        _f("BSN", S),
        _f("OINNumber", S),
        _f("EORINumber", S),
        _f("GlnNumber", S),
        _f("PeppolIdentifier", S),
        _f("PeppolIdentifierType", I32),
        _f("UniqueTaxpayerReference", S),
        _f("DatevDebtorCode", S),
        _f("DatevCreditorCode", S),
        _f("SalesVATCode", S),
        _f("PurchaseVATCode", S),
        _f("PaymentConditionSales", S),
        _f("PaymentConditionPurchase", S),
        _f("GLAR", G),
        _f("GLAP", G),
        _f("GLAccountSales", G),
        _f("GLAccountPurchase", G),
        _f("SalesCurrency", S),
        _f("PurchaseCurrency", S),
        _f("CreditLineSales", D),
        _f("DiscountSales", D),
        _f("InvoicingMethod", I32),
        _f("InvoiceAttachmentType", I32),
    ]
)

_BANK_ACCOUNT = _fields(
    [
        _f("ID", G, "o"),
        _f("Account", G, "r"),
        _f("AccountName", S, "o"),
        _f("BankAccount", S, "r"),
        _f("BankAccountHolderName", S),
        _f("BICCode", S),
        _f("Description", S),
        _f("IBAN", S),
        _f("Main", B),
        _f("Type", S),
        _f("TypeDescription", S, "o"),
    ]
)

_CONTACT = _fields(
    [
        _f("ID", G, "o"),
        _f("Account", G, "r"),
        _f("AccountName", S, "o"),
        _f("AccountIsCustomer", B, "o"),
        _f("AccountIsSupplier", B, "o"),
        _f("FirstName", S),
        _f("LastName", S),
        _f("MiddleName", S),
        _f("Initials", S),
        _f("Title", S),
        _f("FullName", S, "o"),
        _f("Gender", S),
        _f("Language", S),
        _f("Email", S),
        _f("BusinessEmail", S),
        _f("Phone", S),
        _f("Mobile", S),
        _f("BusinessPhone", S),
        _f("JobTitleDescription", S),
        _f("IsMainContact", B),
        _f("IsAnonymised", BYTE, "o"),
        _f("Notes", S),
        _f("StartDate", DT),
        _f("EndDate", DT),
        _f("HID", I32, "o"),
        _f("AddressStreet", S),
        _f("AddressStreetNumber", S),
        _f("AddressStreetNumberSuffix", S),
        _f("AddressLine2", S),
        _f("Postcode", S),
        _f("City", S),
        _f("State", S),
        _f("Country", S),
    ]
)

_JOURNAL = _fields(
    [
        _f("ID", G, "o"),
        _f("Code", S, "rp"),
        _f("Description", S),
        _f("Type", I32, "r"),
        _f("GLAccount", G),
        _f("GLAccountCode", S, "o"),
        _f("GLAccountDescription", S, "o"),
        _f("GLAccountType", I32, "o"),
        _f("Currency", S),
        _f("AllowVariableCurrency", B),
        _f("AllowVariableExchangeRate", B),
        _f("AllowVAT", B),
        _f("AutoSave", B),
        _f("IsBlocked", B),
        _f("Bank", G),
        _f("BankAccountID", G),
        _f("BankAccountIncludingMask", S),
        _f("BankAccountIBAN", S, "o"),
        _f("BankAccountBICCode", S, "o"),
        _f("BankName", S, "o"),
        _f("PaymentInTransitAccount", G),
        _f("PaymentServiceProvider", I32),
    ]
)

_VAT_CODE = _fields(
    [
        _f("ID", G, "o"),
        _f("Code", S, "rp"),
        _f("Description", S, "r"),
        # Read-only in Exact (it comes from vat/VatPercentages); the fake accepts it on
        # POST so that seeds and tests can create codes through the API path.
        _f("Percentage", D, "p"),
        _f("Type", S),
        _f("VATTransactionType", S),
        _f("Charged", B),
        _f("GLToPay", G),
        _f("GLToPayCode", S, "o"),
        _f("GLToPayDescription", S, "o"),
        _f("GLToClaim", G),
        _f("GLToClaimCode", S, "o"),
        _f("GLToClaimDescription", S, "o"),
        _f("EUSalesListing", S),
        _f("IsBlocked", B),
        _f("LegalText", S),
        _f("CalculationBasis", I16),
        _f("ExcludeVATListing", BYTE),
        _f("IntraStat", B),
        _f("TaxReturnType", I16),
        _f("VatDocType", S),
        _f("VatMargin", BYTE),
        _f("VATPartialRatio", I16),
        _f("Account", G),
        _f("AccountCode", S, "o"),
        _f("AccountName", S, "o"),
    ]
)

_GL_ACCOUNT = _fields(
    [
        _f("ID", G, "o"),
        _f("Code", S, "rp"),
        _f("Description", S, "r"),
        _f("SearchCode", S),
        _f("BalanceSide", S),
        _f("BalanceType", S),
        _f("Type", I32),
        _f("TypeDescription", S, "o"),
        _f("VATCode", S),
        _f("VATDescription", S, "o"),
        _f("UseCostcenter", BYTE),
        _f("UseCostunit", BYTE),
        _f("Costcenter", S),
        _f("CostcenterDescription", S, "o"),
        _f("Costunit", S),
        _f("CostunitDescription", S, "o"),
        _f("IsBlocked", B),
        _f("Matching", B),
    ]
)

_FINANCIAL_PERIOD = _fields(
    [
        _f("ID", G, "o"),
        _f("FinYear", I16, "o"),
        _f("FinPeriod", I16, "o"),
        _f("StartDate", DT, "o"),
        _f("EndDate", DT, "o"),
    ]
)

_COST_CENTER = _fields(
    [
        _f("ID", G, "o"),
        _f("Code", S, "rp"),
        _f("Description", S, "r"),
        _f("Active", B),
        _f("EndDate", DT),
    ]
)

_PROJECT = _fields(
    [
        _f("ID", G, "o"),
        _f("Code", S, "rp"),
        _f("Description", S, "r"),
        _f("Type", I32),
        _f("TypeDescription", S, "o"),
        _f("Account", G),
        _f("StartDate", DT),
        _f("EndDate", DT),
    ]
)

_DOCUMENT = _fields(
    [
        _f("ID", G, "o"),
        _f("Subject", S, "r"),
        _f("Type", I32, "r"),
        _f("TypeDescription", S, "o"),
        _f("Account", G),
        _f("AccountCode", S, "o"),
        _f("AccountName", S, "o"),
        _f("DocumentDate", DT),
        _f("Category", G),
        _f("CategoryDescription", S, "o"),
        _f("DocumentFolder", G),
        _f("Body", S),
        _f("AmountFC", D),
        _f("Currency", S),
        _f("FinancialTransactionEntryID", G),
        _f("SalesInvoiceNumber", I32),
        _f("Language", S),
        _f("DocumentViewUrl", S, "o"),
        _f("HasEmptyBody", B, "o"),
        _f("HID", I32, "o"),
    ]
)

_ATTACHMENT = _fields(
    [
        _f("ID", G, "o"),
        _f("Attachment", BIN, "r"),
        _f("Document", G, "r"),
        _f("FileName", S, "r"),
        _f("FileSize", D, "o"),
        _f("Url", S, "o"),
    ]
)

_SALES_ENTRY = _fields(
    [
        _f("EntryID", G),
        _f("Customer", G, "r"),
        _f("CustomerName", S, "o"),
        _f("Journal", S, "rp"),
        _f("JournalDescription", S, "o"),
        _f("EntryDate", DT),
        _f("DueDate", DT),
        _f("ReportingPeriod", I16),
        _f("ReportingYear", I16),
        _f("Description", S),
        _f("YourRef", S),
        _f("InvoiceNumber", I32),
        _f("EntryNumber", I32, "p"),
        _f("PaymentCondition", S),
        _f("PaymentConditionDescription", S, "o"),
        _f("PaymentConditionPaymentMethod", S, "o"),
        _f("PaymentReference", S),
        _f("Currency", S, "p"),
        _f("Rate", D, "p"),
        _f("AmountDC", D, "o"),
        _f("AmountFC", D, "o"),
        _f("VATAmountDC", D, "o"),
        _f("VATAmountFC", D, "p"),
        _f("Document", G),
        _f("DocumentNumber", I32, "o"),
        _f("DocumentSubject", S, "o"),
        _f("OrderNumber", I32),
        _f("BatchNumber", I32),
        _f("Reversal", B, "p"),
        _f("GAccountAmountFC", D),
        _f("IsExtraDuty", B),
        _f("ExternalLinkReference", S),
        _f("ExternalLinkDescription", S),
        _f("ProcessNumber", I32),
        _f("Status", I16, "o"),
        _f("StatusDescription", S, "o"),
        # Writable: 20 sales entry, 21 credit note (see rules_entries.sales_entry_type).
        _f("Type", I32),
        _f("TypeDescription", S, "o"),
    ]
)

_SALES_ENTRY_LINE = _fields(
    [
        _f("ID", G, "o"),
        _f("EntryID", G, "p"),
        _f("LineNumber", I32, "o"),
        _f("AmountFC", D, "r"),
        _f("AmountDC", D, "o"),
        _f("GLAccount", G, "r"),
        _f("GLAccountCode", S, "o"),
        _f("GLAccountDescription", S, "o"),
        _f("Description", S),
        _f("Quantity", D),
        _f("VATCode", S),
        _f("VATCodeDescription", S, "o"),
        _f("VATPercentage", D),
        _f("VATAmountFC", D),
        _f("VATAmountDC", D, "o"),
        _f("VATBaseAmountFC", D),
        _f("VATBaseAmountDC", D),
        _f("CostCenter", S),
        _f("CostCenterDescription", S, "o"),
        _f("CostUnit", S),
        _f("CostUnitDescription", S, "o"),
        _f("Project", G),
        _f("ProjectDescription", S, "o"),
        _f("ProjectWBS", G),
        _f("Asset", G),
        _f("Notes", S),
        _f("From", DT),
        _f("To", DT),
        _f("SerialNumber", S),
        _f("TrackingNumber", G),
        _f("Subscription", G),
        _f("TaxSchedule", G),
        _f("ExtraDutyAmountFC", D),
        _f("ExtraDutyPercentage", D),
        _f("IntraStatArea", S),
        _f("IntraStatCountry", S),
        _f("IntraStatDeliveryTerm", S),
        _f("IntraStatTransactionA", S),
        _f("IntraStatTransactionB", S),
        _f("IntraStatTransportMethod", S),
        _f("StatisticalNetWeight", D),
        _f("StatisticalNumber", S),
        _f("StatisticalQuantity", D),
        _f("StatisticalValue", D),
        _f("Type", I32, "o"),
    ]
)

_BANK_ENTRY = _fields(
    [
        _f("EntryID", G),
        _f("JournalCode", S, "r"),
        _f("JournalDescription", S, "o"),
        _f("Currency", S),
        _f("FinancialYear", I16),
        _f("FinancialPeriod", I16),
        _f("OpeningBalanceFC", D),
        _f("ClosingBalanceFC", D),
        _f("EntryNumber", I32),
        _f("BankStatementDocument", G),
        _f("BankStatementDocumentNumber", I32, "o"),
        _f("BankStatementDocumentSubject", S, "o"),
        _f("Status", I16, "o"),
        _f("StatusDescription", S, "o"),
    ]
)

_BANK_ENTRY_LINE = _fields(
    [
        _f("ID", G, "o"),
        _f("EntryID", G),
        _f("LineNumber", I32, "o"),
        _f("EntryNumber", I32, "o"),
        _f("Date", DT),
        _f("AmountFC", D, "r"),
        _f("AmountDC", D, "o"),
        _f("GLAccount", G, "r"),
        _f("GLAccountCode", S, "o"),
        _f("GLAccountDescription", S, "o"),
        _f("Account", G),
        _f("AccountCode", S, "o"),
        _f("AccountName", S, "o"),
        _f("Description", S),
        _f("OurRef", I32),
        _f("Notes", S),
        _f("Document", G),
        _f("AmountVATFC", D),
        _f("VATCode", S),
        _f("VATPercentage", D),
        _f("VATType", S),
        _f("CostCenter", S),
        _f("CostUnit", S),
        _f("Project", G),
        _f("ProjectWBS", G),
        _f("Asset", G),
        _f("Quantity", D),
        _f("ExchangeRate", D),
        _f("OffsetID", G, "o"),
    ]
)

_GJ_ENTRY = _fields(
    [
        _f("EntryID", G),
        _f("JournalCode", S, "r"),
        _f("JournalDescription", S, "o"),
        _f("FinancialYear", I16),
        _f("FinancialPeriod", I16),
        _f("Currency", S),
        _f("ExchangeRate", D),
        _f("Reversal", B),
        _f("EntryNumber", I32),
        _f("Type", I32, "o"),
        _f("TypeDescription", S, "o"),
        _f("Status", I16, "o"),
        _f("StatusDescription", S, "o"),
    ]
)

_GJ_ENTRY_LINE = _fields(
    [
        _f("ID", G, "o"),
        _f("EntryID", G),
        _f("LineNumber", I32, "o"),
        _f("GLAccount", G, "r"),
        _f("GLAccountCode", S, "o"),
        _f("GLAccountDescription", S, "o"),
        _f("AmountFC", D),
        _f("AmountDC", D, "o"),
        _f("AmountVATFC", D),
        _f("VATCode", S),
        _f("VATPercentage", D, "o"),
        _f("VATType", S, "o"),
        _f("Account", G),
        _f("AccountCode", S, "o"),
        _f("AccountName", S, "o"),
        _f("Date", DT),
        _f("Description", S),
        _f("OurRef", I32),
        _f("Notes", S),
        _f("CostCenter", S),
        _f("CostUnit", S),
        _f("Project", G),
        _f("Quantity", D),
        _f("Document", G),
    ]
)

_RECEIVABLES_LIST = _fields(
    [
        _f("HID", I64, "o"),
        _f("Id", G, "o"),
        _f("AccountId", G, "o"),
        _f("AccountCode", S, "o"),
        _f("AccountName", S, "o"),
        _f("Amount", D, "o"),
        _f("AmountInTransit", D, "o"),
        _f("CurrencyCode", S, "o"),
        _f("Description", S, "o"),
        _f("DueDate", DT, "o"),
        _f("EntryNumber", I32, "o"),
        _f("InvoiceDate", DT, "o"),
        _f("InvoiceNumber", I32, "o"),
        _f("JournalCode", S, "o"),
        _f("JournalDescription", S, "o"),
        _f("YourRef", S, "o"),
        _f("Notes", S, "o"),
    ],
    audit=False,
)

_RECEIVABLE = _fields(
    [
        _f("ID", G, "o"),
        _f("Account", G, "o"),
        _f("AccountCode", S, "o"),
        _f("AccountName", S, "o"),
        _f("AmountDC", D, "o"),
        _f("AmountFC", D, "o"),
        _f("Currency", S, "o"),
        _f("Description", S),
        _f("DueDate", DT, "o"),
        _f("EndDate", DT, "o"),
        _f("EndPeriod", I16, "o"),
        _f("EndYear", I16, "o"),
        _f("EntryDate", DT, "o"),
        _f("EntryNumber", I32, "o"),
        _f("GLAccount", G, "o"),
        _f("GLAccountCode", S, "o"),
        _f("GLAccountDescription", S, "o"),
        _f("InvoiceDate", DT, "o"),
        _f("InvoiceNumber", I32, "o"),
        _f("IsFullyPaid", B, "o"),
        _f("Journal", S, "o"),
        _f("JournalDescription", S, "o"),
        _f("LastPaymentDate", DT, "o"),
        _f("PaymentCondition", S, "o"),
        _f("PaymentConditionDescription", S, "o"),
        _f("PaymentMethod", S),
        _f("PaymentReference", S),
        _f("Status", I16, "o"),
        _f("TransactionEntryID", G, "o"),
        _f("TransactionID", G, "o"),
        _f("TransactionIsReversal", B, "o"),
        _f("TransactionReportingPeriod", I16, "o"),
        _f("TransactionReportingYear", I16, "o"),
        _f("TransactionStatus", I16, "o"),
        _f("TransactionType", I32, "o"),
        _f("YourRef", S, "o"),
    ]
)

_PAYMENT_CONDITION = _fields(
    [
        _f("ID", G, "o"),
        _f("Code", S, "r"),
        _f("Description", S, "r"),
        _f("PaymentDays", I32),
        _f("PaymentEndOfMonths", I32),
        _f("DiscountPercentage", D),
        _f("DiscountPaymentDays", I32),
        _f("PaymentMethod", S),
    ]
)

_MANDATE = _fields(
    [
        _f("ID", G, "o"),
        _f("Account", G, "r"),
        _f("AccountName", S, "o"),
        _f("BankAccount", G, "r"),
        _f("BankAccountNumber", S, "o"),
        _f("Reference", S, "r"),
        _f("Description", S),
        _f("SignatureDate", DT),
        _f("CancellationDate", DT),
        _f("FirstSend", BYTE),
        _f("Main", BYTE),
        _f("PaymentType", BYTE),
        _f("Type", BYTE),
    ]
)

_TRANSACTION = _fields(
    [
        _f("EntryID", G, "o"),
        _f("Date", DT, "o"),
        _f("Description", S, "o"),
        _f("EntryNumber", I32, "o"),
        _f("FinancialPeriod", I16, "o"),
        _f("FinancialYear", I16, "o"),
        _f("JournalCode", S, "o"),
        _f("JournalDescription", S, "o"),
        _f("OpeningBalanceFC", D, "o"),
        _f("ClosingBalanceFC", D, "o"),
        _f("PaymentConditionCode", S, "o"),
        _f("PaymentConditionDescription", S, "o"),
        _f("PaymentReference", S, "o"),
        _f("Status", I16, "o"),
        _f("StatusDescription", S, "o"),
        _f("Type", I32, "o"),
        _f("TypeDescription", S, "o"),
    ]
)

_TRANSACTION_LINE = _fields(
    [
        _f("ID", G, "o"),
        _f("EntryID", G, "o"),
        _f("EntryNumber", I32, "o"),
        _f("LineNumber", I32, "o"),
        _f("Date", DT, "o"),
        _f("FinancialPeriod", I16, "o"),
        _f("FinancialYear", I16, "o"),
        _f("JournalCode", S, "o"),
        _f("JournalDescription", S, "o"),
        _f("GLAccount", G, "o"),
        _f("GLAccountCode", S, "o"),
        _f("GLAccountDescription", S, "o"),
        _f("Account", G, "o"),
        _f("AccountCode", S, "o"),
        _f("AccountName", S, "o"),
        _f("AmountDC", D, "o"),
        _f("AmountFC", D, "o"),
        _f("AmountVATBaseFC", D, "o"),
        _f("AmountVATFC", D, "o"),
        _f("Currency", S, "o"),
        _f("ExchangeRate", D, "o"),
        _f("Description", S, "o"),
        _f("DueDate", DT, "o"),
        _f("InvoiceNumber", I32, "o"),
        _f("YourRef", S, "o"),
        _f("PaymentReference", S, "o"),
        _f("VATCode", S, "o"),
        _f("VATCodeDescription", S, "o"),
        _f("VATPercentage", D, "o"),
        _f("VATType", S, "o"),
        _f("CostCenter", S, "o"),
        _f("CostCenterDescription", S, "o"),
        _f("CostUnit", S, "o"),
        _f("CostUnitDescription", S, "o"),
        _f("Document", G, "o"),
        _f("Notes", S, "o"),
        _f("Status", I16, "o"),
        _f("Type", I32, "o"),
    ]
)

_DELETED = _fields(
    [
        _f("ID", G, "o"),
        _f("EntityKey", G, "o"),
        _f("EntityType", I32, "o"),
        _f("DeletedBy", G, "o"),
        _f("DeletedDate", DT, "o"),
        _f("Division", I32, "o"),
        _f("Timestamp", I64, "o"),
    ],
    audit=False,
)

_DIVISION = _fields(
    [
        _f("Code", I32, "o"),
        _f("Description", S, "o"),
        _f("Country", S, "o"),
        _f("Currency", S, "o"),
        _f("Legislation", S, "o"),
        _f("Hid", S, "o"),
        _f("Status", I16, "o"),
        _f("StartDate", DT, "o"),
        _f("DivisionMoveDate", DT, "o"),
        _f("IsMainDivision", B, "o"),
        _f("Current", B, "o"),
        _f("Customer", G, "o"),
        _f("VATNumber", S, "o"),
        _f("Created", DT, "o"),
        _f("Modified", DT, "o"),
    ],
    audit=False,
)

_ME = _fields(
    [
        _f("UserID", G, "o"),
        _f("CurrentDivision", I32, "o"),
        _f("AccountingDivision", I32, "o"),
        _f("DivisionCustomer", G, "o"),
        _f("DivisionCustomerCode", S, "o"),
        _f("DivisionCustomerName", S, "o"),
        _f("DivisionCustomerVatNumber", S, "o"),
        _f("Email", S, "o"),
        _f("FullName", S, "o"),
        _f("FirstName", S, "o"),
        _f("LastName", S, "o"),
        _f("UserName", S, "o"),
        _f("LanguageCode", S, "o"),
        _f("Language", S, "o"),
        _f("Legislation", S, "o"),
        _f("ServerTime", S, "o"),
        _f("ServerUtcOffset", I32, "o"),
        _f("PackageCode", S, "o"),
        _f("CustomerCode", S, "o"),
        _f("IsClientUser", B, "o"),
    ],
    audit=False,
)


def build_catalog() -> list[EntitySet]:
    """Return every entity set of the fake, canonical paths in Exact's casing."""
    sets: list[EntitySet] = []

    def add(
        path: str,
        table: str,
        key: str,
        type_name: str,
        fields: Mapping[str, Field],
        verbs: frozenset[str] = _GET,
        kind: SetKind = SetKind.CRUD,
        children: Mapping[str, str] | None = None,
        **extra: object,
    ) -> None:
        sets.append(
            EntitySet(
                path=path,
                table=table,
                key=key,
                type_name=_M + type_name,
                fields=fields,
                verbs=verbs,
                kind=kind,
                children=dict(children or {}),
                **extra,  # type: ignore[arg-type]
            )
        )

    account_filter = frozenset(
        {
            "ID",
            "Code",
            "Name",
            "Email",
            "City",
            "Country",
            "Postcode",
            "Status",
            "Type",
            "VATNumber",
            "ChamberOfCommerce",
            "IsSales",
            "IsSupplier",
            "Blocked",
            "AddressLine1",
            "Phone",
            "Modified",
            "Created",
        }
    )
    add(
        "crm/Accounts",
        "Accounts",
        "ID",
        "Account",
        _ACCOUNT,
        _ALL,
        children={"BankAccounts": "crm/BankAccounts"},
        mandatory_filter_fields=account_filter,
    )
    add("bulk/CRM/Accounts", "Accounts", "ID", "Account", _ACCOUNT, kind=SetKind.BULK)
    add(
        "sync/CRM/Accounts",
        "Accounts",
        "ID",
        "Account",
        _with_timestamp(_ACCOUNT),
        kind=SetKind.SYNC,
    )
    add("crm/BankAccounts", "BankAccounts", "ID", "BankAccount", _BANK_ACCOUNT, _ALL)
    add("crm/Contacts", "Contacts", "ID", "Contact", _CONTACT, _ALL)
    add("bulk/CRM/Contacts", "Contacts", "ID", "Contact", _CONTACT, kind=SetKind.BULK)
    add(
        "sync/CRM/Contacts",
        "Contacts",
        "ID",
        "Contact",
        _with_timestamp(_CONTACT),
        kind=SetKind.SYNC,
    )
    add(
        "salesentry/SalesEntries",
        "SalesEntries",
        "EntryID",
        "SalesEntry",
        _SALES_ENTRY,
        _ALL,
        children={"SalesEntryLines": "salesentry/SalesEntryLines"},
    )
    add(
        "salesentry/SalesEntryLines",
        "SalesEntryLines",
        "ID",
        "SalesEntryLine",
        _SALES_ENTRY_LINE,
        _ALL,
    )
    add("financial/Journals", "Journals", "ID", "Journal", _JOURNAL, _ALL)
    add("vat/VATCodes", "VATCodes", "ID", "VATCode", _VAT_CODE, _ALL)
    add("financial/GLAccounts", "GLAccounts", "ID", "GLAccount", _GL_ACCOUNT, _ALL)
    add(
        "bulk/Financial/GLAccounts",
        "GLAccounts",
        "ID",
        "GLAccount",
        _GL_ACCOUNT,
        kind=SetKind.BULK,
    )
    add(
        "sync/Financial/GLAccounts",
        "GLAccounts",
        "ID",
        "GLAccount",
        _with_timestamp(_GL_ACCOUNT),
        kind=SetKind.SYNC,
    )
    add(
        "financial/FinancialPeriods",
        "FinancialPeriods",
        "ID",
        "FinancialPeriod",
        _FINANCIAL_PERIOD,
    )
    add("hrm/Costcenters", "Costcenters", "ID", "Costcenter", _COST_CENTER, _ALL)
    add("hrm/Costunits", "Costunits", "ID", "Costunit", _COST_CENTER, _ALL)
    add("project/Projects", "Projects", "ID", "Project", _PROJECT, _ALL)
    add("documents/Documents", "Documents", "ID", "Document", _DOCUMENT, _ALL)
    add(
        "bulk/Documents/Documents",
        "Documents",
        "ID",
        "Document",
        _DOCUMENT,
        kind=SetKind.BULK,
    )
    add(
        "sync/Documents/Documents",
        "Documents",
        "ID",
        "Document",
        _with_timestamp(_DOCUMENT),
        kind=SetKind.SYNC,
    )
    add(
        "documents/DocumentAttachments",
        "DocumentAttachments",
        "ID",
        "DocumentAttachment",
        _ATTACHMENT,
        _GPD,
    )
    add(
        "bulk/Documents/DocumentAttachments",
        "DocumentAttachments",
        "ID",
        "DocumentAttachment",
        _ATTACHMENT,
        kind=SetKind.BULK,
    )
    add(
        "sync/Documents/DocumentAttachments",
        "DocumentAttachments",
        "ID",
        "DocumentAttachment",
        _with_timestamp(_ATTACHMENT),
        kind=SetKind.SYNC,
    )
    add(
        "financialtransaction/BankEntries",
        "BankEntries",
        "EntryID",
        "BankEntry",
        _BANK_ENTRY,
        _GPD,
        children={"BankEntryLines": "financialtransaction/BankEntryLines"},
    )
    add(
        "financialtransaction/BankEntryLines",
        "BankEntryLines",
        "ID",
        "BankEntryLine",
        _BANK_ENTRY_LINE,
        _GP,
    )
    add(
        "generaljournalentry/GeneralJournalEntries",
        "GeneralJournalEntries",
        "EntryID",
        "GeneralJournalEntry",
        _GJ_ENTRY,
        _GPD,
        children={"GeneralJournalEntryLines": "generaljournalentry/GeneralJournalEntryLines"},
        requires_select_or_top=True,
    )
    add(
        "generaljournalentry/GeneralJournalEntryLines",
        "GeneralJournalEntryLines",
        "ID",
        "GeneralJournalEntryLine",
        _GJ_ENTRY_LINE,
        _GP,
    )
    add(
        "read/financial/ReceivablesList",
        "ReceivablesList",
        "HID",
        "Financial.ReceivablesList",
        _RECEIVABLES_LIST,
        kind=SetKind.READ,
    )
    add("cashflow/Receivables", "Receivables", "ID", "Receivable", _RECEIVABLE, _GU)
    add(
        "bulk/Cashflow/Receivables",
        "Receivables",
        "ID",
        "Receivable",
        _RECEIVABLE,
        kind=SetKind.BULK,
    )
    add(
        "cashflow/PaymentConditions",
        "PaymentConditions",
        "ID",
        "PaymentCondition",
        _PAYMENT_CONDITION,
        _GP,
    )
    add(
        "cashflow/DirectDebitMandates",
        "DirectDebitMandates",
        "ID",
        "DirectDebitMandate",
        _MANDATE,
        _ALL,
        requires_select_or_top=True,
    )
    add(
        "financialtransaction/Transactions",
        "Transactions",
        "EntryID",
        "Financial.Transaction",
        _TRANSACTION,
        children={"TransactionLines": "financialtransaction/TransactionLines"},
    )
    add(
        "financialtransaction/TransactionLines",
        "TransactionLines",
        "ID",
        "Financial.TransactionLine",
        _TRANSACTION_LINE,
    )
    add(
        "bulk/Financial/TransactionLines",
        "TransactionLines",
        "ID",
        "Financial.TransactionLine",
        _TRANSACTION_LINE,
        kind=SetKind.BULK,
    )
    add(
        "sync/Financial/TransactionLines",
        "TransactionLines",
        "ID",
        "Financial.TransactionLine",
        _with_timestamp(_TRANSACTION_LINE),
        kind=SetKind.SYNC,
    )
    add("system/Divisions", "Divisions", "Code", "System.SystemDivision", _DIVISION)
    add(
        "current/Me",
        "Me",
        "UserID",
        "System.Me",
        _ME,
        division_scoped=False,
    )
    add("sync/Deleted", "Deleted", "ID", "Sync.Deleted", _DELETED, kind=SetKind.SYNC)
    return sets
