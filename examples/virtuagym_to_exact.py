"""Virtuagym to Exact Online, end to end on the fakes: no credentials, no network.

What it does:

1. seeds a fake Virtuagym club (members, memberships, personal training, a
   discount, a guest sale, a credit invoice) and a fake Dutch Exact Online
   administration;
2. sets the booking rules, each one named after the option of the Virtuagym
   integration it replaces (the Combidesk "Virtuagym - Exact Online" screens);
3. runs the invoice pipeline and prints the report;
4. corrects the price of one invoice and cancels another in the club, and runs
   again: the first entry is updated in place, the second one reversed;
5. runs once more: nothing left to do, and not a single Exact call.

Run it with ``python examples/virtuagym_to_exact.py``. The bottom of this file
shows how to swap the fakes for a real club and a real administration.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from exactbridge.mapping import (
    BookingConfig,
    BookingMode,
    CreditNoteMode,
    CreditNotePolicy,
    DateSource,
    DebtorPolicy,
    LedgerMapping,
    NumberingPolicy,
    PeriodPolicy,
    SummaryPolicy,
    VatMapping,
)
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import (
    ChangePolicy,
    DeletePolicy,
    InvoicePipeline,
    SQLiteStateStore,
    SyncReport,
    SyncSettings,
    VirtuagymInvoices,
)
from exactbridge.testing import FakeClock, FakeExactOnline
from exactbridge.testing.virtuagym import FakeVirtuagym

DIVISION = 1001  # "Select Exact Online administration": the division code
CLUB_ID = 8633
# Virtuagym's club taxes ("VAT categories") in the fake club: 0 none, 1 21 %, 2 9 %.
NO_VAT, VAT_21, VAT_9 = 0, 1, 2
CENT = Decimal("0.01")


def seed_club(clock: FakeClock) -> FakeVirtuagym:
    """A small club: three members, five invoices in March 2025 and a credit invoice."""
    club = FakeVirtuagym(club_id=CLUB_ID, clock=clock)
    ann = club.add_member(firstname="Ann", lastname="Smit", club_member_id="2001")
    bram = club.add_member(firstname="Bram", lastname="de Vries", club_member_id="2002")
    chris = club.add_member(firstname="Chris", lastname="Bakker", club_member_id="2003")
    march, end = dt.date(2025, 3, 1), dt.date(2025, 3, 31)

    def membership(price: str) -> dict[str, Any]:
        return {
            "name": "Membership March 2025",
            "price": Decimal(price),
            "tax": VAT_9,
            "income_category": "membership",
            "start_period": march,  # the service period Virtuagym puts on the row
            "end_period": end,
        }

    club.add_invoice(member_id=ann["member_id"], invoice_date=march, rows=[membership("39.95")])
    club.add_invoice(
        member_id=bram["member_id"],
        invoice_date=march,
        rows=[
            membership("39.95"),
            {"name": "Student discount", "price": Decimal("-5.00"), "tax": VAT_9},
        ],
    )
    pt = club.add_invoice(
        member_id=chris["member_id"],
        invoice_date=dt.date(2025, 3, 12),
        rows=[
            membership("54.50"),
            {
                "name": "Personal training",
                "price": Decimal("45.00"),
                "tax": VAT_21,
                "income_category": "pt",
            },
        ],
    )
    # A guest (no member) buys a day pass and a drink at the desk.
    club.add_invoice(
        member_id=None,
        invoice_date=dt.date(2025, 3, 15),
        rows=[
            {"name": "Day pass", "price": Decimal("12.50"), "tax": VAT_21},
            {"name": "Sports drink", "price": Decimal("2.75"), "tax": VAT_9},
        ],
        paid=True,
    )
    # Chris's personal training is credited: a negative invoice pointing at the original.
    club.add_invoice(
        member_id=chris["member_id"],
        invoice_date=dt.date(2025, 3, 20),
        rows=[{"name": "Credit personal training", "price": Decimal("-45.00"), "tax": VAT_21}],
        related_invoice=pt["guid"],
    )
    return club


def seed_administration(clock: FakeClock) -> FakeExactOnline:
    """A Dutch administration with the usual chart and a "cash sales" customer (code 1)."""
    exact = FakeExactOnline(clock=clock)
    exact.add_division(DIVISION, template="nl", customers=["Kassaverkoop (gasten)"])
    return exact


def booking_rules() -> BookingConfig:
    """The booking rules, option by option as the Virtuagym integration asks for them."""
    return BookingConfig(
        # "Select journal": the sales journal the entries are booked in.
        sales_journal="70",
        # "Exact Online VAT mapping": Virtuagym VAT category (club tax id) -> Exact VAT code.
        vat=VatMapping(codes={str(NO_VAT): "0", str(VAT_21): "2", str(VAT_9): "1"}),
        ledger=LedgerMapping(
            # "Income category to Exact Online general ledger mapping" (tried first).
            by_income_category={"membership": "8010"},
            # "Exact Online general ledger mapping": by VAT category, when no
            # income category matched.
            by_vat_category={str(VAT_21): "8000", str(VAT_9): "8010", str(NO_VAT): "8020"},
            # "Ledger account revenue": the default revenue account.
            default_account="8000",
        ),
        # "Book revenue": one sales entry per invoice ("per_day" / "per_period" book
        # one summary entry per day or period on a collective debtor).
        summary=SummaryPolicy(mode=BookingMode.PER_INVOICE),
        # "Periods": use the periods on the Virtuagym invoice rows in Exact too
        # (their start decides the period, else the invoice date; the rows' From/To
        # are sent). The periods must be open in Exact.
        period=PeriodPolicy(
            date_sources=(DateSource.SERVICE_PERIOD_START, DateSource.INVOICE_DATE),
            line_service_period=True,
        ),
        debtor=DebtorPolicy(
            # "Disable check on email address?": False means the check is disabled.
            match_by_email=True,
            # "Debtor number for guest orders": member-less sales go to customer 1.
            guest_debtor_code="1",
        ),
        # "Add club ID to invoice number": entry number = club id + invoice number
        # (8633 + 1001 = 86331001); Virtuagym's own number stays in YourRef.
        numbering=NumberingPolicy(template="{tenant}{number}"),
        # Credit invoices: as Exact credit notes (type 21) in the same journal.
        credit_notes=CreditNotePolicy(mode=CreditNoteMode.CREDIT_NOTE),
    )


def sync_settings() -> SyncSettings:
    """The engine's options."""
    return SyncSettings(
        # "Export existing invoices?": yes, book the invoices that already exist
        # (False: only those dated on or after the first run).
        backfill=True,
        # Nothing before this date is booked.
        sync_from=dt.date(2025, 1, 1),
        on_change=ChangePolicy.UPDATE,  # a corrected invoice updates its entry
        on_delete=DeletePolicy.REVERSE,  # a cancelled invoice is reversed
    )


def show(title: str, report: SyncReport) -> None:
    """Print a report: the summary, then one line per record."""
    print(f"\n== {title}")
    for line in report.lines():
        print(line)
    for row in report.rows():
        number = row["entry_number"] or ""
        amount = row["amount"] or ""
        print(f"  {row['action']:<9} invoice {row['label']:<6} {amount:>8}  entry {number}")


def reprice(club: FakeVirtuagym, guid: str, price: Decimal, when: dt.datetime) -> None:
    """Correct the price of a one-row invoice in the fake club (in real life: in Virtuagym)."""
    invoice = club.invoices[guid]
    row = dict(invoice["rows"][0])
    rate = Decimal(row["club_tax_perc"]) / 100
    net = (price / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    row.update(price=price, price_ex_vat=net, vat=price - net)
    club.edit_invoice(guid, when, rows=[row], price=price, price_ex_vat=net, amount_due=price)


def main() -> int:
    """Run the whole story; returns the exit code (0: every run succeeded)."""
    with tempfile.TemporaryDirectory(prefix="exactbridge-example-") as folder:
        return story(Path(folder) / "state.sqlite3")


def story(state_path: Path) -> int:
    """Seed, book, change, book again; the state store lives at ``state_path``."""
    clock = FakeClock()  # shared simulated time: rate-limit waits cost no real time
    club = seed_club(clock)
    exact = seed_administration(clock)
    store = SQLiteStateStore(state_path)  # what was booked, remembered between runs
    with (
        VirtuagymClient(club.credentials, transport=club.transport(), clock=clock) as virtuagym,
        exact.client(DIVISION) as exact_client,
        store,
    ):
        pipeline = InvoicePipeline(
            VirtuagymInvoices(virtuagym),
            exact_client,
            booking_rules(),
            store,
            settings=sync_settings(),
            name="club-invoices",
            clock=clock,
        )
        first = pipeline.run()
        show("first run: every invoice is new", first)

        # In the club: Ann's membership is corrected, the guest sale is cancelled.
        ann, _, _, guest, _ = list(club.invoices)
        clock.advance(3600)
        reprice(club, ann, Decimal("34.95"), clock.now())
        club.edit_invoice(guest, clock.now(), deleted=True)
        second = pipeline.run()
        show("second run: one corrected, one cancelled", second)

        third = pipeline.run()
        show("third run: nothing changed", third)

    entries = exact.count("POST", "salesentry/SalesEntries")
    print(f"\nsales entries posted to the fake administration: {entries}")
    return 0 if first.ok and second.ok and third.ok else 1


# Real clients instead of the fakes -------------------------------------------------
#
# Only the construction changes; the pipeline, the rules and the reports stay:
#
#     import os
#     from exactbridge.exact import Credentials, ExactClient, SQLiteTokenStore
#     from exactbridge.sources.virtuagym import VirtuagymCredentials
#
#     virtuagym = VirtuagymClient(
#         VirtuagymCredentials(
#             club_id=8633,                                   # your club id
#             api_key=os.environ["VIRTUAGYM_API_KEY"],        # System settings >
#             club_secret=os.environ["VIRTUAGYM_CLUB_KEY"],   # Company information > Advanced
#         )
#     )
#     exact_client = ExactClient(
#         division=1234567,                                   # your administration
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
# and leave out ``clock=`` (the system clock is the default). Run it on a schedule
# (the integration ran every 120 minutes) with a RunLock around ``pipeline.run()``;
# see docs/sync-engine.md.

if __name__ == "__main__":
    raise SystemExit(main())
