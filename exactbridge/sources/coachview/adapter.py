"""Coachview invoices -> canonical records (pure: no I/O, no clock).

:func:`invoice_to_record` builds an :class:`~exactbridge.records.Invoice` whose party
(:func:`debtor_to_party`) carries all three debtor numbers the Coachview/Exact link
lets a user choose from, in this order of the seed's options:

1. ``Party.internal_number``: the debtor number Coachview assigns (``debiteurnummer``);
   the debtor policy's prefix applies to this one only;
2. ``Party.external_number``: the external debtor number (``debiteurnummerExtern``);
3. ``Party.extern_ids[<externSource>]``: the ``externId`` of the debtor's company or
   person, keyed by its ``externSource`` (the "CompanyPersonalExternID" option).

The invoice keeps ``order_start``/``order_end`` for the booking-period policy and the
fields the project-code option can choose from in ``attributes``:
``request_number`` (aanvraagnummer), ``request_reference`` (reference number given
with the request), ``invoice_reference`` (the invoice's reference number),
``course_code`` and ``course_definition_code``. Line amounts exclude VAT. A negative
invoice stays negative (the credit-note policy decides).

Example::

    record = invoice_to_record(bundle.invoice, bundle.debtor, company=bundle.company)
"""

from __future__ import annotations

from decimal import Decimal

from exactbridge.records import (
    Address,
    AmountBasis,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Party,
    PartyKind,
)

from .models import SOURCE, CvAddress, CvCompany, CvDebtor, CvInvoice, CvInvoiceLine, CvPerson

__all__ = [
    "ATTRIBUTE_KEYS",
    "STATUS_MAP",
    "debtor_to_party",
    "invoice_to_record",
]

#: The ``Invoice.attributes`` keys this adapter fills (project-code option and more).
ATTRIBUTE_KEYS = (
    "request_number",
    "request_reference",
    "invoice_reference",
    "course_code",
    "course_definition_code",
    "request_id",
    "cost_center",
)

#: Coachview invoice status text (lower case) -> canonical status (UNVERIFIED values).
STATUS_MAP = {
    "concept": InvoiceStatus.DRAFT,
    "definitief": InvoiceStatus.OPEN,
    "verzonden": InvoiceStatus.OPEN,
    "open": InvoiceStatus.OPEN,
    "betaald": InvoiceStatus.PAID,
    "vervallen": InvoiceStatus.EXPIRED,
    "geannuleerd": InvoiceStatus.CANCELLED,
}


def _address(address: CvAddress | None) -> Address | None:
    if address is None:
        return None
    return Address(
        line1=address.lines[0] if address.lines else None,
        line2=", ".join(address.lines[1:]) or None,
        postcode=address.postcode,
        city=address.city,
        country=address.country,
    )


def debtor_to_party(
    debtor: CvDebtor, *, company: CvCompany | None = None, person: CvPerson | None = None
) -> Party:
    """A debtor (with its company or person) as a :class:`~exactbridge.records.Party`."""
    extern: dict[str, str] = {}
    for owner in (company, person):
        if owner is not None and owner.extern_source and owner.extern_id:
            extern.setdefault(owner.extern_source, owner.extern_id)
    organisation = company is not None and not debtor.private
    name = debtor.name or (
        company.name if company is not None else person.full_name if person is not None else None
    )
    address = debtor.invoice_address
    for owner in (company, person):
        if address is None and owner is not None:
            address = owner.invoice_address or owner.address
    email = (
        debtor.email or (company.email if company else None) or (person.email if person else None)
    )
    return Party(
        source=SOURCE,
        source_id=debtor.id,
        name=name or debtor.number or debtor.id,
        kind=PartyKind.ORGANISATION if organisation else PartyKind.PERSON,
        email=email,
        phone=(company.phone if company else None) or (person.phone if person else None),
        address=_address(address),
        vat_number=debtor.vat_number,
        chamber_of_commerce=company.chamber_of_commerce if company else None,
        internal_number=debtor.number,
        external_number=debtor.external_number,
        extern_ids=extern,
    )


def _line(line: CvInvoiceLine, *, credit: bool = False) -> InvoiceLine:
    rate = None if line.vat_percentage is None else line.vat_percentage / Decimal(100)
    category = line.vat_code or (
        None if line.vat_percentage is None else format(line.vat_percentage.normalize(), "f")
    )
    return InvoiceLine(
        description=line.description,
        amount=line.amount_excl_vat,
        amount_basis=AmountBasis.EXCLUDING_VAT,
        quantity=line.quantity,
        unit_price=line.unit_price,
        vat_category=category,
        vat_rate=rate,
        income_category=line.ledger_account,
        ledger_account=line.ledger_account,
        cost_center=line.cost_center,
        course_template=line.course_definition_code,
        course_edition=line.course_code,
        # A discount runs against the invoice's sign: on a credit invoice every line is
        # negative and none is a discount; a positive line on it would be one.
        is_discount=(line.amount_excl_vat > 0)
        if credit
        else (line.amount_excl_vat < 0 and line.unit_price is not None and line.unit_price < 0),
        source_line_id=line.id,
    )


def invoice_to_record(
    invoice: CvInvoice,
    debtor: CvDebtor,
    *,
    company: CvCompany | None = None,
    person: CvPerson | None = None,
    tenant: str | None = None,
) -> Invoice:
    """A Coachview invoice as a canonical :class:`~exactbridge.records.Invoice`.

    Each line carries its own ledger account (``grootboekrekening``, also as its
    ``income_category`` so ``ledger.by_income_category`` can remap it) and cost centre
    (``kostenplaats``); ``course_edition``/``course_template`` are its course and
    course-definition codes. ``attributes["cost_center"]`` holds the cost centre when
    all lines share one.
    """
    attributes: dict[str, str] = {}
    for key, value in (
        ("request_number", invoice.request_number),
        ("request_reference", invoice.request_reference),
        ("invoice_reference", invoice.reference_number),
        ("course_code", invoice.course_code),
        ("course_definition_code", invoice.course_definition_code),
        ("request_id", invoice.request_id),
    ):
        if value:
            attributes[key] = value
    centers = {line.cost_center for line in invoice.lines if line.cost_center}
    if len(centers) == 1:
        attributes["cost_center"] = centers.pop()
    total_excl = invoice.total_excl_vat
    if total_excl is None:
        total_excl = sum((line.amount_excl_vat for line in invoice.lines), Decimal(0))
    return Invoice(
        source=SOURCE,
        source_id=invoice.id,
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        lines=tuple(_line(line, credit=total_excl < 0) for line in invoice.lines),
        party=debtor_to_party(debtor, company=company, person=person),
        currency=invoice.currency,
        due_date=invoice.due_date,
        order_start=invoice.order_start,
        order_end=invoice.order_end,
        total_incl_vat=invoice.total_incl_vat,
        total_excl_vat=total_excl,
        reference=invoice.reference_number,
        description=invoice.description,
        status=STATUS_MAP.get((invoice.status or "").lower(), InvoiceStatus.OPEN),
        tenant=tenant,
        changed_at=invoice.changed_at,
        attributes=attributes,
    )
