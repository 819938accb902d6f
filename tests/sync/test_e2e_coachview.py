"""Coachview end to end: FakeCoachview -> CoachviewInvoices -> InvoicePipeline -> FakeExactOnline.

Coachview has an audit-trail filter, so after the first run only changed invoices are
read; failed ones come back through ``fetch_ids`` (``where=id=...``).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import pytest
from dateutil import tz

from exactbridge.mapping import BookingConfig
from exactbridge.sources.coachview import CoachviewClient
from exactbridge.sync import (
    BookingKey,
    BookingStatus,
    InvoicePipeline,
    RunStatus,
    StateStore,
    SyncReport,
    SyncSettings,
)
from exactbridge.sync.connectors import CoachviewInvoices
from exactbridge.testing import FakeClock, FakeCoachview

from .conftest import DIVISION, Books, gross, vat

_CENT = Decimal("0.01")
_AMSTERDAM = tz.gettz("Europe/Amsterdam")
TENANT = "opleidingen-bv"

CONFIG: dict[str, Any] = {
    "sales_journal": "70",
    "vat": {"codes": {"VH": "2", "VL": "1", "V0": "0"}},
    "ledger": {"default_account": "8000", "by_vat_category": {"VL": "8010", "V0": "8020"}},
    "numbering": {"enabled": False},
}
_PERCENT = {"VH": Decimal(21), "VL": Decimal(9), "V0": Decimal(0), "VX": Decimal(21)}
# The line's own grootboekrekening, as a Coachview administrator sets it per product.
_LEDGER = {"VH": "8000", "VL": "8010", "V0": "8020", "VX": "8000"}


def guid() -> str:
    return str(uuid.uuid4())


@attrs.define
class World:
    clock: FakeClock
    cv: FakeCoachview
    books: Books
    store: StateStore
    config: dict[str, Any] = attrs.field(factory=lambda: dict(CONFIG))
    settings: SyncSettings = attrs.field(factory=SyncSettings)

    def client(self) -> CoachviewClient:
        return CoachviewClient(
            "api-client", "s3cret", transport=self.cv.transport(), clock=self.clock
        )

    def source(self, **options: Any) -> CoachviewInvoices:
        options.setdefault("tenant", TENANT)
        return CoachviewInvoices(self.client(), **options)

    def pipeline(self, **options: Any) -> InvoicePipeline:
        options.setdefault("settings", self.settings)
        return InvoicePipeline(
            self.source(),
            self.books.fake.client(DIVISION),
            BookingConfig.from_mapping(self.config),
            self.store,
            clock=self.clock,
            **options,
        )

    def run(self, **options: Any) -> SyncReport:
        return self.pipeline(**options).run()

    def key(self, invoice: dict[str, Any]) -> BookingKey:
        return BookingKey("coachview", TENANT, invoice["id"])

    def local_now(self) -> str:
        """The clock's time as Coachview writes it: zone-less Amsterdam wall-clock time."""
        return self.clock.now().astimezone(_AMSTERDAM).replace(tzinfo=None).isoformat()

    def touch(self, invoice: dict[str, Any]) -> None:
        """Record an edit in the invoice's audit trail, an hour from now."""
        self.clock.advance(3600)
        invoice["audittrail"]["gewijzigdDatumTijd"] = self.local_now()

    def add_debtor(self, number: str, name: str, *, company: bool) -> dict[str, Any]:
        address = {
            "adres1": "Stationsplein 1",
            "postcode": "3511 AB",
            "plaats": "Utrecht",
            "landCode": "NL",
        }
        company_id = person_id = None
        if company:
            company_id = guid()
            self.cv.add(
                "Bedrijven",
                {
                    "id": company_id,
                    "naam": name,
                    "emailadres": f"finance@{number}.example",
                    "kvkNummer": "30123456",
                    "adres": address,
                },
            )
        else:
            person_id = guid()
            first, _, last = name.partition(" ")
            self.cv.add(
                "Personen",
                {
                    "id": person_id,
                    "voornaam": first,
                    "achternaam": last,
                    "emailadres": f"{first.lower()}@example.nl",
                    "adres": address,
                },
            )
        return self.cv.add(
            "Debiteuren",
            {
                "id": guid(),
                "debiteurnummer": number,
                "naam": name,
                "bedrijfId": company_id,
                "persoonId": person_id,
                "particulier": not company,
                "btwNummer": "NL123456789B01" if company else None,
                "factuurAdres": address,
            },
        )

    def add_invoice(
        self,
        debtor: dict[str, Any],
        number: str,
        day: dt.date,
        lines: list[tuple[str, int, str, str]],
    ) -> dict[str, Any]:
        """An invoice with ``(description, quantity, unit price excl. VAT, VAT code)`` lines."""
        invoice = {
            "id": guid(),
            "factuurnummer": number,
            "factuurdatum": day.isoformat(),
            "vervaldatum": (day + dt.timedelta(days=30)).isoformat(),
            "referentieNr": f"REF-{number}",
            "omschrijving": f"Opleiding {number}",
            "valuta": "EUR",
            "debiteurId": debtor["id"],
            "aanvraagnummer": f"A{number}",
            "orderStartdatum": day.isoformat(),
            "factuurstatus": "Definitief",
            "audittrail": {
                "aangemaaktDatumTijd": self.local_now(),
                "gewijzigdDatumTijd": self.local_now(),
            },
        }
        set_lines(invoice, lines)
        return self.cv.add("Facturen", invoice)

    def invoice_reads(self) -> list[Mapping[str, str]]:
        return [call.params for call in self.cv.calls if call.path.endswith("/Facturen")]


def set_lines(invoice: dict[str, Any], lines: list[tuple[str, int, str, str]]) -> None:
    rows: list[dict[str, Any]] = []
    for index, (description, quantity, price, code) in enumerate(lines):
        amount = Decimal(price) * quantity
        rows.append(
            {
                "id": str(uuid.UUID(int=index + 1)),
                "omschrijving": description,
                "aantal": quantity,
                "prijsPerStuk": Decimal(price),
                "bedragExclBtw": amount,
                "btwPercentage": _PERCENT[code],
                "btwCode": code,
                "grootboekrekening": _LEDGER[code],
            }
        )
    excl = sum((row["bedragExclBtw"] for row in rows), Decimal(0))
    tax = sum(
        (
            (row["bedragExclBtw"] * row["btwPercentage"] / 100).quantize(_CENT, ROUND_HALF_UP)
            for row in rows
        ),
        Decimal(0),
    )
    invoice.update(factuurregels=rows, totaalExclBtw=excl, totaalBtw=tax, totaalInclBtw=excl + tax)


def total(invoice: dict[str, Any]) -> Decimal:
    return Decimal(invoice["totaalInclBtw"])


@pytest.fixture
def world(fake_clock: FakeClock, books: Books, state_store: StateStore) -> World:
    cv = FakeCoachview(clock=fake_clock)
    cv.add_client("api-client", "s3cret")
    return World(fake_clock, cv, books, state_store)


def seed(world: World) -> list[dict[str, Any]]:
    acme = world.add_debtor("1001", "Acme Training B.V.", company=True)
    piet = world.add_debtor("1002", "Piet Jansen", company=False)
    return [
        world.add_invoice(
            acme,
            "F25-001",
            dt.date(2025, 3, 3),
            [("Module 1", 2, "450.00", "VH"), ("Boeken", 1, "35.50", "VL")],
        ),
        world.add_invoice(piet, "F25-002", dt.date(2025, 3, 12), [("Examen", 1, "250.00", "V0")]),
        world.add_invoice(acme, "F25-003", dt.date(2025, 4, 2), [("Module 2", 1, "450.00", "VH")]),
    ]


# -- booking once ----------------------------------------------------------------------------


def test_first_run_books_every_invoice_once_and_the_second_run_writes_nothing(
    world: World,
) -> None:
    invoices = seed(world)
    report = world.run()
    assert report.status is RunStatus.SUCCEEDED, report.as_dict()
    assert len(report.booked) == 3
    entries = world.books.entries()
    assert sorted(entries) == ["F25-001", "F25-002", "F25-003"]
    for invoice in invoices:
        entry = entries[invoice["factuurnummer"]]
        assert gross(entry) == total(invoice)
        assert vat(entry) == Decimal(invoice["totaalBtw"])
        debtor = next(
            d for d in world.cv.entities["debiteuren"] if d["id"] == invoice["debiteurId"]
        )
        customer = world.books.customer(entry)
        assert customer.code == debtor["debiteurnummer"]
        assert customer.name == debtor["naam"]
    first = world.books.lines(entries["F25-001"])
    assert [(Decimal(line.amount_fc), line.gl_account_code.strip()) for line in first] == [
        (Decimal("900.00"), "8000"),
        (Decimal("35.50"), "8010"),
    ]
    assert world.books.customers()["1001"].vat_number == "NL123456789B01"
    assert report.accounts_created == 2
    assert world.books.fake.count("POST", "crm/Accounts") == 2
    assert world.books.fake.count("POST", "salesentry/SalesEntries") == 3
    # Debtors, companies and persons were read in bulk: one request each.
    assert sum(1 for c in world.cv.calls if c.path.endswith("/Debiteuren")) == 1

    writes = world.books.writes()
    reads = len(world.invoice_reads())
    again = world.run()
    assert again.status is RunStatus.SUCCEEDED
    assert again.results == ()
    assert world.books.writes() == writes
    assert again.exact_calls == 0
    # The second run asked Coachview only for invoices changed since the first.
    (second,) = world.invoice_reads()[reads:]
    assert second["where"].startswith("audittrail.gewijzigddatumtijd=")


def test_the_cursor_is_text_and_a_new_source_reads_only_changes(world: World) -> None:
    invoices = seed(world)
    pipeline = world.pipeline()
    pipeline.run()
    cursor = world.store.get_cursor(pipeline.name, "source")
    assert isinstance(cursor, str)
    debtor_reads = sum(1 for c in world.cv.calls if c.path.endswith("/Debiteuren"))
    # The overlap reads the last changes again, but versions already read are skipped
    # before their debtors are fetched.
    assert world.source().fetch(cursor).invoices == ()
    assert sum(1 for c in world.cv.calls if c.path.endswith("/Debiteuren")) == debtor_reads
    world.touch(invoices[1])
    batch = world.source().fetch(cursor)
    assert [i.source_id for i in batch.invoices] == [invoices[1]["id"]]
    assert not batch.complete
    assert batch.cursor is not None
    assert batch.cursor != cursor
    # A cursor from somewhere else is not trusted: everything is read.
    assert len(world.source().fetch("garbage").invoices) == 3


# -- changes and cancellations ---------------------------------------------------------------


def test_a_changed_invoice_is_updated_in_place(world: World) -> None:
    invoices = seed(world)
    world.run()
    invoice = invoices[2]
    before = world.books.entries()["F25-003"]
    set_lines(invoice, [("Module 2", 1, "450.00", "VH"), ("Extra dag", 1, "150.00", "VH")])
    world.touch(invoice)
    report = world.run()
    assert [r.record_id for r in report.updated] == [invoice["id"]]
    after = world.books.entries()["F25-003"]
    assert after.entry_id == before.entry_id
    assert gross(after) == total(invoice) == Decimal("726.00")
    assert [Decimal(line.amount_fc) for line in world.books.lines(after)] == [
        Decimal("450.00"),
        Decimal("150.00"),
    ]
    assert world.run().results == ()


def test_a_change_in_a_closed_period_is_reversed_and_rebooked(world: World) -> None:
    invoices = seed(world)
    world.run()
    world.books.close_period(2025, 3)
    invoice = invoices[0]
    old = total(invoice)
    set_lines(invoice, [("Module 1", 1, "450.00", "VH")])
    world.touch(invoice)
    report = world.run()
    assert [r.record_id for r in report.reversed] == [invoice["id"]]
    assert report.reversed[0].rebooked
    entries = world.books.entries()
    assert gross(entries["F25-001"]) == old
    assert gross(entries["F25-001-R1"]) == -old
    assert gross(entries["F25-001-V2"]) == total(invoice) == Decimal("544.50")
    assert world.books.net("F25-001") == total(invoice)
    assert world.run().results == ()


def test_a_cancelled_invoice_is_reversed(world: World) -> None:
    invoices = seed(world)
    world.run()
    invoice = invoices[1]
    invoice["factuurstatus"] = "Geannuleerd"
    world.touch(invoice)
    report = world.run()
    assert [r.record_id for r in report.reversed] == [invoice["id"]]
    assert world.books.net("F25-002") == 0
    assert set(world.books.entries()) == {"F25-001", "F25-002", "F25-002-R1", "F25-003"}
    stored = world.store.get(world.key(invoice))
    assert stored is not None
    assert stored.status is BookingStatus.DELETED
    assert world.run().results == ()


# -- failures and retries --------------------------------------------------------------------


def test_an_unmapped_vat_code_fails_alone_and_is_booked_once_the_config_is_fixed(
    world: World,
) -> None:
    invoices = seed(world)
    odd = world.add_invoice(
        world.cv.entities["debiteuren"][1],
        "F25-004",
        dt.date(2025, 4, 8),
        [("Oud tarief", 1, "100.00", "VX")],
    )
    report = world.run()
    assert report.status is RunStatus.PARTIAL
    assert [r.record_id for r in report.failed] == [odd["id"]]
    assert "vat" in (report.failed[0].reason or "").lower()
    assert len(report.booked) == len(invoices)
    stored = world.store.get(world.key(odd))
    assert stored is not None
    assert stored.status is BookingStatus.FAILED

    world.config = {**CONFIG, "vat": {"codes": {**CONFIG["vat"]["codes"], "VX": "2"}}}
    reads = len(world.invoice_reads())
    fixed = world.run()
    assert fixed.status is RunStatus.SUCCEEDED
    assert [r.record_id for r in fixed.booked] == [odd["id"]]
    assert gross(world.books.entries()["F25-004"]) == Decimal("121.00")
    # Coachview did not change it: it was read again by id.
    assert {"where": f"id={odd['id']}"}.items() <= world.invoice_reads()[reads:][-1].items()


def test_an_unreadable_company_fails_its_invoices_until_it_is_fixed(world: World) -> None:
    invoices = seed(world)
    company = world.cv.entities["bedrijven"][0]
    name = company.pop("naam")
    report = world.run()
    acme = [
        inv for inv in invoices if inv["debiteurId"] == world.cv.entities["debiteuren"][0]["id"]
    ]
    assert sorted(r.record_id for r in report.failed) == sorted(inv["id"] for inv in acme)
    reason = report.failed[0].reason or ""
    assert "company could not be read" in reason
    assert "naam" in reason
    assert [r.record_id for r in report.booked] == [invoices[1]["id"]]
    assert world.books.fake.count("POST", "crm/Accounts") == 1  # no half-known customer

    company["naam"] = name
    fixed = world.run()
    assert sorted(r.record_id for r in fixed.booked) == sorted(inv["id"] for inv in acme)
    assert world.books.customers()["1001"].name == "Acme Training B.V."


def test_an_invoice_of_an_unknown_debtor_fails_with_that_reason(world: World) -> None:
    seed(world)
    ghost = {"id": guid()}
    odd = world.add_invoice(ghost, "F25-009", dt.date(2025, 4, 9), [("Module", 1, "10.00", "VH")])
    report = world.run()
    assert [r.record_id for r in report.failed] == [odd["id"]]
    assert "debtor could not be read: not found" in (report.failed[0].reason or "")


def test_fetch_ids_ignores_ids_that_are_not_coachview_guids(world: World) -> None:
    invoices = seed(world)
    batch = world.source().fetch_ids([invoices[0]["id"], "not-a-guid", guid()])
    assert [i.source_id for i in batch.invoices] == [invoices[0]["id"]]
    assert batch.errors == ()
    assert world.source().pdf(batch.invoices[0]) is None


def test_no_secret_or_token_leaks_into_reprs_reports_or_logs(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    seed(world)
    ghost = {"id": guid()}
    world.add_invoice(ghost, "F25-011", dt.date(2025, 4, 9), [("Module", 1, "10.00", "VH")])
    source = world.source()
    report = world.pipeline().run()
    assert report.status is RunStatus.PARTIAL
    secrets = ["s3cret", *world.cv.tokens]
    assert len(secrets) > 1  # a token was issued
    texts = [repr(source), repr(source.client), caplog.text, json.dumps(report.as_dict())]
    assert all(secret not in text for secret in secrets for text in texts)


# -- dry run -----------------------------------------------------------------------------------


def test_preview_writes_nothing_to_exact_or_the_store(world: World) -> None:
    invoices = seed(world)
    pipeline = world.pipeline()
    preview = pipeline.preview()
    assert preview.dry_run
    assert {r.record_id: r.amount for r in preview.booked} == {
        inv["id"]: total(inv) for inv in invoices
    }
    assert preview.accounts_created == 2
    assert world.books.write_total() == 0
    assert world.store.recent_runs() == []
    assert world.store.get_cursor(pipeline.name, "source") is None
    assert all(world.store.get(world.key(inv)) is None for inv in invoices)
    # Without a stored cursor the real run still reads everything.
    assert len(pipeline.run().booked) == 3


# -- engine behaviour found while writing these tests (fixed) -----------------------------


def test_a_failed_record_read_again_is_reported_once(world: World) -> None:
    seed(world)
    broken = world.add_invoice(
        world.cv.entities["debiteuren"][0],
        "F25-010",
        dt.date(2025, 4, 10),
        [("Module", 1, "10.00", "VH")],
    )
    broken["factuurdatum"] = "yesterday"
    first = world.run()
    assert [r.record_id for r in first.failed] == [broken["id"]]
    world.touch(broken)  # still broken, but changed: the incremental read returns it
    second = world.run()
    assert [r.record_id for r in second.failed] == [broken["id"]]


# -- a one-off export of a date range -------------------------------------------------------


def test_sync_until_books_the_range_and_leaves_later_invoices_for_a_later_run(
    world: World,
) -> None:
    invoices = seed(world)  # dated 3 March, 12 March and 2 April 2025
    world.settings = SyncSettings(sync_from="2025-03-01", sync_until="2025-03-31")
    pipeline = world.pipeline()
    report = pipeline.run()
    assert report.status is RunStatus.SUCCEEDED, report.as_dict()
    assert sorted(world.books.entries()) == ["F25-001", "F25-002"]
    (held,) = report.skipped
    assert held.record_id == invoices[2]["id"]
    assert held.reason == (
        "dated 2025-04-02, after the sync-until date 2025-03-31; left for a later run"
    )
    # Nothing is stored for the held-back invoice, and the cursor did not move on past it.
    assert world.store.get(world.key(invoices[2])) is None
    assert world.store.get_cursor(pipeline.name, "source") is None

    # The same bounded run again books nothing new and reports the April invoice again.
    again = world.run()
    assert [r.record_id for r in again.skipped] == [invoices[2]["id"]]
    assert again.booked == ()

    # Without the end date the April invoice is read (no cursor skipped it) and booked.
    world.settings = SyncSettings(sync_from="2025-03-01")
    later = world.run()
    assert [r.record_id for r in later.booked] == [invoices[2]["id"]]
    entries = world.books.entries()
    assert sorted(entries) == ["F25-001", "F25-002", "F25-003"]
    assert gross(entries["F25-003"]) == total(invoices[2])
    assert world.store.get_cursor(pipeline.name, "source") is not None


def test_without_sync_until_every_invoice_from_sync_from_on_is_booked(world: World) -> None:
    seed(world)
    world.settings = SyncSettings(sync_from="2025-03-01")
    report = world.run()
    assert len(report.booked) == 3
    assert report.skipped == ()
    assert sorted(world.books.entries()) == ["F25-001", "F25-002", "F25-003"]


def test_a_booked_invoice_changed_after_sync_until_is_still_updated(world: World) -> None:
    invoices = seed(world)
    world.run()  # all three booked
    set_lines(invoices[2], [("Module 2", 2, "450.00", "VH")])
    world.touch(invoices[2])
    world.settings = SyncSettings(sync_until="2025-03-31")
    report = world.run()
    assert [r.record_id for r in report.updated] == [invoices[2]["id"]]
    assert gross(world.books.entries()["F25-003"]) == total(invoices[2])
