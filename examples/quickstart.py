"""The quickstart of docs/quickstart.md: a fake club's invoice booked into a fake Exact.

No credentials, no network. The code below the docstring is the quickstart's Python
snippet, character for character (a test keeps the two identical).
"""

import datetime as dt
from decimal import Decimal

from exactbridge.mapping import BookingConfig
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import InvoicePipeline, MemoryStateStore, VirtuagymInvoices
from exactbridge.testing import FakeExactOnline
from exactbridge.testing.virtuagym import FakeVirtuagym

# A Virtuagym club with one member and one invoice (club tax 2 is 9 % VAT) ...
club = FakeVirtuagym()
ann = club.add_member(firstname="Ann", lastname="Smit")
membership = {"name": "Membership March", "price": Decimal("39.95"), "tax": 2}
club.add_invoice(member_id=ann["member_id"], invoice_date=dt.date(2025, 3, 1), rows=[membership])
# ... and an Exact Online with a Dutch administration (division 1001).
exact = FakeExactOnline()
exact.add_division(1001, template="nl")

config = BookingConfig.from_mapping(
    {"vat": {"codes": {"2": "1"}}, "ledger": {"default_account": "8010"}}
)
with (
    VirtuagymClient(club.credentials, transport=club.transport()) as virtuagym,
    exact.client(1001) as exact_client,
):
    pipeline = InvoicePipeline(
        VirtuagymInvoices(virtuagym), exact_client, config, MemoryStateStore()
    )
    report = pipeline.run()
    print("\n".join(report.lines()))
    print(pipeline.run().unchanged, "invoice already booked: nothing is booked twice")
