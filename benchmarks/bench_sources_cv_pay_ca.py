"""Benchmark: read and adapt Coachview invoices, Pay. settlements and a pain.008 file.

Run::

    .venv/bin/python benchmarks/bench_sources_cv_pay_ca.py [--scale 1.0]

Each case is run twice: once for speed (records per second, read + adapt, seeding
excluded) and once under :mod:`tracemalloc` for the peak memory of the read + adapt
phase. The Coachview and Pay. cases run the real clients against the in-process fakes
(the fakes' own JSON encoding is part of the measured time and memory); the pain.008
case streams a file written to a temporary directory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator

from exactbridge.errors import SourceError
from exactbridge.sources.clubassistent import (
    DirectDebit,
    Pain008Reader,
    mandates_from_direct_debits,
)
from exactbridge.sources.coachview import CoachviewClient, invoice_to_record
from exactbridge.sources.paynl import PayClient, settlement_to_payout
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.clubassistent import sample_direct_debits, write_pain008
from exactbridge.testing.coachview import FakeCoachview
from exactbridge.testing.paynl import FakePay


def measure(name: str, unit: str, run: Callable[[], int]) -> None:
    start = time.perf_counter()
    count = run()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{name:<44} {count:>8} {unit:<13} {seconds:7.2f} s "
        f"{count / seconds:>10.0f} {unit}/s   peak {peak / 2**20:7.1f} MiB"
    )


def coachview(n: int) -> Callable[[], int]:
    clock = FakeClock(dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc))
    fake = FakeCoachview(clock=clock, daily_limit=1_000_000)
    fake.add_client("bench", "secret", lifetime=28800)
    fake.seed_invoices(n, seed=1)

    def run() -> int:
        client = CoachviewClient("bench", "secret", transport=fake.transport(), clock=clock)
        listing = client.list_invoice_bundles()
        count = 0
        for bundle in listing:
            invoice_to_record(
                bundle.invoice, bundle.debtor, company=bundle.company, person=bundle.person
            )
            count += 1
        assert not listing.errors
        client.close()
        return count

    return run


def paynl(settlements: int, transactions: int) -> Callable[[], int]:
    fake = FakePay()
    fake.seed(settlements=settlements, transactions=transactions, seed=1)

    def run() -> int:
        client = PayClient(fake.token_code, fake.api_token, transport=fake.transport())
        listing = client.list_settlement_bundles()
        payments = 0
        for bundle in listing:
            payout = settlement_to_payout(bundle)
            assert payout is not None
            payments += len(payout.payments)
        assert not listing.errors
        client.close()
        return payments

    return run


def pain008(path: str) -> Callable[[], int]:
    def run() -> int:
        errors: list[SourceError] = []
        count = 0

        def counted() -> Iterator[DirectDebit]:
            nonlocal count
            for debit in Pain008Reader().iter_direct_debits(path, errors=errors):
                count += 1
                yield debit

        mandates_from_direct_debits(counted())
        assert not errors
        return count

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    scale = parser.parse_args().scale
    cv, pay_s, pain = int(20_000 * scale), int(2_000 * scale), int(50_000 * scale)
    measure(f"Coachview: read + adapt {cv} invoices", "invoices", coachview(cv))
    measure(f"Pay.: {pay_s} settlements x 100 transactions", "payments", paynl(pay_s, 100))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "incasso.xml")
        write_pain008(path, sample_direct_debits(pain, seed=1), version="08")
        size = os.path.getsize(path) / 2**20
        measure(
            f"pain.008.001.08: {pain} tx ({size:.0f} MiB) -> mandates",
            "transactions",
            pain008(path),
        )


if __name__ == "__main__":
    main()
