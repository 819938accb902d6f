"""Club-assistent's own shapes, as read from its files.

Club-assistent has no public API (reference section 5). What it produces is files:

* SEPA direct-debit collection files (ISO 20022 ``pain.008``), one
  :class:`CollectionBatch` per ``PmtInf`` block and one :class:`DirectDebit` per
  ``DrctDbtTxInf`` transaction, each carrying its mandate and an end-to-end id that
  refers to the invoice being collected;
* an invoice export in CSV, one row per invoice line, read into :class:`ClubInvoice`
  with :class:`ClubInvoiceLine` and the :class:`ClubMember` it is addressed to.

The file layout is UNVERIFIED (the vendor documents none): the SEPA files follow the
ISO standard, the CSV columns are configurable (:class:`CsvColumns`) because each
club's export template can differ.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Generic, TypeVar

import attrs

from exactbridge.errors import SourceError, SourceFileError

__all__ = [
    "SOURCE",
    "ClubInvoice",
    "ClubInvoiceLine",
    "ClubMember",
    "ClubPaymentMethod",
    "CollectionBatch",
    "CsvColumns",
    "CsvFormat",
    "DirectDebit",
    "GroupHeader",
    "Listing",
    "Pain008File",
    "RecordFileError",
]

#: The source name every Club-assistent record carries.
SOURCE = "clubassistent"

T = TypeVar("T")


def _frozen(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


class RecordFileError(SourceFileError):
    """A record in a file is malformed: names the file, line, column, record and field.

    ``record_id`` is the invoice number or end-to-end id where one could be read,
    ``field`` the column header or XML element that is wrong.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str,
        line: int | None = None,
        column: int | str | None = None,
        field: str,
        record_id: str | None = None,
    ):
        self.field = field
        self.record_id = record_id
        who = f"record {record_id}, " if record_id else ""
        super().__init__(f"{who}field {field!r}: {message}", file=file, line=line, column=column)


@attrs.frozen
class Listing(Generic[T]):
    """Good records and the typed errors of the bad ones, from one read.

    One bad record never stops a read: it lands in ``errors`` (each naming file,
    line, column and field) and the rest is still returned in ``records``.
    """

    records: tuple[T, ...]
    errors: tuple[SourceError, ...] = ()

    @property
    def ok(self) -> bool:
        """``True`` when no record was rejected."""
        return not self.errors


class ClubPaymentMethod(enum.Enum):
    """How an invoice is paid: collected by direct debit, or paid on invoice."""

    DIRECT_DEBIT = "incasso"
    INVOICE = "factuur"
    OTHER = "other"


@attrs.frozen
class GroupHeader:
    """The ``GrpHdr`` of a pain.008 message."""

    message_id: str
    created_at: dt.datetime | None
    number_of_transactions: int | None
    control_sum: Decimal | None
    initiating_party: str | None


@attrs.frozen
class CollectionBatch:
    """One ``PmtInf`` block: a collection on one date, of one sequence type, for one creditor."""

    payment_information_id: str
    collection_date: dt.date
    sequence_type: str
    creditor_name: str | None
    creditor_iban: str | None
    creditor_bic: str | None
    creditor_scheme_id: str | None
    number_of_transactions: int | None = None
    control_sum: Decimal | None = None
    local_instrument: str | None = None


@attrs.frozen
class DirectDebit:
    """One ``DrctDbtTxInf``: a collection from one member under one mandate.

    ``end_to_end_id`` is what Club-assistent uses to refer to the invoice collected;
    ``remittance`` the unstructured remittance text shown to the payer. ``line`` and
    ``column`` locate the transaction in its file.
    """

    end_to_end_id: str
    amount: Decimal
    currency: str
    mandate_id: str
    mandate_signature_date: dt.date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None
    sequence_type: str
    collection_date: dt.date
    batch_id: str
    remittance: str | None = None
    instruction_id: str | None = None
    line: int | None = None
    column: int | None = None


@attrs.frozen
class Pain008File:
    """A whole pain.008 file read at once (see ``Pain008Reader.iter_direct_debits`` to stream)."""

    file: str
    version: str
    header: GroupHeader | None
    batches: tuple[CollectionBatch, ...]
    direct_debits: tuple[DirectDebit, ...]
    errors: tuple[SourceError, ...] = ()


@attrs.frozen
class ClubMember:
    """The member (or other customer) an invoice is addressed to."""

    number: str
    name: str
    email: str | None = None
    iban: str | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None


@attrs.frozen
class ClubInvoiceLine:
    """One invoice line; ``amount`` INCLUDES VAT, ``vat_rate`` is a fraction (0.21)."""

    description: str
    amount: Decimal
    vat_rate: Decimal | None
    line: int


@attrs.frozen
class ClubInvoice:
    """An invoice from the CSV export, with its lines and member.

    ``extra`` keeps the values of columns the mapping does not know (first row of
    the invoice), so nothing in the export is lost.
    """

    number: str
    member: ClubMember
    invoice_date: dt.date
    due_date: dt.date | None
    lines: tuple[ClubInvoiceLine, ...]
    payment_method: ClubPaymentMethod
    payment_method_text: str | None = None
    description: str | None = None
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    file: str = ""
    line: int = 0

    @property
    def total(self) -> Decimal:
        """The invoice total including VAT."""
        return sum((line.amount for line in self.lines), Decimal(0))


@attrs.frozen
class CsvColumns:
    """Which CSV header holds which field of the invoice export.

    The defaults are the Dutch headers of a typical Club-assistent export; pass your
    own when your export template differs. ``None`` means "this export has no such
    column" (allowed only for optional fields). Required: ``number``,
    ``member_number``, ``member_name``, ``invoice_date``, ``description``, ``amount``.

    Example::

        CsvColumns(number="Nummer", amount="Totaal incl. btw")
    """

    number: str = "Factuurnummer"
    member_number: str = "Lidnummer"
    member_name: str = "Naam"
    invoice_date: str = "Factuurdatum"
    description: str = "Omschrijving"
    amount: str = "Bedrag incl. btw"
    due_date: str | None = "Vervaldatum"
    vat_rate: str | None = "Btw-percentage"
    payment_method: str | None = "Betaalwijze"
    member_email: str | None = "E-mail"
    member_iban: str | None = "IBAN"
    member_address: str | None = None
    member_postcode: str | None = None
    member_city: str | None = None
    invoice_description: str | None = None

    def required(self) -> dict[str, str]:
        """Field name -> header, for the columns that must be present."""
        return {
            "number": self.number,
            "member_number": self.member_number,
            "member_name": self.member_name,
            "invoice_date": self.invoice_date,
            "description": self.description,
            "amount": self.amount,
        }

    def optional(self) -> dict[str, str]:
        """Field name -> header, for the optional columns this mapping names."""
        names = (
            "due_date",
            "vat_rate",
            "payment_method",
            "member_email",
            "member_iban",
            "member_address",
            "member_postcode",
            "member_city",
            "invoice_description",
        )
        out: dict[str, str] = {}
        for name in names:
            header = getattr(self, name)
            if header is not None:
                out[name] = header
        return out


def _check_encoding(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    import codecs

    try:
        codecs.lookup(value)
    except LookupError:
        from exactbridge.errors import ConfigurationError

        raise ConfigurationError(
            f"unknown encoding {value!r}", key=attribute.name, expected="a codec name"
        ) from None


@attrs.frozen
class CsvFormat:
    """How the invoice CSV is written.

    ``encoding`` is tried first (a UTF-8 byte-order mark is always skipped);
    ``fallback_encoding`` (e.g. ``"cp1252"``, what Excel on Windows writes) is used
    for the whole file when the first encoding cannot decode it; with no fallback,
    undecodable bytes give a :class:`~exactbridge.errors.SourceFileError` naming the
    line and column. ``decimal_comma`` reads ``1.234,56`` (Dutch); set it to
    ``False`` for ``1,234.56``. ``date_formats`` are tried in order.
    """

    columns: CsvColumns = attrs.field(factory=CsvColumns)
    delimiter: str = ";"
    encoding: str = attrs.field(default="utf-8", validator=_check_encoding)
    fallback_encoding: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(_check_encoding),
    )
    decimal_comma: bool = True
    date_formats: tuple[str, ...] = ("%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y")
    direct_debit_words: tuple[str, ...] = ("incasso", "automatische incasso", "sepa")
    invoice_words: tuple[str, ...] = ("factuur", "overschrijving", "acceptgiro")
