"""The sync engine on Exact's real limits: calls per booked invoice, simulated time, 429s.

Run: .venv/bin/python benchmarks/bench_sync.py [--invoices 1000] [--members 600] [--known 400]

A fake Virtuagym club with ``--members`` members and ``--invoices`` invoices
(monthly memberships, personal training, discounts, guest day passes, credit
invoices) is booked into a fake Exact Online division that already knows
``--known`` of the members as customers (so ``members - known`` are new to Exact and
get created). The fake enforces Exact's real limits (60 calls per minute, 5,000 per
day) on a simulated clock: the client waits before the minutely limit instead of
running into it. Printed per booking mode (one entry per invoice, and summary
booking per day):

- Exact calls in total and per booked invoice (every call: reference reads, account
  reads and creations, entries);
- simulated minutes from start to finish (what a real run would take on the limits);
- the number of 429 answers (the target is 0);
- wall-clock seconds of the run on this machine (the fake's own work included);
- a second run over the same club: calls and bookings (should be 0 and 0).
"""

from __future__ import annotations

import argparse
import time
from decimal import Decimal

from exactbridge.cli._demo import DEMO_DIVISION, demo_config, seed_exact, seed_virtuagym
from exactbridge.exact import NewAccount
from exactbridge.mapping import BookingConfig
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import InvoicePipeline, MemoryStateStore, SyncReport, VirtuagymInvoices
from exactbridge.testing import FakeClock


def summary_config() -> BookingConfig:
    base = demo_config()
    return BookingConfig(
        sales_journal=base.sales_journal,
        debtor=base.debtor,
        period=base.period,
        credit_notes=base.credit_notes,
        vat=base.vat,
        ledger=base.ledger,
        numbering=base.numbering,
        summary=BookingConfig.from_mapping(
            {"summary": {"mode": "per_day", "collective_debtor_code": "1"}}
        ).summary,
        payments=base.payments,
    )


def run(invoices: int, members: int, known: int, config: BookingConfig, label: str) -> None:
    clock = FakeClock()
    vg = seed_virtuagym(members=members, invoices=invoices, clock=clock)
    fake = seed_exact(clock)
    with fake.client(DEMO_DIVISION) as setup:
        for member in list(vg.members.values())[:known]:
            setup.accounts.create(
                NewAccount(
                    name=f"{member['firstname']} {member['lastname']}",
                    code=member["club_member_id"],
                    status="C",
                    is_sales=True,
                    email=member["email"],
                )
            )
    fake.clear_calls()
    clock.advance(86400)  # a fresh day and minute for the measured run
    store = MemoryStateStore()
    with (
        VirtuagymClient(vg.credentials, transport=vg.transport(), clock=clock) as vg_client,
        fake.client(DEMO_DIVISION) as exact,
    ):
        pipeline = InvoicePipeline(
            VirtuagymInvoices(vg_client), exact, config, store, clock=clock, name=label
        )
        simulated_start = clock.now()
        wall = time.perf_counter()
        report = pipeline.run()
        wall = time.perf_counter() - wall
        minutes = (clock.now() - simulated_start).total_seconds() / 60
        too_many = sum(1 for call in fake.calls if call.status == 429)
        again = pipeline.run()
    print_report(label, report, minutes, too_many, wall, again, invoices)


def print_report(
    label: str,
    report: SyncReport,
    minutes: float,
    too_many: int,
    wall: float,
    again: SyncReport,
    invoices: int,
) -> None:
    booked = len(report.booked)
    per_invoice = Decimal(report.exact_calls) / Decimal(booked) if booked else Decimal(0)
    print(f"== {label} ==")
    print(f"  invoices in the club        {invoices}")
    print(f"  booked / failed             {booked} / {len(report.failed)}")
    print(f"  accounts created            {report.accounts_created}")
    print(f"  Exact calls                 {report.exact_calls}")
    print(f"  calls per booked invoice    {per_invoice.quantize(Decimal('0.001'))}")
    print(f"  simulated minutes           {minutes:.1f}")
    print(f"  429 responses               {too_many}")
    print(f"  wall clock                  {wall:.1f} s")
    print(f"  second run: calls {again.exact_calls}, booked {len(again.booked)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--members", type=int, default=600)
    parser.add_argument("--known", type=int, default=400)
    args = parser.parse_args()
    run(args.invoices, args.members, args.known, demo_config(), "one entry per invoice")
    run(args.invoices, args.members, args.known, summary_config(), "summary per day")


if __name__ == "__main__":
    main()
