"""Many divisions, many workers: one Exact app, one shared budget, PostgreSQL state.

Run (needs a PostgreSQL server; ``.ci/postgres.sh`` starts a throw-away one)::

    EXACTBRIDGE_TEST_POSTGRES='host=127.0.0.1 port=54329 user=postgres dbname=exactbridge_test' \\
        .venv/bin/python benchmarks/bench_many_divisions.py \\
        [--divisions 50] [--invoices 1000] [--members 200] [--workers 4] \\
        [--no-baseline] [--json]

One fake Exact Online, served over HTTP on localhost, holds ``--divisions`` Dutch
divisions and enforces Exact's limits (60 calls per minute and 5,000 per UTC day, per
division) on simulated time. Every division has its own fake Virtuagym club with
``--invoices`` invoices (the demo's mix: memberships, personal training, discounts,
guest day passes, credit invoices). ``--workers`` processes (spawned, as on separate
machines) take divisions from a shared queue, as a job engine hands out tasks, and
book each one with an InvoicePipeline:

- state: a PostgresStateStore per division (a schema of its own), run under its
  PostgreSQL run lock;
- tokens: one PostgresTokenStore row shared by every worker (one Exact app, one
  user); the fake's access tokens live 10 minutes and every refresh rotates the
  refresh token, so the workers refresh it many times over the run;
- budget: one PostgresRateLimiter (one row per division) that every client draws from
  and feeds Exact's X-RateLimit headers back into.

Time is a VirtualTime: it stands still while any worker works and jumps to the next
wake-up when all of them wait, so the simulated duration is what the run would take
on Exact's real limits, and the wall time is this machine's work only.

Printed per configuration (``--workers`` workers, then one worker as the baseline):
duplicates (entries sharing a YourRef: must be 0), losses (source invoices without
exactly one entry: must be 0), the most calls any division made in one minute (limit
60) and in one day (limit 5,000), 429 answers, token refreshes and failed refreshes
(must be 0), simulated hours and wall seconds. The exit status is 1 when any
duplicate, loss, failed refresh or crashed division was seen.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import multiprocessing
import os
import queue
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

from exactbridge.cli._demo import demo_config, seed_virtuagym
from exactbridge.exact import Credentials, ExactClient, Token
from exactbridge.exact.postgres import PostgresRateLimiter, PostgresTokenStore
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import InvoicePipeline, PostgresStateStore, VirtuagymInvoices
from exactbridge.sync.schedule import run_locked
from exactbridge.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeExactOnline,
    VirtualTime,
)
from exactbridge.testing.server import serve

POSTGRES_ENV = "EXACTBRIDGE_TEST_POSTGRES"
FIRST_DIVISION = 2001
START = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.timezone.utc)
MINUTELY_LIMIT = 60
DAILY_LIMIT = 5000
GUEST_CUSTOMER = "Kassaverkoop (gasten)"  # customer 1, the demo's guest debtor


@attrs.frozen
class Setup:
    """What a worker process is given (picklable: plain values and shared time)."""

    exact_url: str
    conninfo: str
    prefix: str
    invoices: int
    members: int
    vtime: VirtualTime


@attrs.frozen
class DivisionResult:
    """What a worker reports of one division."""

    division: int
    worker: int
    status: str
    source_invoices: int
    booked: int
    failed: int
    exact_calls: int
    error: str = ""


@attrs.frozen
class Figures:
    """What one configuration measured."""

    workers: int
    divisions: int
    invoices: int
    duplicates: int
    losses: int
    failed_records: int
    max_calls_per_minute: int
    max_calls_per_day: int
    too_many_requests: int
    refreshes: int
    refresh_failures: int
    exact_calls: int
    simulated_hours: float
    wall_seconds: float
    errors: tuple[str, ...]

    def lines(self) -> Iterator[str]:
        yield f"== {self.workers} worker(s), {self.divisions} divisions x {self.invoices} =="
        yield f"  duplicates (entries per YourRef > 1)   {self.duplicates}"
        yield f"  losses (invoices without one entry)    {self.losses}"
        yield f"  records that failed to book            {self.failed_records}"
        yield f"  most calls of a division in a minute   {self.max_calls_per_minute}"
        yield f"    (limit {MINUTELY_LIMIT})"
        yield f"  most calls of a division in a day      {self.max_calls_per_day}"
        yield f"    (limit {DAILY_LIMIT})"
        yield f"  429 answers                            {self.too_many_requests}"
        yield f"  token refreshes / failed               {self.refreshes} / {self.refresh_failures}"
        yield f"  Exact API calls                        {self.exact_calls}"
        yield f"  simulated hours                        {self.simulated_hours:.2f}"
        yield f"  wall clock                             {self.wall_seconds:.1f} s"
        for error in self.errors:
            yield f"  error: {error}"


def _schema(prefix: str, division: int) -> str:
    return f"{prefix}_d{division}"


def _worker(setup: Setup, worker: int, todo: Any, done: Any) -> None:
    """One worker process: take divisions until the queue says stop, book each one."""
    clock = setup.vtime.clock(worker)
    try:
        with (
            PostgresTokenStore(setup.conninfo, name="bench-app", schema=setup.prefix) as tokens,
            PostgresRateLimiter(
                setup.conninfo, app="bench-app", schema=setup.prefix, clock=clock
            ) as budget,
        ):
            while (division := todo.get()) is not None:
                result = _book_division(setup, worker, division, clock, tokens, budget)
                # Plain values across the process boundary (the class lives in __main__).
                done.put(attrs.astuple(result))
    finally:
        clock.finish()


def _book_division(
    setup: Setup,
    worker: int,
    division: int,
    clock: Any,
    tokens: PostgresTokenStore,
    budget: PostgresRateLimiter,
) -> DivisionResult:
    club = seed_virtuagym(members=setup.members, invoices=setup.invoices, clock=clock)
    try:
        with (
            ExactClient(
                division=division,
                credentials=Credentials(
                    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI
                ),
                token_store=tokens,
                base_url=setup.exact_url,
                clock=clock,
                rate_limiter=budget,
            ) as exact,
            VirtuagymClient(club.credentials, transport=club.transport(), clock=clock) as source,
            PostgresStateStore(setup.conninfo, schema=_schema(setup.prefix, division)) as store,
        ):
            pipeline = InvoicePipeline(
                VirtuagymInvoices(source), exact, demo_config(), store, clock=clock
            )
            report = run_locked(pipeline)
    except Exception as exc:  # reported per division; the figures count it
        return DivisionResult(division, worker, "crashed", len(club.invoices), 0, 0, 0, repr(exc))
    return DivisionResult(
        division,
        worker,
        report.status.value,
        len(club.invoices),
        len(report.booked),
        len(report.failed),
        report.exact_calls,
        "" if report.error is None else repr(report.error),
    )


@contextmanager
def _schemas(conninfo: str, prefix: str, divisions: Sequence[int]) -> Iterator[None]:
    import psycopg

    try:
        yield
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            for name in [prefix, *(_schema(prefix, d) for d in divisions)]:
                conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def run(
    *,
    conninfo: str,
    divisions: int,
    invoices: int,
    members: int,
    workers: int,
    timeout: float = 3600.0,
) -> Figures:
    """Book ``divisions`` divisions of ``invoices`` invoices with ``workers`` processes."""
    context = multiprocessing.get_context("spawn")
    vtime = VirtualTime(workers, START, context=context)
    fake = FakeExactOnline(
        clock=vtime.observer(), minutely_limit=MINUTELY_LIMIT, daily_limit=DAILY_LIMIT
    )
    codes = [FIRST_DIVISION + index for index in range(divisions)]
    for code in codes:
        fake.add_division(code, template="nl", customers=[GUEST_CUSTOMER])
    prefix = f"bench_{uuid.uuid4().hex[:10]}"
    grant = fake.issue_tokens(DEFAULT_CLIENT_ID)
    with (
        _schemas(conninfo, prefix, codes),
        PostgresTokenStore(conninfo, name="bench-app", schema=prefix) as tokens,
    ):
        tokens.save(
            Token(
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                issued_at=grant.issued_at,
                expires_in=int(grant.expires_in),
            ),
            expected_generation=None,
        )
        with serve(fake) as server:
            setup = Setup(server.url, conninfo, prefix, invoices, members, vtime)
            todo = context.Queue()
            done = context.Queue()
            for code in codes:
                todo.put(code)
            for _ in range(workers):
                todo.put(None)
            wall = time.perf_counter()
            processes = [
                context.Process(target=_worker, args=(setup, index, todo, done))
                for index in range(workers)
            ]
            for process in processes:
                process.start()
            results = _collect(done, len(codes), processes, timeout)
            for process in processes:
                process.join(60)
            wall = time.perf_counter() - wall
            simulated = (vtime.observer().now() - START).total_seconds() / 3600
    return _figures(fake, codes, results, processes, workers, invoices, simulated, wall)


def _collect(
    done: Any, expected: int, processes: Sequence[Any], timeout: float
) -> list[DivisionResult]:
    results: list[DivisionResult] = []
    deadline = time.monotonic() + timeout
    while len(results) < expected:
        try:
            results.append(DivisionResult(*done.get(timeout=1.0)))
        except queue.Empty:
            if time.monotonic() > deadline or not any(p.is_alive() for p in processes):
                break
    return results


def _figures(
    fake: FakeExactOnline,
    codes: Sequence[int],
    results: Sequence[DivisionResult],
    processes: Sequence[Any],
    workers: int,
    invoices: int,
    simulated: float,
    wall: float,
) -> Figures:
    calls = [call for call in fake.calls if call.division is not None]
    per_minute = collections.Counter(
        (call.division, call.at.replace(second=0, microsecond=0)) for call in calls
    )
    per_day = collections.Counter((call.division, call.at.date()) for call in calls)
    refreshes = [call for call in fake.token_log if call.grant_type == "refresh_token"]
    errors = [f"division {r.division}: {r.status} {r.error}" for r in results if r.error]
    errors += [f"division {code}: no report" for code in set(codes) - {r.division for r in results}]
    errors += [f"worker {i} exit code {p.exitcode}" for i, p in enumerate(processes) if p.exitcode]
    # Read back what Exact holds, through the client (the limits no longer matter).
    fake.minutely_limit = fake.daily_limit = 10**9
    expected = {r.division: r.source_invoices for r in results}
    duplicates = losses = 0
    for code in codes:
        with fake.client(code) as exact:
            refs = collections.Counter(entry.your_ref for entry in exact.sales_entries.iterate())
        duplicates += sum(count - 1 for count in refs.values() if count > 1)
        losses += max(expected.get(code, invoices) - len(refs), 0)
    return Figures(
        workers=workers,
        divisions=len(codes),
        invoices=invoices,
        duplicates=duplicates,
        losses=losses,
        failed_records=sum(r.failed for r in results),
        max_calls_per_minute=max(per_minute.values(), default=0),
        max_calls_per_day=max(per_day.values(), default=0),
        too_many_requests=sum(1 for call in calls if call.status == 429),
        refreshes=len(refreshes),
        refresh_failures=sum(1 for call in refreshes if call.status != 200),
        exact_calls=len(calls),
        simulated_hours=simulated,
        wall_seconds=wall,
        errors=tuple(errors),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--divisions", type=int, default=50)
    parser.add_argument("--invoices", type=int, default=1000, help="invoices per division")
    parser.add_argument("--members", type=int, default=200, help="members per club")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the comparison run on one worker"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    conninfo = os.environ.get(POSTGRES_ENV, "")
    if not conninfo:
        print(f"set {POSTGRES_ENV} to a PostgreSQL connection string", file=sys.stderr)
        return 2
    options = {
        "conninfo": conninfo,
        "divisions": args.divisions,
        "invoices": args.invoices,
        "members": args.members,
    }
    figures = [run(workers=args.workers, **options)]
    if not args.no_baseline and args.workers != 1:
        figures.append(run(workers=1, **options))
    if args.json:
        print(json.dumps([attrs.asdict(found) for found in figures], indent=2))
    else:
        for found in figures:
            print("\n".join(found.lines()))
    if len(figures) == 2 and not args.json:
        ratio = figures[1].wall_seconds / max(figures[0].wall_seconds, 1e-9)
        print(f"== {args.workers} workers against 1: {ratio:.2f}x faster in wall time ==")
    bad = [f for f in figures if f.duplicates or f.losses or f.refresh_failures or f.errors]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
