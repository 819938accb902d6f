"""Virtuagym (Combidesk) options end to end: FakeVirtuagym -> VirtuagymInvoices -> Exact.

One test per option of the seed document, in its order, both sides of each switch.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import MemoryStateStore, SyncReport, SyncSettings, VirtuagymInvoices
from exactbridge.testing import FakeClock
from exactbridge.testing.virtuagym import FakeVirtuagym

from .conftest import DIVISION, OTHER_DIVISION, Books, add_sales_journal, book

# Virtuagym's club taxes: 1 = BTW 21 %, 2 = BTW 9 %, 0 = no tax.
CONFIG: dict[str, Any] = {
    "sales_journal": "70",
    "vat": {"codes": {"1": "2", "2": "1", "0": "0"}},
    "ledger": {"default_account": "8000"},
    "numbering": {"enabled": False},
}
MAY = dt.date(2025, 5, 12)  # before the first run (the clock starts on 2 June 2025)
JUNE = dt.date(2025, 6, 2)


@attrs.define
class Gym:
    clock: FakeClock
    vg: FakeVirtuagym
    books: Books
    store: MemoryStateStore
    config: dict[str, Any] = attrs.field(factory=lambda: dict(CONFIG))

    def source(self) -> VirtuagymInvoices:
        client = VirtuagymClient(
            self.vg.credentials, transport=self.vg.transport(), clock=self.clock
        )
        return VirtuagymInvoices(client)

    def run(self, **options: Any) -> SyncReport:
        return book(self.source(), self.books, self.config, self.store, self.clock, **options)

    def member(self, **fields: Any) -> int:
        member_id: int = self.vg.add_member(**fields)["member_id"]
        return member_id

    def invoice(self, member_id: int | None, day: dt.date = JUNE, **row: Any) -> dict[str, Any]:
        line = {"name": "Abonnement juni", "price": Decimal("39.95"), "tax": 1, **row}
        return self.vg.add_invoice(member_id=member_id, invoice_date=day, rows=[line])

    def entry(self, invoice: dict[str, Any], books: Books | None = None) -> Any:
        entries = (books or self.books).entries()
        return entries[str(invoice["id"])]


@pytest.fixture
def gym(fake_clock: FakeClock, books: Books, state_store: MemoryStateStore) -> Gym:
    return Gym(fake_clock, FakeVirtuagym(clock=fake_clock), books, state_store)


def your_refs(books: Books) -> set[str]:
    return set(books.entries())


# -- Virtuagym steps ---------------------------------------------------------------------


@pytest.mark.parametrize("export_existing", [True, False])
def test_export_existing_invoices(gym: Gym, export_existing: bool) -> None:
    member = gym.member()
    old = gym.invoice(member, MAY)
    new = gym.invoice(member, JUNE)

    report = gym.run(settings=SyncSettings(backfill=export_existing))

    if export_existing:
        assert your_refs(gym.books) == {str(old["id"]), str(new["id"])}
    else:
        assert your_refs(gym.books) == {str(new["id"])}
        assert [result.record_id for result in report.skipped] == [old["guid"]]


@pytest.mark.parametrize("add_club_id", [True, False])
def test_add_club_id_to_invoice_number(gym: Gym, add_club_id: bool) -> None:
    invoice = gym.invoice(gym.member())
    template = "{tenant}{number}" if add_club_id else "{number}"
    gym.config["numbering"] = {"template": template}

    gym.run()

    expected = f"{gym.vg.club_id}{invoice['id']}" if add_club_id else str(invoice["id"])
    assert gym.entry(invoice).entry_number == int(expected)


# -- Exact Online steps ------------------------------------------------------------------


@pytest.mark.parametrize("division", [DIVISION, OTHER_DIVISION])
def test_select_exact_online_administration(gym: Gym, division: int) -> None:
    invoice = gym.invoice(gym.member())

    gym.run(division=division)

    chosen = Books(gym.books.fake, division)
    other = Books(gym.books.fake, OTHER_DIVISION if division == DIVISION else DIVISION)
    assert gross_of(gym.entry(invoice, chosen)) == Decimal("39.95")
    assert other.entries() == {}


@pytest.mark.parametrize("journal", ["70", "72"])
def test_select_journal(gym: Gym, journal: str) -> None:
    add_sales_journal(gym.books, "72", "Verkoopboek sportschool")
    invoice = gym.invoice(gym.member())
    gym.config["sales_journal"] = journal

    gym.run()

    assert gym.entry(invoice).journal == journal


@pytest.mark.parametrize(
    ("codes", "expected"),
    [({"1": "2", "2": "1", "0": "0"}, "2"), ({"1": "5", "2": "1", "0": "0"}, "5")],
    ids=["high-to-excluding-code", "high-to-including-code"],
)
def test_exact_online_vat_mapping(gym: Gym, codes: dict[str, str], expected: str) -> None:
    member = gym.member()
    high = gym.invoice(member, price=Decimal("121.00"), tax=1)
    low = gym.invoice(member, price=Decimal("10.90"), tax=2)
    gym.config["vat"] = {"codes": codes}

    gym.run()

    high_entry, low_entry = gym.entry(high), gym.entry(low)
    assert [line.vat_code for line in gym.books.lines(high_entry)] == [expected]
    assert [line.vat_code for line in gym.books.lines(low_entry)] == ["1"]
    # Whichever code the category maps to, Exact holds the invoice's amounts.
    assert (gross_of(high_entry), vat_of(high_entry)) == (Decimal("121.00"), Decimal("21.00"))
    assert (gross_of(low_entry), vat_of(low_entry)) == (Decimal("10.90"), Decimal("0.90"))


def test_exact_online_vat_mapping_to_an_including_code_reverses_to_the_cent(gym: Gym) -> None:
    invoice = gym.invoice(gym.member(), price=Decimal("121.00"), tax=1)
    gym.config["vat"] = {"codes": {"1": "5"}}
    gym.run()
    gym.vg.edit_invoice(invoice["guid"], deleted=True)

    report = gym.run()

    [reversed_] = report.reversed
    assert reversed_.amount == Decimal("-121.00")
    assert gym.books.net(str(invoice["id"])) == 0


def test_exact_online_vat_mapping_unmapped_category_fails_alone(gym: Gym) -> None:
    member = gym.member()
    mapped = gym.invoice(member, tax=1)
    unmapped = gym.invoice(member, tax=2)
    gym.config["vat"] = {"codes": {"1": "2"}}

    report = gym.run()

    assert your_refs(gym.books) == {str(mapped["id"])}
    [failed] = report.failed
    assert failed.record_id == unmapped["guid"]
    assert "vat.codes" in (failed.reason or "")


@pytest.mark.parametrize("mode", ["per_invoice", "per_day"])
def test_book_revenue(gym: Gym, mode: str) -> None:
    gym.books.fake.add_customer(DIVISION, "Omzet sportschool", code="9999")
    first, second = gym.member(), gym.member()
    invoices = [gym.invoice(first), gym.invoice(second, price=Decimal("10.90"), tax=2)]
    gym.config["summary"] = {"mode": mode, "collective_debtor_code": "9999"}

    gym.run()

    entries = gym.books.entries()
    if mode == "per_invoice":
        assert set(entries) == {str(invoice["id"]) for invoice in invoices}
        assert len(gym.books.customers()) == 3  # two members and the collective debtor
    else:
        [summary] = entries.values()
        assert gym.books.customer(summary).code == "9999"
        lines = gym.books.lines(summary)
        assert sorted((line.vat_code, line.amount_fc) for line in lines) == [
            ("1", Decimal("10.00")),
            ("2", Decimal("33.02")),
        ]
        assert gross_of(summary) == Decimal("50.85")
        assert set(gym.books.customers()) == {"9999"}  # no member became a customer


@pytest.mark.parametrize("by_vat_category", [True, False])
def test_exact_online_general_ledger_mapping(gym: Gym, by_vat_category: bool) -> None:
    member = gym.member()
    high = gym.invoice(member, tax=1)
    low = gym.invoice(member, price=Decimal("10.90"), tax=2)
    if by_vat_category:
        gym.config["ledger"] = {"default_account": "8000", "by_vat_category": {"2": "8010"}}

    gym.run()

    assert gl_codes(gym, high) == ["8000"]
    assert gl_codes(gym, low) == (["8010"] if by_vat_category else ["8000"])


@pytest.mark.parametrize("by_income_category", [True, False])
def test_income_category_to_exact_online_general_ledger_mapping(
    gym: Gym, by_income_category: bool
) -> None:
    member = gym.member()
    training = gym.invoice(member, income_category="pt", name="Personal training")
    membership = gym.invoice(member, income_category="membership")
    if by_income_category:
        gym.config["ledger"] = {"default_account": "8000", "by_income_category": {"pt": "8030"}}
        gym.config["ledger"]["default_cost_center"] = "100"

    gym.run()

    assert gl_codes(gym, training) == (["8030"] if by_income_category else ["8000"])
    assert gl_codes(gym, membership) == ["8000"]


@pytest.mark.parametrize("account", ["8000", "8020"])
def test_ledger_account_revenue(gym: Gym, account: str) -> None:
    invoice = gym.invoice(gym.member(), price=Decimal("25.00"), tax=0)
    gym.config["ledger"] = {"default_account": account}

    gym.run()

    assert gl_codes(gym, invoice) == [account]


@pytest.mark.parametrize("use_periods", [True, False])
def test_periods_use_the_periods_added_to_the_virtuagym_invoice(
    gym: Gym, use_periods: bool
) -> None:
    invoice = gym.invoice(
        gym.member(), start_period=dt.date(2025, 6, 1), end_period=dt.date(2025, 6, 30)
    )
    gym.config["period"] = {"line_service_period": use_periods}

    gym.run()

    [line] = gym.books.lines(gym.entry(invoice))
    if use_periods:
        assert (line.from_date, line.to_date) == (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
    else:
        assert (line.from_date, line.to_date) == (None, None)


@pytest.mark.parametrize("check_email", [True, False])
def test_disable_check_on_email_address(gym: Gym, check_email: bool) -> None:
    existing = gym.books.fake.add_customer(
        DIVISION, "S. de Vries", code="4711", email="sam@example.org"
    )
    invoice = gym.invoice(gym.member(email="sam@example.org"))
    gym.config["debtor"] = {"match_by_email": check_email}

    gym.run()

    entry = gym.entry(invoice)
    if check_email:
        assert entry.customer == existing
        assert set(gym.books.customers()) == {"4711"}
    else:
        assert entry.customer != existing
        assert gym.books.customer(entry).email == "sam@example.org"
        assert len(gym.books.customers()) == 2


@pytest.mark.parametrize("guest_debtor", ["9000", None])
def test_debtor_number_for_guest_orders(gym: Gym, guest_debtor: str | None) -> None:
    gym.books.fake.add_customer(DIVISION, "Kassaverkoop", code="9000")
    guest_order = gym.invoice(None, name="Losse les")
    member_order = gym.invoice(gym.member())
    gym.config["debtor"] = {"guest_debtor_code": guest_debtor}

    report = gym.run()

    if guest_debtor is not None:
        assert gym.books.customer(gym.entry(guest_order)).code == "9000"
        assert report.failed == ()
    else:
        assert your_refs(gym.books) == {str(member_order["id"])}
        [failed] = report.failed
        assert failed.record_id == guest_order["guid"]
        assert "debtor.guest_debtor_code" in (failed.reason or "")


# -- helpers -----------------------------------------------------------------------------


def gl_codes(gym: Gym, invoice: dict[str, Any]) -> list[str]:
    return [str(line.gl_account_code).strip() for line in gym.books.lines(gym.entry(invoice))]


def gross_of(entry: Any) -> Decimal:
    return Decimal(entry.amount_fc)


def vat_of(entry: Any) -> Decimal:
    return Decimal(entry.vat_amount_fc)
