"""Coachview's own shapes, typed: invoices with lines, debtors, companies and persons.

Coachview's REST API answers bare JSON arrays of objects with Dutch camelCase keys,
GUID ids and zone-less local times (reference section 3). The models here have English
snake_case fields; every Dutch wire name the connector reads is in this module (the
paths are in :mod:`.client`), so a correction is made in one place.

UNVERIFIED (reference 3.3, 3.4 and 8): no source confirms the invoice, invoice-line
and debtor payloads. The names below are assumptions built from the fields seen
elsewhere in Coachview (``referentieNrKlant``, ``externId``/``externSource``,
``btwNummer``, ``factuurAdres`` with ``adres1..4``/``postcode``/``plaats``/``landCode``)
and from its accounting export (``Debiteurnummer``). The fake
(``exactbridge.testing.coachview.FakeCoachview``) serves the same names::

    Facturen:    id, factuurnummer, factuurdatum, vervaldatum, referentieNr, omschrijving,
                 valuta, totaalExclBtw, totaalBtw, totaalInclBtw, debiteurId, aanvraagId,
                 aanvraagnummer, referentieNrKlant, opleidingCode, opleidingssoortCode,
                 orderStartdatum, orderEinddatum, factuurstatus,
                 audittrail {aangemaaktDatumTijd, gewijzigdDatumTijd},
                 factuurregels [ {id, omschrijving, aantal, prijsPerStuk, bedragExclBtw,
                                  btwPercentage, btwCode, grootboekrekening, kostenplaats,
                                  opleidingCode, opleidingssoortCode} ]
    Debiteuren:  id, debiteurnummer, debiteurnummerExtern, naam, bedrijfId, persoonId,
                 particulier, btwNummer, iban, bicCode, naamRekeninghouder,
                 emailadresAnders, factuurAdres
    Bedrijven:   id, naam, emailadres, telefoonnummer, kvkNummer, externId, externSource,
                 adres, factuurAdres
    Personen:    id, voorletters, voornaam, tussenvoegsels, achternaam, emailadres,
                 telefoonnummer, externId, externSource, adres, factuurAdres

Money is read exactly (JSON numbers are decoded as :class:`~decimal.Decimal`); line
amounts exclude VAT, as Coachview's accounting export does. Zone-less date-times are
Europe/Amsterdam wall-clock time and become aware datetimes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs
from dateutil import tz

from exactbridge.sources._http import RecordReader

__all__ = [
    "SOURCE",
    "CvAddress",
    "CvCompany",
    "CvDebtor",
    "CvInvoice",
    "CvInvoiceLine",
    "CvPerson",
    "is_guid",
    "parse_company",
    "parse_debtor",
    "parse_invoice",
    "parse_person",
]

#: The source name every Coachview record carries.
SOURCE = "coachview"
AMSTERDAM = tz.gettz("Europe/Amsterdam")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: str) -> bool:
    """Whether ``value`` is a GUID (``2aa65a59-...``), the form of every Coachview id."""
    return bool(_GUID.match(value))


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class CvAddress:
    """An address block (``adres1..adres4``, ``postcode``, ``plaats``, ``landCode``)."""

    lines: tuple[str, ...] = ()
    postcode: str | None = None
    city: str | None = None
    country: str | None = None


@attrs.frozen
class CvInvoiceLine:
    """An invoice line (``factuurregel``); ``amount_excl_vat`` excludes VAT."""

    id: str | None
    description: str
    quantity: Decimal
    unit_price: Decimal | None
    amount_excl_vat: Decimal
    vat_percentage: Decimal | None
    vat_code: str | None
    ledger_account: str | None
    cost_center: str | None
    course_code: str | None
    course_definition_code: str | None


@attrs.frozen
class CvInvoice:
    """A Coachview invoice (``factuur``) with its lines."""

    id: str
    number: str
    invoice_date: dt.date
    due_date: dt.date | None
    reference_number: str | None
    description: str | None
    currency: str
    total_excl_vat: Decimal | None
    total_vat: Decimal | None
    total_incl_vat: Decimal | None
    debtor_id: str
    request_id: str | None
    request_number: str | None
    request_reference: str | None
    course_code: str | None
    course_definition_code: str | None
    order_start: dt.date | None
    order_end: dt.date | None
    status: str | None
    created_at: dt.datetime | None
    changed_at: dt.datetime | None
    lines: tuple[CvInvoiceLine, ...]
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)


@attrs.frozen
class CvDebtor:
    """A debtor (``debiteur``): the internal number and the external debtor number."""

    id: str
    number: str | None
    external_number: str | None
    name: str | None
    company_id: str | None
    person_id: str | None
    private: bool
    vat_number: str | None
    iban: str | None
    bic: str | None
    account_holder: str | None
    email: str | None
    invoice_address: CvAddress | None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)


@attrs.frozen
class CvCompany:
    """A company (``bedrijf``) with its foreign key ``externId`` from ``externSource``."""

    id: str
    name: str
    email: str | None
    phone: str | None
    chamber_of_commerce: str | None
    extern_id: str | None
    extern_source: str | None
    address: CvAddress | None
    invoice_address: CvAddress | None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)


@attrs.frozen
class CvPerson:
    """A person (``persoon``) with its foreign key ``externId`` from ``externSource``."""

    id: str
    initials: str | None
    first_name: str | None
    infix: str | None
    last_name: str
    email: str | None
    phone: str | None
    extern_id: str | None
    extern_source: str | None
    address: CvAddress | None
    invoice_address: CvAddress | None
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_frozen, repr=False)

    @property
    def full_name(self) -> str:
        """First name (or initials), infix and last name: ``"Jan van Dijk"``."""
        parts = [self.first_name or self.initials, self.infix, self.last_name]
        return " ".join(p for p in parts if p)


# --------------------------------------------------------------------------- parsing


def _guid(reader: RecordReader, field: str, *, required: bool) -> str | None:
    value = reader.text(field) if required else reader.opt_text(field)
    if value is None or value == "":
        if required:
            raise reader.error(field, "empty", "a GUID", value)
        return None
    if not is_guid(value):
        raise reader.error(field, "not a GUID", "a GUID like 2aa65a59-0000-...", value)
    return value.lower()


def _local(reader: RecordReader, field: str) -> dt.datetime | None:
    value = reader.data.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, str) and 10 <= len(value) <= 40:
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=AMSTERDAM)
    raise reader.error(field, "not a date-time", "a date-time like 2022-06-20T09:00:00", value)


def _day(reader: RecordReader, field: str) -> dt.date | None:
    """A date sent as ``2022-07-11`` or as a midnight date-time ``2022-07-11T00:00:00``."""
    value = reader.data.get(field)
    if isinstance(value, str) and len(value) > 10 and value[10] == "T":
        moment = _local(reader, field)
        return None if moment is None else moment.date()
    return reader.opt_date(field)


def _address(reader: RecordReader, field: str) -> CvAddress | None:
    obj = reader.opt_object(field)
    if obj is None:
        return None
    a = reader.child(obj, f"{field}.")
    lines = tuple(
        text for text in (a.opt_text(f"adres{i}", coerce=True) for i in range(1, 5)) if text
    )
    country = a.opt_text("landCode")
    if not (lines or a.opt_text("postcode") or a.opt_text("plaats") or country):
        return None
    return CvAddress(
        lines=lines,
        postcode=a.opt_text("postcode", coerce=True),
        city=a.opt_text("plaats"),
        country=country.upper() if country else None,
    )


def _money(reader: RecordReader, field: str) -> Decimal | None:
    value = reader.data.get(field)
    if isinstance(value, float):  # only if someone decoded without parse_float=Decimal
        raise reader.error(field, "a float", "an exact decimal", value)
    return reader.opt_decimal(field)


_LINE_FIELDS = (
    "id",
    "omschrijving",
    "aantal",
    "prijsPerStuk",
    "bedragExclBtw",
    "btwPercentage",
    "btwCode",
    "grootboekrekening",
    "kostenplaats",
    "opleidingCode",
    "opleidingssoortCode",
)


def _line(reader: RecordReader) -> CvInvoiceLine:
    amount = _money(reader, "bedragExclBtw")
    if amount is None:
        raise reader.error("bedragExclBtw", "missing", "the line amount excluding VAT", None)
    percentage = _money(reader, "btwPercentage")
    if percentage is not None and not Decimal(0) <= percentage <= Decimal(100):
        raise reader.error("btwPercentage", "out of range", "a percentage 0-100", percentage)
    return CvInvoiceLine(
        id=_guid(reader, "id", required=False),
        description=reader.opt_text("omschrijving") or "",
        quantity=_money(reader, "aantal") or Decimal(1),
        unit_price=_money(reader, "prijsPerStuk"),
        amount_excl_vat=amount,
        vat_percentage=percentage,
        vat_code=reader.opt_text("btwCode", coerce=True),
        ledger_account=reader.opt_text("grootboekrekening", coerce=True),
        cost_center=reader.opt_text("kostenplaats", coerce=True),
        course_code=reader.opt_text("opleidingCode", coerce=True),
        course_definition_code=reader.opt_text("opleidingssoortCode", coerce=True),
    )


_INVOICE_FIELDS = (
    "id",
    "factuurnummer",
    "factuurdatum",
    "vervaldatum",
    "referentieNr",
    "omschrijving",
    "valuta",
    "totaalExclBtw",
    "totaalBtw",
    "totaalInclBtw",
    "debiteurId",
    "aanvraagId",
    "aanvraagnummer",
    "referentieNrKlant",
    "opleidingCode",
    "opleidingssoortCode",
    "orderStartdatum",
    "orderEinddatum",
    "factuurstatus",
    "audittrail",
    "factuurregels",
)


def parse_invoice(data: Any) -> CvInvoice:
    """One ``Facturen`` object -> :class:`CvInvoice`; a bad field raises ``SourceRecordError``."""
    reader = RecordReader(SOURCE, data, id_field="id")
    invoice_id = _guid(reader, "id", required=True)
    assert invoice_id is not None
    invoice_date = _day(reader, "factuurdatum")
    if invoice_date is None:
        raise reader.error("factuurdatum", "missing", "the invoice date", None)
    audit = reader.opt_object("audittrail")
    a = reader.child(audit, "audittrail.") if audit is not None else None
    lines = tuple(
        _line(reader.child(raw, f"factuurregels[{i}]."))
        for i, raw in enumerate(reader.array("factuurregels", required=False))
    )
    debtor = _guid(reader, "debiteurId", required=True)
    assert debtor is not None
    return CvInvoice(
        id=invoice_id,
        number=reader.text("factuurnummer", coerce=True),
        invoice_date=invoice_date,
        due_date=_day(reader, "vervaldatum"),
        reference_number=reader.opt_text("referentieNr", coerce=True),
        description=reader.opt_text("omschrijving"),
        currency=(reader.opt_text("valuta") or "EUR").upper(),
        total_excl_vat=_money(reader, "totaalExclBtw"),
        total_vat=_money(reader, "totaalBtw"),
        total_incl_vat=_money(reader, "totaalInclBtw"),
        debtor_id=debtor,
        request_id=_guid(reader, "aanvraagId", required=False),
        request_number=reader.opt_text("aanvraagnummer", coerce=True),
        request_reference=reader.opt_text("referentieNrKlant", coerce=True),
        course_code=reader.opt_text("opleidingCode", coerce=True),
        course_definition_code=reader.opt_text("opleidingssoortCode", coerce=True),
        order_start=_day(reader, "orderStartdatum"),
        order_end=_day(reader, "orderEinddatum"),
        status=reader.opt_text("factuurstatus"),
        created_at=_local(a, "aangemaaktDatumTijd") if a else None,
        changed_at=_local(a, "gewijzigdDatumTijd") if a else None,
        lines=lines,
        extra=reader.extras(_INVOICE_FIELDS),
    )


_DEBTOR_FIELDS = (
    "id",
    "debiteurnummer",
    "debiteurnummerExtern",
    "naam",
    "bedrijfId",
    "persoonId",
    "particulier",
    "btwNummer",
    "iban",
    "bicCode",
    "naamRekeninghouder",
    "emailadresAnders",
    "factuurAdres",
)


def parse_debtor(data: Any) -> CvDebtor:
    """One ``Debiteuren`` object -> :class:`CvDebtor`."""
    reader = RecordReader(SOURCE, data, id_field="id")
    debtor_id = _guid(reader, "id", required=True)
    assert debtor_id is not None
    return CvDebtor(
        id=debtor_id,
        number=reader.opt_text("debiteurnummer", coerce=True),
        external_number=reader.opt_text("debiteurnummerExtern", coerce=True) or None,
        name=reader.opt_text("naam"),
        company_id=_guid(reader, "bedrijfId", required=False),
        person_id=_guid(reader, "persoonId", required=False),
        private=reader.flag("particulier", default=False),
        vat_number=reader.opt_text("btwNummer") or None,
        iban=reader.opt_text("iban") or None,
        bic=reader.opt_text("bicCode") or None,
        account_holder=reader.opt_text("naamRekeninghouder") or None,
        email=reader.opt_text("emailadresAnders") or None,
        invoice_address=_address(reader, "factuurAdres"),
        extra=reader.extras(_DEBTOR_FIELDS),
    )


_COMPANY_FIELDS = (
    "id",
    "naam",
    "emailadres",
    "telefoonnummer",
    "kvkNummer",
    "externId",
    "externSource",
    "adres",
    "factuurAdres",
)


def parse_company(data: Any) -> CvCompany:
    """One ``Bedrijven`` object -> :class:`CvCompany`."""
    reader = RecordReader(SOURCE, data, id_field="id")
    company_id = _guid(reader, "id", required=True)
    assert company_id is not None
    return CvCompany(
        id=company_id,
        name=reader.text("naam"),
        email=reader.opt_text("emailadres") or None,
        phone=reader.opt_text("telefoonnummer", coerce=True) or None,
        chamber_of_commerce=reader.opt_text("kvkNummer", coerce=True) or None,
        extern_id=reader.opt_text("externId", coerce=True) or None,
        extern_source=reader.opt_text("externSource") or None,
        address=_address(reader, "adres"),
        invoice_address=_address(reader, "factuurAdres"),
        extra=reader.extras(_COMPANY_FIELDS),
    )


_PERSON_FIELDS = (
    "id",
    "voorletters",
    "voornaam",
    "tussenvoegsels",
    "achternaam",
    "emailadres",
    "telefoonnummer",
    "externId",
    "externSource",
    "adres",
    "factuurAdres",
)


def parse_person(data: Any) -> CvPerson:
    """One ``Personen`` object -> :class:`CvPerson`."""
    reader = RecordReader(SOURCE, data, id_field="id")
    person_id = _guid(reader, "id", required=True)
    assert person_id is not None
    return CvPerson(
        id=person_id,
        initials=reader.opt_text("voorletters") or None,
        first_name=reader.opt_text("voornaam") or None,
        infix=reader.opt_text("tussenvoegsels") or None,
        last_name=reader.text("achternaam"),
        email=reader.opt_text("emailadres") or None,
        phone=reader.opt_text("telefoonnummer", coerce=True) or None,
        extern_id=reader.opt_text("externId", coerce=True) or None,
        extern_source=reader.opt_text("externSource") or None,
        address=_address(reader, "adres"),
        invoice_address=_address(reader, "factuurAdres"),
        extra=reader.extras(_PERSON_FIELDS),
    )
