"""The payout pipeline: Pay. payouts become Exact bank entries with payment matching.

:class:`PayoutPipeline` composes a :class:`PayoutSource` (:class:`PayPayouts` reads
Pay. settlements), a :class:`~exactbridge.mapping.BookingConfig` (its ``payments``
policy), an :class:`~exactbridge.exact.ExactClient` and a
:class:`~exactbridge.sync.StateStore`. One :meth:`~PayoutPipeline.run`:

1. reads the payouts settled since the last run (plus the ones to retry);
2. compares each with what the store remembers (content hash, status);
3. reads the division's GL accounts, journals and periods, and its open receivables
   (``bulk/Cashflow/Receivables``, 1,000 per call), once, and only if a payout must
   be booked;
4. per payout: resolves an earlier write of unknown outcome by its natural key (see
   below), matches its payments to open receivables with
   :func:`~exactbridge.mapping.match_payout` (100 % matches only), writes the intent
   and books one ``financialtransaction/BankEntries`` POST with every line inline;
5. returns a :class:`~exactbridge.sync.SyncReport` and keeps it in the run history.

**Natural key.** A bank entry has no free-text header field Exact lets us filter on,
so the key lives on the entry's transfer line (the line that books the payout on the
transfer account): its ``Description`` is ``"Payout <payout id>"``
(:func:`payout_marker`), unique per payout. A booking whose answer was lost is found
again, before anything is written again, with one ``financialtransaction/TransactionLines``
read filtered on the bank journal (``JournalCode``) and that ``Description`` (the
client has no ``BankEntryLines`` read service; the ledger lines carry the statement
line's description). A client-supplied ``EntryID`` would be cheaper, but whether
Exact honours it on bank entries is not documented.

**Receivables.** A receivable matched by one payout is not offered to the next
payout of the same run (Exact closes it only when the entry is booked, and the list
is read once per run). ``receivables="list"`` reads ``read/financial/ReceivablesList``
instead (60 rows per call, but the *open* amount of partly paid invoices, where
``cashflow/Receivables`` carries the term's amount).

Failure semantics are those of :class:`~exactbridge.sync.InvoicePipeline`: one bad
payout never stops a run (FAILED with its reason, retried next run), Exact's daily
limit ends the run with status STOPPED, a lost answer leaves the payout PENDING.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

import attrs

from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import (
    APIError,
    ConfigurationError,
    ExactBridgeError,
    RateLimitError,
    SourceError,
    SourceRecordError,
)
from exactbridge.exact import ExactClient, P
from exactbridge.mapping import (
    BankEntryDraft,
    BankLineKind,
    BookingConfig,
    OpenReceivable,
    PayoutMatch,
    ReceiptSign,
    UnmatchedPayments,
    match_payout,
)
from exactbridge.records import Payout
from exactbridge.sources.paynl import (
    SOURCE as PAY_SOURCE,
)
from exactbridge.sources.paynl import (
    PayClient,
    Settlement,
    SettlementBundle,
    settlement_to_payout,
    split_by_revenue_group,
)
from exactbridge.sync._exact_ops import DivisionSession, new_account
from exactbridge.sync._pipeline import PipelineBase, RunState, fingerprint
from exactbridge.sync.report import Action, RecordResult, SyncReport
from exactbridge.sync.settings import SyncSettings
from exactbridge.sync.state import (
    BookingKey,
    BookingRecord,
    BookingStatus,
    StateStore,
)

__all__ = [
    "PayPayouts",
    "PayoutBatch",
    "PayoutPipeline",
    "PayoutSource",
    "payout_hash",
    "payout_marker",
]

log = logging.getLogger("exactbridge.sync")

_CURSOR = "source"
#: Exact's ``BankEntryLines.Description`` holds 60 characters (longer text is cut).
_DESCRIPTION_LENGTH = 60
_RECEIVABLE_FIELDS = (
    "ID",
    "Account",
    "AccountCode",
    "AmountFC",
    "Currency",
    "InvoiceNumber",
    "EntryNumber",
    "YourRef",
    "Description",
    "Status",
)

InvoiceReference = Literal["reference", "description", "order_id"]
ReceivablesRead = Literal["bulk", "list"]


# -- sources ---------------------------------------------------------------------------------


def _payout_tuple(values: Iterable[Payout]) -> tuple[Payout, ...]:
    return tuple(values)


def _error_tuple(values: Iterable[SourceError]) -> tuple[SourceError, ...]:
    return tuple(values)


@attrs.frozen
class PayoutBatch:
    """What one read of a payout source returned.

    ``payouts`` are the canonical records, ``errors`` the ones that could not be read
    (each names its record), ``cursor`` the value to pass to the next ``fetch``.
    """

    payouts: tuple[Payout, ...] = attrs.field(default=(), converter=_payout_tuple)
    errors: tuple[SourceError, ...] = attrs.field(default=(), converter=_error_tuple)
    cursor: str | None = None


@runtime_checkable
class PayoutSource(Protocol):
    """A source of canonical payouts for :class:`PayoutPipeline`.

    ``source`` is the payment provider's name (``"paynl"``), ``tenant`` the merchant
    in it; both go into every booking key. ``fetch(cursor)`` returns the payouts
    settled since ``cursor`` (a string the source chose last time, ``None`` on the
    first run) and the next cursor; ``fetch_ids`` reads payouts again by id (the ones
    the pipeline must retry).
    """

    source: str
    tenant: str

    def fetch(self, cursor: str | None) -> PayoutBatch:
        """Payouts settled since ``cursor`` (everything when ``None``)."""
        ...

    def fetch_ids(self, source_ids: Sequence[str]) -> PayoutBatch:
        """These payouts again (ids that no longer exist are simply absent)."""
        ...


def _parse_cursor(cursor: str | None) -> dt.date | None:
    if cursor is None:
        return None
    try:
        return dt.date.fromisoformat(cursor)
    except ValueError:
        raise ConfigurationError(
            f"got {cursor!r}", key="cursor", expected="a settlement date such as 2026-01-31"
        ) from None


def _settlement_code(source_id: str) -> str:
    return source_id.split(":", 1)[0]


class PayPayouts:
    """Pay. settlements as a :class:`PayoutSource`.

    Each settlement (with the records of its clearings) becomes one payout
    (``source_id`` = settlement code); with ``per_revenue_group=True`` one payout per
    revenue group (``"<code>:<CT-code>"``, see
    :func:`~exactbridge.sources.paynl.split_by_revenue_group`). ``invoice_reference``
    names the transaction field that carries the invoice number (Pay.'s merchant
    ``reference`` by default). ``settled_from`` bounds the first read; later reads
    start at the last settlement date seen (that day is read again: settlements
    already booked cost no Exact call). ``tenant`` defaults to the token code.

    Example, on the fakes::

        pay = PayClient(fake.token_code, fake.api_token, transport=fake.transport())
        batch = PayPayouts(pay).fetch(None)
    """

    source = PAY_SOURCE

    def __init__(
        self,
        client: PayClient,
        *,
        tenant: str | None = None,
        per_revenue_group: bool = False,
        invoice_reference: InvoiceReference = "reference",
        settled_from: dt.date | None = None,
    ) -> None:
        if invoice_reference not in ("reference", "description", "order_id"):
            raise ConfigurationError(
                f"got {invoice_reference!r}",
                key="invoice_reference",
                expected="'reference', 'description' or 'order_id'",
            )
        self.client = client
        self.tenant = tenant or client.token_code
        self.per_revenue_group = per_revenue_group
        self.invoice_reference: InvoiceReference = invoice_reference
        self.settled_from = settled_from

    def __repr__(self) -> str:
        return f"<PayPayouts tenant={self.tenant!r}>"

    def _adapt(self, bundle: SettlementBundle) -> tuple[Payout, ...]:
        if self.per_revenue_group:
            return split_by_revenue_group(bundle, invoice_reference=self.invoice_reference)
        payout = settlement_to_payout(bundle, invoice_reference=self.invoice_reference)
        return () if payout is None else (payout,)

    def _errors_for(self, settlement: Settlement, exc: SourceRecordError) -> list[SourceError]:
        """A settlement that cannot be adapted fails as the payout(s) it would give."""
        if not self.per_revenue_group:
            return [exc]
        groups = sorted(
            {
                line.turnover_group.code if line.turnover_group is not None else "-"
                for clearing in settlement.clearings
                for line in clearing.lines
            }
            or {"-"}
        )
        return [
            SourceRecordError(
                f"settlement {settlement.code} cannot be booked",
                source=PAY_SOURCE,
                record_id=f"{settlement.code}:{group}",
                field=exc.field,
                expected=exc.expected,
                value=exc.value,
            )
            for group in groups
        ]

    def _read(
        self, bundles: Iterable[SettlementBundle]
    ) -> tuple[list[Payout], list[SourceError], dt.date | None]:
        payouts: list[Payout] = []
        errors: list[SourceError] = []
        latest: dt.date | None = None
        for bundle in bundles:
            day = bundle.settlement.settlement_date
            latest = day if latest is None or day > latest else latest
            try:
                payouts.extend(self._adapt(bundle))
            except SourceRecordError as exc:
                errors.extend(self._errors_for(bundle.settlement, exc))
        return payouts, errors, latest

    def fetch(self, cursor: str | None) -> PayoutBatch:
        """Settlements from the cursor's date (or ``settled_from``) on, as payouts."""
        start = _parse_cursor(cursor) or self.settled_from
        listing = self.client.list_settlement_bundles(settled_from=start)
        payouts, errors, latest = self._read(listing)
        errors.extend(listing.errors)
        last = latest if latest is not None else start
        return PayoutBatch(payouts, errors, last.isoformat() if last is not None else cursor)

    def fetch_ids(self, source_ids: Sequence[str]) -> PayoutBatch:
        """These payouts again: the settlement list, and the records of the wanted ones.

        Pay. cannot look a settlement up by its code, so this lists the settlements
        (10 per call) and reads the records of the wanted settlements only.
        """
        wanted = set(source_ids)
        codes = {_settlement_code(source_id) for source_id in wanted}
        if not codes:
            return PayoutBatch()
        settlements = self.client.list_settlements()

        def bundles() -> Iterable[SettlementBundle]:
            for settlement in settlements:
                if settlement.code not in codes:
                    continue
                records = self.client.list_clearing_records(settlement.code)
                good = tuple(records)
                yield SettlementBundle(settlement, good, tuple(records.errors))

        payouts, errors, _ = self._read(bundles())
        return PayoutBatch(
            [payout for payout in payouts if payout.source_id in wanted],
            [error for error in errors if getattr(error, "record_id", None) in wanted],
            None,
        )


# -- the pipeline ----------------------------------------------------------------------------


def payout_hash(payout: Payout) -> str:
    """A fingerprint of what a payout books, kept in the store to notice changes."""
    return fingerprint(attrs.asdict(payout))


def payout_marker(payout: Payout) -> str:
    """The natural key of a payout's bank entry: its transfer line's ``Description``.

    ``"Payout <payout id>"``; an id too long for Exact's 60 characters is replaced by
    a digest of it, so the text Exact stores is exactly the text looked for.
    """
    text = f"Payout {payout.source_id}"
    if len(text) <= _DESCRIPTION_LENGTH:
        return text
    digest = hashlib.sha256(payout.source_id.encode("utf-8")).hexdigest()[:24]
    return f"Payout #{digest}"


def _label(payout: Payout) -> str:
    return payout.source_id


@attrs.define
class _PayoutState(RunState):
    """One payout run: the shared state plus the open receivables still unmatched,
    and the relations created for payers (by name)."""

    receivables: list[OpenReceivable] | None = None
    relations: dict[str, str] = attrs.field(factory=dict)


class PayoutPipeline(PipelineBase[_PayoutState]):
    """Book a payment provider's payouts into one Exact division as bank entries, once each.

    ``settings`` (:class:`~exactbridge.sync.SyncSettings`): ``sync_from`` and
    ``backfill`` ("export existing Pay. payouts") decide which payouts are booked by
    their date; the change, delete and PDF options do not apply (a booked bank entry
    is never changed: a payout that changes in the source afterwards is reported as
    skipped, to be corrected by hand). ``receivables`` picks the open-items read
    (``"bulk"``: ``bulk/Cashflow/Receivables``, 1,000 rows per call; ``"list"``:
    ``read/financial/ReceivablesList``). ``name``, ``clock``, ``on_failure`` and
    ``progress`` are as for :class:`~exactbridge.sync.InvoicePipeline`.

    Example, on the fakes::

        pipeline = PayoutPipeline(PayPayouts(pay_client), exact_client, config, store)
        report = pipeline.run()
        for row in report.booked:
            print(row.label, row.amount, row.reason)  # "3 payments matched, 0 unmatched"
    """

    kind = "payout"

    def __init__(
        self,
        source: PayoutSource,
        exact: ExactClient,
        config: BookingConfig,
        store: StateStore,
        *,
        settings: SyncSettings | None = None,
        name: str | None = None,
        clock: Clock | None = None,
        receivables: ReceivablesRead = "bulk",
        on_failure: Callable[[SyncReport], object] | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> None:
        if not isinstance(source, PayoutSource):
            raise ConfigurationError(f"got {source!r}", key="source", expected="a PayoutSource")
        if not isinstance(config, BookingConfig):
            raise ConfigurationError(f"got {config!r}", key="config", expected="a BookingConfig")
        if receivables not in ("bulk", "list"):
            raise ConfigurationError(
                f"got {receivables!r}", key="receivables", expected="'bulk' or 'list'"
            )
        self.source = source
        self.exact = exact
        self.config = config
        self.store = store
        self.settings = settings or SyncSettings()
        self.name = name or f"{source.source}-{source.tenant}-payouts"
        self.clock = clock or SystemClock()
        self.receivables: ReceivablesRead = receivables
        self.on_failure = on_failure
        self.progress = progress

    def __repr__(self) -> str:
        return f"<PayoutPipeline {self.name!r}>"

    # -- public ------------------------------------------------------------------------

    def run(self) -> SyncReport:
        """Run the pipeline once and return its report (also kept in the run history)."""
        return self._execute(dry_run=False, only_retry=False)

    def preview(self) -> SyncReport:
        """Dry run: the same matching and drafts, without writing to Exact or the store.

        Exact is still read (reference data, open receivables, lookups of earlier
        writes); each BOOKED row carries the bank entry draft (``result.draft``).
        """
        return self._execute(dry_run=True, only_retry=False)

    def retry(self) -> SyncReport:
        """Run only the payouts that failed or stayed unresolved last time."""
        return self._execute(dry_run=False, only_retry=True)

    # -- the run -------------------------------------------------------------------------

    def _new_state(self, dry_run: bool, now: dt.datetime) -> _PayoutState:
        # Accounts are only needed to find the standard debtor of unmatched payments;
        # matched payments carry the customer's id from the receivable.
        standard = self.config.payments.unmatched in (
            UnmatchedPayments.STANDARD_DEBTOR,
            UnmatchedPayments.NEW_RELATION,
        )
        session = DivisionSession(self.exact, with_accounts=standard)
        return _PayoutState(session, dry_run=dry_run, now=now)

    def _key(self, source_id: str) -> BookingKey:
        return BookingKey(self.source.source, self.source.tenant or "-", source_id, "payout")

    def _work(self, state: _PayoutState, only_retry: bool) -> None:
        batch = self._read(only_retry)
        self._record_source_errors(state, batch.errors)
        payouts = _latest(batch.payouts)
        keys = [self._key(payout.source_id) for payout in payouts]
        records = self.store.get_many(keys)
        cutoff = self._cutoff(self.settings, state)
        total = len(payouts)
        for done, (payout, key) in enumerate(zip(payouts, keys, strict=True), start=1):
            self._one(state, payout, key, records.get(key), cutoff)
            self._tick(state, done, total)
        if not state.dry_run and not only_retry and self._saves_cursor(self.settings):
            self.store.set_cursor(self.name, _CURSOR, batch.cursor, now=self.clock.now())

    def _read(self, only_retry: bool) -> PayoutBatch:
        source = self.source
        tenant = source.tenant or "-"
        redo = [
            record.key.source_id
            for record in (
                *self.store.failed(source.source, tenant, "payout"),
                *self.store.pending(source.source, tenant, "payout"),
            )
        ]
        if only_retry:
            return source.fetch_ids(redo) if redo else PayoutBatch()
        batch = source.fetch(self.store.get_cursor(self.name, _CURSOR))
        seen = {payout.source_id for payout in batch.payouts}
        seen.update(str(getattr(error, "record_id", "")) for error in batch.errors)
        missing = [source_id for source_id in redo if source_id not in seen]
        if not missing:
            return batch
        extra = source.fetch_ids(missing)
        return PayoutBatch(
            (*batch.payouts, *extra.payouts), (*batch.errors, *extra.errors), batch.cursor
        )

    def _record_source_errors(self, state: RunState, errors: Iterable[SourceError]) -> None:
        for error in errors:
            record_id = error.record_id if isinstance(error, SourceRecordError) else None
            state.add(
                RecordResult(
                    record_id or "<source>",
                    Action.FAILED,
                    label=record_id or "",
                    source=self.source.source,
                    reason=str(error),
                )
            )
            if not state.dry_run and record_id:
                key = self._key(record_id)
                current = self.store.get(key)
                if current is None or current.status not in (
                    BookingStatus.BOOKED,
                    BookingStatus.PENDING,
                ):
                    self.store.mark_failed(key, error=str(error), now=self.clock.now())

    def _one(
        self,
        state: _PayoutState,
        payout: Payout,
        key: BookingKey,
        record: BookingRecord | None,
        cutoff: dt.date | None,
    ) -> None:
        def step() -> None:
            self._decide(state, payout, key, record, cutoff)

        def failed(reason: str, unknown: bool) -> None:
            self._failed(state, payout, key, reason, unknown)

        self._guarded(state, step, failed)

    def _failed(
        self, state: _PayoutState, payout: Payout, key: BookingKey, reason: str, unknown: bool
    ) -> None:
        state.add(
            RecordResult(
                payout.source_id,
                Action.FAILED,
                label=_label(payout),
                source=payout.source,
                reason=reason,
            )
        )
        log.warning("pipeline %s: payout %s failed: %s", self.name, _label(payout), reason)
        if state.dry_run or unknown:
            # A lost answer leaves the record PENDING: the next run looks it up first.
            return
        current = self.store.get(key)
        # A PENDING record stays PENDING (its entry may be in Exact: only a lookup
        # by the natural key may settle it); a BOOKED one stays booked.
        if current is None or current.status in (BookingStatus.FAILED, BookingStatus.SKIPPED):
            self.store.mark_failed(key, error=reason, now=self.clock.now())

    # -- deciding --------------------------------------------------------------------------

    def _policy_fingerprint(self, cutoff: dt.date | None) -> str:
        """What a skip depended on: when it changes, skipped payouts are looked at again."""
        payments = self.config.payments
        return fingerprint({"groups": sorted(payments.revenue_groups), "cutoff": str(cutoff)})

    def _decide(
        self,
        state: _PayoutState,
        payout: Payout,
        key: BookingKey,
        record: BookingRecord | None,
        cutoff: dt.date | None,
    ) -> None:
        digest = payout_hash(payout)
        if record is not None and record.status is BookingStatus.PENDING:
            record = self._resolve_pending(state, payout, key, record)
        if record is not None and record.status is BookingStatus.BOOKED:
            if record.content_hash == digest:
                state.unchanged += 1
                return
            state.add(
                RecordResult(
                    payout.source_id,
                    Action.SKIPPED,
                    label=_label(payout),
                    source=payout.source,
                    exact_id=record.exact_id,
                    entry_number=record.entry_number,
                    reason="changed in the source after it was booked; a bank entry is "
                    "never changed by exactbridge, correct it in Exact by hand",
                )
            )
            return
        policy = self._policy_fingerprint(cutoff)
        if (
            record is not None
            and record.status is BookingStatus.SKIPPED
            and record.extra.get("hash") == digest
            and record.extra.get("policy") == policy
        ):
            state.unchanged += 1
            return
        later = self._beyond_until(self.settings, payout.date, "settled")
        if later is not None:
            state.add(
                RecordResult(
                    payout.source_id,
                    Action.SKIPPED,
                    label=_label(payout),
                    source=payout.source,
                    reason=later,
                )
            )
            return
        if cutoff is not None and payout.date < cutoff:
            why = (
                f"settled {payout.date}, before the sync-from date {cutoff}"
                if cutoff == self.settings.sync_from
                else f"settled {payout.date}, before the pipeline's first run ({cutoff}) "
                "and backfill is off"
            )
            self._skip(state, payout, key, why, digest, policy)
            return
        match = match_payout(
            payout, self._open_receivables(state), state.session.reference(), self.config
        )
        if match.draft is None:
            self._skip(state, payout, key, match.skipped or "filtered out", digest, policy)
            return
        self._book(state, payout, key, match, digest)

    def _skip(
        self,
        state: _PayoutState,
        payout: Payout,
        key: BookingKey,
        reason: str,
        digest: str,
        policy: str,
    ) -> None:
        state.add(
            RecordResult(
                payout.source_id,
                Action.SKIPPED,
                label=_label(payout),
                source=payout.source,
                amount=payout.amount,
                reason=reason,
            )
        )
        if not state.dry_run:
            self.store.mark_skipped(
                key,
                now=self.clock.now(),
                reason=reason,
                extra={"hash": digest, "policy": policy},
            )

    def _resolve_pending(
        self, state: _PayoutState, payout: Payout, key: BookingKey, record: BookingRecord
    ) -> BookingRecord:
        """Settle an intent whose outcome is unknown by looking the entry up in Exact."""
        marker = record.your_ref or payout_marker(payout)
        where = P("Description") == marker
        if record.journal:
            where = (P("JournalCode") == record.journal) & where
        found = self.exact.transaction_lines.first(filter=where, select=("EntryID", "EntryNumber"))
        if found is None or found.entry_id is None:
            if state.dry_run:
                return record
            # Nothing landed: the earlier attempt counts as failed and is written again.
            return self.store.mark_failed(
                key, error="the earlier write did not reach Exact", now=self.clock.now()
            )
        if state.dry_run:
            return attrs.evolve(record, status=BookingStatus.BOOKED, exact_id=str(found.entry_id))
        return self.store.mark_booked(
            key,
            exact_id=found.entry_id,
            entry_number=found.entry_number,
            content_hash=record.content_hash,
            now=self.clock.now(),
        )

    # -- receivables ---------------------------------------------------------------------

    def _open_receivables(self, state: _PayoutState) -> list[OpenReceivable]:
        """The division's open receivables, read once per run (minus the ones used)."""
        if state.receivables is None:
            state.receivables = list(self._read_receivables())
        return state.receivables

    def _read_receivables(self) -> Iterable[OpenReceivable]:
        if self.receivables == "list":
            for item in self.exact.receivables_list.iterate():
                if item.account_id is None or item.amount is None:
                    continue
                yield OpenReceivable(
                    str(item.account_id),
                    item.amount,
                    invoice_number=item.invoice_number,
                    your_ref=item.your_ref,
                    account_code=item.account_code,
                    entry_number=item.entry_number,
                    currency=item.currency_code or "EUR",
                    description=item.description or "",
                    id=str(item.id) if item.id is not None else None,
                )
            return
        rows = self.exact.receivables.iter_bulk(select=_RECEIVABLE_FIELDS, filter=P("Status") == 20)
        for row in rows:
            if row.account is None or row.amount_fc is None:
                continue
            yield OpenReceivable(
                str(row.account),
                row.amount_fc,
                invoice_number=row.invoice_number,
                your_ref=row.your_ref,
                account_code=row.account_code,
                entry_number=row.entry_number,
                currency=row.currency or "EUR",
                description=row.description or "",
                id=str(row.id) if row.id is not None else None,
            )

    def _use_receivables(self, state: _PayoutState, draft: BankEntryDraft) -> int:
        """Take the receivables ``draft`` pays out of this run's list; return how many."""
        open_items = state.receivables
        if open_items is None:
            return 0
        sign = (
            Decimal(1) if self.config.payments.receipt_sign is ReceiptSign.POSITIVE else Decimal(-1)
        )
        used = 0
        for line in draft.lines:
            if line.kind is not BankLineKind.PAYMENT:
                continue
            for index, item in enumerate(open_items):
                if (
                    item.account_id == line.account_id
                    and item.invoice_number == line.our_ref
                    and item.amount == sign * line.amount
                    and item.currency == draft.currency
                ):
                    del open_items[index]
                    used += 1
                    break
        return used

    # -- booking -----------------------------------------------------------------------

    def _create_relations(self, state: _PayoutState, draft: BankEntryDraft) -> BankEntryDraft:
        """Create the relations the draft's lines ask for (one per name per run).

        A relation created before a booking that then fails is found by its name on
        the next run, so it is never created twice.
        """
        if not any(line.new_account is not None for line in draft.lines):
            return draft
        lines = []
        for line in draft.lines:
            wanted = line.new_account
            if wanted is not None:
                created = state.relations.get(wanted.name)
                if created is None:
                    account = self.exact.accounts.create(new_account(wanted))
                    created = str(account.id)
                    state.relations[wanted.name] = created
                    state.accounts_created += 1
                    log.info(
                        "pipeline %s: created relation %r for a payment", self.name, wanted.name
                    )
                line = attrs.evolve(line, account_id=created, new_account=None)
            lines.append(line)
        return attrs.evolve(draft, lines=tuple(lines))

    def _book(
        self,
        state: _PayoutState,
        payout: Payout,
        key: BookingKey,
        match: PayoutMatch,
        digest: str,
    ) -> None:
        assert match.draft is not None
        marker = payout_marker(payout)
        draft = attrs.evolve(
            match.draft,
            description=marker,
            transfer_line=attrs.evolve(match.draft.transfer_line, description=marker),
        )
        if not state.dry_run:
            draft = self._create_relations(state, draft)
        body = state.session.bank_entry(draft, record=payout)
        # A receivable this payout pays is never offered to a later payout of the run,
        # whatever becomes of this booking (a lost answer may still have booked it).
        matched = self._use_receivables(state, draft)
        unmatched = len(match.unmatched)
        reason = f"{matched} payment(s) matched, {unmatched} unmatched"
        if match.unmatched:
            details = "; ".join(
                f"{item.reference or item.payment_id}: {item.detail}"
                for item in match.unmatched[:3]
            )
            more = ", ..." if unmatched > 3 else ""
            reason = f"{reason} ({details}{more})"
        if state.dry_run:
            state.add(
                RecordResult(
                    payout.source_id,
                    Action.BOOKED,
                    label=_label(payout),
                    source=payout.source,
                    amount=payout.amount,
                    reason=reason,
                    draft=draft,
                )
            )
            return
        self.store.record_intent(
            key,
            content_hash=digest,
            your_ref=marker,
            journal=draft.journal_code,
            now=self.clock.now(),
            extra={"op": "create"},
        )
        try:
            entry = self.exact.bank_entries.create(body)
        except APIError as exc:
            if isinstance(exc, RateLimitError):
                raise
            # Exact answered with a refusal: nothing was written.
            self.store.mark_failed(key, error=str(exc), now=self.clock.now())
            raise
        if entry.entry_id is None:  # pragma: no cover - Exact always answers with the id
            raise ExactBridgeError(f"Exact booked payout {_label(payout)} without an entry id")
        self.store.mark_booked(
            key,
            exact_id=entry.entry_id,
            entry_number=entry.entry_number,
            content_hash=digest,
            now=self.clock.now(),
        )
        state.add(
            RecordResult(
                payout.source_id,
                Action.BOOKED,
                label=_label(payout),
                source=payout.source,
                exact_id=str(entry.entry_id),
                entry_number=entry.entry_number,
                amount=payout.amount,
                reason=reason,
                draft=draft,
            )
        )


def _latest(payouts: Iterable[Payout]) -> list[Payout]:
    """One payout per source id (the last one read wins), in reading order."""
    by_id: dict[str, Payout] = {}
    for payout in payouts:
        by_id.pop(payout.source_id, None)
        by_id[payout.source_id] = payout
    return list(by_id.values())
