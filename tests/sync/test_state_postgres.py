"""PostgresStateStore beyond the shared contract: migrations, the run lock, secrets, and
workers in separate processes that crash mid-booking.

These tests need a real PostgreSQL server (``EXACTBRIDGE_TEST_POSTGRES``, a libpq
connection string); ``.ci/run`` installs and starts one. Without it they are skipped
and say so.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest

from exactbridge.errors import SyncError
from exactbridge.exact import Credentials, ExactClient, MemoryTokenStore, Token
from exactbridge.mapping import BookingConfig
from exactbridge.sources.virtuagym import VirtuagymClient, VirtuagymCredentials, VirtuagymSettings
from exactbridge.sync import (
    BookingKey,
    BookingStatus,
    InvoicePipeline,
    PipelineBusyError,
    PostgresStateStore,
    VirtuagymInvoices,
)
from exactbridge.sync.postgres_store import POSTGRES_SCHEMA_VERSION
from exactbridge.sync.schedule import run_locked
from exactbridge.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeClock,
    FakeExactOnline,
)
from exactbridge.testing.server import serve
from exactbridge.testing.virtuagym import FakeVirtuagym
from tests.sync.crashing import WORKER_CONFIG, CrashAfter

pytestmark = pytest.mark.postgres

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
KEY = BookingKey("virtuagym", "club-12", "INV-1")
DIVISION = 1001


@pytest.fixture
def store(postgres_conninfo: str, postgres_schema: str) -> Iterator[PostgresStateStore]:
    made = PostgresStateStore(postgres_conninfo, schema=postgres_schema)
    yield made
    made.close()


def test_a_new_schema_is_migrated_once_and_reopening_changes_nothing(
    store: PostgresStateStore, postgres_conninfo: str
) -> None:
    assert store.schema_version == POSTGRES_SCHEMA_VERSION
    store.record_intent(KEY, content_hash="h", your_ref="INV-1", journal="70", now=T0)
    with PostgresStateStore(postgres_conninfo, schema=store.schema) as again:
        assert again.schema_version == POSTGRES_SCHEMA_VERSION
        record = again.get(KEY)
    assert record is not None
    assert record.status is BookingStatus.PENDING


def test_workers_starting_together_migrate_once(
    postgres_conninfo: str, postgres_schema: str
) -> None:
    errors: list[BaseException] = []
    stores: list[PostgresStateStore] = []

    def start() -> None:
        try:
            stores.append(PostgresStateStore(postgres_conninfo, schema=postgres_schema))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert {made.schema_version for made in stores} == {POSTGRES_SCHEMA_VERSION}
    for made in stores:
        made.close()


def test_a_schema_written_by_a_newer_exactbridge_is_refused(
    store: PostgresStateStore, postgres_conninfo: str
) -> None:
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'UPDATE "{store.schema}".schema_version SET version = 99')
    with pytest.raises(SyncError, match="newer exactbridge"):
        PostgresStateStore(postgres_conninfo, schema=store.schema)


def test_the_run_lock_is_exclusive_and_dies_with_its_connection(
    store: PostgresStateStore, postgres_conninfo: str
) -> None:
    first = store.run_lock("club-12-invoices")
    second = store.run_lock("club-12-invoices")
    other = store.run_lock("club-13-invoices")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert other.try_acquire()
    with pytest.raises(PipelineBusyError), second:
        pass
    # The holder's session ends (a crashed worker): PostgreSQL frees the lock.
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks "
            "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid() "
            "AND objid = %s",
            (first._ids()[1] & 0xFFFFFFFF,),
        )
    assert second.try_acquire()
    second.release()
    other.release()
    first.release()


def test_concurrent_changes_of_one_record_are_serialised(
    store: PostgresStateStore, postgres_conninfo: str
) -> None:
    stores = [PostgresStateStore(postgres_conninfo, schema=store.schema) for _ in range(4)]

    def retry_often(worker: PostgresStateStore) -> None:
        for _ in range(10):
            worker.record_intent(KEY, content_hash="h", your_ref="INV-1", journal="70", now=T0)
            worker.mark_failed(KEY, error="Exact said no", now=T0)

    threads = [threading.Thread(target=retry_often, args=(worker,)) for worker in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    record = store.get(KEY)
    assert record is not None
    assert record.attempts == 40  # no read-modify-write lost an attempt
    for worker in stores:
        worker.close()


def test_no_password_in_the_repr_or_the_errors(postgres_conninfo: str) -> None:
    canary = "pw-canary-7f3a91"
    parts = psycopg.conninfo.conninfo_to_dict(postgres_conninfo)
    wrong = psycopg.conninfo.make_conninfo(**{**parts, "port": "1", "password": canary})
    with pytest.raises(SyncError) as caught:
        PostgresStateStore(wrong, connect_timeout=2)
    assert canary not in str(caught.value)
    assert canary not in repr(caught.value)
    good = psycopg.conninfo.make_conninfo(**{**parts, "password": canary})
    with PostgresStateStore(good, schema="t_canary_repr") as store:
        assert canary not in repr(store)
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute('DROP SCHEMA IF EXISTS "t_canary_repr" CASCADE')


# -- workers in processes ------------------------------------------------------------


def _worker(setup: dict[str, Any], crash_after: int | None) -> None:
    """One worker process: the pipeline against the served fakes and the shared store."""
    token = Token(**setup["token"])
    transport: httpx.BaseTransport = (
        CrashAfter(crash_after) if crash_after is not None else httpx.HTTPTransport()
    )
    exact = ExactClient(
        division=DIVISION,
        credentials=Credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI),
        token_store=MemoryTokenStore(token),
        base_url=setup["exact_url"],
        transport=transport,
    )
    virtuagym = VirtuagymClient(
        VirtuagymCredentials(**setup["virtuagym"]),
        settings=VirtuagymSettings(base_url=setup["virtuagym_url"]),
    )
    with PostgresStateStore(setup["conninfo"], schema=setup["schema"]) as store:
        pipeline = InvoicePipeline(
            VirtuagymInvoices(virtuagym), exact, BookingConfig.from_mapping(WORKER_CONFIG), store
        )
        run_locked(pipeline)


def test_a_worker_killed_mid_booking_and_a_rerun_leave_one_entry_per_invoice(
    postgres_conninfo: str, postgres_schema: str
) -> None:
    clock = FakeClock(dt.datetime.now(dt.timezone.utc))
    exact_fake = FakeExactOnline(clock=clock, minutely_limit=10_000, daily_limit=100_000)
    exact_fake.add_division(DIVISION, template="nl")
    vg = FakeVirtuagym(clock=clock)
    member = vg.add_member(firstname="Ann", lastname="Smit")
    for day in range(1, 21):
        row = {"name": f"Les {day}", "price": Decimal("12.10"), "tax": 1}
        vg.add_invoice(
            member_id=member["member_id"], invoice_date=dt.date(2026, 2, day), rows=[row]
        )
    grant = exact_fake.issue_tokens(DEFAULT_CLIENT_ID)
    creds = vg.credentials
    with serve(exact_fake) as exact_server, serve(vg) as vg_server:
        setup = {
            "exact_url": exact_server.url,
            "virtuagym_url": vg_server.url + "/api/v1",
            "virtuagym": {
                "club_id": creds.club_id,
                "api_key": creds.api_key,
                "club_secret": creds.club_secret,
            },
            "token": {
                "access_token": grant.access_token,
                "refresh_token": grant.refresh_token,
                "issued_at": grant.issued_at,
                "expires_in": int(grant.expires_in),
            },
            "conninfo": postgres_conninfo,
            "schema": postgres_schema,
        }
        spawn = multiprocessing.get_context("spawn")
        crashed = spawn.Process(target=_worker, args=(setup, 5))
        crashed.start()
        crashed.join(120)
        assert crashed.exitcode == 137  # it died right after Exact booked the fifth
        assert exact_fake.count("POST", "salesentry/SalesEntries") == 5

        again = spawn.Process(target=_worker, args=(setup, None))
        again.start()
        again.join(120)
        assert again.exitcode == 0

    refs = [entry.your_ref for entry in exact_fake.client(DIVISION).sales_entries.iterate()]
    assert len(refs) == 20
    assert len(set(refs)) == 20  # none twice, none lost
    assert exact_fake.count("POST", "salesentry/SalesEntries") == 20  # the fifth not re-posted
    with PostgresStateStore(postgres_conninfo, schema=postgres_schema) as store:
        assert store.pending() == []
        assert store.failed() == []
        runs = store.recent_runs()
    assert [run.status.value for run in runs][:1] == ["succeeded"]
