"""Throughput of the fake Exact Online in-process (requests per second).

Run: .venv/bin/python benchmarks/bench_fake_exact.py [--rows 3000] [--posts 1000]

Measures, through ``httpx.Client(transport=fake.transport())`` with plain JSON parsing:
* paged GETs: walking ``crm/Accounts`` (60 rows per page) by following ``__next``;
* by-key GETs of single accounts;
* POSTs of new accounts (with ``Prefer: return=representation``).
Rate limits are raised out of the way; the numbers include the real domain's validation.
"""

from __future__ import annotations

import argparse
import json
import time

import httpx

from exactbridge.testing import FakeExactOnline

DIVISION = 123


def make_fake() -> tuple[FakeExactOnline, httpx.Client]:
    fake = FakeExactOnline(minutely_limit=10**9, daily_limit=10**9)
    fake.add_division(DIVISION, template="nl")
    token = fake.issue_tokens().access_token
    http = httpx.Client(
        transport=fake.transport(),
        base_url=fake.base_url,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    return fake, http


def bench_posts(http: httpx.Client, count: int) -> tuple[float, list[str]]:
    keys: list[str] = []
    start = time.perf_counter()
    for index in range(count):
        response = http.post(
            f"/api/v1/{DIVISION}/crm/Accounts",
            json={"Name": f"Bench customer {index:05d}", "Status": "C", "City": "Utrecht"},
            headers={"Prefer": "return=representation"},
        )
        assert response.status_code == 201, response.text
        keys.append(json.loads(response.text)["d"]["ID"])
    return count / (time.perf_counter() - start), keys


def bench_paged_gets(http: httpx.Client, rounds: int) -> tuple[float, int]:
    requests = rows = 0
    start = time.perf_counter()
    for _ in range(rounds):
        url: str | None = (
            f"/api/v1/{DIVISION}/crm/Accounts?$filter=Name ne null&$select=ID,Name,Code"
        )
        while url:
            response = http.get(url)
            assert response.status_code == 200, response.text
            page = json.loads(response.text)["d"]
            rows += len(page["results"])
            requests += 1
            url = page.get("__next")
    return requests / (time.perf_counter() - start), rows


def bench_key_gets(http: httpx.Client, keys: list[str]) -> float:
    start = time.perf_counter()
    for key in keys:
        response = http.get(f"/api/v1/{DIVISION}/crm/Accounts(guid'{key}')")
        assert response.status_code == 200
    return len(keys) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=3000, help="accounts to POST in all")
    parser.add_argument("--rounds", type=int, default=3, help="full walks over all pages")
    args = parser.parse_args()
    fake, http = make_fake()
    small = min(300, args.posts)
    with http:
        post_rate, keys = bench_posts(http, small)
        small_rate, _small_rows = bench_paged_gets(http, args.rounds)
        more_rate, more_keys = bench_posts(http, args.posts - small)
        keys += more_keys
        page_rate, _rows = bench_paged_gets(http, args.rounds)
        key_rate = bench_key_gets(http, keys[:1000])
    print(f"POST crm/Accounts:                      {post_rate:8.0f} requests/s (first {small})")
    print(
        f"POST crm/Accounts:                      {more_rate:8.0f} requests/s (up to {len(keys)})"
    )
    print(f"GET pages of 60 of {small:5d} accounts:    {small_rate:8.0f} requests/s")
    print(f"GET pages of 60 of {len(keys):5d} accounts:    {page_rate:8.0f} requests/s")
    print(f"GET crm/Accounts(guid'...'):            {key_rate:8.0f} requests/s")
    print(f"calls logged by the fake: {fake.count()}")


if __name__ == "__main__":
    main()
