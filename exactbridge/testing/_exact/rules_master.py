"""Rules of the fake's master data: accounts, contacts, journals, VAT, GL, periods, documents.

Each class validates a POST or PUT the way Exact does (business rules answer 500 with
Exact-style messages, several joined by CRLF) and fills the read-only fields Exact
derives (descriptions, codes, padded values). ``docs/testing-exact-entities.md``
documents every rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from exactbridge.testing._exact.entities_catalog import DELETED_ENTITY_TYPES
from exactbridge.testing._exact.rules_common import (
    Problems,
    Row,
    TableRules,
    Txn,
    is_blank,
    midnight,
)

__all__ = [
    "GL_ACCOUNT_TYPES",
    "JOURNAL_TYPES",
    "MASTER_RULES",
    "add_financial_year",
    "find_period",
    "pad_vat",
]

# GLAccounts.Type -> TypeDescription (reference §5.7)
GL_ACCOUNT_TYPES: Mapping[int, str] = {
    10: "Cash",
    12: "Bank",
    14: "Credit card",
    16: "Payment service",
    20: "Accounts receivable",
    21: "Prepayment accounts receivable",
    22: "Accounts payable",
    24: "VAT",
    25: "Employees payable",
    26: "Prepaid expenses",
    27: "Accrued expenses",
    29: "Income taxes payable",
    30: "Fixed assets",
    32: "Other assets",
    35: "Accumulated depreciation",
    40: "Inventory",
    50: "Capital stock",
    52: "Retained earnings",
    55: "Long term debt",
    60: "Current portion of debt",
    90: "General",
    100: "Tax payable",
    110: "Revenue",
    111: "Cost of goods",
    120: "Other costs",
    121: "Sales, general administrative expenses",
    122: "Depreciation costs",
    123: "Research and development",
    125: "Employee costs",
    126: "Employment costs",
    130: "Exceptional costs",
    140: "Exceptional income",
    150: "Income taxes",
    160: "Interest income",
    300: "Year end reflection",
    301: "Indirect year end costing",
    302: "Direct year end costing",
}
_CREDIT_SIDE_TYPES = frozenset({22, 24, 25, 27, 29, 35, 50, 52, 55, 60, 100, 110, 140, 160})

# Journals.Type -> description (reference §5.5)
JOURNAL_TYPES: Mapping[int, str] = {
    10: "Cash",
    12: "Bank",
    16: "Payment service",
    20: "Sales",
    21: "Return invoice",
    22: "Purchase",
    23: "Received return invoice",
    90: "General journal",
}

_BANK_ACCOUNT_TYPES = {"A": "Account"}
_DOCUMENT_TYPES: Mapping[int, str] = {10: "Sales invoice", 20: "Purchase invoice"}
_COUNTRY_NAMES = {
    "NL": "Netherlands",
    "BE": "Belgium",
    "DE": "Germany",
    "FR": "France",
    "GB": "United Kingdom",
    "ES": "Spain",
    "LU": "Luxembourg",
    "US": "United States",
}


def pad_vat(code: object) -> str | None:
    """Exact's 3-character, left-aligned VAT code (``"2"`` -> ``"2  "``); blank -> None."""
    if code is None:
        return None
    text = str(code).strip()
    return text.ljust(3) if text else None


def _strip(value: object) -> str:
    return "" if value is None else str(value).strip()


def account_code_as_stored(tx: Txn, code: str) -> str:
    """An account ``Code`` as the fake stores it (option ``account_code_alignment``).

    Exact right-aligns numeric codes to 18 characters (documented). What it does with
    a code holding letters is not documented: ``"all"`` (the default) right-aligns it
    as well, ``"numeric"`` keeps it as given, without padding.
    """
    if code.isdigit() or tx.options.get("account_code_alignment", "all") == "all":
        return code.rjust(18)
    return code


def _name_of(tx: Txn, table: str, key: object, field: str = "Name") -> Any:
    if key is None:
        return None
    row = tx.table(table).get(key)
    return None if row is None else row.get(field)


def _exists(tx: Txn, table: str, key: object) -> bool:
    return key is not None and key in tx.table(table)


def _code_taken(tx: Txn, table: str, code: str, existing: Row | None, *, pad: int = 0) -> bool:
    for row in tx.table(table).values():
        if existing is not None and row is existing:
            continue
        if _strip(row.get("Code")) == code:
            return True
    return False


def find_by_code(tx: Txn, table: str, code: object) -> Row | None:
    """The row of ``table`` whose trimmed ``Code`` equals the trimmed ``code``."""
    wanted = _strip(code)
    if not wanted:
        return None
    for row in tx.table(table).values():
        if _strip(row.get("Code")) == wanted:
            return row
    return None


def _check_vat_reference(tx: Txn, value: object, problems: Problems) -> None:
    if not is_blank(value) and find_by_code(tx, "VATCodes", value) is None:
        problems.add("invalid_reference", label="VATCode")


def _check_gl_reference(tx: Txn, value: object, problems: Problems) -> None:
    if value is not None and not _exists(tx, "GLAccounts", value):
        problems.add("invalid_reference", label="GLAccount")


# -- accounts and relations ------------------------------------------------------------------


class AccountRules(TableRules):
    """crm/Accounts: 18-character unique codes, padded country, customer/supplier flags."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        code = _strip(values.get("Code"))
        if code:
            if len(code) > 18:
                problems.add("invalid", label="Code")
            elif existing is None and _code_taken(tx, "Accounts", code, existing):
                problems.add("duplicate", label="Code", value=code)
        country = _strip(values.get("Country")).upper()
        if country and (len(country) != 2 or not country.isalpha()):
            problems.add("invalid", label="Country")
        if _strip(values.get("Status")) not in ("", "A", "S", "P", "C"):
            problems.add("invalid", label="Status")
        for field in ("SalesVATCode", "PurchaseVATCode"):
            _check_vat_reference(tx, values.get(field), problems)
        for field in ("PaymentConditionSales", "PaymentConditionPurchase"):
            value = values.get(field)
            if not is_blank(value) and find_by_code(tx, "PaymentConditions", value) is None:
                problems.add("invalid_reference", label="PaymentCondition")
        for field in ("GLAR", "GLAP", "GLAccountSales", "GLAccountPurchase"):
            _check_gl_reference(tx, values.get(field), problems)
        method = values.get("InvoicingMethod")
        if method is not None and method not in (1, 2, 4, 8, 32):
            problems.add("invalid", label="InvoicingMethod")

    def derive(self, tx: Txn, row: Row) -> None:
        code = _strip(row.get("Code"))
        if not code:
            highest = 0
            for other in tx.table("Accounts").values():
                other_code = _strip(other.get("Code"))
                if other_code.isdigit():
                    highest = max(highest, int(other_code))
            code = str(highest + 1)
        row["Code"] = account_code_as_stored(tx, code)
        country = _strip(row.get("Country")).upper()
        row["Country"] = country.ljust(3) if country else None
        row["CountryName"] = _COUNTRY_NAMES.get(country) if country else None
        row["Type"] = "A"
        for flag in ("IsSales", "IsSupplier", "Blocked"):
            if row.get(flag) is None:
                row[flag] = False
        row["IsPurchase"] = bool(row.get("IsSupplier"))
        for field in ("SalesVATCode", "PurchaseVATCode"):
            row[field] = pad_vat(row.get(field))
        if row.get("Status") == "":
            row["Status"] = None

    def drop(self, tx: Txn, row: Row) -> None:
        key = row["ID"]
        for table, field in (
            ("SalesEntries", "Customer"),
            ("BankEntryLines", "Account"),
            ("GeneralJournalEntryLines", "Account"),
        ):
            if tx.first(table, **{field: key}) is not None:
                raise tx.error("in_use", label="Account")
        for table in ("Contacts", "BankAccounts", "DirectDebitMandates"):
            for child in tx.find(table, Account=key):
                tx.remove(table, child["ID"], DELETED_ENTITY_TYPES.get(table))
        super().drop(tx, row)


class BankAccountRules(TableRules):
    """crm/BankAccounts: belongs to an existing account; only type ``A`` can be created."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        if values.get("Account") is not None and not _exists(tx, "Accounts", values["Account"]):
            problems.add("invalid_reference", label="Account")
        if _strip(values.get("Type")) not in ("", "A"):
            problems.add("invalid", label="Type")

    def derive(self, tx: Txn, row: Row) -> None:
        row["Type"] = "A"
        row["TypeDescription"] = _BANK_ACCOUNT_TYPES["A"]
        row["AccountName"] = _name_of(tx, "Accounts", row.get("Account"))
        if row.get("Main") is None:
            row["Main"] = not tx.find("BankAccounts", Account=row.get("Account"))
        if row.get("IBAN") is None and row.get("BankAccount"):
            text = str(row["BankAccount"]).replace(" ", "").upper()
            if len(text) >= 15 and text[:2].isalpha() and text[2:4].isdigit():
                row["IBAN"] = text


class ContactRules(TableRules):
    """crm/Contacts: an existing account and at least a first or a last name."""

    def required_problems(self, tx: Txn, values: Mapping[str, Any], problems: Problems) -> None:
        super().required_problems(tx, values, problems)
        if is_blank(values.get("FirstName")) and is_blank(values.get("LastName")):
            problems.mandatory("LastName")

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        if values.get("Account") is not None and not _exists(tx, "Accounts", values["Account"]):
            problems.add("invalid_reference", label="Account")
        if (
            existing is not None
            and is_blank(values.get("FirstName"))
            and is_blank(values.get("LastName"))
        ):
            problems.mandatory("LastName")

    def derive(self, tx: Txn, row: Row) -> None:
        parts = [row.get("FirstName"), row.get("MiddleName"), row.get("LastName")]
        row["FullName"] = " ".join(_strip(p) for p in parts if not is_blank(p))
        account = tx.table("Accounts").get(row.get("Account")) or {}
        row["AccountName"] = account.get("Name")
        row["AccountIsCustomer"] = account.get("Status") == "C" or bool(account.get("IsSales"))
        row["AccountIsSupplier"] = bool(account.get("IsSupplier"))
        row["IsAnonymised"] = 0
        if row.get("IsMainContact") is None:
            row["IsMainContact"] = False
        if row.get("HID") is None:
            row["HID"] = tx.next_counter("hid:Contacts")


class DirectDebitMandateRules(TableRules):
    """cashflow/DirectDebitMandates: account, one of its bank accounts and a unique reference."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        account = values.get("Account")
        if account is not None and not _exists(tx, "Accounts", account):
            problems.add("invalid_reference", label="Account")
        bank = tx.table("BankAccounts").get(values.get("BankAccount"))
        if values.get("BankAccount") is not None and (
            bank is None or bank.get("Account") != account
        ):
            problems.add("invalid_reference", label="BankAccount")
        reference = _strip(values.get("Reference"))
        if reference:
            for other in tx.table("DirectDebitMandates").values():
                if other is not existing and _strip(other.get("Reference")) == reference:
                    problems.add("duplicate", label="Reference", value=reference)

    def derive(self, tx: Txn, row: Row) -> None:
        row["AccountName"] = _name_of(tx, "Accounts", row.get("Account"))
        row["BankAccountNumber"] = _name_of(
            tx, "BankAccounts", row.get("BankAccount"), "BankAccount"
        )
        for field, default in (("FirstSend", 1), ("Main", 0), ("PaymentType", 0), ("Type", 0)):
            if row.get(field) is None:
                row[field] = default


# -- ledger set-up ----------------------------------------------------------------------------


def _in_use(tx: Txn, checks: list[tuple[str, str, object]]) -> bool:
    for table, field, value in checks:
        if value is None:
            continue
        for row in tx.table(table).values():
            current = row.get(field)
            if current == value or (
                isinstance(value, str) and isinstance(current, str) and _strip(current) == value
            ):
                return True
    return False


class JournalRules(TableRules):
    """financial/Journals: unique code, known type, bank and PSP details where mandatory."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        code = _strip(values.get("Code"))
        if existing is None and code and _code_taken(tx, "Journals", code, existing):
            problems.add("duplicate", label="Code", value=code)
        journal_type = values.get("Type")
        if journal_type is not None and journal_type not in JOURNAL_TYPES:
            problems.add("invalid", label="Type")
        _check_gl_reference(tx, values.get("GLAccount"), problems)
        _check_gl_reference(tx, values.get("PaymentInTransitAccount"), problems)
        if journal_type == 12 and is_blank(values.get("BankAccountIncludingMask")):
            problems.mandatory("BankAccountIncludingMask")
        if journal_type == 16:
            provider = values.get("PaymentServiceProvider")
            if provider is None:
                problems.mandatory("PaymentServiceProvider")
            elif provider not in (1, 2, 3):
                problems.add("invalid", label="PaymentServiceProvider")

    def derive(self, tx: Txn, row: Row) -> None:
        row["Code"] = _strip(row.get("Code"))
        gl = tx.table("GLAccounts").get(row.get("GLAccount")) or {}
        row["GLAccountCode"] = gl.get("Code")
        row["GLAccountDescription"] = gl.get("Description")
        row["GLAccountType"] = gl.get("Type")
        if row.get("Currency") is None:
            row["Currency"] = tx.state.row["Currency"]
        for flag in (
            "AllowVariableCurrency",
            "AllowVariableExchangeRate",
            "AllowVAT",
            "AutoSave",
            "IsBlocked",
        ):
            if row.get(flag) is None:
                row[flag] = False
        mask = row.get("BankAccountIncludingMask")
        row["BankAccountIBAN"] = None if mask is None else str(mask).replace(" ", "").upper()

    def drop(self, tx: Txn, row: Row) -> None:
        code = _strip(row.get("Code"))
        if _in_use(
            tx,
            [
                ("SalesEntries", "Journal", code),
                ("BankEntries", "JournalCode", code),
                ("GeneralJournalEntries", "JournalCode", code),
            ],
        ):
            raise tx.error("in_use", label="Journal")
        super().drop(tx, row)


class VATCodeRules(TableRules):
    """vat/VATCodes: 3-character padded unique code, percentage as a fraction, types."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        code = _strip(values.get("Code"))
        if code and len(code) > 3:
            problems.add("invalid", label="Code")
        elif existing is None and code and _code_taken(tx, "VATCodes", code, existing):
            problems.add("duplicate", label="Code", value=code)
        percentage = values.get("Percentage")
        if isinstance(percentage, Decimal) and not Decimal(0) <= percentage <= Decimal(1):
            problems.add("invalid", label="Percentage")
        if _strip(values.get("Type")) not in ("", "B", "E", "I", "N"):
            problems.add("invalid", label="Type")
        transaction_type = _strip(values.get("VATTransactionType"))
        if transaction_type not in ("", "B", "P", "S"):
            problems.add("invalid", label="VATTransactionType")
        for field in ("GLToPay", "GLToClaim"):
            _check_gl_reference(tx, values.get(field), problems)
        charges_sales = transaction_type in ("", "B", "S")
        if (
            charges_sales
            and isinstance(percentage, Decimal)
            and percentage > 0
            and _strip(values.get("Type")) in ("", "E", "I")
            and values.get("GLToPay") is None
        ):
            problems.mandatory("GLToPay")
        if values.get("Account") is not None and not _exists(tx, "Accounts", values["Account"]):
            problems.add("invalid_reference", label="Account")

    def derive(self, tx: Txn, row: Row) -> None:
        row["Code"] = pad_vat(row.get("Code"))
        if row.get("Percentage") is None:
            row["Percentage"] = Decimal(0)
        if is_blank(row.get("Type")):
            row["Type"] = "E"
        if is_blank(row.get("VATTransactionType")):
            row["VATTransactionType"] = "B"
        for flag in ("Charged", "IsBlocked", "IntraStat"):
            if row.get(flag) is None:
                row[flag] = False
        for prefix in ("GLToPay", "GLToClaim"):
            gl = tx.table("GLAccounts").get(row.get(prefix)) or {}
            row[prefix + "Code"] = gl.get("Code")
            row[prefix + "Description"] = gl.get("Description")
        account = tx.table("Accounts").get(row.get("Account")) or {}
        row["AccountCode"] = account.get("Code")
        row["AccountName"] = account.get("Name")

    def drop(self, tx: Txn, row: Row) -> None:
        code = _strip(row.get("Code"))
        if _in_use(
            tx,
            [
                ("SalesEntryLines", "VATCode", code),
                ("GeneralJournalEntryLines", "VATCode", code),
                ("GLAccounts", "VATCode", code),
            ],
        ):
            raise tx.error("in_use", label="VATCode")
        super().drop(tx, row)


class GLAccountRules(TableRules):
    """financial/GLAccounts: unique code, documented types, cost centre/unit usage flags."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        code = _strip(values.get("Code"))
        if existing is None and code and _code_taken(tx, "GLAccounts", code, existing):
            problems.add("duplicate", label="Code", value=code)
        gl_type = values.get("Type")
        if gl_type is not None and gl_type not in GL_ACCOUNT_TYPES:
            problems.add("invalid", label="Type")
        if _strip(values.get("BalanceSide")) not in ("", "D", "C"):
            problems.add("invalid", label="BalanceSide")
        if _strip(values.get("BalanceType")) not in ("", "B", "W"):
            problems.add("invalid", label="BalanceType")
        for field in ("UseCostcenter", "UseCostunit"):
            if values.get(field) not in (None, 0, 1, 2):
                problems.add("invalid", label=field)
        _check_vat_reference(tx, values.get("VATCode"), problems)
        for field, table, label in (
            ("Costcenter", "Costcenters", "CostCenter"),
            ("Costunit", "Costunits", "CostUnit"),
        ):
            default = values.get(field)
            if not is_blank(default) and find_by_code(tx, table, default) is None:
                problems.add("invalid_reference", label=label)

    def derive(self, tx: Txn, row: Row) -> None:
        row["Code"] = _strip(row.get("Code"))
        if row.get("Type") is None:
            row["Type"] = 90
        gl_type = int(row["Type"])
        row["TypeDescription"] = GL_ACCOUNT_TYPES.get(gl_type)
        if is_blank(row.get("BalanceType")):
            row["BalanceType"] = "W" if gl_type >= 110 else "B"
        if is_blank(row.get("BalanceSide")):
            row["BalanceSide"] = "C" if gl_type in _CREDIT_SIDE_TYPES else "D"
        for field in ("UseCostcenter", "UseCostunit"):
            if row.get(field) is None:
                row[field] = 0
        for flag in ("IsBlocked", "Matching"):
            if row.get(flag) is None:
                row[flag] = False
        row["VATCode"] = pad_vat(row.get("VATCode"))
        vat = find_by_code(tx, "VATCodes", row.get("VATCode")) or {}
        row["VATDescription"] = vat.get("Description")
        center = find_by_code(tx, "Costcenters", row.get("Costcenter")) or {}
        row["CostcenterDescription"] = center.get("Description")
        unit = find_by_code(tx, "Costunits", row.get("Costunit")) or {}
        row["CostunitDescription"] = unit.get("Description")

    def drop(self, tx: Txn, row: Row) -> None:
        key = row["ID"]
        if _in_use(
            tx,
            [
                ("SalesEntryLines", "GLAccount", key),
                ("BankEntryLines", "GLAccount", key),
                ("GeneralJournalEntryLines", "GLAccount", key),
                ("Journals", "GLAccount", key),
                ("VATCodes", "GLToPay", key),
                ("VATCodes", "GLToClaim", key),
            ],
        ):
            raise tx.error("in_use", label="GLAccount")
        super().drop(tx, row)


class CostCodeRules(TableRules):
    """hrm/Costcenters and hrm/Costunits: unique codes of at most 8 characters."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        code = _strip(values.get("Code"))
        if code and len(code) > 8:
            problems.add("invalid", label="Code")
        elif existing is None and code and _code_taken(tx, self.table, code, existing):
            problems.add("duplicate", label="Code", value=code)

    def derive(self, tx: Txn, row: Row) -> None:
        row["Code"] = _strip(row.get("Code"))
        if row.get("Active") is None:
            row["Active"] = True

    def drop(self, tx: Txn, row: Row) -> None:
        field = "CostCenter" if self.table == "Costcenters" else "CostUnit"
        code = _strip(row.get("Code"))
        if _in_use(
            tx,
            [
                ("SalesEntryLines", field, code),
                ("BankEntryLines", field, code),
                ("GeneralJournalEntryLines", field, code),
            ],
        ):
            raise tx.error("in_use", label=field)
        super().drop(tx, row)


class ProjectRules(TableRules):
    """project/Projects: unique code; a project that lines use cannot be deleted."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        code = _strip(values.get("Code"))
        if existing is None and code and _code_taken(tx, "Projects", code, existing):
            problems.add("duplicate", label="Code", value=code)
        account = values.get("Account")
        if account is not None and tx.table("Accounts").get(account) is None:
            problems.add("invalid_reference", label="Account")

    def derive(self, tx: Txn, row: Row) -> None:
        row["Code"] = _strip(row.get("Code"))
        if row.get("Type") is None:
            row["Type"] = 2  # fixed price

    def drop(self, tx: Txn, row: Row) -> None:
        if _in_use(
            tx,
            [
                ("SalesEntryLines", "Project", row["ID"]),
                ("GeneralJournalEntryLines", "Project", row["ID"]),
            ],
        ):
            raise tx.error("in_use", label="Project")
        super().drop(tx, row)


class PaymentConditionRules(TableRules):
    """cashflow/PaymentConditions: unique code, days, payment method B/I/K/Q."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        code = _strip(values.get("Code"))
        if existing is None and code and _code_taken(tx, "PaymentConditions", code, existing):
            problems.add("duplicate", label="Code", value=code)
        if _strip(values.get("PaymentMethod")) not in ("", "B", "I", "K", "Q"):
            problems.add("invalid", label="PaymentMethod")
        for field in ("PaymentDays", "PaymentEndOfMonths", "DiscountPaymentDays"):
            value = values.get(field)
            if value is not None and value < 0:
                problems.add("invalid", label=field)

    def derive(self, tx: Txn, row: Row) -> None:
        row["Code"] = _strip(row.get("Code"))
        for field in ("PaymentDays", "PaymentEndOfMonths", "DiscountPaymentDays"):
            if row.get(field) is None:
                row[field] = 0
        if is_blank(row.get("PaymentMethod")):
            row["PaymentMethod"] = "B"


# -- documents ----------------------------------------------------------------------------------


class DocumentRules(TableRules):
    """documents/Documents: subject and type; optional account; links to financial entries."""

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        if values.get("Account") is not None and not _exists(tx, "Accounts", values["Account"]):
            problems.add("invalid_reference", label="Account")
        doc_type = values.get("Type")
        if doc_type is not None and doc_type <= 0:
            problems.add("invalid", label="Type")

    def derive(self, tx: Txn, row: Row) -> None:
        row["TypeDescription"] = _DOCUMENT_TYPES.get(row.get("Type") or 0)
        account = tx.table("Accounts").get(row.get("Account")) or {}
        row["AccountCode"] = account.get("Code")
        row["AccountName"] = account.get("Name")
        row["HasEmptyBody"] = is_blank(row.get("Body"))
        if row.get("HID") is None:
            row["HID"] = tx.next_counter("hid:Documents")
        if row.get("Currency") is None:
            row["Currency"] = tx.state.row["Currency"]
        base = tx.options.get("base_url", "https://start.exactonline.nl")
        row["DocumentViewUrl"] = (
            f"{base}/docs/DocView.aspx?DocumentID={{{row['ID']}}}&_Division_={tx.division}"
        )

    def store(self, tx: Txn, values: Row) -> Row:
        key = self.new_key(tx, values)
        values = dict(values, ID=key)
        return super().store(tx, values)

    def drop(self, tx: Txn, row: Row) -> None:
        key = row["ID"]
        for attachment in tx.find("DocumentAttachments", Document=key):
            tx.remove(
                "DocumentAttachments",
                attachment["ID"],
                DELETED_ENTITY_TYPES.get("DocumentAttachments"),
            )
            tx.drop_bytes(attachment["ID"])
        for entry in tx.find("SalesEntries", Document=key):
            tx.patch("SalesEntries", entry["EntryID"], {"Document": None})
        super().drop(tx, row)


class DocumentAttachmentRules(TableRules):
    """documents/DocumentAttachments: base64 file bytes linked to an existing document.

    The bytes are kept aside (``ExactDomain.attachment_bytes``); like Exact, the row
    answers ``Attachment: null`` with ``FileSize`` and a download ``Url``.
    """

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        if values.get("Document") is not None and not _exists(tx, "Documents", values["Document"]):
            problems.add("invalid_reference", label="Document")

    def store(self, tx: Txn, values: Row) -> Row:
        key = self.new_key(tx, values)
        data = values.get("Attachment") or b""
        values = dict(values, ID=key, Attachment=None)
        values["FileSize"] = Decimal(len(data))
        base = tx.options.get("base_url", "https://start.exactonline.nl")
        values["Url"] = f"{base}/docs/SysAttachment.aspx?ID={key}&_Division_={tx.division}"
        tx.keep_bytes(key, data)
        return super().store(tx, values)

    def drop(self, tx: Txn, row: Row) -> None:
        tx.drop_bytes(row["ID"])
        super().drop(tx, row)


# -- financial periods --------------------------------------------------------------------------


def _month_start(year: int, month0: int) -> dt.datetime:
    return midnight(dt.date(year + month0 // 12, month0 % 12 + 1, 1))


def add_financial_year(tx: Txn, year: int, *, start_month: int = 1) -> None:
    """Insert the 12 monthly FinancialPeriods rows of financial ``year``.

    The year is named after the calendar year it starts in: with ``start_month=7``,
    financial year 2025 runs from 1 July 2025 to 30 June 2026. Overlapping years and
    existing year numbers are refused.
    """
    if not 1 <= start_month <= 12:
        raise ValueError(f"start_month must be 1..12, not {start_month}")
    periods = tx.table("FinancialPeriods")
    first = _month_start(year, start_month - 1)
    last = _month_start(year, start_month - 1 + 12) - dt.timedelta(days=1)
    for row in periods.values():
        if row["FinYear"] == year or (row["StartDate"] <= last and row["EndDate"] >= first):
            raise ValueError(
                f"financial year {year} overlaps existing period {row['FinYear']}/"
                f"{row['FinPeriod']}"
            )
    for period in range(1, 13):
        month0 = start_month - 1 + period - 1
        start = _month_start(year, month0)
        end = _month_start(year, month0 + 1) - dt.timedelta(days=1)
        key = tx.new_id()
        row = {"ID": key, "FinYear": year, "FinPeriod": period, "StartDate": start, "EndDate": end}
        row.update(tx.audit_fields())
        tx.insert("FinancialPeriods", key, row)


def find_period(tx: Txn, day: dt.datetime) -> tuple[int, int] | None:
    """The (financial year, period) that contains ``day``, or None."""
    for row in tx.table("FinancialPeriods").values():
        if row["StartDate"] <= day <= row["EndDate"] + dt.timedelta(days=1, microseconds=-1):
            return int(row["FinYear"]), int(row["FinPeriod"])
    return None


MASTER_RULES: dict[str, type[TableRules]] = {
    "Accounts": AccountRules,
    "BankAccounts": BankAccountRules,
    "Contacts": ContactRules,
    "DirectDebitMandates": DirectDebitMandateRules,
    "Journals": JournalRules,
    "VATCodes": VATCodeRules,
    "GLAccounts": GLAccountRules,
    "Costcenters": CostCodeRules,
    "Costunits": CostCodeRules,
    "PaymentConditions": PaymentConditionRules,
    "Projects": ProjectRules,
    "Documents": DocumentRules,
    "DocumentAttachments": DocumentAttachmentRules,
}
