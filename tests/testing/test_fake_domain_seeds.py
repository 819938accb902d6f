"""Seed templates of the fake Exact domain (Dutch, Belgian, empty)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from exactbridge.testing._exact.domain import ExactDomain, FakeODataError
from exactbridge.testing._exact.seeds import SeededDivision, seed_division

DIV = 1001
NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)


@pytest.fixture
def domain() -> ExactDomain:
    return ExactDomain(now=lambda: NOW)


def rows(domain: ExactDomain, path: str, division: int = DIV) -> list[dict[str, Any]]:
    entity_set = domain.entity_set(path)
    assert entity_set is not None
    return domain.rows(division, entity_set)


def by_code(domain: ExactDomain, path: str) -> dict[str, dict[str, Any]]:
    return {row["Code"].strip(): row for row in rows(domain, path)}


def test_dutch_gl_scheme(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV)
    gl = by_code(domain, "financial/GLAccounts")
    expected_types = {
        "1100": 12,
        "1110": 16,
        "1300": 20,
        "1500": 24,
        "1510": 24,
        "1600": 22,
        "2050": 90,
        "4510": 120,
        "8000": 110,
        "8010": 110,
        "8020": 110,
    }
    assert {code: gl[code]["Type"] for code in expected_types} == expected_types
    assert gl["1300"]["Description"] == "Debiteuren"
    assert (gl["8000"]["VATCode"], gl["8010"]["VATCode"], gl["8020"]["VATCode"]) == (
        "2  ",
        "1  ",
        "0  ",
    )
    assert gl["8030"]["UseCostcenter"] == 1
    assert gl["8040"]["UseCostunit"] == 1
    assert seeded.gl("1300") == gl["1300"]["ID"]
    assert (seeded.debtors, seeded.bank, seeded.psp_transfer, seeded.suspense) == (
        "1300",
        "1100",
        "1110",
        "2050",
    )
    assert (seeded.payment_costs, seeded.creditors) == ("4510", "1600")


def test_dutch_vat_codes_with_padding_and_fractions(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV)
    vat = {row["Code"]: row for row in rows(domain, "vat/VATCodes")}
    assert all(len(code) == 3 for code in vat)
    summary = {
        code: (row["Percentage"], row["Type"], row["VATTransactionType"])
        for code, row in vat.items()
    }
    assert summary == {
        "0  ": (Decimal("0"), "B", "B"),
        "1  ": (Decimal("0.09"), "E", "B"),
        "2  ": (Decimal("0.21"), "E", "B"),
        "4  ": (Decimal("0.21"), "E", "P"),
        "5  ": (Decimal("0.21"), "I", "B"),
        "6  ": (Decimal("0"), "B", "S"),
        "7  ": (Decimal("0"), "B", "S"),
    }
    assert vat["2  "]["GLToPayCode"] == "1500"
    assert vat["1  "]["GLToPayCode"] == "1510"
    assert seeded.vat(seeded.vat_high or "") == "2  "
    assert (seeded.vat_low, seeded.vat_zero, seeded.vat_high_including) == ("1", "0", "5")
    assert (seeded.vat_outside_eu, seeded.vat_inside_eu) == ("6", "7")


def test_dutch_journals(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV)
    journals = by_code(domain, "financial/Journals")
    assert {code: row["Type"] for code, row in journals.items()} == {
        "70": 20,
        "71": 21,
        "20": 12,
        "25": 16,
        "90": 90,
        "91": 90,
    }
    assert journals["70"]["GLAccountCode"] == "1300"
    assert journals["20"]["BankAccountIBAN"] == "NL91ABNA0417164300"
    assert journals["25"]["PaymentServiceProvider"] == 1
    assert journals["91"]["AllowVAT"] is True
    assert (seeded.sales_journal, seeded.credit_note_journal, seeded.bank_journal) == (
        "70",
        "71",
        "20",
    )
    assert (seeded.psp_journal, seeded.general_journal) == ("25", "90")


def test_cost_centers_units_and_conditions(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV)
    assert set(by_code(domain, "hrm/Costcenters")) == {"100", "200", "300"}
    assert set(by_code(domain, "hrm/Costunits")) == {"AMS", "UTR"}
    conditions = by_code(domain, "cashflow/PaymentConditions")
    assert {code: row["PaymentDays"] for code, row in conditions.items()} == {
        "00": 0,
        "14": 14,
        "30": 30,
    }
    assert set(seeded.payment_conditions) == {"00", "14", "30"}


def test_calendar_periods(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV)
    periods = rows(domain, "financial/FinancialPeriods")
    assert len(periods) == 24
    assert seeded.financial_years == (2025, 2026)
    first = min(periods, key=lambda r: (r["FinYear"], r["FinPeriod"]))
    assert (first["StartDate"], first["EndDate"]) == (
        dt.datetime(2025, 1, 1),
        dt.datetime(2025, 1, 31),
    )
    february = next(r for r in periods if (r["FinYear"], r["FinPeriod"]) == (2026, 2))
    assert february["EndDate"] == dt.datetime(2026, 2, 28)


def test_non_calendar_financial_year(domain: ExactDomain) -> None:
    seed_division(domain, DIV, financial_year_start_month=4, years=(2025,))
    periods = sorted(rows(domain, "financial/FinancialPeriods"), key=lambda r: r["FinPeriod"])
    assert periods[0]["StartDate"] == dt.datetime(2025, 4, 1)
    assert periods[-1]["EndDate"] == dt.datetime(2026, 3, 31)
    assert {r["FinYear"] for r in periods} == {2025}


def test_overlapping_years_are_refused(domain: ExactDomain) -> None:
    seed_division(domain, DIV, years=(2025,))
    with pytest.raises(ValueError, match="overlaps"):
        domain.add_financial_year(DIV, 2025)
    with pytest.raises(ValueError, match="overlaps"):
        domain.add_financial_year(DIV, 2024, start_month=6)


def test_belgian_template(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV, template="be")
    gl = by_code(domain, "financial/GLAccounts")
    assert (gl["400000"]["Type"], gl["451000"]["Type"], gl["700000"]["Type"]) == (20, 24, 110)
    vat = by_code(domain, "vat/VATCodes")
    assert {code: vat[code]["Percentage"] for code in ("21", "12", "6", "0")} == {
        "21": Decimal("0.21"),
        "12": Decimal("0.12"),
        "6": Decimal("0.06"),
        "0": Decimal("0"),
    }
    journals = by_code(domain, "financial/Journals")
    assert journals["VF"]["Type"] == 20
    assert journals["BK"]["Type"] == 12
    assert seeded.sales_journal == "VF"
    (division,) = rows(domain, "system/Divisions")
    assert division["Country"] == "BE "


def test_empty_template_still_has_periods(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV, template=None, customers=["Jan"])
    assert rows(domain, "financial/GLAccounts") == []
    assert len(rows(domain, "financial/FinancialPeriods")) == 24
    assert seeded.sales_journal is None
    assert set(seeded.customers) == {"Jan"}


def test_customers_get_sequential_codes(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV, customers=["A", "B"])
    accounts = {row["ID"]: row for row in rows(domain, "crm/Accounts")}
    assert accounts[seeded.customers["A"]]["Code"] == "1".rjust(18)
    assert accounts[seeded.customers["B"]]["Code"] == "2".rjust(18)
    assert accounts[seeded.customers["B"]]["IsSales"] is True


def test_bad_options(domain: ExactDomain) -> None:
    with pytest.raises(ValueError, match="template"):
        seed_division(domain, DIV, template="de")
    with pytest.raises(ValueError, match="closed_periods"):
        seed_division(domain, DIV, closed_periods=[(2025,)])
    with pytest.raises(ValueError, match="start_month"):
        seed_division(domain, DIV, financial_year_start_month=13)


def test_seeding_goes_through_validation(domain: ExactDomain) -> None:
    # a second seed of the same division hits the API's uniqueness rules
    seed_division(domain, DIV, years=())
    with pytest.raises(FakeODataError, match="Already exists: Code"):
        seed_division(domain, DIV, years=())


def test_seeded_rows_are_stamped_for_sync(domain: ExactDomain) -> None:
    seed_division(domain, DIV)
    stamps = [row["Timestamp"] for row in rows(domain, "sync/Financial/GLAccounts")]
    assert len(set(stamps)) == len(stamps)


def test_seeded_division_record(domain: ExactDomain) -> None:
    seeded = seed_division(domain, DIV, customers=["Jan"])
    assert isinstance(seeded, SeededDivision)
    assert seeded.division == DIV
    assert seeded.template == "nl"
    with pytest.raises(KeyError):
        seeded.gl("9999")
    with pytest.raises(KeyError):
        seeded.vat("XX")
    with pytest.raises(AttributeError):
        seeded.division = 2  # type: ignore[misc]
