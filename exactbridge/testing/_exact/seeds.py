"""Seed helpers: realistic Dutch and Belgian administrations for the fake Exact Online.

:func:`seed_division` creates a division and fills it through the same create paths
(and therefore the same validation) the API uses: GL accounts, VAT codes, journals,
cost centres and units, payment conditions and financial periods. It returns a
:class:`SeededDivision` with the ids and codes tests need::

    seeded = seed_division(domain, 1001, template="nl")
    seeded.gl("8000")           # GUID of revenue account 8000
    seeded.sales_journal        # "70"

The Dutch template follows the usual Dutch chart (1300 Debiteuren, 1500 Af te dragen
btw, 8000-range revenue); the Belgian one uses Belgian-style codes (400000 customers,
451000 VAT, 700000 revenue). Both are *illustrative*: real administrations differ, and
code that books into Exact must always look codes up. ``docs/testing-exact-entities.md``
lists every seeded row.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from exactbridge.testing._exact.domain import ExactDomain
from exactbridge.testing._exact.schema import EntitySet

__all__ = ["SeededDivision", "seed_division"]


@attrs.frozen
class SeededDivision:
    """What :func:`seed_division` created: ids by code, and the codes of each role.

    Role fields are ``None`` for ``template=None`` (an empty administration).
    """

    division: int
    template: str | None
    financial_years: tuple[int, ...]
    gl_accounts: Mapping[str, uuid.UUID] = attrs.field(factory=dict)
    vat_codes: Mapping[str, uuid.UUID] = attrs.field(factory=dict)  # unpadded code -> ID
    journals: Mapping[str, uuid.UUID] = attrs.field(factory=dict)
    cost_centers: Mapping[str, uuid.UUID] = attrs.field(factory=dict)
    cost_units: Mapping[str, uuid.UUID] = attrs.field(factory=dict)
    payment_conditions: Mapping[str, uuid.UUID] = attrs.field(factory=dict)
    customers: Mapping[str, uuid.UUID] = attrs.field(factory=dict)  # name -> account ID
    # journals by role
    sales_journal: str | None = None
    credit_note_journal: str | None = None
    bank_journal: str | None = None
    psp_journal: str | None = None
    general_journal: str | None = None
    general_vat_journal: str | None = None
    # GL account codes by role
    debtors: str | None = None
    creditors: str | None = None
    bank: str | None = None
    psp_transfer: str | None = None
    suspense: str | None = None
    payment_costs: str | None = None
    vat_to_pay_high: str | None = None
    vat_to_pay_low: str | None = None
    vat_to_claim: str | None = None
    revenue_high: str | None = None
    revenue_low: str | None = None
    revenue_zero: str | None = None
    revenue_cost_center_required: str | None = None
    revenue_cost_unit_required: str | None = None
    # VAT codes (unpadded) by role
    vat_high: str | None = None
    vat_low: str | None = None
    vat_zero: str | None = None
    vat_high_including: str | None = None
    vat_outside_eu: str | None = None
    vat_inside_eu: str | None = None
    vat_purchase_only: str | None = None

    def gl(self, code: str) -> uuid.UUID:
        """The ID of GL account ``code`` (KeyError names the code if it was not seeded)."""
        return self.gl_accounts[code]

    def vat(self, code: str) -> str:
        """Exact's padded form of a seeded VAT code (``"2"`` -> ``"2  "``)."""
        if code.strip() not in self.vat_codes:
            raise KeyError(code)
        return code.strip().ljust(3)


# -- template data -----------------------------------------------------------------------------
# GL: (code, description, type, extra fields)
_GL = tuple[str, str, int, Mapping[str, Any]]
# VAT: (code, description, percentage, type, transaction type, GLToPay code, GLToClaim code, extra)
_VAT = tuple[str, str, str, str, str, str | None, str | None, Mapping[str, Any]]
# journal: (code, description, type, GL code, extra)
_JOURNAL = tuple[str, str, int, str | None, Mapping[str, Any]]

_NL_GL: tuple[_GL, ...] = (
    ("1100", "Bank", 12, {}),
    ("1110", "Tussenrekening betaalprovider", 16, {}),
    ("1300", "Debiteuren", 20, {}),
    ("1500", "Af te dragen btw hoog", 24, {}),
    ("1510", "Af te dragen btw laag", 24, {}),
    ("1520", "Te vorderen btw", 24, {}),
    ("1600", "Crediteuren", 22, {}),
    ("2050", "Vraagposten", 90, {}),
    ("4510", "Betaalkosten", 120, {}),
    ("8000", "Omzet hoog tarief", 110, {"_vat": "2"}),
    ("8010", "Omzet laag tarief", 110, {"_vat": "1"}),
    ("8020", "Omzet nultarief", 110, {"_vat": "0"}),
    ("8030", "Omzet lessen (kostenplaats verplicht)", 110, {"_vat": "2", "UseCostcenter": 1}),
    ("8040", "Omzet opleidingen (kostendrager verplicht)", 110, {"_vat": "0", "UseCostunit": 1}),
)
_NL_VAT: tuple[_VAT, ...] = (
    ("0", "Geen btw (0%)", "0", "B", "B", None, None, {}),
    ("1", "Btw laag 9% excl.", "0.09", "E", "B", "1510", "1520", {}),
    ("2", "Btw hoog 21% excl.", "0.21", "E", "B", "1500", "1520", {}),
    ("4", "Voorbelasting 21% (alleen inkoop)", "0.21", "E", "P", None, "1520", {}),
    ("5", "Btw hoog 21% incl.", "0.21", "I", "B", "1500", "1520", {}),
    ("6", "Export buiten de EU", "0", "B", "S", None, None, {}),
    ("7", "Levering binnen de EU", "0", "B", "S", None, None, {"EUSalesListing": "S"}),
)
_NL_JOURNALS: tuple[_JOURNAL, ...] = (
    ("70", "Verkoopboek", 20, "1300", {}),
    ("71", "Creditnota's", 21, "1300", {}),
    ("20", "Bank", 12, "1100", {"BankAccountIncludingMask": "NL91 ABNA 0417 1643 00"}),
    ("25", "Betaalprovider", 16, "1110", {"PaymentServiceProvider": 1}),
    ("90", "Memoriaal", 90, "2050", {}),
    ("91", "Memoriaal met btw", 90, "2050", {"AllowVAT": True}),
)
_NL_COST_CENTERS = (("100", "Fitness"), ("200", "Groepslessen"), ("300", "Opleidingen"))
_NL_COST_UNITS = (("AMS", "Vestiging Amsterdam"), ("UTR", "Vestiging Utrecht"))
_NL_CONDITIONS = (
    ("00", "Direct", 0, "B"),
    ("14", "14 dagen", 14, "B"),
    ("30", "30 dagen", 30, "B"),
)
_NL_ROLES: Mapping[str, str] = {
    "sales_journal": "70",
    "credit_note_journal": "71",
    "bank_journal": "20",
    "psp_journal": "25",
    "general_journal": "90",
    "general_vat_journal": "91",
    "debtors": "1300",
    "creditors": "1600",
    "bank": "1100",
    "psp_transfer": "1110",
    "suspense": "2050",
    "payment_costs": "4510",
    "vat_to_pay_high": "1500",
    "vat_to_pay_low": "1510",
    "vat_to_claim": "1520",
    "revenue_high": "8000",
    "revenue_low": "8010",
    "revenue_zero": "8020",
    "revenue_cost_center_required": "8030",
    "revenue_cost_unit_required": "8040",
    "vat_high": "2",
    "vat_low": "1",
    "vat_zero": "0",
    "vat_high_including": "5",
    "vat_outside_eu": "6",
    "vat_inside_eu": "7",
    "vat_purchase_only": "4",
}

_BE_GL: tuple[_GL, ...] = (
    ("400000", "Klanten", 20, {}),
    ("411000", "Terug te vorderen btw", 24, {}),
    ("440000", "Leveranciers", 22, {}),
    ("451000", "Te betalen btw", 24, {}),
    ("499000", "Wachtrekening", 90, {}),
    ("550000", "Bank", 12, {}),
    ("580000", "Interne overboekingen betaalprovider", 16, {}),
    ("657000", "Bankkosten", 120, {}),
    ("700000", "Omzet 21%", 110, {"_vat": "21"}),
    ("700100", "Omzet 12%", 110, {"_vat": "12"}),
    ("700200", "Omzet 6%", 110, {"_vat": "6"}),
    ("700300", "Omzet 0%", 110, {"_vat": "0"}),
    ("701000", "Omzet lessen (kostenplaats verplicht)", 110, {"_vat": "21", "UseCostcenter": 1}),
    ("702000", "Omzet opleidingen (kostendrager verplicht)", 110, {"_vat": "6", "UseCostunit": 1}),
)
_BE_VAT: tuple[_VAT, ...] = (
    ("0", "Btw 0%", "0", "B", "B", None, None, {}),
    ("6", "Btw 6%", "0.06", "E", "B", "451000", "411000", {}),
    ("12", "Btw 12%", "0.12", "E", "B", "451000", "411000", {}),
    ("21", "Btw 21%", "0.21", "E", "B", "451000", "411000", {}),
    ("21I", "Btw 21% incl.", "0.21", "I", "B", "451000", "411000", {}),
    ("81", "Aftrekbare btw 21% (alleen aankoop)", "0.21", "E", "P", None, "411000", {}),
    ("EX", "Uitvoer buiten de EU", "0", "B", "S", None, None, {}),
    ("IC", "Intracommunautaire levering", "0", "B", "S", None, None, {"EUSalesListing": "S"}),
)
_BE_JOURNALS: tuple[_JOURNAL, ...] = (
    ("VF", "Verkoopfacturen", 20, "400000", {}),
    ("VC", "Creditnota's verkoop", 21, "400000", {}),
    ("BK", "Bank", 12, "550000", {"BankAccountIncludingMask": "BE68 5390 0754 7034"}),
    ("PSP", "Betaalprovider", 16, "580000", {"PaymentServiceProvider": 1}),
    ("DIV", "Diverse verrichtingen", 90, "499000", {}),
    ("DIVB", "Diverse verrichtingen met btw", 90, "499000", {"AllowVAT": True}),
)
_BE_COST_CENTERS = (("100", "Fitness"), ("200", "Groepslessen"), ("300", "Opleidingen"))
_BE_COST_UNITS = (("ANT", "Vestiging Antwerpen"), ("GNT", "Vestiging Gent"))
_BE_CONDITIONS = (
    ("00", "Contant", 0, "B"),
    ("14", "14 dagen", 14, "B"),
    ("30", "30 dagen", 30, "B"),
)
_BE_ROLES: Mapping[str, str] = {
    "sales_journal": "VF",
    "credit_note_journal": "VC",
    "bank_journal": "BK",
    "psp_journal": "PSP",
    "general_journal": "DIV",
    "general_vat_journal": "DIVB",
    "debtors": "400000",
    "creditors": "440000",
    "bank": "550000",
    "psp_transfer": "580000",
    "suspense": "499000",
    "payment_costs": "657000",
    "vat_to_pay_high": "451000",
    "vat_to_pay_low": "451000",
    "vat_to_claim": "411000",
    "revenue_high": "700000",
    "revenue_low": "700200",
    "revenue_zero": "700300",
    "revenue_cost_center_required": "701000",
    "revenue_cost_unit_required": "702000",
    "vat_high": "21",
    "vat_low": "6",
    "vat_zero": "0",
    "vat_high_including": "21I",
    "vat_outside_eu": "EX",
    "vat_inside_eu": "IC",
    "vat_purchase_only": "81",
}


@attrs.frozen
class _Template:
    country: str
    description: str
    gl: tuple[_GL, ...]
    vat: tuple[_VAT, ...]
    journals: tuple[_JOURNAL, ...]
    cost_centers: tuple[tuple[str, str], ...]
    cost_units: tuple[tuple[str, str], ...]
    conditions: tuple[tuple[str, str, int, str], ...]
    roles: Mapping[str, str]


_TEMPLATES: Mapping[str, _Template] = {
    "nl": _Template(
        "NL",
        "Sportschool De Fake BV",
        _NL_GL,
        _NL_VAT,
        _NL_JOURNALS,
        _NL_COST_CENTERS,
        _NL_COST_UNITS,
        _NL_CONDITIONS,
        _NL_ROLES,
    ),
    "be": _Template(
        "BE",
        "Sportclub De Fake BV",
        _BE_GL,
        _BE_VAT,
        _BE_JOURNALS,
        _BE_COST_CENTERS,
        _BE_COST_UNITS,
        _BE_CONDITIONS,
        _BE_ROLES,
    ),
}


def _parse_closed(
    closed_periods: Iterable[Sequence[object]],
) -> list[tuple[int, int, str | None]]:
    result: list[tuple[int, int, str | None]] = []
    for item in closed_periods:
        if len(item) not in (2, 3):
            raise ValueError(
                f"closed_periods items are (year, period) or (year, period, journal), not {item!r}"
            )
        year, period = item[0], item[1]
        if not isinstance(year, int) or not isinstance(period, int):
            raise ValueError(f"closed period {item!r}: year and period must be ints")
        journal = None if len(item) == 2 or item[2] is None else str(item[2])
        result.append((year, period, journal))
    return result


def seed_division(
    domain: ExactDomain,
    code: int,
    *,
    template: str | None = "nl",
    financial_year_start_month: int = 1,
    years: Iterable[int] = (2025, 2026),
    closed_periods: Iterable[Sequence[object]] = (),
    description: str = "",
    customers: Iterable[str] = (),
) -> SeededDivision:
    """Create division ``code`` and fill it from a template (``"nl"``, ``"be"`` or None).

    * ``financial_year_start_month``: 1 for calendar years; e.g. 7 makes financial
      year 2025 run from July 2025 to June 2026;
    * ``years``: the financial years whose 12 periods are created;
    * ``closed_periods``: ``(year, period)`` (closed for every journal) or
      ``(year, period, journal_code)`` items;
    * ``customers``: names of customer accounts to create (codes 1, 2, ...).

    Every row is created through :meth:`ExactDomain.create`, so the seed obeys the
    API's validation. Raises ``ValueError`` for an unknown template or bad options.
    """
    chosen = None
    if template is not None:
        chosen = _TEMPLATES.get(template)
        if chosen is None:
            raise ValueError(f"unknown template {template!r}; use 'nl', 'be' or None")
    closed = _parse_closed(closed_periods)
    year_list = tuple(years)
    if not domain.has_division(code):
        domain.add_division(
            code,
            description=description or (chosen.description if chosen else ""),
            country=chosen.country if chosen else "NL",
        )
    for year in year_list:
        domain.add_financial_year(code, year, start_month=financial_year_start_month)
    for year, period, journal in closed:
        domain.close_period(code, year, period, journal=journal)
    if chosen is None:
        customer_ids = _create_customers(domain, code, customers)
        return SeededDivision(
            division=code, template=None, financial_years=year_list, customers=customer_ids
        )
    return _seed_template(domain, code, template or "", chosen, year_list, customers)


def _set(domain: ExactDomain, path: str) -> EntitySet:
    entity_set = domain.entity_set(path)
    if entity_set is None:  # pragma: no cover - catalogue paths are fixed
        raise KeyError(path)
    return entity_set


def _create_customers(domain: ExactDomain, code: int, names: Iterable[str]) -> dict[str, uuid.UUID]:
    accounts = _set(domain, "crm/Accounts")
    result: dict[str, uuid.UUID] = {}
    for name in names:
        row = domain.create(code, accounts, {"Name": name, "Status": "C", "IsSales": True})
        result[name] = row["ID"]
    return result


def _seed_template(
    domain: ExactDomain,
    code: int,
    template_name: str,
    template: _Template,
    years: tuple[int, ...],
    customers: Iterable[str],
) -> SeededDivision:
    cost_centers = {
        c: domain.create(code, _set(domain, "hrm/Costcenters"), {"Code": c, "Description": d})["ID"]
        for c, d in template.cost_centers
    }
    cost_units = {
        c: domain.create(code, _set(domain, "hrm/Costunits"), {"Code": c, "Description": d})["ID"]
        for c, d in template.cost_units
    }
    gl_set = _set(domain, "financial/GLAccounts")
    gl: dict[str, uuid.UUID] = {}
    for gl_code, gl_description, gl_type, extra in template.gl:
        body: dict[str, Any] = {"Code": gl_code, "Description": gl_description, "Type": gl_type}
        body.update({k: v for k, v in extra.items() if not k.startswith("_")})
        gl[gl_code] = domain.create(code, gl_set, body)["ID"]
    vat_set = _set(domain, "vat/VATCodes")
    vat: dict[str, uuid.UUID] = {}
    for vat_code, vat_description, pct, kind, transaction, to_pay, to_claim, extra in template.vat:
        body = {
            "Code": vat_code,
            "Description": vat_description,
            "Percentage": Decimal(pct),
            "Type": kind,
            "VATTransactionType": transaction,
            "GLToPay": str(gl[to_pay]) if to_pay else None,
            "GLToClaim": str(gl[to_claim]) if to_claim else None,
        }
        body.update(extra)
        vat[vat_code] = domain.create(code, vat_set, body)["ID"]
    for gl_code, _, _, extra in template.gl:
        default_vat = extra.get("_vat")
        if default_vat is not None:
            domain.update(code, gl_set, gl[gl_code], {"VATCode": str(default_vat)})
    conditions = {
        c: domain.create(
            code,
            _set(domain, "cashflow/PaymentConditions"),
            {"Code": c, "Description": d, "PaymentDays": days, "PaymentMethod": method},
        )["ID"]
        for c, d, days, method in template.conditions
    }
    journal_set = _set(domain, "financial/Journals")
    journals: dict[str, uuid.UUID] = {}
    for j_code, j_description, j_type, j_gl, extra in template.journals:
        body = {
            "Code": j_code,
            "Description": j_description,
            "Type": j_type,
            "GLAccount": str(gl[j_gl]) if j_gl else None,
        }
        body.update(extra)
        journals[j_code] = domain.create(code, journal_set, body)["ID"]
    customer_ids = _create_customers(domain, code, customers)
    return SeededDivision(
        division=code,
        template=template_name,
        financial_years=years,
        gl_accounts=gl,
        vat_codes=vat,
        journals=journals,
        cost_centers=cost_centers,
        cost_units=cost_units,
        payment_conditions=conditions,
        customers=customer_ids,
        **dict(template.roles),
    )
