"""Eduframe invoices and accounts -> canonical records (pure: no I/O, no clock).

What the Eduframe Exact Online plugin synchronises, and where it lands here:

* account (the party): ``name``, ``email``, ``address`` and the custom field holding
  the VAT number (slug ``vat_number`` by default, configurable), validated for its
  country-prefixed format (``NL000000000B00``) against the billing country;
* invoice: ``description``, ``opened_at`` (invoice date), ``expiration_date`` (due
  date), ``reference_id``, ``feature`` and ``number``; the PDF as a
  :class:`~exactbridge.records.PdfReference` whose ``source_key`` is the invoice id
  (fetch it with ``EduframeClient.invoice_pdf``);
* items: name, units, unit price, VAT code; each item carries its course edition and
  course template (via catalog variant -> planned course -> course) so the mapping can
  apply the edition -> template -> global ledger / cost center / cost unit chain;
  discount items are flagged (they get no cost center or cost unit downstream).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
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
    PdfReference,
    ServicePeriod,
)
from exactbridge.sources.eduframe.models import (
    SOURCE,
    Account,
    AccountType,
    CatalogVariant,
    Course,
    DiscountCode,
    EduframeInvoice,
    EduframeInvoiceStatus,
    InvoiceItem,
    InvoiceVat,
    Order,
    PlannedCourse,
)

__all__ = [
    "EduframeAdapter",
    "EduframeAdapterConfig",
    "adapt_account",
    "normalize_vat_number",
]

_STATUS = {
    EduframeInvoiceStatus.CONCEPT: InvoiceStatus.DRAFT,
    EduframeInvoiceStatus.OPEN: InvoiceStatus.OPEN,
    EduframeInvoiceStatus.PAID: InvoiceStatus.PAID,
    EduframeInvoiceStatus.EXPIRED: InvoiceStatus.EXPIRED,
}

# Country-prefixed VAT numbers: two letters, then 2..13 letters/digits (EU VIES style).
_VAT_GENERIC = re.compile(r"^[A-Z]{2}[A-Z0-9+*]{2,13}$")
# Stricter shapes for the countries most Dutch institutes invoice.
_VAT_BY_COUNTRY = {
    "NL": re.compile(r"^NL[0-9]{9}B[0-9]{2}$"),
    "BE": re.compile(r"^BE[01][0-9]{9}$"),
    "DE": re.compile(r"^DE[0-9]{9}$"),
}
# The VAT prefix differs from the ISO country code for Greece.
_VAT_PREFIX = {"GR": "EL"}


def normalize_vat_number(value: str) -> str:
    """Upper-case a VAT number and drop spaces, dots and dashes.

    >>> normalize_vat_number("nl 0000.00000 b-00")
    'NL000000000B00'
    """
    return re.sub(r"[\s.\-]", "", value).upper()


def _one_of(options: tuple[str, ...]) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in options:
            raise ConfigurationError(
                f"unknown value {value!r}", key=attribute.name, expected=" | ".join(options)
            )

    return check


@attrs.frozen
class EduframeAdapterConfig:
    """Choices the adapter makes where Eduframe leaves room.

    * ``vat_number_slug``: the custom-field slug holding an account's VAT number
      (the plugin's convention is ``vat_number``; tenants may choose another).
    * ``invalid_vat_number``: ``"error"`` (default) raises a ``SourceRecordError`` naming
      the account field; ``"drop"`` books the party without a VAT number.
    * ``unit_price_basis``: whether item ``unit_price`` excludes VAT (default, since
      ``total_excl`` derives from it) or includes it; UNCERTAIN in Eduframe's docs.
    * ``discount_names``: besides a negative unit price (Eduframe's discount items are
      UNVERIFIED), an item whose name contains one of these words (case-insensitive)
      or the order's discount code counts as a discount.
    * ``concept_invoices``: a concept invoice has no number or ``opened_at``: ``"error"``
      raises; ``"draft"`` adapts it with ``created_at`` as date and ``concept-<id>`` as
      number (status ``DRAFT``, for previews).
    """

    vat_number_slug: str = "vat_number"
    invalid_vat_number: str = attrs.field(default="error", validator=_one_of(("error", "drop")))
    unit_price_basis: AmountBasis = AmountBasis.EXCLUDING_VAT
    discount_names: tuple[str, ...] = attrs.field(default=("korting", "discount"), converter=tuple)
    concept_invoices: str = attrs.field(default="error", validator=_one_of(("error", "draft")))


def _check_vat(
    account: Account, config: EduframeAdapterConfig
) -> tuple[str | None, SourceRecordError | None]:
    raw = account.custom.get(config.vat_number_slug)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    field = f"custom.{config.vat_number_slug}"
    record = f"account {account.id}"
    if not isinstance(raw, str):
        return None, SourceRecordError(
            "wrong type",
            source=SOURCE,
            record_id=record,
            field=field,
            expected="a string",
            value=raw,
        )
    number = normalize_vat_number(raw)
    country = (
        account.address.country.upper() if account.address and account.address.country else None
    )
    expected_prefix = _VAT_PREFIX.get(country, country) if country else None
    pattern = _VAT_BY_COUNTRY.get(number[:2], _VAT_GENERIC)
    problem = None
    if not _VAT_GENERIC.match(number) or not pattern.match(number):
        problem = "not a country-prefixed VAT number"
    elif expected_prefix is not None and number[:2] != expected_prefix:
        problem = f"the prefix does not match the billing country {country}"
    if problem is None:
        return number, None
    expected = (
        f"a VAT number starting with {expected_prefix}"
        if expected_prefix
        else "e.g. NL000000000B00"
    )
    return None, SourceRecordError(
        problem, source=SOURCE, record_id=record, field=field, expected=expected, value=raw
    )


def adapt_account(account: Account, config: EduframeAdapterConfig | None = None) -> Party:
    """An account as a canonical :class:`~exactbridge.records.Party`.

    Business accounts become organisations, personal accounts persons. Raises
    :class:`~exactbridge.errors.SourceRecordError` for a malformed VAT number unless
    ``config.invalid_vat_number == "drop"``.
    """
    config = config or EduframeAdapterConfig()
    vat, error = _check_vat(account, config)
    if error is not None and config.invalid_vat_number == "error":
        raise error
    address = None
    if account.address is not None:
        source = account.address
        address = Address(
            line1=source.address,
            line2=source.address_line2,
            postcode=source.postal_code,
            city=source.city,
            state=source.state_province,
            country=source.country.upper() if source.country else None,
        )
    kind = (
        PartyKind.ORGANISATION if account.account_type is AccountType.BUSINESS else PartyKind.PERSON
    )
    return Party(
        source=SOURCE,
        source_id=str(account.id),
        name=account.name,
        kind=kind,
        email=account.email,
        phone=account.phone,
        address=address,
        vat_number=vat,
        internal_number=str(account.id),
        extern_ids={SOURCE: str(account.id)},
    )


def _index(items: Iterable[Any]) -> dict[int, Any]:
    return {item.id: item for item in items}


class EduframeAdapter:
    """Turns Eduframe invoices into canonical invoices, given the institute's lookups.

    ``accounts`` are needed (the party); ``invoice_vats`` give the VAT rates;
    ``catalog_variants``, ``planned_courses`` and ``courses`` resolve each item's course
    edition and template; ``orders`` and ``discount_codes`` help recognise discounts.

    >>> EduframeAdapter(accounts=[]).config.vat_number_slug
    'vat_number'
    """

    def __init__(
        self,
        *,
        accounts: Iterable[Account],
        invoice_vats: Iterable[InvoiceVat] = (),
        catalog_variants: Iterable[CatalogVariant] = (),
        planned_courses: Iterable[PlannedCourse] = (),
        courses: Iterable[Course] = (),
        orders: Iterable[Order] = (),
        discount_codes: Iterable[DiscountCode] = (),
        config: EduframeAdapterConfig | None = None,
    ):
        self.config = config or EduframeAdapterConfig()
        self.accounts: dict[int, Account] = _index(accounts)
        self.vats: dict[int, InvoiceVat] = _index(invoice_vats)
        self.variants: dict[int, CatalogVariant] = _index(catalog_variants)
        self.editions: dict[int, PlannedCourse] = _index(planned_courses)
        self.courses: dict[int, Course] = _index(courses)
        self.orders: dict[int, Order] = _index(orders)
        self.codes = {code.discount_code.lower() for code in discount_codes}
        self._parties: dict[int, Party] = {}

    def _error(
        self, invoice: EduframeInvoice, field: str, message: str, expected: str, value: Any
    ) -> SourceRecordError:
        return SourceRecordError(
            message,
            source=SOURCE,
            record_id=f"invoice {invoice.id}",
            field=field,
            expected=expected,
            value=value,
        )

    def party(self, invoice: EduframeInvoice) -> Party:
        """The invoice's account as a party (errors name the invoice's ``account_id``)."""
        cached = self._parties.get(invoice.account_id)
        if cached is not None:
            return cached
        account = self.accounts.get(invoice.account_id)
        if account is None:
            raise self._error(
                invoice, "account_id", "account not found", "a known account", invoice.account_id
            )
        party = adapt_account(account, self.config)
        self._parties[invoice.account_id] = party
        return party

    def _is_discount(self, invoice: EduframeInvoice, item: InvoiceItem) -> bool:
        if item.unit_price * item.units < 0:
            return True
        name = item.name.lower()
        if any(word and word.lower() in name for word in self.config.discount_names):
            return True
        order = self.orders.get(invoice.order_id) if invoice.order_id is not None else None
        codes = set(self.codes)
        if order is not None and order.discount_code:
            codes.add(order.discount_code.lower())
        return any(code in name for code in codes)

    def line(self, invoice: EduframeInvoice, index: int, item: InvoiceItem) -> InvoiceLine:
        """One item as a canonical line, with its course edition and template."""
        field = f"invoice_items[{index}]"
        vat = None
        if item.invoice_vat_id is not None:
            vat = self.vats.get(item.invoice_vat_id)
            if vat is None and self.vats:
                raise self._error(
                    invoice,
                    f"{field}.invoice_vat_id",
                    "unknown VAT code",
                    "a known invoice VAT",
                    item.invoice_vat_id,
                )
        edition: PlannedCourse | None = None
        template_id: int | None = None
        if item.catalog_variant_id is not None:
            variant = self.variants.get(item.catalog_variant_id)
            if variant is not None and variant.variantable_type == "PlannedCourse":
                edition = self.editions.get(variant.variantable_id or -1)
                if edition is not None:
                    template_id = edition.course_id
        discount = self._is_discount(invoice, item)
        period = None
        if not discount and edition is not None and edition.start_date and edition.end_date:
            period = ServicePeriod(edition.start_date, edition.end_date)
        return InvoiceLine(
            description=item.name,
            amount=item.units * item.unit_price,
            amount_basis=self.config.unit_price_basis,
            quantity=item.units,
            unit_price=item.unit_price,
            vat_category=str(item.invoice_vat_id) if item.invoice_vat_id is not None else None,
            vat_rate=vat.rate if vat is not None else None,
            product=str(item.catalog_variant_id) if item.catalog_variant_id is not None else None,
            course_template=None if discount or template_id is None else str(template_id),
            course_edition=None if discount or edition is None else str(edition.id),
            is_discount=discount,
            service_period=period,
            source_line_id=str(item.id) if item.id is not None else None,
        )

    def invoice(self, invoice: EduframeInvoice) -> Invoice:
        """One Eduframe invoice as a canonical :class:`~exactbridge.records.Invoice`.

        Raises :class:`~exactbridge.errors.SourceRecordError` naming the invoice and the
        field when it cannot be adapted (a concept invoice, an unknown account, a
        malformed VAT number...).
        """
        concept = invoice.status is EduframeInvoiceStatus.CONCEPT
        number = invoice.number
        date = invoice.opened_at
        if concept or number is None or date is None:
            if self.config.concept_invoices == "error" or not concept:
                missing = "number" if number is None else "opened_at"
                raise self._error(
                    invoice,
                    missing,
                    "the invoice is not opened yet",
                    "an opened invoice",
                    invoice.status.value,
                )
            if invoice.created_at is None:
                raise self._error(invoice, "created_at", "missing", "a timestamp", None)
            number = number or f"concept-{invoice.id}"
            date = date or invoice.created_at.date()
        if not invoice.invoice_items:
            raise self._error(
                invoice, "invoice_items", "the invoice has no items", "at least one item", []
            )
        lines = tuple(
            self.line(invoice, index, item) for index, item in enumerate(invoice.invoice_items)
        )
        periods = [line.service_period for line in lines if line.service_period is not None]
        service = (
            ServicePeriod(min(p.start for p in periods), max(p.end for p in periods))
            if periods
            else None
        )
        attributes = {"invoice_id": str(invoice.id)}
        order = self.orders.get(invoice.order_id) if invoice.order_id is not None else None
        optional: dict[str, Any] = {
            "number_int": invoice.number_int,
            "order_id": invoice.order_id,
            "order_number": invoice.order_number,
            "account_name": invoice.account_name,
            "footnote": invoice.footnote,
            "total_open": invoice.total_open,
            "discount_code": order.discount_code if order is not None else None,
        }
        attributes.update({key: str(value) for key, value in optional.items() if value is not None})
        return Invoice(
            source=SOURCE,
            source_id=str(invoice.id),
            number=number,
            invoice_date=date,
            lines=lines,
            party=self.party(invoice),
            currency=invoice.currency,
            due_date=invoice.expiration_date,
            service_period=service,
            total_incl_vat=invoice.total_incl,
            total_excl_vat=invoice.total_excl,
            reference=invoice.reference_id,
            description=invoice.description or None,
            feature_text=invoice.feature or None,
            pdf=PdfReference(filename=f"invoice-{number}.pdf", source_key=str(invoice.id)),
            status=_STATUS[invoice.status],
            tenant=None,
            changed_at=invoice.updated_at,
            attributes=attributes,
        )

    def adapt_all(
        self, invoices: Iterable[EduframeInvoice]
    ) -> tuple[list[Invoice], list[SourceRecordError]]:
        """Adapt many invoices; the ones that fail are returned as errors, not raised."""
        records: list[Invoice] = []
        errors: list[SourceRecordError] = []
        for item in invoices:
            try:
                records.append(self.invoice(item))
            except SourceRecordError as exc:
                errors.append(exc)
        return records, errors
