"""Eduframe adapter: every field mapping, VAT-number validation, course chain, discounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exactbridge.errors import ConfigurationError, SourceRecordError
from exactbridge.records import AmountBasis, InvoiceStatus, PartyKind, ServicePeriod
from exactbridge.sources.eduframe import (
    Account,
    CatalogVariant,
    Course,
    DiscountCode,
    EduframeAdapter,
    EduframeAdapterConfig,
    EduframeInvoice,
    InvoiceVat,
    Order,
    PlannedCourse,
    adapt_account,
    normalize_vat_number,
)

D = Decimal


def account(vat="NL123456789B01", country="NL", kind="business", **custom):
    return Account.from_json(
        {
            "id": 7,
            "name": "Acme Opleidingen B.V.",
            "email": "billing@acme.example",
            "phone": "030-1234567",
            "account_type": kind,
            "address": {
                "addressee": "Administratie",
                "address": "Kerkstraat 1",
                "address_line2": "2e verdieping",
                "postal_code": "3511 AB",
                "city": "Utrecht",
                "country": country,
                "state_province": None,
            },
            "custom": {"vat_number": vat, **custom},
        }
    )


VATS = [
    InvoiceVat.from_json({"id": 1, "name": "21%", "percentage": "21.0", "has_vat": True}),
    InvoiceVat.from_json({"id": 2, "name": "Vrijgesteld", "percentage": "0.0", "has_vat": False}),
]
COURSES = [Course.from_json({"id": 3, "name": "Excel", "code": "CRS-003"})]
EDITIONS = [
    PlannedCourse.from_json(
        {
            "id": 30,
            "course_id": 3,
            "start_date": "2026-02-02",
            "end_date": "2026-02-16",
            "cost": "495.00",
        }
    )
]
VARIANTS = [
    CatalogVariant.from_json({"id": 300, "variantable_type": "PlannedCourse", "variantable_id": 30})
]
ORDERS = [
    Order.from_json(
        {"id": 9, "number": 5009, "discount_code": "VROEGBOEK", "total_discount": "50.00"}
    )
]
CODES = [
    DiscountCode.from_json(
        {"id": 1, "discount_code": "VROEGBOEK", "discount_type": "fixed", "amount": 50}
    )
]


def invoice(**overrides):
    data = {
        "id": 17,
        "number": "2026000017",
        "number_int": 2026000017,
        "reference_id": "1234567890123456",
        "status": "open",
        "opened_at": "2026-01-12",
        "expiration_date": "2026-02-11",
        "description": "Inschrijving Excel",
        "feature": "Ordernummer 5009",
        "footnote": None,
        "account_id": 7,
        "account_name": "Acme",
        "order_id": 9,
        "order_number": 5009,
        "currency": "EUR",
        "total_incl": "481.95",
        "total_excl": "484.95",
        "total_open": "481.95",
        "created_at": "2026-01-10T08:00:00.000Z",
        "updated_at": "2026-01-12T09:30:00.000Z",
        "invoice_items": [
            {
                "id": 1,
                "name": "Cursus Excel",
                "units": 1,
                "unit_price": "495.00",
                "invoice_vat_id": 2,
                "catalog_variant_id": 300,
            },
            {
                "id": 2,
                "name": "Lesboek",
                "units": 2,
                "unit_price": "19.95",
                "invoice_vat_id": 1,
                "catalog_variant_id": None,
            },
            {
                "id": 3,
                "name": "Korting VROEGBOEK",
                "units": 1,
                "unit_price": "-50.00",
                "invoice_vat_id": 2,
                "catalog_variant_id": None,
            },
        ],
    }
    data.update(overrides)
    return EduframeInvoice.from_json(data)


def adapter(config=None, accounts=None):
    return EduframeAdapter(
        accounts=accounts if accounts is not None else [account()],
        invoice_vats=VATS,
        catalog_variants=VARIANTS,
        planned_courses=EDITIONS,
        courses=COURSES,
        orders=ORDERS,
        discount_codes=CODES,
        config=config,
    )


def test_invoice_header_fields():
    record = adapter().invoice(invoice())
    assert record.source == "eduframe"
    assert record.source_id == "17"
    assert record.number == "2026000017"
    assert record.invoice_date == dt.date(2026, 1, 12)  # opened_at
    assert record.due_date == dt.date(2026, 2, 11)  # expiration_date
    assert record.reference == "1234567890123456"  # reference_id
    assert record.description == "Inschrijving Excel"
    assert record.feature_text == "Ordernummer 5009"
    assert record.total_incl_vat == D("481.95")
    assert record.total_excl_vat == D("484.95")
    assert record.currency == "EUR"
    assert record.status is InvoiceStatus.OPEN
    assert record.changed_at == dt.datetime(2026, 1, 12, 9, 30, tzinfo=dt.timezone.utc)
    assert record.pdf is not None
    assert record.pdf.source_key == "17"
    assert record.pdf.filename == "invoice-2026000017.pdf"
    assert record.attributes["discount_code"] == "VROEGBOEK"
    assert record.attributes["order_number"] == "5009"
    assert record.service_period == ServicePeriod(dt.date(2026, 2, 2), dt.date(2026, 2, 16))


def test_lines_carry_course_chain_vat_and_discounts():
    lines = adapter().invoice(invoice()).lines
    course, book, discount = lines
    assert (course.description, course.quantity, course.unit_price, course.amount) == (
        "Cursus Excel",
        D(1),
        D("495.00"),
        D("495.00"),
    )
    assert course.amount_basis is AmountBasis.EXCLUDING_VAT
    assert (course.vat_category, course.vat_rate) == ("2", D(0))
    assert (course.course_edition, course.course_template, course.product) == ("30", "3", "300")
    assert course.service_period == ServicePeriod(dt.date(2026, 2, 2), dt.date(2026, 2, 16))
    assert course.is_discount is False
    assert course.source_line_id == "1"
    assert (book.amount, book.vat_rate, book.course_edition) == (D("39.90"), D("0.21"), None)
    assert discount.is_discount is True
    assert discount.amount == D("-50.00")
    assert (discount.course_edition, discount.course_template) == (None, None)


def test_discount_recognised_by_code_name_even_with_positive_price():
    inv = invoice(
        invoice_items=[
            {"id": 1, "name": "Cursus", "units": 1, "unit_price": "100.00", "invoice_vat_id": 2},
            {"id": 2, "name": "VROEGBOEK", "units": 1, "unit_price": "0.00", "invoice_vat_id": 2},
        ]
    )
    assert [line.is_discount for line in adapter().invoice(inv).lines] == [False, True]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", InvoiceStatus.OPEN),
        ("paid", InvoiceStatus.PAID),
        ("expired", InvoiceStatus.EXPIRED),
    ],
)
def test_statuses(status, expected):
    assert adapter().invoice(invoice(status=status)).status is expected


def test_concept_invoice_is_an_error_or_a_draft():
    concept = invoice(status="concept", number=None, opened_at=None, expiration_date=None)
    with pytest.raises(SourceRecordError) as info:
        adapter().invoice(concept)
    assert (info.value.record_id, info.value.field) == ("invoice 17", "number")
    draft = adapter(EduframeAdapterConfig(concept_invoices="draft")).invoice(concept)
    assert draft.status is InvoiceStatus.DRAFT
    assert draft.number == "concept-17"
    assert draft.invoice_date == dt.date(2026, 1, 10)


def test_party_from_business_account():
    party = adapter().invoice(invoice()).party
    assert party is not None
    assert party.kind is PartyKind.ORGANISATION
    assert party.name == "Acme Opleidingen B.V."
    assert party.email == "billing@acme.example"
    assert party.phone == "030-1234567"
    assert party.vat_number == "NL123456789B01"
    assert party.source_id == "7"
    assert party.internal_number == "7"
    assert dict(party.extern_ids) == {"eduframe": "7"}
    assert party.address is not None
    assert (party.address.line1, party.address.line2, party.address.postcode) == (
        "Kerkstraat 1",
        "2e verdieping",
        "3511 AB",
    )
    assert (party.address.city, party.address.country) == ("Utrecht", "NL")


def test_personal_account_is_a_person_without_vat():
    party = adapt_account(account(vat=None, kind="personal"))
    assert party.kind is PartyKind.PERSON
    assert party.vat_number is None


@pytest.mark.parametrize(
    ("vat", "country", "expected"),
    [
        ("nl 1234.56789.b01", "NL", "NL123456789B01"),
        ("BE0123456789", "BE", "BE0123456789"),
        ("DE123456789", "DE", "DE123456789"),
        ("EL123456789", "GR", "EL123456789"),
        ("FR12345678901", "FR", "FR12345678901"),
    ],
)
def test_valid_vat_numbers(vat, country, expected):
    assert adapt_account(account(vat=vat, country=country)).vat_number == expected


@pytest.mark.parametrize(
    ("vat", "country"),
    [
        ("123456789B01", "NL"),
        ("NL12345B01", "NL"),
        ("BE0123456789", "NL"),
        ("DE12345", "DE"),
        ("X", "NL"),
    ],
)
def test_invalid_vat_numbers_name_the_account_field(vat, country):
    with pytest.raises(SourceRecordError) as info:
        adapt_account(account(vat=vat, country=country))
    assert (info.value.record_id, info.value.field) == ("account 7", "custom.vat_number")
    dropped = adapt_account(
        account(vat=vat, country=country), EduframeAdapterConfig(invalid_vat_number="drop")
    )
    assert dropped.vat_number is None


def test_vat_number_under_a_configured_slug():
    acc = account(vat=None, btw_nummer="NL123456789B01")
    assert adapt_account(acc).vat_number is None
    config = EduframeAdapterConfig(vat_number_slug="btw_nummer")
    assert adapt_account(acc, config).vat_number == "NL123456789B01"


def test_vat_number_of_wrong_type():
    with pytest.raises(SourceRecordError) as info:
        adapt_account(account(vat=123456789))
    assert info.value.expected == "a string"


def test_invalid_vat_on_invoice_is_collected_by_adapt_all():
    bad = adapter(accounts=[account(vat="nonsense")])
    records, errors = bad.adapt_all([invoice()])
    assert records == []
    assert errors[0].field == "custom.vat_number"


def test_unknown_account_and_vat_code():
    with pytest.raises(SourceRecordError) as info:
        adapter(accounts=[]).invoice(invoice())
    assert info.value.field == "account_id"
    wrong = invoice(
        invoice_items=[{"id": 1, "name": "x", "units": 1, "unit_price": "1", "invoice_vat_id": 99}]
    )
    with pytest.raises(SourceRecordError) as info:
        adapter().invoice(wrong)
    assert info.value.field == "invoice_items[0].invoice_vat_id"


def test_unit_price_basis_is_configurable():
    config = EduframeAdapterConfig(unit_price_basis=AmountBasis.INCLUDING_VAT)
    assert {line.amount_basis for line in adapter(config).invoice(invoice()).lines} == {
        AmountBasis.INCLUDING_VAT
    }


def test_config_validation_and_normalizer():
    with pytest.raises(ConfigurationError):
        EduframeAdapterConfig(invalid_vat_number="ignore")
    assert normalize_vat_number(" be 0123-456-789 ") == "BE0123456789"


def test_no_items_is_an_error():
    with pytest.raises(SourceRecordError) as info:
        adapter().invoice(invoice(invoice_items=[]))
    assert info.value.field == "invoice_items"
