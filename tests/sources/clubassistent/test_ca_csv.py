"""Invoice CSV reader and adapter: columns, Dutch formats, encodings, hostile files."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactbridge.errors import ConfigurationError, SourceFileError
from exactbridge.records import AmountBasis, PartyKind
from exactbridge.sources.clubassistent import (
    ClubPaymentMethod,
    CsvColumns,
    CsvFormat,
    InvoiceCsvReader,
    RecordFileError,
    invoice_to_record,
    member_to_party,
    parse_dutch_date,
    parse_dutch_decimal,
)
from exactbridge.testing.clubassistent import (
    DEFAULT_CSV_HEADER,
    SampleInvoice,
    SampleLine,
    format_dutch_amount,
    sample_invoices,
    write_invoice_csv,
)

INVOICE = SampleInvoice(
    number="F2026-001",
    member_number="00042",
    member_name="Hanneke Visser",
    invoice_date=dt.date(2026, 12, 31),
    due_date=dt.date(2027, 1, 14),
    lines=(
        SampleLine("Contributie 2027", Decimal("1234.56")),
        SampleLine("Bondscontributie", Decimal("18.00"), Decimal("0")),
        SampleLine("Korting gezin", Decimal("-50.00"), Decimal("9")),
    ),
    email="hanneke@example.nl",
    iban="NL91ABNA0417164300",
    payment_method="Automatische incasso",
)


def _csv(invoices: list[SampleInvoice], **kw: Any) -> bytes:
    buf = io.BytesIO()
    write_invoice_csv(buf, invoices, **kw)
    return buf.getvalue()


def test_credit_invoice_lines_are_not_discounts() -> None:
    credit = SampleInvoice(
        number="C2027-001",
        member_number="00042",
        member_name="Hanneke Visser",
        invoice_date=dt.date(2027, 1, 31),
        due_date=dt.date(2027, 2, 14),
        lines=(
            SampleLine("Creditering contributie", Decimal("-1234.56")),
            SampleLine("Creditering korting", Decimal("50.00"), Decimal("9")),
        ),
    )
    listing = InvoiceCsvReader().read_bytes(_csv([credit]), name="credit.csv")
    (invoice,) = listing.records
    record = invoice_to_record(invoice)
    # On a credit invoice the negative line is revenue taken back; the positive one is
    # the discount given back, so it is the discount line.
    assert [ln.is_discount for ln in record.lines] == [False, True]


def test_reads_all_fields_and_adapts_including_vat() -> None:
    listing = InvoiceCsvReader().read_bytes(_csv([INVOICE]), name="export.csv")
    assert listing.ok
    (invoice,) = listing.records
    assert invoice.number == "F2026-001"
    assert invoice.invoice_date == dt.date(2026, 12, 31)
    assert invoice.due_date == dt.date(2027, 1, 14)
    assert invoice.payment_method is ClubPaymentMethod.DIRECT_DEBIT
    assert [ln.amount for ln in invoice.lines] == [
        Decimal("1234.56"),
        Decimal("18.00"),
        Decimal("-50.00"),
    ]
    assert [ln.vat_rate for ln in invoice.lines] == [Decimal("0.21"), Decimal(0), Decimal("0.09")]
    assert invoice.total == Decimal("1202.56")
    assert invoice.file == "export.csv"
    assert invoice.line == 2

    record = invoice_to_record(invoice, tenant="club-7")
    assert record.source == "clubassistent"
    assert record.source_id == record.number == record.reference == "F2026-001"
    assert record.invoice_date == dt.date(2026, 12, 31)
    assert record.due_date == dt.date(2027, 1, 14)
    assert record.total_incl_vat == Decimal("1202.56")
    assert record.tenant == "club-7"
    assert record.attributes["payment_method"] == "incasso"
    assert record.attributes["payment_method_text"] == "Automatische incasso"
    assert all(ln.amount_basis is AmountBasis.INCLUDING_VAT for ln in record.lines)
    assert [ln.vat_category for ln in record.lines] == ["21", "0", "9"]
    assert [ln.is_discount for ln in record.lines] == [False, False, True]
    assert record.lines[0].source_line_id == "F2026-001:1"
    party = record.party
    assert party is not None
    assert party.source_id == party.internal_number == "00042"
    assert party.name == "Hanneke Visser"
    assert party.email == "hanneke@example.nl"
    assert party.kind is PartyKind.PERSON


def test_negative_invoice_stays_negative() -> None:
    credit = SampleInvoice(
        "C1", "7", "X", dt.date(2026, 1, 1), (SampleLine("Terugbetaling", Decimal("-12.50")),)
    )
    (invoice,) = InvoiceCsvReader().read_bytes(_csv([credit])).records
    assert invoice_to_record(invoice).total_incl_vat == Decimal("-12.50")


def test_rows_of_one_invoice_need_not_be_adjacent() -> None:
    a, b = sample_invoices(2, seed=1)
    data = _csv(
        [
            a,
            b,
            SampleInvoice(
                a.number,
                a.member_number,
                a.member_name,
                a.invoice_date,
                (SampleLine("Extra", Decimal("1.00")),),
                due_date=a.due_date,
                email=a.email,
                iban=a.iban,
                payment_method=a.payment_method,
            ),
        ]
    )
    listing = InvoiceCsvReader().read_bytes(data)
    assert listing.ok
    first = next(i for i in listing.records if i.number == a.number)
    assert len(first.lines) == len(a.lines) + 1


@pytest.mark.parametrize(
    ("encoding", "bom", "fallback"),
    [("utf-8", False, None), ("utf-8", True, None), ("cp1252", False, "cp1252")],
)
def test_encodings(encoding: str, bom: bool, fallback: str | None) -> None:
    invoice = SampleInvoice(
        "F1", "1", "Renée Müller-Çelik", dt.date(2026, 5, 1), (SampleLine("Café € 5", Decimal(5)),)
    )
    data = _csv([invoice], encoding=encoding, bom=bom)
    (read,) = InvoiceCsvReader(CsvFormat(fallback_encoding=fallback)).read_bytes(data).records
    assert read.member.name == "Renée Müller-Çelik"
    assert read.lines[0].description == "Café € 5"


def test_wrong_encoding_without_fallback_names_line_and_column() -> None:
    invoice = SampleInvoice("F1", "1", "Renée", dt.date(2026, 5, 1), (SampleLine("x", Decimal(5)),))
    data = _csv([invoice], encoding="cp1252")
    with pytest.raises(SourceFileError) as info:
        InvoiceCsvReader().read_bytes(data, name="win.csv")
    assert info.value.file == "win.csv"
    assert info.value.line == 2
    assert info.value.column == len("F1;1;Ren") + 1
    assert "fallback_encoding" in str(info.value)


def test_missing_required_column_is_a_file_error() -> None:
    header = [h for h in DEFAULT_CSV_HEADER if h != "Bedrag incl. btw"]
    with pytest.raises(SourceFileError) as info:
        InvoiceCsvReader().read_bytes(_csv([INVOICE], header=header), name="a.csv")
    assert info.value.line == 1
    assert "'Bedrag incl. btw' (amount)" in str(info.value)


def test_optional_columns_may_be_absent_and_unknown_columns_are_kept() -> None:
    header = [
        "Factuurnummer",
        "Lidnummer",
        "Naam",
        "Factuurdatum",
        "Omschrijving",
        "Bedrag incl. btw",
        "Kostenplaats",
    ]
    listing = InvoiceCsvReader().read_bytes(_csv([INVOICE], header=header))
    assert listing.ok
    (invoice,) = listing.records
    assert invoice.due_date is None
    assert invoice.lines[0].vat_rate is None
    assert invoice.payment_method is ClubPaymentMethod.OTHER
    assert dict(invoice.extra) == {"Kostenplaats": ""}
    assert invoice_to_record(invoice).attributes["extra.Kostenplaats"] == ""


def test_custom_column_mapping_and_english_numbers() -> None:
    text = (
        'No,Member,Who,Date,Text,Gross,VAT\r\nA-1,9,Jan,2026-03-01,Lidmaatschap,"1,234.50",21\r\n'
    )
    fmt = CsvFormat(
        columns=CsvColumns(
            number="No",
            member_number="Member",
            member_name="Who",
            invoice_date="Date",
            description="Text",
            amount="Gross",
            vat_rate="VAT",
            due_date=None,
            payment_method=None,
            member_email=None,
            member_iban=None,
        ),
        delimiter=",",
        decimal_comma=False,
    )
    (invoice,) = InvoiceCsvReader(fmt).read_bytes(text.encode()).records
    assert invoice.lines[0].amount == Decimal("1234.50")
    assert invoice.invoice_date == dt.date(2026, 3, 1)


def test_bad_cells_drop_only_their_invoice() -> None:
    good, other = sample_invoices(2, seed=5)
    text = _csv([good, other]).decode()
    bad_amount = format_dutch_amount(other.lines[0].amount)
    text = text.replace(bad_amount, "12.34,5", 1)
    listing = InvoiceCsvReader().read_bytes(text.encode(), name="x.csv")
    assert [i.number for i in listing.records] == [good.number]
    (error,) = listing.errors
    assert isinstance(error, RecordFileError)
    assert error.record_id == other.number
    assert error.field == "Bedrag incl. btw"
    assert error.column == DEFAULT_CSV_HEADER.index("Bedrag incl. btw") + 1
    assert error.line == 2 + len(good.lines)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("31-12-2026", "31-13-2026", "Factuurdatum"),
        (";21;", ";121;", "Btw-percentage"),
        ("Hanneke Visser", "", "Naam"),
    ],
)
def test_hostile_cells(old: str, new: str, field: str) -> None:
    text = _csv([INVOICE]).decode().replace(old, new, 1)
    listing = InvoiceCsvReader().read_bytes(text.encode())
    assert listing.records == ()
    assert [e.field for e in listing.errors if isinstance(e, RecordFileError)] == [field]


def test_short_row_and_extra_fields_are_record_errors() -> None:
    text = _csv([INVOICE]).decode().splitlines()
    text[1] = ";".join(text[1].split(";")[:4])
    text[2] = text[2] + ";surplus"
    listing = InvoiceCsvReader().read_bytes("\r\n".join(text).encode())
    assert len(listing.errors) == 2
    assert listing.records == ()  # the invoice is never half-read
    columns = sorted(
        e.column
        for e in listing.errors
        if isinstance(e, SourceFileError) and isinstance(e.column, int)
    )
    assert columns == [5, len(DEFAULT_CSV_HEADER) + 1]


def test_conflicting_rows_of_one_invoice() -> None:
    text = _csv([INVOICE]).decode().replace("00042", "00043", 2).replace("00043", "00042", 1)
    listing = InvoiceCsvReader().read_bytes(text.encode())
    assert listing.records == ()
    assert "differs" in str(listing.errors[0])


def test_empty_file_and_bad_quoting() -> None:
    with pytest.raises(SourceFileError, match="empty"):
        InvoiceCsvReader().read_bytes(b"\r\n\r\n")
    with pytest.raises(SourceFileError):
        InvoiceCsvReader().read_bytes(b'Factuurnummer;"unterminated\r\nx')


def test_reads_from_path(tmp_path: Path) -> None:
    path = tmp_path / "facturen.csv"
    write_invoice_csv(path, sample_invoices(50, seed=2), bom=True)
    listing = InvoiceCsvReader().read(path)
    assert listing.ok
    assert len(listing.records) == 50
    with pytest.raises(SourceFileError, match="cannot read"):
        InvoiceCsvReader().read(tmp_path / "missing.csv")


def test_member_to_party_with_address() -> None:
    from exactbridge.sources.clubassistent import ClubMember

    party = member_to_party(
        ClubMember("5", "Iris", address="Dorpsstraat 1", postcode="1234 AB", city="Ede")
    )
    assert party.address is not None
    assert (party.address.line1, party.address.postcode, party.address.city) == (
        "Dorpsstraat 1",
        "1234 AB",
        "Ede",
    )


def test_value_parsers() -> None:
    assert parse_dutch_decimal("€ 1.234.567,89") == Decimal("1234567.89")
    assert parse_dutch_decimal("12,50-") == Decimal("-12.50")
    assert parse_dutch_decimal("-0,01") == Decimal("-0.01")
    for bad in ("1,234.56", "1.23", "abc", "", "1e5", "NaN"):
        with pytest.raises(ValueError, match="not a number"):
            parse_dutch_decimal(bad)
    assert parse_dutch_date("01-02-2026") == dt.date(2026, 2, 1)
    with pytest.raises(ValueError, match="not a date"):
        parse_dutch_date("2026/02/01")


def test_unknown_encoding_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="encoding"):
        CsvFormat(encoding="klingon")


@settings(max_examples=60, deadline=None)
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_dutch_amounts_round_trip(value: Decimal) -> None:
    assert parse_dutch_decimal(format_dutch_amount(value)) == value
