"""The mandate pipeline: Club-assistent direct-debit mandates become Exact mandates.

Club-assistent collects membership fees by SEPA direct debit; its collection files
(pain.008) carry each member's mandate: id, signature date, IBAN, BIC, holder and
sequence type. For Exact Online to collect (the seed: "de incasso's ... via Exact
Online incasseren"), every mandate must exist there too. :class:`MandatePipeline`
reads the files through a :class:`MandateSource` (:class:`ClubassistentMandates`)
and, per mandate:

1. finds the member's customer account: the account the invoice pipeline created
   for the member (remembered in the state store), else the account whose code the
   debtor policy (:class:`~exactbridge.mapping.DebtorPolicy`) derives from the
   member number (what the invoice pipeline creates customers under);
2. makes sure the account has a bank account with the mandate's IBAN
   (``crm/BankAccounts``; natural key: account + IBAN), creating it when missing;
3. creates the direct-debit mandate (``cashflow/DirectDebitMandates``; natural key:
   ``Reference`` = the mandate id) unless one with that reference exists.

**Customers are never created here.** A mandate names only the account holder (often
a parent paying for a child, or a partner), not the member: a customer made from it
would carry the wrong name and no address. A mandate whose customer is not in Exact
yet fails with a clear reason and is retried on every run, so it is booked as soon as
the invoice pipeline has created the member's customer.

A booked mandate that changes in a later file is updated in place (a new IBAN gets
its bank account and the mandate is pointed at it; ``FRST`` -> ``RCUR`` clears
"first send"); a mandate moved to another member is reported, not changed.

Failure semantics are those of :class:`~exactbridge.sync.InvoicePipeline`: one bad
mandate never stops a run, the daily limit ends it with status STOPPED, an intent is
recorded before every Exact write and a write of unknown outcome is resolved by its
natural key before anything is written again.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, Union, runtime_checkable

import attrs

from exactbridge.clock import Clock, SystemClock
from exactbridge.codes import strip_code
from exactbridge.errors import (
    APIError,
    ConfigurationError,
    ExactBridgeError,
    MappingError,
    RateLimitError,
    SourceError,
)
from exactbridge.exact import (
    BankAccount,
    DirectDebitMandate,
    ExactClient,
    NewBankAccount,
    NewDirectDebitMandate,
    P,
)
from exactbridge.mapping import BookingConfig, KnownAccount, candidate_code
from exactbridge.records import Mandate, Party, SequenceType
from exactbridge.sources.clubassistent import (
    SOURCE as CLUB_SOURCE,
)
from exactbridge.sources.clubassistent import (
    ClubInvoice,
    CsvFormat,
    DirectDebit,
    InvoiceCsvReader,
    Pain008Reader,
    mandates_from_direct_debits,
)
from exactbridge.sync._exact_ops import DivisionSession
from exactbridge.sync._pipeline import PipelineBase, RunState, fingerprint
from exactbridge.sync.report import Action, RecordResult, SyncReport
from exactbridge.sync.state import BookingKey, BookingRecord, BookingStatus, StateStore

__all__ = [
    "ClubassistentMandates",
    "MandateBatch",
    "MandatePipeline",
    "MandateSource",
    "mandate_fields",
    "mandate_hash",
]

log = logging.getLogger("exactbridge.sync")

#: A file the Club-assistent reader takes: a path, or its bytes.
MandateFile = Union[str, "os.PathLike[str]", bytes]

_MANDATE_FIELDS = (
    "ID",
    "Account",
    "BankAccount",
    "Reference",
    "SignatureDate",
    "FirstSend",
    "PaymentType",
    "Type",
)
_BANK_FIELDS = ("ID", "Account", "BankAccount", "IBAN")
#: Mandate type ``Core`` (consumers; ``1`` would be B2B). UNCERTAIN: Exact's codes.
_TYPE_CORE = 0
#: ``PaymentType``: ``0`` recurrent, ``1`` one-off. UNCERTAIN: Exact's codes.
_RECURRENT = 0
_ONE_OFF = 1
#: Above this many mandates to write, the division's mandates and bank accounts are
#: listed once (60 per call) instead of being looked up one by one.
DEFAULT_LISTING_THRESHOLD = 30


# -- sources ---------------------------------------------------------------------------------


def _mandate_tuple(values: Iterable[Mandate]) -> tuple[Mandate, ...]:
    return tuple(values)


def _error_tuple(values: Iterable[SourceError]) -> tuple[SourceError, ...]:
    return tuple(values)


@attrs.frozen
class MandateBatch:
    """What one read of a mandate source returned: mandates, unreadable records, cursor."""

    mandates: tuple[Mandate, ...] = attrs.field(default=(), converter=_mandate_tuple)
    errors: tuple[SourceError, ...] = attrs.field(default=(), converter=_error_tuple)
    cursor: str | None = None


@runtime_checkable
class MandateSource(Protocol):
    """A source of canonical mandates for :class:`MandatePipeline`.

    ``source`` is the system's name (``"clubassistent"``), ``tenant`` the club in it.
    ``fetch(cursor)`` returns the mandates (a source without incremental reads
    returns all of them and ``None``: unchanged mandates cost no Exact call);
    ``fetch_ids`` reads these mandates again.
    """

    source: str
    tenant: str

    def fetch(self, cursor: str | None) -> MandateBatch:
        """The mandates new or changed since ``cursor`` (all when ``None``)."""
        ...

    def fetch_ids(self, mandate_ids: Sequence[str]) -> MandateBatch:
        """These mandates again (ids no longer present are simply absent)."""
        ...


def _open(item: MandateFile) -> Any:
    return io.BytesIO(item) if isinstance(item, bytes) else item


class ClubassistentMandates:
    """The mandates in Club-assistent's pain.008 collection files, as a :class:`MandateSource`.

    ``files`` are the pain.008 files (paths or bytes), read in full on every fetch
    (they are small; the pipeline skips unchanged mandates by their content hash).
    A collection names its invoice (end-to-end id); the member of that invoice
    becomes the mandate's party: give the invoice exports (``invoice_files``, the
    CSV of :class:`~exactbridge.sources.clubassistent.InvoiceCsvReader`) or a
    ``member_by_invoice`` mapping. ``tenant`` names the club (the same tenant the
    club's invoice source uses, so the customers it created are found again).

    Example::

        source = ClubassistentMandates(
            ["incasso-2026-02.xml"], invoice_files=["facturen.csv"], tenant="hockeyclub"
        )
        batch = source.fetch(None)
    """

    source = CLUB_SOURCE

    def __init__(
        self,
        files: Sequence[MandateFile],
        *,
        tenant: str,
        invoice_files: Sequence[MandateFile] = (),
        member_by_invoice: Mapping[str, str] | None = None,
        csv_format: CsvFormat | None = None,
        reader: Pain008Reader | None = None,
    ) -> None:
        if isinstance(files, (str, bytes)) or not isinstance(files, Sequence):
            raise ConfigurationError(
                f"got {files!r}", key="files", expected="a list of pain.008 files"
            )
        name: object = tenant
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"got {tenant!r}", key="tenant", expected="a club name")
        self.files = tuple(files)
        self.tenant = tenant
        self.invoice_files = tuple(invoice_files)
        self.member_by_invoice = dict(member_by_invoice or {})
        self.csv_format = csv_format
        self.reader = reader or Pain008Reader()

    def __repr__(self) -> str:
        return f"<ClubassistentMandates {len(self.files)} file(s), tenant={self.tenant!r}>"

    def _invoices(self) -> list[ClubInvoice]:
        invoices: list[ClubInvoice] = []
        reader = InvoiceCsvReader(self.csv_format)
        for item in self.invoice_files:
            listing = reader.read(_open(item))
            invoices.extend(listing.records)
            if listing.errors:
                log.info("invoice export: %d unreadable record(s) ignored", len(listing.errors))
        return invoices

    def fetch(self, cursor: str | None) -> MandateBatch:
        """Read every file; one mandate per mandate id (see ``mandates_from_direct_debits``)."""
        debits: list[DirectDebit] = []
        errors: list[SourceError] = []
        for item in self.files:
            try:
                content = self.reader.read(_open(item))
            except SourceError as exc:
                errors.append(exc)
                continue
            debits.extend(content.direct_debits)
            errors.extend(content.errors)
        mandates = mandates_from_direct_debits(
            debits, invoices=self._invoices(), member_by_invoice=self.member_by_invoice
        )
        return MandateBatch(mandates, errors, None)

    def fetch_ids(self, mandate_ids: Sequence[str]) -> MandateBatch:
        """Files cannot be searched by id: a full read, filtered."""
        wanted = set(mandate_ids)
        batch = self.fetch(None)
        return MandateBatch(
            [mandate for mandate in batch.mandates if mandate.mandate_id in wanted],
            [],
            None,
        )


# -- the pipeline ----------------------------------------------------------------------------


def mandate_hash(mandate: Mandate) -> str:
    """A fingerprint of what a mandate books, kept in the store to notice changes."""
    return fingerprint(attrs.asdict(mandate))


def _iban(text: str) -> str:
    return "".join(text.split()).upper()


def mandate_fields(mandate: Mandate) -> dict[str, int]:
    """Exact's ``FirstSend`` and ``PaymentType`` for a mandate's sequence type.

    ``FRST`` and ``OOFF``: the first collection is still to be sent
    (``FirstSend`` 1); ``RCUR`` and ``FNAL``: collections ran before (0).
    ``OOFF`` is a one-off mandate (``PaymentType`` 1), the rest recurrent (0).
    UNCERTAIN: Exact's documentation gives these codes without their meaning; the
    fake Exact defaults to ``FirstSend`` 1 and ``PaymentType`` 0.
    """
    sequence = mandate.sequence_type
    first = 1 if sequence in (SequenceType.FIRST, SequenceType.ONE_OFF) else 0
    payment = _ONE_OFF if sequence is SequenceType.ONE_OFF else _RECURRENT
    return {"first_send": first, "payment_type": payment}


def _label(mandate: Mandate) -> str:
    return mandate.mandate_id


@attrs.define
class _Lookup:
    """The division's mandates and bank accounts, as far as this run needs them.

    In listing mode everything is read once (60 per call); otherwise per mandate
    reference and per account, each once. Writes of this run are added, so a run
    never looks for what it wrote itself.
    """

    exact: ExactClient
    listing: bool
    mandates: dict[str, DirectDebitMandate] | None = None
    banks: dict[str, list[BankAccount]] = attrs.field(factory=dict)
    all_banks: bool = False
    looked_up: set[str] = attrs.field(factory=set)

    def mandate(self, reference: str) -> DirectDebitMandate | None:
        if self.listing:
            if self.mandates is None:
                self.mandates = {}
                for row in self.exact.direct_debit_mandates.iterate(select=_MANDATE_FIELDS):
                    if row.reference:
                        self.mandates.setdefault(row.reference.strip(), row)
            return self.mandates.get(reference)
        if self.mandates is None:
            self.mandates = {}
        if reference not in self.looked_up:
            self.looked_up.add(reference)
            found = self.exact.direct_debit_mandates.first(
                filter=P("Reference") == reference, select=_MANDATE_FIELDS
            )
            if found is not None:
                self.mandates[reference] = found
        return self.mandates.get(reference)

    def add_mandate(self, reference: str, row: DirectDebitMandate) -> None:
        self.mandate(reference)
        assert self.mandates is not None
        self.mandates[reference] = row

    def bank_accounts(self, account: str) -> list[BankAccount]:
        if self.listing and not self.all_banks:
            self.all_banks = True
            for row in self.exact.bank_accounts.iterate(select=_BANK_FIELDS):
                if row.account is not None:
                    self.banks.setdefault(str(row.account), []).append(row)
        if account not in self.banks:
            if self.listing:
                self.banks[account] = []
            else:
                self.banks[account] = self.exact.bank_accounts.list(
                    filter=P("Account") == uuid.UUID(account), select=_BANK_FIELDS
                )
        return self.banks[account]

    def bank_account(self, account: str, iban: str) -> BankAccount | None:
        for row in self.bank_accounts(account):
            if _iban(row.iban or row.bank_account or "") == iban:
                return row
        return None

    def add_bank_account(self, account: str, row: BankAccount) -> None:
        self.bank_accounts(account).append(row)


@attrs.define
class _MandateState(RunState):
    """One mandate run: the shared state plus the lookups and remembered customers."""

    lookup: _Lookup | None = None
    account_records: dict[BookingKey, BookingRecord] = attrs.field(factory=dict)
    unknown_banks: set[tuple[str, str]] = attrs.field(factory=set)


class MandatePipeline(PipelineBase[_MandateState]):
    """Bring a club's direct-debit mandates into one Exact division, each exactly once.

    ``config`` supplies the debtor policy that turns a member number into the
    customer's code. ``listing_threshold``: with more mandates to write than this,
    the division's mandates and bank accounts are listed once instead of looked up
    per mandate. ``name``, ``clock``, ``on_failure`` and ``progress`` are as for
    :class:`~exactbridge.sync.InvoicePipeline`.

    Example::

        source = ClubassistentMandates(["incasso.xml"], member_by_invoice=links, tenant="club")
        report = MandatePipeline(source, exact_client, config, store).run()
        print(len(report.booked), [row.reason for row in report.failed])
    """

    kind = "mandate"

    def __init__(
        self,
        source: MandateSource,
        exact: ExactClient,
        config: BookingConfig,
        store: StateStore,
        *,
        name: str | None = None,
        clock: Clock | None = None,
        listing_threshold: int = DEFAULT_LISTING_THRESHOLD,
        on_failure: Callable[[SyncReport], object] | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> None:
        if not isinstance(source, MandateSource):
            raise ConfigurationError(f"got {source!r}", key="source", expected="a MandateSource")
        if not isinstance(config, BookingConfig):
            raise ConfigurationError(f"got {config!r}", key="config", expected="a BookingConfig")
        if isinstance(listing_threshold, bool) or not isinstance(listing_threshold, int):
            raise ConfigurationError(
                f"got {listing_threshold!r}", key="listing_threshold", expected="an integer"
            )
        self.source = source
        self.exact = exact
        self.config = config
        self.store = store
        self.name = name or f"{source.source}-{source.tenant}-mandates"
        self.clock = clock or SystemClock()
        self.listing_threshold = listing_threshold
        self.on_failure = on_failure
        self.progress = progress

    def __repr__(self) -> str:
        return f"<MandatePipeline {self.name!r}>"

    # -- public ------------------------------------------------------------------------

    def run(self) -> SyncReport:
        """Run the pipeline once and return its report (also kept in the run history)."""
        return self._execute(dry_run=False, only_retry=False)

    def preview(self) -> SyncReport:
        """Dry run: the same decisions, without writing to Exact or the store."""
        return self._execute(dry_run=True, only_retry=False)

    def retry(self) -> SyncReport:
        """Run only the mandates that failed or stayed unresolved last time."""
        return self._execute(dry_run=False, only_retry=True)

    # -- the run -------------------------------------------------------------------------

    def _new_state(self, dry_run: bool, now: dt.datetime) -> _MandateState:
        return _MandateState(DivisionSession(self.exact), dry_run=dry_run, now=now)

    def _key(self, source_id: str, kind: str = "mandate") -> BookingKey:
        return BookingKey(self.source.source, self.source.tenant or "-", source_id, kind)

    def _work(self, state: _MandateState, only_retry: bool) -> None:
        batch = self._read(only_retry)
        for error in batch.errors:
            # Files are read whole on every run: a bad record is reported each time it
            # is read, and booked once the file is fixed; nothing to remember for it.
            record_id = getattr(error, "record_id", None) or "<source>"
            state.add(
                RecordResult(
                    str(record_id),
                    Action.FAILED,
                    source=self.source.source,
                    reason=str(error),
                )
            )
        mandates = _latest(batch.mandates)
        keys = [self._key(mandate.mandate_id) for mandate in mandates]
        records = self.store.get_many(keys)
        state.account_records = self.store.get_many(
            self._key(mandate.party_source_id, "account")
            for mandate in mandates
            if mandate.party_source_id
        )
        todo = sum(
            1
            for mandate, key in zip(mandates, keys, strict=True)
            if (record := records.get(key)) is None
            or record.status is not BookingStatus.BOOKED
            or record.content_hash != mandate_hash(mandate)
        )
        state.lookup = _Lookup(self.exact, listing=todo > self.listing_threshold)
        total = len(mandates)
        for done, (mandate, key) in enumerate(zip(mandates, keys, strict=True), start=1):
            self._one(state, mandate, key, records.get(key))
            self._tick(state, done, total)

    def _read(self, only_retry: bool) -> MandateBatch:
        source = self.source
        tenant = source.tenant or "-"
        redo = [
            record.key.source_id
            for record in (
                *self.store.failed(source.source, tenant, "mandate"),
                *self.store.pending(source.source, tenant, "mandate"),
            )
        ]
        if only_retry:
            return source.fetch_ids(redo) if redo else MandateBatch()
        return source.fetch(None)

    def _one(
        self, state: _MandateState, mandate: Mandate, key: BookingKey, record: BookingRecord | None
    ) -> None:
        def step() -> None:
            self._decide(state, mandate, key, record)

        def failed(reason: str, unknown: bool) -> None:
            self._failed(state, mandate, key, reason, unknown)

        self._guarded(state, step, failed)

    def _failed(
        self, state: _MandateState, mandate: Mandate, key: BookingKey, reason: str, unknown: bool
    ) -> None:
        state.add(
            RecordResult(
                mandate.mandate_id,
                Action.FAILED,
                label=_label(mandate),
                source=mandate.source,
                reason=reason,
            )
        )
        log.warning("pipeline %s: mandate %s failed: %s", self.name, _label(mandate), reason)
        if state.dry_run:
            return
        current = self.store.get(key)
        if current is None or current.status in (BookingStatus.FAILED, BookingStatus.SKIPPED):
            self.store.mark_failed(key, error=reason, now=self.clock.now())
            return
        if current.status is BookingStatus.PENDING:
            if current.extra.get("op") == "update" and current.extra.get("booked_id"):
                # The change did not land (or may not have): the mandate still stands
                # as booked; the next run notices the change again and writes it anew.
                self.store.mark_booked(
                    key,
                    exact_id=current.extra["booked_id"],
                    entry_number=None,
                    content_hash=current.extra.get("booked_hash") or None,
                    now=self.clock.now(),
                )
            elif not unknown:
                # A create of unknown outcome stays PENDING: looked up before a rewrite.
                self.store.mark_failed(key, error=reason, now=self.clock.now())

    # -- deciding --------------------------------------------------------------------------

    def _decide(
        self, state: _MandateState, mandate: Mandate, key: BookingKey, record: BookingRecord | None
    ) -> None:
        digest = mandate_hash(mandate)
        if (
            record is not None
            and record.status is BookingStatus.PENDING
            and record.extra.get("op") == "update"
            and record.extra.get("booked_id")
        ):
            # A PUT is safe to repeat: write the change again in full. (A create of
            # unknown outcome is resolved in ``_create``: the reference is looked up
            # in Exact before anything is written.)
            record = attrs.evolve(
                record,
                status=BookingStatus.BOOKED,
                exact_id=record.extra["booked_id"],
                content_hash=None,
            )
        if record is not None and record.status is BookingStatus.BOOKED:
            if record.content_hash == digest:
                state.unchanged += 1
                return
            self._change(state, mandate, key, record, digest)
            return
        self._create(state, mandate, key, record, digest)

    def _customer(self, state: _MandateState, mandate: Mandate) -> KnownAccount:
        """The member's customer account in Exact (never created here; see the module)."""
        member = mandate.party_source_id
        if not member:
            raise MappingError(
                "the mandate is not linked to a member: give the source the invoice "
                "exports (or member_by_invoice) its collections refer to",
                record_id=mandate.mandate_id,
                field="party_source_id",
                policy="ClubassistentMandates.invoice_files",
                source=mandate.source,
                fix="pass the invoice CSV exports as invoice_files (or member_by_invoice)",
            )
        session = state.session
        record = state.account_records.get(self._key(member, "account"))
        if record is not None and record.status is BookingStatus.BOOKED and record.exact_id:
            known = session.reference().account_by_id(record.exact_id)
            if known is not None:
                return known
        party = Party(
            source=mandate.source, source_id=member, name=mandate.holder, internal_number=member
        )
        candidate = candidate_code(party, self.config.debtor)
        if candidate is None:
            raise MappingError(
                f"the debtor policy derives no customer code for member {member}",
                record_id=mandate.mandate_id,
                field="party_source_id",
                policy="DebtorPolicy.code_sources",
                value=member,
                source=mandate.source,
                fix='include "internal_number" in debtor.code_sources',
            )
        code = strip_code(candidate[0])
        account = session.reference().account_by_code(code)
        if account is None:
            raise MappingError(
                f"customer {code} (member {member}) does not exist in Exact yet; "
                "it is created when the member's invoices are booked, and the mandate "
                "follows on the next run",
                record_id=mandate.mandate_id,
                field="party_source_id",
                policy="DebtorPolicy",
                value=code,
                source=mandate.source,
                fix="run the invoice pipeline first (it creates the customer)",
            )
        if account.blocked:
            raise MappingError(
                f"customer {code} is blocked in Exact",
                record_id=mandate.mandate_id,
                field="party_source_id",
                policy="DebtorPolicy",
                value=code,
                source=mandate.source,
                fix=f"unblock customer {code} in Exact",
            )
        return account

    # -- bank accounts ---------------------------------------------------------------------

    def _bank_account(
        self, state: _MandateState, mandate: Mandate, customer: KnownAccount
    ) -> tuple[uuid.UUID | None, bool]:
        """The id of the customer's bank account with the mandate's IBAN, and whether new.

        Creates it when the customer lacks it (``None`` in a dry run).
        """
        assert state.lookup is not None
        iban = _iban(mandate.iban)
        if (customer.id, iban) in state.unknown_banks:
            raise ExactBridgeError(
                f"mandate {mandate.mandate_id}: the creation of bank account {iban} earlier "
                "in this run has an unknown outcome; it is resolved on the next run"
            )
        found = state.lookup.bank_account(customer.id, iban)
        if found is not None and found.id is not None:
            return found.id, False
        if state.dry_run:
            return None, True
        key = self._key(f"{customer.id}:{iban}", "bank_account")
        self.store.record_intent(
            key,
            content_hash=None,
            your_ref=iban,
            journal=None,
            now=self.clock.now(),
            extra={"op": "create", "account": customer.id},
        )
        try:
            created = self.exact.bank_accounts.create(
                NewBankAccount(
                    account=uuid.UUID(customer.id),
                    bank_account=iban,
                    iban=iban,
                    bic_code=mandate.bic,
                    bank_account_holder_name=mandate.holder,
                )
            )
        except APIError as exc:
            if not isinstance(exc, RateLimitError):
                self.store.mark_failed(key, error=str(exc), now=self.clock.now())
            raise
        except ExactBridgeError:
            state.unknown_banks.add((customer.id, iban))
            raise  # stays PENDING: found by account + IBAN before any new attempt
        if created.id is None:  # pragma: no cover - Exact always answers with the id
            raise ExactBridgeError(f"Exact created bank account {iban} without an id")
        self.store.mark_booked(
            key, exact_id=created.id, entry_number=None, content_hash=None, now=self.clock.now()
        )
        state.lookup.add_bank_account(customer.id, created)
        return created.id, True

    # -- mandates --------------------------------------------------------------------------

    def _create(
        self,
        state: _MandateState,
        mandate: Mandate,
        key: BookingKey,
        record: BookingRecord | None,
        digest: str,
    ) -> None:
        assert state.lookup is not None
        reference = mandate.mandate_id.strip()
        customer = self._customer(state, mandate)
        existing = state.lookup.mandate(reference)
        if existing is not None and existing.id is not None:
            # Already in Exact: an earlier write whose answer was lost, or entered by
            # hand. It is taken as it is, and never written again.
            if existing.account is not None and str(existing.account) != customer.id:
                raise MappingError(
                    f"Exact already has mandate {reference} on another customer",
                    record_id=mandate.mandate_id,
                    field="mandate_id",
                    policy="DirectDebitMandates.Reference",
                    value=reference,
                    source=mandate.source,
                    fix=f"correct mandate {reference} in Exact (it belongs to another "
                    "customer) or in the source",
                )
            state.unchanged += 1
            if not state.dry_run:
                self._remember(key, record, existing.id, mandate, digest, customer.id)
            return
        bank_id, new_bank = self._bank_account(state, mandate, customer)
        note = "bank account created" if new_bank else "bank account already in Exact"
        reason = f"customer {customer.code or customer.id}, {note}"
        if state.dry_run or bank_id is None:
            state.add(
                RecordResult(
                    mandate.mandate_id,
                    Action.BOOKED,
                    label=_label(mandate),
                    source=mandate.source,
                    reason=reason,
                )
            )
            return
        fields = mandate_fields(mandate)
        self.store.record_intent(
            key,
            content_hash=digest,
            your_ref=reference,
            journal=None,
            now=self.clock.now(),
            extra={"op": "create"},
        )
        try:
            created = self.exact.direct_debit_mandates.create(
                NewDirectDebitMandate(
                    account=uuid.UUID(customer.id),
                    bank_account=bank_id,
                    reference=reference,
                    description=f"{mandate.holder} ({reference})"[:100],
                    signature_date=mandate.signature_date,
                    first_send=fields["first_send"],
                    payment_type=fields["payment_type"],
                    type=_TYPE_CORE,
                )
            )
        except APIError as exc:
            if not isinstance(exc, RateLimitError):
                self.store.mark_failed(key, error=str(exc), now=self.clock.now())
            raise
        if created.id is None:  # pragma: no cover - Exact always answers with the id
            raise ExactBridgeError(f"Exact created mandate {reference} without an id")
        state.lookup.add_mandate(reference, created)
        self.store.mark_booked(
            key,
            exact_id=created.id,
            entry_number=None,
            content_hash=digest,
            now=self.clock.now(),
            extra=_facts(mandate, customer.id, bank_id),
        )
        state.add(
            RecordResult(
                mandate.mandate_id,
                Action.BOOKED,
                label=_label(mandate),
                source=mandate.source,
                exact_id=str(created.id),
                reason=reason,
            )
        )

    def _remember(
        self,
        key: BookingKey,
        record: BookingRecord | None,
        exact_id: uuid.UUID,
        mandate: Mandate,
        digest: str,
        customer: str,
    ) -> None:
        """Record a mandate found in Exact as booked (the store needs an intent first)."""
        if record is None or record.status is not BookingStatus.PENDING:
            self.store.record_intent(
                key,
                content_hash=digest,
                your_ref=mandate.mandate_id.strip(),
                journal=None,
                now=self.clock.now(),
                extra={"op": "found"},
            )
        self.store.mark_booked(
            key,
            exact_id=exact_id,
            entry_number=None,
            content_hash=digest,
            now=self.clock.now(),
            extra=_facts(mandate, customer, None),
        )

    def _change(
        self,
        state: _MandateState,
        mandate: Mandate,
        key: BookingKey,
        record: BookingRecord,
        digest: str,
    ) -> None:
        """A booked mandate changed in the source: update the Exact mandate in place."""
        if record.exact_id is None:
            raise ExactBridgeError(f"mandate {mandate.mandate_id}: its Exact id is unknown")
        customer = self._customer(state, mandate)
        booked_account = record.extra.get("account")
        if booked_account and booked_account != customer.id:
            state.add(
                RecordResult(
                    mandate.mandate_id,
                    Action.SKIPPED,
                    label=_label(mandate),
                    source=mandate.source,
                    exact_id=record.exact_id,
                    reason="the mandate now belongs to another member; change it in Exact by hand",
                )
            )
            return
        changes: dict[str, Any] = {}
        iban = _iban(mandate.iban)
        if record.extra.get("iban") != iban:
            bank_id, _ = self._bank_account(state, mandate, customer)
            # ``None`` only in a dry run, where the bank account would be created.
            changes["bank_account"] = bank_id if bank_id is not None else "(new)"
        if record.extra.get("signed") != mandate.signature_date.isoformat():
            changes["signature_date"] = mandate.signature_date
        fields = mandate_fields(mandate)
        if record.extra.get("sequence") == SequenceType.FIRST.value and fields["first_send"] == 0:
            changes["first_send"] = 0
        if state.dry_run:
            if changes:
                state.add(
                    RecordResult(
                        mandate.mandate_id,
                        Action.UPDATED,
                        label=_label(mandate),
                        source=mandate.source,
                        exact_id=record.exact_id,
                        reason="changes " + ", ".join(sorted(changes)),
                    )
                )
            else:
                state.unchanged += 1
            return
        facts = _facts(mandate, customer.id, changes.get("bank_account"))
        self.store.record_intent(
            key,
            content_hash=digest,
            your_ref=record.your_ref,
            journal=None,
            now=self.clock.now(),
            extra={
                "op": "update",
                "booked_id": record.exact_id,
                "booked_hash": record.content_hash or "",
            },
        )
        if not changes:
            # Nothing Exact keeps changed (the holder's name, the member link...).
            state.unchanged += 1
            self.store.mark_booked(
                key,
                exact_id=record.exact_id,
                entry_number=None,
                content_hash=digest,
                now=self.clock.now(),
                extra={**facts, "op": "update"},
            )
            return
        self.exact.direct_debit_mandates.update(uuid.UUID(record.exact_id), changes)
        self.store.mark_booked(
            key,
            exact_id=record.exact_id,
            entry_number=None,
            content_hash=digest,
            now=self.clock.now(),
            extra={**facts, "op": "update"},
        )
        state.add(
            RecordResult(
                mandate.mandate_id,
                Action.UPDATED,
                label=_label(mandate),
                source=mandate.source,
                exact_id=record.exact_id,
                reason="changed " + ", ".join(sorted(changes)),
            )
        )


def _facts(mandate: Mandate, customer: str, bank: object) -> dict[str, str]:
    """What the store remembers of a booked mandate, to tell later what changed."""
    facts = {
        "account": customer,
        "iban": _iban(mandate.iban),
        "sequence": mandate.sequence_type.value,
        "signed": mandate.signature_date.isoformat(),
    }
    if isinstance(bank, uuid.UUID):
        facts["bank_account"] = str(bank)
    return facts


def _latest(mandates: Iterable[Mandate]) -> list[Mandate]:
    """One mandate per id (the last one read wins), in reading order."""
    by_id: dict[str, Mandate] = {}
    for mandate in mandates:
        by_id.pop(mandate.mandate_id, None)
        by_id[mandate.mandate_id] = mandate
    return list(by_id.values())
