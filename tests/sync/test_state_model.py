"""Random operation sequences: the SQLite store behaves exactly like the memory store."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactbridge.errors import ConfigurationError, SyncError
from exactbridge.sync.sqlite_store import SQLiteStateStore
from exactbridge.sync.state import BookingKey, MemoryStateStore, StateStore

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 1, tzinfo=UTC)
KEYS = [
    BookingKey("virtuagym", "club-1", "1"),
    BookingKey("virtuagym", "club-1", "2"),
    BookingKey("virtuagym", "club-2", "1"),
    BookingKey("paynl", "m-1", "1", kind="payout"),
]

ops = st.lists(
    st.tuples(
        st.sampled_from(["intent", "booked", "failed", "skipped", "reversed", "deleted"]),
        st.integers(0, len(KEYS) - 1),
        st.sampled_from(["h1", "h2"]),
        st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["x", "y"]), max_size=1),
    ),
    max_size=25,
)


def _apply(store: StateStore, op: str, key: BookingKey, h: str, extra, now: dt.datetime):
    if op == "intent":
        return store.record_intent(
            key, content_hash=h, your_ref=key.source_id, journal="70", now=now, extra=extra
        )
    if op == "booked":
        return store.mark_booked(
            key, exact_id=f"guid-{h}", entry_number=len(h), content_hash=h, now=now, extra=extra
        )
    if op == "failed":
        return store.mark_failed(key, error=f"error {h}", now=now, extra=extra)
    if op == "skipped":
        return store.mark_skipped(key, now=now, reason=f"reason {h}", extra=extra)
    if op == "reversed":
        return store.mark_reversed(key, now=now, extra=extra)
    return store.mark_deleted(key, now=now, extra=extra)


def _outcome(store: StateStore, *args):
    try:
        return _apply(store, *args)
    except (SyncError, ConfigurationError) as exc:
        return type(exc).__name__, str(exc)


@pytest.fixture
def sqlite_store(tmp_path):
    store = SQLiteStateStore(tmp_path / "model.sqlite3", synchronous="NORMAL")
    yield store
    store.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sequence=ops)
def test_sqlite_store_matches_the_memory_store(sqlite_store, sequence):
    # The fixture's database outlives one example: give each example its own tenant space.
    memory = MemoryStateStore()
    tag = str(len(sqlite_store.recent_runs(limit=1000)))
    sqlite_store.start_run("examples", now=T0)
    keys = [BookingKey(k.source, f"{k.tenant}-{tag}", k.source_id, k.kind) for k in KEYS]
    for step, (op, index, h, extra) in enumerate(sequence):
        now = T0 + dt.timedelta(seconds=step)
        assert _outcome(memory, op, keys[index], h, extra, now) == _outcome(
            sqlite_store, op, keys[index], h, extra, now
        )
    assert sqlite_store.get_many(keys) == memory.get_many(keys)
    mine = {f"club-1-{tag}", f"club-2-{tag}", f"m-1-{tag}"}
    for listing in ("failed", "pending"):
        got = [r for r in getattr(sqlite_store, listing)() if r.key.tenant in mine]
        assert got == getattr(memory, listing)()
