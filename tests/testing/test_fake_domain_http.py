"""The fake's validation and bookkeeping behaviour over HTTP, asserted on raw JSON.

These tests talk to ``FakeExactOnline`` through an httpx transport and read bodies with
``json.loads`` only: no client parsing code is involved, so the shapes checked here are
the ones any HTTP client sees.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from exactbridge.testing import FakeExactOnline

BASE = "https://start.exactonline.nl"
DIV = 123
API = f"/api/v1/{DIV}"


def loads(response: httpx.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


def error_text(response: httpx.Response) -> str:
    body = loads(response)
    assert set(body) == {"error"}
    assert body["error"]["code"] == ""
    assert body["error"]["message"]["lang"] == ""
    text = body["error"]["message"]["value"]
    assert isinstance(text, str)
    return text


def ms(day: dt.date) -> str:
    """Exact's /Date(ms)/ for a date stored as local midnight."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    return f"/Date({int(midnight.timestamp() * 1000)})/"


class Exact:
    """A thin raw-JSON helper around an httpx client wired to the fake."""

    def __init__(self, fake: FakeExactOnline) -> None:
        grant = fake.issue_tokens()
        self.http = httpx.Client(
            transport=fake.transport(),
            base_url=BASE,
            headers={
                "Authorization": f"Bearer {grant.access_token}",
                "Accept": "application/json",
                "Prefer": "return=representation",
            },
        )
        self.fake = fake
        # a generous minute: these tests make many calls at one simulated instant
        fake.minutely_limit = 10_000
        fake.error_budget = 1_000

    def get(self, path: str, **params: str) -> Any:
        response = self.http.get(f"{API}/{path}", params=params)
        assert response.status_code == 200, response.text
        return loads(response)["d"]

    def results(self, path: str, **params: str) -> list[dict[str, Any]]:
        d = self.get(path, **params)
        rows = d["results"] if isinstance(d, dict) else d
        assert isinstance(rows, list)
        return rows

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(
            f"{API}/{path}",
            content=json.dumps(body, default=str),
            headers={"Content-Type": "application/json"},
        )

    def created(self, path: str, body: Any) -> dict[str, Any]:
        response = self.post(path, body)
        assert response.status_code == 201, response.text
        entity = loads(response)["d"]
        assert isinstance(entity, dict)
        return entity

    def gl(self, code: str) -> str:
        (row,) = self.results(
            "financial/GLAccounts", **{"$filter": f"Code eq '{code}'", "$select": "ID"}
        )
        return str(row["ID"])

    def customer(self, name: str) -> str:
        (row,) = self.results("crm/Accounts", **{"$filter": f"Name eq '{name}'", "$select": "ID"})
        return str(row["ID"])


@pytest.fixture
def exact() -> Iterator[Exact]:
    fake = FakeExactOnline()
    fake.add_division(DIV, template="nl", customers=["Jan Jansen"])
    client = Exact(fake)
    yield client
    client.http.close()


def invoice(exact: Exact, **header: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Customer": exact.customer("Jan Jansen"),
        "Journal": "70",
        "EntryDate": "2026-02-12",
        "YourRef": "F0005555",
        "PaymentCondition": "14",
        "SalesEntryLines": [
            {"GLAccount": exact.gl("8000"), "AmountFC": "41.98", "VATCode": "2  "},
            {"GLAccount": exact.gl("8010"), "AmountFC": 10},
        ],
    }
    body.update(header)
    return body


# -- sales entries -----------------------------------------------------------------------------


def test_sales_entry_post_computes_the_header(exact: Exact) -> None:
    entry = exact.created("salesentry/SalesEntries", invoice(exact))
    assert entry["__metadata"]["type"] == "Exact.Web.Api.Models.SalesEntry"
    # 41.98 + 21 % (8.8158 -> 8.82) + 10.00 + 9 % (0.90) = 61.70
    assert entry["AmountFC"] == Decimal("61.70")
    assert entry["AmountDC"] == Decimal("61.70")
    assert entry["VATAmountFC"] == Decimal("9.72")
    assert (entry["Type"], entry["Status"], entry["EntryNumber"]) == (20, 20, 26700001)
    assert (entry["ReportingYear"], entry["ReportingPeriod"]) == (2026, 2)
    assert entry["InvoiceNumber"] == entry["EntryNumber"]
    assert entry["EntryDate"] == ms(dt.date(2026, 2, 12))
    assert entry["DueDate"] == ms(dt.date(2026, 2, 26))
    assert entry["CustomerName"] == "Jan Jansen"
    lines = exact.results(
        f"salesentry/SalesEntries(guid'{entry['EntryID']}')/SalesEntryLines",
        **{"$orderby": "LineNumber"},
    )
    assert [(x["LineNumber"], x["VATCode"], x["VATAmountFC"]) for x in lines] == [
        (1, "2  ", Decimal("8.82")),
        (2, "1  ", Decimal("0.90")),
    ]


def test_read_only_header_amounts_are_ignored(exact: Exact) -> None:
    entry = exact.created(
        "salesentry/SalesEntries",
        invoice(exact, AmountFC="1.00", AmountDC="1.00", VATAmountDC="0"),
    )
    assert (entry["AmountFC"], entry["Type"]) == (Decimal("61.70"), 20)


def test_credit_note_type_is_derived(exact: Exact) -> None:
    body = invoice(exact)
    body["SalesEntryLines"] = [{"GLAccount": exact.gl("8000"), "AmountFC": -100, "VATCode": "2"}]
    entry = exact.created("salesentry/SalesEntries", body)
    assert (entry["Type"], entry["AmountFC"]) == (21, Decimal("-121.00"))


def test_validation_errors_are_500_with_exact_shape(exact: Exact) -> None:
    body = invoice(exact, Journal=exact.gl("8000"))  # a GUID where the journal code belongs
    body["SalesEntryLines"] = [{"GLAccount": exact.gl("1300"), "AmountFC": 1}]
    response = exact.post("salesentry/SalesEntries", body)
    assert response.status_code == 500
    assert error_text(response) == "Invalid reference: Journals\r\nInvalid: G/L account type"


def test_mandatory_fields(exact: Exact) -> None:
    response = exact.post("salesentry/SalesEntries", {"Description": "x"})
    assert response.status_code == 500
    assert error_text(response) == ("Mandatory: Customer\r\nMandatory: Journal\r\nMandatory: Lines")


def test_unknown_property_is_400(exact: Exact) -> None:
    body = invoice(exact)
    body["SalesEntryLines"][0]["SalesVatCode"] = "2"
    response = exact.post("salesentry/SalesEntries", body)
    assert response.status_code == 400
    assert error_text(response) == (
        "Error processing request stream. The property name 'SalesVatCode' specified for type "
        "'Exact.Web.Api.Models.SalesEntryLine' is not valid."
    )


def test_lines_as_a_single_object_is_400(exact: Exact) -> None:
    body = invoice(exact)
    body["SalesEntryLines"] = body["SalesEntryLines"][0]
    response = exact.post("salesentry/SalesEntries", body)
    assert response.status_code == 400
    assert error_text(response) == (
        "Error processing request stream. The request should be a valid top-level resource object."
    )


def test_financial_year_and_period_errors(exact: Exact) -> None:
    mismatch = exact.post(
        "salesentry/SalesEntries",
        invoice(exact, EntryDate="2025-12-31", ReportingYear=2026, ReportingPeriod=1),
    )
    assert (mismatch.status_code, error_text(mismatch)) == (
        500,
        "The financial year cannot be changed.",
    )
    missing = exact.post("salesentry/SalesEntries", invoice(exact, EntryDate="2031-01-01"))
    assert (missing.status_code, error_text(missing)) == (
        500,
        "Invalid: Period 2031/1 does not exist",
    )


def test_closed_period_over_http() -> None:
    fake = FakeExactOnline()
    fake.add_division(
        DIV, template="nl", customers=["Jan Jansen"], closed_periods=[(2026, 1, "70")]
    )
    exact = Exact(fake)
    response = exact.post("salesentry/SalesEntries", invoice(exact, EntryDate="2026-01-20"))
    assert response.status_code == 500
    assert error_text(response) == "Not allowed: Period 2026/1 is closed for journal 70"


def test_cost_center_rules(exact: Exact) -> None:
    body = invoice(exact)
    body["SalesEntryLines"] = [
        {"GLAccount": exact.gl("8030"), "AmountFC": 10},
        {"GLAccount": exact.gl("8000"), "AmountFC": 10, "CostUnit": "NOPE"},
    ]
    response = exact.post("salesentry/SalesEntries", body)
    assert response.status_code == 500
    assert error_text(response) == "Mandatory: Cost center\r\nInvalid reference: Cost unit"


def test_dutch_messages() -> None:
    fake = FakeExactOnline(domain_options={"language": "nl"})
    fake.add_division(DIV, template="nl", customers=["Jan Jansen"])
    exact = Exact(fake)
    body = invoice(exact, Journal="20")
    body["SalesEntryLines"] = [{"GLAccount": exact.gl("1500"), "AmountFC": 1}]
    response = exact.post("salesentry/SalesEntries", body)
    assert error_text(response) == "Ongeldig: Dagboek\r\nOngeldig: Grootboekrekeningtype"
    response = exact.post("crm/Accounts", {"Email": "x@example.invalid"})
    assert error_text(response) == "Verplicht: Naam"


# -- receivables -------------------------------------------------------------------------------


def test_receivable_appears_and_a_bank_line_closes_it(exact: Exact) -> None:
    entry = exact.created("salesentry/SalesEntries", invoice(exact))
    (open_item,) = exact.results("read/financial/ReceivablesList")
    assert open_item["Amount"] == Decimal("61.70")
    assert open_item["InvoiceNumber"] == entry["EntryNumber"]
    assert open_item["YourRef"] == "F0005555"
    assert open_item["DueDate"] == ms(dt.date(2026, 2, 26))
    assert open_item["AccountCode"] == "                 1"
    (receivable,) = exact.results("cashflow/Receivables")
    assert (receivable["Status"], receivable["IsFullyPaid"]) == (20, False)

    bank = exact.created(
        "financialtransaction/BankEntries",
        {
            "JournalCode": "20",
            "OpeningBalanceFC": "100.00",
            "BankEntryLines": [
                {
                    "Date": "2026-03-02",
                    "GLAccount": exact.gl("1300"),
                    "Account": entry["Customer"],
                    "OurRef": entry["EntryNumber"],
                    "AmountFC": "61.70",
                    "Description": "Betaling F0005555",
                }
            ],
        },
    )
    assert bank["ClosingBalanceFC"] == Decimal("161.70")
    assert bank["EntryNumber"] == 26200001
    assert exact.results("read/financial/ReceivablesList") == []
    (receivable,) = exact.results("cashflow/Receivables")
    assert (receivable["Status"], receivable["IsFullyPaid"]) == (50, True)
    assert receivable["LastPaymentDate"] == ms(dt.date(2026, 3, 2))


def test_bank_entry_closing_balance_mismatch(exact: Exact) -> None:
    response = exact.post(
        "financialtransaction/BankEntries",
        {
            "JournalCode": "20",
            "OpeningBalanceFC": 0,
            "ClosingBalanceFC": 5,
            "BankEntryLines": [{"GLAccount": exact.gl("2050"), "AmountFC": 4}],
        },
    )
    assert response.status_code == 500
    assert error_text(response) == (
        "Invalid: Closing balance 5 does not equal opening balance plus lines 4"
    )
    wrong_journal = exact.post(
        "financialtransaction/BankEntries",
        {"JournalCode": "70", "BankEntryLines": [{"GLAccount": exact.gl("2050"), "AmountFC": 4}]},
    )
    assert error_text(wrong_journal) == "Invalid: Journal"


def test_receipt_sign_option_over_http() -> None:
    fake = FakeExactOnline(domain_options={"receipt_sign": -1})
    fake.add_division(DIV, template="nl", customers=["Jan Jansen"])
    exact = Exact(fake)
    entry = exact.created("salesentry/SalesEntries", invoice(exact))
    bank = exact.created(
        "financialtransaction/BankEntries",
        {
            "JournalCode": "20",
            "BankEntryLines": [
                {
                    "Date": "2026-03-02",
                    "GLAccount": exact.gl("1300"),
                    "Account": entry["Customer"],
                    "OurRef": entry["EntryNumber"],
                    "AmountFC": "-61.70",
                }
            ],
        },
    )
    assert bank["ClosingBalanceFC"] == Decimal("61.70")
    assert exact.results("read/financial/ReceivablesList") == []


def test_general_journal_entry_settles_and_needs_select_or_top(exact: Exact) -> None:
    entry = exact.created("salesentry/SalesEntries", invoice(exact))
    memo = exact.created(
        "generaljournalentry/GeneralJournalEntries",
        {
            "JournalCode": "90",
            "GeneralJournalEntryLines": [
                {
                    "Date": "2026-03-02",
                    "GLAccount": exact.gl("1300"),
                    "Account": entry["Customer"],
                    "OurRef": entry["EntryNumber"],
                    "AmountFC": "-61.70",
                },
                {"Date": "2026-03-02", "GLAccount": exact.gl("1110"), "AmountFC": "61.70"},
            ],
        },
    )
    assert (memo["Type"], memo["EntryNumber"]) == (90, 26900001)
    assert exact.results("read/financial/ReceivablesList") == []
    refused = exact.http.get(f"{API}/generaljournalentry/GeneralJournalEntries")
    assert refused.status_code == 400
    assert exact.results("generaljournalentry/GeneralJournalEntries", **{"$top": "1"})


# -- lines, documents, deletions ---------------------------------------------------------------


def test_adding_and_deleting_lines(exact: Exact) -> None:
    entry = exact.created("salesentry/SalesEntries", invoice(exact))
    key = entry["EntryID"]
    added = exact.created(
        "salesentry/SalesEntryLines",
        {"EntryID": key, "GLAccount": exact.gl("8020"), "AmountFC": "8.30"},
    )
    assert added["LineNumber"] == 3
    header = exact.get(f"salesentry/SalesEntries(guid'{key}')")
    assert header["AmountFC"] == Decimal("70.00")
    (open_item,) = exact.results("read/financial/ReceivablesList")
    assert open_item["Amount"] == Decimal("70.00")

    lines = exact.results(f"salesentry/SalesEntries(guid'{key}')/SalesEntryLines")
    for line in lines:
        deleted = exact.http.delete(f"{API}/salesentry/SalesEntryLines(guid'{line['ID']}')")
        assert deleted.status_code == 204
        assert deleted.content == b""
    gone = exact.http.get(f"{API}/salesentry/SalesEntries(guid'{key}')")
    assert gone.status_code == 404
    assert exact.results("read/financial/ReceivablesList") == []
    deleted_rows = exact.results("sync/Deleted", **{"$filter": "Timestamp gt 1L"})
    assert {row["EntityType"] for row in deleted_rows} == {1, 10}


def test_document_attachment_and_link(exact: Exact) -> None:
    entry = exact.created("salesentry/SalesEntries", invoice(exact))
    document = exact.created(
        "documents/Documents",
        {"Type": 10, "Subject": "Invoice F0005555", "Account": entry["Customer"]},
    )
    pdf = b"%PDF-1.4\n%fake\n"
    attachment = exact.created(
        "documents/DocumentAttachments",
        {
            "Document": document["ID"],
            "FileName": "F0005555.pdf",
            "Attachment": base64.b64encode(pdf).decode(),
        },
    )
    assert attachment["Attachment"] is None
    assert attachment["FileSize"] == len(pdf)
    assert attachment["Url"].startswith(f"{BASE}/docs/SysAttachment.aspx?ID=")
    put = exact.http.put(
        f"{API}/salesentry/SalesEntries(guid'{entry['EntryID']}')",
        json={"Document": document["ID"]},
    )
    assert put.status_code == 204
    linked = exact.get(f"documents/Documents(guid'{document['ID']}')")
    assert linked["FinancialTransactionEntryID"] == entry["EntryID"]
    header = exact.get(f"salesentry/SalesEntries(guid'{entry['EntryID']}')")
    assert header["DocumentSubject"] == "Invoice F0005555"


def test_bad_base64_attachment_is_400(exact: Exact) -> None:
    document = exact.created("documents/Documents", {"Type": 10, "Subject": "x"})
    response = exact.post(
        "documents/DocumentAttachments",
        {"Document": document["ID"], "FileName": "x.pdf", "Attachment": "not base64!"},
    )
    assert response.status_code == 400
    assert error_text(response).startswith("Error processing request stream.")


def test_account_code_padding_and_uniqueness(exact: Exact) -> None:
    created = exact.created("crm/Accounts", {"Name": "Acme", "Country": "NL"})
    assert created["Code"] == "                 2"
    assert created["Country"] == "NL "
    found = exact.results("crm/Accounts", **{"$filter": "Code eq '                 2'"})
    assert [row["ID"] for row in found] == [created["ID"]]
    duplicate = exact.post("crm/Accounts", {"Name": "Other", "Code": "2"})
    assert duplicate.status_code == 500
    assert error_text(duplicate) == "Already exists: Code 2"


def test_transaction_lines_via_sync(exact: Exact) -> None:
    exact.created("salesentry/SalesEntries", invoice(exact))
    rows = exact.results("sync/Financial/TransactionLines", **{"$filter": "Timestamp gt 1L"})
    assert sum(row["AmountFC"] for row in rows) == 0
    assert {row["GLAccountCode"] for row in rows} == {"1300", "8000", "8010", "1500", "1510"}
    assert all(isinstance(row["Timestamp"], int) for row in rows)
