"""A scheduling helper for simple hosts: :func:`run_every`.

Hosts with a job queue (Celery, RQ, cron) should schedule ``pipeline.run()``
themselves, inside a :class:`~exactbridge.sync.RunLock`. Hosts without one (a small
server, a Raspberry Pi in the club house) can call :func:`run_every`: it runs the
pipeline, sleeps, and runs it again, taking the pipeline's run lock each time so
that two processes started at once never run the same pipeline together (the second
one reports it is busy and waits for its next turn).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import ConfigurationError
from exactbridge.sync.locks import PipelineBusyError, RunLock
from exactbridge.sync.postgres_store import PostgresRunLock, PostgresStateStore
from exactbridge.sync.report import SyncReport
from exactbridge.sync.sqlite_store import SQLiteStateStore
from exactbridge.sync.state import MemoryStateStore, StateStore

__all__ = ["Runnable", "run_every", "run_locked"]

log = logging.getLogger("exactbridge.sync")
_T = TypeVar("_T")


class Runnable(Protocol):
    """Anything with a ``name``, a ``store`` and a ``run()`` returning a report (every pipeline)."""

    name: str
    store: StateStore

    def run(self) -> SyncReport:
        """Run once."""
        ...


def _lock_for(pipeline: Runnable) -> RunLock | PostgresRunLock:
    store = pipeline.store
    if isinstance(store, (SQLiteStateStore, MemoryStateStore)):
        return RunLock(store, pipeline.name)
    if isinstance(store, PostgresStateStore):
        return store.run_lock(pipeline.name)
    raise ConfigurationError(
        f"got a {type(store).__name__}",
        key="pipeline.store",
        expected="an SQLiteStateStore, PostgresStateStore or MemoryStateStore, or pass lock=",
    )


def run_locked(pipeline: Runnable, *, lock: RunLock | PostgresRunLock | None = None) -> SyncReport:
    """Run ``pipeline`` once while holding its run lock.

    Raises :class:`~exactbridge.sync.PipelineBusyError` at once (without waiting)
    when another thread or process is running the same pipeline.
    """
    with lock or _lock_for(pipeline):
        return pipeline.run()


def run_every(
    minutes: float,
    pipeline: Runnable,
    *,
    clock: Clock | None = None,
    lock: RunLock | PostgresRunLock | None = None,
    max_runs: int | None = None,
    on_failure: Callable[[SyncReport], object] | None = None,
    on_busy: Callable[[PipelineBusyError], object] | None = None,
) -> list[SyncReport]:
    """Run ``pipeline`` now and then every ``minutes``, each run under its run lock.

    A run that finds the pipeline busy (another process runs it) is skipped and
    reported to ``on_busy``; a run that does not fully succeed is passed to
    ``on_failure`` (both hooks are optional and their exceptions are logged, not
    raised). The next run starts ``minutes`` after the previous one *started*, or
    at once if it took longer. Runs forever unless ``max_runs`` is given (the
    number of turns, busy ones included); returns the reports of the runs that ran.
    Stop a forever-running loop with ``KeyboardInterrupt`` (Ctrl-C).

    Example::

        run_every(15, pipeline, on_failure=lambda report: notify(report.lines()))
    """
    given: object = minutes
    if isinstance(given, bool) or not isinstance(given, (int, float)) or given <= 0:
        raise ConfigurationError(
            f"got {minutes!r}", key="minutes", expected="a positive number of minutes"
        )
    if max_runs is not None and (isinstance(max_runs, bool) or max_runs < 1):
        raise ConfigurationError(
            f"got {max_runs!r}", key="max_runs", expected="a positive number or None"
        )
    clock = clock or SystemClock()
    interval = dt.timedelta(minutes=minutes)
    reports: list[SyncReport] = []
    turn = 0
    while max_runs is None or turn < max_runs:
        turn += 1
        started = clock.now()
        try:
            report = run_locked(pipeline, lock=lock)
        except PipelineBusyError as busy:
            log.info("%s", busy)
            _call(on_busy, busy)
        else:
            reports.append(report)
            if not report.ok:
                _call(on_failure, report)
        if max_runs is not None and turn >= max_runs:
            break
        wait = (started + interval - clock.now()).total_seconds()
        if wait > 0:
            clock.sleep(wait)
    return reports


def _call(hook: Callable[[_T], object] | None, value: _T) -> None:
    if hook is None:
        return
    try:
        hook(value)
    except Exception:
        log.exception("a run_every hook raised")
