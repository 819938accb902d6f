"""Coachview options end to end: FakeCoachview -> CoachviewInvoices -> pipeline -> Exact.

One test per option of the Coachview seed document (panels Debtor and Financial), in
its order, both sides of each switch. The world (debtors, invoices with the lines'
own grootboekrekening) is the one of ``tests/sync/test_e2e_coachview.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import httpx
import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.exact import P
from exactbridge.sources.coachview import CoachviewClient
from exactbridge.sync import MemoryStateStore, StateStore, SyncSettings
from exactbridge.sync.schedule import run_every
from exactbridge.testing import FakeClock, FakeCoachview, FakeExactOnline
from exactbridge.testing.server import serve
from tests.sync.test_e2e_coachview import World

from .conftest import DIVISION, Books, add_gl_account, add_project, add_sales_journal

HIGH = [("Module 1", 1, "450.00", "VH")]  # 544.50 including 21 % VAT
MARCH = dt.date(2025, 3, 28)


@attrs.define
class SocketWorld(World):
    """The same world with Coachview served on a real socket (plain HTTP on 127.0.0.1)."""

    coachview_url: str = ""
    transport: httpx.HTTPTransport = attrs.field(factory=httpx.HTTPTransport)

    def client(self) -> CoachviewClient:
        return CoachviewClient(
            "api-client",
            "s3cret",
            base_url=self.coachview_url,
            transport=self.transport,
            clock=self.clock,
        )


@pytest.fixture(params=["transport", "socket"])
def cv(
    request: pytest.FixtureRequest,
    fake_clock: FakeClock,
    books: Books,
    state_store: MemoryStateStore,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    """Every option runs twice: at the httpx transport seam, and over real sockets.

    In ``socket`` mode Coachview and Exact are both served on 127.0.0.1 and the
    pipeline's clients talk HTTP to them (OAuth, paging, writes); what Exact holds is
    read back at the seam, independently of the path under test.
    """
    fake = FakeCoachview(clock=fake_clock)
    fake.add_client("api-client", "s3cret")
    if request.param == "transport":
        yield World(fake_clock, fake, books, state_store)
        return
    with (
        serve(books.fake) as exact_server,
        serve(fake) as coachview_server,
        httpx.HTTPTransport() as exact_transport,
        httpx.HTTPTransport() as coachview_transport,
    ):
        exact = books.fake
        by_seam = exact.client
        monkeypatch.setattr(
            exact,
            "client",
            lambda division, **options: by_seam(
                division,
                **{"base_url": exact_server.url, "transport": exact_transport, **options},
            ),
        )
        world = SocketWorld(fake_clock, fake, books, state_store)
        world.coachview_url = coachview_server.url
        world.transport = coachview_transport
        # Nothing may reach Coachview through the seam in this mode.
        monkeypatch.setattr(fake, "transport", _no_seam)
        yield world


def _no_seam() -> httpx.MockTransport:
    raise AssertionError("socket mode: the Coachview client used the transport seam")


def debtor_config(cv: World, **debtor: Any) -> None:
    cv.config = {**cv.config, "debtor": debtor}


def entry_of(cv: World, invoice: dict[str, Any]) -> Any:
    return cv.books.entries()[invoice["factuurnummer"]]


def customer_of(cv: World, invoice: dict[str, Any]) -> Any:
    return cv.books.customer(entry_of(cv, invoice))


# -- panel Debtor ------------------------------------------------------------------------


@pytest.mark.parametrize("ticked", [True, False])
def test_overwrite_existing_relation(cv: World, ticked: bool) -> None:
    existing = cv.books.fake.add_customer(
        DIVISION, "Acme (oude naam)", code="1001", email="oud@acme.example"
    )
    debtor = cv.add_debtor("1001", "Acme Training B.V.", company=True)
    invoice = cv.add_invoice(debtor, "F25-001", MARCH, HIGH)
    debtor_config(cv, overwrite_existing=ticked)

    report = cv.run()

    customer = customer_of(cv, invoice)
    assert customer.id == existing
    assert set(cv.books.customers()) == {"1001"}
    if ticked:
        assert (customer.name, customer.email) == ("Acme Training B.V.", "finance@1001.example")
        assert report.accounts_updated == 1
    else:
        assert (customer.name, customer.email) == ("Acme (oude naam)", "oud@acme.example")
        assert report.accounts_updated == 0


@pytest.mark.parametrize("create_missing", [True, False])
def test_debtors_are_created_as_customer_relationship_if_they_do_not_yet_exist(
    cv: World, create_missing: bool
) -> None:
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    debtor_config(cv, create_missing=create_missing)

    report = cv.run()

    if create_missing:
        assert customer_of(cv, invoice).code == "1001"
    else:
        assert cv.books.entries() == {}
        [failed] = report.failed
        assert failed.record_id == invoice["id"]
        assert "debtor.create_missing" in (failed.reason or "")


def stored(cv: World, entity: str, record_id: str) -> dict[str, Any]:
    """A record the Coachview fake serves, to edit in place."""
    [record] = [row for row in cv.cv.entities[entity.lower()] if row["id"] == record_id]
    return record


def _numbered_debtor(cv: World) -> dict[str, Any]:
    """A debtor with all three numbers: internal 1001, external 40077, extern id 30042."""
    debtor = cv.add_debtor("1001", "Acme Training B.V.", company=True)
    debtor["debiteurnummerExtern"] = "40077"
    company = stored(cv, "Bedrijven", debtor["bedrijfId"])
    company.update(externId="30042", externSource="EXACT")
    return debtor


@pytest.mark.parametrize(
    ("option", "code"),
    [("internal_number", "1001"), ("external_number", "40077"), ("extern_id", "30042")],
    ids=["debit-number", "debit-number-external", "company-personal-extern-id"],
)
def test_which_field_from_coachview_is_used_as_debtor_number(
    cv: World, option: str, code: str
) -> None:
    invoice = cv.add_invoice(_numbered_debtor(cv), "F1", MARCH, HIGH)
    debtor_config(cv, code_sources=[option], extern_source="EXACT")

    cv.run()

    assert customer_of(cv, invoice).code == code


@pytest.mark.parametrize("external", ["40077", None])
def test_option_2_is_used_when_option_1_provides_no_debtor_number(
    cv: World, external: str | None
) -> None:
    debtor = cv.add_debtor("1001", "Acme", company=True)
    debtor["debiteurnummerExtern"] = external
    invoice = cv.add_invoice(debtor, "F1", MARCH, HIGH)
    debtor_config(cv, code_sources=["external_number", "internal_number"])

    cv.run()

    assert customer_of(cv, invoice).code == (external or "1001")


@pytest.mark.parametrize("let_exact_number", [False, True])
def test_no_option_provides_a_debtor_number(cv: World, let_exact_number: bool) -> None:
    nameless = cv.add_debtor("1002", "Piet Jansen", company=False)
    nameless["debiteurnummer"] = None
    other = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    invoice = cv.add_invoice(nameless, "F2", MARCH, HIGH)
    debtor_config(
        cv,
        code_sources=["internal_number", "external_number"],
        match_by_email=False,
        match_by_vat_number=False,
        let_exact_number=let_exact_number,
    )

    report = cv.run()

    assert customer_of(cv, other).code == "1001"  # the batch goes on either way
    if let_exact_number:
        numbered = customer_of(cv, invoice)
        assert numbered.name == "Piet Jansen"
        assert numbered.code not in (None, "", "1001")
    else:
        assert set(cv.books.entries()) == {"F1"}
        [failed] = report.failed
        assert failed.record_id == invoice["id"]
        reason = failed.reason or ""
        assert "debtor.code_sources" in reason
        assert "internal_number" in reason
        assert "external_number" in reason


@pytest.mark.parametrize(("extern_source", "code"), [("EXACT", "30042"), ("AFAS", "7781")])
def test_fill_in_exactly_the_extern_source(cv: World, extern_source: str, code: str) -> None:
    exact_client = _numbered_debtor(cv)
    afas_client = cv.add_debtor("1002", "Piet Jansen", company=False)
    stored(cv, "Personen", afas_client["persoonId"]).update(externId="7781", externSource="AFAS")
    first = cv.add_invoice(exact_client, "F1", MARCH, HIGH)
    second = cv.add_invoice(afas_client, "F2", MARCH, HIGH)
    debtor_config(cv, code_sources=["extern_id", "internal_number"], extern_source=extern_source)

    cv.run()

    # The chosen source's id where the relation has one, option 2 where it has not.
    if extern_source == "EXACT":
        assert (customer_of(cv, first).code, customer_of(cv, second).code) == (code, "1002")
    else:
        assert (customer_of(cv, first).code, customer_of(cv, second).code) == ("1001", code)


@pytest.mark.parametrize(
    ("option", "code"), [("internal_number", "91001"), ("external_number", "40077")]
)
def test_prefix_is_only_added_if_the_internal_debtor_number_is_used(
    cv: World, option: str, code: str
) -> None:
    invoice = cv.add_invoice(_numbered_debtor(cv), "F1", MARCH, HIGH)
    debtor_config(cv, code_sources=[option], prefix="9")

    cv.run()

    assert customer_of(cv, invoice).code == code


@pytest.mark.parametrize("refuse", [True, False])
def test_debtor_number_that_occurs_as_a_supplier(cv: World, refuse: bool) -> None:
    supplier = cv.books.fake.add_customer(
        DIVISION, "Drukkerij De Pers", code="1001", Status="S", IsSales=False, IsSupplier=True
    )
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    debtor_config(cv, refuse_supplier_codes=refuse)

    report = cv.run()

    if refuse:
        assert cv.books.entries() == {}
        [failed] = report.failed
        assert "debtor.refuse_supplier_codes" in (failed.reason or "")
    else:
        assert entry_of(cv, invoice).customer == supplier


# -- panel Financial ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "period"),
    [("invoice_date", 3), ("order_start", 4), ("order_end", 5), ("export_date", 6)],
)
def test_which_date_determines_the_booking_period(cv: World, source: str, period: int) -> None:
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    invoice.update(orderStartdatum="2025-04-07", orderEinddatum="2025-05-23")
    cv.config = {**cv.config, "period": {"date_sources": [source]}}

    cv.run()  # the export date is the run's day: 2 June 2025

    entry = entry_of(cv, invoice)
    assert (entry.reporting_year, entry.reporting_period) == (2025, period)


@pytest.mark.parametrize("order_end", ["2025-05-23", None])
def test_select_option_2_if_the_first_option_cannot_provide_a_date(
    cv: World, order_end: str | None
) -> None:
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    invoice["orderEinddatum"] = order_end
    cv.config = {**cv.config, "period": {"date_sources": ["order_end", "invoice_date"]}}

    cv.run()

    entry = entry_of(cv, invoice)
    assert entry.reporting_period == (5 if order_end else 3)


def _credit_invoice(cv: World) -> dict[str, Any]:
    debtor = cv.add_debtor("1001", "Acme", company=True)
    return cv.add_invoice(debtor, "F25-009", MARCH, [("Annulering module 1", 1, "-295.00", "VH")])


@pytest.mark.parametrize(("checked", "entry_type"), [(True, 21), (False, 20)])
def test_book_negative_invoices_as_credit_invoices(
    cv: World, checked: bool, entry_type: int
) -> None:
    invoice = _credit_invoice(cv)
    mode = "credit_note" if checked else "negative_entry"
    cv.config = {**cv.config, "credit_notes": {"mode": mode}}

    cv.run()

    entry = entry_of(cv, invoice)
    assert entry.type == entry_type
    assert (Decimal(entry.amount_fc), Decimal(entry.vat_amount_fc)) == (
        Decimal("-356.95"),
        Decimal("-61.95"),
    )
    [line] = cv.books.lines(entry)
    assert (line.amount_fc, line.vat_code.strip()) == (Decimal("-295.00"), "2")


@pytest.mark.parametrize("exact_types", ["as_posted", "by_sign"])
def test_book_negative_invoices_unchecked_when_exact_types_entries_by_sign(
    fake_clock: FakeClock, state_store: MemoryStateStore, exact_types: str
) -> None:
    # UNCERTAIN whether Exact keeps a posted Type 20 on a negative entry: the fake can
    # do either, and the negative entry is booked correctly under both.
    fake = FakeExactOnline(clock=fake_clock, domain_options={"sales_entry_type": exact_types})
    fake.add_division(DIVISION, template="nl")
    coachview = FakeCoachview(clock=fake_clock)
    coachview.add_client("api-client", "s3cret")
    cv = World(fake_clock, coachview, Books(fake), state_store)
    invoice = _credit_invoice(cv)
    cv.config = {**cv.config, "credit_notes": {"mode": "negative_entry"}}

    cv.run()

    entry = entry_of(cv, invoice)
    assert entry.type == (20 if exact_types == "as_posted" else 21)
    assert Decimal(entry.amount_fc) == Decimal("-356.95")


@pytest.mark.parametrize("journal", [None, "72"])
def test_the_sales_diary_number_by_default_70(cv: World, journal: str | None) -> None:
    add_sales_journal(cv.books, "72", "Verkoopboek opleidingen")
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    config = {key: value for key, value in cv.config.items() if key != "sales_journal"}
    if journal is not None:
        config["sales_journal"] = journal
    cv.config = config

    cv.run()

    assert entry_of(cv, invoice).journal == (journal or "70")


@pytest.mark.parametrize("send", [True, False])
def test_must_the_coachview_invoice_be_sent_as_a_pdf(cv: World, send: bool) -> None:
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    rendered = b"%PDF-1.7 factuur F1"

    cv.run(settings=SyncSettings(attach_pdf=send), pdf_renderer=lambda _: rendered)

    entry = entry_of(cv, invoice)
    if send:
        [attachment] = cv.books.attachments(entry.document)
        assert cv.books.attachment_bytes(attachment) == rendered
    else:
        assert entry.document is None
        assert cv.books.documents() == {}


@pytest.mark.parametrize("send", [True, False])
def test_should_the_cost_center_be_sent_to_exact_online(cv: World, send: bool) -> None:
    debtor = cv.add_debtor("1001", "Acme", company=True)
    invoice = cv.add_invoice(debtor, "F1", MARCH, [*HIGH, ("Boeken", 1, "35.50", "VL")])
    invoice["factuurregels"][0]["kostenplaats"] = "300"
    invoice["factuurregels"][1]["kostenplaats"] = "200"
    cv.config = {**cv.config, "ledger": {"default_account": "8000", "send_cost_center": send}}

    cv.run()

    lines = cv.books.lines(entry_of(cv, invoice))
    centers = [line.cost_center.strip() if line.cost_center else None for line in lines]
    assert centers == (["300", "200"] if send else [None, None])


@pytest.mark.parametrize("own_ledger_first", [True, False])
def test_sales_entries_include_the_lines_general_ledger_account(
    cv: World, own_ledger_first: bool
) -> None:
    debtor = cv.add_debtor("1001", "Acme", company=True)
    invoice = cv.add_invoice(debtor, "F1", MARCH, [*HIGH, ("Boeken", 1, "35.50", "VL")])
    invoice["factuurregels"][0]["grootboekrekening"] = "8030"
    invoice["factuurregels"][0]["kostenplaats"] = "100"
    ledger: dict[str, Any] = {"default_account": "8000"}
    if not own_ledger_first:
        ledger["order"] = ["vat_category"]
    cv.config = {**cv.config, "ledger": ledger}

    cv.run()

    lines = cv.books.lines(entry_of(cv, invoice))
    codes = [str(line.gl_account_code).strip() for line in lines]
    assert codes == (["8030", "8010"] if own_ledger_first else ["8000", "8000"])


@pytest.mark.parametrize("prefix", ["2018", None])
def test_invoice_number_prefix_must_be_a_number(cv: World, prefix: str | None) -> None:
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "00042", MARCH, HIGH)
    numbering = {"prefix": prefix} if prefix else {"enabled": False}
    cv.config = {**cv.config, "numbering": numbering}

    cv.run()

    entry = entry_of(cv, invoice)
    if prefix:
        assert entry.entry_number == 201800042
    else:
        assert entry.entry_number not in (None, 42, 201800042)  # Exact's own number
    assert entry.your_ref == "00042"


def test_a_prefix_that_is_not_a_number_is_refused(cv: World) -> None:
    cv.config = {**cv.config, "numbering": {"prefix": "CV"}}
    with pytest.raises(ConfigurationError, match=r"numbering\.prefix"):
        cv.pipeline()


@pytest.mark.parametrize("alignment", ["all", "numeric"])
def test_existing_debtors_are_found_by_code_as_exact_stores_it(
    fake_clock: FakeClock, state_store: MemoryStateStore, alignment: str
) -> None:
    # Exact right-aligns numeric codes to 18 characters; whether it pads a code with
    # letters is UNCERTAIN, so the fake can do both ("all" pads every code).
    fake = FakeExactOnline(clock=fake_clock, domain_options={"account_code_alignment": alignment})
    fake.add_division(DIVISION, template="nl")
    coachview = FakeCoachview(clock=fake_clock)
    coachview.add_client("api-client", "s3cret")
    cv = World(fake_clock, coachview, Books(fake), state_store)
    numeric = fake.add_customer(DIVISION, "Numeriek", code="1001")
    prefixed = fake.add_customer(DIVISION, "Met prefix", code="CV00042")
    external = fake.add_customer(DIVISION, "Extern", code="40077")

    def run(debtor: dict[str, Any], prefix: str, sources: list[str]) -> Any:
        invoice = cv.add_invoice(debtor, f"F{len(cv.books.entries()) + 1}", MARCH, HIGH)
        debtor_config(
            cv, code_sources=sources, prefix=prefix, match_by_email=False, match_by_vat_number=False
        )
        cv.run()
        return entry_of(cv, invoice).customer

    by_external = cv.add_debtor("1003", "Extern", company=True)
    by_external["debiteurnummerExtern"] = "40077"
    assert run(cv.add_debtor("1001", "Numeriek", company=True), "", ["internal_number"]) == numeric
    assert (
        run(cv.add_debtor("00042", "Prefix", company=True), "CV", ["internal_number"]) == prefixed
    )
    assert run(by_external, "", ["external_number", "internal_number"]) == external
    assert len(cv.books.customers()) == 3  # found, none created


@pytest.mark.parametrize(
    ("attribute", "wire_field"),
    [
        ("request_number", "aanvraagnummer"),
        ("request_reference", "referentieNrKlant"),
        ("invoice_reference", "referentieNr"),
        ("course_code", "opleidingCode"),
        ("course_definition_code", "opleidingssoortCode"),
        (None, None),
    ],
    ids=["aanvraagnummer", "request-reference", "invoice-reference", "course", "definition", "off"],
)
def test_have_project_code_generated_from_a_coachview_field(
    cv: World, attribute: str | None, wire_field: str | None
) -> None:
    project = add_project(cv.books, "PRJ-7", "Leergang Projectmanagement")
    add_project(cv.books, "PRJ-8", "Andere leergang")
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    invoice.update(
        aanvraagnummer="X",
        referentieNrKlant="X",
        referentieNr="X",
        opleidingCode="X",
        opleidingssoortCode="X",
    )
    if wire_field is not None:
        invoice[wire_field] = "PRJ-7"
    if attribute is not None:
        cv.config = {
            **cv.config,
            "ledger": {"default_account": "8000", "project_attribute": attribute},
        }
    else:
        cv.config = {**cv.config, "ledger": {"default_account": "8000"}}

    report = cv.run()

    if attribute is None:
        [line] = cv.books.lines(entry_of(cv, invoice))
        assert line.project is None
        return
    # Every other field holds "X", which is no project: only the chosen one books.
    assert report.failed == ()
    [line] = cv.books.lines(entry_of(cv, invoice))
    assert (line.project, line.project_description) == (project, "Leergang Projectmanagement")


def test_a_project_code_exact_does_not_have_fails_the_invoice_alone(cv: World) -> None:
    add_project(cv.books, "PRJ-7", "Leergang Projectmanagement")
    debtor = cv.add_debtor("1001", "Acme", company=True)
    good = cv.add_invoice(debtor, "F1", MARCH, HIGH)
    good["aanvraagnummer"] = "PRJ-7"
    bad = cv.add_invoice(debtor, "F2", MARCH, HIGH)
    bad["aanvraagnummer"] = "PRJ-404"
    cv.config = {
        **cv.config,
        "ledger": {"default_account": "8000", "project_attribute": "request_number"},
    }

    report = cv.run()

    assert set(cv.books.entries()) == {"F1"}
    [failed] = report.failed
    assert failed.record_id == bad["id"]
    assert "PRJ-404" in (failed.reason or "")
    assert "ledger.project_attribute" in (failed.reason or "")


@pytest.mark.parametrize(("journal", "debtors_gl"), [("70", "1300"), ("72", "1310")])
def test_general_ledger_account_number_for_debtors_default_1300(
    cv: World, journal: str, debtors_gl: str
) -> None:
    # Exact books a sales entry's receivable on its journal's debtors account: journal
    # 70 is on 1300 (the default); a journal on 1310 books there.
    add_gl_account(cv.books, "1310", "Debiteuren opleidingen", 20)
    add_sales_journal(cv.books, "72", "Verkoopboek opleidingen", debtors_account="1310")
    invoice = cv.add_invoice(cv.add_debtor("1001", "Acme", company=True), "F1", MARCH, HIGH)
    cv.config = {**cv.config, "sales_journal": journal}

    cv.run()

    entry = entry_of(cv, invoice)
    rows = cv.books.exact.transaction_lines.iterate(filter=P("EntryID") == entry.entry_id)
    receivable = [row for row in rows if row.gl_account_code.strip() == debtors_gl]
    assert [Decimal(row.amount_fc) for row in receivable] == [Decimal("544.50")]


@attrs.define
class ExportMoment:
    """A pipeline run as a scheduler runs it; a new invoice arrives 10 minutes in."""

    world: World
    arrives: dt.datetime
    pending: dict[str, Any] | None = None
    name: str = "coachview-export"
    # The world's store: ``run_every`` takes the pipeline's run lock in it.
    store: StateStore = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.store = self.world.store

    def run(self) -> Any:
        if self.pending is None and self.world.clock.now() >= self.arrives:
            debtor = self.world.add_debtor("1001", "Acme", company=True)
            self.pending = self.world.add_invoice(debtor, "F1", MARCH, HIGH)
        return self.world.run()


@pytest.mark.parametrize(("mode", "minutes"), [("realtime", 15), ("bulk-nightly", 24 * 60)])
def test_determine_when_the_final_invoices_should_be_exported(
    cv: World, mode: str, minutes: int
) -> None:
    start = cv.clock.now()
    feed = ExportMoment(cv, arrives=start + dt.timedelta(minutes=10))

    reports = run_every(minutes, feed, clock=cv.clock, max_runs=3)

    booked_at = [report.started_at for report in reports if report.booked]
    assert len(booked_at) == 1  # booked once, whatever the schedule
    assert set(cv.books.entries()) == {"F1"}
    delay = booked_at[0] - start
    if mode == "realtime":
        assert delay == dt.timedelta(minutes=15)  # the first run after it arrived
    else:
        assert delay == dt.timedelta(days=1)  # waits for the night's export
