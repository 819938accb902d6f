"""Benchmark: read and adapt 50,000 fake Virtuagym invoices and 10,000 fake Eduframe invoices.

Runs the real clients against the in-memory fakes (the httpx transport seam), with a
fake clock so pacing (500 requests per hour / per 5 minutes) costs no wall time.
Prints records per second and the HTTP calls used. Run::

    .venv/bin/python benchmarks/bench_sources_vg_ef.py
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from exactbridge.sources.eduframe import EduframeAdapter, EduframeClient
from exactbridge.sources.virtuagym import VirtuagymAdapter, VirtuagymClient
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.eduframe import FakeEduframe
from exactbridge.testing.virtuagym import FakeVirtuagym


class _Timed:
    """Wraps a fake's handler to measure the time spent inside the fake (not the client)."""

    def __init__(self, handler: Callable[[Any], Any]):
        self.handler = handler
        self.seconds = 0.0

    def __call__(self, request: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.handler(request)
        finally:
            self.seconds += time.perf_counter() - start


def bench_virtuagym(target: int) -> None:
    clock = FakeClock()
    fake = FakeVirtuagym(clock=clock)
    members = max(1, target * 100 // 1235 + 50)  # 12 monthly invoices + ~3.5 % guests/credits
    seeded = time.perf_counter()
    summary = fake.seed_gym(members=members, months=12)
    seeded = time.perf_counter() - seeded
    timed = _Timed(fake.handle)
    fake.handle = timed  # type: ignore[method-assign]
    with VirtuagymClient(fake.credentials, transport=fake.transport(), clock=clock) as client:
        start = time.perf_counter()
        member_list = client.members().all()
        adapter = VirtuagymAdapter(
            members=member_list,
            club_taxes=client.club_taxes().all(),
            income_categories=client.income_categories().all(),
            club_id=client.club_id,
        )
        listing = client.invoices()
        records, errors = adapter.adapt_all(listing)
        elapsed = time.perf_counter() - start
        calls = client.session.calls
    read = len(records) + len(errors) + len(listing.errors)
    print(
        f"virtuagym: seeded {summary.invoices} invoices / {summary.members} members "
        f"in {seeded:.1f} s; "
        f"read {read} invoices (+{listing.stats.skipped_concepts} concepts skipped), "
        f"adapted {len(records)}, errors {len(errors) + len(listing.errors)}; "
        f"{elapsed:.2f} s = {read / elapsed:,.0f} invoices/s end to end, "
        f"{read / (elapsed - timed.seconds):,.0f} invoices/s client+adapter only "
        f"(fake {timed.seconds:.2f} s); "
        f"HTTP calls {calls} ({listing.stats.pages} invoice pages); "
        f"simulated pacing wait {sum(clock.slept):.0f} s"
    )


def bench_eduframe(target: int) -> None:
    clock = FakeClock()
    fake = FakeEduframe(clock=clock)
    seeded = time.perf_counter()
    summary = fake.seed_institute(accounts=max(10, target // 3), invoices=target)
    seeded = time.perf_counter() - seeded
    timed = _Timed(fake.handle)
    fake.handle = timed  # type: ignore[method-assign]
    with EduframeClient(fake.credentials, transport=fake.transport(), clock=clock) as client:
        start = time.perf_counter()
        adapter = EduframeAdapter(
            accounts=client.accounts(),
            invoice_vats=client.invoice_vats(),
            catalog_variants=client.catalog_variants(),
            planned_courses=client.planned_courses(),
            courses=client.courses(),
            orders=client.orders(),
            discount_codes=client.discount_codes(),
        )
        listing = client.invoices()
        records, errors = adapter.adapt_all(listing)
        elapsed = time.perf_counter() - start
        calls = client.session.calls
        invoice_calls = len(fake.calls_to("/invoices"))
    read = len(records) + len(errors) + len(listing.errors)
    print(
        f"eduframe: seeded {summary.invoices} invoices / {summary.accounts} accounts "
        f"in {seeded:.1f} s; "
        f"read {read} invoices, adapted {len(records)}, "
        f"not adaptable {len(errors) + len(listing.errors)} "
        f"(concepts: {summary.statuses['concept']}); "
        f"{elapsed:.2f} s = {read / elapsed:,.0f} invoices/s end to end, "
        f"{read / (elapsed - timed.seconds):,.0f} invoices/s client+adapter only "
        f"(fake {timed.seconds:.2f} s); "
        f"HTTP calls {calls} ({invoice_calls} invoice pages); "
        f"simulated pacing wait {sum(clock.slept):.0f} s"
    )


def main() -> None:
    """Run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--virtuagym", type=int, default=50_000)
    parser.add_argument("--eduframe", type=int, default=10_000)
    args = parser.parse_args()
    bench_virtuagym(args.virtuagym)
    bench_eduframe(args.eduframe)


if __name__ == "__main__":
    main()
