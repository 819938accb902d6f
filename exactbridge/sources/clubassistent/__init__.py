"""Club-assistent connector: readers for its SEPA direct-debit and invoice files.

Club-assistent has no public API; see :mod:`.client` for the file formats read and
the assumptions made about them, :mod:`.adapter` for the canonical records produced.
"""

from __future__ import annotations

from .adapter import (
    direct_debit_to_mandate,
    invoice_to_record,
    mandates_from_direct_debits,
    member_to_party,
)
from .client import (
    SUPPORTED_PAIN008_VERSIONS,
    InvoiceCsvReader,
    Pain008Reader,
    parse_dutch_date,
    parse_dutch_decimal,
    valid_iban,
)
from .models import (
    SOURCE,
    ClubInvoice,
    ClubInvoiceLine,
    ClubMember,
    ClubPaymentMethod,
    CollectionBatch,
    CsvColumns,
    CsvFormat,
    DirectDebit,
    GroupHeader,
    Listing,
    Pain008File,
    RecordFileError,
)

__all__ = [
    "SOURCE",
    "SUPPORTED_PAIN008_VERSIONS",
    "ClubInvoice",
    "ClubInvoiceLine",
    "ClubMember",
    "ClubPaymentMethod",
    "CollectionBatch",
    "CsvColumns",
    "CsvFormat",
    "DirectDebit",
    "GroupHeader",
    "InvoiceCsvReader",
    "Listing",
    "Pain008File",
    "Pain008Reader",
    "RecordFileError",
    "direct_debit_to_mandate",
    "invoice_to_record",
    "mandates_from_direct_debits",
    "member_to_party",
    "parse_dutch_date",
    "parse_dutch_decimal",
    "valid_iban",
]
