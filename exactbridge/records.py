"""Canonical, vendor-neutral business records.

Source adapters (``exactbridge.sources.<vendor>.adapter``) turn each vendor's own
shapes into these records; the mapping functions (:mod:`exactbridge.mapping`) turn
them into Exact Online drafts. Every record keeps the system it came from
(``source``) and its id there (``source_id``), money is :class:`decimal.Decimal`
and dates are :class:`datetime.date`.

The records are frozen attrs classes. Build new versions with :func:`attrs.evolve`.
This module imports neither ``httpx`` nor any client code.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

__all__ = [
    "Address",
    "AmountBasis",
    "Fee",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "Mandate",
    "Party",
    "PartyKind",
    "Payment",
    "Payout",
    "PdfReference",
    "SequenceType",
    "ServicePeriod",
]


def _frozen_mapping(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


def _to_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


class PartyKind(enum.Enum):
    """Whether a party is a natural person or an organisation (company, school...)."""

    PERSON = "person"
    ORGANISATION = "organisation"


class InvoiceStatus(enum.Enum):
    """Life-cycle status of a source invoice, normalised across sources."""

    DRAFT = "draft"
    OPEN = "open"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class AmountBasis(enum.Enum):
    """Whether a line amount includes VAT or excludes it."""

    INCLUDING_VAT = "including_vat"
    EXCLUDING_VAT = "excluding_vat"


class SequenceType(enum.Enum):
    """SEPA direct-debit sequence type of a mandate's collection."""

    FIRST = "FRST"
    RECURRING = "RCUR"
    ONE_OFF = "OOFF"
    FINAL = "FNAL"


@attrs.frozen
class Address:
    """A postal address. ``country`` is an ISO 3166-1 alpha-2 code (``"NL"``)."""

    line1: str | None = None
    line2: str | None = None
    postcode: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None


@attrs.frozen
class ServicePeriod:
    """The period a sale covers (a membership month, a course edition). Both ends inclusive."""

    start: dt.date
    end: dt.date


@attrs.frozen
class PdfReference:
    """Where an invoice PDF can be had: its bytes, or a key the source client fetches it by."""

    filename: str
    data: bytes | None = attrs.field(default=None, repr=False)
    source_key: str | None = None


@attrs.frozen
class Party:
    """The customer of an invoice, with every identifier a debtor policy may choose from.

    ``internal_number`` is the source's own debtor or member number,
    ``external_number`` a number the customer has in another system (Coachview's
    external debtor number), ``extern_ids`` maps a source name to the id the party
    has there (Coachview ``externSource`` -> ``externId``), and ``exact_account_id``
    is the Exact account this party is already linked to, if any.
    """

    source: str
    source_id: str
    name: str
    kind: PartyKind = PartyKind.PERSON
    email: str | None = None
    phone: str | None = None
    address: Address | None = None
    vat_number: str | None = None
    chamber_of_commerce: str | None = None
    internal_number: str | None = None
    external_number: str | None = None
    extern_ids: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)
    exact_account_id: str | None = None
    language: str | None = None


@attrs.frozen
class InvoiceLine:
    """One line of an invoice.

    ``amount`` is the line total (quantity times unit price, after any line discount)
    in the invoice currency; ``amount_basis`` says whether it includes VAT. A discount
    line has ``is_discount=True`` and usually a negative amount. ``vat_category`` is the
    source's own VAT category (an id, a name or a percentage, as text) and ``vat_rate``
    the rate as a fraction (``Decimal("0.21")``) when the source states it.
    ``ledger_account``, ``cost_center`` and ``cost_unit`` are the line's own GL
    account, cost centre and cost unit codes where the source carries them (Coachview's
    ``grootboekrekening`` and ``kostenplaats``); the ledger mapping uses them first.
    """

    description: str
    amount: Decimal
    amount_basis: AmountBasis = AmountBasis.INCLUDING_VAT
    quantity: Decimal = Decimal(1)
    unit_price: Decimal | None = None
    vat_category: str | None = None
    vat_rate: Decimal | None = None
    income_category: str | None = None
    product: str | None = None
    course_template: str | None = None
    course_edition: str | None = None
    is_discount: bool = False
    service_period: ServicePeriod | None = None
    source_line_id: str | None = None
    ledger_account: str | None = None
    cost_center: str | None = None
    cost_unit: str | None = None


@attrs.frozen
class Invoice:
    """A sales invoice (or credit invoice, when its total is negative) from a source system.

    ``party`` is ``None`` for guest sales without a customer record. ``number`` is the
    source's invoice number as text; ``reference`` a payment or order reference;
    ``credited_invoice`` the number of the invoice a credit invoice reverses, when the
    source says so. ``tenant`` identifies the club or institute within the source
    (Virtuagym club id), ``attributes`` keeps further source fields a policy may choose
    from (request number, project code, course code...).
    """

    source: str
    source_id: str
    number: str
    invoice_date: dt.date
    lines: tuple[InvoiceLine, ...] = attrs.field(converter=_to_tuple)
    party: Party | None = None
    currency: str = "EUR"
    due_date: dt.date | None = None
    order_start: dt.date | None = None
    order_end: dt.date | None = None
    service_period: ServicePeriod | None = None
    total_incl_vat: Decimal | None = None
    total_excl_vat: Decimal | None = None
    reference: str | None = None
    description: str | None = None
    feature_text: str | None = None
    credited_invoice: str | None = None
    pdf: PdfReference | None = None
    status: InvoiceStatus = InvoiceStatus.OPEN
    deleted: bool = False
    tenant: str | None = None
    changed_at: dt.datetime | None = None
    attributes: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping)


@attrs.frozen
class Payment:
    """One payment received through a payment provider, part of a payout.

    ``amount`` is what the payer paid (positive; a refund or chargeback is negative).
    ``reference`` is the provider's order reference, ``invoice_reference`` the
    invoice number the payment is for, where known.
    """

    source: str
    source_id: str
    amount: Decimal
    date: dt.date
    reference: str | None = None
    invoice_reference: str | None = None
    payer_name: str | None = None
    payer_iban: str | None = None
    revenue_group: str | None = None
    description: str | None = None
    currency: str = "EUR"


@attrs.frozen
class Fee:
    """A cost the payment provider withheld from a payout (transaction or subscription fee).

    ``amount`` is positive for a cost; ``vat_amount`` the VAT part of it, if stated.
    """

    amount: Decimal
    description: str
    revenue_group: str | None = None
    vat_amount: Decimal | None = None
    date: dt.date | None = None
    source_id: str | None = None


@attrs.frozen
class Payout:
    """A settlement: money a payment provider transferred to the merchant's bank account.

    ``amount`` is the net amount transferred; it equals the sum of the payments minus
    the sum of the fees (the mapping functions check this and say so when it does not).
    """

    source: str
    source_id: str
    date: dt.date
    amount: Decimal
    payments: tuple[Payment, ...] = attrs.field(converter=_to_tuple)
    fees: tuple[Fee, ...] = attrs.field(factory=tuple, converter=_to_tuple)
    currency: str = "EUR"
    reference: str | None = None
    revenue_group: str | None = None


@attrs.frozen
class Mandate:
    """A SEPA direct-debit mandate (from Club-assistent's collection files)."""

    source: str
    mandate_id: str
    signature_date: dt.date
    iban: str
    holder: str
    sequence_type: SequenceType = SequenceType.RECURRING
    bic: str | None = None
    party_source_id: str | None = None
