"""Benchmark: map generated invoices to Exact sales entry drafts on one core.

Run with ``.venv/bin/python benchmarks/bench_mapping.py [COUNT]`` (default 100,000).
Generation is not timed (and the generated input is frozen out of the garbage
collector's reach); the figures printed are invoices mapped per second, by wall clock
and per CPU second (the machine may be shared), by
:func:`exactbridge.mapping.to_sales_entry` (debtor resolution, period selection,
VAT split, ledger chain, numbering and the totals check included), followed by the
same for summary booking per day.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import sys
import time
from decimal import Decimal

from exactbridge.mapping import (
    BookingConfig,
    FinancialPeriod,
    GLAccount,
    Journal,
    KnownAccount,
    ReferenceData,
    VatCode,
    summarize_day,
    to_sales_entry,
)
from exactbridge.records import AmountBasis, Invoice, InvoiceLine, Party

RATES = {"high": Decimal("0.21"), "low": Decimal("0.09"), "zero": Decimal("0")}


def build_reference() -> ReferenceData:
    periods = []
    for year in (2023, 2024, 2025):
        for month in range(1, 13):
            start = dt.date(year, month, 1)
            end = (dt.date(year + (month == 12), month % 12 + 1, 1)) - dt.timedelta(days=1)
            periods.append(FinancialPeriod(year, month, start, end))
    accounts = [
        KnownAccount(f"id-{n}", code=str(n), name=f"Member {n}", email=f"m{n}@example.org")
        for n in range(1, 5001)
    ]
    accounts.append(KnownAccount("id-collective", code="9999", name="Collective debtor"))
    return ReferenceData(
        gl_accounts=[GLAccount(code, 110) for code in ("8000", "8010", "8020", "8100", "8200")],
        vat_codes=[
            VatCode("2", RATES["high"]),
            VatCode("1", RATES["low"]),
            VatCode("0", RATES["zero"]),
        ],
        journals=[Journal("70", 20), Journal("71", 21)],
        periods=periods,
        accounts=accounts,
    )


def build_config() -> BookingConfig:
    return BookingConfig.from_mapping(
        {
            "sales_journal": "70",
            "debtor": {"code_sources": ["internal_number", "external_number"], "prefix": ""},
            "period": {"date_sources": ["order_start", "invoice_date"]},
            "credit_notes": {"mode": "credit_note", "journal": "71"},
            "vat": {"codes": {"high": "2", "low": "1", "zero": "0"}},
            "ledger": {
                "default_account": "8000",
                "by_vat_category": {"low": "8010", "zero": "8020"},
                "by_course_edition": {"ED-1": {"gl_account": "8100", "cost_center": "CC1"}},
                "by_product": {"drinks": "8200"},
            },
            "numbering": {"prefix": "24", "number_width": 6},
            "summary": {"collective_debtor_code": "9999"},
        }
    )


def build_invoices(count: int, seed: int = 42) -> list[Invoice]:
    rng = random.Random(seed)
    invoices = []
    categories = list(RATES)
    for n in range(count):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(366))
        lines = []
        for _ in range(rng.randint(1, 4)):
            category = rng.choice(categories)
            lines.append(
                InvoiceLine(
                    description="Membership" if category == "high" else "Drinks",
                    amount=Decimal(rng.randint(-500, 20000)) / 100,
                    amount_basis=AmountBasis.INCLUDING_VAT,
                    vat_category=category,
                    product="drinks" if rng.random() < 0.2 else None,
                    course_edition="ED-1" if rng.random() < 0.1 else None,
                )
            )
        member = rng.randint(1, 10000)
        invoices.append(
            Invoice(
                source="virtuagym",
                source_id=f"inv-{n}",
                number=str(n + 1),
                invoice_date=day,
                lines=lines,
                party=Party(
                    "virtuagym", f"m-{member}", f"Member {member}", internal_number=str(member)
                ),
                order_start=day if rng.random() < 0.5 else None,
            )
        )
    return invoices


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    reference = build_reference()
    config = build_config()
    invoices = build_invoices(count)
    export_date = dt.date(2025, 1, 15)

    # The generated input is long-lived: keep the collector from rescanning it (a sync run
    # maps a page of invoices at a time, not 100,000 objects held in memory).
    gc.collect()
    gc.freeze()

    wall, cpu = time.perf_counter(), time.process_time()
    credit_notes = 0
    for invoice in invoices:
        draft = to_sales_entry(invoice, reference, config, export_date=export_date)
        credit_notes += draft.type == 21
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"to_sales_entry: {count} invoices, {wall:.2f} s wall / {cpu:.2f} s CPU = "
        f"{count / wall:,.0f} invoices/s wall, {count / cpu:,.0f} invoices/s per CPU second "
        f"({credit_notes} credit notes)"
    )

    wall, cpu = time.perf_counter(), time.process_time()
    result = summarize_day(invoices, reference, config, export_date=export_date)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"summarize_day: {count} invoices, {wall:.2f} s wall / {cpu:.2f} s CPU = "
        f"{count / wall:,.0f} invoices/s wall, {count / cpu:,.0f} invoices/s per CPU second "
        f"({len(result.entries)} summary entries, {len(result.failed)} failed)"
    )


if __name__ == "__main__":
    main()
