"""Eduframe's own shapes (Admin API v1), typed.

Field names are Eduframe's (already snake_case). Money arrives as decimal **strings**
(``"121.00"``) and stays an exact :class:`~decimal.Decimal`; dates are
:class:`datetime.date`, ``created_at``/``updated_at`` aware datetimes. Each model's
``from_json`` raises :class:`~exactbridge.errors.SourceRecordError` naming the record
(``invoice 17``...) and the field; unknown fields are kept in ``extra``.
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
    "Account",
    "AccountType",
    "CatalogVariant",
    "Course",
    "DiscountCode",
    "EduframeAddress",
    "EduframeInvoice",
    "EduframeInvoiceStatus",
    "InvoiceItem",
    "InvoiceVat",
    "Order",
    "Payment",
    "PlannedCourse",
    "User",
]

#: The source name used in errors and canonical records.
SOURCE = "eduframe"


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _reader(data: Any, kind: str) -> RecordReader:
    raw = data.get("id") if isinstance(data, Mapping) else None
    known = isinstance(raw, (int, str)) and not isinstance(raw, bool) and str(raw)
    return RecordReader(SOURCE, data, record_id=f"{kind} {str(raw)[:40] if known else '?'}")


def _flexible_date(reader: RecordReader, field: str) -> dt.date | None:
    """A ``date`` field that older API versions send as a full timestamp."""
    value = reader.data.get(field)
    if isinstance(value, str) and len(value) > 10:
        stamp = reader.opt_datetime(field)
        return stamp.date() if stamp is not None else None
    return reader.opt_date(field)


class EduframeInvoiceStatus(enum.Enum):
    """An invoice's life cycle: concept -> open (number, dates assigned) -> paid / expired."""

    CONCEPT = "concept"
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"


class AccountType(enum.Enum):
    """Whether an account is an organisation (``business``) or a person (``personal``)."""

    BUSINESS = "business"
    PERSONAL = "personal"


def _enum(reader: RecordReader, field: str, kind: type[enum.Enum]) -> Any:
    text = reader.text(field)
    try:
        return kind(text)
    except ValueError:
        options = " | ".join(str(member.value) for member in kind)
        raise reader.error(field, "unknown value", options, text) from None


@attrs.frozen
class EduframeAddress:
    """A postal address (``address`` holds street and number in one string)."""

    address: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    state_province: str | None = None
    addressee: str | None = None

    @classmethod
    def from_reader(cls, reader: RecordReader) -> EduframeAddress:
        """Decode a nested address (errors name the parent record)."""
        return cls(
            address=reader.opt_text("address"),
            address_line2=reader.opt_text("address_line2"),
            postal_code=reader.opt_text("postal_code", coerce=True),
            city=reader.opt_text("city"),
            country=reader.opt_text("country"),
            state_province=reader.opt_text("state_province"),
            addressee=reader.opt_text("addressee"),
        )


def _address(reader: RecordReader) -> EduframeAddress | None:
    raw = reader.opt_object("address")
    return None if raw is None else EduframeAddress.from_reader(reader.child(raw, "address."))


@attrs.frozen
class Account:
    """An account: the paying party of an invoice (business or personal).

    ``custom`` holds the custom fields by slug (the VAT number lives there under a
    tenant-defined slug, ``vat_number`` by convention).
    """

    id: int
    name: str
    account_type: AccountType = AccountType.PERSONAL
    email: str | None = None
    phone: str | None = None
    address: EduframeAddress | None = None
    custom: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    _KNOWN = ("id", "name", "account_type", "email", "phone", "address", "custom")

    @classmethod
    def from_json(cls, data: Any) -> Account:
        """Decode one account."""
        reader = _reader(data, "account")
        account_type = AccountType.PERSONAL
        if reader.has("account_type"):
            account_type = _enum(reader, "account_type", AccountType)
        return cls(
            id=reader.integer("id"),
            name=reader.text("name"),
            account_type=account_type,
            email=reader.opt_text("email") or None,
            phone=reader.opt_text("phone", coerce=True) or None,
            address=_address(reader),
            custom=reader.opt_object("custom") or {},
            created_at=reader.opt_datetime("created_at"),
            updated_at=reader.opt_datetime("updated_at"),
            extra=reader.extras((*cls._KNOWN, "created_at", "updated_at")),
        )


@attrs.frozen
class User:
    """A person (student, customer, teacher)."""

    id: int
    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    roles: tuple[str, ...] = ()
    student_number: str | None = None
    address: EduframeAddress | None = None
    custom: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen)
    updated_at: dt.datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    @property
    def full_name(self) -> str:
        """First, middle and last name joined."""
        parts = (self.first_name, self.middle_name, self.last_name)
        return " ".join(part for part in parts if part)

    @classmethod
    def from_json(cls, data: Any) -> User:
        """Decode one user."""
        reader = _reader(data, "user")
        roles = tuple(str(role) for role in reader.array("roles", required=False))
        known = ("id", "first_name", "middle_name", "last_name", "email", "roles")
        return cls(
            id=reader.integer("id"),
            first_name=reader.opt_text("first_name"),
            middle_name=reader.opt_text("middle_name"),
            last_name=reader.opt_text("last_name"),
            email=reader.opt_text("email"),
            roles=roles,
            student_number=reader.opt_text("student_number", coerce=True),
            address=_address(reader),
            custom=reader.opt_object("custom") or {},
            updated_at=reader.opt_datetime("updated_at"),
            extra=reader.extras((*known, "student_number", "address", "custom", "updated_at")),
        )


@attrs.frozen
class InvoiceVat:
    """A VAT code of the educator; ``percentage`` is a percentage (``Decimal("21.0")``)."""

    id: int
    name: str
    percentage: Decimal
    has_vat: bool = True

    @property
    def rate(self) -> Decimal:
        """The rate as a fraction (``0.21``); 0 when ``has_vat`` is false."""
        return (
            (self.percentage / 100).normalize() if self.has_vat and self.percentage else Decimal(0)
        )

    @classmethod
    def from_json(cls, data: Any) -> InvoiceVat:
        """Decode one invoice VAT."""
        reader = _reader(data, "invoice_vat")
        return cls(
            id=reader.integer("id"),
            name=reader.text("name"),
            percentage=reader.decimal("percentage"),
            has_vat=reader.flag("has_vat", default=True),
        )


@attrs.frozen
class Course:
    """A course template."""

    id: int
    name: str
    code: str | None = None
    slug: str | None = None
    category_id: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> Course:
        """Decode one course template."""
        reader = _reader(data, "course")
        return cls(
            id=reader.integer("id"),
            name=reader.text("name"),
            code=reader.opt_text("code", coerce=True),
            slug=reader.opt_text("slug"),
            category_id=reader.opt_integer("category_id"),
            extra=reader.extras(("id", "name", "code", "slug", "category_id")),
        )


@attrs.frozen
class PlannedCourse:
    """A course edition (a planned course) of a template (``course_id``)."""

    id: int
    course_id: int
    status: str | None = None
    type: str | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    cost: Decimal | None = None
    cost_multiplier: Decimal | None = None
    currency: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> PlannedCourse:
        """Decode one planned course."""
        reader = _reader(data, "planned_course")
        known = ("id", "course_id", "status", "type", "start_date", "end_date", "cost")
        return cls(
            id=reader.integer("id"),
            course_id=reader.integer("course_id"),
            status=reader.opt_text("status"),
            type=reader.opt_text("type"),
            start_date=_flexible_date(reader, "start_date"),
            end_date=_flexible_date(reader, "end_date"),
            cost=reader.opt_decimal("cost"),
            cost_multiplier=reader.opt_decimal("cost_multiplier"),
            currency=reader.opt_text("currency"),
            extra=reader.extras((*known, "cost_multiplier", "currency")),
        )


@attrs.frozen
class CatalogVariant:
    """A sellable catalog variant; ``variantable`` is a planned course or a program edition."""

    id: int
    variantable_type: str | None = None
    variantable_id: int | None = None
    product_id: int | None = None
    sku: str | None = None
    cost: Decimal | None = None
    currency: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> CatalogVariant:
        """Decode one catalog variant."""
        reader = _reader(data, "catalog_variant")
        known = ("id", "variantable_type", "variantable_id", "product_id", "sku", "cost")
        return cls(
            id=reader.integer("id"),
            variantable_type=reader.opt_text("variantable_type"),
            variantable_id=reader.opt_integer("variantable_id"),
            product_id=reader.opt_integer("product_id"),
            sku=reader.opt_text("sku", coerce=True),
            cost=reader.opt_decimal("cost"),
            currency=reader.opt_text("currency"),
            extra=reader.extras((*known, "currency")),
        )


@attrs.frozen
class DiscountCode:
    """A discount code (``amount`` is a JSON number: euros or a percentage)."""

    id: int
    discount_code: str
    name: str | None = None
    discount_type: str | None = None
    amount: Decimal | None = None
    start_date: dt.date | None = None
    expiration_date: dt.date | None = None

    @classmethod
    def from_json(cls, data: Any) -> DiscountCode:
        """Decode one discount code."""
        reader = _reader(data, "discount_code")
        return cls(
            id=reader.integer("id"),
            discount_code=reader.text("discount_code"),
            name=reader.opt_text("name"),
            discount_type=reader.opt_text("discount_type"),
            amount=reader.opt_decimal("amount"),
            start_date=_flexible_date(reader, "start_date"),
            expiration_date=_flexible_date(reader, "expiration_date"),
        )


@attrs.frozen
class Order:
    """An order (sign-up); may carry a ``discount_code`` and its ``total_discount``."""

    id: int
    number: int | None = None
    status: str | None = None
    account_id: int | None = None
    catalog_variant_id: int | None = None
    discount_code: str | None = None
    total_discount: Decimal | None = None
    total_cost_excl: Decimal | None = None
    total_cost_incl: Decimal | None = None
    created_at: dt.datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    @classmethod
    def from_json(cls, data: Any) -> Order:
        """Decode one order."""
        reader = _reader(data, "order")
        known = ("id", "number", "status", "account_id", "catalog_variant_id", "discount_code")
        more = ("total_discount", "total_cost_excl", "total_cost_incl", "created_at")
        return cls(
            id=reader.integer("id"),
            number=reader.opt_integer("number"),
            status=reader.opt_text("status"),
            account_id=reader.opt_integer("account_id"),
            catalog_variant_id=reader.opt_integer("catalog_variant_id"),
            discount_code=reader.opt_text("discount_code") or None,
            total_discount=reader.opt_decimal("total_discount"),
            total_cost_excl=reader.opt_decimal("total_cost_excl"),
            total_cost_incl=reader.opt_decimal("total_cost_incl"),
            created_at=reader.opt_datetime("created_at"),
            extra=reader.extras((*known, *more)),
        )


@attrs.frozen
class Payment:
    """A payment on an invoice (``status`` new|open|paid|failed|internal_server_error)."""

    id: int
    invoice_id: int | None
    amount: Decimal
    currency: str | None = None
    status: str | None = None
    payment_method_id: int | None = None
    gateway_id: int | None = None
    date: dt.date | None = None

    @classmethod
    def from_json(cls, data: Any) -> Payment:
        """Decode one payment."""
        reader = _reader(data, "payment")
        return cls(
            id=reader.integer("id"),
            invoice_id=reader.opt_integer("invoice_id"),
            amount=reader.decimal("amount"),
            currency=reader.opt_text("currency"),
            status=reader.opt_text("status"),
            payment_method_id=reader.opt_integer("payment_method_id"),
            gateway_id=reader.opt_integer("gateway_id"),
            date=_flexible_date(reader, "date"),
        )


@attrs.frozen
class InvoiceItem:
    """One invoice item: ``units`` times ``unit_price`` (no line total or VAT amount is sent)."""

    id: int | None
    name: str
    units: Decimal
    unit_price: Decimal
    invoice_vat_id: int | None = None
    catalog_variant_id: int | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    @classmethod
    def from_reader(cls, reader: RecordReader) -> InvoiceItem:
        """Decode an item (errors name the parent invoice)."""
        known = ("id", "name", "units", "unit_price", "invoice_vat_id", "catalog_variant_id")
        return cls(
            id=reader.opt_integer("id"),
            name=reader.opt_text("name") or "",
            units=reader.decimal("units"),
            unit_price=reader.decimal("unit_price"),
            invoice_vat_id=reader.opt_integer("invoice_vat_id"),
            catalog_variant_id=reader.opt_integer("catalog_variant_id"),
            extra=reader.extras((*known, "created_at", "updated_at")),
        )


@attrs.frozen
class EduframeInvoice:
    """An Eduframe invoice with its items.

    ``number`` is assigned when the invoice is opened (``None`` while concept), as are
    ``opened_at`` (the invoice date) and ``expiration_date`` (the due date).
    ``reference_id`` is the payment reference. ``total_open`` shrinks as payments post.
    """

    id: int
    status: EduframeInvoiceStatus
    account_id: int
    total_incl: Decimal
    total_excl: Decimal
    invoice_items: tuple[InvoiceItem, ...]
    number: str | None = None
    number_int: int | None = None
    reference_id: str | None = None
    opened_at: dt.date | None = None
    expiration_date: dt.date | None = None
    description: str | None = None
    feature: str | None = None
    footnote: str | None = None
    account_name: str | None = None
    order_id: int | None = None
    order_number: int | None = None
    currency: str = "EUR"
    total_open: Decimal | None = None
    pdf_url: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    _KNOWN = (
        "id",
        "status",
        "account_id",
        "total_incl",
        "total_excl",
        "invoice_items",
        "number",
        "number_int",
        "reference_id",
        "opened_at",
        "expiration_date",
        "description",
        "feature",
        "footnote",
        "account_name",
        "order_id",
        "order_number",
        "currency",
        "total_open",
        "pdf_url",
        "created_at",
        "updated_at",
    )

    @classmethod
    def from_json(cls, data: Any) -> EduframeInvoice:
        """Decode one invoice with its items."""
        reader = _reader(data, "invoice")
        items = tuple(
            InvoiceItem.from_reader(reader.child(item, f"invoice_items[{index}]."))
            for index, item in enumerate(reader.array("invoice_items", required=False))
        )
        return cls(
            id=reader.integer("id"),
            status=_enum(reader, "status", EduframeInvoiceStatus),
            account_id=reader.integer("account_id"),
            total_incl=reader.decimal("total_incl"),
            total_excl=reader.decimal("total_excl"),
            invoice_items=items,
            number=reader.opt_text("number", coerce=True) or None,
            number_int=reader.opt_integer("number_int"),
            reference_id=reader.opt_text("reference_id", coerce=True) or None,
            opened_at=_flexible_date(reader, "opened_at"),
            expiration_date=_flexible_date(reader, "expiration_date"),
            description=reader.opt_text("description"),
            feature=reader.opt_text("feature"),
            footnote=reader.opt_text("footnote"),
            account_name=reader.opt_text("account_name"),
            order_id=reader.opt_integer("order_id"),
            order_number=reader.opt_integer("order_number"),
            currency=reader.opt_text("currency") or "EUR",
            total_open=reader.opt_decimal("total_open"),
            pdf_url=reader.opt_text("pdf_url"),
            created_at=reader.opt_datetime("created_at"),
            updated_at=reader.opt_datetime("updated_at"),
            extra=reader.extras((*cls._KNOWN, "xml_url")),
        )
