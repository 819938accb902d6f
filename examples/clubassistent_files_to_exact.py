"""Club-assistent files to Exact Online, end to end on the fakes: no credentials, no network.

Club-assistent has no API for this: it hands over files. With Exact Online as the
club's accounting package, "you import the invoices created in Club-assistent into
Exact Online and collect the direct debits in those invoices through Exact Online"
(the SEPA file is made in Exact, not in Club-assistent). So there are two steps:

1. the invoice export (CSV, one row per invoice line) becomes sales entries, and
   every member a customer (``ClubassistentInvoices`` + ``InvoicePipeline``);
2. the collection file (SEPA pain.008) brings each member's direct-debit mandate
   and bank account into Exact, on the customer step 1 created
   (``ClubassistentMandates`` + ``MandatePipeline``), so Exact can collect.

What it does: writes a sample export and a pain.008 file into a temporary
folder, books both, runs both again (nothing twice) and reads the result back
from a fake Dutch Exact Online administration.

Run it with ``python examples/clubassistent_files_to_exact.py``. The bottom of
this file shows how to point it at real files and a real administration.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from exactbridge.exact import ExactClient, P
from exactbridge.mapping import (
    BookingConfig,
    CreditNoteMode,
    CreditNotePolicy,
    DebtorPolicy,
    LedgerMapping,
    NonNumericNumber,
    NumberingPolicy,
    VatMapping,
)
from exactbridge.sync import (
    ClubassistentMandates,
    InvoicePipeline,
    MandatePipeline,
    SQLiteStateStore,
    SyncReport,
)
from exactbridge.sync.connectors import ClubassistentInvoices
from exactbridge.testing import (
    FakeClock,
    FakeExactOnline,
    SampleDebit,
    SampleInvoice,
    sample_invoices,
    write_invoice_csv,
    write_pain008,
)

DIVISION = 1001  # your "divisienummer"
CLUB = "sv-de-sprinters"  # names the club in the state store; the same for both pipelines


def write_exports(folder: Path) -> tuple[Path, Path]:
    """A club's invoice export and the collection file of its direct debits."""
    # Six invoices as Club-assistent exports them (F2026000025 is a credit invoice,
    # one member pays by bank transfer). Amounts include VAT, numbers are Dutch.
    invoices = sample_invoices(6, seed=7, start=21)
    csv_path = folder / "facturen-2026.csv"
    write_invoice_csv(csv_path, invoices)
    # The collection file: one direct debit per invoice paid by "Incasso", under the
    # member's mandate. (``sample_direct_debits`` makes thousands of collections for
    # load tests, but of random members; here each one belongs to an invoice above.)
    debits = [debit_for(invoice) for invoice in invoices if collected(invoice)]
    xml_path = folder / "incasso-2026-02.xml"
    write_pain008(xml_path, debits, version="02", collection_date=dt.date(2026, 2, 1))
    return csv_path, xml_path


def collected(invoice: SampleInvoice) -> bool:
    """Whether the club collects this invoice by direct debit (never a credit)."""
    total = sum((line.amount for line in invoice.lines), Decimal(0))
    return invoice.payment_method == "Incasso" and total > 0 and invoice.iban is not None


def debit_for(invoice: SampleInvoice) -> SampleDebit:
    """The collection of one invoice: its end-to-end id is the invoice number."""
    assert invoice.iban is not None
    member = int(invoice.member_number)
    return SampleDebit(
        end_to_end_id=invoice.number,  # links the mandate to the invoice's member
        amount=sum((line.amount for line in invoice.lines), Decimal(0)),
        mandate_id=f"MACHT-{invoice.member_number}",
        signature_date=dt.date(2021, 9, 1),
        debtor_name=f"Ouder van {invoice.member_name}",  # the account holder, not the member
        debtor_iban=invoice.iban,
        sequence_type="FRST" if member % 3 == 0 else "RCUR",  # first collection or recurring
        remittance=f"Factuur {invoice.number}",
    )


def booking_rules() -> BookingConfig:
    """The booking rules (Club-assistent's Exact link has none to set: these are ours)."""
    return BookingConfig(
        sales_journal="70",
        # The export's VAT percentage -> Exact VAT code. Club-assistent's advice "make
        # sure a VAT code including VAT is linked to your GL accounts" is about its
        # own import; here the amounts are split into net and VAT exactly, per line.
        vat=VatMapping(codes={"21": "2", "9": "1", "0": "0"}),
        ledger=LedgerMapping(
            default_account="8000",
            by_vat_category={"9": "8010", "0": "8020"},
        ),
        # Members become customers under their member number ("Lidnummer"). Not
        # matched by e-mail address: brothers and sisters often share their parents'.
        debtor=DebtorPolicy(create_missing=True, match_by_email=False),
        # Credit invoices as Exact credit notes.
        credit_notes=CreditNotePolicy(mode=CreditNoteMode.CREDIT_NOTE),
        # Invoice numbers such as "F2026000021": the entry number is their digits
        # (the full number stays in YourRef).
        numbering=NumberingPolicy(non_numeric=NonNumericNumber.DIGITS_ONLY),
    )


def show(title: str, report: SyncReport) -> None:
    """Print a report: the summary, then one line per record."""
    print(f"\n== {title}")
    for line in report.lines():
        print(line)
    for row in report.rows():
        amount = row["amount"] or ""
        reason = f"  ({row['reason']})" if row["reason"] else ""
        print(f"  {row['action']:<9} {row['label']:<12} {amount:>9}{reason}")


def show_books(exact: ExactClient) -> None:
    """Read back the entries, and each mandate with the customer and IBAN it is on."""
    print("\n== in Exact Online")
    for entry in exact.sales_entries.iterate(orderby=["EntryNumber"]):
        print(
            f"entry {entry.entry_number} YourRef {entry.your_ref} ({entry.type_description}) "
            f"{entry.customer_name}: {entry.amount_fc} EUR"
        )
    customers = exact.accounts.iterate(filter=P("IsSales") == True)  # noqa: E712
    names = {account.id: f"{account.code} {account.name}" for account in customers}
    # Exact wants a $select on these two (and answers only the fields selected).
    banks = exact.bank_accounts.iterate(select=["ID", "IBAN"])
    ibans = {bank.id: bank.iban for bank in banks}
    mandates = exact.direct_debit_mandates.iterate(
        select=["ID", "Account", "BankAccount", "Reference", "FirstSend"]
    )
    for mandate in sorted(mandates, key=lambda mandate: mandate.reference or ""):
        first = "first collection to come" if mandate.first_send else "recurring"
        print(
            f"mandate {mandate.reference} on customer {names.get(mandate.account)}, "
            f"IBAN {ibans.get(mandate.bank_account)}, {first}"
        )


def main() -> int:
    """Run the whole story; returns the exit code (0: every run succeeded)."""
    with tempfile.TemporaryDirectory(prefix="exactbridge-example-") as folder:
        return story(Path(folder))


def story(folder: Path) -> int:
    """Write the files into ``folder``, book them, book them again."""
    exports = folder / "exports"
    exports.mkdir()
    csv_path, xml_path = write_exports(exports)
    print(f"wrote {csv_path.name} and {xml_path.name}")

    clock = FakeClock()
    exact = FakeExactOnline(clock=clock)
    exact.add_division(DIVISION, template="nl")
    config = booking_rules()
    store = SQLiteStateStore(folder / "state.sqlite3")
    with exact.client(DIVISION) as exact_client, exact.client(DIVISION) as reader, store:
        invoices = InvoicePipeline(
            # Every *.csv in the folder, oldest first; a run reads only new or changed files.
            ClubassistentInvoices(exports, tenant=CLUB),
            exact_client,
            config,
            store,
            name="club-invoices",
            clock=clock,
        )
        mandates = MandatePipeline(
            # The export tells which member each collection (invoice) belongs to.
            ClubassistentMandates([xml_path], invoice_files=[csv_path], tenant=CLUB),
            exact_client,
            config,  # its debtor policy finds the member's customer again
            store,
            name="club-mandates",
            clock=clock,
        )
        reports = [invoices.run(), mandates.run()]
        show("invoices: the export becomes sales entries", reports[0])
        show("mandates: the collection file becomes Exact mandates", reports[1])
        show_books(reader)

        clock.advance(3600)
        reports += [invoices.run(), mandates.run()]
        show("invoices again: the export was read before", reports[2])
        show("mandates again: every mandate is in Exact", reports[3])

    return 0 if all(report.ok for report in reports) else 1


# Real files and a real administration ------------------------------------------------
#
# Point the sources at the folder Club-assistent's exports land in and at the
# collection files, and build a real Exact client; the rest stays:
#
#     import os
#     from exactbridge.exact import Credentials, ExactClient, SQLiteTokenStore
#
#     source = ClubassistentInvoices("/srv/club/exports", tenant=CLUB)
#     mandate_source = ClubassistentMandates(
#         ["/srv/club/incasso-2026-02.xml"],
#         invoice_files=["/srv/club/exports/facturen-2026.csv"],
#         tenant=CLUB,
#     )
#     exact_client = ExactClient(
#         division=1234567,                                   # your divisienummer
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
# and leave out ``clock=``. Another export layout (other columns, a BOM, ","
# decimals) is a ``reader=InvoiceCsvReader(CsvFormat(...))`` away. In Exact, switch
# on "batchbetaling gebruiken" for the bank account you collect with.

if __name__ == "__main__":
    raise SystemExit(main())
