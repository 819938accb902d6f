"""Club-assistent's Exact Online link end to end: export files -> pipeline -> fake Exact.

The Club-assistent seed ("Koppelen met Exact Online") names what the link does and
what the club sets up: the invoices are imported into Exact, the direct debits in
them are collected through Exact (so the mandates and the collection payment
condition must be there), and the revenue accounts carry a VAT code *including* VAT.
The world (a folder of invoice exports) is the one of
``tests/sync/test_e2e_clubassistent.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exactbridge.mapping import BookingConfig
from exactbridge.sync import MemoryStateStore
from exactbridge.sync.mandates import ClubassistentMandates, MandatePipeline
from exactbridge.testing import FakeClock, SampleDebit, SampleInvoice, write_pain008
from exactbridge.testing.clubassistent import iban_for
from tests.sync.test_e2e_clubassistent import TENANT, World, amount, invoice

from .conftest import DIVISION, Books, add_payment_condition

MARCH = dt.date(2025, 3, 1)


@pytest.fixture
def club(
    fake_clock: FakeClock, books: Books, state_store: MemoryStateStore, tmp_path: Path
) -> World:
    folder = tmp_path / "exports"
    folder.mkdir()
    return World(fake_clock, folder, books, state_store)


def export(club: World) -> list[SampleInvoice]:
    """March: Sanne pays by direct debit, Daan on invoice."""
    invoices = [
        invoice(
            "F2025-001",
            "1042",
            "Sanne Bakker",
            MARCH,
            ("Contributie senioren", "121.00", "21"),
            ("Bondscontributie", "18.50", "0"),
        ),
        invoice(
            "F2025-002",
            "1077",
            "Daan Visser",
            MARCH,
            ("Contributie junioren", "60.50", "21"),
            ("Kantinekaart", "25.00", "9"),
            method="Factuur",
        ),
    ]
    club.export("facturen-2025-03.csv", invoices)
    return invoices


def test_the_created_invoices_are_imported_into_exact_online(club: World) -> None:
    invoices = export(club)

    report = club.run()

    entries = club.books.entries()
    assert [result.record_id for result in report.booked] == ["F2025-001", "F2025-002"]
    for sample in invoices:
        entry = entries[sample.number]
        assert Decimal(entry.amount_fc) == amount(sample)
        assert club.books.customer(entry).code == sample.member_number
        assert club.books.customer(entry).name == sample.member_name
    sanne = club.books.lines(entries["F2025-001"])
    assert [(line.amount_fc, line.vat_amount_fc) for line in sanne] == [
        (Decimal("100.00"), Decimal("21.00")),
        (Decimal("18.50"), Decimal("0.00")),
    ]


@pytest.mark.parametrize("via_exact", [True, False])
def test_the_direct_debits_in_the_invoices_are_collected_through_exact_online(
    club: World, tmp_path: Path, via_exact: bool
) -> None:
    add_payment_condition(club.books, "IN", "Incasso", method="I")
    export(club)
    if via_exact:
        club.config = {**club.config, "payment_terms": {"by_payment_method": {"incasso": "IN"}}}

    club.run()

    entries = club.books.entries()
    collected, on_account = entries["F2025-001"], entries["F2025-002"]
    if via_exact:
        assert (collected.payment_condition, collected.payment_condition_payment_method) == (
            "IN",
            "I",
        )
    else:
        assert collected.payment_condition != "IN"
    assert on_account.payment_condition != "IN"

    # The mandate of the collection file lands on the customer the invoice was booked on.
    pain = tmp_path / "incasso-2025-03.xml"
    write_pain008(pain, [_debit("F2025-001", "MACHT-1042", 1042)])
    mandates = ClubassistentMandates(
        [str(pain)], invoice_files=[str(club.folder / "facturen-2025-03.csv")], tenant=TENANT
    )
    MandatePipeline(
        mandates,
        club.books.fake.client(DIVISION),
        BookingConfig.from_mapping(club.config),
        club.store,
        clock=club.clock,
    ).run()
    [mandate] = club.books.exact.direct_debit_mandates.iterate(select=["Account", "Reference"])
    assert (mandate.reference, mandate.account) == ("MACHT-1042", collected.customer)


def _debit(number: str, mandate: str, member: int) -> SampleDebit:
    return SampleDebit(
        end_to_end_id=number,
        amount=Decimal("139.50"),
        mandate_id=mandate,
        signature_date=dt.date(2021, 3, 1),
        debtor_name="Sanne Bakker",
        debtor_iban=iban_for(member),
    )


@pytest.mark.parametrize(("code", "included"), [("5", True), ("2", False)])
def test_general_ledger_accounts_with_a_vat_code_including_vat(
    club: World, code: str, included: bool
) -> None:
    [sanne, _] = export(club)
    club.config = {**club.config, "vat": {"codes": {"21": code, "9": "1", "0": "0"}}}

    club.run()

    entry = club.books.entries()["F2025-001"]
    # Exact holds the invoice's amounts whichever kind of code the revenue account has.
    assert (Decimal(entry.amount_fc), Decimal(entry.vat_amount_fc)) == (
        Decimal("139.50"),
        Decimal("21.00"),
    )
    first = club.books.lines(entry)[0]
    assert first.vat_code.strip() == code
    assert first.vat_amount_fc == Decimal("21.00")
    assert first.vat_base_amount_fc == Decimal("100.00")  # the revenue
    # An including code's AmountFC is the gross amount, an excluding one's the net.
    assert first.amount_fc == (Decimal("121.00") if included else Decimal("100.00"))

    # Cancelled in a later export: the credit nets the invoice out to the cent.
    credit = _credited(sanne)
    club.export("facturen-2025-03-correctie.csv", [credit])
    report = club.run()
    assert [result.record_id for result in report.booked] == [credit.number]
    assert club.books.net("F2025-001") + club.books.net(credit.number) == 0


def _credited(sample: SampleInvoice) -> Any:
    lines = [
        ("Creditering " + line.description, str(-line.amount), str(line.vat_percent))
        for line in sample.lines
    ]
    return invoice(f"C{sample.number}", sample.member_number, sample.member_name, MARCH, *lines)
