"""The invoice pipeline end to end: Virtuagym fake -> engine -> Exact fake.

Everything runs on the fakes with one shared fake clock. Exact's contents are read
back through the Exact client (the fake shares no parsing code with it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.mapping import BookingConfig
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import (
    Action,
    BookingKey,
    BookingStatus,
    ChangePolicy,
    DeletePolicy,
    InvoicePipeline,
    MemoryStateStore,
    PipelineBusyError,
    RunLock,
    RunStatus,
    SQLiteStateStore,
    StateStore,
    SyncReport,
    SyncSettings,
    VirtuagymInvoices,
    content_hash,
)
from exactbridge.sync.schedule import run_every, run_locked
from exactbridge.testing import FakeClock, FakeExactOnline, Fault
from exactbridge.testing.virtuagym import FakeVirtuagym

DIVISION = 1001
_CENT = Decimal("0.01")

CONFIG = {
    "sales_journal": "70",
    "debtor": {"guest_debtor_code": "1"},
    "credit_notes": {"mode": "negative_entry"},
    "vat": {"codes": {"1": "2", "2": "1", "0": "0"}},
    "ledger": {"default_account": "8000", "by_vat_category": {"2": "8010"}},
    "numbering": {"enabled": False},
}


@attrs.define
class World:
    clock: FakeClock
    vg: FakeVirtuagym
    exact_fake: FakeExactOnline
    store: StateStore
    config: BookingConfig = attrs.field(factory=lambda: BookingConfig.from_mapping(CONFIG))
    settings: SyncSettings = attrs.field(factory=SyncSettings)

    def pipeline(self, **options: Any) -> InvoicePipeline:
        vg_client = VirtuagymClient(
            self.vg.credentials, transport=self.vg.transport(), clock=self.clock
        )
        exact = self.exact_fake.client(DIVISION)
        options.setdefault("settings", self.settings)
        return InvoicePipeline(
            VirtuagymInvoices(vg_client),
            exact,
            self.config,
            self.store,
            clock=self.clock,
            **options,
        )

    def run(self, **options: Any) -> SyncReport:
        return self.pipeline(**options).run()

    def entries(self) -> dict[str, Any]:
        """Exact's sales entries by YourRef."""
        exact = self.exact_fake.client(DIVISION)
        return {entry.your_ref: entry for entry in exact.sales_entries.iterate()}

    def writes(self) -> int:
        return sum(self.exact_fake.count(method) for method in ("POST", "PUT", "DELETE"))


def _world(store: StateStore) -> World:
    clock = FakeClock(dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.timezone.utc))
    vg = FakeVirtuagym(clock=clock)
    exact = FakeExactOnline(clock=clock)
    exact.add_division(DIVISION, template="nl", customers=["Kassaverkoop"])
    return World(clock, vg, exact, store)


@pytest.fixture
def world() -> Iterator[World]:
    store = MemoryStateStore()
    yield _world(store)
    store.close()


def membership(world: World, member_id: int, day: dt.date, price: str = "39.95") -> dict[str, Any]:
    return world.vg.add_invoice(
        member_id=member_id,
        invoice_date=day,
        rows=[{"name": f"Abonnement {day:%B}", "price": Decimal(price), "tax": 2}],
    )


def reprice(world: World, invoice: dict[str, Any], price: str) -> None:
    """Change the price of the invoice's (single) row, as an edit in Virtuagym would."""
    row = invoice["rows"][0]
    gross = Decimal(price)
    net = (gross / (1 + row["club_tax_perc"] / 100)).quantize(_CENT, rounding=ROUND_HALF_UP)
    row.update(price=gross, price_ex_vat=net, vat=gross - net)
    world.vg.edit_invoice(invoice["guid"], price=gross, price_ex_vat=net, amount_due=gross)


def gross(entry: Any) -> Decimal:
    return Decimal(entry.amount_fc)


def seed_small(world: World) -> list[dict[str, Any]]:
    ann = world.vg.add_member(firstname="Ann", lastname="Smit")["member_id"]
    bob = world.vg.add_member(firstname="Bob", lastname="Jansen")["member_id"]
    return [
        membership(world, ann, dt.date(2025, 3, 1)),
        membership(world, bob, dt.date(2025, 3, 1), "24.95"),
        membership(world, ann, dt.date(2025, 4, 1)),
    ]


# -- booking once ----------------------------------------------------------------------------


def test_first_run_books_each_invoice_once_and_second_run_writes_nothing(world: World) -> None:
    invoices = seed_small(world)
    report = world.run()
    # Every call is counted: reads of reference data, 2 accounts, 3 entries.
    assert report.exact_calls == world.exact_fake.count(path="/api/v1/") == 10
    assert report.status is RunStatus.SUCCEEDED
    assert len(report.booked) == 3
    assert report.accounts_created == 2
    entries = world.entries()
    assert sorted(entries) == sorted(str(inv["id"]) for inv in invoices)
    for invoice in invoices:
        assert gross(entries[str(invoice["id"])]) == invoice["price"]
    assert world.exact_fake.count("POST", "SalesEntries") == 3

    writes = world.writes()
    again = world.run()
    assert again.status is RunStatus.SUCCEEDED
    assert again.unchanged == 3
    assert not again.results
    assert world.writes() == writes
    # Nothing to write: not even the reference data is read.
    assert again.exact_calls == 0
    assert [run.status for run in world.store.recent_runs(report.pipeline)] == [
        RunStatus.SUCCEEDED,
        RunStatus.SUCCEEDED,
    ]


def test_customers_are_remembered_when_the_member_number_changes(world: World) -> None:
    member = world.vg.add_member(firstname="Cas", lastname="Visser", club_member_id="77")
    membership(world, member["member_id"], dt.date(2025, 3, 1))
    assert world.run().accounts_created == 1
    # The club renumbers the member: the remembered Exact account is used, no duplicate.
    world.vg.touch_member(member["member_id"], club_member_id="1077")
    membership(world, member["member_id"], dt.date(2025, 4, 1))
    report = world.run()
    assert len(report.booked) == 1
    assert report.accounts_created == 0
    customers = {entry.customer for entry in world.entries().values()}
    assert len(customers) == 1


def test_a_bad_record_fails_alone_and_is_booked_after_the_config_is_fixed(world: World) -> None:
    seed_small(world)
    world.vg.add_default_taxes()
    odd = world.vg.add_invoice(
        member_id=None,
        invoice_date=dt.date(2025, 3, 2),
        rows=[{"name": "Dagpas", "price": Decimal("12.00"), "tax": 0}],
    )
    world.config = BookingConfig.from_mapping({**CONFIG, "vat": {"codes": {"1": "2", "2": "1"}}})
    failures: list[SyncReport] = []
    report = world.run(on_failure=failures.append)
    assert report.status is RunStatus.PARTIAL
    assert [r.record_id for r in report.failed] == [odd["guid"]]
    assert "vat" in (report.failed[0].reason or "").lower()
    assert len(report.booked) == 3
    assert failures == [report]
    key = BookingKey("virtuagym", str(world.vg.club_id), odd["guid"])
    stored = world.store.get(key)
    assert stored is not None
    assert stored.status is BookingStatus.FAILED

    # Fixing the configuration is all it takes: the next run retries by itself.
    world.config = BookingConfig.from_mapping(CONFIG)
    fixed = world.run()
    assert fixed.status is RunStatus.SUCCEEDED
    assert [r.record_id for r in fixed.booked] == [odd["guid"]]
    assert str(odd["id"]) in world.entries()


def test_the_on_failure_hook_cannot_break_a_run(world: World) -> None:
    seed_small(world)
    world.config = BookingConfig.from_mapping({**CONFIG, "vat": {"codes": {"1": "2"}}})

    def explode(report: SyncReport) -> None:
        raise RuntimeError("mail server down")

    report = world.run(on_failure=explode)
    assert report.status is RunStatus.PARTIAL


# -- exactly once under crashes --------------------------------------------------------------


class Killed(BaseException):
    """A crash: not an Exception, so nothing in the engine catches it."""


class KillingStore:
    """A state store that dies before or after its ``at``-th write (1-based)."""

    WRITES = (
        "record_intent",
        "mark_booked",
        "mark_failed",
        "mark_skipped",
        "mark_reversed",
        "mark_deleted",
    )

    def __init__(self, inner: StateStore, at: int, after: bool) -> None:
        self.inner = inner
        self.at = at
        self.after = after
        self.writes = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in self.WRITES:
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            self.writes += 1
            if self.writes == self.at and not self.after:
                raise Killed(f"before {name}")
            result = attribute(*args, **kwargs)
            if self.writes == self.at and self.after:
                raise Killed(f"after {name}")
            return result

        return write


def _count_writes(invoices: int) -> int:
    """How many store writes a clean run of the small world makes."""
    store = MemoryStateStore()
    world = _world(store)
    seed_small(world)
    counter = KillingStore(store, at=10**9, after=False)
    world.store = counter  # type: ignore[assignment]
    world.run()
    return counter.writes


def _assert_exactly_once(world: World, invoices: list[dict[str, Any]]) -> None:
    entries = world.entries()
    assert sorted(entries) == sorted(str(inv["id"]) for inv in invoices)
    for invoice in invoices:
        assert gross(entries[str(invoice["id"])]) == invoice["price"]
    exact = world.exact_fake.client(DIVISION)
    codes = [a.code.strip() for a in exact.accounts.iter_bulk(select=["Code"]) if a.code]
    assert len(codes) == len(set(codes)), codes


@pytest.mark.parametrize("after", [False, True], ids=["before-write", "after-write"])
def test_killed_at_every_step_then_rerun_books_exactly_once(after: bool) -> None:
    total = _count_writes(3)
    assert total >= 10  # 2 accounts and 3 entries, intent + outcome each
    for at in range(1, total + 1):
        store = MemoryStateStore()
        world = _world(store)
        invoices = seed_small(world)
        world.store = KillingStore(store, at=at, after=after)  # type: ignore[assignment]
        with pytest.raises(Killed):
            world.run()
        world.store = store
        report = world.run()
        assert report.status is RunStatus.SUCCEEDED, (at, report.as_dict())
        _assert_exactly_once(world, invoices)
        assert world.run().results == ()


@pytest.mark.parametrize("path", ["salesentry/SalesEntries", "crm/Accounts"])
def test_lost_response_after_commit_is_resolved_by_natural_key(world: World, path: str) -> None:
    invoices = seed_small(world)
    world.exact_fake.fail_next(Fault.LOST_RESPONSE, method="POST", path=path)
    first = world.run()
    assert first.status is RunStatus.PARTIAL
    assert "outcome unknown" in (first.failed[0].reason or "")
    posts = world.exact_fake.count("POST", path)
    second = world.run()
    assert second.status is RunStatus.SUCCEEDED
    # The lost write was found in Exact, not written again.
    _assert_exactly_once(world, invoices)
    if path.endswith("SalesEntries"):
        assert world.exact_fake.count("POST", path) == posts
        assert len(second.booked) == 0
    else:
        assert second.accounts_created == 0


def test_a_failed_lookup_keeps_the_outcome_unknown(world: World) -> None:
    invoices = seed_small(world)
    world.exact_fake.fail_next(Fault.LOST_RESPONSE, method="POST", path="SalesEntries")
    world.run()
    lost = BookingKey("virtuagym", str(world.vg.club_id), invoices[0]["guid"])
    # The lookup that would settle the lost write fails too: Exact answers 500 to the
    # first try and to each of the client's three retries.
    world.exact_fake.fail_next(Fault.SERVER_ERROR, times=4, method="GET", path="SalesEntries")
    second = world.run()
    assert [r.record_id for r in second.failed] == [invoices[0]["guid"]]
    stored = world.store.get(lost)
    assert stored is not None
    assert stored.status is BookingStatus.PENDING  # never FAILED: that would skip the lookup
    third = world.run()
    assert third.status is RunStatus.SUCCEEDED, third.as_dict()
    _assert_exactly_once(world, invoices)


def test_sqlite_store_survives_a_crash_between_runs(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = SQLiteStateStore(path)
    world = _world(store)
    invoices = seed_small(world)
    world.store = KillingStore(store, at=4, after=True)  # type: ignore[assignment]
    with pytest.raises(Killed):
        world.run()
    store.close()
    reopened = SQLiteStateStore(path)
    try:
        world.store = reopened
        assert world.run().status is RunStatus.SUCCEEDED
        _assert_exactly_once(world, invoices)
        runs = reopened.recent_runs()
        assert runs[-1].status is RunStatus.RUNNING  # the crashed run stays visible
    finally:
        reopened.close()


# -- changes and deletions -------------------------------------------------------------------


def test_a_changed_invoice_is_updated_in_place(world: World) -> None:
    invoices = seed_small(world)
    world.run()
    before = world.entries()[str(invoices[0]["id"])]
    reprice(world, invoices[0], "44.95")
    report = world.run()
    assert [r.record_id for r in report.updated] == [invoices[0]["guid"]]
    after = world.entries()[str(invoices[0]["id"])]
    assert after.entry_id == before.entry_id
    assert gross(after) == Decimal("44.95")
    assert len(world.entries()) == 3
    assert world.run().results == ()


def test_a_change_in_a_closed_period_is_reversed_and_rebooked(world: World) -> None:
    invoices = seed_small(world)
    world.run()
    world.exact_fake.domain.close_period(DIVISION, 2025, 3)
    reprice(world, invoices[0], "44.95")
    report = world.run()
    assert [r.record_id for r in report.reversed] == [invoices[0]["guid"]]
    assert report.reversed[0].rebooked
    number = str(invoices[0]["id"])
    entries = world.entries()
    assert gross(entries[number]) == Decimal("39.95")
    assert gross(entries[f"{number}-R1"]) == Decimal("-39.95")
    assert gross(entries[f"{number}-V2"]) == Decimal("44.95")
    # The reversal is booked in the first open period (today's), not the closed one.
    assert entries[f"{number}-R1"].reporting_period == 6
    net = sum((gross(e) for ref, e in entries.items() if ref.startswith(number)), Decimal(0))
    assert net == Decimal("44.95")
    assert world.run().results == ()


def test_reverse_policy_always_reverses(world: World) -> None:
    invoices = seed_small(world)
    world.settings = SyncSettings(on_change=ChangePolicy.REVERSE)
    world.run()
    reprice(world, invoices[1], "20.00")
    report = world.run()
    assert len(report.reversed) == 1
    number = str(invoices[1]["id"])
    assert {ref for ref in world.entries() if ref.startswith(number)} == {
        number,
        f"{number}-R1",
        f"{number}-V2",
    }
    # A second change reverses version 2 and books version 3.
    reprice(world, invoices[1], "21.00")
    world.run()
    entries = world.entries()
    assert gross(entries[f"{number}-R2"]) == Decimal("-20.00")
    assert gross(entries[f"{number}-V3"]) == Decimal("21.00")


def test_ignore_policy_reports_the_change_and_writes_nothing(world: World) -> None:
    invoices = seed_small(world)
    world.settings = SyncSettings(on_change=ChangePolicy.IGNORE)
    world.run()
    writes = world.writes()
    reprice(world, invoices[0], "44.95")
    report = world.run()
    assert [r.action for r in report.results] == [Action.SKIPPED]
    assert world.writes() == writes


def test_a_deleted_invoice_is_reversed(world: World) -> None:
    invoices = seed_small(world)
    world.run()
    world.vg.edit_invoice(invoices[2]["guid"], deleted=True)
    report = world.run()
    assert [r.record_id for r in report.reversed] == [invoices[2]["guid"]]
    number = str(invoices[2]["id"])
    entries = world.entries()
    assert gross(entries[number]) + gross(entries[f"{number}-R1"]) == 0
    key = BookingKey("virtuagym", str(world.vg.club_id), invoices[2]["guid"])
    stored = world.store.get(key)
    assert stored is not None
    assert stored.status is BookingStatus.DELETED
    assert world.run().results == ()


def test_delete_policy_ignore_and_never_booked_deletions(world: World) -> None:
    invoices = seed_small(world)
    world.settings = SyncSettings(on_delete=DeletePolicy.IGNORE)
    world.run()
    world.vg.edit_invoice(invoices[0]["guid"], deleted=True)
    gone = membership(world, world.vg.add_member()["member_id"], dt.date(2025, 5, 1))
    world.vg.edit_invoice(gone["guid"], deleted=True)
    report = world.run()
    actions = {r.record_id: r.action for r in report.results}
    assert actions == {invoices[0]["guid"]: Action.SKIPPED, gone["guid"]: Action.SKIPPED}
    assert str(gone["id"]) not in world.entries()
    assert len(world.entries()) == 3


def test_a_host_renderer_attaches_the_pdf_as_an_exact_document(world: World) -> None:
    invoices = seed_small(world)
    world.settings = SyncSettings(attach_pdf=True)
    rendered: list[str] = []

    def render(invoice: Any) -> bytes:
        rendered.append(invoice.number)
        return b"%PDF-1.4 invoice " + invoice.number.encode()

    report = world.run(pdf_renderer=render)
    assert len(report.booked) == 3
    assert sorted(rendered) == sorted(str(inv["id"]) for inv in invoices)
    exact = world.exact_fake.client(DIVISION)
    documents = {doc.id: doc for doc in exact.documents.iterate()}
    assert len(documents) == 3
    for entry in world.entries().values():
        assert entry.document in documents
    attachments = list(exact.document_attachments.iterate())
    assert len(attachments) == 3
    assert {a.document for a in attachments} == set(documents)
    # Booked once: a second run renders and attaches nothing.
    rendered.clear()
    assert world.run(pdf_renderer=render).results == ()
    assert rendered == []


# -- settings: sync-from date and backfill -----------------------------------------------------


def test_sync_from_and_backfill(world: World) -> None:
    invoices = seed_small(world)
    world.settings = SyncSettings(sync_from=dt.date(2025, 4, 1))
    report = world.run()
    assert {r.record_id for r in report.skipped} == {invoices[0]["guid"], invoices[1]["guid"]}
    assert [r.record_id for r in report.booked] == [invoices[2]["guid"]]
    # Skips are remembered: the next run does not report them again.
    assert world.run().results == ()
    # Moving the date back books what is now in range.
    world.settings = SyncSettings(sync_from=dt.date(2025, 1, 1))
    assert len(world.run().booked) == 2


def test_without_backfill_only_invoices_from_the_first_run_on_are_booked(world: World) -> None:
    seed_small(world)
    world.settings = SyncSettings(backfill=False)
    report = world.run()
    assert len(report.skipped) == 3
    assert not world.entries()
    fresh = membership(world, world.vg.add_member()["member_id"], dt.date(2025, 6, 2))
    world.clock.advance(3 * 86400)
    assert [r.record_id for r in world.run().booked] == [fresh["guid"]]


def test_settings_from_mapping_names_bad_keys() -> None:
    with pytest.raises(ConfigurationError, match=r"sync\.on_change.*'update'"):
        SyncSettings.from_mapping({"on_change": "rewrite"})
    with pytest.raises(ConfigurationError, match=r"sync\.sync_form"):
        SyncSettings.from_mapping({"sync_form": "2025-01-01"})
    with pytest.raises(ConfigurationError, match=r"sync\.sync_from"):
        SyncSettings.from_mapping({"sync_from": "yesterday"})
    with pytest.raises(ConfigurationError, match=r"sync\.backfill"):
        SyncSettings.from_mapping({"backfill": "yes"})


# -- dry run ---------------------------------------------------------------------------------


def test_preview_writes_nothing_and_shows_the_drafts(world: World) -> None:
    invoices = seed_small(world)
    preview = world.pipeline().preview()
    assert preview.dry_run
    assert preview.run_id is None
    assert len(preview.booked) == 3
    assert preview.accounts_created == 2
    assert world.writes() == 0
    assert world.store.recent_runs() == []
    assert (
        world.store.get(BookingKey("virtuagym", str(world.vg.club_id), invoices[0]["guid"])) is None
    )
    drafts = {r.record_id: r.draft for r in preview.booked}
    draft = drafts[invoices[1]["guid"]]
    assert draft is not None
    assert draft.total_incl_vat == Decimal("24.95")  # type: ignore[union-attr]
    rows = preview.rows()
    assert {row["action"] for row in rows} == {"booked"}
    assert {row["amount"] for row in rows} == {"39.95", "24.95"}
    # And the real run then books exactly what the preview showed.
    report = world.run()
    assert [r.record_id for r in report.booked] == [r.record_id for r in preview.booked]


def test_preview_of_a_change_shows_the_update(world: World) -> None:
    invoices = seed_small(world)
    world.run()
    writes = world.writes()
    reprice(world, invoices[0], "50.00")
    preview = world.pipeline().preview()
    assert [r.action for r in preview.results] == [Action.UPDATED]
    assert world.writes() == writes


# -- limits, outages, retry ------------------------------------------------------------------


def test_daily_limit_stops_the_run_cleanly_and_the_next_day_resumes(world: World) -> None:
    ann = world.vg.add_member()["member_id"]
    invoices = [membership(world, ann, dt.date(2025, 1 + i % 5, 1 + i)) for i in range(14)]
    world.exact_fake.daily_limit = 10
    booked: list[int] = []
    while True:
        report = world.run()
        booked.append(len(report.booked))
        if report.status is not RunStatus.STOPPED:
            break
        assert "daily limit" in report.notes
        assert world.store.recent_runs()[0].status is RunStatus.STOPPED
        assert len(booked) < 5
        world.clock.advance(86400)
    assert report.status is RunStatus.SUCCEEDED
    assert len(booked) >= 2
    assert all(booked)  # every day made progress
    assert sum(booked) == 14
    world.exact_fake.daily_limit = 5000  # room for the test's own reads
    _assert_exactly_once(world, invoices)


def test_an_outage_stops_the_run_and_nothing_is_lost(world: World) -> None:
    invoices = seed_small(world)
    world.exact_fake.fail_next(Fault.CONNECTION_ERROR, method="POST")
    report = world.run()
    assert report.status is RunStatus.STOPPED
    assert "unreachable" in report.notes or "unavailable" in report.notes
    assert world.run().status is RunStatus.SUCCEEDED
    _assert_exactly_once(world, invoices)


def test_retry_runs_only_failed_records(world: World) -> None:
    invoices = seed_small(world)
    world.exact_fake.fail_next(Fault.LOST_RESPONSE, method="POST", path="SalesEntries")
    world.run()
    fresh = membership(world, world.vg.add_member()["member_id"], dt.date(2025, 5, 1))
    report = world.pipeline().retry()
    assert report.status is RunStatus.SUCCEEDED
    assert fresh["guid"] not in {r.record_id for r in report.results}
    _assert_exactly_once(world, invoices)


# -- summary booking -------------------------------------------------------------------------


def test_summary_per_day_books_one_entry_per_day_once(world: World) -> None:
    invoices = seed_small(world)
    world.config = BookingConfig.from_mapping(
        {**CONFIG, "summary": {"mode": "per_day", "collective_debtor_code": "1"}}
    )
    report = world.run()
    assert report.status is RunStatus.SUCCEEDED, report.as_dict()
    assert len(report.booked) == 3
    entries = world.entries()
    assert len(entries) == 2  # 1 March (two invoices) and 1 April
    total = sum((gross(e) for e in entries.values()), Decimal(0))
    assert total == sum((inv["price"] for inv in invoices), Decimal(0))
    late = membership(world, world.vg.add_member()["member_id"], dt.date(2025, 3, 1), "10.00")
    again = world.run()
    assert [r.record_id for r in again.booked] == [late["guid"]]
    assert len(world.entries()) == 3  # a second summary for 1 March, never a duplicate


# -- scheduling and the run lock -----------------------------------------------------------------


def test_run_every_runs_on_the_clock_and_reports_failures(world: World) -> None:
    seed_small(world)
    pipeline = world.pipeline()
    start = world.clock.now()
    reports = run_every(15, pipeline, clock=world.clock, max_runs=3)
    assert [len(r.booked) for r in reports] == [3, 0, 0]
    assert world.clock.now() - start >= dt.timedelta(minutes=30)


def test_a_busy_pipeline_is_reported_not_run(tmp_path: Path) -> None:
    store = SQLiteStateStore(tmp_path / "state.sqlite3")
    try:
        world = _world(store)
        seed_small(world)
        pipeline = world.pipeline()
        busy: list[PipelineBusyError] = []
        with RunLock(tmp_path / "state.sqlite3", pipeline.name):
            with pytest.raises(PipelineBusyError):
                run_locked(pipeline)
            reports = run_every(5, pipeline, clock=world.clock, max_runs=2, on_busy=busy.append)
        assert reports == []
        assert len(busy) == 2
        assert world.writes() == 0
        assert len(run_locked(pipeline).booked) == 3
    finally:
        store.close()


def test_run_every_refuses_nonsense() -> None:
    store = MemoryStateStore()
    pipeline = _world(store).pipeline()
    with pytest.raises(ConfigurationError, match="minutes"):
        run_every(0, pipeline, max_runs=1)
    with pytest.raises(ConfigurationError, match="max_runs"):
        run_every(1, pipeline, max_runs=0)


# -- small pieces ----------------------------------------------------------------------------


def test_content_hash_ignores_edit_times_but_not_amounts(world: World) -> None:
    invoices = seed_small(world)
    batch = world.pipeline().source.fetch(None)
    first = batch.invoices[0]
    touched = attrs.evolve(first, changed_at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc))
    assert content_hash(touched) == content_hash(first)
    line = attrs.evolve(first.lines[0], amount=first.lines[0].amount + 1)
    assert content_hash(attrs.evolve(first, lines=[line])) != content_hash(first)
    assert invoices


def test_report_as_dict_is_json_ready(world: World) -> None:
    import json

    seed_small(world)
    report = world.run()
    data = json.loads(json.dumps(report.as_dict()))
    assert data["counts"]["booked"] == 3
    assert data["status"] == "succeeded"
    assert data["exact_calls"] == report.exact_calls
    assert all(uuid.UUID(row["exact_id"]) for row in data["results"])
    assert any("booked" in line for line in report.lines())
