"""Virtuagym adapter: every field of the canonical invoice, from decoded vendor models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exactbridge.errors import ConfigurationError, SourceRecordError
from exactbridge.records import AmountBasis, InvoiceStatus, PartyKind, ServicePeriod
from exactbridge.sources.virtuagym import (
    ClubTax,
    IncomeCategory,
    Member,
    VirtuagymAdapter,
    VirtuagymAdapterConfig,
    VirtuagymInvoice,
    adapt_invoice,
    adapt_member,
)

D = Decimal


def member(**overrides):
    data = {
        "member_id": 42,
        "club_member_id": "C-0042",
        "external_id": "EXT9",
        "firstname": "Anna",
        "lastname": "Bos",
        "email": "anna@example.org",
        "mobile": "0611111111",
        "phone": "0201234567",
        "street": "Dam 1",
        "street_extra": "bis",
        "zip": "1012JS",
        "place": "Amsterdam",
        "country": "nl",
        "lang": "nl",
        "timestamp_edit": 1767225600000,
    }
    data.update(overrides)
    return Member.from_json(data)


def row(**overrides):
    data = {
        "guid": "row-1",
        "product_name": "Onbeperkt (jan)",
        "product_count": 1,
        "price": D("39.95"),
        "price_ex_vat": D("36.65"),
        "vat": D("3.30"),
        "club_tax_id": 2,
        "club_tax_name": "BTW 9%",
        "club_tax_perc": 9,
        "income_category": "membership",
        "start_period": "2026-01-01",
        "end_period": "2026-01-31",
    }
    data.update(overrides)
    return data


def invoice(rows=None, **overrides):
    rows = rows if rows is not None else [row()]
    data = {
        "guid": "inv-guid-1",
        "id": 1234,
        "club_id": 8633,
        "member_id": 42,
        "name": "Onbeperkt januari",
        "price": sum((r["price"] for r in rows), D(0)),
        "price_ex_vat": sum((r["price_ex_vat"] for r in rows), D(0)),
        "currency": "EUR",
        "payment_method": "directdebit_NL",
        "paid": False,
        "paid_status": 0,
        "timestamp": 1767222000,  # 2025-12-31T23:00Z = 2026-01-01 local
        "timestamp_edit": 1767225600,
        "deleted": False,
        "rows": rows,
    }
    data.update(overrides)
    return VirtuagymInvoice.from_json(data)


def test_invoice_header_fields():
    record = adapt_invoice(invoice(), members=[member()], club_id=1)
    assert record.source == "virtuagym"
    assert record.source_id == "inv-guid-1"
    assert record.number == "1234"
    assert record.invoice_date == dt.date(2026, 1, 1)  # Amsterdam local date, not UTC's Dec 31
    assert record.currency == "EUR"
    assert record.total_incl_vat == D("39.95")
    assert record.total_excl_vat == D("36.65")
    assert record.description == "Onbeperkt januari"
    assert record.status is InvoiceStatus.OPEN
    assert record.deleted is False
    assert record.tenant == "8633"  # the invoice's club id wins over the adapter default
    assert record.changed_at == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    assert record.service_period == ServicePeriod(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert record.attributes["payment_method"] == "directdebit_NL"
    assert record.attributes["member_id"] == "42"
    assert record.due_date is None


def test_summer_time_invoice_date():
    # 2026-07-01 00:00 CEST is 2026-06-30 22:00 UTC
    record = adapt_invoice(invoice(timestamp=1782856800), members=[member()])
    assert record.invoice_date == dt.date(2026, 7, 1)


def test_line_fields():
    record = adapt_invoice(invoice(), members=[member()])
    (line,) = record.lines
    assert line.description == "Onbeperkt (jan)"
    assert line.amount == D("39.95")
    assert line.amount_basis is AmountBasis.INCLUDING_VAT
    assert line.quantity == D(1)
    assert line.unit_price == D("39.95")
    assert line.vat_category == "2"
    assert line.vat_rate == D("0.09")
    assert line.income_category == "membership"
    assert line.is_discount is False
    assert line.service_period == ServicePeriod(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert line.source_line_id == "row-1"


def test_party_from_member():
    party = adapt_invoice(invoice(), members=[member()]).party
    assert party is not None
    assert party.source_id == "42"
    assert party.name == "Anna Bos"
    assert party.kind is PartyKind.PERSON
    assert party.email == "anna@example.org"
    assert party.phone == "0611111111"
    assert party.address is not None
    assert (party.address.line1, party.address.line2) == ("Dam 1", "bis")
    assert (party.address.postcode, party.address.city, party.address.country) == (
        "1012JS",
        "Amsterdam",
        "NL",
    )
    assert party.internal_number == "C-0042"
    assert party.external_number == "EXT9"
    assert dict(party.extern_ids) == {"virtuagym": "42"}
    assert party.language == "nl"
    assert adapt_member(member(), internal_number="member_id").internal_number == "42"


def test_guest_invoice_has_no_party():
    record = adapt_invoice(invoice(member_id=None), members=[])
    assert record.party is None


def test_missing_member_is_an_error_or_an_anonymous_party():
    with pytest.raises(SourceRecordError) as info:
        adapt_invoice(invoice(), members=[])
    assert (info.value.record_id, info.value.field) == ("inv-guid-1", "member_id")
    config = VirtuagymAdapterConfig(missing_member="anonymous")
    party = adapt_invoice(invoice(), members=[], config=config).party
    assert party is not None
    assert party.source_id == "42"


def test_discount_rows_are_negative_discount_lines():
    rows = [
        row(),
        row(
            guid="row-2",
            product_name="Studentenkorting",
            price=D("-10"),
            price_ex_vat=D("-9.17"),
            vat=D("-0.83"),
            end_period=None,
        ),
    ]
    record = adapt_invoice(invoice(rows), members=[member()])
    assert [line.is_discount for line in record.lines] == [False, True]
    assert record.lines[1].amount == D("-10")
    assert record.lines[1].service_period is None  # only a start date


def test_credit_invoice_lines_and_reference():
    rows = [row(price=D("-39.95"), price_ex_vat=D("-36.65"), vat=D("-3.30"))]
    rows.append(
        row(
            guid="row-2",
            product_name="korting terug",
            price=D("5"),
            price_ex_vat=D("4.59"),
            vat=D("0.41"),
        )
    )
    record = adapt_invoice(invoice(rows, invoice_related_invoice="orig-guid"), members=[member()])
    assert record.total_incl_vat == D("-34.95")
    assert record.credited_invoice == "orig-guid"
    assert [line.is_discount for line in record.lines] == [False, True]


def test_adapt_all_names_the_credited_invoice_by_its_number():
    original = invoice(guid="orig-guid", id=1001)
    credit_rows = [row(price=D("-39.95"), price_ex_vat=D("-36.65"), vat=D("-3.30"))]
    credit = invoice(credit_rows, guid="credit-guid", id=1005, invoice_related_invoice="orig-guid")
    orphan = invoice(credit_rows, guid="orphan", id=1006, invoice_related_invoice="elsewhere")
    adapter = VirtuagymAdapter(members=[member()], club_id=8633)
    records, errors = adapter.adapt_all([original, credit, orphan])
    assert errors == []
    by_id = {record.source_id: record for record in records}
    assert by_id["credit-guid"].credited_invoice == "1001"
    # An invoice outside the batch keeps Virtuagym's reference.
    assert by_id["orphan"].credited_invoice == "elsewhere"
    assert by_id["orig-guid"].credited_invoice is None


def test_statuses_and_flags():
    assert adapt_invoice(invoice(paid=True), members=[member()]).status is InvoiceStatus.PAID
    assert adapt_invoice(invoice(paid_status=2), members=[member()]).status is InvoiceStatus.PAID
    deleted = adapt_invoice(invoice(deleted=True), members=[member()])
    assert deleted.deleted is True


def test_concept_invoice_number():
    concept = invoice(id=0, is_concept=True)
    with pytest.raises(SourceRecordError) as info:
        adapt_invoice(concept, members=[member()])
    assert info.value.field == "id"
    record = adapt_invoice(
        concept, members=[member()], config=VirtuagymAdapterConfig(number_field="guid")
    )
    assert record.number == "inv-guid-1"
    assert record.status is InvoiceStatus.DRAFT


def test_deleted_rows_of_a_live_invoice_are_dropped():
    rows = [row(), row(guid="gone", price=D("1"), price_ex_vat=D("1"), vat=D("0"), deleted=True)]
    data_invoice = invoice(rows, price=D("39.95"))
    record = adapt_invoice(data_invoice, members=[member()])
    assert [line.source_line_id for line in record.lines] == ["row-1"]


def test_amount_checks_name_the_row():
    bad = invoice([row(vat=D("3.31"))], price=D("39.95"))
    with pytest.raises(SourceRecordError) as info:
        adapt_invoice(bad, members=[member()])
    assert info.value.field == "rows[0].vat"
    off = invoice([row()], price=D("40.00"))
    with pytest.raises(SourceRecordError) as info:
        adapt_invoice(off, members=[member()])
    assert info.value.field == "price"
    relaxed = VirtuagymAdapterConfig(check_amounts=False)
    assert adapt_invoice(off, members=[member()], config=relaxed).total_incl_vat == D("40.00")


def test_vat_rate_from_club_taxes_when_the_row_lacks_it():
    tax = ClubTax.from_json(
        {"tax_id": "g", "club_tax_id": 2, "tax_name": "BTW 9%", "tax_perc": "9.00"}
    )
    data = invoice([row(club_tax_perc=None)])
    record = adapt_invoice(data, members=[member()], club_taxes=[tax])
    assert record.lines[0].vat_rate == D("0.09")
    zero = invoice([row(club_tax_id=0, club_tax_perc=0, price_ex_vat=D("39.95"), vat=D("0"))])
    assert adapt_invoice(zero, members=[member()]).lines[0].vat_rate == D(0)


@pytest.mark.parametrize(
    ("mode", "text", "expected"),
    [
        ("raw", "membership", "membership"),
        ("name_id", "membership", "Membership"),
        ("name", "Membership", "Membership"),
        ("either", "membership", "Membership"),
    ],
)
def test_income_category_matching(mode, text, expected):
    category = IncomeCategory.from_json(
        {"income_category_id": "c1", "income_category_name": "Membership", "name_id": "membership"}
    )
    config = VirtuagymAdapterConfig(income_category_match=mode)
    data = invoice([row(income_category=text)])
    record = adapt_invoice(data, members=[member()], income_categories=[category], config=config)
    assert record.lines[0].income_category == expected


def test_unknown_income_category_is_a_typed_error():
    config = VirtuagymAdapterConfig(income_category_match="name")
    with pytest.raises(SourceRecordError) as info:
        adapt_invoice(invoice([row(income_category="mystery")]), members=[member()], config=config)
    assert info.value.field == "rows[0].income_category"


def test_config_rejects_unknown_choices():
    with pytest.raises(ConfigurationError) as info:
        VirtuagymAdapterConfig(number_field="printed")
    assert info.value.key == "number_field"


def test_adapt_all_collects_errors():
    adapter = VirtuagymAdapter(members=[member()], club_id=8633)
    records, errors = adapter.adapt_all([invoice(), invoice(guid="x", member_id=7)])
    assert [r.source_id for r in records] == ["inv-guid-1"]
    assert [(e.record_id, e.field) for e in errors] == [("x", "member_id")]


def test_quantity_and_unit_price():
    data = invoice([row(product_count=3, price=D("30"), price_ex_vat=D("27.52"), vat=D("2.48"))])
    (line,) = adapt_invoice(data, members=[member()]).lines
    assert (line.quantity, line.unit_price, line.amount) == (D(3), D(10), D(30))
    odd = invoice([row(product_count=3, price=D("10"), price_ex_vat=D("9.17"), vat=D("0.83"))])
    assert adapt_invoice(odd, members=[member()]).lines[0].unit_price is None  # 3.333... not exact
