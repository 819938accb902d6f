"""The sync engine: books each source record exactly once and remembers what it did.

- Pipelines: :class:`InvoicePipeline` (source invoices to sales entries),
  :class:`PayoutPipeline` (Pay. payouts to bank entries, payments matched to open
  invoices) and :class:`MandatePipeline` (Club-assistent mandates to Exact direct-debit
  mandates and bank accounts), with :class:`SyncSettings` and a :class:`SyncReport`;
- sources: the :class:`InvoiceSource` protocol and one implementation per system
  (:class:`VirtuagymInvoices`, :class:`EduframeInvoices`, :class:`CoachviewInvoices`,
  :class:`ClubassistentInvoices`), :class:`PayPayouts`, :class:`ClubassistentMandates`;
- memory: :class:`SQLiteStateStore` (durable default), :class:`PostgresStateStore` (many
  workers, ``exactbridge[postgres]``) and :class:`MemoryStateStore`;
- scheduling: :class:`RunLock` (one run per pipeline at a time).
"""

from __future__ import annotations

from exactbridge.sync.connectors import (
    ClubassistentInvoices,
    CoachviewInvoices,
    EduframeInvoices,
    ExportSource,
)
from exactbridge.sync.invoices import (
    DOCUMENT_TYPE_SALES_INVOICE,
    InvoicePipeline,
    PdfRenderer,
    content_hash,
)
from exactbridge.sync.locks import PipelineBusyError, RunLock
from exactbridge.sync.mandates import (
    ClubassistentMandates,
    MandateBatch,
    MandatePipeline,
    MandateSource,
    mandate_fields,
    mandate_hash,
)
from exactbridge.sync.payouts import (
    PayoutBatch,
    PayoutPipeline,
    PayoutSource,
    PayPayouts,
    payout_hash,
    payout_marker,
)
from exactbridge.sync.postgres_store import PostgresRunLock, PostgresStateStore
from exactbridge.sync.report import Action, RecordResult, SyncReport
from exactbridge.sync.schedule import Runnable, run_every, run_locked
from exactbridge.sync.settings import ChangePolicy, DeletePolicy, SyncSettings
from exactbridge.sync.sources import InvoiceSource, SourceBatch, VirtuagymInvoices
from exactbridge.sync.sqlite_store import (
    SCHEMA_VERSION,
    SQLiteStateStore,
    default_state_path,
    project_state_path,
)
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
from exactbridge.sync.targets import check_target, exact_target, store_target

__all__ = [
    "DOCUMENT_TYPE_SALES_INVOICE",
    "KNOWN_KINDS",
    "SCHEMA_VERSION",
    "Action",
    "BookingKey",
    "BookingRecord",
    "BookingStatus",
    "ChangePolicy",
    "ClubassistentInvoices",
    "ClubassistentMandates",
    "CoachviewInvoices",
    "DeletePolicy",
    "EduframeInvoices",
    "ExportSource",
    "InvoicePipeline",
    "InvoiceSource",
    "MandateBatch",
    "MandatePipeline",
    "MandateSource",
    "MemoryStateStore",
    "PayPayouts",
    "PayoutBatch",
    "PayoutPipeline",
    "PayoutSource",
    "PdfRenderer",
    "PipelineBusyError",
    "PostgresRunLock",
    "PostgresStateStore",
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
    "check_target",
    "check_transition",
    "content_hash",
    "default_state_path",
    "exact_target",
    "finished_run",
    "intent_record",
    "mandate_fields",
    "mandate_hash",
    "outcome_record",
    "payout_hash",
    "payout_marker",
    "project_state_path",
    "run_every",
    "run_locked",
    "store_target",
]
