"""``exactbridge demo``: the invoice and payout pipelines end to end on the embedded fakes.

The demo needs no credentials and no network. It seeds a fake Virtuagym club and a
fake Dutch Exact Online division in-process and runs the real sync engine on them:

1. the invoice pipeline (:class:`~exactbridge.sync.InvoicePipeline` over
   :class:`~exactbridge.sync.VirtuagymInvoices`) books every invoice, creating the
   customers Exact does not know yet; a second pass books nothing twice;
2. a fake Pay. merchant is seeded with a settlement that pays some of the now open
   invoices (plus a payment nobody can place), and the payout pipeline
   (:class:`~exactbridge.sync.PayoutPipeline`) books it as one bank entry that
   matches the payments to the open invoices; a second pass again books nothing.

A SQLite state store in a temporary folder (or ``--state-dir``) remembers every
booking, exactly as a real installation would.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from exactbridge.clock import Clock
from exactbridge.mapping import BookingConfig
from exactbridge.records import Invoice
from exactbridge.sources.paynl import PayClient
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import (
    InvoicePipeline,
    PayoutPipeline,
    PayPayouts,
    SQLiteStateStore,
    SyncReport,
    VirtuagymInvoices,
)
from exactbridge.testing import (
    FakeClock,
    FakeExactOnline,
    FakePay,
    PaySeed,
    seed_pay_for_receivables,
)
from exactbridge.testing.virtuagym import FakeVirtuagym

__all__ = [
    "DEMO_DIVISION",
    "GUEST_DEBTOR_CODE",
    "DemoResult",
    "demo_config",
    "format_report",
    "run_demo",
    "seed_exact",
    "seed_virtuagym",
]

#: The fake Exact division the demo books into.
DEMO_DIVISION = 1001
#: Code of the seeded "guest sales" customer that member-less invoices go to.
GUEST_DEBTOR_CODE = "1"
_GUEST_NAME = "Kassaverkoop (gasten)"
# A Virtuagym club tax no Exact VAT code is mapped to: invoices using it fail to map.
_UNMAPPED_TAX_ID = 3
#: The day the fake Pay. settlement is paid out.
PAYOUT_DATE = dt.date(2026, 1, 6)


def _pass_dict(report: SyncReport) -> dict[str, Any]:
    data = report.as_dict()
    data.pop("results")
    data["failures"] = [
        {"record": f"{row.source}:{row.label or row.record_id}", "reason": row.reason}
        for row in report.failed
    ]
    return data


@attrs.frozen
class DemoResult:
    """The outcome of :func:`run_demo`: every pass's report, and the fakes to inspect.

    ``invoice_passes`` are the invoice pipeline's runs, ``payout_passes`` the payout
    pipeline's (empty when the demo ran without payouts); ``invoices`` the canonical
    invoices of the club (bookable or not); ``payout`` what the Pay. fake was seeded
    with.
    """

    invoice_passes: tuple[SyncReport, ...]
    payout_passes: tuple[SyncReport, ...]
    exact: FakeExactOnline = attrs.field(eq=False, repr=False)
    virtuagym: FakeVirtuagym = attrs.field(eq=False, repr=False)
    division: int
    state_path: str | None
    invoices: tuple[Invoice, ...] = attrs.field(eq=False, repr=False)
    payout: PaySeed | None = None

    @property
    def failed(self) -> bool:
        """True when the last pass of either pipeline left records failed (exit code 1)."""
        last = [passes[-1] for passes in (self.invoice_passes, self.payout_passes) if passes]
        return any(not report.ok for report in last)

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-ready values (per pass: counts, calls, failures)."""
        return {
            "division": self.division,
            "state_store": self.state_path,
            "invoices": {
                "read": len(self.invoices),
                "passes": [_pass_dict(report) for report in self.invoice_passes],
            },
            "payouts": {
                "seeded": None
                if self.payout is None
                else {
                    "settlement": self.payout.settlement_code,
                    "paid_invoices": list(self.payout.paid),
                    "unmatched_payments": list(self.payout.unmatched),
                    "net": str(self.payout.net),
                },
                "passes": [_pass_dict(report) for report in self.payout_passes],
            },
        }


# -- seeding -------------------------------------------------------------------------


def seed_virtuagym(
    *, members: int, invoices: int, bad_invoices: int = 0, clock: Clock | None = None
) -> FakeVirtuagym:
    """A fake club with ``members`` members and exactly ``invoices`` invoices.

    Monthly memberships (9 % VAT) from January 2025, personal training (21 %) on
    some, a student discount on every seventh member, a guest (member-less) day
    pass on every twentieth invoice and a credit invoice now and then. The last
    ``bad_invoices`` invoices use a club tax no Exact VAT code is mapped to, so
    they fail to map (to show that one bad record does not stop the run).
    """
    fake = FakeVirtuagym(clock=clock)
    fake.taxes.append(
        {
            "tax_id": "0a1b2c3d-0000-4000-8000-000000000006",
            "club_tax_id": _UNMAPPED_TAX_ID,
            "tax_name": "BTW 6% (oud)",
            "tax_perc": "6.00",
            "date_from": "2001-01-01",
        }
    )
    first = ["Sam", "Noah", "Emma", "Lotte", "Daan", "Sophie", "Bram", "Julia", "Sem"]
    last = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer"]
    # Distinct edit times: Virtuagym pages members by an inclusive edit-time cursor.
    edited = fake.clock.now() - dt.timedelta(days=400)
    ids = [
        fake.add_member(
            firstname=first[i % len(first)],
            lastname=last[i % len(last)],
            edited_at=edited + dt.timedelta(seconds=37 * i + 1),
        )["member_id"]
        for i in range(max(members, 1))
    ]
    plans = [("Basic", Decimal("24.95")), ("Onbeperkt", Decimal("39.95")), ("Premium", "54.50")]
    previous: dict[int, dict[str, Any]] = {}
    for index in range(invoices):
        member_id = ids[index % len(ids)]
        month = (index // len(ids)) % 24
        start = dt.date(2025 + month // 12, month % 12 + 1, 1)
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        bad = index >= invoices - bad_invoices
        if bad:
            rows: list[dict[str, Any]] = [
                {"name": "Oud abonnement", "price": Decimal("19.08"), "tax": _UNMAPPED_TAX_ID}
            ]
            fake.add_invoice(member_id=member_id, invoice_date=start, rows=rows)
            continue
        if index % 20 == 19:
            rows = [
                {"name": "Dagpas", "price": Decimal("12.50"), "tax": 1},
                {"name": "Sportdrank", "price": Decimal("2.75"), "tax": 1},
            ]
            fake.add_invoice(member_id=None, invoice_date=start, rows=rows, paid=True)
            continue
        if index % 15 == 14 and member_id in previous:
            original = previous.pop(member_id)
            credit = [
                {
                    "name": f"Creditering {row['product_name']}",
                    "price": -row["price"],
                    "tax": row["club_tax_id"],
                }
                for row in original["rows"]
            ]
            fake.add_invoice(
                member_id=member_id,
                invoice_date=start,
                rows=credit,
                related_invoice=original["guid"],
            )
            continue
        plan, price = plans[member_id % len(plans)]
        rows = [
            {
                "name": f"{plan} ({start:%B %Y})",
                "price": Decimal(price),
                "tax": 2,
                "income_category": "membership",
                "start_period": start,
                "end_period": end,
            }
        ]
        if member_id % 7 == 0:
            rows.append({"name": "Studentenkorting", "price": Decimal("-5.00"), "tax": 2})
        if index % 9 == 4:
            rows.append({"name": "Personal training", "price": Decimal("45.00"), "tax": 1})
        previous[member_id] = fake.add_invoice(
            member_id=member_id, invoice_date=start, rows=rows, paid=index % 4 != 0
        )
    return fake


def seed_exact(clock: FakeClock, division: int = DEMO_DIVISION) -> FakeExactOnline:
    """A fake Exact Online with one Dutch division and a guest-sales customer (code 1)."""
    fake = FakeExactOnline(clock=clock)
    fake.add_division(division, template="nl", customers=[_GUEST_NAME])
    return fake


def demo_config() -> BookingConfig:
    """The booking policies of the demo club.

    Virtuagym club tax 1 (21 %) is Exact VAT code 2, tax 2 (9 %) code 1, tax 0
    code 0; 9 % revenue goes to 8010, the rest to 8000. Members become customers
    under their club member number; guest sales go to customer 1. Negative
    invoices are booked as negative sales entries and Exact numbers the entries
    (see the report: the Exact client's ``NewSalesEntry`` carries neither
    ``Type`` nor ``EntryNumber`` yet).
    """
    return BookingConfig.from_mapping(
        {
            "sales_journal": "70",
            "debtor": {"guest_debtor_code": GUEST_DEBTOR_CODE},
            "credit_notes": {"mode": "negative_entry"},
            "vat": {"codes": {"1": "2", "2": "1", "0": "0"}},
            "ledger": {
                "default_account": "8000",
                "by_vat_category": {"2": "8010", "0": "8020"},
            },
            "numbering": {"enabled": False},
            "payments": {
                "bank_journal": "20",
                "debtors_account": "1300",
                "psp_cost_account": "4510",
                "payout_account": "1110",
                "unassigned_account": "2050",
            },
        }
    )


# -- the whole demo ----------------------------------------------------------------------


@contextmanager
def _state_dir(path: str | None) -> Iterator[Path]:
    if path is not None:
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    with tempfile.TemporaryDirectory(prefix="exactbridge-demo-") as tmp:
        yield Path(tmp)


def _seed_pay(fake: FakeExactOnline) -> tuple[FakePay, PaySeed]:
    """A Pay. merchant whose one settlement pays every second open invoice."""
    pay = FakePay()
    with fake.client(DEMO_DIVISION) as reader:  # its own client: not counted in the reports
        seeded = seed_pay_for_receivables(pay, reader, every=2, unmatched=1, date=PAYOUT_DATE)
    return pay, seeded


def run_demo(
    *,
    members: int = 40,
    invoices: int = 60,
    bad_invoices: int = 0,
    state_dir: str | None = None,
    passes: int = 2,
    payouts: bool = True,
) -> DemoResult:
    """Seed the fakes and run the invoice pipeline, then the payout pipeline, ``passes`` times.

    With ``state_dir`` the SQLite store ``demo-state.sqlite3`` is kept there; without
    it the store lives in a temporary folder removed afterwards.
    """
    clock = FakeClock()
    virtuagym = seed_virtuagym(
        members=members, invoices=invoices, bad_invoices=bad_invoices, clock=clock
    )
    fake = seed_exact(clock)
    config = demo_config()
    invoice_reports: list[SyncReport] = []
    payout_reports: list[SyncReport] = []
    seeded: PaySeed | None = None
    with _state_dir(state_dir) as folder:
        path = folder / "demo-state.sqlite3"
        store = SQLiteStateStore(path)
        try:
            with (
                VirtuagymClient(
                    virtuagym.credentials, transport=virtuagym.transport(), clock=clock
                ) as vg_client,
                fake.client(DEMO_DIVISION) as exact,
            ):
                source = VirtuagymInvoices(vg_client)
                read = source.fetch(None).invoices
                invoice_pipeline = InvoicePipeline(
                    source, exact, config, store, clock=clock, name="demo-virtuagym"
                )
                invoice_reports = [invoice_pipeline.run() for _ in range(passes)]
                if payouts:
                    pay, seeded = _seed_pay(fake)
                    with PayClient(
                        pay.token_code, pay.api_token, transport=pay.transport(), clock=clock
                    ) as pay_client:
                        payout_pipeline = PayoutPipeline(
                            PayPayouts(pay_client),
                            exact,
                            config,
                            store,
                            clock=clock,
                            name="demo-pay",
                        )
                        payout_reports = [payout_pipeline.run() for _ in range(passes)]
        finally:
            store.close()
    return DemoResult(
        invoice_passes=tuple(invoice_reports),
        payout_passes=tuple(payout_reports),
        exact=fake,
        virtuagym=virtuagym,
        division=DEMO_DIVISION,
        state_path=str(path) if state_dir is not None else None,
        invoices=tuple(read),
        payout=seeded,
    )


def _pass_lines(number: int, report: SyncReport, what: str) -> Iterator[str]:
    counts = report.counts()
    written = counts["booked"] + counts["updated"] + counts["reversed"]
    ratio = report.calls_per_booking
    figures: list[tuple[str, object]] = [
        (f"{what} booked", counts["booked"]),
        ("skipped", counts["skipped"]),
        ("failed", counts["failed"]),
        ("unchanged (already done)", report.unchanged),
    ]
    if report.accounts_created:
        figures.append(("customers created", report.accounts_created))
    figures.append(("Exact calls used", report.exact_calls))
    if written:
        figures.append(("calls per booking", "-" if ratio is None else ratio))
    yield ""
    yield f"pass {number}: {report.status.value}"
    for label, value in figures:
        yield f"  {label:<26}{value!s:>7}"
    for row in report.failed:
        yield f"    FAILED {row.source}:{row.label or row.record_id}: {row.reason}"
    if what == "payouts":
        for row in report.booked:
            yield f"    {row.label}: {row.amount} ({row.reason})"


def format_report(result: DemoResult) -> Iterable[str]:
    """The human-readable report, line by line."""
    yield (
        "exactbridge demo: fake Virtuagym club and fake Pay. merchant -> "
        f"fake Exact Online division {result.division}"
    )
    yield (
        f"state store: {result.state_path}"
        if result.state_path
        else "state store: SQLite in a temporary folder (removed afterwards)"
    )
    yield ""
    yield f"== invoices -> sales entries ({len(result.invoices)} invoices in the club)"
    for number, report in enumerate(result.invoice_passes, start=1):
        yield from _pass_lines(number, report, "invoices")
    if result.payout is not None:
        seeded = result.payout
        yield ""
        yield (
            f"== Pay. payouts -> bank entries (settlement {seeded.settlement_code}: "
            f"{len(seeded.paid)} invoices paid, {len(seeded.unmatched)} unknown payment, "
            f"{seeded.net} paid out)"
        )
        for number, report in enumerate(result.payout_passes, start=1):
            yield from _pass_lines(number, report, "payouts")
