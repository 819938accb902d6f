"""Bookkeeping rules of the fake Exact domain: sales, bank and general journal entries."""

from __future__ import annotations

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


def wall(year: int, month: int, day: int) -> dt.datetime:
    """A naive Amsterdam wall-clock date, as the domain stores it."""
    return dt.datetime.combine(dt.date(year, month, day), dt.time())


@pytest.fixture
def domain() -> ExactDomain:
    return ExactDomain(now=lambda: NOW)


@pytest.fixture
def seeded(domain: ExactDomain) -> SeededDivision:
    return seed_division(domain, DIV, customers=["Jan Jansen", "Piet Pieters"])


def es(domain: ExactDomain, path: str) -> EntitySet:
    found = domain.entity_set(path)
    assert found is not None
    return found


def rows(domain: ExactDomain, path: str) -> list[dict[str, Any]]:
    return domain.rows(DIV, es(domain, path))


def sales_body(seeded: SeededDivision, *lines: dict[str, Any], **header: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Customer": str(seeded.customers["Jan Jansen"]),
        "Journal": "70",
        "EntryDate": "2025-02-12",
        "YourRef": "INV-1",
        "SalesEntryLines": list(lines)
        or [{"GLAccount": str(seeded.gl("8000")), "AmountFC": Decimal("100.00"), "VATCode": "2"}],
    }
    body.update(header)
    return body


def line(seeded: SeededDivision, gl: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {"GLAccount": str(seeded.gl(gl)), "AmountFC": Decimal(amount), **extra}


def post_sales(domain: ExactDomain, body: dict[str, Any]) -> dict[str, Any]:
    return domain.create(DIV, es(domain, "salesentry/SalesEntries"), body)


def sales_error(domain: ExactDomain, body: dict[str, Any]) -> FakeODataError:
    with pytest.raises(FakeODataError) as caught:
        post_sales(domain, body)
    return caught.value


# -- sales entries: validation -----------------------------------------------------------------


def test_sales_entry_required_fields(domain: ExactDomain, seeded: SeededDivision) -> None:
    error = sales_error(domain, {})
    assert error.status == 500
    assert error.message == "Mandatory: Customer\r\nMandatory: Journal\r\nMandatory: Lines"


def test_journal_given_as_guid_is_an_invalid_reference(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    error = sales_error(domain, sales_body(seeded, Journal=str(seeded.journals["70"])))
    assert (error.status, error.message) == (500, "Invalid reference: Journals")


def test_journal_must_be_a_sales_journal(domain: ExactDomain, seeded: SeededDivision) -> None:
    assert sales_error(domain, sales_body(seeded, Journal="20")).message == "Invalid: Journal"
    assert post_sales(domain, sales_body(seeded, Journal="71"))["Journal"] == "71"


def test_dutch_wording(seeded: SeededDivision) -> None:
    dutch = ExactDomain(now=lambda: NOW, language="nl")
    nl = seed_division(dutch, DIV, customers=["Jan Jansen"])
    body = sales_body(nl, line(nl, "1300", "10"), Journal=str(nl.journals["70"]))
    with pytest.raises(FakeODataError) as caught:
        dutch.create(DIV, es(dutch, "salesentry/SalesEntries"), body)
    assert (
        caught.value.message == "Ongeldige referentie: Journals\r\nOngeldig: Grootboekrekeningtype"
    )


@pytest.mark.parametrize("gl", ["1300", "1500", "1100", "4510"])
def test_lines_only_on_revenue_accounts(
    domain: ExactDomain, seeded: SeededDivision, gl: str
) -> None:
    error = sales_error(domain, sales_body(seeded, line(seeded, gl, "10")))
    assert (error.status, error.message) == (500, "Invalid: G/L account type")


def test_line_gl_account_must_exist_and_is_mandatory(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    body = sales_body(
        seeded,
        {"GLAccount": str(uuid.uuid4()), "AmountFC": Decimal(1)},
        {"AmountFC": Decimal(1)},
        {"GLAccount": str(seeded.gl("8000"))},
    )
    assert sales_error(domain, body).message.split("\r\n") == [
        "Invalid reference: G/L account",
        "Mandatory: G/L account",
        "Mandatory: AmountFC",
    ]


def test_vat_code_must_exist_and_allow_sales(domain: ExactDomain, seeded: SeededDivision) -> None:
    missing = sales_body(seeded, line(seeded, "8000", "10", VATCode="99"))
    assert sales_error(domain, missing).message == "Invalid reference: VAT code"
    purchase = sales_body(seeded, line(seeded, "8000", "10", VATCode="4"))
    assert sales_error(domain, purchase).message == "Invalid: VAT code"


def test_customer_must_exist(domain: ExactDomain, seeded: SeededDivision) -> None:
    error = sales_error(domain, sales_body(seeded, Customer=str(uuid.uuid4())))
    assert error.message == "Invalid reference: Customer"


def test_cost_center_mandatory_when_the_gl_account_says_so(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    assert seeded.revenue_cost_center_required == "8030"
    error = sales_error(domain, sales_body(seeded, line(seeded, "8030", "10")))
    assert error.message == "Mandatory: Cost center"
    error = sales_error(domain, sales_body(seeded, line(seeded, "8040", "10")))
    assert error.message == "Mandatory: Cost unit"
    entry = post_sales(
        domain, sales_body(seeded, line(seeded, "8030", "10", CostCenter="200", CostUnit="AMS"))
    )
    (stored,) = domain.children(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], "SalesEntryLines"
    )
    assert (stored["CostCenter"], stored["CostCenterDescription"]) == ("200", "Groepslessen")
    assert (stored["CostUnit"], stored["CostUnitDescription"]) == ("AMS", "Vestiging Amsterdam")


def test_cost_codes_must_exist(domain: ExactDomain, seeded: SeededDivision) -> None:
    body = sales_body(seeded, line(seeded, "8000", "10", CostCenter="999", CostUnit="XXX"))
    assert sales_error(domain, body).message == (
        "Invalid reference: Cost center\r\nInvalid reference: Cost unit"
    )


def test_cost_center_not_allowed_when_gl_says_no(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    gl = es(domain, "financial/GLAccounts")
    domain.update(DIV, gl, seeded.gl("8020"), {"UseCostcenter": 2})
    body = sales_body(seeded, line(seeded, "8020", "10", CostCenter="100"))
    assert sales_error(domain, body).message == "Not allowed: Cost center"


def test_all_problems_in_one_message(domain: ExactDomain, seeded: SeededDivision) -> None:
    body = sales_body(
        seeded,
        line(seeded, "1300", "10", VATCode="99"),
        line(seeded, "8030", "10"),
        Journal="20",
        Customer=str(uuid.uuid4()),
    )
    assert sales_error(domain, body).message.split("\r\n") == [
        "Invalid: Journal",
        "Invalid reference: Customer",
        "Invalid: G/L account type",
        "Invalid reference: VAT code",
        "Mandatory: Cost center",
    ]


# -- sales entries: periods --------------------------------------------------------------------


def test_period_follows_the_entry_date(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded, EntryDate="2025-11-30"))
    assert (entry["ReportingYear"], entry["ReportingPeriod"]) == (2025, 11)


def test_given_period_must_exist(domain: ExactDomain, seeded: SeededDivision) -> None:
    error = sales_error(
        domain, sales_body(seeded, EntryDate=None, ReportingYear=2030, ReportingPeriod=1)
    )
    assert error.message == "Invalid: Period 2030/1 does not exist"
    error = sales_error(domain, sales_body(seeded, EntryDate="2024-06-01"))
    assert error.message == "Invalid: Period 2024/6 does not exist"


def test_year_must_match_the_entry_date(domain: ExactDomain, seeded: SeededDivision) -> None:
    error = sales_error(
        domain,
        sales_body(seeded, EntryDate="2025-12-31", ReportingYear=2026, ReportingPeriod=1),
    )
    assert error.message == "The financial year cannot be changed."


def test_period_may_differ_from_the_date_within_the_year(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entry = post_sales(
        domain, sales_body(seeded, EntryDate="2025-01-31", ReportingYear=2025, ReportingPeriod=2)
    )
    assert (entry["ReportingYear"], entry["ReportingPeriod"]) == (2025, 2)


def test_period_without_date_dates_the_entry_in_the_period(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entry = post_sales(
        domain, sales_body(seeded, EntryDate=None, ReportingYear=2026, ReportingPeriod=4)
    )
    assert entry["EntryDate"] == wall(2026, 4, 1)
    today = post_sales(domain, sales_body(seeded, EntryDate=None))
    assert today["EntryDate"] == wall(2025, 3, 1)


def test_closed_period_for_every_journal(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV, closed_periods=[(2025, 1)], customers=["Jan Jansen"])
    error = sales_error(domain, sales_body(seeded, EntryDate="2025-01-15"))
    assert error.message == "Not allowed: Period 2025/1 is closed for journal 70"
    assert post_sales(domain, sales_body(seeded, EntryDate="2025-02-15"))["ReportingPeriod"] == 2


def test_closed_period_per_journal(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV, closed_periods=[(2025, 1, "70")], customers=["Jan Jansen"])
    assert sales_error(domain, sales_body(seeded, EntryDate="2025-01-15")).status == 500
    entry = post_sales(domain, sales_body(seeded, EntryDate="2025-01-15", Journal="71"))
    assert entry["ReportingPeriod"] == 1
    domain.open_period(DIV, 2025, 1, journal="70")
    assert post_sales(domain, sales_body(seeded, EntryDate="2025-01-15"))["Journal"] == "70"


def test_entries_in_a_closed_period_cannot_change(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entry = post_sales(domain, sales_body(seeded, EntryDate="2025-01-15"))
    domain.close_period(DIV, 2025, 1)
    with pytest.raises(FakeODataError) as caught:
        domain.delete(DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"])
    assert caught.value.message == "Not allowed: Period 2025/1 is closed for journal 70"
    with pytest.raises(FakeODataError):
        domain.create(
            DIV,
            es(domain, "salesentry/SalesEntryLines"),
            {"EntryID": str(entry["EntryID"]), **line(seeded, "8000", "1")},
        )


def test_non_calendar_financial_year(domain: ExactDomain) -> None:
    seeded = seed_division(
        domain, DIV, financial_year_start_month=7, years=(2025,), customers=["Jan Jansen"]
    )
    entry = post_sales(domain, sales_body(seeded, EntryDate="2026-01-10"))
    assert (entry["ReportingYear"], entry["ReportingPeriod"]) == (2025, 7)
    assert entry["EntryNumber"] == 25700001
    error = sales_error(domain, sales_body(seeded, EntryDate="2025-06-30"))
    assert error.message == "Invalid: Period 2025/6 does not exist"


# -- sales entries: amounts, type, numbering ---------------------------------------------------


def test_header_totals_from_lines(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(
        domain,
        sales_body(
            seeded,
            line(seeded, "8000", "100.00", VATCode="2"),  # 21.00 VAT
            line(seeded, "8010", "10.05"),  # GL default "1": 9 % -> 0.9045 -> 0.90
            line(seeded, "8020", "5.00"),  # GL default "0": no VAT
            line(seeded, "8000", "0.50", VATCode="2"),  # 0.105 -> 0.11 (half-up)
        ),
    )
    assert entry["VATAmountFC"] == Decimal("22.01")
    assert entry["AmountFC"] == Decimal("137.56")
    assert entry["AmountDC"] == Decimal("137.56")
    assert entry["Type"] == 20
    assert entry["Status"] == 20
    assert entry["Currency"] == "EUR"
    lines = domain.children(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], "SalesEntryLines"
    )
    assert [(x["LineNumber"], x["VATCode"], x["VATAmountFC"]) for x in lines] == [
        (1, "2  ", Decimal("21.00")),
        (2, "1  ", Decimal("0.90")),
        (3, "0  ", Decimal("0")),
        (4, "2  ", Decimal("0.11")),
    ]
    assert lines[1]["VATPercentage"] == Decimal("0.09")


def test_including_vat_code(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded, line(seeded, "8000", "121.00", VATCode="5")))
    assert (entry["AmountFC"], entry["VATAmountFC"]) == (Decimal("121.00"), Decimal("21.00"))
    (stored,) = domain.children(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], "SalesEntryLines"
    )
    assert stored["VATBaseAmountFC"] == Decimal("100.00")


def test_line_vat_override(domain: ExactDomain, seeded: SeededDivision) -> None:
    body = sales_body(seeded, line(seeded, "8000", "100", VATCode="2", VATAmountFC="20.99"))
    entry = post_sales(domain, body)
    assert (entry["AmountFC"], entry["VATAmountFC"]) == (Decimal("120.99"), Decimal("20.99"))


def test_header_vat_override_goes_to_the_last_vat_line(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    body = sales_body(
        seeded,
        line(seeded, "8000", "10.05", VATCode="2"),  # 2.1105 -> 2.11
        line(seeded, "8000", "10.05", VATCode="2"),
        VATAmountFC=Decimal("4.21"),
    )
    entry = post_sales(domain, body)
    assert (entry["VATAmountFC"], entry["AmountFC"]) == (Decimal("4.21"), Decimal("24.31"))
    lines = domain.children(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], "SalesEntryLines"
    )
    assert [x["VATAmountFC"] for x in lines] == [Decimal("2.11"), Decimal("2.10")]
    no_vat = sales_body(seeded, line(seeded, "8020", "10"), VATAmountFC=Decimal(1))
    assert sales_error(domain, no_vat).message == "Invalid: VAT amount"


def test_read_only_header_amounts_are_ignored(domain: ExactDomain, seeded: SeededDivision) -> None:
    body = sales_body(seeded, AmountFC=Decimal(999), AmountDC=Decimal(999), Status=50)
    entry = post_sales(domain, body)
    assert (entry["AmountFC"], entry["Type"], entry["Status"]) == (Decimal("121.00"), 20, 20)


def test_a_posted_type_is_kept_and_an_unknown_one_refused(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    negative = sales_body(seeded, line(seeded, "8000", "-50", VATCode="2"), Type=20)
    entry = post_sales(domain, negative)
    assert (entry["Type"], entry["TypeDescription"], entry["AmountFC"]) == (
        20,
        "Sales entry",
        Decimal("-60.50"),
    )
    with pytest.raises(FakeODataError, match="Type"):
        post_sales(domain, sales_body(seeded, Type=40))


def test_type_follows_the_sign_of_the_total(domain: ExactDomain, seeded: SeededDivision) -> None:
    credit = post_sales(domain, sales_body(seeded, line(seeded, "8000", "-50", VATCode="2")))
    assert (credit["Type"], credit["TypeDescription"], credit["AmountFC"]) == (
        21,
        "Sales credit note",
        Decimal("-60.50"),
    )
    mixed = post_sales(
        domain,
        sales_body(seeded, line(seeded, "8000", "-50"), line(seeded, "8020", "50")),
    )
    assert (mixed["AmountFC"], mixed["Type"]) == (Decimal("-10.50"), 21)
    zero = post_sales(
        domain, sales_body(seeded, line(seeded, "8020", "-5"), line(seeded, "8020", "5"))
    )
    assert (zero["AmountFC"], zero["Type"]) == (Decimal(0), 20)


def test_entry_numbers_per_journal_and_year(domain: ExactDomain, seeded: SeededDivision) -> None:
    numbers = [
        post_sales(domain, sales_body(seeded, EntryDate=day))["EntryNumber"]
        for day in ("2025-01-02", "2025-05-05", "2026-01-02")
    ]
    assert numbers == [25700001, 25700002, 26700001]
    assert post_sales(domain, sales_body(seeded, Journal="71"))["EntryNumber"] == 25710001


def test_supplied_entry_number_is_kept_if_unused(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    kept = post_sales(domain, sales_body(seeded, EntryNumber=12345))
    assert (kept["EntryNumber"], kept["InvoiceNumber"]) == (12345, 12345)
    replaced = post_sales(domain, sales_body(seeded, EntryNumber=12345))
    assert replaced["EntryNumber"] == 25700001
    clash = post_sales(domain, sales_body(seeded, EntryNumber=25700002))
    assert clash["EntryNumber"] == 25700002
    assert post_sales(domain, sales_body(seeded))["EntryNumber"] == 25700003


def test_belgian_journal_codes_number_with_year_and_sequence(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV, template="be", customers=["Jan Jansen"])
    entry = post_sales(
        domain, sales_body(seeded, line(seeded, "700000", "100", VATCode="21"), Journal="VF")
    )
    assert entry["EntryNumber"] == 25000001
    assert entry["VATAmountFC"] == Decimal("21.00")


def test_due_date_from_payment_condition(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded, PaymentCondition="30"))
    assert entry["DueDate"] == wall(2025, 3, 14)
    assert (entry["PaymentConditionDescription"], entry["PaymentConditionPaymentMethod"]) == (
        "30 dagen",
        "B",
    )
    accounts = es(domain, "crm/Accounts")
    domain.update(DIV, accounts, seeded.customers["Jan Jansen"], {"PaymentConditionSales": "14"})
    assert post_sales(domain, sales_body(seeded))["DueDate"] == wall(2025, 2, 26)
    given = post_sales(domain, sales_body(seeded, DueDate="2025-04-01"))
    assert given["DueDate"] == wall(2025, 4, 1)
    unknown = sales_error(domain, sales_body(seeded, PaymentCondition="99"))
    assert unknown.message == "Invalid reference: Payment condition"


# -- receivables -------------------------------------------------------------------------------


def test_posted_entry_creates_an_open_receivable(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entry = post_sales(domain, sales_body(seeded, PaymentCondition="14", Description="Jan"))
    (open_item,) = rows(domain, "read/financial/ReceivablesList")
    assert open_item["Amount"] == Decimal("121.00")
    assert open_item["InvoiceNumber"] == entry["EntryNumber"] == open_item["EntryNumber"]
    assert open_item["YourRef"] == "INV-1"
    assert open_item["DueDate"] == wall(2025, 2, 26)
    assert open_item["AccountId"] == seeded.customers["Jan Jansen"]
    assert open_item["AccountCode"] == "1".rjust(18)
    assert (open_item["JournalCode"], open_item["CurrencyCode"]) == ("70", "EUR")
    assert isinstance(open_item["HID"], int)
    (receivable,) = rows(domain, "cashflow/Receivables")
    assert (receivable["Status"], receivable["IsFullyPaid"]) == (20, False)
    assert receivable["TransactionEntryID"] == entry["EntryID"]
    assert receivable["GLAccount"] == seeded.gl("1300")
    assert receivable["AmountFC"] == Decimal("121.00")


def test_zero_entries_create_no_receivable(domain: ExactDomain, seeded: SeededDivision) -> None:
    post_sales(domain, sales_body(seeded, line(seeded, "8020", "-5"), line(seeded, "8020", "5")))
    assert rows(domain, "cashflow/Receivables") == []


def test_credit_note_receivable_is_negative(domain: ExactDomain, seeded: SeededDivision) -> None:
    post_sales(domain, sales_body(seeded, line(seeded, "8000", "-10", VATCode="2")))
    (open_item,) = rows(domain, "read/financial/ReceivablesList")
    assert open_item["Amount"] == Decimal("-12.10")


# -- ledger view -------------------------------------------------------------------------------


def test_transactions_view_of_a_sales_entry(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(
        domain,
        sales_body(seeded, line(seeded, "8000", "100", VATCode="2"), line(seeded, "8010", "10")),
    )
    (transaction,) = rows(domain, "financialtransaction/Transactions")
    assert transaction["EntryID"] == entry["EntryID"]
    assert (transaction["Type"], transaction["JournalCode"], transaction["EntryNumber"]) == (
        20,
        "70",
        entry["EntryNumber"],
    )
    lines = domain.children(
        DIV, es(domain, "financialtransaction/Transactions"), entry["EntryID"], "TransactionLines"
    )
    summary = [(x["LineNumber"], x["GLAccountCode"], x["AmountFC"]) for x in lines]
    assert summary == [
        (0, "1300", Decimal("131.90")),
        (1, "8000", Decimal("-100")),
        (2, "8010", Decimal("-10")),
        (3, "1500", Decimal("-21.00")),
        (4, "1510", Decimal("-0.90")),
    ]
    assert sum(x["AmountFC"] for x in lines) == 0
    assert lines[0]["Account"] == seeded.customers["Jan Jansen"]
    assert lines[0]["InvoiceNumber"] == entry["EntryNumber"]
    synced = rows(domain, "sync/Financial/TransactionLines")
    assert all(isinstance(x["Timestamp"], int) for x in synced)


# -- sales entry lines -------------------------------------------------------------------------


def test_posting_a_line_recomputes_the_header(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded))
    domain.create(
        DIV,
        es(domain, "salesentry/SalesEntryLines"),
        {"EntryID": str(entry["EntryID"]), **line(seeded, "8010", "100")},
    )
    after = domain.get(DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"])
    assert (after["AmountFC"], after["VATAmountFC"]) == (Decimal("230.00"), Decimal("30.00"))
    (open_item,) = rows(domain, "read/financial/ReceivablesList")
    assert open_item["Amount"] == Decimal("230.00")
    lines = domain.children(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], "SalesEntryLines"
    )
    assert [x["LineNumber"] for x in lines] == [1, 2]


def test_line_post_needs_an_existing_entry(domain: ExactDomain, seeded: SeededDivision) -> None:
    lines = es(domain, "salesentry/SalesEntryLines")
    with pytest.raises(FakeODataError) as caught:
        domain.create(DIV, lines, line(seeded, "8000", "1"))
    assert caught.value.message == "Mandatory: EntryID"
    with pytest.raises(FakeODataError) as caught:
        domain.create(DIV, lines, {"EntryID": str(uuid.uuid4()), **line(seeded, "8000", "1")})
    assert caught.value.message == "Invalid reference: EntryID"


def test_put_on_a_line(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded))
    (stored,) = domain.children(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], "SalesEntryLines"
    )
    domain.update(
        DIV, es(domain, "salesentry/SalesEntryLines"), stored["ID"], {"AmountFC": Decimal(200)}
    )
    after = domain.get(DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"])
    assert (after["AmountFC"], after["VATAmountFC"]) == (Decimal("242.00"), Decimal("42.00"))
    with pytest.raises(FakeODataError) as caught:
        domain.update(
            DIV,
            es(domain, "salesentry/SalesEntryLines"),
            stored["ID"],
            {"GLAccount": str(seeded.gl("1300"))},
        )
    assert caught.value.message == "Invalid: G/L account type"


def test_deleting_a_line_and_the_last_line(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(
        domain, sales_body(seeded, line(seeded, "8020", "10"), line(seeded, "8020", "5"))
    )
    lines_set = es(domain, "salesentry/SalesEntryLines")
    first, second = domain.children(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], "SalesEntryLines"
    )
    domain.delete(DIV, lines_set, first["ID"])
    after = domain.get(DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"])
    assert after["AmountFC"] == Decimal(5)
    domain.delete(DIV, lines_set, second["ID"])
    assert rows(domain, "salesentry/SalesEntries") == []
    assert rows(domain, "salesentry/SalesEntryLines") == []
    assert rows(domain, "cashflow/Receivables") == []
    assert rows(domain, "financialtransaction/Transactions") == []
    deleted = rows(domain, "sync/Deleted")
    assert {x["EntityType"] for x in deleted} == {1, 10}  # transaction lines and the payment term


def test_put_on_the_header(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded, PaymentCondition="14"))
    entries = es(domain, "salesentry/SalesEntries")
    domain.update(
        DIV,
        entries,
        entry["EntryID"],
        {"Description": "changed", "YourRef": "INV-1b", "AmountFC": 5, "SalesEntryLines": []},
    )
    after = domain.get(DIV, entries, entry["EntryID"])
    assert (after["Description"], after["YourRef"], after["AmountFC"]) == (
        "changed",
        "INV-1b",
        Decimal("121.00"),
    )
    assert rows(domain, "read/financial/ReceivablesList")[0]["YourRef"] == "INV-1b"
    domain.update(DIV, entries, entry["EntryID"], {"EntryDate": "2025-05-10"})
    moved = domain.get(DIV, entries, entry["EntryID"])
    assert (moved["ReportingPeriod"], moved["DueDate"]) == (5, wall(2025, 5, 24))
    with pytest.raises(FakeODataError) as caught:
        domain.update(DIV, entries, entry["EntryID"], {"EntryDate": "2026-01-10"})
    assert caught.value.message == "The financial year cannot be changed."
    with pytest.raises(FakeODataError) as caught:
        domain.update(DIV, entries, entry["EntryID"], {"ReportingYear": 2026})
    assert caught.value.message == "The financial year cannot be changed."
    domain.update(DIV, entries, entry["EntryID"], {"Journal": "71"})  # POST-only: ignored
    assert domain.get(DIV, entries, entry["EntryID"])["Journal"] == "70"


# -- documents linked to entries ---------------------------------------------------------------


def test_document_links_to_a_sales_entry(domain: ExactDomain, seeded: SeededDivision) -> None:
    documents = es(domain, "documents/Documents")
    document = domain.create(DIV, documents, {"Subject": "Invoice 1", "Type": 10})
    entry = post_sales(domain, sales_body(seeded, Document=str(document["ID"])))
    assert (entry["DocumentSubject"], entry["DocumentNumber"]) == ("Invoice 1", 1)
    linked = domain.get(DIV, documents, document["ID"])
    assert linked["FinancialTransactionEntryID"] == entry["EntryID"]
    assert linked["SalesInvoiceNumber"] == entry["InvoiceNumber"]
    other = domain.create(DIV, documents, {"Subject": "Invoice 1 (new)", "Type": 10})
    domain.update(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], {"Document": str(other["ID"])}
    )
    assert domain.get(DIV, documents, document["ID"])["FinancialTransactionEntryID"] is None
    assert (
        domain.get(DIV, documents, other["ID"])["FinancialTransactionEntryID"] == entry["EntryID"]
    )
    missing = sales_error(domain, sales_body(seeded, Document=str(uuid.uuid4())))
    assert missing.message == "Invalid reference: Document"


# -- bank entries ------------------------------------------------------------------------------


def post_bank(domain: ExactDomain, *lines: dict[str, Any], **header: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"JournalCode": "20", "BankEntryLines": list(lines)}
    body.update(header)
    return domain.create(DIV, es(domain, "financialtransaction/BankEntries"), body)


def receipt(
    seeded: SeededDivision, entry: dict[str, Any], amount: Decimal, **extra: Any
) -> dict[str, Any]:
    return {
        "GLAccount": str(seeded.gl("1300")),
        "Account": str(entry["Customer"]),
        "OurRef": entry["EntryNumber"],
        "AmountFC": amount,
        "Date": "2025-03-01",
        **extra,
    }


def test_bank_entry_validation(domain: ExactDomain, seeded: SeededDivision) -> None:
    bank = es(domain, "financialtransaction/BankEntries")
    with pytest.raises(FakeODataError) as caught:
        domain.create(DIV, bank, {})
    assert caught.value.message == "Mandatory: Journal\r\nMandatory: Lines"
    with pytest.raises(FakeODataError) as caught:
        post_bank(domain, {"AmountFC": Decimal(1)}, JournalCode="70")
    assert caught.value.message == "Invalid: Journal\r\nMandatory: G/L account"
    with pytest.raises(FakeODataError) as caught:
        post_bank(domain, {"GLAccount": str(seeded.gl("1300"))}, JournalCode="99")
    assert caught.value.message == "Invalid reference: Journals\r\nMandatory: AmountFC"


def test_bank_entry_balances(domain: ExactDomain, seeded: SeededDivision) -> None:
    first = post_bank(
        domain,
        {"GLAccount": str(seeded.gl("2050")), "AmountFC": Decimal("50.00"), "Date": "2025-03-01"},
        {"GLAccount": str(seeded.gl("4510")), "AmountFC": Decimal("-2.50"), "Date": "2025-03-01"},
        OpeningBalanceFC=Decimal("1000.00"),
    )
    assert (first["ClosingBalanceFC"], first["FinancialPeriod"]) == (Decimal("1047.50"), 3)
    assert first["EntryNumber"] == 25200001
    second = post_bank(
        domain,
        {"GLAccount": str(seeded.gl("2050")), "AmountFC": Decimal("10"), "Date": "2025-03-02"},
    )
    assert (second["OpeningBalanceFC"], second["ClosingBalanceFC"]) == (
        Decimal("1047.50"),
        Decimal("1057.50"),
    )
    with pytest.raises(FakeODataError) as caught:
        post_bank(
            domain,
            {"GLAccount": str(seeded.gl("2050")), "AmountFC": Decimal("10"), "Date": "2025-03-02"},
            OpeningBalanceFC=Decimal(0),
            ClosingBalanceFC=Decimal(11),
        )
    assert caught.value.message == (
        "Invalid: Closing balance 11 does not equal opening balance plus lines 10"
    )
    lines = domain.children(
        DIV, es(domain, "financialtransaction/Transactions"), first["EntryID"], "TransactionLines"
    )
    assert sum(x["AmountFC"] for x in lines) == 0
    bank_side = [x["AmountFC"] for x in lines if x["GLAccountCode"] == "1100"]
    assert bank_side == [Decimal("50.00"), Decimal("-2.50")]


def test_receipt_closes_the_receivable(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded))
    post_bank(domain, receipt(seeded, entry, Decimal("121.00")))
    assert rows(domain, "read/financial/ReceivablesList") == []
    (receivable,) = rows(domain, "cashflow/Receivables")
    assert (receivable["Status"], receivable["IsFullyPaid"]) == (50, True)
    assert receivable["LastPaymentDate"] == wall(2025, 3, 1)
    assert (receivable["EndYear"], receivable["EndPeriod"]) == (2025, 3)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"AmountFC": Decimal("121.01")}, "amount differs"),
        ({"AmountFC": Decimal("-121.00")}, "wrong sign for receipt_sign=1"),
        ({"OurRef": 1}, "other invoice number"),
        ({"Account": None}, "no account"),
        ({"GLAccount": None}, "not on the debtors account"),
    ],
)
def test_receipt_that_does_not_match_leaves_it_open(
    domain: ExactDomain, seeded: SeededDivision, change: dict[str, Any], why: str
) -> None:
    entry = post_sales(domain, sales_body(seeded))
    payment = receipt(seeded, entry, Decimal("121.00"))
    payment.update(change)
    if "Account" in change:
        payment.pop("Account")
    if "GLAccount" in change:
        payment["GLAccount"] = str(seeded.gl("2050"))
    post_bank(domain, payment)
    assert len(rows(domain, "read/financial/ReceivablesList")) == 1, why


def test_receipt_for_another_customer_leaves_it_open(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entry = post_sales(domain, sales_body(seeded))
    payment = receipt(
        seeded, entry, Decimal("121.00"), Account=str(seeded.customers["Piet Pieters"])
    )
    post_bank(domain, payment)
    assert len(rows(domain, "read/financial/ReceivablesList")) == 1


def test_receipt_sign_minus_one(seeded: SeededDivision) -> None:
    del seeded  # a second domain with the other convention
    domain = ExactDomain(now=lambda: NOW, receipt_sign=-1)
    other = seed_division(domain, DIV, customers=["Jan Jansen"])
    entry = post_sales(domain, sales_body(other))
    positive = post_bank(domain, receipt(other, entry, Decimal("121.00")))
    assert len(rows(domain, "read/financial/ReceivablesList")) == 1
    assert positive["ClosingBalanceFC"] == Decimal("-121.00")
    negative = post_bank(domain, receipt(other, entry, Decimal("-121.00")))
    assert rows(domain, "read/financial/ReceivablesList") == []
    assert negative["ClosingBalanceFC"] - negative["OpeningBalanceFC"] == Decimal("121.00")
    lines = domain.children(
        DIV,
        es(domain, "financialtransaction/Transactions"),
        negative["EntryID"],
        "TransactionLines",
    )
    by_gl = {x["GLAccountCode"]: x["AmountFC"] for x in lines}
    assert by_gl == {"1300": Decimal("-121.00"), "1100": Decimal("121.00")}


def test_credit_note_refund_closes_it(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded, line(seeded, "8000", "-10", VATCode="2")))
    post_bank(domain, receipt(seeded, entry, Decimal("-12.10")))
    assert rows(domain, "read/financial/ReceivablesList") == []


def test_deleting_the_bank_entry_reopens_the_receivable(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entry = post_sales(domain, sales_body(seeded))
    bank = post_bank(domain, receipt(seeded, entry, Decimal("121.00")))
    with pytest.raises(FakeODataError) as caught:
        domain.delete(DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"])
    assert caught.value.message == "Not allowed: The entry has already been matched with a payment"
    domain.delete(DIV, es(domain, "financialtransaction/BankEntries"), bank["EntryID"])
    assert len(rows(domain, "read/financial/ReceivablesList")) == 1
    assert rows(domain, "financialtransaction/BankEntryLines") == []


def test_bank_entry_line_posted_separately(domain: ExactDomain, seeded: SeededDivision) -> None:
    entry = post_sales(domain, sales_body(seeded))
    bank = post_bank(
        domain,
        {"GLAccount": str(seeded.gl("2050")), "AmountFC": Decimal(5), "Date": "2025-03-01"},
    )
    domain.create(
        DIV,
        es(domain, "financialtransaction/BankEntryLines"),
        {"EntryID": str(bank["EntryID"]), **receipt(seeded, entry, Decimal("121.00"))},
    )
    after = domain.get(DIV, es(domain, "financialtransaction/BankEntries"), bank["EntryID"])
    assert after["ClosingBalanceFC"] == Decimal("126.00")
    assert rows(domain, "read/financial/ReceivablesList") == []
    lines = domain.children(
        DIV, es(domain, "financialtransaction/BankEntries"), bank["EntryID"], "BankEntryLines"
    )
    assert [(x["LineNumber"], x["EntryNumber"]) for x in lines] == [
        (1, bank["EntryNumber"]),
        (2, bank["EntryNumber"]),
    ]


def test_payment_service_journal_takes_bank_entries(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entry = post_bank(
        domain,
        {"GLAccount": str(seeded.gl("4510")), "AmountFC": Decimal("-0.29"), "Date": "2025-03-01"},
        JournalCode="25",
    )
    assert entry["EntryNumber"] == 25250001


# -- general journal entries -------------------------------------------------------------------


def post_general(domain: ExactDomain, *lines: dict[str, Any], **header: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"JournalCode": "90", "GeneralJournalEntryLines": list(lines)}
    body.update(header)
    return domain.create(DIV, es(domain, "generaljournalentry/GeneralJournalEntries"), body)


def general_error(domain: ExactDomain, *lines: dict[str, Any], **header: Any) -> str:
    with pytest.raises(FakeODataError) as caught:
        post_general(domain, *lines, **header)
    assert caught.value.status == 500
    return caught.value.message


def test_general_journal_entry_settles_a_receivable(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entry = post_sales(domain, sales_body(seeded))
    memo = post_general(
        domain,
        {
            "GLAccount": str(seeded.gl("1300")),
            "Account": str(entry["Customer"]),
            "OurRef": entry["EntryNumber"],
            "AmountFC": Decimal("-121.00"),
            "Date": "2025-03-01",
        },
        {"GLAccount": str(seeded.gl("1110")), "AmountFC": Decimal("121.00")},
    )
    assert (memo["Type"], memo["Status"], memo["EntryNumber"]) == (90, 20, 25900001)
    assert rows(domain, "read/financial/ReceivablesList") == []


def test_general_journal_rules(domain: ExactDomain, seeded: SeededDivision) -> None:
    one = {"GLAccount": str(seeded.gl("2050")), "AmountFC": Decimal(1), "Date": "2025-03-01"}
    minus = dict(one, AmountFC=Decimal(-1))
    assert general_error(domain, one, minus, JournalCode="70") == "Invalid: Journal"
    assert general_error(domain, one) == "Invalid: The entry is not in balance (difference 1)"
    assert general_error(domain) == "Mandatory: Lines"
    assert general_error(domain, dict(one, VATCode="2"), minus) == "Not allowed: VAT code"
    assert general_error(domain, {"AmountFC": Decimal(0)}) == "Mandatory: G/L account"
    ok = post_general(domain, dict(one, VATCode=""), minus)
    assert ok["JournalCode"] == "90"


def test_general_journal_with_vat(domain: ExactDomain, seeded: SeededDivision) -> None:
    memo = post_general(
        domain,
        {
            "GLAccount": str(seeded.gl("8000")),
            "AmountFC": Decimal("-100"),
            "VATCode": "2",
            "Date": "2025-03-01",
        },
        {"GLAccount": str(seeded.gl("2050")), "AmountFC": Decimal("121.00")},
        JournalCode="91",
    )
    lines = domain.children(
        DIV, es(domain, "financialtransaction/Transactions"), memo["EntryID"], "TransactionLines"
    )
    assert sorted((x["GLAccountCode"], x["AmountFC"]) for x in lines) == [
        ("1500", Decimal("-21.00")),
        ("2050", Decimal("121.00")),
        ("8000", Decimal("-100")),
    ]


def test_general_journal_periods(domain: ExactDomain, seeded: SeededDivision) -> None:
    one = {"GLAccount": str(seeded.gl("2050")), "AmountFC": Decimal(1)}
    minus = dict(one, AmountFC=Decimal(-1))
    memo = post_general(domain, one, minus, FinancialYear=2026, FinancialPeriod=2)
    assert (memo["FinancialYear"], memo["FinancialPeriod"], memo["EntryNumber"]) == (
        2026,
        2,
        26900001,
    )
    domain.close_period(DIV, 2026, 3, journal="90")
    message = general_error(domain, one, minus, FinancialYear=2026, FinancialPeriod=3)
    assert message == "Not allowed: Period 2026/3 is closed for journal 90"


def test_general_journal_line_posted_separately(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    one = {"GLAccount": str(seeded.gl("2050")), "AmountFC": Decimal(1), "Date": "2025-03-01"}
    memo = post_general(domain, one, dict(one, AmountFC=Decimal(-1)))
    domain.create(
        DIV,
        es(domain, "generaljournalentry/GeneralJournalEntryLines"),
        {"EntryID": str(memo["EntryID"]), **one},
    )
    lines = domain.children(
        DIV,
        es(domain, "generaljournalentry/GeneralJournalEntries"),
        memo["EntryID"],
        "GeneralJournalEntryLines",
    )
    assert [x["LineNumber"] for x in lines] == [1, 2, 3]


# -- receivables PUT ---------------------------------------------------------------------------


def test_receivable_put_changes_collection_fields_only(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    post_sales(domain, sales_body(seeded))
    receivables = es(domain, "cashflow/Receivables")
    (receivable,) = domain.rows(DIV, receivables)
    domain.update(
        DIV,
        receivables,
        receivable["ID"],
        {"PaymentMethod": "I", "AmountFC": Decimal(1), "Description": "incasso"},
    )
    after = domain.get(DIV, receivables, receivable["ID"])
    assert (after["PaymentMethod"], after["AmountFC"], after["Description"]) == (
        "I",
        Decimal("121.00"),
        "incasso",
    )
    with pytest.raises(FakeODataError) as caught:
        domain.update(DIV, receivables, receivable["ID"], {"PaymentMethod": "Z"})
    assert caught.value.message == "Invalid: Payment method"


def test_a_line_project_must_exist_and_a_used_project_stays(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    projects = es(domain, "project/Projects")
    project = domain.create(DIV, projects, {"Code": "PRJ-7", "Description": "Leergang"})
    assert project["Type"] == 2
    with pytest.raises(FakeODataError) as caught:
        domain.create(DIV, projects, {"Code": "PRJ-7", "Description": "Nog een"})
    assert caught.value.message == "Already exists: Code PRJ-7"

    unknown = sales_body(seeded, line(seeded, "8000", "10", Project=str(uuid.uuid4())))
    assert sales_error(domain, unknown).message == "Invalid reference: Project"

    entry = post_sales(
        domain, sales_body(seeded, line(seeded, "8000", "10", Project=str(project["ID"])))
    )
    (stored,) = domain.children(
        DIV, es(domain, "salesentry/SalesEntries"), entry["EntryID"], "SalesEntryLines"
    )
    assert (stored["Project"], stored["ProjectDescription"]) == (project["ID"], "Leergang")
    with pytest.raises(FakeODataError) as caught:
        domain.delete(DIV, projects, project["ID"])
    assert caught.value.message.startswith("Not allowed")
