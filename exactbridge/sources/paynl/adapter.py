"""Pay. settlements -> canonical payouts (pure: no I/O, no clock).

:func:`settlement_to_payout` turns a settlement and the records of its clearings into
one :class:`~exactbridge.records.Payout`: a :class:`~exactbridge.records.Payment` per
record (order reference, invoice reference, amount, date, payer, revenue group) and a
:class:`~exactbridge.records.Fee` per revenue group for the PSP costs withheld, ready
for the payment-matching mapping. :func:`split_by_revenue_group` gives one payout per
revenue group instead (Pay.'s "payout per revenue group" clearing setting), and the
``revenue_groups`` filter keeps only the groups a user selected.

Example::

    payout = settlement_to_payout(bundle, revenue_groups={"CT-1234-5678"})
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from decimal import Decimal
from typing import Literal

from dateutil import tz

from exactbridge.errors import SourceRecordError
from exactbridge.records import Fee, Payment, Payout

from .client import SettlementBundle
from .models import SOURCE, ClearingRecord, Settlement

__all__ = [
    "record_to_payment",
    "settlement_to_payout",
    "split_by_revenue_group",
]

_AMSTERDAM = tz.gettz("Europe/Amsterdam")
InvoiceReferenceField = Literal["reference", "description", "order_id"]


def _group_of(record: ClearingRecord, settlement: Settlement) -> str | None:
    if record.turnover_group is not None:
        return record.turnover_group.code
    groups = {
        line.turnover_group.code
        for clearing in settlement.clearings
        for line in clearing.lines
        if line.turnover_group is not None
    }
    return groups.pop() if len(groups) == 1 else None


def _local_date(moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else moment.astimezone(_AMSTERDAM).date()


def record_to_payment(
    record: ClearingRecord,
    settlement: Settlement,
    *,
    invoice_reference: InvoiceReferenceField = "reference",
) -> Payment:
    """One clearing record as a :class:`~exactbridge.records.Payment`.

    ``reference`` is Pay.'s order id, ``invoice_reference`` the field that carries the
    invoice number (by default the merchant ``reference`` given when the payment was
    created). The date is the Amsterdam calendar day the payment completed (else was
    created, else the settlement date). Refunds and chargebacks stay negative.
    """
    invoice = {
        "reference": record.reference,
        "description": record.description,
        "order_id": record.order_id,
    }[invoice_reference]
    return Payment(
        source=SOURCE,
        source_id=record.transaction_id,
        amount=record.amount,
        date=_local_date(record.completed_at)
        or _local_date(record.created_at)
        or settlement.settlement_date,
        reference=record.order_id,
        invoice_reference=invoice,
        payer_name=record.customer_name,
        payer_iban=record.customer_iban,
        revenue_group=_group_of(record, settlement),
        description=record.description,
        currency=record.currency,
    )


def _fees(records: Collection[ClearingRecord], settlement: Settlement) -> tuple[Fee, ...]:
    totals: dict[str | None, tuple[Decimal, Decimal | None]] = {}
    for record in records:
        group = _group_of(record, settlement)
        cost, vat = totals.get(group, (Decimal("0.00"), None))
        cost += record.costs
        if record.costs_vat is not None:
            vat = (vat or Decimal("0.00")) + record.costs_vat
        totals[group] = (cost, vat)
    return tuple(
        Fee(
            amount=cost,
            description=f"PSP costs {settlement.code}" + (f" {group}" if group else ""),
            revenue_group=group,
            vat_amount=vat,
            date=settlement.settlement_date,
            source_id=f"{settlement.code}:costs:{group or '-'}",
        )
        for group, (cost, vat) in totals.items()
        if cost or vat
    )


def _check(bundle: SettlementBundle) -> None:
    if bundle.errors:
        first = bundle.errors[0]
        raise SourceRecordError(
            f"{len(bundle.errors)} record(s) of the settlement could not be read "
            f"(first: record {first.record_id}, field {first.field!r})",
            source=SOURCE,
            record_id=bundle.settlement.code,
            field="records",
            expected="every record readable",
            value=len(bundle.errors),
        )
    currencies = {r.currency for r in bundle.records} - {bundle.settlement.currency}
    if currencies:
        raise SourceRecordError(
            "records in another currency than the settlement",
            source=SOURCE,
            record_id=bundle.settlement.code,
            field="records.amount.currency",
            expected=bundle.settlement.currency,
            value=sorted(currencies),
        )


def settlement_to_payout(
    bundle: SettlementBundle,
    *,
    revenue_groups: Collection[str] | None = None,
    invoice_reference: InvoiceReferenceField = "reference",
) -> Payout | None:
    """A settlement with its records as one :class:`~exactbridge.records.Payout`.

    Without a filter the payout's amount is the settlement amount (what reached the
    bank). With ``revenue_groups`` only those groups' payments and fees are kept and
    the amount is their net (payments minus fees); ``None`` is returned when nothing of
    the settlement is in the selected groups. Raises
    :class:`~exactbridge.errors.SourceRecordError` for a bundle with unreadable records.
    """
    _check(bundle)
    settlement = bundle.settlement
    records = bundle.records
    if revenue_groups is not None:
        wanted = set(revenue_groups)
        records = tuple(r for r in records if _group_of(r, settlement) in wanted)
        if not records:
            return None
    payments = tuple(
        record_to_payment(r, settlement, invoice_reference=invoice_reference) for r in records
    )
    fees = _fees(records, settlement)
    groups = {p.revenue_group for p in payments}
    if revenue_groups is None:
        amount = settlement.amount
    else:
        amount = sum((p.amount for p in payments), Decimal("0.00")) - sum(
            (f.amount for f in fees), Decimal("0.00")
        )
    return Payout(
        source=SOURCE,
        source_id=settlement.code,
        date=settlement.settlement_date,
        amount=amount,
        payments=payments,
        fees=fees,
        currency=settlement.currency,
        reference=settlement.code,
        revenue_group=groups.pop() if len(groups) == 1 else None,
    )


def split_by_revenue_group(
    bundle: SettlementBundle,
    *,
    revenue_groups: Collection[str] | None = None,
    invoice_reference: InvoiceReferenceField = "reference",
) -> tuple[Payout, ...]:
    """One payout per revenue group (``source_id`` ``"<settlement code>:<CT-code>"``).

    Each payout's amount is its group's payments minus its group's fees, so the
    amounts add up to the settlement amount when the settlement holds nothing else.
    """
    _check(bundle)
    settlement = bundle.settlement
    by_group: dict[str | None, list[ClearingRecord]] = {}
    for record in bundle.records:
        by_group.setdefault(_group_of(record, settlement), []).append(record)
    out = []
    for group, records in by_group.items():
        if revenue_groups is not None and group not in revenue_groups:
            continue
        payments = tuple(
            record_to_payment(r, settlement, invoice_reference=invoice_reference) for r in records
        )
        fees = _fees(records, settlement)
        amount = sum((p.amount for p in payments), Decimal("0.00")) - sum(
            (f.amount for f in fees), Decimal("0.00")
        )
        out.append(
            Payout(
                source=SOURCE,
                source_id=f"{settlement.code}:{group or '-'}",
                date=settlement.settlement_date,
                amount=amount,
                payments=payments,
                fees=fees,
                currency=settlement.currency,
                reference=settlement.code,
                revenue_group=group,
            )
        )
    return tuple(out)
