"""Public, supported fakes for test suites: Exact Online, every source system, a fake clock.

Plug the fakes in at the httpx transport seam so the real client code runs::

    from exactbridge.testing import FakeExactOnline

    fake = FakeExactOnline()
    fake.add_division(123, template="nl")
    transport = fake.transport()          # or fake.async_transport()

Opt-in pytest fixtures: ``pytest_plugins = ["exactbridge.testing.pytest_plugin"]``.
"""

from __future__ import annotations

from exactbridge.testing._exact.domain import FakeODataError
from exactbridge.testing._exact.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeExactOnline,
)
from exactbridge.testing._exact.faults import CallRecord, Fault, TokenCall
from exactbridge.testing._exact.oauth import TokenGrant
from exactbridge.testing._exact.seeds import SeededDivision, seed_division
from exactbridge.testing.clock import FakeClock, VirtualClock, VirtualTime
from exactbridge.testing.clubassistent import (
    SampleDebit,
    SampleInvoice,
    SampleLine,
    sample_direct_debits,
    sample_invoices,
    write_invoice_csv,
    write_pain008,
)
from exactbridge.testing.coachview import FakeCoachview, FakeCoachviewCall
from exactbridge.testing.eduframe import EduframeCall, EduframeFault, FakeEduframe
from exactbridge.testing.pay_seed import PaySeed, seed_pay_for_receivables
from exactbridge.testing.paynl import FakeCall as FakePayCall
from exactbridge.testing.paynl import FakePay, FakePayTransaction
from exactbridge.testing.virtuagym import FakeVirtuagym, VirtuagymCall, VirtuagymFault

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "CallRecord",
    "EduframeCall",
    "EduframeFault",
    "FakeClock",
    "FakeCoachview",
    "FakeCoachviewCall",
    "FakeEduframe",
    "FakeExactOnline",
    "FakeODataError",
    "FakePay",
    "FakePayCall",
    "FakePayTransaction",
    "FakeVirtuagym",
    "Fault",
    "PaySeed",
    "SampleDebit",
    "SampleInvoice",
    "SampleLine",
    "SeededDivision",
    "TokenCall",
    "TokenGrant",
    "VirtuagymCall",
    "VirtuagymFault",
    "VirtualClock",
    "VirtualTime",
    "sample_direct_debits",
    "sample_invoices",
    "seed_division",
    "seed_pay_for_receivables",
    "write_invoice_csv",
    "write_pain008",
]
