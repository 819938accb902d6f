"""Builders for the mapping tests: a small Dutch division and invoices in it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from exactbridge.mapping import (
    BookingConfig,
    CostUsage,
    FinancialPeriod,
    GLAccount,
    Journal,
    KnownAccount,
    ReferenceData,
    VatCode,
    VatTransactionType,
)
from exactbridge.records import AmountBasis, Invoice, InvoiceLine, Party

D = Decimal

HIGH = D("0.21")
LOW = D("0.09")


def periods(
    year: int = 2024, first_month: int = 1, *, fin_year: int | None = None
) -> list[FinancialPeriod]:
    """Twelve monthly periods of one financial year starting in ``first_month`` of ``year``."""
    result = []
    fin_year = fin_year if fin_year is not None else year
    for n in range(12):
        month0 = first_month - 1 + n
        start = dt.date(year + month0 // 12, month0 % 12 + 1, 1)
        month1 = month0 + 1
        end = dt.date(year + month1 // 12, month1 % 12 + 1, 1) - dt.timedelta(days=1)
        result.append(FinancialPeriod(fin_year, n + 1, start, end))
    return result


def reference(**overrides: Any) -> ReferenceData:
    """A Dutch division: revenue 8000-8200, debtors 1300, costs 4500, transfer 2000."""
    values: dict[str, Any] = {
        "gl_accounts": [
            GLAccount("8000", 110, "Revenue high"),
            GLAccount("8010", 110, "Revenue low"),
            GLAccount("8020", 110, "Revenue zero"),
            GLAccount("8100", 110, "Courses", use_cost_center=CostUsage.OPTIONAL),
            GLAccount("8200", 110, "Bar"),
            GLAccount("1300", 20, "Debtors"),
            GLAccount("1500", 24, "VAT to pay"),
            GLAccount("4500", 121, "PSP costs"),
            GLAccount("2000", 12, "Payouts in transit"),
            GLAccount("2999", 90, "Unassigned"),
        ],
        "vat_codes": [
            VatCode("2", HIGH),
            VatCode("1", LOW),
            VatCode("0", D("0")),
            VatCode("5", HIGH, transaction_type=VatTransactionType.PURCHASE),
        ],
        "journals": [
            Journal("70", 20, "Sales"),
            Journal("71", 21, "Credit notes"),
            Journal("20", 12, "Bank"),
            Journal("25", 16, "Pay."),
            Journal("90", 90, "Memorial"),
        ],
        "periods": periods(2024),
        "accounts": [
            KnownAccount("acc-7", code="7", name="Ann de Vries", email="ann@example.org"),
            KnownAccount("acc-guest", code="9000", name="Guest orders"),
            KnownAccount("acc-coll", code="9999", name="Collective debtor"),
            KnownAccount("acc-std", code="9100", name="Standard debtor"),
            KnownAccount(
                "acc-sup", code="500", name="Supplier BV", is_customer=False, is_supplier=True
            ),
            KnownAccount("acc-vat", code="600", name="Org BV", vat_number="NL000000000B01"),
        ],
    }
    values.update(overrides)
    return ReferenceData(**values)


def config(**sections: Any) -> BookingConfig:
    """A config from sections, on top of a VAT table and a default revenue account."""
    data: dict[str, Any] = {
        "vat": {"codes": {"high": "2", "low": "1", "zero": "0"}},
        "ledger": {"default_account": "8000"},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return BookingConfig.from_mapping(data)


def party(**overrides: Any) -> Party:
    values: dict[str, Any] = {
        "source": "coachview",
        "source_id": "p-1",
        "name": "Bob Jansen",
        "internal_number": "42",
    }
    values.update(overrides)
    return Party(**values)


def line(amount: str | Decimal = "121.00", **overrides: Any) -> InvoiceLine:
    values: dict[str, Any] = {
        "description": "Membership",
        "amount": D(amount),
        "vat_category": "high",
    }
    values.update(overrides)
    return InvoiceLine(**values)


def invoice(*lines: InvoiceLine, **overrides: Any) -> Invoice:
    values: dict[str, Any] = {
        "source": "coachview",
        "source_id": "inv-1",
        "number": "1001",
        "invoice_date": dt.date(2024, 5, 3),
        "lines": lines or (line(),),
        "party": party(),
    }
    values.update(overrides)
    return Invoice(**values)


def negate(original: Invoice, **overrides: Any) -> Invoice:
    """The credit invoice that reverses ``original`` line by line."""
    import attrs

    lines = tuple(attrs.evolve(item, amount=-item.amount) for item in original.lines)
    values: dict[str, Any] = {
        "source_id": f"{original.source_id}-credit",
        "number": f"{original.number}9",
        "lines": lines,
        "credited_invoice": original.number,
        "total_incl_vat": -original.total_incl_vat if original.total_incl_vat is not None else None,
        "total_excl_vat": -original.total_excl_vat if original.total_excl_vat is not None else None,
    }
    values.update(overrides)
    return attrs.evolve(original, **values)


__all__ = [
    "HIGH",
    "LOW",
    "AmountBasis",
    "D",
    "config",
    "invoice",
    "line",
    "negate",
    "party",
    "periods",
    "reference",
]
