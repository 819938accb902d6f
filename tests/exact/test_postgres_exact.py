"""PostgresTokenStore on a real PostgreSQL server.

The token store's contract (load, compare-and-swap, refresh lock) runs in
test_tokenstores.py for every store, this one included; here: what only a database
store does (a lock across processes that dies with its holder, migrations, secrets).
PostgresRateLimiter's tests are in test_shared_limiters.py (with the Redis one).
Needs ``EXACTBRIDGE_TEST_POSTGRES`` (``.ci/run`` starts a server);
skipped, saying so, without it.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import threading
import time
from typing import Any

import psycopg
import pytest

from exactbridge.errors import ExactBridgeError, TokenStoreError
from exactbridge.exact import PostgresRateLimiter, PostgresTokenStore, Token

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
