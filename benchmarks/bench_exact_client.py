"""Client overhead per call, and paging through 100,000 rows, against the in-process fake.

Run: .venv/bin/python benchmarks/bench_exact_client.py [--rows 100000]

Prints rows per second and peak traced memory for the client alone (pages served by a canned
transport), calls per second for single-entity GETs against the fake (sync and async), and rows
per second and peak memory while iterating 10 %, 50 % and 100 % of the fake's rows. Paging keeps
one page in memory, so the peak must stay flat as the row count grows.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import tracemalloc
from typing import Any

import httpx

from exactbridge.exact import (
    AsyncExactClient,
    Credentials,
    ExactClient,
    MemoryTokenStore,
    RetryPolicy,
    Token,
)
from exactbridge.testing import FakeExactOnline

DIVISION = 100
CLIENT_ID = "bench-client"


def make_fake(rows: int) -> FakeExactOnline:
    fake = FakeExactOnline(minutely_limit=10**9, daily_limit=10**9)
    fake.register_app(CLIENT_ID, "bench-secret", "https://bench.example/cb")
    fake.add_division(DIVISION, template="nl")
    accounts = fake.domain.entity_set("crm/Accounts")
    assert accounts is not None
    for i in range(rows):
        fake.domain.create(
            DIVISION, accounts, {"Name": f"Bench member {i}", "Code": str(100000 + i)}
        )
    return fake


def client_kwargs(fake: FakeExactOnline) -> dict[str, Any]:
    # Tokens are re-issued as the simulated clock never moves far in a benchmark.
    grant = fake.issue_tokens(CLIENT_ID)
    token = Token(
        access_token=grant.access_token,
        refresh_token=grant.refresh_token,
        issued_at=grant.issued_at,
        expires_in=int(grant.expires_in),
    )
    return {
        "division": DIVISION,
        "credentials": Credentials(CLIENT_ID, "bench-secret", "https://bench.example/cb"),
        "token_store": MemoryTokenStore(token),
        "clock": fake.clock,
        "retry": RetryPolicy(jitter=lambda c: c),
    }


def bench_calls(fake: FakeExactOnline, calls: int) -> tuple[float, float]:
    with ExactClient(transport=fake.transport(), **client_kwargs(fake)) as client:
        first = client.journals.first()
        assert first is not None
        key = first.id
        start = time.perf_counter()
        for _ in range(calls):
            client.journals.get(key)
        sync_rate = calls / (time.perf_counter() - start)

    async def run_async() -> float:
        async with AsyncExactClient(
            transport=fake.async_transport(), **client_kwargs(fake)
        ) as client:
            start = time.perf_counter()
            for _ in range(calls):
                await client.journals.get(key)
            return calls / (time.perf_counter() - start)

    return sync_rate, asyncio.run(run_async())


def bench_iterate(fake: FakeExactOnline, limit: int) -> tuple[float, int, int]:
    with ExactClient(transport=fake.transport(), **client_kwargs(fake)) as client:
        tracemalloc.start()
        start = time.perf_counter()
        seen = 0
        # bulk/CRM/Accounts: 1000 rows a page, following __next like every other read.
        for account in client.accounts.iter_bulk(select=["ID", "Code", "Name"]):
            seen += 1
            assert account.name
            if seen >= limit:
                break
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return seen / elapsed, seen, peak


def canned_pages_transport(total: int, page_size: int = 1000) -> httpx.MockTransport:
    """Serve ``total`` account rows in bulk-sized pages, built per request, no table behind.

    This isolates the client's own cost (request building, JSON decoding, envelope and
    model parsing, paging) from the fake's query evaluation.
    """
    base = "https://start.exactonline.nl/api/v1/100/bulk/CRM/Accounts"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            raise AssertionError("no refresh expected in this benchmark")
        start = int(request.url.params.get("$skiptoken", "0"))
        end = min(start + page_size, total)
        rows = ",".join(
            '{"__metadata":{"uri":"x","type":"Exact.Web.Api.Models.Account"},'
            f'"ID":"00000000-0000-4000-8000-{i:012d}","Code":"{i:>18}","Name":"Member {i}"}}'
            for i in range(start, end)
        )
        nxt = f',"__next":"{base}?$select=ID,Code,Name&$skiptoken={end}"' if end < total else ""
        body = f'{{"d":{{"results":[{rows}]{nxt}}}}}'.encode()
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    return httpx.MockTransport(handler)


def bench_client_only(fake: FakeExactOnline, total: int) -> tuple[float, int]:
    kwargs = client_kwargs(fake)
    with ExactClient(transport=canned_pages_transport(total), **kwargs) as client:
        tracemalloc.start()
        start = time.perf_counter()
        seen = sum(1 for _ in client.accounts.iter_bulk(select=["ID", "Code", "Name"]))
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert seen == total
    return seen / elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=2_000)
    args = parser.parse_args()
    small = make_fake(0)
    for total in (10_000, 50_000, args.rows):
        rate, peak = bench_client_only(small, total)
        print(
            f"client only, {total:7d} rows: {rate:8.0f} rows/s, "
            f"peak traced memory {peak / 1e6:6.2f} MB"
        )
    fake = make_fake(args.rows)
    sync_rate, async_rate = bench_calls(fake, args.calls)
    print(f"GET by key, sync : {sync_rate:8.0f} calls/s (client + in-process fake)")
    print(f"GET by key, async: {async_rate:8.0f} calls/s (client + in-process fake)")
    for fraction in (0.1, 0.5, 1.0):
        limit = int(args.rows * fraction)
        rate, seen, peak = bench_iterate(fake, limit)
        print(
            f"iterate {seen:7d} rows: {rate:8.0f} rows/s, peak traced memory {peak / 1e6:6.2f} MB"
        )


if __name__ == "__main__":
    main()
