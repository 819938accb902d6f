"""Pay. payouts to Exact Online, end to end on the fakes: no credentials, no network.

Pay. (pay.nl) collects a club's invoices by iDEAL, card or direct debit and pays
the money out in settlements ("clearings"), minus its costs. Combidesk's "Pay.
Exact Online" integration books those payouts and "matches them with outstanding
invoices in Exact Online"; this example does the same with the payout pipeline:

1. books a fake Virtuagym club's invoices into a fake Dutch Exact Online
   administration (the invoice pipeline), so there are open invoices;
2. seeds a fake Pay. merchant with one settlement that pays every second open
   invoice in full, plus one payment nobody can place (``seed_pay_for_receivables``);
3. runs the payout pipeline: one bank entry per payout, each payment matched to
   its open invoice at 100 %, Pay.'s costs on their own account, the unknown
   payment on the "Unassigned" account; prints the entry's lines;
4. reads Exact's open receivables before and after: which invoices the payout
   paid, which are still open;
5. runs again: the payout is not booked twice.

Run it with ``python examples/pay_payouts_to_exact.py``. The bottom of this file
shows how to swap the fakes for a real Pay. account and a real administration.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from exactbridge.exact import ExactClient
from exactbridge.mapping import (
    BookingConfig,
    CreditNoteMode,
    CreditNotePolicy,
    DebtorPolicy,
    LedgerMapping,
    PaymentMatchingPolicy,
    UnmatchedPayments,
    VatMapping,
)
from exactbridge.sources.paynl import PayClient
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import (
    InvoicePipeline,
    PayoutPipeline,
    PayPayouts,
    SQLiteStateStore,
    SyncReport,
    SyncSettings,
    VirtuagymInvoices,
)
from exactbridge.testing import FakeClock, FakeExactOnline, FakePay, seed_pay_for_receivables
from exactbridge.testing.virtuagym import FakeVirtuagym

DIVISION = 1001  # "Select Exact Online administration"
PAYOUT_DATE = dt.date(2026, 1, 6)  # the day Pay. transfers the settlement
# Virtuagym club taxes in the fake club: 1 is 21 %, 2 is 9 %.
VAT_21, VAT_9 = 1, 2


def seed_club(clock: FakeClock) -> FakeVirtuagym:
    """Six members with a January membership invoice each, one with personal training."""
    club = FakeVirtuagym(clock=clock)
    names = [("Ann", "Smit"), ("Bram", "de Vries"), ("Chris", "Bakker")]
    names += [("Daan", "Visser"), ("Emma", "Jansen"), ("Fleur", "Meijer")]
    january, end = dt.date(2026, 1, 1), dt.date(2026, 1, 31)
    for index, (first, last) in enumerate(names):
        member = club.add_member(
            firstname=first, lastname=last, edited_at=clock.now() - dt.timedelta(days=30 - index)
        )
        rows: list[dict[str, Any]] = [
            {
                "name": "Membership January 2026",
                "price": Decimal("39.95") if index % 2 else Decimal("54.50"),
                "tax": VAT_9,
                "start_period": january,
                "end_period": end,
            }
        ]
        if index == 2:
            rows.append({"name": "Personal training", "price": Decimal("45.00"), "tax": VAT_21})
        club.add_invoice(member_id=member["member_id"], invoice_date=january, rows=rows)
    return club


def booking_rules() -> BookingConfig:
    """The club's invoice rules, and the payout rules named after the Pay. integration's."""
    return BookingConfig(
        # "Select the sales journal where the bookings should be recorded".
        sales_journal="70",
        vat=VatMapping(codes={str(VAT_21): "2", str(VAT_9): "1"}),
        ledger=LedgerMapping(by_vat_category={str(VAT_9): "8010"}, default_account="8000"),
        debtor=DebtorPolicy(create_missing=True),
        credit_notes=CreditNotePolicy(mode=CreditNoteMode.CREDIT_NOTE),
        payments=PaymentMatchingPolicy(
            # "Select bank journal: the bank journal where the invoice payments should
            # be recorded".
            bank_journal="20",
            # "Select the default general ledger account for debtors".
            debtors_account="1300",
            # "... for Payment Service Provider costs".
            psp_cost_account="4510",
            # "... for payouts": the transfer account the payout leaves through.
            payout_account="1110",
            # "Specify whether to create new relations in Exact Online if they do not
            # exist. If you choose 'No', the relevant booking lines will be booked to
            # the 'General Ledger Account: Unassigned'": a payment that matches no
            # open invoice at 100 % goes to 2050.
            unmatched=UnmatchedPayments.UNASSIGNED_ACCOUNT,
            unassigned_account="2050",
            # "If you want to book all orders to a standard debtor ... enter the code
            # of the standard debtor": unmatched=UnmatchedPayments.STANDARD_DEBTOR
            # with standard_debtor_code="...".
            # "Select revenue groups": only payouts of these groups; empty means all.
            # (With "Payout per revenue group" switched on in Pay., also pass
            # PayPayouts(..., per_revenue_group=True).)
            revenue_groups=(),
        ),
    )


def show(title: str, report: SyncReport) -> None:
    """Print a report's summary."""
    print(f"\n== {title}")
    for line in report.lines():
        print(line)


def open_items(exact: ExactClient) -> dict[str, Decimal]:
    """Exact's open receivables (``read/financial/ReceivablesList``) by invoice reference."""
    return {
        str(item.your_ref): item.amount
        for item in exact.receivables_list.iterate()
        if item.your_ref and item.amount is not None
    }


def show_bank_entry(report: SyncReport) -> None:
    """The lines of the bank entry each booked payout became (the draft that was sent)."""
    for row in report.booked:
        print(f"  payout {row.label}: {row.amount} EUR, {row.reason}")
        if row.draft is None:
            continue
        for line in row.draft.all_lines:
            paid = f"  pays invoice {line.our_ref}" if line.our_ref else ""
            print(
                f"    {line.kind.value:<9} GL {line.gl_account:<5} {line.amount:>8}"
                f"  {line.description}{paid}"
            )


def main() -> int:
    """Run the whole story; returns the exit code (0: every run succeeded)."""
    with tempfile.TemporaryDirectory(prefix="exactbridge-example-") as folder:
        return story(Path(folder) / "state.sqlite3")


def story(state_path: Path) -> int:
    """Book invoices, seed a payout, book it, book it again."""
    clock = FakeClock(dt.datetime(2026, 1, 7, 7, 0, tzinfo=dt.timezone.utc))
    club = seed_club(clock)
    exact = FakeExactOnline(clock=clock)
    exact.add_division(DIVISION, template="nl")
    config = booking_rules()
    pay = FakePay()  # a Pay. merchant: token code AT-...., API token
    store = SQLiteStateStore(state_path)
    with (
        VirtuagymClient(club.credentials, transport=club.transport(), clock=clock) as virtuagym,
        PayClient(pay.token_code, pay.api_token, transport=pay.transport(), clock=clock) as payc,
        exact.client(DIVISION) as exact_client,
        exact.client(DIVISION) as reader,  # a second client, so reading back is not counted
        store,
    ):
        # 1. The club's invoices, so Exact has open receivables to match.
        invoices = InvoicePipeline(
            VirtuagymInvoices(virtuagym), exact_client, config, store, clock=clock
        )
        booked = invoices.run()
        show("invoices: the club's January invoices are booked", booked)

        # 2. Pay. pays every second open invoice, and one payment nobody can place.
        before = open_items(reader)
        seeded = seed_pay_for_receivables(pay, reader, every=2, unmatched=1, date=PAYOUT_DATE)
        print(
            f"\nPay. settlement {seeded.settlement_code}: {len(seeded.paid)} invoices paid, "
            f"{len(seeded.unmatched)} unknown payment, {seeded.costs} costs, {seeded.net} paid out"
        )

        # 3. The payout pipeline books the settlement as one bank entry.
        payouts = PayoutPipeline(
            PayPayouts(payc),
            exact_client,
            config,
            store,
            # "Export existing Pay. payouts (clearings)": yes.
            settings=SyncSettings(backfill=True),
            clock=clock,
        )
        first = payouts.run()
        show("payouts: the settlement becomes a bank entry", first)
        show_bank_entry(first)

        # 4. What the payout settled, and what stayed open, as Exact sees it.
        after = open_items(reader)
        print("\n== open invoices in Exact")
        for reference, amount in sorted(before.items()):
            state = "still open" if reference in after else "paid by Pay."
            print(f"  invoice {reference:<6} {amount:>7}  {state}")
        paid = sorted(set(before) - set(after))
        print(f"matched and paid: {', '.join(paid)}")
        print(f"still open: {', '.join(sorted(after))}")

        # 5. Nothing is booked twice.
        clock.advance(24 * 3600)
        second = payouts.run()
        show("payouts again: the settlement is already booked", second)

    ok = booked.ok and first.ok and second.ok and paid == sorted(seeded.paid)
    return 0 if ok else 1


# Real clients instead of the fakes -------------------------------------------------
#
# Only the construction changes; the pipelines, the rules and the reports stay:
#
#     import os
#     from exactbridge.exact import Credentials, ExactClient, SQLiteTokenStore
#
#     payc = PayClient(
#         "AT-1234-5678",                      # the token code of your Pay. account
#         os.environ["PAY_API_TOKEN"],         # its API token
#     )
#     exact_client = ExactClient(
#         division=1234567,                    # "Select Exact Online administration"
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
# and leave out ``clock=``. The integration "synchronizes automatically every day
# (overnight)" and "if synchronization fails, ... will try again on the next run":
# schedule ``payouts.run()`` once a night under its RunLock (docs/sync-engine.md);
# a payout that failed is retried by the next run.

if __name__ == "__main__":
    raise SystemExit(main())
