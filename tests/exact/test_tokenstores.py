"""Token and token stores: compare-and-swap, atomic file writes, locks, corrupt stores."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import multiprocessing
import os
import sqlite3
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from exactbridge.errors import ConfigurationError, TokenConflictError, TokenStoreError
from exactbridge.exact import PostgresTokenStore
from exactbridge.exact.auth import (
    FileTokenStore,
    MemoryTokenStore,
    SQLiteTokenStore,
    Token,
    TokenStore,
)

CANARY_ACCESS = "canary-access-Hq7Lk2"
CANARY_REFRESH = "canary-refresh-Wd93Zt"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def make_token(access: str = CANARY_ACCESS, refresh: str = CANARY_REFRESH, **kw: Any) -> Token:
    return Token(access, refresh, kw.pop("issued_at", T0), **kw)


# -- Token -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "may_refresh", "expired"),
    [
        (0, False, False),
        (569, False, False),
        (570, True, False),
        (599, True, False),
        (600, True, True),
        (601, True, True),
        (3600, True, True),
    ],
)
def test_token_window_follows_exact_rules(age: int, may_refresh: bool, expired: bool):
    token = make_token()
    now = T0 + dt.timedelta(seconds=age)
    assert token.may_refresh(now) is may_refresh
    assert token.is_expired(now) is expired


def test_token_times_are_derived_from_issue_time():
    token = make_token(expires_in=600)
    assert token.expires_at == T0 + dt.timedelta(seconds=600)
    assert token.refreshable_at == T0 + dt.timedelta(seconds=570)


def test_token_issue_time_is_normalised_to_utc():
    cet = dt.timezone(dt.timedelta(hours=1))
    token = make_token(issued_at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=cet))
    assert token.issued_at == T0
    assert token.issued_at.tzinfo is dt.timezone.utc


def test_token_rejects_a_naive_issue_time():
    with pytest.raises(ConfigurationError, match="issued_at"):
        make_token(issued_at=dt.datetime(2026, 3, 2, 9, 0))


@pytest.mark.parametrize("bad", [{"expires_in": -1}, {"generation": -2}, {"expires_in": True}])
def test_token_rejects_bad_numbers(bad: dict[str, Any]):
    with pytest.raises(ConfigurationError):
        make_token(**bad)


def test_token_rejects_empty_secrets_without_echoing_them():
    with pytest.raises(ConfigurationError, match="access_token") as info:
        Token("", CANARY_REFRESH, T0)
    assert CANARY_REFRESH not in str(info.value)


def test_token_repr_and_str_hide_both_tokens():
    token = make_token()
    for text in (repr(token), str(token)):
        assert CANARY_ACCESS not in text
        assert CANARY_REFRESH not in text
    assert "generation=0" in repr(token)


# -- every store --------------------------------------------------------------------------

StoreFactory = Callable[[], TokenStore]


@pytest.fixture(
    params=["memory", "file", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def new_store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """A factory: each call returns a new store object over the same storage."""
    kind = request.param
    if kind == "memory":
        shared = MemoryTokenStore()
        return lambda: shared
    if kind == "file":
        return lambda: FileTokenStore(tmp_path / "tokens.json")
    if kind == "postgres":
        conninfo = request.getfixturevalue("postgres_conninfo")
        schema = request.getfixturevalue("postgres_schema")
        return lambda: PostgresTokenStore(conninfo, schema=schema, name="club")
    return lambda: SQLiteTokenStore(tmp_path / "tokens.sqlite3")


def test_an_empty_store_loads_none(new_store: StoreFactory):
    assert new_store().load() is None


def test_unconditional_save_numbers_generations(new_store: StoreFactory):
    store = new_store()
    first = store.save(make_token(), expected_generation=None)
    assert first.generation == 1
    assert new_store().load() == first
    second = store.save(make_token("a2-xxxx", "r2-xxxx"), expected_generation=None)
    assert second.generation == 2
    assert new_store().load() == second


def test_compare_and_swap_save_with_the_expected_generation(new_store: StoreFactory):
    store = new_store()
    first = store.save(make_token(), expected_generation=None)
    rotated = make_token("a2-xxxx", "r2-xxxx", issued_at=T0 + dt.timedelta(seconds=575))
    saved = new_store().save(rotated, expected_generation=first.generation)
    assert saved.generation == first.generation + 1
    assert saved.access_token == "a2-xxxx"
    assert saved.issued_at == rotated.issued_at
    assert store.load() == saved


def test_compare_and_swap_conflict_leaves_the_store_unchanged(new_store: StoreFactory):
    store = new_store()
    first = store.save(make_token(), expected_generation=None)
    second = new_store().save(make_token("a2-xxxx", "r2-xxxx"), expected_generation=1)
    with pytest.raises(TokenConflictError, match="generation 2") as info:
        store.save(make_token("a3-xxxx", "r3-xxxx"), expected_generation=first.generation)
    assert store.load() == second
    assert "a3-xxxx" not in str(info.value)


def test_compare_and_swap_on_an_empty_store_conflicts(new_store: StoreFactory):
    store = new_store()
    with pytest.raises(TokenConflictError):
        store.save(make_token(), expected_generation=0)
    assert store.load() is None


def test_concurrent_compare_and_swap_lets_exactly_one_writer_win(new_store: StoreFactory):
    base = new_store().save(make_token(), expected_generation=None)
    start = threading.Barrier(6)
    won: list[int] = []
    lost: list[int] = []

    def writer(i: int) -> None:
        store = new_store()
        start.wait()
        try:
            store.save(make_token(f"a-{i}-xx", f"r-{i}-xx"), expected_generation=base.generation)
        except TokenConflictError:
            lost.append(i)
        else:
            won.append(i)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert len(lost) == 5
    final = new_store().load()
    assert final is not None
    assert final.generation == base.generation + 1
    assert final.access_token == f"a-{won[0]}-xx"


def test_store_reprs_hide_tokens(new_store: StoreFactory):
    store = new_store()
    store.save(make_token(), expected_generation=None)
    assert CANARY_ACCESS not in repr(store)
    assert CANARY_REFRESH not in repr(store)


def test_refresh_lock_can_be_left_from_another_thread(new_store: StoreFactory):
    store = new_store()
    manager = store.refresh_lock()
    manager.__enter__()
    leaver = threading.Thread(target=manager.__exit__, args=(None, None, None))
    leaver.start()
    leaver.join()
    with store.refresh_lock():  # would block forever if the release had not happened
        store.save(make_token(), expected_generation=None)  # saving works under the lock
    assert store.load() is not None


def test_memory_store_starts_with_the_given_token():
    token = make_token(generation=4)
    store = MemoryTokenStore(token)
    assert store.load() == token
    assert store.save(make_token(), expected_generation=4).generation == 5


# -- file store ---------------------------------------------------------------------------


def test_file_store_writes_mode_0600(tmp_path: Path):
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    store.save(make_token(), expected_generation=None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # a looser file is replaced by a 0600 one on the next save
    path.chmod(0o644)
    store.save(make_token(), expected_generation=None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for lock in tmp_path.glob("*.lock"):
        assert stat.S_IMODE(lock.stat().st_mode) & 0o077 == 0


def test_file_store_writes_through_a_temporary_file_and_os_replace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str | Path) -> None:
        # at the moment of the swap the new content is complete in the temp file
        assert json.loads(Path(src).read_text())["generation"] == 1
        replaced.append((str(src), str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    store.save(make_token(), expected_generation=None)
    assert len(replaced) == 1
    src, dst = replaced[0]
    assert Path(src).parent == tmp_path
    assert Path(dst) == path
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        "tokens.json"
    ]


def test_a_failed_file_write_keeps_the_old_token_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "tokens.json"
    store = FileTokenStore(path)
    old = store.save(make_token(), expected_generation=None)

    def broken(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(TokenStoreError, match="cannot write") as info:
        store.save(make_token("new-acc-x", "new-ref-x"), expected_generation=old.generation)
    assert "new-acc-x" not in str(info.value)
    assert isinstance(info.value.__cause__, OSError)
    monkeypatch.undo()
    assert store.load() == old
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"[]",
        b"",
        json.dumps({"access_token": CANARY_ACCESS, "refresh_token": CANARY_REFRESH}).encode(),
        json.dumps(
            {
                "access_token": CANARY_ACCESS,
                "refresh_token": CANARY_REFRESH,
                "issued_at": "2026-03-02T09:00:00",  # naive
                "expires_in": 600,
                "generation": 1,
            }
        ).encode(),
        json.dumps(
            {
                "access_token": CANARY_ACCESS,
                "refresh_token": CANARY_REFRESH,
                "issued_at": "2026-03-02T09:00:00+00:00",
                "expires_in": "600",
                "generation": 1,
            }
        ).encode(),
    ],
)
def test_a_corrupt_token_file_raises_token_store_error(tmp_path: Path, content: bytes):
    path = tmp_path / "tokens.json"
    path.write_bytes(content)
    store = FileTokenStore(path)
    with pytest.raises(TokenStoreError) as info:
        store.load()
    assert CANARY_ACCESS not in str(info.value)
    assert CANARY_REFRESH not in str(info.value)
    with pytest.raises(TokenStoreError):
        store.save(make_token(), expected_generation=1)


def test_an_unreadable_token_file_raises_token_store_error(tmp_path: Path):
    (tmp_path / "tokens.json").mkdir()
    with pytest.raises(TokenStoreError, match="cannot read"):
        FileTokenStore(tmp_path / "tokens.json").load()


def test_a_missing_directory_raises_token_store_error(tmp_path: Path):
    store = FileTokenStore(tmp_path / "nope" / "tokens.json")
    assert store.load() is None
    with pytest.raises(TokenStoreError):
        store.save(make_token(), expected_generation=None)
    with pytest.raises(TokenStoreError, match="cannot lock"), store.refresh_lock():
        pass


@pytest.mark.parametrize("bad", ["", ":memory:"])
def test_stores_need_a_real_path(bad: str):
    with pytest.raises(ConfigurationError):
        FileTokenStore(bad)
    with pytest.raises(ConfigurationError):
        SQLiteTokenStore(bad)


def _lock_is_free(lock_file: Path) -> bool:
    with open(lock_file, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return True


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_refresh_lock_is_an_os_file_lock(tmp_path: Path, kind: str):
    store: TokenStore
    if kind == "file":
        store = FileTokenStore(tmp_path / "t.json")
        lock_file = tmp_path / "t.json.lock"
    else:
        store = SQLiteTokenStore(tmp_path / "t.db")
        lock_file = tmp_path / "t.db.lock"
    with store.refresh_lock():
        assert not _lock_is_free(lock_file)
    assert _lock_is_free(lock_file)


def _hold_lock_in_child(path: str, kind: str, held: object, release: object) -> None:
    store = FileTokenStore(path) if kind == "file" else SQLiteTokenStore(path)
    with store.refresh_lock():
        held.set()  # type: ignore[attr-defined]
        release.wait(60)  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["file", "sqlite"])
def test_refresh_lock_excludes_another_process(tmp_path: Path, kind: str):
    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    path = tmp_path / ("t.json" if kind == "file" else "t.db")
    child = ctx.Process(target=_hold_lock_in_child, args=(str(path), kind, held, release))
    child.start()
    try:
        assert held.wait(60)
        assert not _lock_is_free(Path(str(path) + ".lock"))
    finally:
        release.set()
        child.join(60)
    assert child.exitcode == 0
    assert _lock_is_free(Path(str(path) + ".lock"))


# -- SQLite store -------------------------------------------------------------------------


def test_sqlite_store_keeps_one_row_per_name(tmp_path: Path):
    db = tmp_path / "state.sqlite3"
    club_a = SQLiteTokenStore(db, name="club-a")
    club_b = SQLiteTokenStore(db, name="club-b")
    a = club_a.save(make_token("acc-a-xx", "ref-a-xx"), expected_generation=None)
    assert club_b.load() is None
    b = club_b.save(make_token("acc-b-xx", "ref-b-xx"), expected_generation=None)
    club_a.save(make_token("acc-a2-xx", "ref-a2-xx"), expected_generation=a.generation)
    assert club_b.load() == b
    loaded = SQLiteTokenStore(db, name="club-a").load()
    assert loaded is not None
    assert (loaded.access_token, loaded.generation) == ("acc-a2-xx", 2)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, generation FROM exactbridge_tokens ORDER BY name")
        assert rows.fetchall() == [("club-a", 2), ("club-b", 1)]
    conn.close()


def test_sqlite_store_creates_its_file_with_mode_0600(tmp_path: Path):
    db = tmp_path / "state.sqlite3"
    SQLiteTokenStore(db).save(make_token(), expected_generation=None)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_a_corrupt_sqlite_file_raises_token_store_error(tmp_path: Path):
    db = tmp_path / "state.sqlite3"
    db.write_bytes(b"this is not a database, just text " * 200)
    store = SQLiteTokenStore(db)
    with pytest.raises(TokenStoreError, match="cannot read") as info:
        store.load()
    assert isinstance(info.value.__cause__, sqlite3.Error)
    with pytest.raises(TokenStoreError, match="cannot write"):
        store.save(make_token(), expected_generation=None)


def test_a_malformed_sqlite_row_raises_token_store_error(tmp_path: Path):
    db = tmp_path / "state.sqlite3"
    store = SQLiteTokenStore(db)
    store.save(make_token(), expected_generation=None)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE exactbridge_tokens SET issued_at = 'yesterday'")
    conn.close()
    with pytest.raises(TokenStoreError, match="malformed") as info:
        store.load()
    assert CANARY_ACCESS not in str(info.value)


def test_sqlite_store_rejects_an_empty_name(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="name"):
        SQLiteTokenStore(tmp_path / "x.db", name="")


def test_saved_token_equals_input_except_generation(new_store: StoreFactory):
    token = make_token(expires_in=599, generation=17)
    saved = new_store().save(token, expected_generation=None)
    assert saved == attrs.evolve(token, generation=1)
