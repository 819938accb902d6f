"""The invoice pipeline: source invoices become Exact sales entries, each exactly once.

:class:`InvoicePipeline` composes an :class:`~exactbridge.sync.sources.InvoiceSource`,
a :class:`~exactbridge.mapping.BookingConfig`, an :class:`~exactbridge.exact.ExactClient`
and a :class:`~exactbridge.sync.StateStore`. One :meth:`~InvoicePipeline.run`:

1. reads the source (new and changed invoices, plus the ones to retry);
2. compares each invoice with what the store remembers (content hash, status);
3. reads the division's reference data once, and only if something must be written;
4. per invoice: resolves an earlier write of unknown outcome by its natural key
   (journal + ``YourRef``), maps it, creates or updates its customer, writes the
   intent, books it (one POST with the lines inline) and records the outcome;
   changed invoices are updated in place or reversed and rebooked, deleted ones
   reversed, by :class:`~exactbridge.sync.SyncSettings`;
5. returns a :class:`~exactbridge.sync.SyncReport` and keeps it in the run history.

One bad record never stops a run: its reason is recorded and the next run retries it.
Exact's daily limit, an outage or a refused login end the run cleanly (status
STOPPED or FAILED) with everything done so far recorded. :meth:`~InvoicePipeline.preview`
is the same run without a single write to Exact or to the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from exactbridge.clock import Clock, SystemClock
from exactbridge.codes import strip_code
from exactbridge.errors import (
    APIError,
    ConfigurationError,
    ExactBridgeError,
    MappingError,
    OutcomeUnknownError,
    RateLimitError,
    ServiceUnavailableError,
    SourceError,
    SourceRecordError,
)
from exactbridge.exact import ExactClient, NewDocument, NewDocumentAttachment, P
from exactbridge.mapping import (
    AccountDraft,
    BookingConfig,
    BookingMode,
    DebtorAction,
    DebtorDecision,
    FinancialPeriod,
    KnownAccount,
    SalesEntryDraft,
    summarize,
    to_sales_entry,
)
from exactbridge.records import Invoice, InvoiceStatus, Party
from exactbridge.sync._exact_ops import DivisionSession, account_fields, new_account
from exactbridge.sync._pipeline import PipelineBase, RunState, Stop, fingerprint, stop_for
from exactbridge.sync.report import Action, RecordResult, SyncReport
from exactbridge.sync.settings import ChangePolicy, DeletePolicy, SyncSettings
from exactbridge.sync.sources import InvoiceSource, SourceBatch
from exactbridge.sync.state import (
    BookingKey,
    BookingRecord,
    BookingStatus,
    StateStore,
)

__all__ = ["DOCUMENT_TYPE_SALES_INVOICE", "InvoicePipeline", "PdfRenderer", "content_hash"]

log = logging.getLogger("exactbridge.sync")

#: ``documents/DocumentTypes`` id of "Sales invoice", the type of attached invoice PDFs.
DOCUMENT_TYPE_SALES_INVOICE = 10

#: A host's own PDF maker: the canonical invoice in, the PDF bytes out (``None``: none).
PdfRenderer = Callable[[Invoice], "bytes | None"]

_CURSOR = "source"
_VOLATILE = frozenset({"changed_at", "pdf"})
_SETTLEMENT_STATES = frozenset({InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.EXPIRED})


def content_hash(invoice: Invoice) -> str:
    """A fingerprint of what an invoice books, kept in the store to notice changes.

    Everything that can change the entry counts (lines, amounts, dates, party data,
    a cancellation); the source's edit timestamp, the PDF and the payment status do
    not: an invoice that gets paid (or expires) books the same entry, so it costs no
    Exact call. Open, paid and expired hash alike as "open", which also keeps the
    hashes of invoices booked while open valid.
    """

    def keep(attribute: attrs.Attribute[Any], value: object) -> bool:
        return attribute.name not in _VOLATILE

    data = attrs.asdict(invoice, filter=keep)
    if invoice.status in _SETTLEMENT_STATES:
        data["status"] = InvoiceStatus.OPEN
    return fingerprint(data)


def _label(invoice: Invoice) -> str:
    return invoice.number or invoice.source_id


@attrs.frozen
class _Reversal:
    """A reversing entry that was booked: where, as which entry, for how much."""

    period: FinancialPeriod
    entry_id: str | None
    entry_number: int | None
    amount: Decimal


@attrs.define
class _Run(RunState):
    """Mutable state of one invoice run: the customers' records and dry-run placeholders."""

    account_records: dict[BookingKey, BookingRecord] = attrs.field(factory=dict)
    dry_accounts: dict[str, str] = attrs.field(factory=dict)


class InvoicePipeline(PipelineBase[_Run]):
    """Book a source's invoices into one Exact division, exactly once.

    ``name`` identifies the pipeline in the store (cursors, run history, run lock;
    default ``"<source>-<tenant>-invoices"``). ``clock`` (default: the system clock)
    dates intents, runs and reversals. ``pdf_renderer`` makes PDFs for sources
    without one (used when ``settings.attach_pdf``). ``on_failure`` is called with the
    report when a run does not fully succeed (a notification hook: send an e-mail,
    page someone); an exception it raises is logged, never propagated. ``progress``
    is called as ``progress(done, total)`` while invoices are processed.

    Example, on the fakes::

        pipeline = InvoicePipeline(
            VirtuagymInvoices(vg_client), exact_client, config, SQLiteStateStore(path)
        )
        report = pipeline.run()
        print(len(report.booked), report.exact_calls)
    """

    kind = "invoices"

    def __init__(
        self,
        source: InvoiceSource,
        exact: ExactClient,
        config: BookingConfig,
        store: StateStore,
        *,
        settings: SyncSettings | None = None,
        name: str | None = None,
        clock: Clock | None = None,
        pdf_renderer: PdfRenderer | None = None,
        on_failure: Callable[[SyncReport], object] | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> None:
        if not isinstance(source, InvoiceSource):
            raise ConfigurationError(f"got {source!r}", key="source", expected="an InvoiceSource")
        if not isinstance(config, BookingConfig):
            raise ConfigurationError(f"got {config!r}", key="config", expected="a BookingConfig")
        self.source = source
        self.exact = exact
        self.config = config
        self.store = store
        self.settings = settings or SyncSettings()
        self.name = name or f"{source.source}-{source.tenant}-invoices"
        self.clock: Clock = clock or SystemClock()
        self.pdf_renderer = pdf_renderer
        self.on_failure = on_failure
        self.progress = progress

    def __repr__(self) -> str:
        return f"<InvoicePipeline {self.name!r}>"

    # -- public ------------------------------------------------------------------------

    def run(self) -> SyncReport:
        """Run the pipeline once and return its report (also kept in the run history)."""
        return self._execute(dry_run=False, only_retry=False)

    def preview(self) -> SyncReport:
        """Dry run: the same decisions and drafts, without writing to Exact or the store.

        Exact is still read (reference data, customers) so the drafts are the ones a
        real run would send; the report's rows carry them (``result.draft``).
        """
        return self._execute(dry_run=True, only_retry=False)

    def retry(self) -> SyncReport:
        """Run only the records that failed or stayed unresolved last time."""
        return self._execute(dry_run=False, only_retry=True)

    # -- the run -------------------------------------------------------------------------

    def _key(self, source_id: str, kind: str = "invoice") -> BookingKey:
        return BookingKey(self.source.source, self.source.tenant or "-", source_id, kind)

    def _new_state(self, dry_run: bool, now: dt.datetime) -> _Run:
        session = DivisionSession(
            self.exact, with_payment_conditions=self.config.payment_terms.in_use
        )
        return _Run(session, dry_run=dry_run, now=now)

    def _work(self, state: _Run, only_retry: bool) -> None:
        batch = self._read(only_retry)
        self._record_source_errors(state, batch.errors)
        self._process(state, batch)
        if not state.dry_run and not only_retry and self._saves_cursor(self.settings):
            self.store.set_cursor(self.name, _CURSOR, batch.cursor, now=self.clock.now())

    def _read(self, only_retry: bool) -> SourceBatch:
        source = self.source
        tenant = source.tenant or "-"
        redo = [
            record.key.source_id
            for record in (
                *self.store.failed(source.source, tenant, "invoice"),
                *self.store.pending(source.source, tenant, "invoice"),
            )
        ]
        if only_retry:
            return source.fetch_ids(redo) if redo else SourceBatch()
        batch = source.fetch(self.store.get_cursor(self.name, _CURSOR))
        if batch.complete:
            return batch
        seen = {invoice.source_id for invoice in batch.invoices}
        seen.update(e.record_id for e in batch.errors if isinstance(e, SourceRecordError))
        missing = [source_id for source_id in redo if source_id not in seen]
        if not missing:
            return batch
        extra = source.fetch_ids(missing)
        return SourceBatch(
            invoices=(*batch.invoices, *extra.invoices),
            errors=(*batch.errors, *extra.errors),
            cursor=batch.cursor,
            complete=False,
        )

    def _record_source_errors(self, state: _Run, errors: Iterable[SourceError]) -> None:
        for error in errors:
            record_id = error.record_id if isinstance(error, SourceRecordError) else "<source>"
            state.add(
                RecordResult(record_id, Action.FAILED, source=self.source.source, reason=str(error))
            )
            if not state.dry_run and isinstance(error, SourceRecordError) and record_id:
                key = self._key(record_id)
                current = self.store.get(key)
                if current is None or current.status is not BookingStatus.BOOKED:
                    self.store.mark_failed(key, error=str(error), now=self.clock.now())

    def _process(self, state: _Run, batch: SourceBatch) -> None:
        invoices = _latest(batch.invoices)
        keys = [self._key(invoice.source_id) for invoice in invoices]
        records = self.store.get_many(keys)
        account_keys = [
            self._key(invoice.party.source_id, "account")
            for invoice in invoices
            if invoice.party is not None and invoice.party.source_id
        ]
        state.account_records = self.store.get_many(account_keys)
        cutoff = self._cutoff(self.settings, state)
        if self.config.summary.mode is not BookingMode.PER_INVOICE:
            self._process_summary(state, invoices, records, cutoff)
            return
        total = len(invoices)
        for done, (invoice, key) in enumerate(zip(invoices, keys, strict=True), start=1):
            self._one(state, invoice, key, records.get(key), cutoff)
            self._tick(state, done, total)

    def _one(
        self,
        state: _Run,
        invoice: Invoice,
        key: BookingKey,
        record: BookingRecord | None,
        cutoff: dt.date | None,
    ) -> None:
        try:
            self._decide(state, invoice, key, record, cutoff)
        except Stop:
            raise
        except ExactBridgeError as exc:
            stop = stop_for(exc)
            if stop is not None:
                raise stop from exc
            if isinstance(exc, OutcomeUnknownError):
                # The write may have been committed: the record stays PENDING and the
                # next run looks the entry up by its natural key before writing again.
                state.add(self._failed(invoice, f"outcome unknown, resolved next run: {exc}"))
                return
            state.add(self._failed(invoice, str(exc)))
            log.warning("pipeline %s: invoice %s failed: %s", self.name, _label(invoice), exc)
            if not state.dry_run:
                self._note_failure(key, str(exc))

    def _note_failure(self, key: BookingKey, reason: str) -> None:
        """Record a failure without ever forgetting a write that may have landed.

        A PENDING record stays PENDING: its outcome is still unknown (the failure
        came before the natural-key lookup settled it), so the next run looks the
        entry up again before writing. The write sites settle a refused write
        themselves (failed, or the booked entry restored), so a PENDING record here
        never hides a known outcome. A BOOKED record stays BOOKED.
        """
        current = self.store.get(key)
        if current is None or current.status not in (BookingStatus.BOOKED, BookingStatus.PENDING):
            self.store.mark_failed(key, error=reason, now=self.clock.now())

    def _restore(self, key: BookingKey, current: BookingRecord) -> BookingRecord:
        """Back to BOOKED with the booked entry's id and content hash (a change did not land)."""
        return self.store.mark_booked(
            key,
            exact_id=current.extra.get("booked_id") or current.exact_id or "",
            entry_number=current.entry_number,
            content_hash=current.extra.get("booked_hash") or current.content_hash,
            now=self.clock.now(),
        )

    def _failed(self, invoice: Invoice, reason: str) -> RecordResult:
        return RecordResult(
            invoice.source_id,
            Action.FAILED,
            label=_label(invoice),
            source=invoice.source,
            reason=reason,
        )

    # -- deciding what to do with one invoice -----------------------------------------------

    def _decide(
        self,
        state: _Run,
        invoice: Invoice,
        key: BookingKey,
        record: BookingRecord | None,
        cutoff: dt.date | None,
    ) -> None:
        digest = content_hash(invoice)
        if record is not None and record.status is BookingStatus.PENDING:
            record = self._resolve_pending(state, invoice, key, record)
        status = record.status if record is not None else None
        gone = invoice.deleted or invoice.status is InvoiceStatus.CANCELLED
        if gone:
            self._deleted(state, invoice, key, record)
            return
        if status is BookingStatus.BOOKED and record is not None:
            if record.content_hash == digest:
                state.unchanged += 1
                return
            self._changed(state, invoice, key, record, digest)
            return
        if invoice.status is InvoiceStatus.DRAFT:
            self._skip(state, invoice, key, record, "a draft (concept) invoice is never booked")
            return
        if self._held_back(state, invoice):
            return
        if cutoff is not None and invoice.invoice_date < cutoff:
            why = (
                f"dated {invoice.invoice_date}, before the sync-from date {cutoff}"
                if cutoff == self.settings.sync_from
                else f"dated {invoice.invoice_date}, before the pipeline's first run "
                f"({cutoff}) and backfill is off"
            )
            self._skip(state, invoice, key, record, why)
            return
        self._book(state, invoice, key, record, digest)

    def _held_back(self, state: _Run, invoice: Invoice) -> bool:
        """Report an invoice dated after ``sync_until``; nothing is stored for it."""
        later = self._beyond_until(self.settings, invoice.invoice_date, "dated")
        if later is None:
            return False
        state.add(
            RecordResult(
                invoice.source_id,
                Action.SKIPPED,
                label=_label(invoice),
                source=invoice.source,
                reason=later,
            )
        )
        return True

    def _skip(
        self,
        state: _Run,
        invoice: Invoice,
        key: BookingKey,
        record: BookingRecord | None,
        reason: str,
    ) -> None:
        if (
            record is not None
            and record.status is BookingStatus.SKIPPED
            and record.last_error == reason
        ):
            state.unchanged += 1
            return
        state.add(
            RecordResult(
                invoice.source_id,
                Action.SKIPPED,
                label=_label(invoice),
                source=invoice.source,
                reason=reason,
            )
        )
        if not state.dry_run:
            self.store.mark_skipped(key, now=self.clock.now(), reason=reason)

    def _resolve_pending(
        self, state: _Run, invoice: Invoice, key: BookingKey, record: BookingRecord
    ) -> BookingRecord:
        """Settle an intent whose outcome is unknown by looking the entry up in Exact."""
        op = record.extra.get("op", "create")
        if record.your_ref is None or record.journal is None:
            return record
        if op == "update":
            # Whether the update landed does not matter: it is written again in full
            # (header fields and a complete replacement of the lines).
            return attrs.evolve(record, status=BookingStatus.BOOKED, content_hash=None)
        found = self.exact.sales_entries.find_by_your_ref(record.journal, record.your_ref)
        if state.dry_run:
            if found is not None and op != "reverse":
                return attrs.evolve(
                    record, status=BookingStatus.BOOKED, exact_id=str(found.entry_id)
                )
            return record
        now = self.clock.now()
        if found is None or found.entry_id is None:
            if op == "reverse":
                # The reversal did not land: the booked entry still stands.
                return self._restore(key, record)
            # Nothing landed: the earlier attempt counts as failed, and is written again.
            return self.store.mark_failed(
                key, error="the earlier write did not reach Exact", now=now
            )
        if op == "reverse":
            return self.store.mark_reversed(
                key, now=now, extra={"reversal_id": str(found.entry_id)}
            )
        return self.store.mark_booked(
            key,
            exact_id=found.entry_id,
            entry_number=found.entry_number,
            content_hash=record.content_hash,
            now=now,
        )

    # -- customers ---------------------------------------------------------------------

    def _linked(self, state: _Run, invoice: Invoice) -> Invoice:
        """Point the party at the Exact account remembered for it, when it still exists."""
        party = invoice.party
        if party is None or party.exact_account_id or not party.source_id:
            return invoice
        record = state.account_records.get(self._key(party.source_id, "account"))
        if record is None or record.status is not BookingStatus.BOOKED or not record.exact_id:
            return invoice
        if not state.session.account_exists(record.exact_id):
            return invoice
        return attrs.evolve(invoice, party=attrs.evolve(party, exact_account_id=record.exact_id))

    def _draft(self, state: _Run, invoice: Invoice) -> SalesEntryDraft:
        reference = state.session.reference()
        linked = self._linked(state, invoice)
        draft = to_sales_entry(linked, reference, self.config, export_date=state.now.date())
        state.session.check_cost_codes(invoice, draft)
        return draft

    def _customer(self, state: _Run, invoice: Invoice, decision: DebtorDecision) -> uuid.UUID:
        """The Exact id of the entry's customer, creating or updating it by the policy."""
        session = state.session
        if decision.action is DebtorAction.CREATE:
            return self._create_customer(state, invoice, decision)
        if decision.account_id is None:
            raise MappingError(
                "the debtor decision names no account",
                record_id=invoice.source_id,
                field="party",
                policy="DebtorPolicy",
                source=invoice.source,
                fix="this is an exactbridge bug (resolve_debtor gave no account); report it",
            )
        customer = uuid.UUID(decision.account_id)
        if decision.action is DebtorAction.UPDATE and decision.account is not None:
            self._update_customer(state, invoice.party, customer, decision.account)
        del session
        return customer

    def _create_customer(
        self, state: _Run, invoice: Invoice, decision: DebtorDecision
    ) -> uuid.UUID:
        session = state.session
        draft = decision.account
        party = invoice.party
        if draft is None or party is None:
            raise MappingError(
                "a new customer needs the party's data",
                record_id=invoice.source_id,
                field="party",
                policy="DebtorPolicy.create_missing",
                source=invoice.source,
                fix="give the invoice its customer in the source, or set "
                'debtor.guest_debtor_code = "<code of an Exact customer for guests>"',
            )
        code = strip_code(decision.code) if decision.code else None
        earlier = session.created_account(code=code) if code else None
        if earlier is not None:
            return uuid.UUID(earlier.id)
        if state.dry_run:
            placeholder = state.dry_accounts.setdefault(
                code or party.source_id, str(uuid.uuid5(uuid.NAMESPACE_URL, party.source_id))
            )
            if len(state.dry_accounts) > state.accounts_created:
                state.accounts_created = len(state.dry_accounts)
            return uuid.UUID(placeholder)
        key = self._key(party.source_id, "account")
        record = state.account_records.get(key) or self.store.get(key)
        if record is not None and record.status is BookingStatus.PENDING and code:
            # An earlier creation may have reached Exact: look for the code first.
            found = self.exact.accounts.find_by_code(code)
            if found is not None and found.id is not None:
                return self._remember_customer(state, key, found.id, code, draft, created=False)
        self.store.record_intent(
            key,
            content_hash=_account_hash(draft),
            your_ref=code,
            journal=None,
            now=self.clock.now(),
            extra={"op": "create"},
        )
        try:
            created = self.exact.accounts.create(new_account(draft))
        except OutcomeUnknownError:
            raise  # stays PENDING: the next attempt looks the code up first
        except ExactBridgeError as exc:
            self.store.mark_failed(key, error=str(exc), now=self.clock.now())
            raise
        if created.id is None:  # pragma: no cover - Exact always answers with the id
            raise ExactBridgeError(f"Exact created customer {code} without an id")
        return self._remember_customer(state, key, created.id, code, draft, created=True)

    def _remember_customer(
        self,
        state: _Run,
        key: BookingKey,
        account_id: uuid.UUID,
        code: str | None,
        draft: AccountDraft,
        *,
        created: bool,
    ) -> uuid.UUID:
        record = self.store.mark_booked(
            key,
            exact_id=account_id,
            entry_number=None,
            content_hash=_account_hash(draft),
            now=self.clock.now(),
        )
        state.account_records[key] = record
        state.session.remember_account(
            KnownAccount(
                str(account_id),
                code=code,
                name=draft.name,
                email=draft.email,
                vat_number=draft.vat_number,
            )
        )
        if created:
            state.accounts_created += 1
        return account_id

    def _update_customer(
        self, state: _Run, party: Party | None, customer: uuid.UUID, draft: AccountDraft
    ) -> None:
        """Write the source's customer data over the Exact account, once per change."""
        if party is None or not party.source_id:
            return
        key = self._key(party.source_id, "account")
        digest = _account_hash(draft)
        record = state.account_records.get(key)
        if (
            record is not None
            and record.status is BookingStatus.BOOKED
            and record.exact_id == str(customer)
            and record.content_hash == digest
        ):
            return
        fields = account_fields(draft)
        if not fields:
            return
        state.accounts_updated += 1
        if state.dry_run:
            state.account_records[key] = attrs.evolve(
                record
                if record is not None
                else BookingRecord(
                    key=key,
                    status=BookingStatus.BOOKED,
                    exact_id=None,
                    entry_number=None,
                    your_ref=None,
                    journal=None,
                    content_hash=None,
                    attempts=0,
                    last_error=None,
                    created_at=state.now,
                    updated_at=state.now,
                ),
                status=BookingStatus.BOOKED,
                exact_id=str(customer),
                content_hash=digest,
            )
            return
        self.store.record_intent(
            key,
            content_hash=digest,
            your_ref=None,
            journal=None,
            now=self.clock.now(),
            extra={"op": "update"},
        )
        try:
            self.exact.accounts.update(customer, fields)
        except OutcomeUnknownError:
            raise
        except ExactBridgeError as exc:
            self.store.mark_failed(key, error=str(exc), now=self.clock.now())
            raise
        state.account_records[key] = self.store.mark_booked(
            key, exact_id=customer, entry_number=None, content_hash=digest, now=self.clock.now()
        )

    # -- attachments -------------------------------------------------------------------

    def _pdf(self, invoice: Invoice) -> bytes | None:
        if invoice.pdf is not None and invoice.pdf.data:
            return invoice.pdf.data
        data = self.source.pdf(invoice)
        if data is None and self.pdf_renderer is not None:
            data = self.pdf_renderer(invoice)
        return data

    def _document(
        self, state: _Run, invoice: Invoice, draft: SalesEntryDraft, customer: uuid.UUID
    ) -> uuid.UUID | None:
        """Create the invoice PDF as an Exact document (before the entry that links it)."""
        if not self.settings.attach_pdf:
            return None
        data = self._pdf(invoice)
        if not data:
            return None
        if state.dry_run:
            return None
        subject = f"{draft.your_ref} ({invoice.source})"
        key = self._key(invoice.source_id, "document")
        record = self.store.get(key)
        if record is not None and record.status is BookingStatus.BOOKED and record.exact_id:
            return uuid.UUID(record.exact_id)
        document_id: uuid.UUID | None = None
        if record is not None and record.status is BookingStatus.PENDING:
            found = self.exact.documents.first(filter=P("Subject") == subject)
            if found is not None and found.id is not None:
                document_id = found.id
        if document_id is None:
            self.store.record_intent(
                key, content_hash=None, your_ref=subject, journal=None, now=self.clock.now()
            )
            created = self.exact.documents.create(
                NewDocument(
                    subject=subject,
                    type=DOCUMENT_TYPE_SALES_INVOICE,
                    account=customer,
                    document_date=draft.entry_date,
                )
            )
            document_id = created.id
        if document_id is None:  # pragma: no cover - Exact always answers with the id
            raise ExactBridgeError(f"Exact created document {subject!r} without an id")
        attached = None
        if record is not None and record.status is BookingStatus.PENDING:
            attached = self.exact.document_attachments.first(filter=P("Document") == document_id)
        if attached is None:
            filename = (invoice.pdf.filename if invoice.pdf else None) or f"{draft.your_ref}.pdf"
            self.exact.document_attachments.create(
                NewDocumentAttachment(document=document_id, file_name=filename, attachment=data)
            )
        self.store.mark_booked(
            key, exact_id=document_id, entry_number=None, content_hash=None, now=self.clock.now()
        )
        return document_id

    # -- booking, changing, reversing -------------------------------------------------------

    def _book(
        self,
        state: _Run,
        invoice: Invoice,
        key: BookingKey,
        record: BookingRecord | None,
        digest: str,
        action: Action = Action.BOOKED,
        period: FinancialPeriod | None = None,
    ) -> None:
        draft = self._draft(state, invoice)
        if period is not None and (draft.reporting_year, draft.reporting_period) < (
            period.year,
            period.period,
        ):
            # The new version of an entry whose period Exact no longer accepts changes
            # in goes where its reversal went: the correction is booked now.
            draft = attrs.evolve(
                draft,
                entry_date=max(period.start, min(draft.entry_date, period.end)),
                reporting_year=period.year,
                reporting_period=period.period,
            )
        version = _version(record)
        rebooking = (
            record is not None
            and record.status in (BookingStatus.REVERSED, BookingStatus.DELETED)
            and record.exact_id is not None
        )
        if rebooking:
            version += 1
        your_ref = _versioned(draft.your_ref, version)
        entry_number = draft.entry_number if version == 1 else None
        customer = self._customer(state, invoice, draft.debtor)
        amount = draft.total_incl_vat
        if state.dry_run:
            state.add(
                RecordResult(
                    invoice.source_id,
                    action,
                    label=_label(invoice),
                    source=invoice.source,
                    amount=amount,
                    draft=draft,
                    rebooked=action is Action.REVERSED,
                )
            )
            return
        document = self._document(state, invoice, draft, customer)
        body = state.session.sales_entry(
            draft, customer, your_ref=your_ref, entry_number=entry_number, document=document
        )
        self.store.record_intent(
            key,
            content_hash=digest,
            your_ref=your_ref,
            journal=draft.journal,
            now=self.clock.now(),
            extra={"op": "create", "version": str(version), "customer": str(customer)},
        )
        try:
            entry = self.exact.sales_entries.create(body)
        except APIError as exc:
            # Exact answered with a refusal (a rate limit included): nothing was written.
            self.store.mark_failed(key, error=str(exc), now=self.clock.now())
            raise
        if entry.entry_id is None:  # pragma: no cover - Exact always answers with the id
            raise ExactBridgeError(f"Exact booked invoice {_label(invoice)} without an entry id")
        self.store.mark_booked(
            key,
            exact_id=entry.entry_id,
            entry_number=entry.entry_number,
            content_hash=digest,
            now=self.clock.now(),
        )
        state.add(
            RecordResult(
                invoice.source_id,
                action,
                label=_label(invoice),
                source=invoice.source,
                exact_id=str(entry.entry_id),
                entry_number=entry.entry_number,
                amount=amount,
                draft=draft,
                rebooked=action is Action.REVERSED,
            )
        )

    def _changed(
        self,
        state: _Run,
        invoice: Invoice,
        key: BookingKey,
        record: BookingRecord,
        digest: str,
    ) -> None:
        policy = self.settings.on_change
        if policy is ChangePolicy.IGNORE:
            self._report_ignored(state, invoice, "changed after it was booked (on_change=ignore)")
            return
        if record.extra.get("summary"):
            self._report_ignored(
                state,
                invoice,
                "changed after it was booked in a summary entry; correct it in Exact by hand",
            )
            return
        draft = self._draft(state, invoice)
        customer = self._customer(state, invoice, draft.debtor)
        refused = False
        if policy is ChangePolicy.UPDATE and draft.journal == record.journal:
            if state.dry_run:
                state.add(
                    RecordResult(
                        invoice.source_id,
                        Action.UPDATED,
                        label=_label(invoice),
                        source=invoice.source,
                        exact_id=record.exact_id,
                        amount=draft.total_incl_vat,
                        draft=draft,
                    )
                )
                return
            if self._update_in_place(state, invoice, key, record, draft, customer, digest):
                return
            record = self.store.get(key) or record
            refused = True
        reversal = self._reverse(state, invoice, key, record, reason="changed in the source")
        latest = (
            self.store.get(key)
            if not state.dry_run
            else attrs.evolve(record, status=BookingStatus.REVERSED)
        )
        self._book(
            state,
            invoice,
            key,
            latest,
            digest,
            Action.REVERSED,
            reversal.period if refused and reversal is not None else None,
        )

    def _update_in_place(
        self,
        state: _Run,
        invoice: Invoice,
        key: BookingKey,
        record: BookingRecord,
        draft: SalesEntryDraft,
        customer: uuid.UUID,
        digest: str,
    ) -> bool:
        """Try to change the booked entry; False when Exact refuses (then: reverse)."""
        if record.exact_id is None:
            return False
        entry_id = uuid.UUID(record.exact_id)
        lines = state.session.sales_lines(draft)
        self.store.record_intent(
            key,
            content_hash=digest,
            your_ref=record.your_ref,
            journal=record.journal,
            now=self.clock.now(),
            extra={
                "op": "update",
                "customer": str(customer),
                "booked_id": record.exact_id,
                "booked_hash": record.content_hash or "",
            },
        )
        header: dict[str, Any] = {}
        if draft.payment_condition is not None:
            header["payment_condition"] = draft.payment_condition
        try:
            self.exact.sales_entries.update(
                entry_id,
                customer=customer,
                entry_date=draft.entry_date,
                reporting_year=draft.reporting_year,
                reporting_period=draft.reporting_period,
                description=draft.description,
                due_date=draft.due_date,
                payment_reference=draft.payment_reference,
                **header,
            )
            self.exact.sales_entries.replace_lines(entry_id, lines)
        except (RateLimitError, ServiceUnavailableError):
            raise
        except APIError as exc:
            log.info(
                "pipeline %s: Exact refused to change entry %s (%s); reversing instead",
                self.name,
                entry_id,
                exc,
            )
            # Nothing in the entry changed (a refused PUT or line POST changes nothing;
            # a line replacement adds before it deletes): the entry is as it was.
            self.store.mark_booked(
                key,
                exact_id=entry_id,
                entry_number=record.entry_number,
                content_hash=record.content_hash,
                now=self.clock.now(),
            )
            return False
        self.store.mark_booked(
            key,
            exact_id=entry_id,
            entry_number=record.entry_number,
            content_hash=digest,
            now=self.clock.now(),
        )
        state.add(
            RecordResult(
                invoice.source_id,
                Action.UPDATED,
                label=_label(invoice),
                source=invoice.source,
                exact_id=str(entry_id),
                entry_number=record.entry_number,
                amount=draft.total_incl_vat,
                draft=draft,
            )
        )
        return True

    def _reverse(
        self,
        state: _Run,
        invoice: Invoice,
        key: BookingKey,
        record: BookingRecord,
        *,
        reason: str,
    ) -> _Reversal | None:
        """Cancel the booked entry with a reversing entry dated today (None in a dry run)."""
        if record.exact_id is None or record.journal is None:
            raise ExactBridgeError(
                f"invoice {_label(invoice)}: the booked entry's id is unknown, cannot reverse"
            )
        if state.dry_run:
            return None
        version = _version(record)
        base = record.your_ref or invoice.number
        if version > 1 and base.endswith(f"-V{version}"):
            base = base[: -len(f"-V{version}")]
        reversal_ref = f"{base}-R{version}"
        reference = state.session.reference()
        today = state.now.date()
        period = reference.period_for(today)
        if period is None or not period.is_open_for(record.journal):
            period = reference.next_open_period(today, record.journal)
        if period is None:
            raise MappingError(
                f"no open financial period on or after {today} for the reversing entry",
                record_id=invoice.source_id,
                field="entry_date",
                policy="PeriodPolicy",
                value=str(today),
                source=invoice.source,
                fix=f"open or create a financial period from {today} on in Exact",
            )
        entry_date = max(today, period.start)
        customer_text = record.extra.get("customer")
        lines = self.exact.sales_entries.children(uuid.UUID(record.exact_id), "SalesEntryLines")
        if customer_text is None:
            booked = self.exact.sales_entries.get(uuid.UUID(record.exact_id))
            customer_text = str(booked.customer)
        body = state.session.reversal_entry(
            lines,
            customer=uuid.UUID(customer_text),
            journal=record.journal,
            your_ref=reversal_ref,
            entry_date=entry_date,
            period=period,
            description=f"Reversal of {base}: {reason}"[:100],
        )
        self.store.record_intent(
            key,
            content_hash=record.content_hash,
            your_ref=reversal_ref,
            journal=record.journal,
            now=self.clock.now(),
            extra={
                "op": "reverse",
                "version": str(version),
                "booked_id": record.exact_id,
                "booked_hash": record.content_hash or "",
            },
        )
        try:
            entry = self.exact.sales_entries.create(body)
        except APIError:
            # Refused (a rate limit included): no reversal exists, the entry stands.
            self._restore(key, self.store.get(key) or record)
            raise
        self.store.mark_reversed(
            key, now=self.clock.now(), extra={"reversal_id": str(entry.entry_id)}
        )
        amount = state.session.entry_gross(body.lines)
        return _Reversal(
            period,
            None if entry.entry_id is None else str(entry.entry_id),
            entry.entry_number,
            amount,
        )

    def _deleted(
        self, state: _Run, invoice: Invoice, key: BookingKey, record: BookingRecord | None
    ) -> None:
        status = record.status if record is not None else None
        if status is BookingStatus.BOOKED and record is not None:
            if record.extra.get("summary"):
                # Reversing the summary entry would cancel other invoices' revenue too.
                self._report_ignored(
                    state,
                    invoice,
                    "deleted or cancelled after it was booked in summary entry "
                    f"{record.extra['summary']}; correct it in Exact by hand",
                )
                return
            if self.settings.on_delete is DeletePolicy.IGNORE:
                self._report_ignored(
                    state, invoice, "deleted or cancelled in the source (on_delete=ignore)"
                )
                return
            reversal = self._reverse(state, invoice, key, record, reason="cancelled in the source")
            if not state.dry_run:
                self.store.mark_deleted(key, now=self.clock.now())
            state.add(
                RecordResult(
                    invoice.source_id,
                    Action.REVERSED,
                    label=_label(invoice),
                    source=invoice.source,
                    exact_id=reversal.entry_id if reversal else record.exact_id,
                    entry_number=reversal.entry_number if reversal else None,
                    amount=reversal.amount if reversal else None,
                    reason="deleted or cancelled in the source: reversed by this entry",
                )
            )
            return
        if status in (BookingStatus.DELETED, BookingStatus.REVERSED):
            state.unchanged += 1
            return
        state.add(
            RecordResult(
                invoice.source_id,
                Action.SKIPPED,
                label=_label(invoice),
                source=invoice.source,
                reason="deleted or cancelled in the source before it was booked",
            )
        )
        if not state.dry_run:
            self.store.mark_deleted(key, now=self.clock.now())

    def _report_ignored(self, state: _Run, invoice: Invoice, reason: str) -> None:
        state.add(
            RecordResult(
                invoice.source_id,
                Action.SKIPPED,
                label=_label(invoice),
                source=invoice.source,
                reason=reason,
            )
        )

    # -- summary booking ---------------------------------------------------------------------

    def _process_summary(
        self,
        state: _Run,
        invoices: Sequence[Invoice],
        records: dict[BookingKey, BookingRecord],
        cutoff: dt.date | None,
    ) -> None:
        """Book the invoices not booked yet as summary entries (per day or per period)."""
        todo: list[Invoice] = []
        for invoice in invoices:
            key = self._key(invoice.source_id)
            record = records.get(key)
            try:
                if record is not None and record.status is BookingStatus.PENDING:
                    record = self._resolve_pending(state, invoice, key, record)
                if invoice.deleted or invoice.status is InvoiceStatus.CANCELLED:
                    self._deleted(state, invoice, key, record)
                    continue
                if record is not None and record.status is BookingStatus.BOOKED:
                    if record.content_hash == content_hash(invoice):
                        state.unchanged += 1
                    else:
                        self._changed(state, invoice, key, record, content_hash(invoice))
                    continue
                if invoice.status is InvoiceStatus.DRAFT:
                    self._skip(
                        state, invoice, key, record, "a draft (concept) invoice is never booked"
                    )
                    continue
                if self._held_back(state, invoice):
                    continue
                if cutoff is not None and invoice.invoice_date < cutoff:
                    self._skip(
                        state, invoice, key, record, f"dated before {cutoff} (sync-from/backfill)"
                    )
                    continue
            except ExactBridgeError as exc:
                stop = stop_for(exc)
                if stop is not None:
                    raise stop from exc
                state.add(self._failed(invoice, str(exc)))
                continue
            todo.append(invoice)
        if not todo:
            return
        by_id = {invoice.source_id: invoice for invoice in todo}
        result = summarize(
            todo, state.session.reference(), self.config, export_date=state.now.date()
        )
        for error in result.failed:
            failed = by_id.get(error.record_id)
            if failed is not None:
                self._one_failure(state, failed, str(error))
        for source_id in result.nothing_to_book:
            invoice = by_id[source_id]
            self._skip(state, invoice, self._key(source_id), None, "its day adds up to nothing")
        for draft in result.entries:
            members = [by_id[source_id] for source_id in draft.source_ids if source_id in by_id]
            try:
                self._book_summary(state, draft, members)
            except ExactBridgeError as exc:
                stop = stop_for(exc)
                if stop is not None:
                    raise stop from exc
                for invoice in members:
                    if isinstance(exc, OutcomeUnknownError):
                        reason = f"outcome unknown, resolved next run: {exc}"
                        state.add(self._failed(invoice, reason))
                    else:
                        self._one_failure(state, invoice, str(exc))

    def _one_failure(self, state: _Run, invoice: Invoice, reason: str) -> None:
        state.add(self._failed(invoice, reason))
        if not state.dry_run:
            self.store.mark_failed(self._key(invoice.source_id), error=reason, now=self.clock.now())

    def _book_summary(
        self, state: _Run, draft: SalesEntryDraft, members: Sequence[Invoice]
    ) -> None:
        ids = sorted(invoice.source_id for invoice in members)
        tag = hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:6]
        your_ref = f"{draft.your_ref}-{tag}"
        customer = uuid.UUID(draft.debtor.account_id) if draft.debtor.account_id else None
        if customer is None:
            raise MappingError(
                "the collective debtor does not exist in the division",
                record_id=draft.your_ref,
                field="summary.collective_debtor_code",
                policy="SummaryPolicy",
                value=draft.debtor.code,
                fix=f"create customer {draft.debtor.code!r} in Exact, or set "
                "summary.collective_debtor_code to an existing customer's code",
            )
        share = {invoice.source_id: invoice for invoice in members}
        if state.dry_run:
            for source_id in ids:
                invoice = share[source_id]
                state.add(
                    RecordResult(
                        source_id,
                        Action.BOOKED,
                        label=_label(invoice),
                        source=invoice.source,
                        reason=f"in summary entry {your_ref}",
                        draft=draft,
                    )
                )
            return
        now = self.clock.now()
        for source_id in ids:
            self.store.record_intent(
                self._key(source_id),
                content_hash=content_hash(share[source_id]),
                your_ref=your_ref,
                journal=draft.journal,
                now=now,
                extra={"op": "create", "summary": your_ref},
            )
        entry = self.exact.sales_entries.create(
            state.session.sales_entry(draft, customer, your_ref=your_ref)
        )
        if entry.entry_id is None:  # pragma: no cover - Exact always answers with the id
            raise ExactBridgeError(f"Exact booked summary {your_ref} without an entry id")
        for source_id in ids:
            self.store.mark_booked(
                self._key(source_id),
                exact_id=entry.entry_id,
                entry_number=entry.entry_number,
                content_hash=content_hash(share[source_id]),
                now=self.clock.now(),
            )
            invoice = share[source_id]
            state.add(
                RecordResult(
                    source_id,
                    Action.BOOKED,
                    label=_label(invoice),
                    source=invoice.source,
                    exact_id=str(entry.entry_id),
                    entry_number=entry.entry_number,
                    reason=f"in summary entry {your_ref}",
                    draft=draft,
                )
            )


def _latest(invoices: Iterable[Invoice]) -> list[Invoice]:
    """One invoice per source id (the last one read wins), in reading order."""
    by_id: dict[str, Invoice] = {}
    for invoice in invoices:
        by_id.pop(invoice.source_id, None)
        by_id[invoice.source_id] = invoice
    return list(by_id.values())


def _version(record: BookingRecord | None) -> int:
    if record is None:
        return 1
    try:
        return max(1, int(record.extra.get("version", "1")))
    except ValueError:
        return 1


def _versioned(your_ref: str, version: int) -> str:
    return your_ref if version == 1 else f"{your_ref}-V{version}"


def _account_hash(draft: AccountDraft) -> str:
    return fingerprint(attrs.asdict(draft))
