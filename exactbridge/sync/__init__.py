"""The sync engine: books each source record exactly once and remembers what it did.

This release ships its state store (:class:`SQLiteStateStore`, :class:`MemoryStateStore`)
and the per-pipeline :class:`RunLock`; the pipelines build on them.
"""

from __future__ import annotations

from exactbridge.sync.locks import PipelineBusyError, RunLock
from exactbridge.sync.sqlite_store import SCHEMA_VERSION, SQLiteStateStore, default_state_path
from exactbridge.sync.state import (
    KNOWN_KINDS,
    BookingKey,
    BookingRecord,
    BookingStatus,
    MemoryStateStore,
    RunRecord,
    RunStatus,
    StateStore,
    check_transition,
    finished_run,
    intent_record,
    outcome_record,
)

__all__ = [
    "KNOWN_KINDS",
    "SCHEMA_VERSION",
    "BookingKey",
    "BookingRecord",
    "BookingStatus",
    "MemoryStateStore",
    "PipelineBusyError",
    "RunLock",
    "RunRecord",
    "RunStatus",
    "SQLiteStateStore",
    "StateStore",
    "check_transition",
    "default_state_path",
    "finished_run",
    "intent_record",
    "outcome_record",
]
