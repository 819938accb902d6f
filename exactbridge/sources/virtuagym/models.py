"""Virtuagym's own shapes (API v1), typed: invoices, rows, members, club taxes, income categories.

Field names follow Virtuagym's JSON (snake_case already). Money is :class:`~decimal.Decimal`:
Virtuagym sends euro amounts as JSON floats (``95.05``), which the client decodes with
``parse_float=Decimal`` so no amount ever passes through a binary float. Timestamps are
aware UTC datetimes; Virtuagym sends invoice timestamps in **seconds** and member
timestamps in **milliseconds** (both configurable through :class:`TimestampUnit`).

Each model has a ``from_json`` that raises :class:`~exactbridge.errors.SourceRecordError`
naming the record (invoice ``guid``, ``member_id``...) and the field; fields the model
does not know are kept in ``extra`` (never an error).
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
    "SOURCE",
    "ClubTax",
    "IncomeCategory",
    "InvoiceRow",
    "Member",
    "PaidStatus",
    "TimestampUnit",
    "VirtuagymInvoice",
    "unix_to_datetime",
]

#: The source name used in errors and canonical records.
SOURCE = "virtuagym"


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


class TimestampUnit(enum.Enum):
    """The unit of a unix timestamp field.

    ``AUTO`` reads values above 10^11 as milliseconds and smaller ones as seconds
    (10^11 seconds is the year 5138, 10^11 ms is March 1973), a safe guess for data
    from this century. Virtuagym documents seconds for invoices and milliseconds for
    members, but some doc examples disagree; pick ``AUTO`` if a club's data mixes.
    """

    SECONDS = "seconds"
    MILLISECONDS = "milliseconds"
    AUTO = "auto"


def unix_to_datetime(value: int, unit: TimestampUnit) -> dt.datetime:
    """Convert a unix timestamp in ``unit`` to an aware UTC datetime.

    >>> unix_to_datetime(1509055200, TimestampUnit.SECONDS).isoformat()
    '2017-10-26T22:00:00+00:00'
    >>> unix_to_datetime(1509055200000, TimestampUnit.AUTO).isoformat()
    '2017-10-26T22:00:00+00:00'
    """
    millis = unit is TimestampUnit.MILLISECONDS or (
        unit is TimestampUnit.AUTO and abs(value) >= 100_000_000_000
    )
    seconds, fraction = divmod(value, 1000) if millis else (value, 0)
    base = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return base + dt.timedelta(seconds=seconds, milliseconds=fraction)


def _stamp(reader: RecordReader, field: str, unit: TimestampUnit) -> dt.datetime | None:
    value = reader.opt_integer(field)
    if value is None or value == 0:
        return None
    try:
        return unix_to_datetime(value, unit)
    except (OverflowError, ValueError) as exc:
        raise reader.error(
            field, "timestamp out of range", f"a unix time in {unit.value}", value
        ) from exc


def _required_stamp(reader: RecordReader, field: str, unit: TimestampUnit) -> dt.datetime:
    value = _stamp(reader, field, unit)
    if value is None:
        raise reader.error(field, "missing", f"a unix time in {unit.value}", reader.data.get(field))
    return value


class PaidStatus(enum.IntEnum):
    """Virtuagym's ``paid_status``: 0 open, 1 pending, 2 paid."""

    OPEN = 0
    PENDING = 1
    PAID = 2


@attrs.frozen
class ClubTax:
    """A VAT category of the club (``GET /club-taxes``).

    ``club_tax_id`` is the number invoice rows refer to; ``tax_id`` is a GUID that
    rows do **not** use. ``tax_perc`` is a percentage (``Decimal("21.00")``).
    """

    club_tax_id: int | None
    tax_id: str
    tax_name: str
    tax_perc: Decimal
    date_from: dt.date | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    _KNOWN = ("club_tax_id", "tax_id", "tax_name", "tax_perc", "date_from")

    @classmethod
    def from_json(cls, data: Any) -> ClubTax:
        """Decode one club tax; raises ``SourceRecordError`` naming the tax and the field."""
        reader = RecordReader(SOURCE, data, id_field="tax_id")
        return cls(
            club_tax_id=reader.opt_integer("club_tax_id"),
            tax_id=reader.text("tax_id", coerce=True),
            tax_name=reader.text("tax_name"),
            tax_perc=reader.decimal("tax_perc"),
            date_from=reader.opt_date("date_from"),
            extra=reader.extras(cls._KNOWN),
        )


@attrs.frozen
class IncomeCategory:
    """An income (revenue) category (``GET /income-categories``).

    Invoice rows carry a category *name*; whether it equals ``income_category_name``
    or ``name_id`` is not documented (the adapter can match either).
    """

    income_category_id: str
    income_category_name: str
    name_id: str | None = None
    default_tax_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    _KNOWN = ("income_category_id", "income_category_name", "name_id", "default_tax_id")

    @classmethod
    def from_json(cls, data: Any) -> IncomeCategory:
        """Decode one income category."""
        reader = RecordReader(SOURCE, data, id_field="income_category_id")
        return cls(
            income_category_id=reader.text("income_category_id", coerce=True),
            income_category_name=reader.text("income_category_name"),
            name_id=reader.opt_text("name_id", coerce=True),
            default_tax_id=reader.opt_text("default_tax_id", coerce=True)
            or reader.opt_text("default_tax", coerce=True),
            extra=reader.extras((*cls._KNOWN, "default_tax")),
        )


@attrs.frozen
class Member:
    """A club member (the customer of an invoice).

    ``member_id`` is Virtuagym's id, ``club_member_id`` the club's own member number,
    ``external_id`` an id from another system. ``timestamp_edit`` is the last change
    (Virtuagym sends milliseconds). ``member_since`` is a date (sent as ms or as text).
    """

    member_id: int
    club_id: int | None = None
    club_member_id: str | None = None
    external_id: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    street: str | None = None
    street_extra: str | None = None
    zip: str | None = None
    place: str | None = None
    country: str | None = None
    lang: str | None = None
    gender: str | None = None
    birthday: dt.date | None = None
    active: bool = True
    member_since: dt.date | None = None
    timestamp_edit: dt.datetime | None = None
    business_guid: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    _KNOWN = (
        "member_id",
        "club_id",
        "club_member_id",
        "external_id",
        "firstname",
        "lastname",
        "email",
        "phone",
        "mobile",
        "street",
        "street_extra",
        "zip",
        "place",
        "country",
        "lang",
        "gender",
        "birthday",
        "active",
        "member_since",
        "timestamp_edit",
        "business_guid",
    )

    @property
    def full_name(self) -> str:
        """First and last name joined (what an invoice is addressed to)."""
        return " ".join(part for part in (self.firstname, self.lastname) if part)

    @classmethod
    def from_json(cls, data: Any, *, unit: TimestampUnit = TimestampUnit.MILLISECONDS) -> Member:
        """Decode one member; timestamps in ``unit`` (milliseconds per Virtuagym)."""
        reader = RecordReader(SOURCE, data, id_field="member_id")

        def text(name: str) -> str | None:
            value = reader.opt_text(name, coerce=True)
            return value if value else None

        return cls(
            member_id=reader.integer("member_id"),
            club_id=reader.opt_integer("club_id"),
            club_member_id=text("club_member_id"),
            external_id=text("external_id"),
            firstname=text("firstname"),
            lastname=text("lastname"),
            email=text("email"),
            phone=text("phone"),
            mobile=text("mobile"),
            street=text("street"),
            street_extra=text("street_extra"),
            zip=text("zip"),
            place=text("place"),
            country=text("country"),
            lang=text("lang"),
            gender=text("gender"),
            birthday=reader.opt_date("birthday"),
            active=reader.flag("active", default=True),
            member_since=_member_since(reader, unit),
            timestamp_edit=_stamp(reader, "timestamp_edit", unit),
            business_guid=text("business_guid"),
            extra=reader.extras(cls._KNOWN),
        )


def _member_since(reader: RecordReader, unit: TimestampUnit) -> dt.date | None:
    value = reader.data.get("member_since")
    if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        return reader.opt_date("member_since")
    stamp = _stamp(reader, "member_since", unit)
    return stamp.date() if stamp is not None else None


@attrs.frozen
class InvoiceRow:
    """One row of an invoice (Virtuagym calls it a child invoice).

    ``price`` is the row total including VAT, ``price_ex_vat`` and ``vat`` its parts;
    a discount is a row with negative amounts. ``club_tax_id`` refers to
    :attr:`ClubTax.club_tax_id` (0 = "No tax"); ``income_category`` is a category
    *name*. ``start_period``/``end_period`` give a membership row's billing period.
    """

    guid: str
    product_name: str
    price: Decimal
    price_ex_vat: Decimal | None = None
    vat: Decimal | None = None
    product_count: Decimal = Decimal(1)
    product_desc: str | None = None
    position: int | None = None
    club_tax_id: int | None = None
    club_tax_name: str | None = None
    club_tax_perc: Decimal | None = None
    income_category: str | None = None
    origin: str | None = None
    contract_id: int | None = None
    retail_product_id: int | None = None
    start_period: dt.date | None = None
    end_period: dt.date | None = None
    deleted: bool = False
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    _KNOWN = (
        "guid",
        "product_name",
        "price",
        "price_ex_vat",
        "vat",
        "product_count",
        "product_desc",
        "position",
        "club_tax_id",
        "club_tax_name",
        "club_tax_perc",
        "income_category",
        "origin",
        "contract_id",
        "retail_product_id",
        "start_period",
        "end_period",
        "deleted",
    )

    @classmethod
    def from_reader(cls, reader: RecordReader) -> InvoiceRow:
        """Decode a row from a reader whose errors name the parent invoice."""
        count = reader.opt_decimal("product_count")
        return cls(
            guid=reader.opt_text("guid", coerce=True) or "",
            product_name=reader.opt_text("product_name") or "",
            price=reader.decimal("price"),
            price_ex_vat=reader.opt_decimal("price_ex_vat"),
            vat=reader.opt_decimal("vat"),
            product_count=Decimal(1) if count is None else count,
            product_desc=reader.opt_text("product_desc"),
            position=reader.opt_integer("position"),
            club_tax_id=reader.opt_integer("club_tax_id"),
            club_tax_name=reader.opt_text("club_tax_name"),
            club_tax_perc=reader.opt_decimal("club_tax_perc"),
            income_category=reader.opt_text("income_category", coerce=True),
            origin=reader.opt_text("origin"),
            contract_id=reader.opt_integer("contract_id"),
            retail_product_id=reader.opt_integer("retail_product_id"),
            start_period=reader.opt_date("start_period"),
            end_period=reader.opt_date("end_period"),
            deleted=reader.flag("deleted", default=False),
            extra=reader.extras(cls._KNOWN),
        )


@attrs.frozen
class VirtuagymInvoice:
    """A Virtuagym invoice with its rows.

    ``guid`` is the key Virtuagym resolves an invoice by; ``id`` is its number (0 while
    the invoice is a concept). ``member_id`` is ``None`` for a guest sale. ``timestamp``
    is the invoice date (stored as local midnight in Europe/Amsterdam),
    ``timestamp_edit`` the last change (the only way to detect changes). ``deleted``
    marks a soft-deleted invoice. ``price`` is the total including VAT.
    """

    guid: str
    id: int
    club_id: int | None
    price: Decimal
    timestamp: dt.datetime
    rows: tuple[InvoiceRow, ...]
    member_id: int | None = None
    business_guid: str | None = None
    contract_id: int | None = None
    name: str | None = None
    desc: str | None = None
    price_ex_vat: Decimal | None = None
    currency: str = "EUR"
    amount_due: Decimal | None = None
    payment_method: str | None = None
    paid: bool = False
    paid_status: int | None = None
    is_concept: bool = False
    is_offer: bool = False
    is_temporary: bool = False
    is_sent: bool = False
    deleted: bool = False
    timestamp_edit: dt.datetime | None = None
    timestamp_created: dt.datetime | None = None
    timestamp_paid: dt.datetime | None = None
    related_invoice: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    _KNOWN = (
        "guid",
        "id",
        "club_id",
        "price",
        "timestamp",
        "rows",
        "member_id",
        "business_guid",
        "contract_id",
        "name",
        "desc",
        "price_ex_vat",
        "currency",
        "amount_due",
        "payment_method",
        "paid",
        "paid_status",
        "is_concept",
        "is_offer",
        "is_temporary",
        "is_sent",
        "deleted",
        "timestamp_edit",
        "timestamp_created",
        "timestamp_paid",
        "invoice_related_invoice",
    )

    @property
    def is_concept_invoice(self) -> bool:
        """A concept (draft) invoice: ``id`` 0 or ``is_concept`` set."""
        return self.id == 0 or self.is_concept

    @classmethod
    def from_json(
        cls, data: Any, *, unit: TimestampUnit = TimestampUnit.SECONDS
    ) -> VirtuagymInvoice:
        """Decode one invoice with its rows; timestamps in ``unit`` (seconds per Virtuagym)."""
        reader = RecordReader(SOURCE, data, id_field="guid")
        rows = tuple(
            InvoiceRow.from_reader(reader.child(row, f"rows[{index}]."))
            for index, row in enumerate(reader.array("rows"))
        )
        member_id = reader.opt_integer("member_id")
        currency = reader.opt_text("currency")
        return cls(
            guid=reader.text("guid", coerce=True),
            id=reader.opt_integer("id") or 0,
            club_id=reader.opt_integer("club_id"),
            price=reader.decimal("price"),
            timestamp=_required_stamp(reader, "timestamp", unit),
            rows=rows,
            member_id=member_id or None,
            business_guid=reader.opt_text("business_guid") or None,
            contract_id=reader.opt_integer("contract_id"),
            name=reader.opt_text("name"),
            desc=reader.opt_text("desc"),
            price_ex_vat=reader.opt_decimal("price_ex_vat"),
            currency=currency or "EUR",
            amount_due=reader.opt_decimal("amount_due"),
            payment_method=reader.opt_text("payment_method"),
            paid=reader.flag("paid", default=False),
            paid_status=reader.opt_integer("paid_status"),
            is_concept=reader.flag("is_concept", default=False),
            is_offer=reader.flag("is_offer", default=False),
            is_temporary=reader.flag("is_temporary", default=False),
            is_sent=reader.flag("is_sent", default=False),
            deleted=reader.flag("deleted", default=False),
            timestamp_edit=_stamp(reader, "timestamp_edit", unit),
            timestamp_created=_stamp(reader, "timestamp_created", unit),
            timestamp_paid=_stamp(reader, "timestamp_paid", unit),
            related_invoice=reader.opt_text("invoice_related_invoice", coerce=True),
            extra=reader.extras(cls._KNOWN),
        )
