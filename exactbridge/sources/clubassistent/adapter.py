"""Club-assistent records -> canonical records (pure: no I/O, no clock).

* :func:`invoice_to_record`: a CSV invoice -> :class:`~exactbridge.records.Invoice`
  whose lines are amounts INCLUDING VAT (the seed: the GL accounts in Exact carry
  VAT-inclusive VAT codes), with the member as its party;
* :func:`member_to_party`: a member -> :class:`~exactbridge.records.Party` (the member
  number is the internal number);
* :func:`direct_debit_to_mandate` / :func:`mandates_from_direct_debits`: the mandates
  in a pain.008 file -> :class:`~exactbridge.records.Mandate`, linked to the member
  through the invoice each collection refers to (end-to-end id = invoice number).

Example::

    invoices = [invoice_to_record(i) for i in InvoiceCsvReader().read("f.csv").records]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import attrs

from exactbridge.records import (
    Address,
    AmountBasis,
    Invoice,
    InvoiceLine,
    Mandate,
    Party,
    PartyKind,
    SequenceType,
)

from .models import SOURCE, ClubInvoice, ClubMember, DirectDebit

__all__ = [
    "direct_debit_to_mandate",
    "invoice_to_record",
    "mandates_from_direct_debits",
    "member_to_party",
]

_SEQUENCE = {
    "FRST": SequenceType.FIRST,
    "RCUR": SequenceType.RECURRING,
    "OOFF": SequenceType.ONE_OFF,
    "FNAL": SequenceType.FINAL,
}


def member_to_party(member: ClubMember) -> Party:
    """A member as a :class:`~exactbridge.records.Party` (a person; number = internal number)."""
    address = None
    if member.address or member.postcode or member.city:
        address = Address(
            line1=member.address, postcode=member.postcode, city=member.city, country="NL"
        )
    return Party(
        source=SOURCE,
        source_id=member.number,
        name=member.name,
        kind=PartyKind.PERSON,
        email=member.email,
        address=address,
        internal_number=member.number,
    )


def invoice_to_record(invoice: ClubInvoice, *, tenant: str | None = None) -> Invoice:
    """A CSV invoice as a canonical :class:`~exactbridge.records.Invoice`.

    Line amounts include VAT (``AmountBasis.INCLUDING_VAT``); ``vat_category`` is the
    rate as a percentage text (``"21"``) for the VAT mapping. The payment method and the
    columns the mapping did not know are kept in ``attributes`` (``payment_method``,
    ``payment_method_text`` and ``extra.<header>``). A negative total stays negative.
    """
    # A discount is a line whose sign is opposite to the invoice's: every line of a
    # credit invoice is negative, and none of them is a discount.
    credit = sum((line.amount for line in invoice.lines), Decimal(0)) < 0
    lines = tuple(
        InvoiceLine(
            description=line.description,
            amount=line.amount,
            amount_basis=AmountBasis.INCLUDING_VAT,
            unit_price=line.amount,
            vat_rate=line.vat_rate,
            vat_category=None if line.vat_rate is None else _percent(line.vat_rate),
            is_discount=line.amount > 0 if credit else line.amount < 0,
            source_line_id=f"{invoice.number}:{index}",
        )
        for index, line in enumerate(invoice.lines, start=1)
    )
    attributes = {"payment_method": invoice.payment_method.value}
    if invoice.payment_method_text:
        attributes["payment_method_text"] = invoice.payment_method_text
    for key, value in invoice.extra.items():
        attributes[f"extra.{key}"] = value
    return Invoice(
        source=SOURCE,
        source_id=invoice.number,
        number=invoice.number,
        invoice_date=invoice.invoice_date,
        due_date=invoice.due_date,
        lines=lines,
        party=member_to_party(invoice.member),
        total_incl_vat=invoice.total,
        description=invoice.description,
        reference=invoice.number,
        tenant=tenant,
        attributes=attributes,
    )


def _percent(rate: object) -> str:
    from decimal import Decimal

    assert isinstance(rate, Decimal)
    value = (rate * 100).normalize()
    return format(value, "f")


def direct_debit_to_mandate(debit: DirectDebit, *, party_source_id: str | None = None) -> Mandate:
    """The mandate a collection ran under, as a canonical :class:`~exactbridge.records.Mandate`."""
    return Mandate(
        source=SOURCE,
        mandate_id=debit.mandate_id,
        signature_date=debit.mandate_signature_date,
        iban=debit.debtor_iban,
        holder=debit.debtor_name,
        sequence_type=_SEQUENCE[debit.sequence_type],
        bic=debit.debtor_bic,
        party_source_id=party_source_id,
    )


def mandates_from_direct_debits(
    debits: Iterable[DirectDebit],
    *,
    invoices: Iterable[ClubInvoice] = (),
    member_by_invoice: Mapping[str, str] | None = None,
) -> tuple[Mandate, ...]:
    """One mandate per mandate id, linked to its member where the invoice is known.

    A collection's end-to-end id (or instruction id) is the invoice number; the member
    of that invoice (from ``invoices`` or ``member_by_invoice``) becomes the mandate's
    ``party_source_id``. When a mandate appears several times, the first occurrence
    wins, except that a ``RCUR`` occurrence replaces an earlier ``FRST`` one (once the
    first collection ran, Exact must collect recurrently).
    """
    members = dict(member_by_invoice or {})
    for invoice in invoices:
        members.setdefault(invoice.number, invoice.member.number)
    found: dict[str, Mandate] = {}
    for debit in debits:
        member = members.get(debit.end_to_end_id)
        if member is None and debit.instruction_id is not None:
            member = members.get(debit.instruction_id)
        mandate = direct_debit_to_mandate(debit, party_source_id=member)
        known = found.get(mandate.mandate_id)
        if known is None:
            found[mandate.mandate_id] = mandate
            continue
        if (
            known.sequence_type is SequenceType.FIRST
            and mandate.sequence_type is SequenceType.RECURRING
        ):
            known = attrs.evolve(known, sequence_type=SequenceType.RECURRING)
        if known.party_source_id is None and mandate.party_source_id is not None:
            known = attrs.evolve(known, party_source_id=mandate.party_source_id)
        found[mandate.mandate_id] = known
    return tuple(found.values())
