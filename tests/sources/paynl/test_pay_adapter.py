"""Pay. adapter: settlement -> Payout with Payments and Fees per revenue group."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exactbridge.errors import SourceRecordError
from exactbridge.sources.paynl import (
    PayClient,
    SettlementBundle,
    parse_clearing_record,
    settlement_to_payout,
    split_by_revenue_group,
)
from exactbridge.testing.paynl import FakePay, FakePayTransaction

A, B = "CT-1111-2222", "CT-3333-4444"


def _tx(n: int, cents: int, group: str, costs: int = 30, **kw: object) -> FakePayTransaction:
    return FakePayTransaction(
        id=f"EX-{n}",
        order_id=f"ORD{n}",
        reference=f"F{n}",
        amount_cents=cents,
        costs_cents=costs,
        costs_vat_cents=costs * 21 // 121,
        group=group,
        description=f"Order {n}",
        customer_name=f"Payer {n}",
        customer_iban=f"NL00TEST{n:010d}",
        completed_at=dt.datetime(2026, 1, 4, 23, 30, tzinfo=dt.timezone.utc),
        **kw,  # type: ignore[arg-type]
    )


def _bundle(fake: FakePay) -> SettlementBundle:
    client = PayClient(fake.token_code, fake.api_token, transport=fake.transport())
    (bundle,) = client.list_settlement_bundles().all()
    return bundle


@pytest.fixture
def bundle() -> SettlementBundle:
    fake = FakePay()
    fake.add_settlement(
        [
            _tx(1, 1250, A),
            _tx(2, 9995, B, costs=45),
            _tx(3, -500, A, costs=0, status_code=-81, type="REFUND"),
        ],
        date=dt.date(2026, 1, 6),
        code="SK6Y-7PBP",
    )
    return _bundle(fake)


def test_payout_with_payments_and_fees_per_group(bundle: SettlementBundle) -> None:
    payout = settlement_to_payout(bundle)
    assert payout is not None
    assert payout.source == "paynl"
    assert payout.source_id == payout.reference == "SK6Y-7PBP"
    assert payout.date == dt.date(2026, 1, 6)
    assert payout.currency == "EUR"
    assert payout.revenue_group is None  # two groups
    assert payout.amount == Decimal("12.50") + Decimal("99.95") - Decimal("5.00") - Decimal("0.75")
    assert payout.amount == sum(p.amount for p in payout.payments) - sum(
        f.amount for f in payout.fees
    )
    first = payout.payments[0]
    assert first.source_id == "EX-1"
    assert first.reference == "ORD1"
    assert first.invoice_reference == "F1"
    assert first.amount == Decimal("12.50")
    assert first.date == dt.date(2026, 1, 5)  # 23:30 UTC is the next day in Amsterdam
    assert first.payer_name == "Payer 1"
    assert first.payer_iban == "NL00TEST0000000001"
    assert first.revenue_group == A
    assert first.description == "Order 1"
    assert payout.payments[2].amount == Decimal("-5.00")  # refund stays negative
    fees = {f.revenue_group: f for f in payout.fees}
    assert fees[A].amount == Decimal("0.30")
    assert fees[B].amount == Decimal("0.45")
    assert fees[B].vat_amount == Decimal("0.07")
    assert fees[A].date == dt.date(2026, 1, 6)
    assert fees[A].source_id == f"SK6Y-7PBP:costs:{A}"


def test_revenue_group_filter(bundle: SettlementBundle) -> None:
    payout = settlement_to_payout(bundle, revenue_groups={B})
    assert payout is not None
    assert [p.source_id for p in payout.payments] == ["EX-2"]
    assert payout.revenue_group == B
    assert payout.amount == Decimal("99.50")
    assert settlement_to_payout(bundle, revenue_groups={"CT-0000-0000"}) is None


def test_split_by_revenue_group_adds_up(bundle: SettlementBundle) -> None:
    payouts = split_by_revenue_group(bundle)
    assert {p.source_id for p in payouts} == {f"SK6Y-7PBP:{A}", f"SK6Y-7PBP:{B}"}
    assert sum(p.amount for p in payouts) == bundle.settlement.amount
    only = split_by_revenue_group(bundle, revenue_groups=[A])
    assert [p.revenue_group for p in only] == [A]


def test_invoice_reference_source_is_selectable(bundle: SettlementBundle) -> None:
    payout = settlement_to_payout(bundle, invoice_reference="description")
    assert payout is not None
    assert payout.payments[0].invoice_reference == "Order 1"


def test_incomplete_bundle_is_refused(bundle: SettlementBundle) -> None:
    error = SourceRecordError(
        "x", source="paynl", record_id="EX-9", field="amount.value", expected="cents"
    )
    broken = SettlementBundle(bundle.settlement, bundle.records, (error,))
    with pytest.raises(SourceRecordError) as info:
        settlement_to_payout(broken)
    assert info.value.record_id == "SK6Y-7PBP"
    assert "EX-9" in str(info.value)
    with pytest.raises(SourceRecordError):
        split_by_revenue_group(broken)


def test_foreign_currency_record_is_refused(bundle: SettlementBundle) -> None:
    usd = parse_clearing_record(
        {"id": "EX-USD", "amount": {"value": 100, "currency": "USD"}, "status": {"code": 100}}
    )
    with pytest.raises(SourceRecordError, match="currency"):
        settlement_to_payout(SettlementBundle(bundle.settlement, (*bundle.records, usd)))


def test_group_from_clearing_lines_when_record_has_none() -> None:
    fake = FakePay()
    code = fake.add_settlement([_tx(1, 1000, A)])
    fake.add_raw_record(
        code, {"id": "EX-X", "amount": {"value": 200, "currency": "EUR"}, "status": {"code": 100}}
    )
    payout = settlement_to_payout(_bundle(fake))
    assert payout is not None
    assert payout.payments[-1].revenue_group == A
    assert payout.payments[-1].date == dt.date(2026, 1, 6)  # falls back to settlement date
