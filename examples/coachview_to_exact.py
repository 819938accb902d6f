"""Coachview to Exact Online, end to end on the fakes: no credentials, no network.

What it does:

1. seeds a fake Coachview company (three debtors, each numbered in a different
   way, four invoices, one of them negative) and a fake Dutch Exact Online
   administration that already knows one of the customers;
2. sets the booking rules, each one named after the field of Coachview's own
   Exact Online link it replaces (Service center > Integrations > Accounting >
   Exact > Configure: panels General, Debtor and Financial);
3. runs the invoice pipeline and prints the report, then reads the entries back
   from Exact: which customer code each debtor got, the booking period, the
   credit note;
4. runs again: Coachview's audit trail shows no change, nothing is booked twice.

Run it with ``python examples/coachview_to_exact.py``. The bottom of this file
shows how to swap the fakes for a real Coachview and a real administration.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from dateutil import tz

from exactbridge.exact import ExactClient, P
from exactbridge.mapping import (
    BookingConfig,
    CodeSource,
    CreditNoteMode,
    CreditNotePolicy,
    DateSource,
    DebtorPolicy,
    LedgerMapping,
    LedgerTarget,
    NumberingPolicy,
    PeriodPolicy,
    VatMapping,
)
from exactbridge.sources.coachview import CoachviewClient
from exactbridge.sync import InvoicePipeline, SQLiteStateStore, SyncReport, SyncSettings
from exactbridge.sync.connectors import CoachviewInvoices
from exactbridge.testing import FakeClock, FakeCoachview, FakeExactOnline

DIVISION = 1001  # Panel General: the division code (not the administration code)
TENANT = "opleidingen-bv"  # names the Coachview company in the state store's booking keys
CLIENT_ID, CLIENT_SECRET = "exactbridge-example", "example-secret"  # the fake's API client
EXTERN_SOURCE = "ExactOnline"  # the ExternSource of relations imported from Exact
CENT = Decimal("0.01")
PERCENT = {"VH": Decimal(21), "VL": Decimal(9), "V0": Decimal(0)}  # Coachview VAT codes
AMSTERDAM = tz.gettz("Europe/Amsterdam")


class Company:
    """Builds a Coachview company in the fake, in Coachview's own (Dutch) field names."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.fake = FakeCoachview(clock=clock)
        self.fake.add_client(CLIENT_ID, CLIENT_SECRET)  # Coachview's "Autorisatie" page

    def now(self) -> str:
        """The clock as Coachview writes audit times: Amsterdam wall-clock time, no zone."""
        return self.clock.now().astimezone(AMSTERDAM).replace(tzinfo=None).isoformat()

    def debtor(
        self,
        number: str,
        name: str,
        *,
        company: bool,
        external_number: str | None = None,
        extern_id: str | None = None,
    ) -> dict[str, Any]:
        """A debtor with its company or person (``extern_id``: its relation code in Exact)."""
        address = {"adres1": "Stationsplein 1", "postcode": "3511 AB", "plaats": "Utrecht"}
        address["landCode"] = "NL"
        owner = {
            "id": str(uuid.uuid4()),
            "emailadres": f"administratie@{number}.example",
            "externId": extern_id,
            "externSource": EXTERN_SOURCE if extern_id else None,
            "adres": address,
        }
        if company:
            self.fake.add("Bedrijven", {**owner, "naam": name, "kvkNummer": "30123456"})
        else:
            first, _, last = name.partition(" ")
            self.fake.add("Personen", {**owner, "voornaam": first, "achternaam": last})
        return self.fake.add(
            "Debiteuren",
            {
                "id": str(uuid.uuid4()),
                "debiteurnummer": number,  # assigned by Coachview, from 00001
                "debiteurnummerExtern": external_number,
                "naam": name,
                "bedrijfId": owner["id"] if company else None,
                "persoonId": None if company else owner["id"],
                "particulier": not company,
                "factuurAdres": address,
            },
        )

    def invoice(
        self,
        debtor: dict[str, Any],
        number: str,
        day: dt.date,
        order_start: dt.date,
        course: str,
        lines: list[tuple[str, int, str, str, str]],
    ) -> dict[str, Any]:
        """An invoice; ``lines`` are (description, quantity, unit price excl. VAT,
        Coachview VAT code, ledger account)."""
        rows: list[dict[str, Any]] = []
        for index, (text, quantity, price, code, ledger) in enumerate(lines, start=1):
            amount = Decimal(price) * quantity
            rows.append(
                {
                    "id": str(uuid.UUID(int=index)),
                    "omschrijving": text,
                    "aantal": quantity,
                    "prijsPerStuk": Decimal(price),
                    "bedragExclBtw": amount,
                    "btwPercentage": PERCENT[code],
                    "btwCode": code,
                    "grootboekrekening": ledger,
                    "opleidingssoortCode": course,  # the course definition
                }
            )
        excl = sum((row["bedragExclBtw"] for row in rows), Decimal(0))
        vat = sum(
            (
                (row["bedragExclBtw"] * row["btwPercentage"] / 100).quantize(CENT, ROUND_HALF_UP)
                for row in rows
            ),
            Decimal(0),
        )
        return self.fake.add(
            "Facturen",
            {
                "id": str(uuid.uuid4()),
                "factuurnummer": number,
                "factuurdatum": day.isoformat(),
                "vervaldatum": (day + dt.timedelta(days=30)).isoformat(),
                "referentieNr": f"REF-{number}",
                "omschrijving": f"Opleiding {course}",
                "valuta": "EUR",
                "debiteurId": debtor["id"],
                "aanvraagnummer": f"A{number}",
                "orderStartdatum": order_start.isoformat(),
                "factuurstatus": "Definitief",
                "audittrail": {"aangemaaktDatumTijd": self.now(), "gewijzigdDatumTijd": self.now()},
                "factuurregels": rows,
                "totaalExclBtw": excl,
                "totaalBtw": vat,
                "totaalInclBtw": excl + vat,
            },
        )


def seed_company(clock: FakeClock) -> FakeCoachview:
    """Three debtors, each found under another debtor number, and four invoices."""
    company = Company(clock)
    # Imported from Exact into Coachview: the company file holds Exact's relation code 2.
    jansen = company.debtor("00001", "Bouwbedrijf Jansen B.V.", company=True, extern_id="2")
    # A debtor someone gave an external debtor number by hand.
    veiligwerk = company.debtor(
        "00002", "VeiligWerk Installaties B.V.", company=True, external_number="5500"
    )
    # A private person: only Coachview's own debtor number.
    sanne = company.debtor("00003", "Sanne Visser", company=False)

    company.invoice(
        jansen,
        "00041",
        dt.date(2025, 3, 3),
        dt.date(2025, 3, 10),
        "VCA",
        [
            ("VCA Basis, 4 deelnemers", 4, "295.00", "VH", "8000"),
            ("Examengeld", 4, "42.50", "V0", "8020"),
        ],
    )
    # Invoiced in March for a course starting in April: the booking period is April.
    company.invoice(
        veiligwerk,
        "00042",
        dt.date(2025, 3, 24),
        dt.date(2025, 4, 7),
        "BHV",
        [("BHV incompany training", 1, "1450.00", "VH", "8030")],
    )
    company.invoice(
        sanne,
        "00043",
        dt.date(2025, 3, 26),
        dt.date(2025, 4, 2),
        "EHBO",
        [("EHBO cursus", 1, "189.00", "VH", "8000"), ("Lesboek", 1, "24.95", "VL", "8010")],
    )
    # One participant of Jansen cancelled: a negative invoice.
    company.invoice(
        jansen,
        "00044",
        dt.date(2025, 3, 28),
        dt.date(2025, 3, 10),
        "VCA",
        [("Annulering VCA Basis, 1 deelnemer", 1, "-295.00", "VH", "8000")],
    )
    return company.fake


def seed_administration(clock: FakeClock) -> FakeExactOnline:
    """A Dutch administration that already has two customers (codes 1 and 2)."""
    exact = FakeExactOnline(clock=clock)
    exact.add_division(
        DIVISION, template="nl", customers=["Kassaverkoop", "Bouwbedrijf Jansen B.V."]
    )
    return exact


def booking_rules() -> BookingConfig:
    """The booking rules, field by field as Coachview's Exact link asks for them."""
    return BookingConfig(
        # Panel Financial, "The sales diary number. By default it is set to 70".
        # ("General ledger account for debtors, default 1300": for sales entries Exact
        # takes it from the sales journal; the payout pipeline has its own setting.)
        sales_journal="70",
        debtor=DebtorPolicy(
            # "Which field from Coachview is used as debtor number": option 1
            # (mandatory) CompanyPersonalExternID, option 2 Debit numberExternal,
            # option 3 Debit number.
            code_sources=(
                CodeSource.EXTERN_ID,
                CodeSource.EXTERNAL_NUMBER,
                CodeSource.INTERNAL_NUMBER,
            ),
            # "fill in exactly the ExternSource that is listed in the company or
            # personal file".
            extern_source=EXTERN_SOURCE,
            # "Prefix ... only added if the internal debtor number of Coachview is
            # used": debtor 00003 becomes customer 900003, never colliding with
            # relation numbers Exact gave out itself.
            prefix="9",
            # Unchecked: "the data of an existing relation in Exact-Online will not
            # be overwritten".
            overwrite_existing=False,
            # "The debtors of Coachview are automatically created as a customer
            # relationship in Exact online if they do not yet exist."
            create_missing=True,
            # A relation number that belongs to a supplier is refused, not booked on.
            refuse_supplier_codes=True,
        ),
        period=PeriodPolicy(
            # "Which date from Coachview should be used to determine the booking
            # period": the order start date, and "option 2" (the invoice date) when
            # an invoice has none. Also possible: ORDER_END, EXPORT_DATE.
            date_sources=(DateSource.ORDER_START, DateSource.INVOICE_DATE),
        ),
        # "Book negative invoices as credit invoices", checked: transaction type 21.
        # (Unchecked: CreditNoteMode.NEGATIVE_ENTRY, a negative type 20 entry.)
        credit_notes=CreditNotePolicy(mode=CreditNoteMode.CREDIT_NOTE),
        # Coachview VAT codes -> Exact VAT codes.
        vat=VatMapping(codes={"VH": "2", "VL": "1", "V0": "0"}),
        ledger=LedgerMapping(
            # Each Coachview line names its ledger account: map the ones in use
            # (here to the same codes in Exact).
            by_income_category={"8000": "8000", "8010": "8010", "8020": "8020", "8030": "8030"},
            # Cost centers per course definition (opleidingssoortCode).
            by_course_template={
                "VCA": LedgerTarget(cost_center="100"),
                "BHV": LedgerTarget(cost_center="200"),
                "EHBO": LedgerTarget(cost_center="200"),
            },
            default_account="8000",
            # "Should the cost center be sent to Exact-Online": checked.
            send_cost_center=True,
            # "Have project code generated from a Coachview field": e.g.
            # project_attribute="request_number" (Aanvraagnummer); other choices are
            # request_reference, invoice_reference, course_code and
            # course_definition_code. Not used here: the projects must exist in Exact.
            project_attribute=None,
        ),
        numbering=NumberingPolicy(
            # Coachview's invoice number prefix "(e.g. 2018). This must be a number":
            # invoice 00041 becomes entry 202500041 (Coachview's number stays in YourRef).
            prefix="2025",
        ),
    )


def show(title: str, report: SyncReport) -> None:
    """Print a report: the summary, then one line per record."""
    print(f"\n== {title}")
    for line in report.lines():
        print(line)
    for row in report.rows():
        number = row["entry_number"] or ""
        amount = row["amount"] or ""
        print(f"  {row['action']:<9} invoice {row['label']:<6} {amount:>9}  entry {number}")


def show_books(exact: ExactClient) -> None:
    """Read the entries back from Exact: customer code, period, type and amount."""
    print("\n== in Exact Online")
    # Exact insists on a filter when listing accounts (mandatory filtering).
    customers = exact.accounts.iterate(filter=P("IsSales") == True)  # noqa: E712
    codes = {account.id: account.code for account in customers}
    for entry in exact.sales_entries.iterate(orderby=["EntryNumber"]):
        print(
            f"entry {entry.entry_number} ({entry.type_description}) "
            f"customer {codes.get(entry.customer)} {entry.customer_name}: "
            f"{entry.amount_fc} EUR, period {entry.reporting_year}-{entry.reporting_period:02d}"
        )
        lines = exact.sales_entry_lines.iterate(filter=P("EntryID") == entry.entry_id)
        for line in sorted(lines, key=lambda line: line.line_number or 0):
            center = f"  cost center {line.cost_center}" if line.cost_center else ""
            print(
                f"    {line.description:<34} {line.amount_fc:>8}  GL {line.gl_account_code}"
                f"  VAT {line.vat_code}{center}"
            )


def main() -> int:
    """Run the whole story; returns the exit code (0: every run succeeded)."""
    with tempfile.TemporaryDirectory(prefix="exactbridge-example-") as folder:
        return story(Path(folder) / "state.sqlite3")


def story(state_path: Path) -> int:
    """Seed, book, read back, book again; the state store lives at ``state_path``."""
    clock = FakeClock(dt.datetime(2025, 3, 31, 22, 0, tzinfo=dt.timezone.utc))
    coachview = seed_company(clock)
    exact = seed_administration(clock)
    store = SQLiteStateStore(state_path)  # what was booked, remembered between runs
    with (
        CoachviewClient(
            CLIENT_ID, CLIENT_SECRET, transport=coachview.transport(), clock=clock
        ) as cv,
        exact.client(DIVISION) as exact_client,
        exact.client(DIVISION) as reader,  # a second client, so reading back is not counted
        store,
    ):
        pipeline = InvoicePipeline(
            CoachviewInvoices(cv, tenant=TENANT),
            exact_client,
            booking_rules(),
            store,
            settings=SyncSettings(sync_from=dt.date(2025, 1, 1)),
            name="coachview-invoices",
            clock=clock,
        )
        first = pipeline.run()
        show("first run: four invoices, three debtors", first)
        show_books(reader)

        clock.advance(3600)
        second = pipeline.run()
        show("second run: nothing changed in Coachview", second)

    return 0 if first.ok and second.ok else 1


# Real clients instead of the fakes -------------------------------------------------
#
# Only the construction changes; the pipeline, the rules and the reports stay:
#
#     import os
#     from exactbridge.exact import Credentials, ExactClient, SQLiteTokenStore
#
#     cv = CoachviewClient(
#         os.environ["COACHVIEW_CLIENT_ID"],       # an API client from Coachview's
#         os.environ["COACHVIEW_CLIENT_SECRET"],   # "Autorisatie" page
#         environment="production",                # or "training"
#     )
#     exact_client = ExactClient(
#         division=1234567,                        # Panel General: the division code
#         country="nl",                            # "The Netherlands or Belgium" ("be")
#         credentials=Credentials(
#             client_id="<the app's client id from Exact's App Center>",
#             client_secret=os.environ["EXACT_CLIENT_SECRET"],
#             redirect_uri="http://localhost:8765/callback",  # exactly as registered
#         ),
#         token_store=SQLiteTokenStore("tokens.sqlite3"),     # filled by `exactbridge login`
#     )
#     store = SQLiteStateStore()  # the default path in your user data folder
#
# and leave out ``clock=``. Coachview's "Realtime" or "BulkNachts" export becomes a
# schedule: run the pipeline every few minutes, or once a night, under its RunLock
# (``exactbridge.sync.run_every`` or your own scheduler; see docs/sync-engine.md).
# "Send the invoice as PDF": Coachview's API serves no PDF, so give the pipeline a
# ``pdf_renderer`` and ``SyncSettings(attach_pdf=True)`` if you want one attached.

if __name__ == "__main__":
    raise SystemExit(main())
