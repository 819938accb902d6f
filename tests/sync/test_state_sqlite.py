"""What only the SQLite state store does: files, migrations, durability, damage."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from exactbridge.errors import ConfigurationError, SyncError
from exactbridge.sync import sqlite_store
from exactbridge.sync.sqlite_store import SCHEMA_VERSION, SQLiteStateStore, default_state_path
from exactbridge.sync.state import BookingKey, BookingStatus, RunStatus

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KEY = BookingKey("virtuagym", "club-12", "INV-1")

# The schema of version 1 as it was released, written out here on purpose: a
# migration test must not build "v1" from the code it is testing.
V1_SCHEMA = [
    """CREATE TABLE sync_bookings (
        source TEXT NOT NULL, tenant TEXT NOT NULL, kind TEXT NOT NULL, source_id TEXT NOT NULL,
        status TEXT NOT NULL, exact_id TEXT, entry_number INTEGER, your_ref TEXT, journal TEXT,
        content_hash TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (source, tenant, kind, source_id)) WITHOUT ROWID""",
    """CREATE TABLE sync_cursors (pipeline TEXT NOT NULL, name TEXT NOT NULL,
        value TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (pipeline, name)) WITHOUT ROWID""",
    """CREATE TABLE sync_runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, pipeline TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, status TEXT NOT NULL,
        booked INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0,
        reversed INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0, exact_calls INTEGER NOT NULL DEFAULT 0,
        notes TEXT NOT NULL DEFAULT '')""",
]


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _user_version(path: Path) -> int:
    conn = _raw(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_everything_survives_reopening(tmp_path):
    path = tmp_path / "state.sqlite3"
    with SQLiteStateStore(path) as store:
        store.record_intent(KEY, content_hash="h1", your_ref="INV-1", journal="70", now=T0)
        store.set_cursor("vg-invoices", "since", "2026-03-01", now=T0)
        run = store.start_run("vg-invoices", now=T0)
        store.finish_run(run, status=RunStatus.SUCCEEDED, now=T0, exact_calls=3)
        intent = store.get(KEY)
    with SQLiteStateStore(path) as again:
        assert again.get(KEY) == intent
        assert again.pending() == [intent]
        assert again.get_cursor("vg-invoices", "since") == "2026-03-01"
        assert again.recent_runs()[0].exact_calls == 3
        assert again.start_run("vg-invoices", now=T0).run_id == run.run_id + 1


def test_intent_is_committed_before_record_intent_returns(tmp_path):
    path = tmp_path / "state.sqlite3"
    store = SQLiteStateStore(path)
    try:
        store.record_intent(KEY, content_hash="h1", your_ref="INV-1", journal="70", now=T0)
        # Another connection (as another process would) sees the intent at once.
        conn = _raw(path)
        try:
            rows = conn.execute("SELECT status, attempts FROM sync_bookings").fetchall()
        finally:
            conn.close()
        assert rows == [("pending", 1)]
    finally:
        store.close()


def test_new_database_uses_wal_the_latest_schema_and_private_permissions(tmp_path):
    path = tmp_path / "deeper" / "folder" / "state.sqlite3"
    with SQLiteStateStore(path) as store:
        assert store.path == path
        assert store.schema_version == SCHEMA_VERSION
    assert _user_version(path) == SCHEMA_VERSION == 2
    conn = _raw(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_v1_database_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = _raw(path)
    for statement in V1_SCHEMA:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO sync_bookings VALUES ('virtuagym', 'club-12', 'invoice', 'INV-1', 'booked', "
        "'guid-1', 700001, 'INV-1', '70', 'h1', 1, NULL, "
        "'2025-01-02T03:04:05.000000+00:00', '2025-01-02T03:04:06.000000+00:00')"
    )
    conn.execute(
        "INSERT INTO sync_bookings VALUES ('virtuagym', 'club-12', 'invoice', 'INV-2', 'failed', "
        "NULL, NULL, 'INV-2', '70', 'h2', 1, 'no VAT code', "
        "'2025-01-02T03:04:05.000000+00:00', '2025-01-02T03:04:07.000000+00:00')"
    )
    conn.execute(
        "INSERT INTO sync_cursors VALUES ('vg', 'since', '2025-01-01', "
        "'2025-01-02T03:04:05.000000+00:00')"
    )
    conn.execute(
        "INSERT INTO sync_runs (pipeline, started_at, finished_at, status, booked, exact_calls) "
        "VALUES ('vg', '2025-01-02T03:00:00.000000+00:00', '2025-01-02T03:05:00.000000+00:00', "
        "'partial', 1, 4)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.close()

    with SQLiteStateStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        old = store.get(KEY)
        assert old is not None
        assert old.status is BookingStatus.BOOKED
        assert (old.exact_id, old.entry_number, old.content_hash) == ("guid-1", 700001, "h1")
        assert old.created_at == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
        assert dict(old.extra) == {}
        assert [r.last_error for r in store.failed()] == ["no VAT code"]
        assert store.get_cursor("vg", "since") == "2025-01-01"
        (run,) = store.recent_runs()
        assert (run.status, run.booked, run.exact_calls) == (RunStatus.PARTIAL, 1, 4)
        # The migrated database takes the new column.
        store.record_intent(
            KEY, content_hash="h1b", your_ref="INV-1", journal="70", now=T0, extra={"a": "b"}
        )
        assert dict(store.get(KEY).extra) == {"a": "b"}
    conn = _raw(path)
    try:
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        conn.close()
    assert {"sync_bookings_by_status", "sync_runs_by_pipeline"} <= indexes


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    path = tmp_path / "future.sqlite3"
    conn = _raw(path)
    conn.execute("CREATE TABLE something_new (x)")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(SyncError, match="newer exactbridge") as info:
        SQLiteStateStore(path)
    assert str(path) in str(info.value)
    assert _user_version(path) == 99
    conn = _raw(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()


def test_a_file_that_is_not_a_database_raises_sync_error_naming_it(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"this is not an SQLite database, just some text\n" * 200)
    with pytest.raises(SyncError) as info:
        SQLiteStateStore(path)
    assert str(path) in str(info.value)
    assert "not a database" in str(info.value)
    assert isinstance(info.value.__cause__, sqlite3.DatabaseError)


def test_a_damaged_row_raises_sync_error_naming_the_record(tmp_path):
    path = tmp_path / "state.sqlite3"
    with SQLiteStateStore(path) as store:
        store.mark_failed(KEY, error="x", now=T0)
        conn = _raw(path)
        conn.execute("UPDATE sync_bookings SET status = 'half-booked'")
        conn.close()
        with pytest.raises(SyncError, match=r"virtuagym/club-12/invoice/INV-1 is damaged"):
            store.get(KEY)
        with pytest.raises(SyncError, match="damaged"):
            store.get_many([KEY])


def test_a_locked_database_raises_sync_error_and_keeps_the_record(tmp_path):
    path = tmp_path / "state.sqlite3"
    with SQLiteStateStore(path, timeout=0) as store:
        store.mark_failed(KEY, error="first", now=T0)
        blocker = _raw(path)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(SyncError, match="locked") as info:
                store.record_intent(KEY, content_hash=None, your_ref=None, journal=None, now=T0)
            assert str(path) in str(info.value)
            assert isinstance(info.value.__cause__, sqlite3.OperationalError)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert store.get(KEY).status is BookingStatus.FAILED
        assert (
            store.record_intent(
                KEY, content_hash=None, your_ref=None, journal=None, now=T0
            ).attempts
            == 1
        )


def test_two_store_objects_on_one_file_see_and_respect_each_other(tmp_path):
    path = tmp_path / "state.sqlite3"
    with SQLiteStateStore(path) as a, SQLiteStateStore(path) as b:
        a.record_intent(KEY, content_hash="h", your_ref="r", journal="70", now=T0)
        b.mark_booked(KEY, exact_id="guid", entry_number=1, content_hash="h", now=T0)
        with pytest.raises(SyncError, match="BOOKED to BOOKED"):
            a.mark_booked(KEY, exact_id="guid-2", entry_number=2, content_hash="h", now=T0)
        assert a.get(KEY).exact_id == "guid"


def test_get_many_splits_very_large_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_store, "_KEYS_PER_QUERY", 7)
    keys = [BookingKey("virtuagym", "club-1", str(i)) for i in range(50)]
    with SQLiteStateStore(tmp_path / "state.sqlite3") as store:
        for key in keys[::2]:
            store.mark_skipped(key, now=T0)
        assert set(store.get_many(keys)) == set(keys[::2])


def test_path_arguments(tmp_path, monkeypatch):
    with pytest.raises(ConfigurationError, match="MemoryStateStore"):
        SQLiteStateStore(":memory:")
    with pytest.raises(ConfigurationError, match="path"):
        SQLiteStateStore(42)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="synchronous"):
        SQLiteStateStore(tmp_path / "a.sqlite3", synchronous="OFF")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="timeout"):
        SQLiteStateStore(tmp_path / "a.sqlite3", timeout=-1)
    with SQLiteStateStore(tmp_path / "b.sqlite3", synchronous="NORMAL") as store:
        store.mark_skipped(KEY, now=T0)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    with SQLiteStateStore() as store:
        assert store.path == tmp_path / "xdg" / "exactbridge" / "state.sqlite3"
    assert store.path.exists()


def test_default_state_path_on_linux_follows_xdg(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_state_path() == tmp_path / "exactbridge" / "state.sqlite3"
    assert default_state_path("clubsync") == tmp_path / "clubsync" / "state.sqlite3"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")
    assert default_state_path() == Path.home() / ".local/share/exactbridge/state.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_state_path() == Path.home() / ".local/share/exactbridge/state.sqlite3"


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, "/home/ann/.local/share"),
        ("linux", {"XDG_DATA_HOME": "/data/ann"}, "/data/ann"),
        ("linux", {"XDG_DATA_HOME": "data"}, "/home/ann/.local/share"),
        ("freebsd14", {"XDG_DATA_HOME": "/xdg"}, "/xdg"),
        ("darwin", {"XDG_DATA_HOME": "/ignored"}, "/home/ann/Library/Application Support"),
        ("win32", {"LOCALAPPDATA": "/c/Users/ann/AppData/Local"}, "/c/Users/ann/AppData/Local"),
        ("win32", {}, "/home/ann/AppData/Local"),
    ],
)
def test_user_data_directory_per_platform(platform, environ, expected):
    assert sqlite_store._data_dir(platform, environ, Path("/home/ann")) == Path(expected)


@pytest.mark.parametrize("name", ["", "a/b", "..", "a\\b", 5])
def test_default_state_path_refuses_bad_app_names(name):
    with pytest.raises(ConfigurationError, match="app_name"):
        default_state_path(name)
