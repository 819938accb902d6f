"""Pay.'s own shapes (settlements, clearings, records, transactions, exchange calls), typed.

Every wire field name the connector reads lives in this module (the paths live in
:mod:`.client`); the parse functions turn one decoded JSON object into a frozen model
or raise :class:`~exactbridge.errors.SourceRecordError` naming the record and field.

Money: Pay.'s new APIs send ``{"value": <integer minor units>, "currency": "EUR"}``;
``value`` is read as an integer number of cents and turned into an exact
:class:`~decimal.Decimal` (``1250`` -> ``Decimal("12.50")``). A float, a fraction or a
boolean in ``value`` is a record error. Negative cents are handled deliberately:

==========================  ==============================================================
field                       negative allowed?
==========================  ==============================================================
settlement ``amount``       no (a payout to the merchant; a debit shows as clearing lines)
clearing line ``amount``    no: the sign comes from ``clearingLineType.direction``
record ``amount``           only for refunds and chargebacks (status -70/-71/-72/-81/-82
                            or ``type`` REFUND/CHARGEBACK); elsewhere a record error
record ``costs``            no (PSP costs are a cost; a rebate would need its own line)
==========================  ==============================================================

UNVERIFIED assumptions (reference section 4.2/4.4; confirm against a sandbox and
change them here only):

* settlement amounts are in cents like the transaction amounts (the reference's one
  example, ``250`` with "Funds: 250.00", is ambiguous);
* a clearing record (``Clearings:Records``) is shaped like this, field names as in the
  Pay. order object::

      {"id": "EX-...", "orderId": "...", "reference": "<invoice number>",
       "description": "...", "type": "PAYMENT" | "REFUND" | "CHARGEBACK",
       "status": {"code": 100, "action": "PAID"},
       "amount": {"value": 1250, "currency": "EUR"},
       "costs": {"value": 29, "currency": "EUR"}, "costsVat": {"value": 6, ...},
       "paymentMethod": {"id": 10, "name": "iDEAL"},
       "turnoverGroup": {"code": "CT-...", "name": "..."},
       "customer": {"name": "...", "iban": "..."},
       "createdAt": "2026-...T...+01:00", "completedAt": "..."}
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from exactbridge.sources._http import RecordReader

__all__ = [
    "REFUND_STATUS_CODES",
    "SOURCE",
    "STATUS_CODES",
    "Clearing",
    "ClearingLine",
    "ClearingRecord",
    "Direction",
    "PayStatus",
    "Settlement",
    "Transaction",
    "TurnoverGroup",
    "parse_clearing_record",
    "parse_settlement",
    "parse_transaction",
    "status_for_code",
]


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


#: The source name every Pay. record carries.
SOURCE = "paynl"


class PayStatus(enum.Enum):
    """The status actions of Pay. (several numeric codes share one action)."""

    PAID = "PAID"
    AUTHORIZE = "AUTHORIZE"
    PENDING = "PENDING"
    VERIFY = "VERIFY"
    PARTIAL_PAYMENT = "PARTIAL_PAYMENT"
    CONFIRMED = "CONFIRMED"
    OPEN = "OPEN"
    WAIT = "WAIT"
    PAID_CHECKAMOUNT = "PAID_CHECKAMOUNT"
    CANCEL = "CANCEL"
    DENIED = "DENIED"
    CHARGEBACK = "CHARGEBACK"
    REFUND_IN_PROGRESS = "REFUND_IN_PROGRESS"
    EXPIRED = "EXPIRED"
    REFUND = "REFUND"
    PARTIAL_REFUND = "PARTIAL_REFUND"
    UNKNOWN = "UNKNOWN"

    @property
    def is_paid(self) -> bool:
        """Money was received (``PAID``, ``PAID_CHECKAMOUNT``)."""
        return self in (PayStatus.PAID, PayStatus.PAID_CHECKAMOUNT)

    @property
    def is_reversal(self) -> bool:
        """Money went back to the payer (refund or chargeback)."""
        return self in (
            PayStatus.CHARGEBACK,
            PayStatus.REFUND,
            PayStatus.PARTIAL_REFUND,
            PayStatus.REFUND_IN_PROGRESS,
        )


#: Pay.'s numeric status codes (reference section 4.2).
STATUS_CODES: Mapping[int, PayStatus] = MappingProxyType(
    {
        100: PayStatus.PAID,
        95: PayStatus.AUTHORIZE,
        90: PayStatus.PENDING,
        50: PayStatus.PENDING,
        25: PayStatus.PENDING,
        20: PayStatus.PENDING,
        85: PayStatus.VERIFY,
        80: PayStatus.PARTIAL_PAYMENT,
        75: PayStatus.CONFIRMED,
        76: PayStatus.CONFIRMED,
        60: PayStatus.OPEN,
        0: PayStatus.WAIT,
        -51: PayStatus.PAID_CHECKAMOUNT,
        -60: PayStatus.CANCEL,
        -90: PayStatus.CANCEL,
        -63: PayStatus.DENIED,
        -70: PayStatus.CHARGEBACK,
        -71: PayStatus.CHARGEBACK,
        -72: PayStatus.REFUND_IN_PROGRESS,
        -80: PayStatus.EXPIRED,
        -81: PayStatus.REFUND,
        -82: PayStatus.PARTIAL_REFUND,
    }
)

#: Codes whose records may carry a negative amount.
REFUND_STATUS_CODES = frozenset({-70, -71, -72, -81, -82})


def status_for_code(code: int) -> PayStatus:
    """The :class:`PayStatus` of a numeric code (``UNKNOWN`` for codes not in the table).

    >>> status_for_code(-81)
    <PayStatus.REFUND: 'REFUND'>
    """
    return STATUS_CODES.get(code, PayStatus.UNKNOWN)


class Direction(enum.Enum):
    """Whether a clearing line pays the merchant (``CREDIT``) or takes from it (``DEBIT``)."""

    CREDIT = "CREDIT"
    DEBIT = "DEBIT"


@attrs.frozen
class TurnoverGroup:
    """A revenue (turnover) group: ``CT-xxxx-xxxx`` code and name."""

    code: str
    name: str | None = None


@attrs.frozen
class ClearingLine:
    """One line of a clearing: a turnover group and payment method type, one direction."""

    code: str
    amount: Decimal
    currency: str
    direction: Direction
    clearing_date: dt.date | None
    settlement_date: dt.date | None
    value_date: dt.date | None
    state: str | None
    turnover_group: TurnoverGroup | None
    line_type_id: str | None
    line_type_name: str | None
    merchant_code: str | None
    merchant_name: str | None
    transaction_count: int | None
    unique_payers: int | None

    @property
    def signed_amount(self) -> Decimal:
        """The amount with its sign: positive for the merchant, negative for a debit."""
        return self.amount if self.direction is Direction.CREDIT else -self.amount


@attrs.frozen
class Clearing:
    """A clearing of a settlement, with its lines."""

    clearing_id: str
    lines: tuple[ClearingLine, ...]


@attrs.frozen
class Settlement:
    """A settlement: one payout to the merchant's bank account, made of clearings."""

    code: str
    description: str | None
    settlement_date: dt.date
    confirmation_date: dt.date | None
    amount: Decimal
    currency: str
    base_account_iban: str | None
    payout_iban: str | None
    payout_bic: str | None
    payout_owner: str | None
    clearings: tuple[Clearing, ...]
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)


@attrs.frozen
class ClearingRecord:
    """One transaction in a clearing (UNVERIFIED shape; see the module docstring)."""

    transaction_id: str
    order_id: str | None
    reference: str | None
    description: str | None
    type: str | None
    status_code: int | None
    status: PayStatus
    amount: Decimal
    currency: str
    costs: Decimal
    costs_vat: Decimal | None
    payment_method: str | None
    turnover_group: TurnoverGroup | None
    customer_name: str | None
    customer_iban: str | None
    created_at: dt.datetime | None
    completed_at: dt.datetime | None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    @property
    def is_reversal(self) -> bool:
        """A refund or chargeback."""
        return self.status.is_reversal or (self.type or "").upper() in ("REFUND", "CHARGEBACK")


@attrs.frozen
class Transaction:
    """A Pay. order/transaction (``GET /v2/transactions/{id}``), the fields a sync needs."""

    id: str
    order_id: str | None
    reference: str | None
    description: str | None
    status_code: int | None
    status: PayStatus
    amount: Decimal
    currency: str
    amount_refunded: Decimal | None
    service_id: str | None
    created_at: dt.datetime | None
    completed_at: dt.datetime | None
    customer_name: str | None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)


# --------------------------------------------------------------------------- parsing


def _money(reader: RecordReader, field: str, *, negative: bool) -> tuple[Decimal, str]:
    """Read ``{value: int cents, currency}``; ``negative`` says whether < 0 is allowed."""
    obj = reader.opt_object(field)
    if obj is None:
        raise reader.error(field, "missing", "an amount object {value, currency}", None)
    child = reader.child(obj, f"{field}.")
    value = obj.get("value")
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)
        else:
            raise child.error("value", "not whole cents", "an integer number of cents", value)
    if value < 0 and not negative:
        raise child.error("value", "negative where Pay. sends none", "cents >= 0", value)
    currency = obj.get("currency", "EUR")
    if not (isinstance(currency, str) and len(currency) == 3 and currency.isalpha()):
        raise child.error("currency", "not a currency code", "an ISO 4217 code", currency)
    return Decimal(value).scaleb(-2), currency.upper()


def _opt_money(reader: RecordReader, field: str, *, negative: bool) -> Decimal | None:
    if not reader.has(field):
        return None
    return _money(reader, field, negative=negative)[0]


def _group(reader: RecordReader, field: str) -> TurnoverGroup | None:
    obj = reader.opt_object(field)
    if obj is None:
        return None
    child = reader.child(obj, f"{field}.")
    return TurnoverGroup(code=child.text("code"), name=child.opt_text("name"))


def _status(reader: RecordReader) -> tuple[int | None, PayStatus]:
    obj = reader.opt_object("status")
    if obj is None:
        return None, PayStatus.UNKNOWN
    child = reader.child(obj, "status.")
    code = child.opt_integer("code")
    if code is not None:
        return code, status_for_code(code)
    action = child.opt_text("action")
    try:
        return None, PayStatus(action) if action else PayStatus.UNKNOWN
    except ValueError:
        return None, PayStatus.UNKNOWN


def _opt_date(reader: RecordReader, field: str) -> dt.date | None:
    """A date that may come as ``YYYY-MM-DD`` or as a full timestamp."""
    value = reader.data.get(field)
    if isinstance(value, str) and len(value) > 10:
        return reader.opt_datetime(field).date()  # type: ignore[union-attr]
    return reader.opt_date(field)


_SETTLEMENT_FIELDS = (
    "code",
    "description",
    "settlementDate",
    "confirmationDate",
    "amount",
    "baseAccountIban",
    "clearingAccount",
    "clearings",
)


def parse_settlement(data: Any) -> Settlement:
    """One settlement object of ``Clearings:Settlements`` -> :class:`Settlement`.

    Raises :class:`~exactbridge.errors.SourceRecordError` naming the settlement code
    and the field (``clearings[0].clearingLines[2].amount.value``...).
    """
    reader = RecordReader(SOURCE, data, id_field="code")
    code = reader.text("code")
    settlement_date = _opt_date(reader, "settlementDate")
    if settlement_date is None:
        raise reader.error("settlementDate", "missing", "a date", None)
    amount, currency = _money(reader, "amount", negative=False)
    iban = bic = owner = None
    account = reader.opt_object("clearingAccount")
    if account is not None:
        acc = reader.child(account, "clearingAccount.")
        inner = acc.opt_object("iban")
        if inner is not None:
            ib = acc.child(inner, "iban.")
            iban, bic, owner = ib.opt_text("iban"), ib.opt_text("bic"), ib.opt_text("owner")
    clearings = []
    for index, raw in enumerate(reader.array("clearings", required=False)):
        c = reader.child(raw, f"clearings[{index}].")
        lines = []
        for line_index, raw_line in enumerate(c.array("clearingLines", required=False)):
            lines.append(_clearing_line(c.child(raw_line, f"clearingLines[{line_index}].")))
        clearings.append(
            Clearing(clearing_id=c.text("clearingId", coerce=True), lines=tuple(lines))
        )
    return Settlement(
        code=code,
        description=reader.opt_text("description"),
        settlement_date=settlement_date,
        confirmation_date=_opt_date(reader, "confirmationDate"),
        amount=amount,
        currency=currency,
        base_account_iban=reader.opt_text("baseAccountIban"),
        payout_iban=iban,
        payout_bic=bic,
        payout_owner=owner,
        clearings=tuple(clearings),
        extra=reader.extras(_SETTLEMENT_FIELDS),
    )


def _clearing_line(reader: RecordReader) -> ClearingLine:
    amount, currency = _money(reader, "amount", negative=False)
    kind = reader.opt_object("clearingLineType")
    direction = Direction.CREDIT
    type_id = type_name = None
    if kind is not None:
        k = reader.child(kind, "clearingLineType.")
        type_id = k.opt_text("id", coerce=True)
        type_name = k.opt_text("name")
        raw = (k.opt_text("direction") or "CREDIT").upper()
        try:
            direction = Direction(raw)
        except ValueError:
            raise k.error("direction", "unknown direction", "CREDIT or DEBIT", raw) from None
    merchant = reader.opt_object("merchant")
    m = reader.child(merchant, "merchant.") if merchant is not None else None
    return ClearingLine(
        code=reader.text("code"),
        amount=amount,
        currency=currency,
        direction=direction,
        clearing_date=_opt_date(reader, "clearingDate"),
        settlement_date=_opt_date(reader, "settlementDate"),
        value_date=_opt_date(reader, "valueDate"),
        state=reader.opt_text("state"),
        turnover_group=_group(reader, "turnoverGroup"),
        line_type_id=type_id,
        line_type_name=type_name,
        merchant_code=m.opt_text("code") if m else None,
        merchant_name=m.opt_text("name") if m else None,
        transaction_count=reader.opt_integer("transactions"),
        unique_payers=reader.opt_integer("uniquePayers"),
    )


_RECORD_FIELDS = (
    "id",
    "orderId",
    "reference",
    "description",
    "type",
    "status",
    "amount",
    "costs",
    "costsVat",
    "paymentMethod",
    "turnoverGroup",
    "customer",
    "createdAt",
    "completedAt",
)


def parse_clearing_record(data: Any) -> ClearingRecord:
    """One record of ``Clearings:Records`` -> :class:`ClearingRecord` (UNVERIFIED shape)."""
    reader = RecordReader(SOURCE, data, id_field="id")
    transaction_id = reader.text("id", coerce=True)
    code, status = _status(reader)
    kind = reader.opt_text("type")
    reversal = (code in REFUND_STATUS_CODES) or (kind or "").upper() in ("REFUND", "CHARGEBACK")
    amount, currency = _money(reader, "amount", negative=reversal)
    costs = _opt_money(reader, "costs", negative=False) or Decimal("0.00")
    method = reader.opt_object("paymentMethod")
    customer = reader.opt_object("customer")
    c = reader.child(customer, "customer.") if customer is not None else None
    return ClearingRecord(
        transaction_id=transaction_id,
        order_id=reader.opt_text("orderId", coerce=True),
        reference=reader.opt_text("reference", coerce=True),
        description=reader.opt_text("description"),
        type=kind,
        status_code=code,
        status=status,
        amount=amount,
        currency=currency,
        costs=costs,
        costs_vat=_opt_money(reader, "costsVat", negative=False),
        payment_method=(
            reader.child(method, "paymentMethod.").opt_text("name") if method is not None else None
        ),
        turnover_group=_group(reader, "turnoverGroup"),
        customer_name=c.opt_text("name") if c else None,
        customer_iban=c.opt_text("iban") if c else None,
        created_at=reader.opt_datetime("createdAt"),
        completed_at=reader.opt_datetime("completedAt"),
        extra=reader.extras(_RECORD_FIELDS),
    )


_TRANSACTION_FIELDS = (
    "id",
    "orderId",
    "reference",
    "description",
    "status",
    "amount",
    "amountRefunded",
    "serviceId",
    "createdAt",
    "completedAt",
    "payments",
)


def parse_transaction(data: Any) -> Transaction:
    """A Pay. order object (``GET /v2/transactions/{id}``, signed exchange body)."""
    reader = RecordReader(SOURCE, data, id_field="id")
    code, status = _status(reader)
    amount, currency = _money(reader, "amount", negative=code in REFUND_STATUS_CODES)
    payer = None
    for index, raw in enumerate(reader.array("payments", required=False)):
        p = reader.child(raw, f"payments[{index}].")
        payer = payer or p.opt_text("customerName")
    return Transaction(
        id=reader.text("id", coerce=True),
        order_id=reader.opt_text("orderId", coerce=True),
        reference=reader.opt_text("reference", coerce=True),
        description=reader.opt_text("description"),
        status_code=code,
        status=status,
        amount=amount,
        currency=currency,
        amount_refunded=_opt_money(reader, "amountRefunded", negative=False),
        service_id=reader.opt_text("serviceId"),
        created_at=reader.opt_datetime("createdAt"),
        completed_at=reader.opt_datetime("completedAt"),
        customer_name=payer,
        extra=reader.extras(_TRANSACTION_FIELDS),
    )
