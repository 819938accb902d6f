"""Pay. (Combidesk) options end to end: FakePay -> PayPayouts -> PayoutPipeline -> Exact.

One test per feature of the Pay. seed document, both sides of each switch. The
world (open receivables in Exact, Pay. settlements of payments) is the one of
``tests/sync/test_payouts.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from exactbridge.sync import MemoryStateStore, SyncSettings
from exactbridge.sync.payouts import PayoutPipeline, PayPayouts
from exactbridge.testing import FakeClock, FakeExactOnline, FakePay, FakePayTransaction
from tests.sync.test_payouts import CONTRIBUTIE, START, WEBSHOP, World, amount, config

from .conftest import DIVISION, OTHER_DIVISION, Books, add_gl_account


@pytest.fixture
def pay() -> Iterator[World]:
    clock = FakeClock(START)
    fake = FakeExactOnline(clock=clock)
    fake.add_division(DIVISION, template="nl")
    fake.add_division(OTHER_DIVISION, template="nl")
    store = MemoryStateStore()
    yield World(clock, fake, FakePay(), store)
    store.close()


def gl_totals(pay: World, exact: Any | None = None) -> dict[str, Decimal]:
    """The one bank entry's lines, summed per GL account code."""
    [entry] = list((exact or pay.exact).bank_entries.iterate())
    rows = (exact or pay.exact).bank_entries.children(entry.entry_id, "BankEntryLines")
    totals: dict[str, Decimal] = {}
    for row in rows:
        code = str(row["GLAccountCode"]).strip()
        totals[code] = totals.get(code, Decimal(0)) + amount(row)
    return totals


@pytest.mark.parametrize("export_existing", [True, False])
def test_export_existing_pay_payouts_to_exact_online(pay: World, export_existing: bool) -> None:
    pay.invoice("F-1", "40.00")
    pay.invoice("F-2", "30.00")
    existing = pay.settle(("F-1", "40.00"), date=dt.date(2026, 1, 20))  # before the first run
    new = pay.settle(("F-2", "30.00"), date=START.date())

    report = pay.pipeline(settings=SyncSettings(backfill=export_existing)).run()

    booked = [row.record_id for row in report.booked]
    if export_existing:
        assert sorted(booked) == sorted([existing, new])
        assert pay.open_refs() == set()
    else:
        assert booked == [new]
        assert [row.record_id for row in report.skipped] == [existing]
        assert pay.open_refs() == {"F-1"}


@pytest.mark.parametrize(("paid", "matched"), [("40.00", True), ("39.99", False)])
def test_automatic_booking_at_100_percent_match(pay: World, paid: str, matched: bool) -> None:
    pay.invoice("F-1", "40.00")
    pay.settle(("F-1", paid))

    pay.pipeline().run()

    totals = gl_totals(pay)
    if matched:
        assert pay.open_refs() == set()
        assert totals["1300"] == Decimal("40.00")
        assert "2050" not in totals
    else:
        assert pay.open_refs() == {"F-1"}  # no guess: the invoice stays open
        assert totals["2050"] == Decimal("39.99")
        assert "1300" not in totals


@pytest.mark.parametrize(
    ("setting", "code", "line"),
    [
        ("debtors_account", "1300", ("1300", "40.00")),
        ("debtors_account", "1310", ("1310", "40.00")),
        ("psp_cost_account", "4510", ("4510", "-0.25")),
        ("psp_cost_account", "4520", ("4520", "-0.25")),
        ("payout_account", "1110", ("1110", "-39.75")),
        ("payout_account", "1120", ("1120", "-39.75")),
    ],
)
def test_select_the_default_general_ledger_account_for_debtors_costs_and_payouts(
    pay: World, setting: str, code: str, line: tuple[str, str]
) -> None:
    books = Books(pay.fake)
    add_gl_account(books, "1310", "Debiteuren webshop", 20)
    add_gl_account(books, "4520", "Kosten Pay.", 120)
    add_gl_account(books, "1120", "Tussenrekening Pay.", 16)
    pay.invoice("F-1", "40.00")
    pay.settle(("F-1", "40.00"))
    pay.config = config(**{setting: code})

    pay.pipeline().run()

    gl, expected = line
    assert gl_totals(pay)[gl] == Decimal(expected)


@pytest.mark.parametrize("groups", [[WEBSHOP], []])
def test_select_revenue_groups(pay: World, groups: list[str]) -> None:
    pay.invoice("F-1", "40.00")
    pay.invoice("F-2", "30.00")
    pay.settle(("F-1", "40.00"), group=WEBSHOP)
    contribution = pay.settle(("F-2", "30.00"), group=CONTRIBUTIE, date=dt.date(2026, 1, 21))
    pay.config = config(revenue_groups=groups)

    report = pay.pipeline().run()

    if groups:
        assert pay.open_refs() == {"F-2"}
        assert [row.record_id for row in report.skipped] == [contribution]
    else:
        assert pay.open_refs() == set()
        assert len(report.booked) == 2


@pytest.mark.parametrize("division", [DIVISION, OTHER_DIVISION])
def test_select_exact_online_administration(pay: World, division: int) -> None:
    pay.settle(("X-1", "12.00"))
    source = PayPayouts(pay.pay_client())

    PayoutPipeline(source, pay.fake.client(division), pay.config, pay.store, clock=pay.clock).run()

    other = OTHER_DIVISION if division == DIVISION else DIVISION
    assert gl_totals(pay, pay.fake.client(division))["2050"] == Decimal("12.00")
    assert list(pay.fake.client(other).bank_entries.iterate()) == []


@pytest.mark.parametrize("journal", ["20", "25"])
def test_select_bank_journal(pay: World, journal: str) -> None:
    pay.invoice("F-1", "40.00")
    pay.settle(("F-1", "40.00"))
    pay.config = config(bank_journal=journal)

    pay.pipeline().run()

    [entry] = pay.bank_entries()
    assert entry.journal_code.strip() == journal
    assert pay.open_refs() == set()


def _settle_from(pay: World, payer: str, reference: str, amount: str) -> str:
    """A settlement of one payment whose payer Pay. names (``customer.name``)."""
    cents = int(Decimal(amount) * 100)
    transaction = FakePayTransaction(
        id=f"EX-{cents:04d}-0000-0001",
        order_id=f"{cents:08d}X01",
        reference=reference,
        amount_cents=cents,
        costs_cents=25,
        group=WEBSHOP,
        customer_name=payer,
        completed_at=dt.datetime(2026, 1, 19, 12, tzinfo=dt.timezone.utc),
    )
    return pay.pay.add_settlement([transaction], date=dt.date(2026, 1, 20))


@pytest.mark.parametrize("create", [True, False])
def test_create_new_relations_in_exact_online_if_they_do_not_exist(
    pay: World, create: bool
) -> None:
    pay.invoice("F-1", "40.00", customer="501")  # relation "Lid 501" exists
    _settle_from(pay, "Fenna de Boer", "ORDER-77", "12.00")
    _settle_from(pay, "Lid 501", "ORDER-78", "30.00")
    pay.config = config(unmatched="new_relation" if create else "unassigned_account")

    report = pay.pipeline().run()

    customers = {account.name: account for account in Books(pay.fake).customers().values()}
    by_account: dict[Any, Decimal] = {}
    for entry in pay.bank_entries():
        for line in pay.lines_by_gl(entry).get("1300", []):
            by_account[line["Account"]] = by_account.get(line["Account"], Decimal(0)) + amount(line)
    if create:
        assert set(customers) == {"Lid 501", "Fenna de Boer"}  # one new, one found by name
        assert by_account == {
            str(customers["Fenna de Boer"].id): Decimal("12.00"),
            str(customers["Lid 501"].id): Decimal("30.00"),
        }
        assert report.accounts_created == 1
        assert pay.pipeline().run().accounts_created == 0  # no second Fenna on a rerun
        assert len(Books(pay.fake).customers()) == 2
    else:
        assert set(customers) == {"Lid 501"}
        assert by_account == {}
        assert report.accounts_created == 0


def test_a_payer_several_relations_share_is_never_guessed(pay: World) -> None:
    pay.fake.add_customer(DIVISION, "J. Jansen", code="601")
    pay.fake.add_customer(DIVISION, "J. Jansen", code="602")
    _settle_from(pay, "J. Jansen", "ORDER-79", "20.00")
    pay.config = config(unmatched="new_relation")

    pay.pipeline().run()

    totals = gl_totals(pay)
    assert totals["2050"] == Decimal("20.00")
    assert "1300" not in totals
    assert len(Books(pay.fake).customers()) == 2


@pytest.mark.parametrize("unassigned", ["2050", "2060"])
def test_create_new_relations_no_books_the_lines_to_unassigned(pay: World, unassigned: str) -> None:
    # "If you choose 'No', the relevant booking lines will be booked to the 'General
    # Ledger Account: Unassigned'" (whichever account the user selects for it).
    add_gl_account(Books(pay.fake), "2060", "Nog te verwerken Pay.", 90)
    pay.settle(("ORDER-77", "12.00"))
    pay.config = config(unmatched="unassigned_account", unassigned_account=unassigned)

    pay.pipeline().run()

    totals = gl_totals(pay)
    assert totals[unassigned] == Decimal("12.00")
    [other] = {"2050", "2060"} - {unassigned}
    assert other not in totals
    assert len(Books(pay.fake).customers()) == 0  # no relation was created


@pytest.mark.parametrize("standard_debtor", ["9100", None])
def test_book_all_orders_to_a_standard_debtor(pay: World, standard_debtor: str | None) -> None:
    account = pay.fake.add_customer(DIVISION, "Webshop klanten", code="9100")
    pay.settle(("ORDER-77", "12.00"))
    if standard_debtor:
        pay.config = config(unmatched="standard_debtor", standard_debtor_code=standard_debtor)

    pay.pipeline().run()

    [entry] = pay.bank_entries()
    lines = pay.lines_by_gl(entry)
    if standard_debtor:
        [line] = lines["1300"]
        assert (amount(line), line["Account"]) == (Decimal("12.00"), str(account))
        assert "2050" not in lines
    else:
        assert "1300" not in lines
        assert [amount(line) for line in lines["2050"]] == [Decimal("12.00")]
