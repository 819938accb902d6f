"""PostgresTokenStore and PostgresRateLimiter on a real PostgreSQL server.

The token store's contract (load, compare-and-swap, refresh lock) runs in
test_tokenstores.py for every store, this one included; here: what only a database
store does (a lock across processes that dies with its holder, migrations, secrets),
and the shared rate budget with several workers against the fake Exact Online on
shared virtual time. Needs ``EXACTBRIDGE_TEST_POSTGRES`` (``.ci/run`` starts a server);
skipped, saying so, without it.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from exactbridge.errors import DailyRateLimitError, ExactBridgeError, TokenStoreError
from exactbridge.exact import PostgresRateLimiter, PostgresTokenStore, Token
from exactbridge.testing import FakeClock, FakeExactOnline, VirtualTime

pytestmark = pytest.mark.postgres

T0 = dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.timezone.utc)
DIVISION = 1001
CANARY_ACCESS = "canary-access-pg-7f3a"
CANARY_REFRESH = "canary-refresh-pg-91bc"


def _token() -> Token:
    return Token(CANARY_ACCESS, CANARY_REFRESH, T0)


# -- token store ----------------------------------------------------------------------------


def _hold_refresh_lock(conninfo: str, schema: str, held: Any) -> None:
    store = PostgresTokenStore(conninfo, schema=schema, name="club")
    with store.refresh_lock():
        held.set()
        time.sleep(120)  # until killed (no shared primitive is waited on: it would break)


def _lock_is_taken(conninfo: str, schema: str) -> bool:
    store = PostgresTokenStore(conninfo, schema=schema, name="club", lock_timeout=0.2)
    try:
        with store.refresh_lock():
            return False
    except TokenStoreError as exc:
        return "cannot take the refresh lock" in str(exc)
    finally:
        store.close()


def test_refresh_lock_excludes_another_process_and_frees_when_it_dies(
    postgres_conninfo: str, postgres_schema: str
):
    PostgresTokenStore(postgres_conninfo, schema=postgres_schema, name="club").close()
    ctx = multiprocessing.get_context("spawn")
    held = ctx.Event()
    child = ctx.Process(target=_hold_refresh_lock, args=(postgres_conninfo, postgres_schema, held))
    child.start()
    try:
        assert held.wait(60)
        assert _lock_is_taken(postgres_conninfo, postgres_schema)
        # The holder dies without releasing: its connection ends, and the lock with it.
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
        child.join(60)
    finally:
        if child.is_alive():
            child.kill()
    assert child.exitcode == -signal.SIGKILL
    assert not _lock_is_taken(postgres_conninfo, postgres_schema)


def test_other_names_are_not_blocked_by_a_refresh(postgres_conninfo: str, postgres_schema: str):
    club = PostgresTokenStore(postgres_conninfo, schema=postgres_schema, name="club")
    other = PostgresTokenStore(
        postgres_conninfo, schema=postgres_schema, name="other", lock_timeout=0.5
    )
    with club.refresh_lock(), other.refresh_lock():
        other.save(_token(), expected_generation=None)
        club.save(_token(), expected_generation=None)
    club_token, other_token = club.load(), other.load()
    assert club_token is not None
    assert other_token is not None
    assert (club_token.generation, other_token.generation) == (1, 1)


def test_saved_times_round_trip_as_aware_utc(postgres_conninfo: str, postgres_schema: str):
    store = PostgresTokenStore(postgres_conninfo, schema=postgres_schema)
    cet = dt.timezone(dt.timedelta(hours=1))
    store.save(
        Token("a-1", "r-1", dt.datetime(2026, 3, 2, 10, 0, tzinfo=cet)), expected_generation=None
    )
    loaded = store.load()
    assert loaded is not None
    assert loaded.issued_at == dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
    assert loaded.issued_at.tzinfo == dt.timezone.utc


def test_a_newer_token_schema_is_refused(postgres_conninfo: str, postgres_schema: str):
    PostgresTokenStore(postgres_conninfo, schema=postgres_schema).close()
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'UPDATE "{postgres_schema}".token_schema_version SET version = 99')
    with pytest.raises(TokenStoreError, match="version 99, written by a newer exactbridge"):
        PostgresTokenStore(postgres_conninfo, schema=postgres_schema)


def test_workers_starting_together_migrate_once(postgres_conninfo: str, postgres_schema: str):
    errors: list[BaseException] = []

    def start() -> None:
        try:
            PostgresTokenStore(postgres_conninfo, schema=postgres_schema).close()
            PostgresRateLimiter(postgres_conninfo, schema=postgres_schema).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        versions = [
            conn.execute(f'SELECT version FROM "{postgres_schema}".{table}').fetchall()
            for table in ("token_schema_version", "rate_budget_schema_version")
        ]
    assert versions == [[(1,)], [(1,)]]


def test_no_password_or_token_in_reprs_or_errors(postgres_conninfo: str, postgres_schema: str):
    store = PostgresTokenStore(postgres_conninfo, schema=postgres_schema, name="club")
    store.save(_token(), expected_generation=None)
    with PostgresRateLimiter(postgres_conninfo, schema=postgres_schema) as budget:
        texts = (repr(store), repr(budget))
    for text in texts:
        assert CANARY_ACCESS not in text
        assert CANARY_REFRESH not in text
    bad = "host=127.0.0.1 port=1 dbname=nope user=sync password=canary-pg-password-55"
    with pytest.raises(TokenStoreError) as caught:
        PostgresTokenStore(bad, connect_timeout=1)
    assert "canary-pg-password-55" not in str(caught.value)
    assert "sync@127.0.0.1:1/nope" in str(caught.value)
    with pytest.raises(ExactBridgeError) as caught_budget:
        PostgresRateLimiter(bad, connect_timeout=1)
    assert "canary-pg-password-55" not in str(caught_budget.value)


# -- shared rate budget ---------------------------------------------------------------------


@pytest.fixture
def limiter(postgres_conninfo: str, postgres_schema: str) -> Iterator[PostgresRateLimiter]:
    made = PostgresRateLimiter(
        postgres_conninfo, schema=postgres_schema, app="app-1", clock=FakeClock(T0)
    )
    yield made
    made.close()


def test_every_grant_is_counted_in_the_shared_row(
    limiter: PostgresRateLimiter,
    postgres_conninfo: str,
    postgres_schema: str,
    request: pytest.FixtureRequest,
):
    other = PostgresRateLimiter(postgres_conninfo, schema=postgres_schema, app="app-1")
    third = PostgresRateLimiter(postgres_conninfo, schema=postgres_schema, app="app-2")
    request.addfinalizer(other.close)
    request.addfinalizer(third.close)
    for _ in range(30):
        assert limiter.reserve(DIVISION, T0, method="GET", url="u") == 0.0
        assert other.reserve(DIVISION, T0, method="GET", url="u") == 0.0
    # 60 granted between the two: the 61st waits for the minute (plus the 1 s margin).
    wait = other.reserve(DIVISION, T0, method="GET", url="u")
    assert wait == pytest.approx(61.0)
    state = limiter.state(DIVISION)
    assert (state.minutely_remaining, state.daily_remaining) == (0, 4940)
    # Another app and another division have budgets of their own.
    assert third.reserve(DIVISION, T0, method="GET", url="u") == 0.0
    assert limiter.reserve(DIVISION + 1, T0, method="GET", url="u") == 0.0


def test_an_answer_lowers_the_count_but_never_raises_it(limiter: PostgresRateLimiter):
    for _ in range(10):
        limiter.reserve(DIVISION, T0, method="GET", url="u")
    reset_ms = int((T0 + dt.timedelta(seconds=50)).timestamp() * 1000)
    day_ms = int((T0 + dt.timedelta(hours=10)).timestamp() * 1000)

    def headers(minutely: int, daily: int) -> dict[str, str]:
        return {
            "X-RateLimit-Minutely-Limit": "60",
            "X-RateLimit-Minutely-Remaining": str(minutely),
            "X-RateLimit-Minutely-Reset": str(reset_ms),
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(daily),
            "X-RateLimit-Reset": str(day_ms),
        }

    # Exact has seen only 3 of our 10 calls: the other 7 are still on their way.
    limiter.record(DIVISION, headers(57, 4997))
    assert limiter.state(DIVISION).minutely_remaining == 50
    # Another app of this user spent more than we did: Exact's lower count wins.
    limiter.record(DIVISION, headers(20, 4000))
    state = limiter.state(DIVISION)
    assert (state.minutely_remaining, state.daily_remaining) == (20, 4000)
    assert state.minutely_reset == T0 + dt.timedelta(seconds=50)


def test_a_used_up_day_raises_for_every_worker(
    limiter: PostgresRateLimiter,
    postgres_conninfo: str,
    postgres_schema: str,
    request: pytest.FixtureRequest,
):
    reset = T0 + dt.timedelta(hours=14)
    assert (
        limiter.wait_after_429(
            DIVISION,
            {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(reset.timestamp() * 1000)),
            },
            T0,
        )
        is None
    )
    other = PostgresRateLimiter(postgres_conninfo, schema=postgres_schema, app="app-1")
    request.addfinalizer(other.close)
    with pytest.raises(DailyRateLimitError) as caught:
        other.reserve(DIVISION, T0 + dt.timedelta(hours=1), method="GET", url="u")
    assert caught.value.reset_at == reset
    # After the reset the day starts again.
    assert other.reserve(DIVISION, reset + dt.timedelta(seconds=1), method="GET", url="u") == 0.0


WORKERS = 4
CALLS_EACH = 45


def _limited_worker(
    fake: FakeExactOnline,
    limiter: PostgresRateLimiter,
    vtime: VirtualTime,
    worker: int,
    outcomes: list[str],
) -> None:
    clock = vtime.clock(worker)
    try:
        with fake.client(DIVISION, clock=clock, rate_limiter=limiter) as client:
            for _ in range(CALLS_EACH):
                try:
                    client.gl_accounts.list(top=1)
                    outcomes.append("ok")
                except Exception as exc:  # recorded and asserted on below
                    outcomes.append(f"{type(exc).__name__}: {exc}")
    finally:
        clock.finish()


def test_workers_sharing_the_budget_never_exceed_exacts_minute(
    postgres_conninfo: str, postgres_schema: str
):
    vtime = VirtualTime(WORKERS, T0, context=multiprocessing.get_context("fork"))
    fake = FakeExactOnline(clock=vtime.observer())
    fake.add_division(DIVISION)
    limiters = [
        PostgresRateLimiter(
            postgres_conninfo, schema=postgres_schema, app="app-1", clock=vtime.observer()
        )
        for _ in range(WORKERS)
    ]
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=_limited_worker, args=(fake, limiters[i], vtime, i, outcomes))
        for i in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert outcomes == ["ok"] * (WORKERS * CALLS_EACH)
    api = [c for c in fake.calls if c.division == DIVISION]
    assert len(api) == WORKERS * CALLS_EACH
    # Exact never had to refuse a call, and no minute saw more than 60.
    assert [c.status for c in api if c.status != 200] == []
    per_minute = Counter(c.at.replace(second=0, microsecond=0) for c in api)
    assert max(per_minute.values()) <= 60
    # 180 calls at 60 a minute need at least three windows of virtual time.
    assert len(per_minute) >= 3
    for made in limiters:
        made.close()
