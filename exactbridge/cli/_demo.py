"""``exactbridge demo``: the invoice pipeline end to end on the embedded fakes.

The demo needs no credentials and no network. It seeds a fake Virtuagym club and a
fake Dutch Exact Online division in-process, then runs one sync pass: read the
club's members, taxes and invoices, adapt them to canonical invoices, map them
with :mod:`exactbridge.mapping`, create the customers Exact does not know yet and
book one sales entry per invoice. A SQLite state store in a temporary folder (or
``--state-dir``) remembers every booking: an intent is written before each Exact
write and the outcome after it, so a second pass over the same club and division
books nothing twice. Both passes are reported.

.. note::

   This module composes public parts by hand in a few small functions. The real
   sync engine (``exactbridge.sync`` pipelines with ``SyncReport``, changes,
   reversals, dry runs and scheduling) comes in a later issue and will replace the
   loop in :func:`sync_pass`; the CLI then only wires options to a pipeline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from exactbridge.clock import Clock
from exactbridge.codes import strip_code
from exactbridge.errors import ExactBridgeError, OutcomeUnknownError, SourceRecordError
from exactbridge.exact import ExactClient, NewAccount, NewSalesEntry, NewSalesEntryLine
from exactbridge.mapping import (
    AccountDraft,
    BookingConfig,
    DebtorAction,
    FinancialPeriod,
    GLAccount,
    Journal,
    KnownAccount,
    ReferenceData,
    SalesEntryDraft,
    VatCode,
    VatTransactionType,
    VatType,
    to_sales_entry,
)
from exactbridge.records import Invoice
from exactbridge.sources.virtuagym import VirtuagymAdapter, VirtuagymClient
from exactbridge.sync.sqlite_store import SQLiteStateStore
from exactbridge.sync.state import BookingKey, BookingStatus, StateStore
from exactbridge.testing import FakeClock, FakeExactOnline
from exactbridge.testing.virtuagym import FakeVirtuagym

__all__ = [
    "DEMO_DIVISION",
    "GUEST_DEBTOR_CODE",
    "DemoResult",
    "PassReport",
    "RecordFailure",
    "demo_config",
    "read_reference",
    "run_demo",
    "seed_exact",
    "seed_virtuagym",
    "sync_pass",
]

#: The fake Exact division the demo books into.
DEMO_DIVISION = 1001
#: Code of the seeded "guest sales" customer that member-less invoices go to.
GUEST_DEBTOR_CODE = "1"
_GUEST_NAME = "Kassaverkoop (gasten)"
# A Virtuagym club tax no Exact VAT code is mapped to: invoices using it fail to map.
_UNMAPPED_TAX_ID = 3
# Records whose last intent may or may not have reached Exact.
_UNRESOLVED = (BookingStatus.PENDING, BookingStatus.FAILED)
_ACCOUNT_FIELDS = ["ID", "Code", "Name", "Email", "VATNumber", "IsSales", "IsSupplier", "Blocked"]


@attrs.frozen
class RecordFailure:
    """One source record that could not be booked, and why."""

    record: str
    reason: str


@attrs.frozen
class PassReport:
    """What one sync pass did.

    ``invoices_read`` counts the invoices the source listed (including ones it
    could not parse); ``booked`` the sales entries created; ``already_booked``
    the invoices the state store (or, after a lost answer, Exact itself) already
    holds; ``failed`` the records that failed, each with its reason;
    ``exact_calls`` every Exact Online API call of the pass (reads included).
    """

    invoices_read: int
    booked: int
    already_booked: int
    failed: tuple[RecordFailure, ...]
    accounts_created: int
    exact_calls: int

    @property
    def calls_per_booked_invoice(self) -> Decimal | None:
        """Exact calls divided by the invoices booked, to two decimals (None if none booked)."""
        if not self.booked:
            return None
        return (Decimal(self.exact_calls) / Decimal(self.booked)).quantize(Decimal("0.01"))

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (the ratio as a decimal string)."""
        ratio = self.calls_per_booked_invoice
        return {
            "invoices_read": self.invoices_read,
            "booked": self.booked,
            "already_booked": self.already_booked,
            "failed": len(self.failed),
            "failures": [{"record": f.record, "reason": f.reason} for f in self.failed],
            "accounts_created": self.accounts_created,
            "exact_calls": self.exact_calls,
            "calls_per_booked_invoice": None if ratio is None else str(ratio),
        }


@attrs.frozen
class DemoResult:
    """The outcome of :func:`run_demo`: both passes, and the fakes to inspect afterwards.

    ``invoices`` are the canonical invoices the first pass read (bookable or not).
    """

    passes: tuple[PassReport, ...]
    exact: FakeExactOnline = attrs.field(eq=False, repr=False)
    virtuagym: FakeVirtuagym = attrs.field(eq=False, repr=False)
    division: int
    state_path: str | None
    invoices: tuple[Invoice, ...] = attrs.field(eq=False, repr=False)

    @property
    def failed(self) -> bool:
        """True when the last pass left records failed (exit code 1)."""
        return bool(self.passes[-1].failed)

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values."""
        return {
            "division": self.division,
            "state_store": self.state_path,
            "passes": [report.as_dict() for report in self.passes],
            "payout_pipeline": "not part of this demo yet",
        }


# -- seeding -------------------------------------------------------------------------


def seed_virtuagym(
    *, members: int, invoices: int, bad_invoices: int = 0, clock: Clock | None = None
) -> FakeVirtuagym:
    """A fake club with ``members`` members and exactly ``invoices`` invoices.

    Monthly memberships (9 % VAT) from January 2025, personal training (21 %) on
    some, a student discount on every seventh member, a guest (member-less) day
    pass on every twentieth invoice and a credit invoice now and then. The last
    ``bad_invoices`` invoices use a club tax no Exact VAT code is mapped to, so
    they fail to map (to show that one bad record does not stop the run).
    """
    fake = FakeVirtuagym(clock=clock)
    fake.taxes.append(
        {
            "tax_id": "0a1b2c3d-0000-4000-8000-000000000006",
            "club_tax_id": _UNMAPPED_TAX_ID,
            "tax_name": "BTW 6% (oud)",
            "tax_perc": "6.00",
            "date_from": "2001-01-01",
        }
    )
    first = ["Sam", "Noah", "Emma", "Lotte", "Daan", "Sophie", "Bram", "Julia", "Sem"]
    last = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer"]
    # Distinct edit times: Virtuagym pages members by an inclusive edit-time cursor.
    edited = fake.clock.now() - dt.timedelta(days=400)
    ids = [
        fake.add_member(
            firstname=first[i % len(first)],
            lastname=last[i % len(last)],
            edited_at=edited + dt.timedelta(seconds=37 * i + 1),
        )["member_id"]
        for i in range(max(members, 1))
    ]
    plans = [("Basic", Decimal("24.95")), ("Onbeperkt", Decimal("39.95")), ("Premium", "54.50")]
    previous: dict[int, dict[str, Any]] = {}
    for index in range(invoices):
        member_id = ids[index % len(ids)]
        month = (index // len(ids)) % 24
        start = dt.date(2025 + month // 12, month % 12 + 1, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        bad = index >= invoices - bad_invoices
        if bad:
            rows: list[dict[str, Any]] = [
                {"name": "Oud abonnement", "price": Decimal("19.08"), "tax": _UNMAPPED_TAX_ID}
            ]
            fake.add_invoice(member_id=member_id, invoice_date=start, rows=rows)
            continue
        if index % 20 == 19:
            rows = [
                {"name": "Dagpas", "price": Decimal("12.50"), "tax": 1},
                {"name": "Sportdrank", "price": Decimal("2.75"), "tax": 1},
            ]
            fake.add_invoice(member_id=None, invoice_date=start, rows=rows, paid=True)
            continue
        if index % 15 == 14 and member_id in previous:
            original = previous.pop(member_id)
            credit = [
                {
                    "name": f"Creditering {row['product_name']}",
                    "price": -row["price"],
                    "tax": row["club_tax_id"],
                }
                for row in original["rows"]
            ]
            fake.add_invoice(
                member_id=member_id,
                invoice_date=start,
                rows=credit,
                related_invoice=original["guid"],
            )
            continue
        plan, price = plans[member_id % len(plans)]
        rows = [
            {
                "name": f"{plan} ({start:%B %Y})",
                "price": Decimal(price),
                "tax": 2,
                "income_category": "membership",
                "start_period": start,
                "end_period": end,
            }
        ]
        if member_id % 7 == 0:
            rows.append({"name": "Studentenkorting", "price": Decimal("-5.00"), "tax": 2})
        if index % 9 == 4:
            rows.append({"name": "Personal training", "price": Decimal("45.00"), "tax": 1})
        previous[member_id] = fake.add_invoice(
            member_id=member_id, invoice_date=start, rows=rows, paid=index % 4 != 0
        )
    return fake


def seed_exact(clock: FakeClock, division: int = DEMO_DIVISION) -> FakeExactOnline:
    """A fake Exact Online with one Dutch division and a guest-sales customer (code 1)."""
    fake = FakeExactOnline(clock=clock)
    fake.add_division(division, template="nl", customers=[_GUEST_NAME])
    return fake


def demo_config() -> BookingConfig:
    """The booking policies of the demo club.

    Virtuagym club tax 1 (21 %) is Exact VAT code 2, tax 2 (9 %) code 1, tax 0
    code 0; 9 % revenue goes to 8010, the rest to 8000. Members become customers
    under their club member number; guest sales go to customer 1. Negative
    invoices are booked as negative sales entries and Exact numbers the entries
    (see the report: the Exact client's ``NewSalesEntry`` carries neither
    ``Type`` nor ``EntryNumber`` yet).
    """
    return BookingConfig.from_mapping(
        {
            "sales_journal": "70",
            "debtor": {"guest_debtor_code": GUEST_DEBTOR_CODE},
            "credit_notes": {"mode": "negative_entry"},
            "vat": {"codes": {"1": "2", "2": "1", "0": "0"}},
            "ledger": {
                "default_account": "8000",
                "by_vat_category": {"2": "8010", "0": "8020"},
            },
            "numbering": {"enabled": False},
        }
    )


# -- reading ---------------------------------------------------------------------------


@attrs.frozen
class _SourceBatch:
    invoices: tuple[Invoice, ...]
    errors: tuple[SourceRecordError, ...]

    @property
    def read(self) -> int:
        return len(self.invoices) + len(self.errors)


def read_source(client: VirtuagymClient) -> _SourceBatch:
    """Read the club's members, taxes and invoices and adapt them to canonical invoices."""
    members = client.members().all()
    taxes = client.club_taxes().all()
    adapter = VirtuagymAdapter(members=members, club_taxes=taxes, club_id=client.club_id)
    listing = client.invoices()
    records, bad = adapter.adapt_all(listing)
    return _SourceBatch(tuple(records), tuple(bad) + tuple(listing.errors))


def read_reference(exact: ExactClient) -> ReferenceData:
    """The division's GL accounts, VAT codes, journals, periods and accounts, read once."""
    gl_accounts = [
        GLAccount(row.code, int(row.type), row.description or "", id=str(row.id))
        for row in exact.gl_accounts.iterate()
        if row.code and row.type is not None
    ]
    vat_codes = [
        VatCode(
            row.code,
            row.percentage,
            type=VatType(_text(row.type, "E")),
            transaction_type=VatTransactionType(_text(row.vat_transaction_type, "B")),
            blocked=bool(row.is_blocked),
            description=row.description or "",
        )
        for row in exact.vat_codes.iterate()
        if row.code and row.percentage is not None
    ]
    journals = [
        Journal(row.code, int(row.type), row.description or "")
        for row in exact.journals.iterate()
        if row.code and row.type is not None
    ]
    periods = [
        FinancialPeriod(row.fin_year, row.fin_period, row.start_date, row.end_date)
        for row in exact.financial_periods.iterate()
        if row.fin_year and row.fin_period and row.start_date and row.end_date
    ]
    accounts = [
        KnownAccount(
            str(row.id),
            code=row.code or None,
            name=row.name or "",
            email=row.email,
            vat_number=row.vat_number,
            is_customer=bool(row.is_sales),
            is_supplier=bool(row.is_supplier),
            blocked=bool(row.blocked),
        )
        for row in exact.accounts.iter_bulk(select=_ACCOUNT_FIELDS)
    ]
    # ReferenceData's ``converter=tuple`` fields read as ``Iterable[_T_co]`` to mypy's
    # attrs plugin, so the (correctly typed) lists go in as keyword arguments.
    tables: dict[str, Any] = {
        "gl_accounts": gl_accounts,
        "vat_codes": vat_codes,
        "journals": journals,
        "periods": periods,
        "accounts": accounts,
    }
    return ReferenceData(**tables)


def _text(value: object, default: str) -> str:
    if value is None:
        return default
    return str(getattr(value, "value", value))


# -- writing ---------------------------------------------------------------------------


def content_hash(invoice: Invoice) -> str:
    """A fingerprint of the source version, kept with the booking record."""
    return hashlib.sha256(repr(invoice).encode("utf-8")).hexdigest()[:32]


def _invoice_key(invoice: Invoice) -> BookingKey:
    return BookingKey(invoice.source, invoice.tenant or "-", invoice.source_id)


def _label(invoice: Invoice) -> str:
    return f"{invoice.source}:{invoice.number} ({invoice.source_id})"


@attrs.define
class _Pass:
    """Mutable state of one pass: the store, the client and what was done so far."""

    store: StateStore
    exact: ExactClient
    config: BookingConfig
    clock: Clock
    reference: ReferenceData | None = None
    gl_ids: dict[str, uuid.UUID] = attrs.field(factory=dict)
    created: dict[str, uuid.UUID] = attrs.field(factory=dict)
    booked: int = 0
    already: int = 0
    accounts_created: int = 0
    failures: list[RecordFailure] = attrs.field(factory=list)

    def ref(self) -> ReferenceData:
        """Reference data, read on first need (a pass with nothing to book reads none)."""
        if self.reference is None:
            self.reference = read_reference(self.exact)
            self.gl_ids = {gl.code: uuid.UUID(gl.id) for gl in self.reference.gl_accounts if gl.id}
        return self.reference


def _new_account(draft: AccountDraft) -> NewAccount:
    return NewAccount(
        name=draft.name,
        code=strip_code(draft.code) if draft.code else None,
        status="C",
        is_sales=True,
        email=draft.email,
        phone=draft.phone,
        vat_number=draft.vat_number,
        chamber_of_commerce=draft.chamber_of_commerce,
        address_line1=draft.address_line1,
        address_line2=draft.address_line2,
        postcode=draft.postcode,
        city=draft.city,
        state=draft.state,
        country=draft.country.strip() if draft.country else None,
    )


def ensure_customer(state: _Pass, invoice: Invoice, draft: SalesEntryDraft) -> uuid.UUID:
    """The Exact id of the entry's customer, creating the account when the policy says so.

    Account creation follows the same intent/outcome discipline as entries: an
    account whose creation outcome is unknown is looked up by its code first.
    """
    decision = draft.debtor
    if decision.action is not DebtorAction.CREATE:
        if decision.account_id is None:  # pragma: no cover - the mapping always sets it
            raise ExactBridgeError(f"{_label(invoice)}: the debtor decision has no account id")
        return uuid.UUID(decision.account_id)
    account = decision.account
    code = decision.code
    if account is None or code is None or invoice.party is None:
        raise ExactBridgeError(f"{_label(invoice)}: a new customer needs a code and a party")
    if code in state.created:
        return state.created[code]
    key = BookingKey(invoice.source, invoice.tenant or "-", invoice.party.source_id, "account")
    record = state.store.get(key)
    if record is not None and record.status is BookingStatus.BOOKED and record.exact_id:
        state.created[code] = uuid.UUID(record.exact_id)
        return state.created[code]
    if record is not None and record.status in _UNRESOLVED:
        # An earlier creation may have reached Exact: look for the code before writing.
        found = state.exact.accounts.find_by_code(strip_code(code))
        if found is not None and found.id is not None:
            state.store.mark_booked(
                key, exact_id=found.id, entry_number=None, content_hash=None, now=state.clock.now()
            )
            state.created[code] = found.id
            return found.id
    state.store.record_intent(
        key, content_hash=None, your_ref=None, journal=None, now=state.clock.now()
    )
    try:
        created = state.exact.accounts.create(_new_account(account))
    except OutcomeUnknownError:
        raise  # stays PENDING: the next pass looks the code up first
    except ExactBridgeError as exc:
        state.store.mark_failed(key, error=str(exc), now=state.clock.now())
        raise
    if created.id is None:  # pragma: no cover - Exact always answers with the id
        raise ExactBridgeError(f"{_label(invoice)}: Exact created the account without an id")
    state.store.mark_booked(
        key, exact_id=created.id, entry_number=None, content_hash=None, now=state.clock.now()
    )
    state.accounts_created += 1
    state.created[code] = created.id
    return created.id


def _new_entry(state: _Pass, draft: SalesEntryDraft, customer: uuid.UUID) -> NewSalesEntry:
    lines = [
        NewSalesEntryLine(
            gl_account=state.gl_ids[line.gl_account],
            amount_fc=line.amount_excl_vat,
            vat_code=line.vat_code,
            vat_amount_fc=line.vat_amount,
            vat_percentage=line.vat_percentage,
            description=line.description or None,
            quantity=line.quantity,
            cost_center=line.cost_center,
            cost_unit=line.cost_unit,
            from_date=line.date_from,
            to_date=line.date_to,
        )
        for line in draft.lines
    ]
    return NewSalesEntry(
        customer=customer,
        journal=draft.journal,
        lines=lines,
        entry_date=draft.entry_date,
        reporting_year=draft.reporting_year,
        reporting_period=draft.reporting_period,
        description=draft.description,
        your_ref=draft.your_ref,
        due_date=draft.due_date,
        payment_reference=draft.payment_reference,
        currency=draft.currency,
    )


def book_invoice(state: _Pass, invoice: Invoice) -> None:
    """Book one invoice exactly once: skip it if booked, resolve an unknown outcome, write.

    Raises :class:`~exactbridge.errors.ExactBridgeError` (mapping, account or Exact
    errors); the caller records it and goes on with the next invoice.
    """
    key = _invoice_key(invoice)
    digest = content_hash(invoice)
    record = state.store.get(key)
    if record is not None and record.status is BookingStatus.BOOKED:
        state.already += 1
        return
    if invoice.deleted:
        state.store.mark_deleted(key, now=state.clock.now())
        return
    draft = to_sales_entry(invoice, state.ref(), state.config, export_date=state.clock.now().date())
    if record is not None and record.status in _UNRESOLVED and record.your_ref is not None:
        # An intent was written before (the write's outcome is unknown, or it failed
        # after sending): find the entry by its natural key before writing again.
        found = state.exact.sales_entries.find_by_your_ref(draft.journal, draft.your_ref)
        if found is not None and found.entry_id is not None:
            state.store.mark_booked(
                key,
                exact_id=found.entry_id,
                entry_number=found.entry_number,
                content_hash=record.content_hash,
                now=state.clock.now(),
            )
            state.already += 1
            return
    customer = ensure_customer(state, invoice, draft)
    new = _new_entry(state, draft, customer)
    state.store.record_intent(
        key,
        content_hash=digest,
        your_ref=draft.your_ref,
        journal=draft.journal,
        now=state.clock.now(),
        extra={"customer": str(customer)},
    )
    entry = state.exact.sales_entries.create(new)
    if entry.entry_id is None:  # pragma: no cover - Exact always answers with the id
        raise ExactBridgeError(f"{_label(invoice)}: Exact created the entry without an id")
    state.store.mark_booked(
        key,
        exact_id=entry.entry_id,
        entry_number=entry.entry_number,
        content_hash=digest,
        now=state.clock.now(),
    )
    state.booked += 1


def sync_pass(
    vg_client: VirtuagymClient,
    exact: ExactClient,
    store: StateStore,
    config: BookingConfig,
    clock: Clock,
) -> tuple[PassReport, tuple[Invoice, ...]]:
    """One pass of the invoice pipeline; one bad record never stops it."""
    calls_before = exact.calls
    batch = read_source(vg_client)
    state = _Pass(store=store, exact=exact, config=config, clock=clock)
    for error in batch.errors:
        state.failures.append(RecordFailure(f"virtuagym:{error.record_id}", str(error)))
    for invoice in batch.invoices:
        try:
            book_invoice(state, invoice)
        except OutcomeUnknownError as exc:
            # The write may have been committed: the record stays PENDING and the
            # next pass finds the entry by journal + YourRef before writing again.
            state.failures.append(RecordFailure(_label(invoice), f"outcome unknown: {exc}"))
        except ExactBridgeError as exc:
            state.failures.append(RecordFailure(_label(invoice), str(exc)))
            _note_failure(store, invoice, str(exc), clock)
    report = PassReport(
        invoices_read=batch.read,
        booked=state.booked,
        already_booked=state.already,
        failed=tuple(state.failures),
        accounts_created=state.accounts_created,
        exact_calls=exact.calls - calls_before,
    )
    return report, batch.invoices


def _note_failure(store: StateStore, invoice: Invoice, reason: str, clock: Clock) -> None:
    key = _invoice_key(invoice)
    record = store.get(key)
    if record is None or record.status is not BookingStatus.BOOKED:
        store.mark_failed(key, error=reason, now=clock.now())


# -- the whole demo ----------------------------------------------------------------------


@contextmanager
def _state_dir(path: str | None) -> Iterator[Path]:
    if path is not None:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="exactbridge-demo-") as tmp:
        yield Path(tmp)


def run_demo(
    *,
    members: int = 40,
    invoices: int = 60,
    bad_invoices: int = 0,
    state_dir: str | None = None,
    passes: int = 2,
) -> DemoResult:
    """Seed both fakes and run the invoice pipeline ``passes`` times against one store.

    With ``state_dir`` the SQLite store ``demo-state.sqlite3`` is kept there (and a
    later demo run on fresh fakes would find its records); without it the store
    lives in a temporary folder removed afterwards.
    """
    clock = FakeClock()
    virtuagym = seed_virtuagym(
        members=members, invoices=invoices, bad_invoices=bad_invoices, clock=clock
    )
    fake = seed_exact(clock)
    config = demo_config()
    reports: list[PassReport] = []
    seen: tuple[Invoice, ...] = ()
    with _state_dir(state_dir) as folder:
        path = folder / "demo-state.sqlite3"
        store = SQLiteStateStore(path)
        try:
            with VirtuagymClient(
                virtuagym.credentials, transport=virtuagym.transport(), clock=clock
            ) as vg_client:
                exact: ExactClient = fake.client(DEMO_DIVISION)
                with exact:
                    for number in range(passes):
                        report, read = sync_pass(vg_client, exact, store, config, clock)
                        reports.append(report)
                        if number == 0:
                            seen = read
        finally:
            store.close()
    return DemoResult(
        passes=tuple(reports),
        exact=fake,
        virtuagym=virtuagym,
        division=DEMO_DIVISION,
        state_path=str(path) if state_dir is not None else None,
        invoices=seen,
    )


def format_report(result: DemoResult) -> Iterable[str]:
    """The human-readable report, line by line."""
    yield f"exactbridge demo: fake Virtuagym club -> fake Exact Online division {result.division}"
    yield (
        f"state store: {result.state_path}"
        if result.state_path
        else "state store: SQLite in a temporary folder (removed afterwards)"
    )
    for number, report in enumerate(result.passes, start=1):
        ratio = report.calls_per_booked_invoice
        yield ""
        yield f"pass {number}:"
        yield f"  invoices read            {report.invoices_read:>6}"
        yield f"  booked                   {report.booked:>6}"
        yield f"  skipped, already booked  {report.already_booked:>6}"
        yield f"  failed                   {len(report.failed):>6}"
        yield f"  accounts created         {report.accounts_created:>6}"
        yield f"  Exact calls used         {report.exact_calls:>6}"
        yield f"  calls per booked invoice {'-' if ratio is None else str(ratio):>6}"
        for failure in report.failed:
            yield f"    FAILED {failure.record}: {failure.reason}"
    yield ""
    yield "Pay. payout pipeline: not part of this demo yet."
