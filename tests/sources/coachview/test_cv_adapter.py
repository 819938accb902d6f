"""Coachview adapter: every field of the canonical Invoice and Party."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from exactbridge.errors import SourceRecordError
from exactbridge.records import AmountBasis, InvoiceStatus, PartyKind
from exactbridge.sources.coachview import (
    debtor_to_party,
    invoice_to_record,
    parse_company,
    parse_debtor,
    parse_invoice,
    parse_person,
)

INV = "2aa65a59-1111-4222-8333-444455556666"
DEB = "2aa65a59-1111-4222-8333-000000000001"
COM = "2aa65a59-1111-4222-8333-000000000002"
PER = "2aa65a59-1111-4222-8333-000000000003"
ADDRESS = {
    "adres1": "Kerkstraat 1",
    "adres2": "2e etage",
    "postcode": "3511 AB",
    "plaats": "Utrecht",
    "landCode": "nl",
}


def _invoice(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": INV,
        "factuurnummer": "00042",
        "factuurdatum": "2026-02-01",
        "vervaldatum": "2026-03-03",
        "referentieNr": "FREF-9",
        "omschrijving": "Cursus BHV",
        "valuta": "EUR",
        "totaalExclBtw": Decimal("1000.00"),
        "totaalBtw": Decimal("210.00"),
        "totaalInclBtw": Decimal("1210.00"),
        "debiteurId": DEB,
        "aanvraagId": "2AA65A59-1111-4222-8333-000000000009",
        "aanvraagnummer": "A000123",
        "referentieNrKlant": "PO-77",
        "opleidingCode": "BHV-2026-03",
        "opleidingssoortCode": "BHV",
        "orderStartdatum": "2026-03-10T00:00:00",
        "orderEinddatum": "2026-03-12",
        "factuurstatus": "Definitief",
        "audittrail": {
            "aangemaaktDatumTijd": "2026-02-01T09:00:00",
            "gewijzigdDatumTijd": "2026-02-02T10:15:00",
        },
        "factuurregels": [
            {
                "id": "2aa65a59-1111-4222-8333-0000000000a1",
                "omschrijving": "Deelname",
                "aantal": Decimal(2),
                "prijsPerStuk": Decimal("500.00"),
                "bedragExclBtw": Decimal("1000.00"),
                "btwPercentage": Decimal(21),
                "btwCode": "VH",
                "grootboekrekening": 8000,
                "kostenplaats": "KP01",
                "opleidingCode": "BHV-2026-03",
                "opleidingssoortCode": "BHV",
            },
        ],
    }
    data.update(changes)
    return data


def _debtor(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": DEB,
        "debiteurnummer": "00017",
        "debiteurnummerExtern": "EXT-55",
        "naam": None,
        "bedrijfId": COM,
        "persoonId": None,
        "particulier": False,
        "btwNummer": "NL001234567B01",
        "iban": "NL91ABNA0417164300",
        "bicCode": "ABNANL2A",
        "naamRekeninghouder": "X",
        "emailadresAnders": None,
        "factuurAdres": None,
    }
    data.update(changes)
    return data


COMPANY = {
    "id": COM,
    "naam": "Opleidingen B.V.",
    "emailadres": "fin@opl.nl",
    "telefoonnummer": "030-1",
    "kvkNummer": 12345678,
    "externId": "R-900",
    "externSource": "ExactOnline",
    "adres": None,
    "factuurAdres": ADDRESS,
}
PERSON = {
    "id": PER,
    "voorletters": "J.",
    "voornaam": None,
    "tussenvoegsels": "de",
    "achternaam": "Vries",
    "emailadres": "j@devries.nl",
    "externId": "P-1",
    "externSource": "AFAS",
    "adres": ADDRESS,
}


def test_invoice_fields() -> None:
    record = invoice_to_record(
        parse_invoice(_invoice()),
        parse_debtor(_debtor()),
        company=parse_company(COMPANY),
        tenant="cv-tenant",
    )
    assert record.source == "coachview"
    assert record.source_id == INV
    assert record.number == "00042"
    assert record.invoice_date == dt.date(2026, 2, 1)
    assert record.due_date == dt.date(2026, 3, 3)
    assert record.order_start == dt.date(2026, 3, 10)
    assert record.order_end == dt.date(2026, 3, 12)
    assert record.total_excl_vat == Decimal("1000.00")
    assert record.total_incl_vat == Decimal("1210.00")
    assert record.reference == "FREF-9"
    assert record.description == "Cursus BHV"
    assert record.status is InvoiceStatus.OPEN
    assert record.tenant == "cv-tenant"
    assert record.changed_at == dt.datetime(2026, 2, 2, 9, 15, tzinfo=dt.timezone.utc)
    assert dict(record.attributes) == {
        "request_number": "A000123",
        "request_reference": "PO-77",
        "invoice_reference": "FREF-9",
        "course_code": "BHV-2026-03",
        "course_definition_code": "BHV",
        "request_id": "2aa65a59-1111-4222-8333-000000000009",
        "cost_center": "KP01",
    }
    (line,) = record.lines
    assert line.amount == Decimal("1000.00")
    assert line.amount_basis is AmountBasis.EXCLUDING_VAT
    assert line.quantity == Decimal(2)
    assert line.unit_price == Decimal("500.00")
    assert line.vat_rate == Decimal("0.21")
    assert line.vat_category == "VH"
    assert line.income_category == "8000"
    assert line.course_edition == "BHV-2026-03"
    assert line.course_template == "BHV"
    assert line.source_line_id == "2aa65a59-1111-4222-8333-0000000000a1"


def test_party_carries_all_three_debtor_numbers() -> None:
    party = debtor_to_party(parse_debtor(_debtor()), company=parse_company(COMPANY))
    assert party.internal_number == "00017"
    assert party.external_number == "EXT-55"
    assert dict(party.extern_ids) == {"ExactOnline": "R-900"}
    assert party.kind is PartyKind.ORGANISATION
    assert party.name == "Opleidingen B.V."
    assert party.vat_number == "NL001234567B01"
    assert party.chamber_of_commerce == "12345678"
    assert party.email == "fin@opl.nl"
    assert party.address is not None
    assert (party.address.line1, party.address.line2, party.address.country) == (
        "Kerkstraat 1",
        "2e etage",
        "NL",
    )


def test_private_person_debtor() -> None:
    debtor = parse_debtor(
        _debtor(
            bedrijfId=None,
            persoonId=PER,
            particulier=True,
            debiteurnummerExtern="",
            emailadresAnders="alt@x.nl",
        )
    )
    party = debtor_to_party(debtor, person=parse_person(PERSON))
    assert party.kind is PartyKind.PERSON
    assert party.name == "J. de Vries"
    assert party.external_number is None
    assert dict(party.extern_ids) == {"AFAS": "P-1"}
    assert party.email == "alt@x.nl"
    assert party.address is not None
    assert party.address.city == "Utrecht"


def test_negative_invoice_stays_negative() -> None:
    line = dict(
        _invoice()["factuurregels"][0],
        bedragExclBtw=Decimal("-1000.00"),
        prijsPerStuk=Decimal("-500.00"),
    )
    data = _invoice(
        totaalExclBtw=Decimal("-1000.00"), totaalInclBtw=Decimal("-1210.00"), factuurregels=[line]
    )
    record = invoice_to_record(parse_invoice(data), parse_debtor(_debtor()))
    assert record.total_incl_vat == Decimal("-1210.00")
    assert record.lines[0].amount == Decimal("-1000.00")
    # A credit invoice's lines are revenue taken back, not discounts (which would lose
    # their cost center and land on a discount account).
    assert record.lines[0].is_discount is False


def test_missing_totals_are_summed_and_unknown_status_is_open() -> None:
    data = _invoice(totaalExclBtw=None, factuurstatus="Iets nieuws")
    record = invoice_to_record(parse_invoice(data), parse_debtor(_debtor()))
    assert record.total_excl_vat == Decimal("1000.00")
    assert record.status is InvoiceStatus.OPEN
    paid = invoice_to_record(
        parse_invoice(_invoice(factuurstatus="Betaald")), parse_debtor(_debtor())
    )
    assert paid.status is InvoiceStatus.PAID


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "42"}, "id"),
        ({"debiteurId": None}, "debiteurId"),
        ({"factuurdatum": None}, "factuurdatum"),
        ({"totaalInclBtw": 12.5}, "totaalInclBtw"),
        ({"orderStartdatum": "morgen"}, "orderStartdatum"),
        ({"audittrail": {"gewijzigdDatumTijd": "gisteren"}}, "audittrail.gewijzigdDatumTijd"),
        (
            {"factuurregels": [{"bedragExclBtw": Decimal(1), "btwPercentage": 121}]},
            "factuurregels[0].btwPercentage",
        ),
    ],
)
def test_hostile_invoice_fields(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(SourceRecordError) as info:
        parse_invoice(_invoice(**changes))
    assert info.value.field == field
    assert info.value.source == "coachview"


def test_hostile_related_records() -> None:
    with pytest.raises(SourceRecordError, match="achternaam"):
        parse_person({**PERSON, "achternaam": None})
    with pytest.raises(SourceRecordError, match="bedrijfId"):
        parse_debtor(_debtor(bedrijfId="nope"))
    with pytest.raises(SourceRecordError, match="naam"):
        parse_company({**COMPANY, "naam": 5})
