"""RunLock: one run per pipeline at a time, across threads and processes."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from exactbridge.errors import ConfigurationError, SyncError
from exactbridge.sync.locks import PipelineBusyError, RunLock
from exactbridge.sync.sqlite_store import SQLiteStateStore
from exactbridge.sync.state import MemoryStateStore

# Generous upper bounds for inter-process hand-offs; a healthy run never waits this long.
HANDOFF = 120


def _run_pipeline(db: str, barrier, results, release) -> None:
    """Child process: start the pipeline at the same moment as its twin."""
    barrier.wait(HANDOFF)
    try:
        with RunLock(db, "vg-invoices"):
            results.put(("ran", os.getpid()))
            release.wait(HANDOFF)
    except PipelineBusyError as busy:
        results.put(("busy", str(busy)))


def _crash_while_holding(db: str, sender, die) -> None:
    """Child process: take the lock, then die without releasing it when told to."""
    lock = RunLock(db, "vg-invoices")
    sender.send(lock.try_acquire())  # a pipe send completes before it returns
    die.wait(HANDOFF)
    os._exit(3)


def test_two_processes_started_at_once_one_runs_one_is_busy(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    db = str(tmp_path / "state.sqlite3")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    release = ctx.Event()
    children = [
        ctx.Process(target=_run_pipeline, args=(db, barrier, results, release)) for _ in range(2)
    ]
    for child in children:
        child.start()
    try:
        outcomes = sorted([results.get(timeout=HANDOFF), results.get(timeout=HANDOFF)])
    finally:
        release.set()
        for child in children:
            child.join(HANDOFF)
    assert [kind for kind, _ in outcomes] == ["busy", "ran"]
    busy_message, (_, runner_pid) = outcomes[0][1], outcomes[1]
    assert "'vg-invoices' is busy" in busy_message
    assert f"pid {runner_pid}" in busy_message
    assert [child.exitcode for child in children] == [0, 0]
    # Both finished: the pipeline is free again.
    with RunLock(db, "vg-invoices") as lock:
        assert lock.held


def test_a_crashed_holder_does_not_block_the_next_run(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    db = str(tmp_path / "state.sqlite3")
    receiver, sender = ctx.Pipe(duplex=False)
    die = ctx.Event()
    child = ctx.Process(target=_crash_while_holding, args=(db, sender, die))
    child.start()
    try:
        assert receiver.poll(HANDOFF)
        assert receiver.recv() is True
        assert not RunLock(db, "vg-invoices").try_acquire()
    finally:
        die.set()
        child.join(HANDOFF)
    assert child.exitcode == 3
    lock = RunLock(db, "vg-invoices")
    assert lock.try_acquire()
    lock.release()


def test_second_holder_in_the_same_process_is_refused_until_release(tmp_path):
    db = tmp_path / "state.sqlite3"
    first, second = RunLock(db, "vg-invoices"), RunLock(db, "vg-invoices")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert not second.held
    with pytest.raises(PipelineBusyError) as info:
        second.__enter__()
    assert isinstance(info.value, SyncError)
    assert info.value.pipeline == "vg-invoices"
    assert info.value.holder == f"pid {os.getpid()}"
    assert info.value.lock == str(first.lock_path)
    first.release()
    assert second.try_acquire()
    second.release()


def test_pipelines_do_not_block_each_other(tmp_path):
    db = tmp_path / "state.sqlite3"
    with RunLock(db, "vg-invoices"), RunLock(db, "pay-payouts") as other:
        assert other.held
        assert not RunLock(db, "pay-payouts").try_acquire()


def test_lock_file_sits_next_to_the_database_of_a_store(tmp_path):
    db = tmp_path / "state.sqlite3"
    with SQLiteStateStore(db) as store:
        lock = RunLock(store, "vg-invoices")
        assert lock.lock_path == tmp_path / "state.sqlite3.run-vg-invoices.lock"
        with lock:
            assert not RunLock(db, "vg-invoices").try_acquire()
        assert not lock.held
        assert lock.lock_path.read_text() == ""


def test_unusual_pipeline_names_get_distinct_safe_lock_files(tmp_path):
    db = tmp_path / "state.sqlite3"
    names = ["a/b", "a_b", "../x", "clé", ".hidden", "x" * 200]
    paths = [RunLock(db, name).lock_path for name in names]
    assert len(set(paths)) == len(names)
    assert all(isinstance(p, Path) and p.parent == tmp_path for p in paths)
    with RunLock(db, "a/b"):
        assert RunLock(db, "a_b").try_acquire()


def test_memory_store_locks_within_the_process(tmp_path):
    store, other_store = MemoryStateStore(), MemoryStateStore()
    lock = RunLock(store, "vg-invoices")
    assert lock.lock_path is None
    with lock:
        assert not RunLock(store, "vg-invoices").try_acquire()
        assert RunLock(store, "pay-payouts").try_acquire()
        assert RunLock(other_store, "vg-invoices").try_acquire()
        with pytest.raises(PipelineBusyError, match="in-process"):
            RunLock(store, "vg-invoices").__enter__()
    assert RunLock(store, "vg-invoices").try_acquire()


def test_misuse(tmp_path):
    lock = RunLock(tmp_path / "state.sqlite3", "vg-invoices")
    lock.release()  # not held: nothing happens
    assert lock.try_acquire()
    with pytest.raises(SyncError, match="already held"):
        lock.try_acquire()
    lock.release()
    with pytest.raises(ConfigurationError, match="pipeline"):
        RunLock(tmp_path / "state.sqlite3", "")
    with pytest.raises(ConfigurationError, match="path_or_store"):
        RunLock(42, "vg-invoices")  # type: ignore[arg-type]


def test_an_unusable_lock_location_raises_sync_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    lock = RunLock(blocker / "state.sqlite3", "vg-invoices")
    with pytest.raises(SyncError, match="cannot open run lock"):
        lock.try_acquire()
    assert not lock.held
