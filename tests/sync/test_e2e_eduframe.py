"""Eduframe end to end: FakeEduframe -> EduframeInvoices -> InvoicePipeline -> FakeExactOnline.

Amounts are checked against what Eduframe says (``total_incl``/``total_excl``), entries
are read back from the fake Exact through the Exact client, and write calls are counted
on the fake by method.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import pytest

from exactbridge.errors import SourceRecordError
from exactbridge.mapping import BookingConfig
from exactbridge.sources.eduframe import EduframeClient
from exactbridge.sync import (
    Action,
    BookingKey,
    BookingStatus,
    InvoicePipeline,
    RunStatus,
    StateStore,
    SyncReport,
    SyncSettings,
)
from exactbridge.sync.connectors import EduframeInvoices
from exactbridge.testing import EduframeFault, FakeClock, FakeEduframe, Fault

from .conftest import DIVISION, Books, gross, vat

_CENT = Decimal("0.01")
TENANT = "academy"

# Eduframe VAT ids (in the order the world adds them): 1 = 21 %, 2 = exempt, 3 = 9 %.
CONFIG: dict[str, Any] = {
    "sales_journal": "70",
    "vat": {"codes": {"1": "2", "2": "0", "3": "1"}},
    "ledger": {"default_account": "8000", "by_vat_category": {"2": "8020", "3": "8010"}},
    "numbering": {"enabled": False},
}


@attrs.define
class World:
    clock: FakeClock
    ef: FakeEduframe
    books: Books
    store: StateStore
    config: dict[str, Any] = attrs.field(factory=lambda: dict(CONFIG))
    settings: SyncSettings = attrs.field(factory=SyncSettings)

    def client(self) -> EduframeClient:
        return EduframeClient(self.ef.credentials, transport=self.ef.transport(), clock=self.clock)

    def source(self, **options: Any) -> EduframeInvoices:
        options.setdefault("tenant", TENANT)
        return EduframeInvoices(self.client(), **options)

    def pipeline(self, source: EduframeInvoices | None = None, **options: Any) -> InvoicePipeline:
        options.setdefault("settings", self.settings)
        return InvoicePipeline(
            source or self.source(),
            self.books.fake.client(DIVISION),
            BookingConfig.from_mapping(self.config),
            self.store,
            clock=self.clock,
            **options,
        )

    def run(self, **options: Any) -> SyncReport:
        return self.pipeline(**options).run()

    def key(self, invoice: dict[str, Any]) -> BookingKey:
        return BookingKey("eduframe", TENANT, str(invoice["id"]))


@pytest.fixture
def world(fake_clock: FakeClock, books: Books, state_store: StateStore) -> World:
    ef = FakeEduframe(clock=fake_clock)
    ef.add_invoice_vat("21% btw", "21.0")
    ef.add_invoice_vat("Vrijgesteld", "0.0", has_vat=False)
    ef.add_invoice_vat("9% btw", "9.0")
    return World(fake_clock, ef, books, state_store)


@attrs.frozen
class Seeded:
    org: dict[str, Any]
    ann: dict[str, Any]
    invoices: list[dict[str, Any]]  # opened ones, in order
    concept: dict[str, Any]


def seed(world: World) -> Seeded:
    """A business and a personal account, three opened invoices and one concept."""
    ef = world.ef
    course = ef.add_course("Projectmanagement", "PM-1")
    _, variant = ef.add_edition(course["id"], dt.date(2025, 3, 17), dt.date(2025, 3, 28), "495.00")
    ef.add_discount_code("VROEGBOEK", "fixed", 50)
    org = ef.add_account(
        "Acme Opleidingen B.V.",
        account_type="business",
        email="finance@acme.example",
        address={
            "address": "Kerkstraat 1",
            "postal_code": "3511 AB",
            "city": "Utrecht",
            "country": "NL",
        },
        custom={"vat_number": "NL 1234.56789 B01"},
    )
    ann = ef.add_account(
        "Ann de Vries",
        email="ann@example.nl",
        address={
            "address": "Dorpsweg 2",
            "postal_code": "1234 AB",
            "city": "Amersfoort",
            "country": "NL",
        },
    )
    order = ef.add_order(org["id"], variant_id=variant["id"], discount_code="VROEGBOEK")
    invoices = [
        ef.add_invoice(
            org["id"],
            [
                {
                    "name": "Cursus Projectmanagement",
                    "units": 2,
                    "unit_price": "495.00",
                    "invoice_vat_id": 1,
                    "catalog_variant_id": variant["id"],
                },
                {
                    "name": "Korting VROEGBOEK",
                    "units": 1,
                    "unit_price": "-50.00",
                    "invoice_vat_id": 1,
                },
            ],
            order_id=order["id"],
            description="Inschrijving Projectmanagement",
            open_on=dt.date(2025, 3, 3),
        ),
        ef.add_invoice(
            ann["id"],
            [
                {
                    "name": "Cursus Boekhouden",
                    "units": 1,
                    "unit_price": "895.00",
                    "invoice_vat_id": 2,
                }
            ],
            open_on=dt.date(2025, 3, 10),
        ),
        ef.add_invoice(
            ann["id"],
            [{"name": "Lesmateriaal", "units": 3, "unit_price": "39.95", "invoice_vat_id": 3}],
            open_on=dt.date(2025, 4, 1),
        ),
    ]
    concept = ef.add_invoice(
        org["id"], [{"name": "Maatwerk", "units": 1, "unit_price": "1200.00", "invoice_vat_id": 1}]
    )
    return Seeded(org, ann, invoices, concept)


def reprice(world: World, invoice: dict[str, Any], unit_price: str) -> None:
    """Change the first item's price, as an edit in Eduframe would (totals and updated_at)."""
    invoice["invoice_items"][0]["unit_price"] = unit_price
    excl = incl = Decimal(0)
    for item in invoice["invoice_items"]:
        net = Decimal(item["unit_price"]) * item["units"]
        code = world.ef.invoice_vats[item["invoice_vat_id"]]
        rate = Decimal(code["percentage"]) / 100 if code["has_vat"] else Decimal(0)
        excl += net
        incl += (net * (1 + rate)).quantize(_CENT, rounding=ROUND_HALF_UP)
    invoice.update(total_excl=str(excl), total_incl=str(incl), total_open=str(incl))
    world.clock.advance(3600)
    invoice["updated_at"] = world.clock.now().isoformat()


def total(invoice: dict[str, Any]) -> Decimal:
    return Decimal(invoice["total_incl"])


def invoice_calls(world: World, invoice: dict[str, Any]) -> int:
    """GETs of this one invoice by id."""
    return sum(1 for call in world.ef.calls if call.path.endswith(f"/invoices/{invoice['id']}"))


# -- booking once ----------------------------------------------------------------------------


def test_first_run_books_every_invoice_once_and_the_second_run_writes_nothing(
    world: World,
) -> None:
    seeded = seed(world)
    report = world.run()
    assert report.status is RunStatus.SUCCEEDED, report.as_dict()
    assert len(report.booked) == 3
    # The concept is never read: the listing asks for opened invoices only.
    assert str(seeded.concept["id"]) not in {r.record_id for r in report.results}
    listing = [c for c in world.ef.calls if c.path.endswith("/invoices")]
    assert listing
    assert all("concept" not in c.query for c in listing)

    entries = world.books.entries()
    assert sorted(entries) == sorted(inv["number"] for inv in seeded.invoices)
    for invoice in seeded.invoices:
        entry = entries[invoice["number"]]
        assert gross(entry) == total(invoice)
        assert vat(entry) == total(invoice) - Decimal(invoice["total_excl"])
        lines = world.books.lines(entry)
        assert sum((Decimal(line.amount_fc) for line in lines), Decimal(0)) == Decimal(
            invoice["total_excl"]
        )
        customer = world.books.customer(entry)
        assert customer.code == str(invoice["account_id"])
        assert customer.name == world.ef.accounts[invoice["account_id"]]["name"]
    org = world.books.customers()[str(seeded.org["id"])]
    assert org.vat_number == "NL123456789B01"
    assert org.email == "finance@acme.example"
    # The discount is its own line, on the same revenue account, without cost codes.
    first = world.books.lines(entries[seeded.invoices[0]["number"]])
    assert [Decimal(line.amount_fc) for line in first] == [Decimal("990.00"), Decimal("-50.00")]
    # Two customers created, three entries, one POST each.
    assert report.accounts_created == 2
    assert world.books.fake.count("POST", "crm/Accounts") == 2
    assert world.books.fake.count("POST", "salesentry/SalesEntries") == 3

    writes = world.books.writes()
    again = world.run()
    assert again.status is RunStatus.SUCCEEDED
    assert again.results == ()
    assert again.unchanged == 3
    assert world.books.writes() == writes
    assert again.exact_calls == 0


def test_the_cursor_is_text_in_the_store_and_survives_a_new_source(world: World) -> None:
    seed(world)
    pipeline = world.pipeline()
    pipeline.run()
    cursor = world.store.get_cursor(pipeline.name, "source")
    assert isinstance(cursor, str)
    # A fresh source object (a new process) reads the same cursor back.
    batch = world.source().fetch(cursor)
    assert batch.complete
    assert batch.cursor == cursor
    assert sorted(int(i.source_id) for i in batch.invoices) == [1, 2, 3]


# -- changes and deletions -------------------------------------------------------------------


def test_a_changed_invoice_is_updated_in_place(world: World) -> None:
    seeded = seed(world)
    world.run()
    invoice = seeded.invoices[1]
    before = world.books.entries()[invoice["number"]]
    reprice(world, invoice, "995.00")
    report = world.run()
    assert [r.record_id for r in report.updated] == [str(invoice["id"])]
    after = world.books.entries()[invoice["number"]]
    assert after.entry_id == before.entry_id
    assert gross(after) == Decimal("995.00") == total(invoice)
    assert [Decimal(line.amount_fc) for line in world.books.lines(after)] == [Decimal("995.00")]
    assert len(world.books.entries()) == 3
    assert world.run().results == ()


def test_a_change_in_a_closed_period_is_reversed_and_rebooked(world: World) -> None:
    seeded = seed(world)
    world.run()
    world.books.close_period(2025, 3)
    invoice = seeded.invoices[0]
    old = total(invoice)
    reprice(world, invoice, "450.00")
    report = world.run()
    assert [r.record_id for r in report.reversed] == [str(invoice["id"])]
    assert report.reversed[0].rebooked
    number = invoice["number"]
    entries = world.books.entries()
    assert {ref for ref in entries if ref.startswith(number)} == {
        number,
        f"{number}-R1",
        f"{number}-V2",
    }
    assert gross(entries[number]) == old
    assert gross(entries[f"{number}-R1"]) == -old
    assert gross(entries[f"{number}-V2"]) == total(invoice)
    assert world.books.net(number) == total(invoice)
    # The reversal lands in the first open period, not in the closed March.
    assert entries[f"{number}-R1"].reporting_period == 6
    assert world.run().results == ()


def test_a_deleted_invoice_is_reversed_and_stays_reversed(world: World) -> None:
    seeded = seed(world)
    world.run()
    invoice = seeded.invoices[2]
    del world.ef.invoices[invoice["id"]]
    report = world.run()
    assert [r.record_id for r in report.reversed] == [str(invoice["id"])]
    assert world.books.net(invoice["number"]) == 0
    assert set(world.books.entries()) >= {invoice["number"], f"{invoice['number']}-R1"}
    stored = world.store.get(world.key(invoice))
    assert stored is not None
    assert stored.status is BookingStatus.DELETED
    # The deletion was confirmed by one read by id (Eduframe answered 404) ...
    assert invoice_calls(world, invoice) == 1
    # ... and is remembered: later runs neither ask again nor write anything.
    writes = world.books.writes()
    later = world.run()
    assert later.results == ()
    assert world.books.writes() == writes
    assert invoice_calls(world, invoice) == 1


def test_a_damaged_listing_is_no_proof_of_deletion(world: World) -> None:
    seeded = seed(world)
    world.run()
    hidden = world.ef.invoices.pop(seeded.invoices[0]["id"])
    world.ef.raw_invoices.append({"id": "x", "status": "open"})  # an unreadable record
    report = world.run()
    assert report.reversed == ()
    assert report.status is RunStatus.PARTIAL  # the unreadable record is reported
    assert world.books.net(seeded.invoices[0]["number"]) == total(seeded.invoices[0])
    # Back to a clean listing: the invoice is there again, nothing happens.
    world.ef.raw_invoices.clear()
    world.ef.invoices[hidden["id"]] = hidden
    assert world.run().results == ()


def test_many_invoices_vanishing_at_once_are_not_taken_for_deletions(world: World) -> None:
    seeded = seed(world)
    world.run(source=world.source(max_deletions=2))
    for invoice in seeded.invoices:
        del world.ef.invoices[invoice["id"]]
    report = world.run(source=world.source(max_deletions=2))
    assert report.reversed == ()
    assert report.status is RunStatus.PARTIAL
    (alarm,) = report.failed
    assert "3 invoices listed before are missing" in (alarm.reason or "")
    assert all(invoice_calls(world, inv) == 0 for inv in seeded.invoices)  # no GET storm
    # Whoever knows these deletions are real raises the limit; then they are reversed.
    confirmed = world.run(source=world.source(max_deletions=3))
    assert sorted(r.record_id for r in confirmed.reversed) == sorted(
        str(inv["id"]) for inv in seeded.invoices
    )
    assert all(world.books.net(inv["number"]) == 0 for inv in seeded.invoices)


# -- PDFs ------------------------------------------------------------------------------------


def test_attach_pdf_links_a_document_with_the_eduframe_pdf(world: World) -> None:
    seeded = seed(world)
    world.settings = SyncSettings(attach_pdf=True)
    report = world.run()
    assert len(report.booked) == 3
    entries = world.books.entries()
    documents = world.books.documents()
    client = world.client()
    for invoice in seeded.invoices:
        entry = entries[invoice["number"]]
        assert entry.document is not None
        document = documents[entry.document]
        assert document.type == 10  # sales invoice
        assert document.account == entry.customer
        attachments = world.books.attachments(entry.document)
        assert [a.file_name for a in attachments] == [f"invoice-{invoice['number']}.pdf"]
        data = world.books.attachment_bytes(attachments[0])
        assert data is not None
        assert data.startswith(b"%PDF")
        assert data == client.invoice_pdf(invoice["id"])
    assert world.books.fake.count("POST", "documents/Documents") == 3
    assert world.books.fake.count("POST", "documents/DocumentAttachments") == 3


@pytest.mark.parametrize("path", ["documents/Documents", "documents/DocumentAttachments"])
def test_a_lost_answer_while_attaching_leaves_one_document_per_invoice(
    world: World, path: str
) -> None:
    seeded = seed(world)
    world.settings = SyncSettings(attach_pdf=True)
    world.books.fake.fail_next(Fault.LOST_RESPONSE, method="POST", path=path)
    first = world.run()
    assert first.status is RunStatus.PARTIAL
    assert "outcome unknown" in (first.failed[0].reason or "")
    second = world.run()
    assert second.status is RunStatus.SUCCEEDED, second.as_dict()
    entries = world.books.entries()
    assert sorted(entries) == sorted(inv["number"] for inv in seeded.invoices)
    documents = world.books.documents()
    assert len(documents) == 3
    assert {entry.document for entry in entries.values()} == set(documents)
    for document in documents:
        assert len(world.books.attachments(document)) == 1


def test_pdf_of_an_unknown_invoice_is_none(world: World) -> None:
    seeded = seed(world)
    batch = world.source().fetch(None)
    record = batch.invoices[0]
    assert world.source().pdf(record) is not None
    del world.ef.invoices[seeded.invoices[0]["id"]]
    assert world.source().pdf(record) is None


# -- failures and retries --------------------------------------------------------------------


def test_an_unmapped_vat_code_fails_alone_and_is_booked_once_the_config_is_fixed(
    world: World,
) -> None:
    seeded = seed(world)
    world.config = {**CONFIG, "vat": {"codes": {"1": "2", "2": "0"}}}  # 9 % not mapped
    failures: list[SyncReport] = []
    report = world.run(on_failure=failures.append)
    assert report.status is RunStatus.PARTIAL
    bad = seeded.invoices[2]
    assert [r.record_id for r in report.failed] == [str(bad["id"])]
    assert "vat" in (report.failed[0].reason or "").lower()
    assert len(report.booked) == 2
    assert failures == [report]
    stored = world.store.get(world.key(bad))
    assert stored is not None
    assert stored.status is BookingStatus.FAILED

    world.config = dict(CONFIG)
    fixed = world.run()
    assert fixed.status is RunStatus.SUCCEEDED
    assert [r.record_id for r in fixed.booked] == [str(bad["id"])]
    assert gross(world.books.entries()[bad["number"]]) == total(bad)


def test_an_unreadable_invoice_fails_under_its_own_id_and_retry_reads_it_by_id(
    world: World,
) -> None:
    seeded = seed(world)
    world.ef.accounts[seeded.ann["id"]]["custom"] = {"vat_number": "NL12"}
    report = world.run()
    ann_invoices = [inv for inv in seeded.invoices if inv["account_id"] == seeded.ann["id"]]
    assert sorted(r.record_id for r in report.failed) == sorted(
        str(inv["id"]) for inv in ann_invoices
    )
    # The adapter's error about the account is keyed by the invoice, naming the field.
    reason = report.failed[0].reason or ""
    assert "custom.vat_number" in reason
    assert f"account {seeded.ann['id']}" in reason
    for invoice in ann_invoices:
        stored = world.store.get(world.key(invoice))
        assert stored is not None
        assert stored.status is BookingStatus.FAILED

    world.ef.accounts[seeded.ann["id"]]["custom"] = {}
    retried = world.pipeline().retry()
    assert retried.status is RunStatus.SUCCEEDED
    assert sorted(r.record_id for r in retried.booked) == sorted(
        str(inv["id"]) for inv in ann_invoices
    )
    for invoice in ann_invoices:
        assert invoice_calls(world, invoice) == 1  # read by id, not by a full listing
    assert world.run().results == ()


def test_fetch_ids_reports_missing_and_bad_ids_precisely(world: World) -> None:
    seeded = seed(world)
    source = world.source()
    good = seeded.invoices[0]
    batch = source.fetch_ids([str(good["id"]), "999", "not-a-number", str(good["id"])])
    assert [i.source_id for i in batch.invoices] == [str(good["id"])]
    assert batch.errors == ()
    world.ef.invoices[good["id"]]["total_incl"] = "many"
    broken = source.fetch_ids([str(good["id"])])
    assert broken.invoices == ()
    assert len(broken.errors) == 1
    error = broken.errors[0]
    assert isinstance(error, SourceRecordError)
    assert error.record_id == str(good["id"])
    assert error.field == "total_incl"


def test_a_record_eduframe_keeps_refusing_fails_alone_and_no_secret_leaks(
    fake_clock: FakeClock,
    books: Books,
    state_store: StateStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    canary = "canary-eduframe-key-7c1"
    ef = FakeEduframe(clock=fake_clock, api_key=canary)
    for name, percent, has_vat in (
        ("21%", "21.0", True),
        ("0%", "0.0", False),
        ("9%", "9.0", True),
    ):
        ef.add_invoice_vat(name, percent, has_vat=has_vat)
    world = World(fake_clock, ef, books, state_store)
    seeded = seed(world)
    world.config = {**CONFIG, "vat": {"codes": {"1": "2", "2": "0"}}}  # 9 % not mapped
    first = world.run()
    bad = seeded.invoices[2]
    assert [r.record_id for r in first.failed] == [str(bad["id"])]
    world.config = dict(CONFIG)
    ef.fail_next(EduframeFault.SERVER_ERROR, times=50, path=f"/invoices/{bad['id']}")
    source = world.source()
    retried = world.pipeline(source=source).retry()
    # Eduframe answered 500 on every attempt: that one invoice fails, the run ends cleanly.
    assert retried.status is RunStatus.PARTIAL
    assert [r.record_id for r in retried.failed] == [str(bad["id"])]
    assert "HTTP 500" in (retried.failed[0].reason or "")
    texts = [repr(source), repr(source.client), caplog.text]
    texts += [json.dumps(report.as_dict()) for report in (first, retried)]
    assert all(canary not in text for text in texts)


# -- concepts ----------------------------------------------------------------------------------


def test_concepts_read_on_request_are_skipped_once_and_booked_when_opened(world: World) -> None:
    seeded = seed(world)
    source = world.source(include_concepts=True)
    report = world.run(source=source)
    assert [(r.record_id, r.action) for r in report.skipped] == [
        (str(seeded.concept["id"]), Action.SKIPPED)
    ]
    assert "draft" in (report.skipped[0].reason or "")
    assert len(report.booked) == 3
    assert world.run(source=world.source(include_concepts=True)).results == ()
    world.ef.open_invoice(seeded.concept["id"], on=dt.date(2025, 5, 5))
    opened = world.run(source=world.source(include_concepts=True))
    assert [r.record_id for r in opened.booked] == [str(seeded.concept["id"])]
    assert gross(world.books.entries()[seeded.concept["number"]]) == total(seeded.concept)


# -- dry run -----------------------------------------------------------------------------------


def test_preview_writes_nothing_to_exact_or_the_store(world: World) -> None:
    seeded = seed(world)
    pipeline = world.pipeline()
    preview = pipeline.preview()
    assert preview.dry_run
    assert len(preview.booked) == 3
    assert preview.accounts_created == 2
    assert world.books.write_total() == 0
    assert world.store.recent_runs() == []
    assert world.store.get_cursor(pipeline.name, "source") is None
    assert all(world.store.get(world.key(inv)) is None for inv in seeded.invoices)
    amounts = {r.record_id: r.amount for r in preview.booked}
    assert amounts == {str(inv["id"]): total(inv) for inv in seeded.invoices}
    # The real run then books what the preview showed.
    report = pipeline.run()
    assert sorted(r.record_id for r in report.booked) == sorted(amounts)


# -- engine behaviour found while writing these tests (fixed) -----------------------------


def test_paying_an_invoice_leaves_its_booked_entry_alone(world: World) -> None:
    seeded = seed(world)
    world.run()
    writes = world.books.writes()
    world.clock.advance(3600)
    world.ef.pay_invoice(seeded.invoices[0]["id"])
    report = world.run()
    assert report.results == ()
    assert world.books.writes() == writes
