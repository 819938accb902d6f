"""The StateStore contract: one suite, run against every implementation."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator

import pytest

from exactbridge.errors import ConfigurationError, SyncError
from exactbridge.sync.postgres_store import PostgresStateStore
from exactbridge.sync.sqlite_store import SQLiteStateStore
from exactbridge.sync.state import (
    BookingKey,
    BookingRecord,
    BookingStatus,
    MemoryStateStore,
    RunStatus,
    StateStore,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


KEY = BookingKey("virtuagym", "club-12", "INV-1")


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path) -> Iterator[StateStore]:
    made: StateStore
    if request.param == "memory":
        made = MemoryStateStore()
    elif request.param == "sqlite":
        made = SQLiteStateStore(tmp_path / "state.sqlite3")
    else:
        conninfo = request.getfixturevalue("postgres_conninfo")
        made = PostgresStateStore(conninfo, schema=request.getfixturevalue("postgres_schema"))
    yield made
    made.close()


def intent(store: StateStore, key: BookingKey = KEY, minute: int = 0, **kw) -> BookingRecord:
    args = {"content_hash": "h1", "your_ref": "INV-1", "journal": "70"}
    args.update(kw)
    return store.record_intent(key, now=at(minute), **args)


def book(store: StateStore, key: BookingKey = KEY, minute: int = 1, **kw) -> BookingRecord:
    args = {"exact_id": "6f1c0e6a-0000-4000-8000-000000000001", "entry_number": 700001}
    args.update(kw)
    args.setdefault("content_hash", "h1")
    return store.mark_booked(key, now=at(minute), **args)


def test_every_store_satisfies_the_protocol(store):
    assert isinstance(store, StateStore)


def test_unknown_keys_have_no_record(store):
    assert store.get(KEY) is None
    assert store.get_many([KEY]) == {}
    assert store.get_many([]) == {}
    assert store.failed() == []
    assert store.pending() == []


def test_record_intent_creates_a_pending_record(store):
    record = intent(store, minute=5, extra={"account_id": "acc-1"})
    assert record.status is BookingStatus.PENDING
    assert record.attempts == 1
    assert (record.your_ref, record.journal, record.content_hash) == ("INV-1", "70", "h1")
    assert record.exact_id is None
    assert record.entry_number is None
    assert record.created_at == record.updated_at == at(5)
    assert dict(record.extra) == {"account_id": "acc-1"}
    assert store.get(KEY) == record
    assert store.pending() == [record]


def test_a_second_intent_counts_another_attempt_and_keeps_created_at(store):
    intent(store, minute=0)
    again = intent(store, minute=7, content_hash="h2")
    assert again.attempts == 2
    assert again.created_at == at(0)
    assert again.updated_at == at(7)
    assert again.content_hash == "h2"


def test_mark_booked_completes_an_intent(store):
    intent(store)
    store.mark_failed(KEY, error="lost response", now=at(1))
    intent(store, minute=2)
    booked = book(store, minute=3, exact_id="guid-9", entry_number=700009)
    assert booked.status is BookingStatus.BOOKED
    assert booked.is_booked
    assert (booked.exact_id, booked.entry_number) == ("guid-9", 700009)
    assert booked.last_error is None
    assert booked.attempts == 2
    assert booked.updated_at == at(3)
    assert store.get(KEY) == booked
    assert store.pending() == []
    assert store.failed() == []


def test_an_exact_id_given_as_uuid_is_stored_as_its_string(store):
    intent(store)
    entry_id = uuid.UUID("6F1C0E6A-1234-4000-8000-00000000ABCD")
    booked = book(store, exact_id=entry_id)
    assert booked.exact_id == "6f1c0e6a-1234-4000-8000-00000000abcd"
    assert store.get(KEY).exact_id == "6f1c0e6a-1234-4000-8000-00000000abcd"


def test_booking_without_an_intent_is_refused_and_changes_nothing(store):
    with pytest.raises(SyncError, match="no record to BOOKED"):
        book(store)
    assert store.get(KEY) is None
    store.mark_failed(KEY, error="bad VAT code", now=at(0))
    before = store.get(KEY)
    with pytest.raises(SyncError, match="FAILED to BOOKED"):
        book(store)
    assert store.get(KEY) == before


def _reach(store: StateStore, status: BookingStatus | None) -> None:
    """Bring KEY into ``status`` through legal steps."""
    if status is None:
        return
    if status is BookingStatus.PENDING:
        intent(store)
    elif status is BookingStatus.BOOKED:
        intent(store)
        book(store)
    elif status is BookingStatus.FAILED:
        store.mark_failed(KEY, error="boom", now=at(1))
    elif status is BookingStatus.SKIPPED:
        store.mark_skipped(KEY, now=at(1), reason="zero amount")
    elif status is BookingStatus.REVERSED:
        intent(store)
        book(store)
        intent(store, minute=2)
        store.mark_reversed(KEY, now=at(3))
    elif status is BookingStatus.DELETED:
        store.mark_deleted(KEY, now=at(1))


def _move(store: StateStore, target: BookingStatus) -> BookingRecord:
    if target is BookingStatus.PENDING:
        return intent(store, minute=30)
    if target is BookingStatus.BOOKED:
        return book(store, minute=30)
    if target is BookingStatus.FAILED:
        return store.mark_failed(KEY, error="again", now=at(30))
    if target is BookingStatus.SKIPPED:
        return store.mark_skipped(KEY, now=at(30))
    if target is BookingStatus.REVERSED:
        return store.mark_reversed(KEY, now=at(30))
    return store.mark_deleted(KEY, now=at(30))


P, B, F, S, R, D = (
    BookingStatus.PENDING,
    BookingStatus.BOOKED,
    BookingStatus.FAILED,
    BookingStatus.SKIPPED,
    BookingStatus.REVERSED,
    BookingStatus.DELETED,
)
# The allowed moves, written out by hand (the documented table), not derived from the code.
ALLOWED = {
    None: {P, F, S, D},
    P: {P, B, F, S, R, D},
    B: {P, F},
    F: {P, F, S, D},
    S: {P, F, S, D},
    R: {P, F, D},
    D: {P, F, D},
}


@pytest.mark.parametrize("current", [None, *BookingStatus], ids=lambda s: getattr(s, "name", s))
@pytest.mark.parametrize("target", list(BookingStatus), ids=lambda s: s.name)
def test_transition_table(store, current, target):
    _reach(store, current)
    before = store.get(KEY)
    if target in ALLOWED[current]:
        after = _move(store, target)
        assert after.status is target
        assert store.get(KEY) == after
    else:
        with pytest.raises(SyncError, match=f"to {target.name}"):
            _move(store, target)
        assert store.get(KEY) == before


def test_an_update_keeps_the_exact_entry_through_intent_and_failure(store):
    intent(store)
    book(store, exact_id="guid-1", entry_number=700001)
    update = intent(store, minute=10, content_hash="h2")
    assert update.status is BookingStatus.PENDING
    assert (update.exact_id, update.entry_number) == ("guid-1", 700001)
    failed = store.mark_failed(KEY, error="period closed", now=at(11))
    assert failed.exact_id == "guid-1"
    assert failed.last_error == "period closed"
    assert store.failed() == [failed]


def test_last_error_and_skip_reason_are_kept_until_an_outcome_clears_them(store):
    store.mark_failed(KEY, error="no GL account for VAT category 'high'", now=at(0))
    retry = intent(store, minute=5)
    assert retry.last_error == "no GL account for VAT category 'high'"
    assert book(store, minute=6).last_error is None
    other = BookingKey("virtuagym", "club-12", "INV-2")
    assert store.mark_skipped(other, now=at(7), reason="zero amount").last_error == "zero amount"
    assert store.mark_deleted(other, now=at(8)).last_error is None


def test_extra_facts_merge(store):
    intent(store, extra={"account_id": "a1", "debtor": "100"})
    booked = book(store, extra={"account_id": "a2"})
    assert dict(booked.extra) == {"account_id": "a2", "debtor": "100"}
    reversal = intent(store, minute=5)
    assert dict(reversal.extra) == {"account_id": "a2", "debtor": "100"}
    reversed_ = store.mark_reversed(KEY, now=at(6), extra={"reversal_exact_id": "guid-r"})
    assert dict(reversed_.extra) == {
        "account_id": "a2",
        "debtor": "100",
        "reversal_exact_id": "guid-r",
    }
    with pytest.raises(TypeError):
        reversed_.extra["x"] = "y"  # type: ignore[index]


def test_failed_and_pending_filter_and_order(store):
    keys = [
        BookingKey("virtuagym", "club-1", "1"),
        BookingKey("virtuagym", "club-2", "2"),
        BookingKey("eduframe", "inst-1", "3"),
        BookingKey("paynl", "m-1", "4", kind="payout"),
    ]
    # Failed out of order in time: the list comes back oldest update first.
    for minute, key in zip([4, 1, 3, 2], keys, strict=True):
        store.mark_failed(key, error=f"err {key.source_id}", now=at(minute))
    assert [r.key for r in store.failed()] == [keys[1], keys[3], keys[2], keys[0]]
    assert [r.key for r in store.failed(source="virtuagym")] == [keys[1], keys[0]]
    assert [r.key for r in store.failed(source="virtuagym", tenant="club-1")] == [keys[0]]
    assert [r.key for r in store.failed(kind="payout")] == [keys[3]]
    assert store.failed(tenant="nobody") == []
    assert store.pending() == []

    intent(store, keys[0], minute=9)
    intent(store, keys[2], minute=8)
    assert [r.key for r in store.pending()] == [keys[2], keys[0]]
    assert [r.key for r in store.pending(source="eduframe")] == [keys[2]]
    assert [r.key for r in store.failed()] == [keys[1], keys[3]]


def test_get_many_returns_only_known_keys_in_one_call(store):
    keys = [BookingKey("virtuagym", "club-1", str(i)) for i in range(700)]
    for i, key in enumerate(keys[:350]):
        store.record_intent(key, content_hash=f"h{i}", your_ref=str(i), journal="70", now=at(0))
    wanted = [*keys[300:400], keys[301], BookingKey("virtuagym", "club-2", "1")]
    got = store.get_many(wanted)
    assert set(got) == set(keys[300:350])
    assert all(got[k].key == k and got[k].your_ref == k.source_id for k in got)
    assert got[keys[301]].content_hash == "h301"


def test_same_source_id_in_other_tenant_source_or_kind_is_another_record(store):
    a = BookingKey("virtuagym", "club-1", "1")
    variants = [
        BookingKey("virtuagym", "club-2", "1"),
        BookingKey("eduframe", "club-1", "1"),
        BookingKey("virtuagym", "club-1", "1", kind="payout"),
    ]
    intent(store, a)
    assert all(store.get(v) is None for v in variants)
    assert store.get_many([a, *variants]).keys() == {a}


def test_times_are_stored_as_utc_and_naive_times_refused(store):
    cet = dt.timezone(dt.timedelta(hours=1))
    record = store.record_intent(
        KEY,
        content_hash=None,
        your_ref=None,
        journal=None,
        now=dt.datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=cet),
    )
    assert record.created_at == dt.datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
    assert record.created_at.tzinfo == UTC
    assert store.get(KEY).updated_at.utcoffset() == dt.timedelta(0)
    other = BookingKey("virtuagym", "club-12", "INV-2")
    with pytest.raises(ConfigurationError, match="now"):
        store.mark_failed(other, error="x", now=dt.datetime(2026, 3, 1, 9, 0))
    assert store.get(other) is None


def test_bad_arguments_are_configuration_errors(store):
    with pytest.raises(ConfigurationError, match=r"BookingKey\.source_id"):
        BookingKey("virtuagym", "club-1", 42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="error"):
        store.mark_failed(KEY, error="", now=at(0))
    with pytest.raises(ConfigurationError, match="key"):
        store.get(("virtuagym", "club-1", "1"))  # type: ignore[arg-type]
    intent(store)
    with pytest.raises(ConfigurationError, match="exact_id"):
        book(store, exact_id="")
    with pytest.raises(ConfigurationError, match="entry_number"):
        book(store, entry_number="700001")
    assert store.get(KEY).status is BookingStatus.PENDING


def test_cursors(store):
    assert store.get_cursor("vg-invoices", "modified_since") is None
    store.set_cursor("vg-invoices", "modified_since", "2026-03-01T00:00:00Z", now=at(0))
    store.set_cursor("vg-invoices", "modified_since", "2026-03-02T00:00:00Z", now=at(1))
    store.set_cursor("vg-invoices", "page", "17", now=at(1))
    store.set_cursor("pay-payouts", "modified_since", "x", now=at(1))
    assert store.get_cursor("vg-invoices", "modified_since") == "2026-03-02T00:00:00Z"
    assert store.get_cursor("vg-invoices", "page") == "17"
    assert store.get_cursor("pay-payouts", "modified_since") == "x"
    store.set_cursor("vg-invoices", "page", None, now=at(2))
    assert store.get_cursor("vg-invoices", "page") is None
    with pytest.raises(ConfigurationError):
        store.set_cursor("vg-invoices", "page", 17, now=at(2))  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        store.get_cursor("", "page")


def test_run_history(store):
    first = store.start_run("vg-invoices", now=at(0))
    other = store.start_run("pay-payouts", now=at(1))
    assert first.status is RunStatus.RUNNING
    assert first.finished_at is None
    assert first.duration is None
    assert other.run_id > first.run_id
    done = store.finish_run(
        first,
        status=RunStatus.PARTIAL,
        now=at(12),
        booked=40,
        updated=2,
        reversed=1,
        skipped=3,
        failed=4,
        exact_calls=51,
        notes="4 invoices need a VAT mapping",
    )
    assert done.status is RunStatus.PARTIAL
    assert (done.booked, done.updated, done.reversed, done.skipped, done.failed) == (
        40,
        2,
        1,
        3,
        4,
    )
    assert done.exact_calls == 51
    assert done.duration == dt.timedelta(minutes=12)
    third = store.start_run("vg-invoices", now=at(20))
    assert [r.run_id for r in store.recent_runs()] == [third.run_id, other.run_id, first.run_id]
    assert store.recent_runs("vg-invoices") == [third, done]
    assert store.recent_runs("vg-invoices", limit=1) == [third]
    assert store.recent_runs("nothing") == []
    with pytest.raises(ConfigurationError, match="limit"):
        store.recent_runs(limit=0)


def test_a_run_finishes_once_and_not_as_running(store):
    run = store.start_run("vg-invoices", now=at(0))
    with pytest.raises(SyncError, match="RUNNING"):
        store.finish_run(run, status=RunStatus.RUNNING, now=at(1))
    store.finish_run(run, status=RunStatus.STOPPED, now=at(1), notes="daily limit")
    with pytest.raises(SyncError, match="already finished"):
        store.finish_run(run, status=RunStatus.SUCCEEDED, now=at(2))
    assert store.recent_runs()[0].status is RunStatus.STOPPED
    stranger = MemoryStateStore().start_run("elsewhere", now=at(0))
    with pytest.raises(SyncError, match="not in this store"):
        store.finish_run(stranger, status=RunStatus.SUCCEEDED, now=at(2))


def test_a_closed_store_refuses_work(store):
    intent(store)
    store.close()
    store.close()
    with pytest.raises(SyncError, match="closed"):
        store.get(KEY)
    with pytest.raises(SyncError, match="closed"):
        intent(store)


def test_concurrent_threads_lose_no_intent(store):
    shared = BookingKey("virtuagym", "club-1", "shared")
    threads_n, per_thread = 4, 25

    def work(n: int) -> None:
        own = BookingKey("virtuagym", "club-1", f"own-{n}")
        for i in range(per_thread):
            store.record_intent(shared, content_hash=None, your_ref=None, journal=None, now=at(i))
            store.record_intent(own, content_hash=None, your_ref=None, journal=None, now=at(i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.get(shared).attempts == threads_n * per_thread
    assert len(store.pending()) == threads_n + 1
