"""Club-assistent end to end: CSV exports -> ClubassistentInvoices -> InvoicePipeline -> Exact.

The exports are written with ``exactbridge.testing.clubassistent.write_invoice_csv`` into
a folder the source watches; each file's modification time is set explicitly so the
order of exports (and the cursor's fingerprints) never depend on the file system's
timestamp resolution.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from exactbridge.errors import ConfigurationError, SourceFileError
from exactbridge.mapping import BookingConfig
from exactbridge.sources.clubassistent import InvoiceCsvReader, Listing
from exactbridge.sources.clubassistent.models import ClubInvoice
from exactbridge.sync import (
    BookingKey,
    BookingStatus,
    InvoicePipeline,
    RunStatus,
    StateStore,
    SyncReport,
    SyncSettings,
)
from exactbridge.sync.connectors import ClubassistentInvoices
from exactbridge.testing import FakeClock, SampleInvoice, SampleLine, write_invoice_csv
from exactbridge.testing.clubassistent import DEFAULT_CSV_HEADER

from .conftest import DIVISION, Books, gross, vat

TENANT = "hc-de-uil"

CONFIG: dict[str, Any] = {
    "sales_journal": "70",
    "vat": {"codes": {"21": "2", "9": "1", "0": "0"}},
    "ledger": {"default_account": "8000", "by_vat_category": {"9": "8010", "0": "8020"}},
    "numbering": {"enabled": False},
}


class CountingReader(InvoiceCsvReader):
    """The standard reader, remembering which files it was asked to read."""

    def __init__(self) -> None:
        super().__init__()
        self.read_names: list[str] = []

    def read_bytes(self, data: bytes, *, name: str = "<bytes>") -> Listing[ClubInvoice]:
        self.read_names.append(os.path.basename(name))
        return super().read_bytes(data, name=name)


@attrs.define
class World:
    clock: FakeClock
    folder: Path
    books: Books
    store: StateStore
    reader: CountingReader = attrs.field(factory=CountingReader)
    config: dict[str, Any] = attrs.field(factory=lambda: dict(CONFIG))
    settings: SyncSettings = attrs.field(factory=SyncSettings)
    exports: int = 0

    def export(
        self, name: str, invoices: list[SampleInvoice], *, header: tuple[str, ...] | None = None
    ) -> Path:
        """Write (or rewrite) an export; each write gets a later modification time."""
        path = self.folder / name
        if header is None:
            write_invoice_csv(path, invoices)
        else:
            write_invoice_csv(path, invoices, header=header)
        self.exports += 1
        stamp = 1_750_000_000 + 60 * self.exports
        os.utime(path, (stamp, stamp))
        return path

    def source(self) -> ClubassistentInvoices:
        return ClubassistentInvoices(self.folder, reader=self.reader, tenant=TENANT)

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

    def key(self, number: str) -> BookingKey:
        return BookingKey("clubassistent", TENANT, number)


@pytest.fixture
def world(fake_clock: FakeClock, books: Books, state_store: StateStore, tmp_path: Path) -> World:
    folder = tmp_path / "exports"
    folder.mkdir()
    return World(fake_clock, folder, books, state_store)


def invoice(
    number: str,
    member: str,
    name: str,
    day: dt.date,
    *lines: tuple[str, str, str],
    method: str = "Incasso",
) -> SampleInvoice:
    """An export invoice with ``(description, amount incl. VAT, VAT %)`` lines."""
    return SampleInvoice(
        number=number,
        member_number=member,
        member_name=name,
        invoice_date=day,
        due_date=day + dt.timedelta(days=14),
        lines=tuple(SampleLine(d, Decimal(a), Decimal(p)) for d, a, p in lines),
        email=f"lid{member}@example.nl",
        payment_method=method,
    )


def seed(world: World) -> list[SampleInvoice]:
    march = [
        invoice(
            "F2025-001",
            "1042",
            "Sanne Bakker",
            dt.date(2025, 3, 1),
            ("Contributie senioren", "121.00", "21"),
            ("Bondscontributie", "18.50", "0"),
        ),
        invoice(
            "F2025-002",
            "1077",
            "Daan Visser",
            dt.date(2025, 3, 1),
            ("Contributie junioren", "60.50", "21"),
            ("Kantinekaart", "25.00", "9"),
        ),
    ]
    april = [
        invoice(
            "F2025-003",
            "1042",
            "Sanne Bakker",
            dt.date(2025, 4, 1),
            ("Trainingskamp", "145.20", "21"),
            method="Factuur",
        ),
    ]
    world.export("facturen-2025-03.csv", march)
    world.export("facturen-2025-04.csv", april)
    return march + april


def amount(sample: SampleInvoice) -> Decimal:
    return sum((line.amount for line in sample.lines), Decimal(0))


# -- booking once ----------------------------------------------------------------------------


def test_first_run_books_every_invoice_once_and_the_second_run_reads_and_writes_nothing(
    world: World,
) -> None:
    invoices = seed(world)
    report = world.run()
    assert report.status is RunStatus.SUCCEEDED, report.as_dict()
    assert len(report.booked) == 3
    entries = world.books.entries()
    assert sorted(entries) == ["F2025-001", "F2025-002", "F2025-003"]
    for sample in invoices:
        entry = entries[sample.number]
        assert gross(entry) == amount(sample)
        customer = world.books.customer(entry)
        assert customer.code == sample.member_number
        assert customer.name == sample.member_name
        assert customer.email == sample.email
    # Amounts include VAT: 121.00 at 21 % is 100.00 + 21.00; 25.00 at 9 % is 22.94 + 2.06.
    assert vat(entries["F2025-001"]) == Decimal("21.00")
    assert vat(entries["F2025-002"]) == Decimal("10.50") + Decimal("2.06")
    second = world.books.lines(entries["F2025-002"])
    assert [(Decimal(line.amount_fc), line.gl_account_code.strip()) for line in second] == [
        (Decimal("50.00"), "8000"),
        (Decimal("22.94"), "8010"),
    ]
    assert report.accounts_created == 2
    assert world.books.fake.count("POST", "crm/Accounts") == 2
    assert world.books.fake.count("POST", "salesentry/SalesEntries") == 3
    assert sorted(world.reader.read_names) == ["facturen-2025-03.csv", "facturen-2025-04.csv"]

    writes = world.books.writes()
    again = world.run()
    assert again.status is RunStatus.SUCCEEDED
    assert again.results == ()
    assert world.books.writes() == writes
    assert again.exact_calls == 0
    # The exports were not read again.
    assert len(world.reader.read_names) == 2


def test_only_new_exports_are_read(world: World) -> None:
    seed(world)
    world.run()
    world.reader.read_names.clear()
    may = invoice(
        "F2025-004",
        "1077",
        "Daan Visser",
        dt.date(2025, 5, 1),
        ("Contributie junioren", "60.50", "21"),
    )
    world.export("facturen-2025-05.csv", [may])
    report = world.run()
    assert [r.record_id for r in report.booked] == ["F2025-004"]
    assert report.accounts_created == 0  # Daan is known: his Exact account is reused
    assert world.reader.read_names == ["facturen-2025-05.csv"]


def test_the_cursor_is_text_and_remembers_files_by_fingerprint(world: World) -> None:
    seed(world)
    pipeline = world.pipeline()
    pipeline.run()
    cursor = world.store.get_cursor(pipeline.name, "source")
    assert isinstance(cursor, str)
    assert "facturen-2025-03.csv" in cursor
    fresh = ClubassistentInvoices(world.folder, tenant=TENANT).fetch(cursor)
    assert fresh.invoices == ()
    assert not fresh.complete
    assert fresh.cursor == cursor


# -- changes ---------------------------------------------------------------------------------


def test_an_invoice_changed_in_a_later_export_is_updated_in_place(world: World) -> None:
    seed(world)
    world.run()
    before = world.books.entries()["F2025-003"]
    corrected = invoice(
        "F2025-003",
        "1042",
        "Sanne Bakker",
        dt.date(2025, 4, 1),
        ("Trainingskamp", "145.20", "21"),
        ("Shirt", "35.00", "21"),
    )
    world.export("facturen-2025-04-correctie.csv", [corrected])
    report = world.run()
    assert [r.record_id for r in report.updated] == ["F2025-003"]
    after = world.books.entries()["F2025-003"]
    assert after.entry_id == before.entry_id
    assert gross(after) == Decimal("180.20")
    assert [Decimal(line.amount_fc) for line in world.books.lines(after)] == [
        Decimal("120.00"),
        Decimal("28.93"),
    ]
    assert world.run().results == ()


def test_a_change_in_a_closed_period_is_reversed_and_rebooked(world: World) -> None:
    invoices = seed(world)
    world.run()
    world.books.close_period(2025, 3)
    corrected = invoice(
        "F2025-001",
        "1042",
        "Sanne Bakker",
        dt.date(2025, 3, 1),
        ("Contributie senioren", "110.00", "21"),
        ("Bondscontributie", "18.50", "0"),
    )
    world.export("facturen-2025-03-correctie.csv", [corrected])
    report = world.run()
    assert [r.record_id for r in report.reversed] == ["F2025-001"]
    assert report.reversed[0].rebooked
    entries = world.books.entries()
    assert gross(entries["F2025-001"]) == amount(invoices[0])
    assert gross(entries["F2025-001-R1"]) == -amount(invoices[0])
    assert gross(entries["F2025-001-V2"]) == Decimal("128.50")
    assert world.books.net("F2025-001") == Decimal("128.50")
    assert world.run().results == ()


def test_a_cancellation_comes_as_a_credit_invoice_that_nets_to_zero(world: World) -> None:
    invoices = seed(world)
    world.run()
    credit = invoice(
        "F2025-010",
        "1077",
        "Daan Visser",
        dt.date(2025, 4, 15),
        ("Creditering contributie junioren", "-60.50", "21"),
        ("Creditering kantinekaart", "-25.00", "9"),
    )
    world.export("facturen-2025-04-credit.csv", [credit])
    report = world.run()
    assert [r.record_id for r in report.booked] == ["F2025-010"]
    entries = world.books.entries()
    assert gross(entries["F2025-010"]) == -amount(invoices[1])
    assert entries["F2025-010"].customer == entries["F2025-002"].customer
    assert gross(entries["F2025-002"]) + gross(entries["F2025-010"]) == 0
    assert vat(entries["F2025-002"]) + vat(entries["F2025-010"]) == 0


# -- failures --------------------------------------------------------------------------------


def test_an_unusable_file_is_reported_and_read_again_until_it_is_fixed(world: World) -> None:
    invoices = seed(world)
    late = invoice(
        "F2025-005",
        "1099",
        "Noor Smit",
        dt.date(2025, 5, 2),
        ("Contributie senioren", "121.00", "21"),
    )
    header = tuple(h for h in DEFAULT_CSV_HEADER if h != "Bedrag incl. btw")
    world.export("facturen-2025-05.csv", [late], header=header)
    report = world.run()
    assert report.status is RunStatus.PARTIAL
    assert len(report.booked) == len(invoices)
    (failure,) = report.failed
    assert "facturen-2025-05.csv" in (failure.reason or "")
    assert "Bedrag incl. btw" in (failure.reason or "")
    # Not a record: nothing is stored under a made-up id.
    assert world.store.failed("clubassistent", TENANT) == []
    # Not marked as read: the next run tries the file again.
    assert world.run().status is RunStatus.PARTIAL
    world.export("facturen-2025-05.csv", [late])
    fixed = world.run()
    assert fixed.status is RunStatus.SUCCEEDED
    assert [r.record_id for r in fixed.booked] == ["F2025-005"]


def test_a_bad_row_fails_its_invoice_by_number_and_a_fixed_export_books_it(world: World) -> None:
    seed(world)
    good = invoice(
        "F2025-006",
        "1042",
        "Sanne Bakker",
        dt.date(2025, 5, 3),
        ("Contributie senioren", "121.00", "21"),
    )
    bad = invoice(
        "F2025-007",
        "1077",
        "Daan Visser",
        dt.date(2025, 5, 3),
        ("Contributie junioren", "60.50", "21"),
    )
    path = world.export("facturen-2025-05.csv", [good, bad])
    text = path.read_text("utf-8").replace("60,50", "zestig")
    path.write_text(text, "utf-8")
    os.utime(path, (1_760_000_000, 1_760_000_000))
    report = world.run()
    assert report.status is RunStatus.PARTIAL
    assert [r.record_id for r in report.failed] == ["F2025-007"]
    reason = report.failed[0].reason or ""
    assert "facturen-2025-05.csv, line 3" in reason
    assert "Bedrag incl. btw" in reason
    assert "F2025-006" in {r.record_id for r in report.booked}
    stored = world.store.get(world.key("F2025-007"))
    assert stored is not None
    assert stored.status is BookingStatus.FAILED

    world.export("facturen-2025-05.csv", [good, bad])
    fixed = world.run()
    assert fixed.status is RunStatus.SUCCEEDED
    assert [r.record_id for r in fixed.booked] == ["F2025-007"]
    assert gross(world.books.entries()["F2025-007"]) == Decimal("60.50")


def test_a_newer_export_supersedes_an_older_one_for_the_same_invoice(world: World) -> None:
    seed(world)
    draft = invoice(
        "F2025-020",
        "1042",
        "Sanne Bakker",
        dt.date(2025, 5, 9),
        ("Contributie senioren", "121.00", "21"),
    )
    old = world.export("facturen-2025-05-a.csv", [draft])
    old.write_text(old.read_text("utf-8").replace("121,00", "x"), "utf-8")
    os.utime(old, (1_700_000_000, 1_700_000_000))  # older than the b export
    world.export("facturen-2025-05-b.csv", [draft])
    report = world.run()
    assert report.status is RunStatus.SUCCEEDED, [r.as_dict() for r in report.failed]
    assert "F2025-020" in {r.record_id for r in report.booked}
    # The other way round: the newest version of the invoice is unreadable.
    late = invoice(
        "F2025-021",
        "1077",
        "Daan Visser",
        dt.date(2025, 5, 9),
        ("Contributie junioren", "60.50", "21"),
    )
    world.export("facturen-2025-06-a.csv", [late])
    newer = world.export("facturen-2025-06-b.csv", [late])
    newer.write_text(newer.read_text("utf-8").replace("60,50", "x"), "utf-8")
    os.utime(newer, (1_790_000_000, 1_790_000_000))
    again = world.run()
    assert [r.record_id for r in again.failed] == ["F2025-021"]
    assert again.booked == ()


def test_an_unmapped_vat_rate_fails_alone_and_is_booked_once_the_config_is_fixed(
    world: World,
) -> None:
    invoices = seed(world)
    world.config = {**CONFIG, "vat": {"codes": {"21": "2", "0": "0"}}}  # 9 % not mapped
    failures: list[SyncReport] = []
    report = world.run(on_failure=failures.append)
    assert report.status is RunStatus.PARTIAL
    assert [r.record_id for r in report.failed] == ["F2025-002"]
    assert "vat" in (report.failed[0].reason or "").lower()
    assert sorted(r.record_id for r in report.booked) == ["F2025-001", "F2025-003"]
    assert failures == [report]
    stored = world.store.get(world.key("F2025-002"))
    assert stored is not None
    assert stored.status is BookingStatus.FAILED

    world.config = dict(CONFIG)
    reads = len(world.reader.read_names)
    fixed = world.run()
    assert fixed.status is RunStatus.SUCCEEDED
    assert [r.record_id for r in fixed.booked] == ["F2025-002"]
    assert gross(world.books.entries()["F2025-002"]) == amount(invoices[1])
    # No new export: the failed invoice was found by reading the exports again.
    assert len(world.reader.read_names) == reads + 2


# -- other inputs ----------------------------------------------------------------------------


def test_open_files_are_remembered_by_content(world: World) -> None:
    data = io.BytesIO()
    write_invoice_csv(data, seed(world)[:2])
    content = data.getvalue()
    first = ClubassistentInvoices([io.BytesIO(content)], tenant=TENANT).fetch(None)
    assert sorted(i.source_id for i in first.invoices) == ["F2025-001", "F2025-002"]
    assert {i.tenant for i in first.invoices} == {TENANT}
    assert first.complete
    same = ClubassistentInvoices(io.BytesIO(content), tenant=TENANT).fetch(first.cursor)
    assert same.invoices == ()
    changed = ClubassistentInvoices(
        io.BytesIO(content.replace(b"121,00", b"131,00")), tenant=TENANT
    ).fetch(first.cursor)
    assert [i.source_id for i in changed.invoices] == ["F2025-001", "F2025-002"]


def test_a_missing_path_is_an_error_not_a_crash(world: World) -> None:
    seed(world)
    source = ClubassistentInvoices(
        [world.folder, world.folder / "gone.csv"], tenant=TENANT, reader=world.reader
    )
    batch = source.fetch(None)
    assert len(batch.invoices) == 3
    (error,) = batch.errors
    assert isinstance(error, SourceFileError)
    assert "gone.csv" in str(error)
    assert not batch.complete
    assert source.pdf(batch.invoices[0]) is None


def test_the_tenant_is_required() -> None:
    with pytest.raises(ConfigurationError, match="tenant"):
        ClubassistentInvoices([], tenant=" ")


# -- dry run -----------------------------------------------------------------------------------


def test_preview_writes_nothing_to_exact_or_the_store(world: World) -> None:
    invoices = seed(world)
    pipeline = world.pipeline()
    preview = pipeline.preview()
    assert preview.dry_run
    assert {r.record_id: r.amount for r in preview.booked} == {
        sample.number: amount(sample) for sample in invoices
    }
    assert world.books.write_total() == 0
    assert world.store.recent_runs() == []
    assert world.store.get_cursor(pipeline.name, "source") is None
    assert all(world.store.get(world.key(sample.number)) is None for sample in invoices)
    # Without a stored cursor the real run reads (and books) every export.
    assert len(pipeline.run().booked) == 3
