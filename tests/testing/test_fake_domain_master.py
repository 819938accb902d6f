"""Master-data rules of the fake Exact domain: accounts, contacts, ledger set-up, documents."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from exactbridge.testing._exact.domain import ExactDomain, FakeODataError
from exactbridge.testing._exact.schema import EntitySet
from exactbridge.testing._exact.seeds import SeededDivision, seed_division

DIV = 1001
NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture
def domain() -> ExactDomain:
    return ExactDomain(now=lambda: NOW)


@pytest.fixture
def seeded(domain: ExactDomain) -> SeededDivision:
    return seed_division(domain, DIV, customers=["Jan Jansen"])


def es(domain: ExactDomain, path: str) -> EntitySet:
    found = domain.entity_set(path)
    assert found is not None
    return found


def create(domain: ExactDomain, path: str, body: dict[str, Any]) -> dict[str, Any]:
    return domain.create(DIV, es(domain, path), body)


def refused(domain: ExactDomain, path: str, body: dict[str, Any], status: int = 500) -> str:
    with pytest.raises(FakeODataError) as caught:
        create(domain, path, body)
    assert caught.value.status == status
    return caught.value.message


# -- accounts ----------------------------------------------------------------------------------


def test_account_name_is_mandatory(domain: ExactDomain, seeded: SeededDivision) -> None:
    assert refused(domain, "crm/Accounts", {"Email": "x@y.nl"}) == "Mandatory: Name"
    assert refused(domain, "crm/Accounts", {"Name": "  "}) == "Mandatory: Name"


def test_account_code_is_right_aligned_to_18(domain: ExactDomain, seeded: SeededDivision) -> None:
    row = create(domain, "crm/Accounts", {"Name": "A", "Code": "1001"})
    assert row["Code"] == "              1001"
    assert len(row["Code"]) == 18


def test_account_code_defaults_to_highest_numeric_plus_one(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    # the seeded customer got code 1
    create(domain, "crm/Accounts", {"Name": "A", "Code": "40"})
    create(domain, "crm/Accounts", {"Name": "B", "Code": "ABC"})
    row = create(domain, "crm/Accounts", {"Name": "C"})
    assert row["Code"] == "41".rjust(18)


def test_account_codes_are_unique_padded_or_not(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    create(domain, "crm/Accounts", {"Name": "A", "Code": "2001"})
    message = refused(domain, "crm/Accounts", {"Name": "B", "Code": "2001".rjust(18)})
    assert message == "Already exists: Code 2001"


def test_account_code_longer_than_18_is_invalid(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    assert refused(domain, "crm/Accounts", {"Name": "A", "Code": "1" * 19}) == "Invalid: Code"


def test_account_code_cannot_change_on_put(domain: ExactDomain, seeded: SeededDivision) -> None:
    row = create(domain, "crm/Accounts", {"Name": "A", "Code": "77"})
    domain.update(DIV, es(domain, "crm/Accounts"), row["ID"], {"Code": "78", "Name": "B"})
    after = domain.get(DIV, es(domain, "crm/Accounts"), row["ID"])
    assert (after["Code"], after["Name"]) == ("77".rjust(18), "B")


def test_account_country_is_padded_and_named(domain: ExactDomain, seeded: SeededDivision) -> None:
    row = create(domain, "crm/Accounts", {"Name": "A", "Country": "nl"})
    assert (row["Country"], row["CountryName"]) == ("NL ", "Netherlands")
    assert refused(domain, "crm/Accounts", {"Name": "A", "Country": "NLD"}) == "Invalid: Country"


def test_account_flags_are_kept(domain: ExactDomain, seeded: SeededDivision) -> None:
    customer = create(domain, "crm/Accounts", {"Name": "C", "Status": "C", "IsSales": True})
    supplier = create(domain, "crm/Accounts", {"Name": "S", "IsSupplier": True})
    assert (customer["IsSales"], customer["IsSupplier"], customer["Status"]) == (True, False, "C")
    assert (supplier["IsSales"], supplier["IsSupplier"], supplier["IsPurchase"]) == (
        False,
        True,
        True,
    )
    assert customer["Type"] == "A"
    assert customer["Blocked"] is False
    assert refused(domain, "crm/Accounts", {"Name": "X", "Status": "Q"}) == "Invalid: Status"


def test_account_references_must_exist(domain: ExactDomain, seeded: SeededDivision) -> None:
    message = refused(
        domain,
        "crm/Accounts",
        {
            "Name": "A",
            "SalesVATCode": "99",
            "PaymentConditionSales": "ZZ",
            "GLAR": str(uuid.uuid4()),
        },
    )
    assert message.split("\r\n") == [
        "Invalid reference: VAT code",
        "Invalid reference: Payment condition",
        "Invalid reference: G/L account",
    ]
    row = create(domain, "crm/Accounts", {"Name": "A", "SalesVATCode": "2"})
    assert row["SalesVATCode"] == "2  "


def test_account_delete_cascades_contacts_and_bank_accounts(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    account = create(domain, "crm/Accounts", {"Name": "A"})
    contact = create(domain, "crm/Contacts", {"Account": str(account["ID"]), "LastName": "Jansen"})
    bank = create(
        domain,
        "crm/BankAccounts",
        {"Account": str(account["ID"]), "BankAccount": "NL91ABNA0417164300"},
    )
    domain.delete(DIV, es(domain, "crm/Accounts"), account["ID"])
    deleted = {
        (r["EntityKey"], r["EntityType"]) for r in domain.rows(DIV, es(domain, "sync/Deleted"))
    }
    assert deleted == {(account["ID"], 2), (contact["ID"], 5), (bank["ID"], 48)}


def test_bank_accounts_and_navigation(domain: ExactDomain, seeded: SeededDivision) -> None:
    account = create(domain, "crm/Accounts", {"Name": "A"})
    bank = create(
        domain,
        "crm/BankAccounts",
        {"Account": str(account["ID"]), "BankAccount": "NL91 ABNA 0417 1643 00"},
    )
    assert (bank["Type"], bank["Main"], bank["IBAN"]) == ("A", True, "NL91ABNA0417164300")
    assert bank["AccountName"] == "A"
    children = domain.children(DIV, es(domain, "crm/Accounts"), account["ID"], "BankAccounts")
    assert [c["ID"] for c in children] == [bank["ID"]]
    message = refused(
        domain,
        "crm/BankAccounts",
        {"Account": str(uuid.uuid4()), "BankAccount": "x", "Type": "R"},
    )
    assert message == "Invalid reference: Relationship\r\nInvalid: Type"
    assert (
        refused(domain, "crm/BankAccounts", {})
        == "Mandatory: Relationship\r\nMandatory: Bank account"
    )


def test_contacts(domain: ExactDomain, seeded: SeededDivision) -> None:
    account = create(domain, "crm/Accounts", {"Name": "Acme", "Status": "C"})
    contact = create(
        domain,
        "crm/Contacts",
        {"Account": str(account["ID"]), "FirstName": "Jan", "LastName": "Jansen"},
    )
    assert contact["FullName"] == "Jan Jansen"
    assert (contact["AccountName"], contact["AccountIsCustomer"]) == ("Acme", True)
    assert contact["HID"] == 1
    assert (
        refused(domain, "crm/Contacts", {"Account": str(account["ID"])}) == "Mandatory: Last name"
    )
    assert refused(domain, "crm/Contacts", {"LastName": "x"}) == "Mandatory: Relationship"


def test_direct_debit_mandates(domain: ExactDomain, seeded: SeededDivision) -> None:
    account = create(domain, "crm/Accounts", {"Name": "Acme"})
    bank = create(
        domain, "crm/BankAccounts", {"Account": str(account["ID"]), "BankAccount": "NL01"}
    )
    mandate = create(
        domain,
        "cashflow/DirectDebitMandates",
        {"Account": str(account["ID"]), "BankAccount": str(bank["ID"]), "Reference": "M-1"},
    )
    assert (mandate["AccountName"], mandate["BankAccountNumber"], mandate["Type"]) == (
        "Acme",
        "NL01",
        0,
    )
    other = create(domain, "crm/Accounts", {"Name": "Other"})
    message = refused(
        domain,
        "cashflow/DirectDebitMandates",
        {"Account": str(other["ID"]), "BankAccount": str(bank["ID"]), "Reference": "M-1"},
    )
    assert message == "Invalid reference: Bank account\r\nAlready exists: Reference M-1"


# -- journals, VAT, GL -------------------------------------------------------------------------


def test_journal_rules(domain: ExactDomain, seeded: SeededDivision) -> None:
    assert refused(domain, "financial/Journals", {"Code": "70", "Type": 20}) == (
        "Already exists: Code 70"
    )
    assert refused(domain, "financial/Journals", {"Code": "X", "Type": 55}) == "Invalid: Type"
    assert refused(domain, "financial/Journals", {"Code": "X", "Type": 12}) == (
        "Mandatory: Bank account"
    )
    assert refused(domain, "financial/Journals", {"Code": "X", "Type": 16}) == (
        "Mandatory: Payment service provider"
    )
    assert refused(domain, "financial/Journals", {"Description": "x"}) == (
        "Mandatory: Code\r\nMandatory: Type"
    )
    row = create(
        domain,
        "financial/Journals",
        {"Code": "72", "Description": "Extra", "Type": 20, "GLAccount": str(seeded.gl("1300"))},
    )
    assert (row["GLAccountCode"], row["GLAccountType"], row["Currency"]) == ("1300", 20, "EUR")


def test_journal_in_use_cannot_be_deleted(domain: ExactDomain, seeded: SeededDivision) -> None:
    create(
        domain,
        "salesentry/SalesEntries",
        {
            "Customer": str(seeded.customers["Jan Jansen"]),
            "Journal": "70",
            "EntryDate": "2025-02-01",
            "SalesEntryLines": [{"GLAccount": str(seeded.gl("8000")), "AmountFC": "10"}],
        },
    )
    with pytest.raises(FakeODataError) as caught:
        domain.delete(DIV, es(domain, "financial/Journals"), seeded.journals["70"])
    assert caught.value.message == "Not allowed: Journal is in use"
    domain.delete(DIV, es(domain, "financial/Journals"), seeded.journals["71"])


def test_vat_code_rules(domain: ExactDomain, seeded: SeededDivision) -> None:
    row = create(
        domain,
        "vat/VATCodes",
        {
            "Code": "9",
            "Description": "Test",
            "Percentage": Decimal("0.055"),
            "GLToPay": str(seeded.gl("1500")),
        },
    )
    assert (row["Code"], row["Percentage"], row["Type"], row["VATTransactionType"]) == (
        "9  ",
        Decimal("0.055"),
        "E",
        "B",
    )
    assert row["GLToPayCode"] == "1500"
    assert refused(domain, "vat/VATCodes", {"Code": "2", "Description": "x"}) == (
        "Already exists: Code 2"
    )
    assert refused(domain, "vat/VATCodes", {"Code": "ABCD", "Description": "x"}) == "Invalid: Code"
    message = refused(
        domain,
        "vat/VATCodes",
        {"Code": "X", "Description": "x", "Percentage": 21, "Type": "Z", "VATTransactionType": "Q"},
    )
    assert message.split("\r\n") == [
        "Invalid: Percentage",
        "Invalid: Type",
        "Invalid: VAT transaction type",
    ]
    assert refused(
        domain, "vat/VATCodes", {"Code": "X", "Description": "x", "Percentage": "0.1"}
    ) == ("Mandatory: VAT to pay")


def test_gl_account_rules(domain: ExactDomain, seeded: SeededDivision) -> None:
    row = create(
        domain, "financial/GLAccounts", {"Code": "8100", "Description": "Omzet", "Type": 110}
    )
    assert (row["BalanceType"], row["BalanceSide"], row["TypeDescription"]) == (
        "W",
        "C",
        "Revenue",
    )
    assert (row["UseCostcenter"], row["UseCostunit"]) == (0, 0)
    assert (
        create(domain, "financial/GLAccounts", {"Code": "0100", "Description": "x"})["Type"] == 90
    )
    message = refused(
        domain,
        "financial/GLAccounts",
        {"Code": "8000", "Description": "x", "Type": 111_111, "UseCostcenter": 3},
    )
    assert message.split("\r\n") == [
        "Already exists: Code 8000",
        "Invalid: Type",
        "Invalid: Use cost center",
    ]
    message = refused(
        domain,
        "financial/GLAccounts",
        {"Code": "8200", "Description": "x", "VATCode": "99", "Costcenter": "NOPE"},
    )
    assert message == "Invalid reference: VAT code\r\nInvalid reference: Cost center"


def test_gl_account_in_use_cannot_be_deleted(domain: ExactDomain, seeded: SeededDivision) -> None:
    with pytest.raises(FakeODataError) as caught:
        domain.delete(DIV, es(domain, "financial/GLAccounts"), seeded.gl("1300"))
    assert caught.value.message == "Not allowed: G/L account is in use"
    domain.delete(DIV, es(domain, "financial/GLAccounts"), seeded.gl("4510"))
    deleted = domain.rows(DIV, es(domain, "sync/Deleted"))
    assert [(r["EntityKey"], r["EntityType"]) for r in deleted] == [(seeded.gl("4510"), 7)]


def test_cost_centers_and_units(domain: ExactDomain, seeded: SeededDivision) -> None:
    assert refused(domain, "hrm/Costcenters", {"Code": "100", "Description": "x"}) == (
        "Already exists: Code 100"
    )
    assert refused(domain, "hrm/Costunits", {"Code": "123456789", "Description": "x"}) == (
        "Invalid: Code"
    )
    assert refused(domain, "hrm/Costunits", {}) == "Mandatory: Code\r\nMandatory: Description"
    row = create(domain, "hrm/Costcenters", {"Code": "400", "Description": "Zwembad"})
    assert row["Active"] is True


def test_payment_conditions(domain: ExactDomain, seeded: SeededDivision) -> None:
    row = create(domain, "cashflow/PaymentConditions", {"Code": "60", "Description": "60 dagen"})
    assert (row["PaymentDays"], row["PaymentMethod"]) == (0, "B")
    assert refused(domain, "cashflow/PaymentConditions", {"Code": "30", "Description": "x"}) == (
        "Already exists: Code 30"
    )
    assert refused(
        domain,
        "cashflow/PaymentConditions",
        {"Code": "X", "Description": "x", "PaymentMethod": "Z"},
    ) == ("Invalid: Payment method")


def test_financial_periods_are_read_only(domain: ExactDomain, seeded: SeededDivision) -> None:
    with pytest.raises(FakeODataError) as caught:
        create(domain, "financial/FinancialPeriods", {"FinYear": 2030})
    assert caught.value.status == 405


# -- documents ---------------------------------------------------------------------------------


def test_documents_and_attachments(domain: ExactDomain, seeded: SeededDivision) -> None:
    customer = seeded.customers["Jan Jansen"]
    document = create(
        domain,
        "documents/Documents",
        {"Subject": "Invoice 1", "Type": 10, "Account": str(customer)},
    )
    assert document["TypeDescription"] == "Sales invoice"
    assert document["AccountName"] == "Jan Jansen"
    assert document["HID"] == 1
    assert str(document["ID"]) in document["DocumentViewUrl"]
    pdf = b"%PDF-1.4 fake"
    attachment = create(
        domain,
        "documents/DocumentAttachments",
        {
            "Document": str(document["ID"]),
            "FileName": "1.pdf",
            "Attachment": base64.b64encode(pdf).decode(),
        },
    )
    assert attachment["Attachment"] is None  # Exact answers null; the bytes are behind Url
    assert attachment["FileSize"] == Decimal(len(pdf))
    assert attachment["Url"] == (
        f"https://start.exactonline.nl/docs/SysAttachment.aspx?ID={attachment['ID']}"
        f"&_Division_={DIV}"
    )
    assert domain.attachment_bytes(DIV, attachment["ID"]) == pdf


def test_attachment_validation(domain: ExactDomain, seeded: SeededDivision) -> None:
    message = refused(
        domain,
        "documents/DocumentAttachments",
        {"Document": str(uuid.uuid4()), "FileName": "x.pdf", "Attachment": "QUJD"},
    )
    assert message == "Invalid reference: Document"
    assert refused(domain, "documents/DocumentAttachments", {}) == (
        "Mandatory: Attachment\r\nMandatory: Document\r\nMandatory: File name"
    )
    message = refused(
        domain,
        "documents/DocumentAttachments",
        {"Document": str(uuid.uuid4()), "FileName": "x.pdf", "Attachment": "%%%"},
        status=400,
    )
    assert "Attachment" in message
    assert "Edm.Binary" in message
    assert refused(domain, "documents/Documents", {}) == "Mandatory: Subject\r\nMandatory: Type"


def test_deleting_a_document_deletes_its_attachments(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    document = create(domain, "documents/Documents", {"Subject": "x", "Type": 10})
    attachment = create(
        domain,
        "documents/DocumentAttachments",
        {"Document": str(document["ID"]), "FileName": "x.pdf", "Attachment": "QUJD"},
    )
    domain.delete(DIV, es(domain, "documents/Documents"), document["ID"])
    assert domain.rows(DIV, es(domain, "documents/DocumentAttachments")) == []
    assert domain.attachment_bytes(DIV, attachment["ID"]) is None
    types = sorted(r["EntityType"] for r in domain.rows(DIV, es(domain, "sync/Deleted")))
    assert types == [4, 6]
