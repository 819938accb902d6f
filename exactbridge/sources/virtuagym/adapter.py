"""Virtuagym invoices and members -> canonical records (pure: no I/O, no clock).

How Virtuagym's shapes become :class:`~exactbridge.records.Invoice`:

* ``source_id`` is the invoice ``guid``; ``number`` the numeric ``id`` (configurable: it
  is UNCERTAIN whether the club's printed number equals ``id``); ``tenant`` the club id,
  so a numbering policy can prefix it ("add club ID to invoice number").
* ``invoice_date`` is ``timestamp`` read as a local date in Europe/Amsterdam (Virtuagym
  stores the invoice date as local midnight: 22:00/23:00 UTC the day before).
* the party comes from the member (``None`` for a guest sale without ``member_id``);
* each row becomes a line with ``amount`` = row ``price`` (including VAT),
  ``vat_category`` = the numeric ``club_tax_id`` as text, ``vat_rate`` from
  ``club_tax_perc`` (or the club-tax list), ``income_category`` by name and the row's
  ``start_period``..``end_period`` as service period. A row whose sign is opposite to
  the invoice total (a negative row on a normal invoice) is a discount.
* a negative total is a credit invoice; ``credited_invoice`` is Virtuagym's
  ``invoice_related_invoice`` when present (the credited invoice's number when
  :meth:`VirtuagymAdapter.adapt_all` sees that invoice too, else its guid).
  ``deleted`` invoices keep their content and are flagged ``deleted=True``; deleted
  rows of a live invoice are dropped.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from exactbridge.errors import ConfigurationError, SourceRecordError
from exactbridge.records import (
    Address,
    AmountBasis,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Party,
    PartyKind,
    ServicePeriod,
)
from exactbridge.sources.virtuagym.models import (
    SOURCE,
    ClubTax,
    IncomeCategory,
    InvoiceRow,
    Member,
    PaidStatus,
    VirtuagymInvoice,
)

__all__ = [
    "VirtuagymAdapter",
    "VirtuagymAdapterConfig",
    "adapt_invoice",
    "adapt_member",
    "invoice_date",
]

_NUMBER_FIELDS = ("id", "guid")
_CATEGORY_MATCHES = ("raw", "name", "name_id", "either")
_MISSING_MEMBER = ("error", "anonymous")
_INTERNAL_NUMBERS = ("club_member_id", "member_id")


def _one_of(options: tuple[str, ...]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in options:
            raise ConfigurationError(
                f"unknown value {value!r}", key=attribute.name, expected=" | ".join(options)
            )

    return check


@attrs.frozen
class VirtuagymAdapterConfig:
    """Choices the adapter makes where Virtuagym's documentation leaves room.

    * ``number_field``: ``"id"`` (default; the numeric invoice id, UNCERTAIN whether it
      is the printed number) or ``"guid"``.
    * ``income_category_match``: how a row's ``income_category`` text is resolved against
      ``/income-categories``: ``"raw"`` keeps the text; ``"name"`` / ``"name_id"`` /
      ``"either"`` look it up by ``income_category_name``, ``name_id`` or both and yield
      the category's name (an unknown category is an error naming the row).
    * ``missing_member``: an invoice whose member is not in the lookup raises
      (``"error"``) or gets a party holding just the member id (``"anonymous"``).
    * ``internal_number``: the party's debtor-number candidate: the club's own
      ``club_member_id`` (falling back to ``member_id``) or always ``member_id``.
    * ``check_amounts``: verify ``price_ex_vat + vat == price`` per row and that the
      rows add up to the invoice ``price``.
    * ``timezone``: the zone invoice dates are read in.
    """

    number_field: str = attrs.field(default="id", validator=_one_of(_NUMBER_FIELDS))
    income_category_match: str = attrs.field(default="raw", validator=_one_of(_CATEGORY_MATCHES))
    missing_member: str = attrs.field(default="error", validator=_one_of(_MISSING_MEMBER))
    internal_number: str = attrs.field(
        default="club_member_id", validator=_one_of(_INTERNAL_NUMBERS)
    )
    check_amounts: bool = True
    timezone: str = "Europe/Amsterdam"


def invoice_date(invoice: VirtuagymInvoice, timezone: str = "Europe/Amsterdam") -> dt.date:
    """The invoice date: ``timestamp`` as a local date in ``timezone``.

    >>> from exactbridge.sources.virtuagym.models import unix_to_datetime, TimestampUnit
    >>> stamp = unix_to_datetime(1509055200, TimestampUnit.SECONDS)  # 2017-10-26T22:00Z
    >>> stamp.astimezone(zoneinfo.ZoneInfo("Europe/Amsterdam")).date()
    datetime.date(2017, 10, 27)
    """
    return invoice.timestamp.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def adapt_member(member: Member, *, internal_number: str = "club_member_id") -> Party:
    """A member as a canonical :class:`~exactbridge.records.Party` (a person).

    ``extern_ids["virtuagym"]`` is the member id; ``internal_number`` the club's own
    member number (or the member id, see :class:`VirtuagymAdapterConfig`).
    """
    has_address = any((member.street, member.zip, member.place, member.country))
    address = (
        Address(
            line1=member.street,
            line2=member.street_extra,
            postcode=member.zip,
            city=member.place,
            country=member.country.upper() if member.country else None,
        )
        if has_address
        else None
    )
    number = str(member.member_id)
    if internal_number == "club_member_id" and member.club_member_id:
        number = member.club_member_id
    return Party(
        source=SOURCE,
        source_id=str(member.member_id),
        name=member.full_name or f"Virtuagym member {member.member_id}",
        kind=PartyKind.PERSON,
        email=member.email,
        phone=member.mobile or member.phone,
        address=address,
        internal_number=number,
        external_number=member.external_id,
        extern_ids={SOURCE: str(member.member_id)},
        language=member.lang,
    )


def _error(
    invoice: VirtuagymInvoice, field: str, message: str, expected: str, value: object
) -> SourceRecordError:
    return SourceRecordError(
        message, source=SOURCE, record_id=invoice.guid, field=field, expected=expected, value=value
    )


class VirtuagymAdapter:
    """Turns Virtuagym invoices into canonical invoices, given the club's lookups.

    ``members`` maps ``member_id`` to :class:`Member`; ``club_taxes`` and
    ``income_categories`` are the club's lists (optional: rows carry their own tax
    percentage and category name). ``club_id`` is the tenant when an invoice lacks one.

    >>> adapter = VirtuagymAdapter(members={}, club_id=8633)
    >>> adapter.config.number_field
    'id'
    """

    def __init__(
        self,
        *,
        members: Mapping[int, Member] | Iterable[Member] = (),
        club_taxes: Iterable[ClubTax] = (),
        income_categories: Iterable[IncomeCategory] = (),
        club_id: int | None = None,
        config: VirtuagymAdapterConfig | None = None,
    ):
        self.config = config or VirtuagymAdapterConfig()
        if isinstance(members, Mapping):
            self.members: dict[int, Member] = dict(members)
        else:
            self.members = {member.member_id: member for member in members}
        self.taxes = {tax.club_tax_id: tax for tax in club_taxes if tax.club_tax_id is not None}
        self.categories = list(income_categories)
        self.club_id = club_id
        self._zone = zoneinfo.ZoneInfo(self.config.timezone)
        self._parties: dict[int, Party] = {}

    def party(self, invoice: VirtuagymInvoice) -> Party | None:
        """The invoice's party: its member, or ``None`` for a guest sale."""
        if invoice.member_id is None:
            return None
        cached = self._parties.get(invoice.member_id)
        if cached is not None:
            return cached
        member = self.members.get(invoice.member_id)
        if member is None:
            if self.config.missing_member == "error":
                raise _error(
                    invoice,
                    "member_id",
                    "member not found",
                    "a member of the club",
                    invoice.member_id,
                )
            party = Party(
                source=SOURCE,
                source_id=str(invoice.member_id),
                name=f"Virtuagym member {invoice.member_id}",
                internal_number=str(invoice.member_id),
                extern_ids={SOURCE: str(invoice.member_id)},
            )
        else:
            party = adapt_member(member, internal_number=self.config.internal_number)
        self._parties[invoice.member_id] = party
        return party

    def _category(self, invoice: VirtuagymInvoice, index: int, row: InvoiceRow) -> str | None:
        text = row.income_category
        mode = self.config.income_category_match
        if text is None or mode == "raw":
            return text
        for category in self.categories:
            by_name = mode in ("name", "either") and category.income_category_name == text
            by_key = mode in ("name_id", "either") and category.name_id == text
            if by_name or by_key:
                return category.income_category_name
        raise _error(
            invoice,
            f"rows[{index}].income_category",
            "unknown income category",
            f"an income category ({mode})",
            text,
        )

    def _rate(self, row: InvoiceRow) -> Decimal | None:
        percentage = row.club_tax_perc
        if percentage is None and row.club_tax_id is not None and row.club_tax_id in self.taxes:
            percentage = self.taxes[row.club_tax_id].tax_perc
        if percentage is None:
            return None
        return (percentage / 100).normalize() if percentage else Decimal(0)

    def line(self, invoice: VirtuagymInvoice, index: int, row: InvoiceRow) -> InvoiceLine:
        """One row as a canonical line (see the module docs)."""
        if (
            self.config.check_amounts
            and row.price_ex_vat is not None
            and row.vat is not None
            and row.price_ex_vat + row.vat != row.price
        ):
            raise _error(
                invoice,
                f"rows[{index}].vat",
                "price_ex_vat + vat differs from price",
                f"{row.price - row.price_ex_vat}",
                row.vat,
            )
        unit_price: Decimal | None = None
        if row.product_count:
            candidate = row.price / row.product_count
            if candidate * row.product_count == row.price:
                unit_price = candidate
        period = None
        if row.start_period is not None and row.end_period is not None:
            if row.end_period < row.start_period:
                raise _error(
                    invoice,
                    f"rows[{index}].end_period",
                    "the period ends before it starts",
                    f"a date on or after {row.start_period}",
                    row.end_period.isoformat(),
                )
            period = ServicePeriod(row.start_period, row.end_period)
        discount = row.price < 0 if invoice.price >= 0 else row.price > 0
        return InvoiceLine(
            description=row.product_name or (row.product_desc or ""),
            amount=row.price,
            amount_basis=AmountBasis.INCLUDING_VAT,
            quantity=row.product_count,
            unit_price=unit_price,
            vat_category=str(row.club_tax_id) if row.club_tax_id is not None else None,
            vat_rate=self._rate(row),
            income_category=self._category(invoice, index, row),
            product=str(row.retail_product_id) if row.retail_product_id else None,
            is_discount=discount,
            service_period=period,
            source_line_id=row.guid or None,
        )

    def invoice(self, invoice: VirtuagymInvoice) -> Invoice:
        """One Virtuagym invoice as a canonical :class:`~exactbridge.records.Invoice`.

        Raises :class:`~exactbridge.errors.SourceRecordError` naming the invoice guid
        and the field when it cannot be adapted.
        """
        live_rows = [
            (index, row)
            for index, row in enumerate(invoice.rows)
            if invoice.deleted or not row.deleted
        ]
        if not live_rows:
            raise _error(invoice, "rows", "the invoice has no rows", "at least one row", [])
        lines = tuple(self.line(invoice, index, row) for index, row in live_rows)
        if self.config.check_amounts:
            total = sum((row.price for _, row in live_rows), Decimal(0))
            if total != invoice.price:
                raise _error(
                    invoice,
                    "price",
                    "the rows do not add up to the total",
                    str(total),
                    invoice.price,
                )
        if self.config.number_field == "id":
            if invoice.id <= 0:
                raise _error(
                    invoice, "id", "a concept invoice has no number", "a number > 0", invoice.id
                )
            number = str(invoice.id)
        else:
            number = invoice.guid
        starts = [line.service_period.start for line in lines if line.service_period]
        ends = [line.service_period.end for line in lines if line.service_period]
        period = ServicePeriod(min(starts), max(ends)) if starts else None
        if invoice.is_concept_invoice:
            status = InvoiceStatus.DRAFT
        elif invoice.paid or invoice.paid_status == PaidStatus.PAID:
            status = InvoiceStatus.PAID
        else:
            status = InvoiceStatus.OPEN
        club_id = invoice.club_id if invoice.club_id is not None else self.club_id
        attributes = {"guid": invoice.guid, "invoice_id": str(invoice.id)}
        optional = {
            "member_id": invoice.member_id,
            "business_guid": invoice.business_guid,
            "contract_id": invoice.contract_id,
            "payment_method": invoice.payment_method,
            "paid_status": invoice.paid_status,
        }
        attributes.update({key: str(value) for key, value in optional.items() if value is not None})
        return Invoice(
            source=SOURCE,
            source_id=invoice.guid,
            number=number,
            invoice_date=invoice.timestamp.astimezone(self._zone).date(),
            lines=lines,
            party=self.party(invoice),
            currency=invoice.currency,
            service_period=period,
            total_incl_vat=invoice.price,
            total_excl_vat=invoice.price_ex_vat,
            description=invoice.name.strip() if invoice.name and invoice.name.strip() else None,
            credited_invoice=invoice.related_invoice,
            status=status,
            deleted=invoice.deleted,
            tenant=str(club_id) if club_id is not None else None,
            changed_at=invoice.timestamp_edit,
            attributes=attributes,
        )

    def adapt_all(
        self, invoices: Iterable[VirtuagymInvoice]
    ) -> tuple[list[Invoice], list[SourceRecordError]]:
        """Adapt many invoices; the ones that fail are returned as errors, not raised.

        A credit invoice names the invoice it credits by Virtuagym's guid; when that
        invoice is among ``invoices``, ``credited_invoice`` becomes its number instead,
        so descriptions read "credit note 1005 for 1001".
        """
        records: list[Invoice] = []
        errors: list[SourceRecordError] = []
        for item in invoices:
            try:
                records.append(self.invoice(item))
            except SourceRecordError as exc:
                errors.append(exc)
        numbers = {record.source_id: record.number for record in records}
        return [
            attrs.evolve(record, credited_invoice=numbers[record.credited_invoice])
            if record.credited_invoice in numbers
            else record
            for record in records
        ], errors


def adapt_invoice(
    invoice: VirtuagymInvoice,
    *,
    members: Mapping[int, Member] | Sequence[Member] = (),
    club_taxes: Iterable[ClubTax] = (),
    income_categories: Iterable[IncomeCategory] = (),
    club_id: int | None = None,
    config: VirtuagymAdapterConfig | None = None,
) -> Invoice:
    """Adapt one invoice (a one-off :class:`VirtuagymAdapter`; build one for many invoices)."""
    adapter = VirtuagymAdapter(
        members=members,
        club_taxes=club_taxes,
        income_categories=income_categories,
        club_id=club_id,
        config=config,
    )
    return adapter.invoice(invoice)
