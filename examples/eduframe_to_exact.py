"""Eduframe to Exact Online, end to end on the fakes: no credentials, no network.

What it does:

1. seeds a fake Eduframe institute (two course templates with an edition each,
   a business account with a VAT number, a student, three opened invoices, one
   with a discount code, and a concept invoice) and a fake Dutch Exact Online
   administration;
2. sets the booking rules, each one named after the setting of Eduframe's own
   Exact Online plugin it replaces (Settings > Plugins > Exact Online, and the
   "Exact Online" tab of a course template or edition);
3. runs the invoice pipeline with ``attach_pdf=True``: every invoice becomes a
   sales entry with Eduframe's PDF attached as an Exact document, and the
   report is printed;
4. reads the entries back from Exact: customer, lines with ledger, cost center
   and cost unit, and the attached PDF;
5. runs again: nothing is booked twice, and not a single Exact call is made.

Run it with ``python examples/eduframe_to_exact.py``. The bottom of this file
shows how to swap the fakes for a real institute and a real administration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from exactbridge.exact import ExactClient, P
from exactbridge.mapping import (
    BookingConfig,
    CreditNoteMode,
    CreditNotePolicy,
    DebtorPolicy,
    LedgerMapping,
    LedgerTarget,
    VatMapping,
)
from exactbridge.sources.eduframe import EduframeAdapterConfig, EduframeClient
from exactbridge.sync import (
    ChangePolicy,
    DeletePolicy,
    InvoicePipeline,
    SQLiteStateStore,
    SyncReport,
    SyncSettings,
)
from exactbridge.sync.connectors import EduframeInvoices
from exactbridge.testing import FakeClock, FakeEduframe, FakeExactOnline

DIVISION = 1001  # "Division": the division code (not the administration's own code)
TENANT = "demo-academy"  # names the institute in the state store's booking keys


@dataclasses.dataclass
class Institute:
    """The Eduframe ids the booking rules refer to (Eduframe assigns them)."""

    vat_21: int = 0  # invoice VAT codes
    vat_exempt: int = 0
    vat_9: int = 0
    projectmanagement: int = 0  # course templates
    boekhouden: int = 0
    pm_amsterdam: int = 0  # an edition of Projectmanagement, taught in Amsterdam


def seed_institute(clock: FakeClock, ids: Institute) -> FakeEduframe:
    """An institute with two courses, two accounts, three opened invoices and a concept."""
    eduframe = FakeEduframe(clock=clock)
    # Eduframe's invoice VAT codes ("invoice_vats"): their ids are what the VAT mapping maps.
    ids.vat_21 = eduframe.add_invoice_vat("21% btw", "21.0")["id"]
    ids.vat_exempt = eduframe.add_invoice_vat("Vrijgesteld", "0.0", has_vat=False)["id"]
    ids.vat_9 = eduframe.add_invoice_vat("9% btw", "9.0")["id"]

    pm = eduframe.add_course("Projectmanagement", "PM-1")
    ids.projectmanagement = pm["id"]
    edition, pm_variant = eduframe.add_edition(
        pm["id"], dt.date(2025, 3, 17), dt.date(2025, 3, 28), "495.00"
    )
    ids.pm_amsterdam = edition["id"]
    bk = eduframe.add_course("Boekhouden", "BK-1")
    ids.boekhouden = bk["id"]
    _, bk_variant = eduframe.add_edition(
        bk["id"], dt.date(2025, 4, 7), dt.date(2025, 4, 18), "895.00"
    )
    eduframe.add_discount_code("VROEGBOEK", "fixed", 50)

    acme = eduframe.add_account(
        "Acme Opleidingen B.V.",
        account_type="business",
        email="finance@acme.example",
        address={
            "address": "Kerkstraat 1",
            "postal_code": "3511 AB",
            "city": "Utrecht",
            "country": "NL",
        },
        custom={"vat_number": "NL123456789B01"},  # the custom field with system_name vat_number
    )
    ann = eduframe.add_account(
        "Ann de Vries",
        email="ann@example.nl",
        address={
            "address": "Dorpsweg 2",
            "postal_code": "1234 AB",
            "city": "Amersfoort",
            "country": "NL",
        },
    )
    order = eduframe.add_order(acme["id"], variant_id=pm_variant["id"], discount_code="VROEGBOEK")

    def item(name: str, units: int, price: str, vat: int, variant: Any = None) -> dict[str, Any]:
        return {
            "name": name,
            "units": units,
            "unit_price": price,
            "invoice_vat_id": vat,
            "catalog_variant_id": variant["id"] if variant else None,
        }

    # Two participants of Acme on the Amsterdam edition, with the early-bird discount
    # (Eduframe adds it as its own item; it gets no cost center or cost unit).
    eduframe.add_invoice(
        acme["id"],
        [
            item("Cursus Projectmanagement", 2, "495.00", ids.vat_exempt, pm_variant),
            item("Korting VROEGBOEK", 1, "-50.00", ids.vat_exempt),
        ],
        order_id=order["id"],
        description="Inschrijving Projectmanagement",
        open_on=dt.date(2025, 3, 3),
    )
    eduframe.add_invoice(
        ann["id"],
        [item("Cursus Boekhouden", 1, "895.00", ids.vat_exempt, bk_variant)],
        description="Inschrijving Boekhouden",
        open_on=dt.date(2025, 3, 10),
    )
    eduframe.add_invoice(
        ann["id"],
        [item("Lesmateriaal", 3, "39.95", ids.vat_21)],
        open_on=dt.date(2025, 4, 1),
    )
    # Still a concept: no number, no date. The plugin does not book it, nor do we.
    eduframe.add_invoice(acme["id"], [item("Maatwerktraining", 1, "1200.00", ids.vat_21)])
    return eduframe


def seed_administration(clock: FakeClock) -> FakeExactOnline:
    """A Dutch administration: GL 8000-8040, cost centers 100-300, cost units AMS/UTR."""
    exact = FakeExactOnline(clock=clock)
    exact.add_division(DIVISION, template="nl")
    return exact


def booking_rules(ids: Institute) -> BookingConfig:
    """The booking rules, setting by setting as the Eduframe plugin asks for them."""
    return BookingConfig(
        # "Journal code": the journal the entries are added to.
        sales_journal="70",
        # Eduframe's invoice VAT codes -> Exact VAT codes (the plugin sends each
        # item's vat_code; here the mapping is explicit).
        vat=VatMapping(
            codes={
                str(ids.vat_21): "2",  # 21 %: Exact's "Btw hoog"
                str(ids.vat_exempt): "0",  # exempt (education): "Geen btw"
                str(ids.vat_9): "1",  # 9 %: "Btw laag"
            }
        ),
        ledger=LedgerMapping(
            # "Ledger code" (global): the ledger account when a course sets none.
            default_account="8000",
            # Course template > Plugins tab > Exact Online: "Ledger code", "Cost
            # center", "Cost unit" (keys are Eduframe's course template ids).
            by_course_template={
                str(ids.projectmanagement): LedgerTarget(
                    gl_account="8040", cost_center="300", cost_unit="UTR"
                ),
                str(ids.boekhouden): LedgerTarget(
                    gl_account="8040", cost_center="300", cost_unit="UTR"
                ),
            },
            # The same tab on a course edition wins over its template, field by field:
            # this edition is taught in Amsterdam, so only its cost unit differs.
            by_course_edition={str(ids.pm_amsterdam): LedgerTarget(cost_unit="AMS")},
        ),
        # "Synchronise VAT number of organisations": the account's VAT number goes to
        # the Exact customer, and an existing customer with that VAT number is used.
        debtor=DebtorPolicy(match_by_vat_number=True),
        # A credited (negative) invoice becomes an Exact credit note.
        credit_notes=CreditNotePolicy(mode=CreditNoteMode.CREDIT_NOTE),
        # The entry number is Eduframe's invoice "number"; it also goes to YourRef
        # (the default numbering policy).
    )


def sync_settings() -> SyncSettings:
    """The engine's options."""
    return SyncSettings(
        # "Sync from": invoices before this date are not synchronised.
        sync_from=dt.date(2025, 1, 1),
        # "The whole invoice as PDF, which is attached to the sales_entry".
        attach_pdf=True,
        # The plugin syncs "on creation of an invoice and on every change ... after,
        # so when it is opened, paid, expired, deleted or (re)saved": a changed
        # invoice updates its entry, a deleted one is reversed.
        on_change=ChangePolicy.UPDATE,
        on_delete=DeletePolicy.REVERSE,
    )


def show(title: str, report: SyncReport) -> None:
    """Print a report: the summary, then one line per record."""
    print(f"\n== {title}")
    for line in report.lines():
        print(line)
    for row in report.rows():
        amount = row["amount"] or ""
        print(f"  {row['action']:<9} invoice {row['label']:<11} {amount:>9}")


def show_books(exact: ExactClient) -> None:
    """Read the booked entries back from Exact: lines, cost codes and the attached PDF."""
    print("\n== in Exact Online")
    for entry in exact.sales_entries.iterate(orderby=["EntryNumber"]):
        assert entry.customer is not None
        customer = exact.accounts.get(entry.customer)  # created from the Eduframe account
        vat_number = f", VAT number {customer.vat_number}" if customer.vat_number else ""
        print(
            f"entry {entry.entry_number} YourRef {entry.your_ref}: {entry.amount_fc} EUR, "
            f"customer {customer.code} {customer.name}{vat_number}"
        )
        lines = exact.sales_entry_lines.iterate(filter=P("EntryID") == entry.entry_id)
        for line in sorted(lines, key=lambda line: line.line_number or 0):
            where = " ".join(
                part
                for part in (
                    f"cost center {line.cost_center}" if line.cost_center else "",
                    f"cost unit {line.cost_unit}" if line.cost_unit else "",
                )
                if part
            )
            print(
                f"    {line.description:<26} {line.amount_fc:>8}  GL {line.gl_account_code}"
                f"  VAT {line.vat_code}  {where}".rstrip()
            )
        if entry.document is not None:
            for attachment in exact.document_attachments.iterate(
                filter=P("Document") == entry.document
            ):
                print(f"    PDF attached: {attachment.file_name}")


def main() -> int:
    """Run the whole story; returns the exit code (0: every run succeeded)."""
    with tempfile.TemporaryDirectory(prefix="exactbridge-example-") as folder:
        return story(Path(folder) / "state.sqlite3")


def story(state_path: Path) -> int:
    """Seed, book, read back, book again; the state store lives at ``state_path``."""
    clock = FakeClock(dt.datetime(2025, 4, 2, 9, 0, tzinfo=dt.timezone.utc))
    ids = Institute()
    eduframe = seed_institute(clock, ids)
    exact = seed_administration(clock)
    store = SQLiteStateStore(state_path)  # what was booked, remembered between runs
    with (
        EduframeClient(eduframe.credentials, transport=eduframe.transport(), clock=clock) as ef,
        exact.client(DIVISION) as exact_client,
        exact.client(DIVISION) as reader,  # a second client, so reading back is not counted
        store,
    ):
        source = EduframeInvoices(
            ef,
            tenant=TENANT,
            # The custom field holding an organisation's VAT number ("vat_number").
            adapter_config=EduframeAdapterConfig(vat_number_slug="vat_number"),
        )
        pipeline = InvoicePipeline(
            source,
            exact_client,
            booking_rules(ids),
            store,
            settings=sync_settings(),
            name="academy-invoices",
            clock=clock,
        )
        first = pipeline.run()
        show("first run: three opened invoices, the concept waits", first)
        show_books(reader)

        clock.advance(3600)
        second = pipeline.run()
        show("second run: nothing new in Eduframe", second)

    documents = exact.count("POST", "documents/Documents")
    print(f"\nPDF documents created in the fake administration: {documents}")
    return 0 if first.ok and second.ok else 1


# Real clients instead of the fakes -------------------------------------------------
#
# Only the construction changes; the pipeline, the rules and the reports stay:
#
#     import os
#     from exactbridge.exact import Credentials, ExactClient, SQLiteTokenStore
#     from exactbridge.sources.eduframe import EduframeCredentials
#
#     ef = EduframeClient(
#         EduframeCredentials(api_key=os.environ["EDUFRAME_API_KEY"])  # an Admin API key
#     )
#     exact_client = ExactClient(
#         division=1234567,                                   # "Division"
#         country="nl",
#         credentials=Credentials(
#             client_id="<the app's client id from Exact's App Center>",
#             client_secret=os.environ["EXACT_CLIENT_SECRET"],
#             redirect_uri="http://localhost:8765/callback",  # exactly as registered
#         ),
#         token_store=SQLiteTokenStore("tokens.sqlite3"),     # filled by `exactbridge login`
#     )
#     store = SQLiteStateStore()  # the default path in your user data folder
#
# and leave out ``clock=`` (the system clock is the default). Look up the real ids
# of your VAT codes, course templates and editions (``ef.invoice_vats()``,
# ``ef.courses()``, ``ef.planned_courses()``) for the rules. Run the pipeline on a
# schedule, and/or when Eduframe notifies a change: see eduframe_webhook_wsgi.py.

if __name__ == "__main__":
    raise SystemExit(main())
