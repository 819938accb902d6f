"""The sync engine: books each source record exactly once and remembers what it did.

- Pipelines: :class:`InvoicePipeline` (source invoices to sales entries), with
  :class:`SyncSettings` and a :class:`SyncReport` per run;
- sources: the :class:`InvoiceSource` protocol and one implementation per system;
- memory: :class:`SQLiteStateStore` (durable default) and :class:`MemoryStateStore`;
- scheduling: :class:`RunLock` (one run per pipeline at a time).
"""

from __future__ import annotations

from exactbridge.sync.invoices import (
    DOCUMENT_TYPE_SALES_INVOICE,
    InvoicePipeline,
    PdfRenderer,
    content_hash,
)
from exactbridge.sync.locks import PipelineBusyError, RunLock
from exactbridge.sync.report import Action, RecordResult, SyncReport
from exactbridge.sync.schedule import Runnable, run_every, run_locked
from exactbridge.sync.settings import ChangePolicy, DeletePolicy, SyncSettings
from exactbridge.sync.sources import InvoiceSource, SourceBatch, VirtuagymInvoices
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
    "DOCUMENT_TYPE_SALES_INVOICE",
    "KNOWN_KINDS",
    "SCHEMA_VERSION",
    "Action",
    "BookingKey",
    "BookingRecord",
    "BookingStatus",
    "ChangePolicy",
    "DeletePolicy",
    "InvoicePipeline",
    "InvoiceSource",
    "MemoryStateStore",
    "PdfRenderer",
    "PipelineBusyError",
    "RecordResult",
    "RunLock",
    "RunRecord",
    "RunStatus",
    "Runnable",
    "SQLiteStateStore",
    "SourceBatch",
    "StateStore",
    "SyncReport",
    "SyncSettings",
    "VirtuagymInvoices",
    "check_transition",
    "content_hash",
    "default_state_path",
    "finished_run",
    "intent_record",
    "outcome_record",
    "run_every",
    "run_locked",
]
