"""The payout pipeline end to end: Pay. fake -> engine -> Exact fake (bank entries).

Open receivables are created as plain sales entries through the Exact client; Pay.
settlements pay them through ``FakePay``. Exact's contents are read back through the
Exact client (the fake shares no parsing code with it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.exact import NewAccount, NewSalesEntry, NewSalesEntryLine, P
from exactbridge.mapping import BankEntryDraft, BookingConfig
from exactbridge.records import Payout
from exactbridge.sources.paynl import PayClient
from exactbridge.sync import (
    BookingKey,
    BookingStatus,
    MemoryStateStore,
    RunStatus,
    SQLiteStateStore,
    StateStore,
    SyncSettings,
)
from exactbridge.sync.payouts import (
    PayoutBatch,
    PayoutPipeline,
    PayoutSource,
    PayPayouts,
    payout_hash,
    payout_marker,
)
from exactbridge.testing import FakeClock, FakeExactOnline, FakePay, FakePayTransaction, Fault

DIVISION = 1001
START = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.timezone.utc)
WEBSHOP = "CT-1111-2222"
CONTRIBUTIE = "CT-3333-4444"
PAYMENTS = {
    "bank_journal": "20",
    "debtors_account": "1300",
    "psp_cost_account": "4510",
    "payout_account": "1110",
    "unassigned_account": "2050",
}


def config(**payments: Any) -> BookingConfig:
    return BookingConfig.from_mapping({"sales_journal": "70", "payments": {**PAYMENTS, **payments}})


@attrs.define
class World:
    clock: FakeClock
    fake: FakeExactOnline
    pay: FakePay
    store: StateStore
    config: BookingConfig = attrs.field(factory=config)
    customers: dict[str, uuid.UUID] = attrs.field(factory=dict)
    counter: int = 0

    @property
    def exact(self) -> Any:
        return self.fake.client(DIVISION)

    def pay_client(self) -> PayClient:
        return PayClient(self.pay.token_code, self.pay.api_token, transport=self.pay.transport())

    def pipeline(self, **options: Any) -> PayoutPipeline:
        source = options.pop("source", None) or PayPayouts(self.pay_client())
        return PayoutPipeline(
            source, self.fake.client(DIVISION), self.config, self.store, clock=self.clock, **options
        )

    def invoice(self, your_ref: str, amount: str, customer: str = "501") -> None:
        """An open receivable: a sales entry (0 % VAT) of ``amount`` on ``customer``."""
        exact = self.exact
        if customer not in self.customers:
            created = exact.accounts.create(
                NewAccount(name=f"Lid {customer}", code=customer, status="C", is_sales=True)
            )
            self.customers[customer] = created.id
        gl = exact.gl_accounts.first(filter=P("Code") == "8020")
        exact.sales_entries.create(
            NewSalesEntry(
                customer=self.customers[customer],
                journal="70",
                lines=[
                    NewSalesEntryLine(
                        gl_account=gl.id,
                        amount_fc=Decimal(amount),
                        vat_code="0",
                        vat_amount_fc=Decimal("0"),
                        description=f"Contributie {your_ref}",
                    )
                ],
                entry_date=dt.date(2026, 1, 2),
                your_ref=your_ref,
            )
        )

    def settle(
        self,
        *payments: tuple[str, str],
        group: str = WEBSHOP,
        costs: int = 25,
        date: dt.date = dt.date(2026, 1, 20),
    ) -> str:
        """A Pay. settlement of ``(reference, amount)`` payments, ``costs`` cents each."""
        txs = []
        for reference, amount in payments:
            self.counter += 1
            n = self.counter
            txs.append(
                FakePayTransaction(
                    id=f"EX-{n:04d}-0000-{n:04d}",
                    order_id=f"{n:08d}X01",
                    reference=reference,
                    amount_cents=int(Decimal(amount) * 100),
                    costs_cents=costs,
                    costs_vat_cents=costs * 21 // 121,
                    group=group,
                    description=f"Betaling {reference}",
                    completed_at=dt.datetime.combine(
                        date - dt.timedelta(days=1), dt.time(12), tzinfo=dt.timezone.utc
                    ),
                )
            )
        return self.pay.add_settlement(txs, date=date)

    def open_refs(self) -> set[str]:
        """``YourRef`` of every receivable still open in Exact."""
        return {item.your_ref for item in self.exact.receivables_list.iterate()}

    def bank_entries(self) -> list[Any]:
        return list(self.exact.bank_entries.iterate())

    def lines_by_gl(self, entry: Any) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for row in self.exact.bank_entries.children(entry.entry_id, "BankEntryLines"):
            out.setdefault(str(row["GLAccountCode"]).strip(), []).append(row)
        return out

    def posts(self) -> int:
        return self.fake.count("POST")

    def record(self, source_id: str) -> Any:
        return self.store.get(BookingKey("paynl", self.pay.token_code, source_id, "payout"))


def amount(row: dict[str, Any]) -> Decimal:
    return Decimal(str(row["AmountFC"]))


@pytest.fixture
def world() -> Iterator[World]:
    clock = FakeClock(START)
    fake = FakeExactOnline(clock=clock)
    fake.add_division(DIVISION, template="nl")
    store = MemoryStateStore()
    yield World(clock, fake, FakePay(), store)
    store.close()


# -- booking and matching ----------------------------------------------------------------


def test_matched_payments_close_their_receivables_and_every_line_lands_on_its_account(
    world: World,
) -> None:
    world.invoice("F-1", "40.00", customer="501")
    world.invoice("F-2", "25.50", customer="502")
    world.invoice("F-3", "60.00", customer="503")
    code = world.settle(("F-1", "40.00"), ("F-2", "25.50"), ("F-3", "59.00"), ("X-9", "10.00"))

    report = world.pipeline().run()

    assert report.status is RunStatus.SUCCEEDED
    [row] = report.booked
    assert row.record_id == code
    # 134.50 paid, 4 x 0.25 withheld
    assert row.amount == Decimal("133.50")
    assert row.reason is not None
    assert row.reason.startswith("2 payment(s) matched, 2 unmatched")
    assert "F-3" in row.reason
    assert "X-9" in row.reason
    # The matched invoices are closed in Exact, the short-paid one stays open.
    assert world.open_refs() == {"F-3"}
    [entry] = world.bank_entries()
    assert str(entry.entry_id) == row.exact_id
    assert entry.journal_code.strip() == "20"
    lines = world.lines_by_gl(entry)
    debtors = sorted(lines["1300"], key=amount)
    assert [amount(r) for r in debtors] == [Decimal("25.50"), Decimal("40.00")]
    assert all(r["Account"] is not None and r["OurRef"] is not None for r in debtors)
    assert sorted(amount(r) for r in lines["2050"]) == [Decimal("10.00"), Decimal("59.00")]
    assert all(r["Account"] is None for r in lines["2050"])
    assert sum(amount(r) for r in lines["4510"]) == Decimal("-1.00")
    [transfer] = lines["1110"]
    assert amount(transfer) == Decimal("-133.50")
    assert transfer["Description"] == f"Payout {code}"
    assert sum(amount(r) for rows in lines.values() for r in rows) == Decimal("0")
    record = world.record(code)
    assert record.status is BookingStatus.BOOKED
    assert record.exact_id == row.exact_id
    assert record.your_ref == f"Payout {code}"


def test_a_rerun_books_nothing_twice_and_costs_no_exact_call(world: World) -> None:
    world.invoice("F-1", "40.00")
    world.settle(("F-1", "40.00"))
    pipeline = world.pipeline()
    assert len(pipeline.run().booked) == 1
    assert world.fake.count("POST", "financialtransaction/BankEntries") == 1
    world.fake.clear_calls()

    again = pipeline.run()

    assert again.status is RunStatus.SUCCEEDED
    assert again.results == ()
    assert again.unchanged == 1
    assert again.exact_calls == 0
    assert world.fake.calls == []
    assert len(world.bank_entries()) == 1


def test_the_cursor_reads_from_the_last_settlement_date_on(world: World) -> None:
    world.invoice("F-1", "40.00")
    world.invoice("F-2", "30.00")
    world.settle(("F-1", "40.00"), date=dt.date(2026, 1, 20))
    pipeline = world.pipeline()
    pipeline.run()
    world.settle(("F-2", "30.00"), date=dt.date(2026, 1, 27))

    report = pipeline.run()

    settlement_reads = [c for c in world.pay.calls if c.path.endswith("/settlements")]
    assert settlement_reads[-1].params.get("settlementDate[gte]") == "2026-01-20"
    assert [r.amount for r in report.booked] == [Decimal("29.75")]
    assert report.unchanged == 1
    assert world.open_refs() == set()


def test_a_receivable_matched_by_one_payout_is_not_matched_again_in_the_same_run(
    world: World,
) -> None:
    world.invoice("F-1", "40.00")
    first = world.settle(("F-1", "40.00"), date=dt.date(2026, 1, 20))
    second = world.settle(("F-1", "40.00"), date=dt.date(2026, 1, 21))

    report = world.pipeline().run()

    rows = {row.record_id: row for row in report.booked}
    assert rows[first].reason == "1 payment(s) matched, 0 unmatched"
    assert rows[second].reason is not None
    assert rows[second].reason.startswith("0 payment(s) matched, 1 unmatched")
    entries = {entry.entry_id: entry for entry in world.bank_entries()}
    second_lines = world.lines_by_gl(entries[uuid.UUID(rows[second].exact_id or "")])
    assert "1300" not in second_lines
    assert [amount(r) for r in second_lines["2050"]] == [Decimal("40.00")]


def test_unmatched_payments_can_go_to_the_standard_debtor(world: World) -> None:
    world.invoice("F-1", "40.00", customer="1")  # customer 1 doubles as the standard debtor
    world.settle(("NOPE", "12.00"))
    world.config = config(unmatched="standard_debtor", standard_debtor_code="1")

    report = world.pipeline().run()

    [row] = report.booked
    [entry] = world.bank_entries()
    [line] = world.lines_by_gl(entry)["1300"]
    assert amount(line) == Decimal("12.00")
    assert line["Account"] == str(world.customers["1"])
    assert row.reason is not None
    assert "1 unmatched" in row.reason


def test_the_open_items_can_be_read_from_the_receivables_list(world: World) -> None:
    world.invoice("F-1", "40.00")
    world.invoice("F-2", "15.00")
    world.settle(("F-1", "40.00"), ("F-2", "15.00"))
    world.fake.clear_calls()

    report = world.pipeline(receivables="list").run()

    assert report.booked[0].reason == "2 payment(s) matched, 0 unmatched"
    assert world.fake.count("GET", "read/financial/ReceivablesList") == 1
    assert world.fake.count("GET", "bulk/Cashflow/Receivables") == 0
    assert world.open_refs() == set()


def test_reference_data_and_receivables_are_read_once_per_run(world: World) -> None:
    for n in range(1, 6):
        world.invoice(f"F-{n}", f"{n}0.00")
    for n in range(1, 6):
        world.settle((f"F-{n}", f"{n}0.00"), date=dt.date(2026, 1, 10 + n))
    world.fake.clear_calls()

    report = world.pipeline().run()

    assert len(report.booked) == 5
    assert world.fake.count("GET", "bulk/Cashflow/Receivables") == 1
    assert world.fake.count("GET", "bulk/Financial/GLAccounts") == 1
    assert world.fake.count("GET", "financial/Journals") == 1
    assert world.fake.count("POST", "financialtransaction/BankEntries") == 5
    assert report.exact_calls == world.fake.count()


# -- revenue groups, dates ---------------------------------------------------------------


def test_payouts_of_unselected_revenue_groups_are_skipped_once(world: World) -> None:
    world.invoice("F-1", "40.00")
    world.invoice("F-2", "30.00")
    kept = world.settle(("F-1", "40.00"), group=WEBSHOP)
    dropped = world.settle(("F-2", "30.00"), group=CONTRIBUTIE, date=dt.date(2026, 1, 21))
    world.config = config(revenue_groups=[WEBSHOP])
    pipeline = world.pipeline()

    report = pipeline.run()

    assert [r.record_id for r in report.booked] == [kept]
    [skipped] = report.skipped
    assert skipped.record_id == dropped
    assert skipped.reason is not None
    assert CONTRIBUTIE in skipped.reason
    assert world.open_refs() == {"F-2"}
    assert world.record(dropped).status is BookingStatus.SKIPPED
    world.fake.clear_calls()

    again = pipeline.run()

    assert again.results == ()
    assert again.unchanged == 1  # the cursor's day is read again: the skipped one
    assert again.exact_calls == 0


def test_a_skipped_revenue_group_is_booked_once_it_is_selected(world: World) -> None:
    world.invoice("F-2", "30.00")
    code = world.settle(("F-2", "30.00"), group=CONTRIBUTIE)
    world.config = config(revenue_groups=[WEBSHOP])
    world.pipeline().run()
    world.config = config(revenue_groups=[WEBSHOP, CONTRIBUTIE])

    report = world.pipeline().run()

    assert [r.record_id for r in report.booked] == [code]
    assert world.open_refs() == set()


def test_a_settlement_split_per_revenue_group_books_the_selected_group(world: World) -> None:
    world.invoice("F-1", "40.00")
    world.invoice("F-2", "30.00")
    settlement = world.settle(("F-1", "40.00"))
    # the same settlement also holds a contribution payment
    world.pay.settlements[settlement].transactions.append(
        FakePayTransaction(
            id="EX-0900-0000-0900",
            order_id="00000900X01",
            reference="F-2",
            amount_cents=3000,
            costs_cents=25,
            group=CONTRIBUTIE,
        )
    )
    world.config = config(revenue_groups=[WEBSHOP])
    source = PayPayouts(world.pay_client(), per_revenue_group=True)

    report = world.pipeline(source=source).run()

    assert [r.record_id for r in report.booked] == [f"{settlement}:{WEBSHOP}"]
    assert [r.record_id for r in report.skipped] == [f"{settlement}:{CONTRIBUTIE}"]
    [entry] = world.bank_entries()
    [transfer] = world.lines_by_gl(entry)["1110"]
    assert transfer["Description"] == f"Payout {settlement}:{WEBSHOP}"
    assert world.open_refs() == {"F-2"}


def test_payouts_before_sync_from_are_skipped(world: World) -> None:
    world.invoice("F-1", "40.00")
    old = world.settle(("F-1", "40.00"), date=dt.date(2026, 1, 5))
    settings = SyncSettings(sync_from=dt.date(2026, 1, 10))

    report = world.pipeline(settings=settings).run()

    [row] = report.skipped
    assert row.record_id == old
    assert row.reason is not None
    assert "2026-01-10" in row.reason
    assert world.posts() == 2  # the seeded account and sales entry only


def test_payouts_after_sync_until_wait_for_a_later_run(world: World) -> None:
    world.invoice("F-1", "40.00")
    world.invoice("F-2", "25.00")
    early = world.settle(("F-1", "40.00"), date=dt.date(2026, 1, 5))
    late = world.settle(("F-2", "25.00"), date=dt.date(2026, 1, 20))
    bounded = world.pipeline(settings=SyncSettings(sync_until=dt.date(2026, 1, 10)))

    report = bounded.run()

    assert [row.record_id for row in report.booked] == [early]
    [row] = report.skipped
    assert row.record_id == late
    assert row.reason == (
        "settled 2026-01-20, after the sync-until date 2026-01-10; left for a later run"
    )
    assert world.record(late) is None  # nothing stored for it
    assert world.open_refs() == {"F-2"}

    later = world.pipeline(settings=SyncSettings()).run()
    assert [row.record_id for row in later.booked] == [late]
    assert world.open_refs() == set()
    assert len(world.bank_entries()) == 2


# -- exactly once ----------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    store: StateStore = (
        MemoryStateStore() if request.param == "memory" else SQLiteStateStore(tmp_path / "s.db")
    )
    yield store
    store.close()


def test_a_lost_answer_then_a_rerun_leaves_exactly_one_bank_entry(
    world: World, any_store: StateStore
) -> None:
    world.store = any_store
    world.invoice("F-1", "40.00")
    code = world.settle(("F-1", "40.00"), ("X-1", "5.00"))
    world.fake.fail_next(
        Fault.LOST_RESPONSE, method="POST", path="financialtransaction/BankEntries"
    )

    first = world.pipeline().run()

    [failed] = first.failed
    assert failed.record_id == code
    assert failed.reason is not None
    assert failed.reason.startswith("outcome unknown")
    assert first.status is RunStatus.PARTIAL
    assert world.record(code).status is BookingStatus.PENDING
    assert len(world.bank_entries()) == 1  # the write was committed, the answer lost
    posts = world.fake.count("POST", "financialtransaction/BankEntries")

    second = world.pipeline().run()

    assert world.fake.count("POST", "financialtransaction/BankEntries") == posts
    [entry] = world.bank_entries()
    record = world.record(code)
    assert record.status is BookingStatus.BOOKED
    assert record.exact_id == str(entry.entry_id)
    assert second.unchanged == 1
    assert second.failed == ()
    assert world.open_refs() == set()


def test_a_failed_lookup_keeps_the_payout_pending_until_exact_answers(world: World) -> None:
    world.invoice("F-1", "40.00")
    code = world.settle(("F-1", "40.00"))
    world.fake.fail_next(
        Fault.LOST_RESPONSE, method="POST", path="financialtransaction/BankEntries"
    )
    world.pipeline().run()
    # the natural-key lookup itself fails (every retry of the GET answers 500)
    world.fake.fail_next(
        Fault.SERVER_ERROR, times=4, method="GET", path="financialtransaction/TransactionLines"
    )

    second = world.pipeline().run()

    assert [r.record_id for r in second.failed] == [code]
    assert world.record(code).status is BookingStatus.PENDING

    third = world.pipeline().run()

    assert third.unchanged == 1
    assert world.fake.count("POST", "financialtransaction/BankEntries") == 1
    assert len(world.bank_entries()) == 1
    assert world.record(code).status is BookingStatus.BOOKED


def test_a_write_that_never_arrived_is_written_again_once(world: World) -> None:
    world.invoice("F-1", "40.00")
    code = world.settle(("F-1", "40.00"))
    world.fake.fail_next(Fault.TIMEOUT, method="POST", path="financialtransaction/BankEntries")

    first = world.pipeline().run()

    assert first.status is RunStatus.PARTIAL
    assert world.record(code).status is BookingStatus.PENDING
    assert world.bank_entries() == []
    world.fake.clear_calls()

    second = world.pipeline().run()

    # looked up by its natural key first, found missing, then written once
    assert world.fake.count("GET", "financialtransaction/TransactionLines") == 1
    assert [r.record_id for r in second.booked] == [code]
    assert world.fake.count("POST", "financialtransaction/BankEntries") == 1
    assert len(world.bank_entries()) == 1
    assert world.open_refs() == set()


def test_an_unreachable_exact_stops_the_run_and_the_next_run_books(world: World) -> None:
    world.invoice("F-1", "40.00")
    code = world.settle(("F-1", "40.00"))
    world.fake.fail_next(
        Fault.CONNECTION_ERROR, method="POST", path="financialtransaction/BankEntries"
    )

    first = world.pipeline().run()

    assert first.status is RunStatus.STOPPED
    assert first.booked == ()
    assert world.bank_entries() == []

    second = world.pipeline().run()

    assert [r.record_id for r in second.booked] == [code]
    assert len(world.bank_entries()) == 1


def test_a_refused_payout_fails_alone_and_is_retried_after_the_fix(world: World) -> None:
    world.invoice("F-1", "40.00")
    world.invoice("F-2", "30.00")
    bad = world.settle(("F-1", "40.00"), date=dt.date(2026, 1, 20))
    good = world.settle(("F-2", "30.00"), date=dt.date(2026, 1, 21))
    world.pay.add_raw_record(bad, {"id": "EX-BROKEN", "amount": "lots"})

    first = world.pipeline().run()

    assert first.status is RunStatus.PARTIAL
    assert [r.record_id for r in first.booked] == [good]
    assert [r.record_id for r in first.failed] == [bad]
    assert world.record(bad).status is BookingStatus.FAILED
    assert world.open_refs() == {"F-1"}

    world.pay.settlements[bad].raw_records.clear()
    second = world.pipeline().retry()

    assert [r.record_id for r in second.booked] == [bad]
    assert second.status is RunStatus.SUCCEEDED
    assert world.open_refs() == set()


def test_a_payout_that_does_not_map_fails_with_its_reason(world: World) -> None:
    world.invoice("F-1", "40.00")
    code = world.settle(("F-1", "40.00"))
    world.config = config(bank_journal="70")  # a sales journal, not a bank journal

    report = world.pipeline().run()

    [failed] = report.failed
    assert failed.record_id == code
    assert failed.reason is not None
    assert "bank_journal" in failed.reason
    assert world.record(code).status is BookingStatus.FAILED
    world.config = config()

    fixed = world.pipeline().run()

    assert [r.record_id for r in fixed.booked] == [code]


def test_the_daily_limit_stops_the_run_and_the_next_day_resumes(world: World) -> None:
    world.invoice("F-1", "40.00")
    world.invoice("F-2", "30.00")
    first_code = world.settle(("F-1", "40.00"), date=dt.date(2026, 1, 20))
    second_code = world.settle(("F-2", "30.00"), date=dt.date(2026, 1, 21))
    used = world.fake.rate_limit_used(DIVISION)[1]
    # reference data (4 reads) + receivables (1) + the first POST
    world.fake.daily_limit = used + 6

    stopped = world.pipeline().run()

    assert stopped.status is RunStatus.STOPPED
    assert [r.record_id for r in stopped.booked] == [first_code]
    assert "daily limit" in stopped.notes
    world.clock.advance(24 * 3600)
    world.fake.daily_limit = 5000

    resumed = world.pipeline().run()

    assert [r.record_id for r in resumed.booked] == [second_code]
    assert len(world.bank_entries()) == 2


# -- dry run -------------------------------------------------------------------------------


def test_a_dry_run_writes_nothing_anywhere(world: World) -> None:
    world.invoice("F-1", "40.00")
    code = world.settle(("F-1", "40.00"), ("X-1", "5.00"))
    posts = world.posts()

    preview = world.pipeline().preview()

    assert preview.dry_run
    [row] = preview.booked
    assert row.record_id == code
    assert isinstance(row.draft, BankEntryDraft)
    assert row.draft.transfer_line.description == f"Payout {code}"
    assert row.reason is not None
    assert row.reason.startswith("1 payment(s) matched, 1 unmatched")
    assert world.posts() == posts
    assert world.fake.count("PUT") == world.fake.count("DELETE") == 0
    assert world.record(code) is None
    assert world.store.recent_runs() == []
    assert world.store.get_cursor(world.pipeline().name, "source") is None
    assert world.open_refs() == {"F-1"}

    report = world.pipeline().run()

    assert [r.record_id for r in report.booked] == [code]


# -- the source and the helpers ---------------------------------------------------------


def test_pay_payouts_is_a_payout_source_and_reads_by_id(world: World) -> None:
    world.settle(("F-1", "40.00"), date=dt.date(2026, 1, 20))
    wanted = world.settle(("F-2", "30.00"), date=dt.date(2026, 1, 21))
    source = PayPayouts(world.pay_client(), tenant="sportclub")

    assert isinstance(source, PayoutSource)
    assert source.tenant == "sportclub"
    batch = source.fetch_ids([wanted])

    assert [payout.source_id for payout in batch.payouts] == [wanted]
    assert batch.payouts[0].amount == Decimal("29.75")
    assert source.fetch_ids([]) == PayoutBatch()
    full = source.fetch(None)
    assert full.cursor == "2026-01-21"
    assert len(full.payouts) == 2


def test_a_bad_cursor_and_bad_options_are_configuration_errors(world: World) -> None:
    source = PayPayouts(world.pay_client())
    with pytest.raises(ConfigurationError):
        source.fetch("yesterday")
    with pytest.raises(ConfigurationError):
        PayPayouts(world.pay_client(), invoice_reference="nope")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        PayoutPipeline(object(), world.exact, world.config, world.store)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        world.pipeline(receivables="some")


def test_the_marker_is_unique_per_payout_and_fits_exact() -> None:
    day = dt.date(2026, 1, 1)
    short = Payout("paynl", "S001-0007", day, Decimal("1.00"), payments=())
    long = attrs.evolve(short, source_id="S" * 80)
    other = attrs.evolve(short, source_id="S" * 79 + "T")

    assert payout_marker(short) == "Payout S001-0007"
    assert len(payout_marker(long)) <= 60
    assert payout_marker(long) != payout_marker(other)
    assert payout_hash(short) != payout_hash(attrs.evolve(short, amount=Decimal("1.01")))
    assert payout_hash(short) == payout_hash(attrs.evolve(short))


def test_a_failure_hook_sees_the_report_of_a_partial_run(world: World) -> None:
    world.settle(("F-1", "40.00"))
    world.config = config(bank_journal="70")
    seen: list[Any] = []
    progress: list[tuple[int, int]] = []

    report = world.pipeline(on_failure=seen.append, progress=lambda *a: progress.append(a)).run()

    assert seen == [report]
    assert progress == [(1, 1)]
    assert world.store.recent_runs()[0].failed == 1


def test_the_demo_recipe_pays_booked_virtuagym_invoices_through_pay() -> None:
    from exactbridge.cli._demo import DEMO_DIVISION, demo_config, seed_exact, seed_virtuagym
    from exactbridge.sources.virtuagym import VirtuagymClient
    from exactbridge.sync import InvoicePipeline, VirtuagymInvoices
    from exactbridge.testing.pay_seed import seed_pay_for_receivables

    clock = FakeClock(START)
    club = seed_virtuagym(members=4, invoices=8, clock=clock)
    fake = seed_exact(clock)
    exact = fake.client(DEMO_DIVISION)
    store = MemoryStateStore()
    invoices = VirtuagymInvoices(VirtuagymClient(club.credentials, transport=club.transport()))
    InvoicePipeline(invoices, exact, demo_config(), store, clock=clock).run()
    before = {item.your_ref for item in exact.receivables_list.iterate()}
    pay = FakePay()
    seeded = seed_pay_for_receivables(pay, exact, every=2, unmatched=1)
    assert seeded.paid
    pay_client = PayClient(pay.token_code, pay.api_token, transport=pay.transport())
    payout_config = attrs.evolve(demo_config(), payments=config().payments)

    report = PayoutPipeline(PayPayouts(pay_client), exact, payout_config, store, clock=clock).run()

    [row] = report.booked
    assert row.amount == seeded.net
    assert row.reason is not None
    assert row.reason.startswith(f"{len(seeded.paid)} payment(s) matched, 1 unmatched")
    after = {item.your_ref for item in exact.receivables_list.iterate()}
    assert after == before - set(seeded.paid)


def test_an_unreadable_settlement_split_per_group_fails_as_its_group_payouts(
    world: World,
) -> None:
    world.invoice("F-1", "40.00")
    code = world.settle(("F-1", "40.00"))
    world.pay.add_raw_record(code, {"id": "EX-BROKEN", "amount": "lots"})
    source = PayPayouts(world.pay_client(), per_revenue_group=True)

    first = world.pipeline(source=source).run()

    assert [r.record_id for r in first.failed] == [f"{code}:{WEBSHOP}"]
    assert world.record(f"{code}:{WEBSHOP}").status is BookingStatus.FAILED
    world.pay.settlements[code].raw_records.clear()

    second = world.pipeline(source=PayPayouts(world.pay_client(), per_revenue_group=True)).run()

    assert [r.record_id for r in second.booked] == [f"{code}:{WEBSHOP}"]
    assert world.store.failed() == []
