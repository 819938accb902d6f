# ruff: noqa: E501 (realistic JSON rows are easier to read unwrapped)
"""Every Exact model structured from a realistic row, write models, and the resource table."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import attrs
import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.exact import models as m
from exactbridge.exact._envelope import loads, parse_collection, parse_single
from exactbridge.exact._odata import AMSTERDAM
from exactbridge.exact._resources import (
    BULK_PAGE_SIZE,
    PAGE_SIZE,
    RESOURCES,
    ResourceSpec,
    resource_for_model,
)
from exactbridge.exact._serde import structure, unstructure, wire_names

G1 = "40d4c49d-1790-4a13-b890-42909af24348"
G2 = "790fc424-dc9f-405d-ab09-22d4ee00f653"
G3 = "cbddbd5c-8a31-4c2b-9d3e-0d5f3b1f2a10"
CREATED = "/Date(1782405060220)/"  # 2026-06-25 16:31:00.220 Amsterdam wall clock
DAY = "/Date(1782345600000)/"  # 2026-06-25
CREATED_AT = dt.datetime(2026, 6, 25, 16, 31, 0, 220000, tzinfo=AMSTERDAM)
AUDIT = (
    f'"Created": "{CREATED}", "Creator": "{G3}", "CreatorFullName": "Jan Jansen", '
    f'"Modified": "{CREATED}", "Modifier": "{G3}", "ModifierFullName": "Jan Jansen", '
    '"Division": 124132'
)
META = '"__metadata": {"uri": "https://start.exactonline.fr/api/v1/124132/x", "type": "Exact.Web.Api.Models.X"}'
UNKNOWN = '"BrandNewProperty": "surprise", "AnotherOne": 12.50'


def row(text: str) -> dict:
    """A row as Exact sends it: envelope-parsed JSON with metadata and unknown fields."""
    payload = loads(("{" + '"d": {' + META + ", " + UNKNOWN + ", " + text + "}}").encode())
    return parse_single(payload)


def check_common(model, *, audited: bool = True):
    assert model.extra == {"BrandNewProperty": "surprise", "AnotherOne": Decimal("12.50")}
    assert "__metadata" not in model.extra
    if audited:
        assert model.created == CREATED_AT
        assert model.created.tzinfo is AMSTERDAM
        assert model.creator == uuid.UUID(G3)
        assert model.division == 124132


def test_account():
    account = structure(
        m.Account,
        row(
            f'"ID": "{G1}", "Code": "                 8", "Name": "Club Sportif", "Status": "C", '
            '"IsSales": true, "IsSupplier": false, "IsPurchase": false, "Blocked": false, "Type": "A", '
            '"Email": "info@club.fr", "City": "Paris", "Country": "FR ", "CountryName": "France", '
            '"SalesVATCode": "VN ", "PurchaseVATCode": null, "PaymentConditionSales": "30", '
            f'"GLAR": "{G2}", "CreditLineSales": 1500.00, "DiscountSales": 0.055, '
            '"InvoicingMethod": 2, "PeppolIdentifierType": 0, '
            f'"BankAccounts": {{"__deferred": {{"uri": "https://x/Accounts(guid\'{G1}\')/BankAccounts"}}}}, '
            + AUDIT
        ),
    )
    check_common(account)
    assert account.id == uuid.UUID(G1)
    assert account.code == "8"
    assert account.country == "FR"
    assert account.sales_vat_code == "VN"
    assert account.purchase_vat_code is None
    assert account.credit_line_sales == Decimal("1500.00")
    assert account.discount_sales == Decimal("0.055")
    assert account.gl_ar == uuid.UUID(G2)
    assert account.bank_accounts is None
    assert account.is_sales is True


def test_account_with_expanded_bank_accounts():
    account = structure(
        m.Account,
        row(
            f'"ID": "{G1}", "BankAccounts": {{"results": [{{"ID": "{G2}", "Account": "{G1}", '
            '"BankAccount": "NL91ABNA0417164300", "BICCode": "ABNANL2A", "Main": true, "Type": "A"}]}'
        ),
    )
    assert account.bank_accounts is not None
    (bank,) = account.bank_accounts
    assert isinstance(bank, m.BankAccount)
    assert bank.bank_account == "NL91ABNA0417164300"
    assert bank.account == uuid.UUID(G1)


def test_bank_account():
    bank = structure(
        m.BankAccount,
        row(
            f'"ID": "{G2}", "Account": "{G1}", "AccountName": "Club", "BankAccount": "NL91ABNA0417164300", '
            '"BankAccountHolderName": "Club Sportif", "BICCode": "ABNANL2A", "IBAN": "NL91ABNA0417164300", '
            '"Main": true, "Type": "A", "TypeDescription": "Account", ' + AUDIT
        ),
    )
    check_common(bank)
    assert (bank.iban, bank.main, bank.type) == ("NL91ABNA0417164300", True, "A")


def test_contact():
    contact = structure(
        m.Contact,
        row(
            f'"ID": "{G1}", "Account": "{G2}", "AccountIsCustomer": true, "FirstName": "Anna", '
            '"LastName": "de Vries", "FullName": "Anna de Vries", "Email": "anna@example.nl", '
            '"IsMainContact": true, "IsAnonymised": 0, "HID": 17, '
            f'"StartDate": "{DAY}", "EndDate": null, "Country": "NL ", ' + AUDIT
        ),
    )
    check_common(contact)
    assert contact.start_date == dt.date(2026, 6, 25)
    assert contact.end_date is None
    assert contact.country == "NL"
    assert contact.hid == 17


SALES_LINE = (
    f'"ID": "{G3}", "EntryID": "{G1}", "LineNumber": 1, "AmountFC": 41.98, "AmountDC": 41.98, '
    f'"GLAccount": "{G2}", "GLAccountCode": "8000", "Description": "Lidmaatschap juni", '
    '"Quantity": 1.0, "VATCode": "2  ", "VATPercentage": 0.21, "VATAmountFC": 8.82, '
    '"CostCenter": "GYM1", "CostUnit": null, '
    f'"From": "{DAY}", "To": "/Date(1785024000000)/", "Type": 20'
)


def test_sales_entry_with_expanded_lines():
    entry = structure(
        m.SalesEntry,
        row(
            f'"EntryID": "{G1}", "Customer": "{G2}", "CustomerName": "Club", "Journal": "70", '
            f'"EntryDate": "{DAY}", "DueDate": "/Date(1784937600000)/", "ReportingPeriod": 6, '
            '"ReportingYear": 2026, "YourRef": "F0005555", "InvoiceNumber": 26700001, '
            '"EntryNumber": 26700001, "AmountDC": 50.80, "AmountFC": 50.80, "VATAmountFC": 8.82, '
            '"Currency": "EUR", "Status": 20, "StatusDescription": "Open", "Type": 20, '
            '"TypeDescription": "Sales entry", "Reversal": false, '
            '"SalesEntryLines": {"results": [{' + SALES_LINE + "}]}, " + AUDIT
        ),
    )
    check_common(entry)
    assert entry.entry_date == dt.date(2026, 6, 25)
    assert entry.due_date == dt.date(2026, 7, 25)
    assert entry.status is m.EntryStatus.OPEN
    assert entry.type is m.SalesEntryType.SALES_ENTRY
    assert entry.amount_fc == Decimal("50.80")
    assert entry.lines is not None
    (line,) = entry.lines
    assert isinstance(line, m.SalesEntryLine)
    assert line.vat_code == "2"
    assert line.amount_fc == Decimal("41.98")
    assert line.from_date == dt.date(2026, 6, 25)
    assert line.to_date == dt.date(2026, 7, 26)
    assert line.type is m.SalesEntryType.SALES_ENTRY


def test_sales_entry_line_alone_and_deferred_lines():
    line = structure(m.SalesEntryLine, row(SALES_LINE))
    check_common(line, audited=False)
    assert line.quantity == Decimal("1.0")
    deferred = structure(
        m.SalesEntry, {"SalesEntryLines": {"__deferred": {"uri": "https://x/SalesEntryLines"}}}
    )
    assert deferred.lines is None
    assert deferred.extra == {}


def test_credit_note_and_unknown_codes_are_tolerated():
    entry = structure(m.SalesEntry, {"Type": 21, "Status": 99})
    assert entry.type is m.SalesEntryType.CREDIT_NOTE
    assert entry.status == 99
    assert not isinstance(entry.status, m.EntryStatus)
    vat = structure(m.VATCode, {"Type": "X", "VATTransactionType": "S"})
    assert vat.type == "X"
    assert vat.vat_transaction_type is m.VATTransactionType.SALES


def test_journal():
    journal = structure(
        m.Journal,
        row(
            f'"ID": "{G1}", "Code": "70", "Description": "Ventes", "Type": 20, "GLAccount": "{G2}", '
            '"GLAccountCode": "411000", "GLAccountType": 20, "Currency": "EUR", "AllowVAT": false, '
            '"IsBlocked": false, "BankAccountIBAN": null, "PaymentServiceProvider": null, ' + AUDIT
        ),
    )
    check_common(journal)
    assert journal.type is m.JournalType.SALES
    assert journal.gl_account_type is m.GLAccountType.ACCOUNTS_RECEIVABLE
    assert structure(m.Journal, {"Type": 77}).type == 77


def test_vat_code():
    vat = structure(
        m.VATCode,
        row(
            f'"ID": "{G1}", "Code": "VN ", "Description": "TVA 20%", "Percentage": 0.2, "Type": "E", '
            '"VATTransactionType": "S", "Charged": false, '
            f'"GLToPay": "{G2}", "GLToPayCode": "445710", "EUSalesListing": "N", "IsBlocked": false, '
            '"CalculationBasis": 0, "ExcludeVATListing": 0, "IntraStat": false, "VatMargin": 0, '
            '"VATPartialRatio": 0, ' + AUDIT
        ),
    )
    check_common(vat)
    assert vat.code == "VN"
    assert vat.percentage == Decimal("0.2")
    assert vat.type is m.VATType.EXCLUDING
    assert vat.gl_to_pay_code == "445710"


def test_gl_account():
    gl = structure(
        m.GLAccount,
        row(
            f'"ID": "{G1}", "Code": "8000", "Description": "Omzet hoog", "SearchCode": "OMZET    ", '
            '"BalanceSide": "C", "BalanceType": "W", "Type": 110, "VATCode": "2  ", '
            '"UseCostcenter": 0, "UseCostunit": 2, "Costcenter": null, "IsBlocked": false, '
            '"Matching": false, "Timestamp": 1234567890123, ' + AUDIT
        ),
    )
    check_common(gl)
    assert gl.type is m.GLAccountType.REVENUE
    assert gl.vat_code == "2"
    assert gl.search_code == "OMZET    "  # not a code Exact pads on purpose: kept as sent
    assert gl.timestamp == 1234567890123


def test_financial_period():
    period = structure(
        m.FinancialPeriod,
        row(
            f'"ID": "{G1}", "FinYear": 2026, "FinPeriod": 6, "StartDate": "/Date(1780272000000)/", '
            '"EndDate": "/Date(1782777600000)/", ' + AUDIT
        ),
    )
    check_common(period)
    assert (period.fin_year, period.fin_period) == (2026, 6)
    assert (period.start_date, period.end_date) == (dt.date(2026, 6, 1), dt.date(2026, 6, 30))


@pytest.mark.parametrize("model", [m.CostCenter, m.CostUnit])
def test_cost_center_and_unit(model):
    item = structure(
        model,
        row(
            f'"ID": "{G1}", "Code": "GYM1", "Description": "Gym Noord", "Active": true, '
            f'"EndDate": "{DAY}", ' + AUDIT
        ),
    )
    check_common(item)
    assert (item.code, item.active, item.end_date) == ("GYM1", True, dt.date(2026, 6, 25))


def test_document():
    document = structure(
        m.Document,
        row(
            f'"ID": "{G1}", "Subject": "Invoice 26700001", "Type": 10, "TypeDescription": "Sales invoice", '
            f'"Account": "{G2}", "AccountCode": "                 8", "DocumentDate": "{DAY}", '
            f'"Category": "{G3}", "FinancialTransactionEntryID": "{G3}", "SalesInvoiceNumber": 26700001, '
            '"HasEmptyBody": true, "HID": 42, "AmountFC": 0, ' + AUDIT
        ),
    )
    check_common(document)
    assert document.account_code == "8"
    assert document.document_date == dt.date(2026, 6, 25)
    assert document.amount_fc == Decimal("0")


def test_document_attachment_bytes_decoded():
    attachment = structure(
        m.DocumentAttachment,
        row(
            f'"ID": "{G1}", "Document": "{G2}", "FileName": "26700001.pdf", '
            '"Attachment": "JVBERi0xLjQA/w==", "FileSize": 10.0, '
            '"Url": "https://start.exactonline.fr/docs/SysAttachment.aspx?ID=1&_Division_=124132", '
            + AUDIT
        ),
    )
    check_common(attachment)
    assert attachment.attachment == b"%PDF-1.4\x00\xff"
    assert attachment.file_size == Decimal("10.0")
    assert "JVBER" not in repr(attachment)
    assert structure(m.DocumentAttachment, {"Attachment": None}).attachment is None


BANK_LINE = (
    f'"ID": "{G3}", "EntryID": "{G1}", "LineNumber": 1, "Date": "{DAY}", "AmountFC": -50.80, '
    f'"AmountDC": -50.80, "GLAccount": "{G2}", "GLAccountCode": "1300", "Account": "{G2}", '
    '"AccountCode": "                 8", "AccountName": "Club", "Description": "Betaling", '
    '"OurRef": 26700001, "VATCode": null, "ExchangeRate": 1.0'
)


def test_bank_entry_and_lines():
    entry = structure(
        m.BankEntry,
        row(
            f'"EntryID": "{G1}", "JournalCode": "50", "Currency": "EUR", "FinancialYear": 2026, '
            '"FinancialPeriod": 6, "OpeningBalanceFC": 1000.00, "ClosingBalanceFC": 949.20, '
            '"EntryNumber": 26500001, "Status": 50, '
            '"BankEntryLines": {"results": [{' + BANK_LINE + "}]}, " + AUDIT
        ),
    )
    check_common(entry)
    assert entry.status is m.EntryStatus.PROCESSED
    assert entry.closing_balance_fc == Decimal("949.20")
    assert entry.lines is not None
    (line,) = entry.lines
    assert (line.account_code, line.our_ref, line.amount_fc) == ("8", 26700001, Decimal("-50.80"))
    assert line.date == dt.date(2026, 6, 25)
    assert structure(m.BankEntryLine, row(BANK_LINE)).exchange_rate == Decimal("1.0")


def test_general_journal_entry_and_lines():
    line_text = (
        f'"ID": "{G3}", "EntryID": "{G1}", "LineNumber": 1, "GLAccount": "{G2}", "AmountFC": 12.34, '
        '"AmountVATFC": 0, "VATCode": "0  ", "VATType": "S", "OurRef": 26700001, '
        f'"Date": "{DAY}", "Account": null'
    )
    entry = structure(
        m.GeneralJournalEntry,
        row(
            f'"EntryID": "{G1}", "JournalCode": "90", "FinancialYear": 2026, "FinancialPeriod": 6, '
            '"Type": 90, "Status": 20, "Reversal": false, '
            '"GeneralJournalEntryLines": {"results": [{' + line_text + "}]}, " + AUDIT
        ),
    )
    check_common(entry)
    assert entry.type is m.GeneralJournalEntryType.OTHER
    assert entry.lines is not None
    assert entry.lines[0].vat_code == "0"
    assert entry.lines[0].amount_fc == Decimal("12.34")
    alone = structure(m.GeneralJournalEntryLine, row(line_text))
    assert alone.our_ref == 26700001


def test_transaction_line():
    line = structure(
        m.TransactionLine,
        row(
            f'"ID": "{G1}", "EntryID": "{G2}", "EntryNumber": 24700001, "LineNumber": 0, "Date": "{DAY}", '
            '"FinancialPeriod": 6, "FinancialYear": 2026, "JournalCode": "70", '
            f'"GLAccount": "{G3}", "GLAccountCode": "411000", "Account": "{G2}", '
            '"AccountCode": "                 8", "AmountDC": 120.00, "AmountFC": 120.00, '
            f'"InvoiceNumber": 24700001, "YourRef": "F1", "DueDate": "{DAY}", "VATCode": "VN ", '
            '"Status": 20, "Type": 20, "Timestamp": 99, ' + AUDIT
        ),
    )
    check_common(line)
    assert (line.account_code, line.vat_code, line.amount_dc) == ("8", "VN", Decimal("120.00"))
    assert (line.line_number, line.timestamp) == (0, 99)


def test_receivables_list_item():
    item = structure(
        m.ReceivablesListItem,
        row(
            f'"HID": 8123456789012, "Id": "{G1}", "AccountId": "{G2}", "AccountCode": "                 8", '
            '"AccountName": "Club", "Amount": 50.80, "AmountInTransit": 0, "CurrencyCode": "EUR", '
            f'"DueDate": "{DAY}", "EntryNumber": 26700001, "InvoiceDate": "{DAY}", '
            '"InvoiceNumber": 26700001, "JournalCode": "70", "YourRef": "F0005555", "Notes": null'
        ),
    )
    check_common(item, audited=False)
    assert item.hid == 8123456789012
    assert item.account_code == "8"
    assert item.amount == Decimal("50.80")
    assert item.invoice_date == dt.date(2026, 6, 25)


def test_receivable():
    receivable = structure(
        m.Receivable,
        row(
            f'"ID": "{G1}", "Account": "{G2}", "AccountCode": "                 8", "AmountDC": 50.80, '
            '"AmountFC": 50.80, "Status": 20, "IsFullyPaid": false, '
            f'"TransactionEntryID": "{G3}", "TransactionID": "{G3}", "InvoiceNumber": 26700001, '
            f'"EntryNumber": 26700001, "YourRef": "F0005555", "DueDate": "{DAY}", '
            '"PaymentMethod": "I", "LastPaymentDate": null, "EndYear": 0, "Journal": "70", ' + AUDIT
        ),
    )
    check_common(receivable)
    assert receivable.status is m.ReceivableStatus.OPEN
    assert receivable.is_fully_paid is False
    assert receivable.transaction_entry_id == uuid.UUID(G3)


def test_payment_condition():
    condition = structure(
        m.PaymentCondition,
        row(
            f'"ID": "{G1}", "Code": "30", "Description": "30 dagen", "PaymentDays": 30, '
            '"PaymentEndOfMonths": 0, "DiscountPercentage": 0.02, "DiscountPaymentDays": 8, '
            '"PaymentMethod": "B", ' + AUDIT
        ),
    )
    check_common(condition)
    assert (condition.code, condition.payment_days) == ("30", 30)
    assert condition.discount_percentage == Decimal("0.02")


def test_direct_debit_mandate():
    mandate = structure(
        m.DirectDebitMandate,
        row(
            f'"ID": "{G1}", "Account": "{G2}", "BankAccount": "{G3}", "Reference": "MANDATE-0001", '
            f'"SignatureDate": "{DAY}", "CancellationDate": null, "FirstSend": 1, "Main": 1, '
            '"PaymentType": 0, "Type": 1, ' + AUDIT
        ),
    )
    check_common(mandate)
    assert mandate.reference == "MANDATE-0001"
    assert mandate.signature_date == dt.date(2026, 6, 25)
    assert (mandate.main, mandate.type) == (1, 1)


def test_division():
    division = structure(
        m.Division,
        row(
            '"Code": 124132, "Description": "Club Sportif SAS", "Country": "FR ", "Currency": "EUR", '
            '"Legislation": "FR ", "Hid": "1", "Status": 1, "StartDate": "/Date(1704067200000)/", '
            '"DivisionMoveDate": null, "IsMainDivision": true, "Current": true, '
            f'"Customer": "{G1}", "VATNumber": "FR123", "Created": "{CREATED}"'
        ),
    )
    check_common(division, audited=False)
    assert (division.code, division.country, division.legislation) == (124132, "FR", "FR")
    assert division.status is m.DivisionStatus.ACTIVE
    assert division.start_date == dt.date(2024, 1, 1)
    assert division.hid == "1"


def test_me_from_results_envelope():
    payload = loads(
        b'{"d": {"results": [{"__metadata": {"uri": "https://start.exactonline.fr/api/v1/current/Me'
        b'(guid\'6a1c2b3d-0000-4000-8000-00000000e1a7\')", "type": "Exact.Web.Api.Models.System.Me"},'
        b'"UserID": "6a1c2b3d-0000-4000-8000-00000000e1a7", "CurrentDivision": 124132, '
        b'"AccountingDivision": 124132, "DivisionCustomerCode": "            123456", '
        b'"FullName": "Jan Jansen", "LanguageCode": "en-GB", "Legislation": "128", '
        b'"ServerTime": "2026-06-25T16:16:40", "ServerUtcOffset": 7200, "IsClientUser": false, '
        b'"PictureUrl": "https://x/picture"}]}}'
    )
    me = structure(m.Me, parse_single(payload))
    assert me.current_division == 124132
    assert me.division_customer_code == "123456"
    assert me.server_time == dt.datetime(2026, 6, 25, 16, 16, 40, tzinfo=AMSTERDAM)
    assert me.legislation == "128"
    assert me.extra == {"PictureUrl": "https://x/picture"}


def test_deleted_record():
    deleted = structure(
        m.DeletedRecord,
        row(
            f'"ID": "{G1}", "EntityKey": "{G2}", "EntityType": 2, "DeletedBy": "{G3}", '
            f'"DeletedDate": "{CREATED}", "Division": 124132, "Timestamp": 123456789012'
        ),
    )
    check_common(deleted, audited=False)
    assert deleted.deleted_date == CREATED_AT
    assert deleted.timestamp == 123456789012


def test_collection_of_rows_with_select_trimmed_fields():
    page = parse_collection(loads(b'{"d": [{"ID": "' + G1.encode() + b'"}, {"ID": null}]}'))
    accounts = [structure(m.Account, r) for r in page.rows]
    assert accounts[0].id == uuid.UUID(G1)
    assert accounts[0].name is None
    assert accounts[1] == m.Account()


# --------------------------------------------------------------------------- models as classes


def _read_models():
    return [
        cls
        for name in m.__all__
        if isinstance(cls := getattr(m, name), type)
        and issubclass(cls, m.ExactModel)
        and cls is not m.ExactModel
    ]


def test_every_read_model_is_frozen_optional_and_hashable():
    models = _read_models()
    assert len(models) == 26
    for cls in models:
        instance = cls()
        assert all(
            getattr(instance, f.name) is None for f in attrs.fields(cls) if f.name != "extra"
        )
        hash(instance)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            instance.extra = {}  # type: ignore[misc]
        for field in attrs.fields(cls):
            if field.name != "extra":
                assert m.WIRE in field.metadata, (cls, field.name)


def test_repr_shows_only_set_fields():
    assert repr(m.Account(name="Gym", code="8")) == "Account(code='8', name='Gym')"


def test_write_models_require_their_required_fields():
    with pytest.raises(TypeError):
        m.NewAccount()  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="at least one line"):
        m.NewSalesEntry(customer=uuid.UUID(G1), journal="70", lines=())
    with pytest.raises(ConfigurationError, match="at least one line"):
        m.NewBankEntry(journal_code="50", lines=[])
    entry = m.NewGeneralJournalEntry(
        journal_code="90", lines=[m.NewGeneralJournalEntryLine(gl_account=uuid.UUID(G1))]
    )
    assert isinstance(entry.lines, tuple)


def test_write_model_repr_hides_attachment_bytes():
    attachment = m.NewDocumentAttachment(
        document=uuid.UUID(G1), file_name="a.pdf", attachment=b"CANARY-PDF-BYTES"
    )
    assert "CANARY" not in repr(attachment)
    assert unstructure(attachment)["Attachment"] == "Q0FOQVJZLVBERi1CWVRFUw=="


def test_new_account_wire_shape():
    body = unstructure(
        m.NewAccount(
            name="Club Sportif",
            code="8",
            status="C",
            is_sales=True,
            country="fr",
            sales_vat_code="VN",
            credit_line_sales=Decimal("1500.00"),
        )
    )
    assert body == {
        "Name": "Club Sportif",
        "Code": "                 8",
        "Status": "C",
        "IsSales": True,
        "Country": "FR ",
        "SalesVATCode": "VN ",
        "CreditLineSales": Decimal("1500.00"),
    }


def test_new_journal_enum_type_sent_as_int():
    body = unstructure(m.NewJournal(code="70", type=m.JournalType.SALES, description="Verkoop"))
    assert body == {"Code": "70", "Type": 20, "Description": "Verkoop"}
    assert type(body["Type"]) is int


# --------------------------------------------------------------------------- resources


def test_resources_cover_every_model():
    spec_models = {spec.model for spec in RESOURCES.values()}
    assert spec_models == set(_read_models())
    write_models = {
        cls
        for name in m.__all__
        if isinstance(cls := getattr(m, name), type)
        and issubclass(cls, m.WriteModel)
        and cls is not m.WriteModel
    }
    assert {spec.new_model for spec in RESOURCES.values() if spec.new_model} == write_models


@pytest.mark.parametrize(
    ("name", "path", "key", "verbs"),
    [
        ("accounts", "crm/Accounts", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("bank_accounts", "crm/BankAccounts", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("contacts", "crm/Contacts", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("sales_entries", "salesentry/SalesEntries", "EntryID", {"GET", "POST", "PUT", "DELETE"}),
        ("sales_entry_lines", "salesentry/SalesEntryLines", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("journals", "financial/Journals", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("vat_codes", "vat/VATCodes", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("gl_accounts", "financial/GLAccounts", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("financial_periods", "financial/FinancialPeriods", "ID", {"GET"}),
        ("cost_centers", "hrm/Costcenters", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("cost_units", "hrm/Costunits", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("documents", "documents/Documents", "ID", {"GET", "POST", "PUT", "DELETE"}),
        ("document_attachments", "documents/DocumentAttachments", "ID", {"GET", "POST", "DELETE"}),
        ("bank_entries", "financialtransaction/BankEntries", "EntryID", {"GET", "POST", "DELETE"}),
        ("bank_entry_lines", "financialtransaction/BankEntryLines", "ID", {"GET", "POST"}),
        (
            "general_journal_entries",
            "generaljournalentry/GeneralJournalEntries",
            "EntryID",
            {"GET", "POST", "DELETE"},
        ),
        (
            "general_journal_entry_lines",
            "generaljournalentry/GeneralJournalEntryLines",
            "ID",
            {"GET", "POST"},
        ),
        ("receivables_list", "read/financial/ReceivablesList", "HID", {"GET"}),
        ("receivables", "cashflow/Receivables", "ID", {"GET", "PUT"}),
        ("payment_conditions", "cashflow/PaymentConditions", "ID", {"GET", "POST"}),
        (
            "direct_debit_mandates",
            "cashflow/DirectDebitMandates",
            "ID",
            {"GET", "POST", "PUT", "DELETE"},
        ),
        ("transaction_lines", "financialtransaction/TransactionLines", "ID", {"GET"}),
        ("divisions", "system/Divisions", "Code", {"GET"}),
        ("me", "current/Me", "UserID", {"GET"}),
        ("deleted", "sync/Deleted", "ID", {"GET"}),
    ],
)
def test_resource_paths_keys_and_verbs(name, path, key, verbs):
    spec = RESOURCES[name]
    assert (spec.name, spec.path, spec.key, set(spec.verbs)) == (name, path, key, verbs)
    assert spec.allows("get")
    # the key is a property the model reads
    assert spec.key in wire_names(spec.model, include_sync_only=True)


def test_resource_rules():
    assert RESOURCES["accounts"].mandatory_filter
    assert RESOURCES["general_journal_entries"].requires_select_or_top
    assert RESOURCES["direct_debit_mandates"].requires_select_or_top
    assert not RESOURCES["me"].division_scoped
    assert all(spec.division_scoped for name, spec in RESOURCES.items() if name != "me")
    assert RESOURCES["divisions"].key_kind == "int"
    assert RESOURCES["receivables_list"].key_kind == "int64"
    assert RESOURCES["sales_entries"].page_size == PAGE_SIZE
    assert RESOURCES["deleted"].page_size == BULK_PAGE_SIZE
    assert RESOURCES["accounts"].bulk_path == "bulk/CRM/Accounts"
    assert RESOURCES["accounts"].sync_path == "sync/CRM/Accounts"
    assert RESOURCES["transaction_lines"].sync_path == "sync/Financial/TransactionLines"
    assert RESOURCES["receivables"].bulk_path == "bulk/Cashflow/Receivables"
    for spec in RESOURCES.values():
        for child in spec.children.values():
            assert child in RESOURCES
        if spec.new_model is not None:
            assert spec.allows("POST")
    assert RESOURCES["sales_entries"].children == {"SalesEntryLines": "sales_entry_lines"}


def test_resource_for_model_and_validation():
    assert resource_for_model(m.SalesEntry).name == "sales_entries"
    assert resource_for_model(m.NewSalesEntryLine).name == "sales_entry_lines"
    with pytest.raises(KeyError):
        resource_for_model(int)
    with pytest.raises(ConfigurationError):
        ResourceSpec("x", "a/B", m.Account, "ID", verbs=frozenset({"PATCH"}))
    with pytest.raises(ConfigurationError):
        ResourceSpec("x", "a/B", m.Account, "ID", key_kind="text")
    with pytest.raises(TypeError):
        RESOURCES["x"] = RESOURCES["accounts"]  # type: ignore[index]


def test_new_sales_entry_sends_a_chosen_entry_number():
    line = m.NewSalesEntryLine(gl_account=uuid.UUID(G1), amount_fc=Decimal("10.00"))
    numbered = unstructure(
        m.NewSalesEntry(customer=uuid.UUID(G1), journal="70", lines=[line], entry_number=25700042)
    )
    assert numbered["EntryNumber"] == 25700042
    unnumbered = unstructure(m.NewSalesEntry(customer=uuid.UUID(G1), journal="70", lines=[line]))
    assert "EntryNumber" not in unnumbered
