"""Seed a :class:`~exactbridge.testing.FakePay` with payouts that pay an Exact division's invoices.

For demos and end-to-end tests of :class:`~exactbridge.sync.PayoutPipeline`: after
invoices were booked into a (fake) Exact division, :func:`seed_pay_for_receivables`
reads the division's open receivables and adds a Pay. settlement whose transactions
pay some of them exactly (merchant reference = the invoice's ``YourRef``), plus
payments that match nothing (to show the unassigned account at work), each with PSP
costs withheld.

Example::

    seeded = seed_pay_for_receivables(fake_pay, exact_client, every=2, unmatched=1)
    seeded.settlement_code, seeded.paid   # "S001-0007", ("1001", "1003", ...)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from exactbridge.errors import ConfigurationError
from exactbridge.exact import ExactClient
from exactbridge.testing.paynl import FakePay, FakePayTransaction

__all__ = ["PaySeed", "seed_pay_for_receivables"]


@attrs.frozen
class PaySeed:
    """What :func:`seed_pay_for_receivables` added to the fake.

    ``paid`` are the ``YourRef`` values of the receivables paid in full,
    ``unmatched`` the references of the payments that match no receivable,
    ``gross`` the sum of all payments, ``costs`` the PSP costs withheld and
    ``net`` what the settlement transfers (``gross - costs``).
    """

    settlement_code: str
    paid: tuple[str, ...]
    unmatched: tuple[str, ...]
    gross: Decimal
    costs: Decimal

    @property
    def net(self) -> Decimal:
        """The amount Pay. transfers to the bank: payments minus costs."""
        return self.gross - self.costs


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def seed_pay_for_receivables(
    pay: FakePay,
    exact: ExactClient,
    *,
    every: int = 2,
    limit: int | None = None,
    unmatched: int = 1,
    date: dt.date = dt.date(2026, 1, 6),
    group: str = "CT-1111-2222",
    costs_cents: int = 29,
) -> PaySeed:
    """Add one settlement paying every ``every``-th open receivable of ``exact``'s division.

    ``exact`` is an :class:`~exactbridge.exact.ExactClient` (the division's
    ``read/financial/ReceivablesList`` is read once, 60 rows per call). Only open
    invoices (a positive amount and a ``YourRef``) are paid, at most ``limit`` of
    them; ``unmatched`` more payments carry references no invoice has. Every
    payment costs ``costs_cents`` (21 % VAT included), all in revenue group
    ``group``, completed the day before the settlement ``date``.
    """
    if every < 1:
        raise ConfigurationError(f"got {every!r}", key="every", expected="an integer >= 1")
    if unmatched < 0 or costs_cents < 0:
        raise ConfigurationError(
            "unmatched and costs_cents cannot be negative",
            key="unmatched/costs_cents",
            expected="integers >= 0",
        )
    open_items = [
        (str(item.your_ref), item.amount)
        for item in exact.receivables_list.iterate()
        if item.amount is not None and item.amount > 0 and item.your_ref
    ]
    chosen = open_items[::every]
    if limit is not None:
        chosen = chosen[:limit]
    completed = dt.datetime.combine(
        date - dt.timedelta(days=1), dt.time(10, 0), tzinfo=dt.timezone.utc
    )
    start = len(pay.transactions) + 1
    transactions: list[FakePayTransaction] = []
    payments = [(reference, _cents(amount)) for reference, amount in chosen]
    strangers = [(f"ONBEKEND-{start + n:04d}", 1250 + 100 * n) for n in range(unmatched)]
    for offset, (reference, cents) in enumerate([*payments, *strangers]):
        n = start + offset
        transactions.append(
            FakePayTransaction(
                id=f"EX-{n:04d}-{n * 13 % 10000:04d}-{n % 9973:04d}",
                order_id=f"{n:08d}X{n % 97:02d}",
                reference=reference,
                amount_cents=cents,
                costs_cents=costs_cents,
                costs_vat_cents=costs_cents * 21 // 121,
                group=group,
                description=f"Betaling {reference}",
                customer_name=f"Betaler {n}",
                completed_at=completed,
            )
        )
    code = pay.add_settlement(transactions, date=date)
    gross = sum((Decimal(t.amount_cents) for t in transactions), Decimal(0)).scaleb(-2)
    costs = Decimal(costs_cents * len(transactions)).scaleb(-2)
    return PaySeed(
        settlement_code=code,
        paid=tuple(reference for reference, _ in payments),
        unmatched=tuple(reference for reference, _ in strangers),
        gross=gross,
        costs=costs,
    )
