"""Eduframe plugin options end to end: FakeEduframe -> EduframeInvoices -> pipeline -> Exact.

One test per setting of the Eduframe seed document (the plugin's settings page and
the course template / edition "Plugins" tab), both sides of each switch. The world
(a business account with a VAT number, a course edition with a discount code, a
personal account) is the one of ``tests/sync/test_e2e_eduframe.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from exactbridge.sources.eduframe import EduframeAdapterConfig
from exactbridge.sync import MemoryStateStore, SyncSettings
from exactbridge.testing import FakeClock, FakeEduframe
from tests.sync.test_e2e_eduframe import Seeded, World, reprice, seed

from .conftest import DIVISION, OTHER_DIVISION, Books, add_sales_journal, book


@pytest.fixture
def ef(fake_clock: FakeClock, books: Books, state_store: MemoryStateStore) -> World:
    fake = FakeEduframe(clock=fake_clock)
    fake.add_invoice_vat("21% btw", "21.0")
    fake.add_invoice_vat("Vrijgesteld", "0.0", has_vat=False)
    fake.add_invoice_vat("9% btw", "9.0")
    return World(fake_clock, fake, books, state_store)


@pytest.fixture
def seeded(ef: World) -> Seeded:
    return seed(ef)


def entry_of(ef: World, invoice: dict[str, Any], books: Books | None = None) -> Any:
    return (books or ef.books).entries()[invoice["number"]]


def ledger_of(ef: World, invoice: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """(GL account, cost center, cost unit) of each line of the invoice's entry."""
    return [
        (
            str(line.gl_account_code).strip(),
            line.cost_center.strip() if line.cost_center else None,
            line.cost_unit.strip() if line.cost_unit else None,
        )
        for line in ef.books.lines(entry_of(ef, invoice))
    ]


def course_keys(ef: World) -> tuple[str, str]:
    """The (course template id, course edition id) of the seeded course, as text."""
    [template] = ef.ef.courses
    [edition] = ef.ef.planned_courses
    return str(template), str(edition)


# -- the plugin's settings ---------------------------------------------------------------


@pytest.mark.parametrize("division", [DIVISION, OTHER_DIVISION])
def test_division_the_code_of_the_division_to_which_the_entries_must_be_added(
    ef: World, seeded: Seeded, division: int
) -> None:
    book(ef.source(), ef.books, ef.config, ef.store, ef.clock, division=division)

    chosen = Books(ef.books.fake, division)
    other = Books(ef.books.fake, OTHER_DIVISION if division == DIVISION else DIVISION)
    assert set(chosen.entries()) == {invoice["number"] for invoice in seeded.invoices}
    assert other.entries() == {}


@pytest.mark.parametrize("sync_from", [None, dt.date(2025, 3, 5)])
def test_sync_from_the_date_from_which_invoices_should_be_synchronised(
    ef: World, seeded: Seeded, sync_from: dt.date | None
) -> None:
    report = ef.run(settings=SyncSettings(sync_from=sync_from))

    booked = set(ef.books.entries())
    first, *later = seeded.invoices  # opened on 3 March, then 10 March and 1 April
    assert booked >= {invoice["number"] for invoice in later}
    if sync_from is None:
        assert first["number"] in booked
    else:
        assert first["number"] not in booked
        assert [result.record_id for result in report.skipped] == [str(first["id"])]


@pytest.mark.parametrize("level", ["edition", "template", "general"])
def test_ledger_code_cost_center_and_cost_unit_per_course_template_and_edition(
    ef: World, seeded: Seeded, level: str
) -> None:
    template, edition = course_keys(ef)
    ledger: dict[str, Any] = {"default_account": "8000"}
    if level in ("edition", "template"):
        ledger["by_course_template"] = {
            template: {"gl_account": "8010", "cost_center": "200", "cost_unit": "UTR"}
        }
    if level == "edition":
        ledger["by_course_edition"] = {
            edition: {"gl_account": "8040", "cost_center": "300", "cost_unit": "AMS"}
        }
    ef.config = {**ef.config, "ledger": ledger}

    ef.run()

    course_line, discount_line = ledger_of(ef, seeded.invoices[0])
    expected = {
        "edition": ("8040", "300", "AMS"),
        "template": ("8010", "200", "UTR"),
        # "The ledger code in the general settings are used. No cost center and cost
        # unit will be set."
        "general": ("8000", None, None),
    }
    assert course_line == expected[level]
    assert discount_line == ("8000", None, None)


@pytest.mark.parametrize("discount_account", [None, "8020"])
def test_discount_is_a_separate_line_with_no_cost_center_or_cost_unit(
    ef: World, seeded: Seeded, discount_account: str | None
) -> None:
    template, _ = course_keys(ef)
    ledger: dict[str, Any] = {
        "default_account": "8000",
        "by_course_template": {
            template: {"gl_account": "8010", "cost_center": "200", "cost_unit": "UTR"}
        },
    }
    if discount_account:
        ledger["discount_account"] = discount_account
    ef.config = {**ef.config, "ledger": ledger}

    ef.run()

    lines = ef.books.lines(entry_of(ef, seeded.invoices[0]))
    assert [line.amount_fc for line in lines] == [Decimal("990.00"), Decimal("-50.00")]
    assert ledger_of(ef, seeded.invoices[0]) == [
        ("8010", "200", "UTR"),
        (discount_account or "8000", None, None),
    ]


@pytest.mark.parametrize("journal", ["70", "72"])
def test_journal_code_the_journal_to_which_the_entries_must_be_added(
    ef: World, seeded: Seeded, journal: str
) -> None:
    add_sales_journal(ef.books, "72", "Verkoopboek cursussen")
    ef.config = {**ef.config, "sales_journal": journal}

    ef.run()

    assert {entry.journal for entry in ef.books.entries().values()} == {journal}


@pytest.mark.parametrize(("slug", "vat_number"), [("vat_number", "NL123456789B01"), ("btw", None)])
def test_synchronise_vat_number_of_organisations_from_the_custom_field(
    ef: World, seeded: Seeded, slug: str, vat_number: str | None
) -> None:
    source = ef.source(adapter_config=EduframeAdapterConfig(vat_number_slug=slug))

    book(source, ef.books, ef.config, ef.store, ef.clock)

    organisation = ef.books.customer(entry_of(ef, seeded.invoices[0]))
    assert organisation.name == "Acme Opleidingen B.V."
    assert organisation.vat_number == vat_number


@pytest.mark.parametrize("attach", [True, False])
def test_the_whole_invoice_as_pdf_is_attached_to_the_sales_entry(
    ef: World, seeded: Seeded, attach: bool
) -> None:
    ef.run(settings=SyncSettings(attach_pdf=attach))

    entry = entry_of(ef, seeded.invoices[1])
    if attach:
        [attachment] = ef.books.attachments(entry.document)
        data = ef.books.attachment_bytes(attachment)
        assert data == ef.client().invoice_pdf(seeded.invoices[1]["id"])
    else:
        assert entry.document is None
        assert ef.books.documents() == {}


@pytest.mark.parametrize("on_change", ["update", "ignore"])
def test_synchronised_on_every_change_of_the_invoice(
    ef: World, seeded: Seeded, on_change: str
) -> None:
    settings = SyncSettings(on_change=on_change)
    ef.run(settings=settings)
    invoice = seeded.invoices[1]
    reprice(ef, invoice, "995.00")

    report = ef.run(settings=settings)

    amount = Decimal(entry_of(ef, invoice).amount_fc)
    if on_change == "update":
        assert [result.record_id for result in report.updated] == [str(invoice["id"])]
        assert amount == Decimal("995.00")
    else:
        assert [result.record_id for result in report.skipped] == [str(invoice["id"])]
        assert amount == Decimal("895.00")


@pytest.mark.parametrize("on_delete", ["reverse", "ignore"])
def test_synchronised_when_the_invoice_is_deleted(
    ef: World, seeded: Seeded, on_delete: str
) -> None:
    settings = SyncSettings(on_delete=on_delete)
    ef.run(settings=settings)
    invoice = seeded.invoices[2]
    del ef.ef.invoices[invoice["id"]]

    ef.run(settings=settings)

    net = ef.books.net(invoice["number"])
    if on_delete == "reverse":
        assert net == 0
        assert f"{invoice['number']}-R1" in ef.books.entries()
    else:
        assert net == Decimal("130.64")  # 3 x 39.95 plus 9 % VAT, still booked
        assert set(ef.books.entries()) == {inv["number"] for inv in seeded.invoices}
