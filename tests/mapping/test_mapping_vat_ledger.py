"""VAT mapping, net/VAT splits and revenue accounts, option by option from the seeds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exactbridge.errors import MappingError
from exactbridge.mapping import (
    CostUsage,
    GLAccount,
    LedgerMapping,
    LedgerTarget,
    ledger_for_line,
    split_excluding,
    split_including,
    to_sales_entry,
)
from exactbridge.records import AmountBasis

from .mapping_builders import D, config, invoice, line, reference

# --- VAT ---------------------------------------------------------------------------------------


# Virtuagym: "Exact Online VAT mapping: Connect the VAT categories of Virtuagym to your Exact Online
# account".
def test_vat_mapping_connects_vat_categories_to_exact_vat_codes(ref):
    cfg = config(vat={"codes": {"Hoog tarief": "2", "Laag": "1", "7": "0"}})
    draft = to_sales_entry(
        invoice(
            line(vat_category=" hoog TARIEF "),
            line("10.90", vat_category="laag"),
            line("5.00", vat_category="7"),
        ),
        ref,
        cfg,
    )
    assert [x.vat_code for x in draft.lines] == ["2  ", "1  ", "0  "]


def test_vat_code_by_stated_rate_when_no_category_is_mapped(ref):
    cfg = config(vat={"codes": {}, "rates": {"21": "2", "9 %": "1"}})
    draft = to_sales_entry(
        invoice(
            line(vat_category=None, vat_rate=D("0.21")), line(vat_category="x", vat_rate=D("0.09"))
        ),
        ref,
        cfg,
    )
    assert [x.vat_code for x in draft.lines] == ["2  ", "1  "]


def test_vat_category_written_as_a_percentage_uses_the_rate_table(ref):
    cfg = config(vat={"codes": {}, "rates": {"21": "2", "9": "1"}})
    draft = to_sales_entry(invoice(line(vat_category="21 %"), line(vat_category="9.0")), ref, cfg)
    assert [x.vat_code for x in draft.lines] == ["2  ", "1  "]


def test_line_rules_follow_the_config_not_an_earlier_decision(ref):
    # Decisions are remembered per reference data; another config must decide afresh.
    first = to_sales_entry(invoice(), ref, config())
    second = to_sales_entry(
        invoice(), ref, config(vat={"codes": {"high": "1"}}, ledger={"default_account": "8010"})
    )
    assert (first.lines[0].vat_code, first.lines[0].gl_account) == ("2  ", "8000")
    assert (second.lines[0].vat_code, second.lines[0].gl_account) == ("1  ", "8010")
    assert second.lines[0].vat_amount == D("9.99")


def test_default_vat_code_is_the_last_resort(ref):
    draft = to_sales_entry(
        invoice(line(vat_category="unknown")), ref, config(vat={"default_code": "2"})
    )
    assert draft.lines[0].vat_code == "2  "


def test_unmapped_vat_category_is_named(ref):
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(line(), line(vat_category="super reduced")), ref, config())
    error = caught.value
    assert (error.field, error.policy, error.value) == (
        "lines[1].vat_category",
        "VatMapping.codes",
        "super reduced",
    )


def test_vat_code_missing_from_the_division_is_refused(ref):
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(), ref, config(vat={"codes": {"high": "99"}}))
    assert caught.value.value == "99"


def test_purchase_vat_code_is_refused_on_sales(ref):
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(), ref, config(vat={"codes": {"high": "5"}}))
    assert "purchases only" in str(caught.value)


# Virtuagym FAQ: "How do I get the correct VAT on an Exact Online invoice? Make sure that the VAT
# rates you use are activated in both ... link the VAT rates from both systems."
def test_line_rate_that_differs_from_its_vat_code_is_refused(ref):
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(line(vat_rate=D("0.09"))), ref, config())
    assert (caught.value.field, caught.value.policy) == (
        "lines[0].vat_rate",
        "VatMapping.check_rate",
    )


def test_rate_check_can_be_switched_off(ref):
    draft = to_sales_entry(
        invoice(line(vat_rate=D("0.09"))), ref, config(vat={"check_rate": False})
    )
    assert draft.lines[0].vat_amount == D("21.00")


# Club-assistent: "Zorg dat aan je grootboekrekeningen een btw-code inclusief btw is gekoppeld":
# the prices are including VAT and are split exactly.
@pytest.mark.parametrize(
    ("gross", "rate", "net", "vat"),
    [
        ("121.00", "0.21", "100.00", "21.00"),
        ("10.00", "0.21", "8.26", "1.74"),
        ("10.00", "0.09", "9.17", "0.83"),
        ("0.01", "0.21", "0.01", "0.00"),
        ("0.06", "0.21", "0.05", "0.01"),
        ("-10.00", "0.21", "-8.26", "-1.74"),
        ("33.33", "0", "33.33", "0.00"),
    ],
)
def test_prices_including_vat_are_split_exactly(gross, rate, net, vat):
    split = split_including(D(gross), D(rate))
    assert (split.net, split.vat, split.gross) == (D(net), D(vat), D(gross))


@pytest.mark.parametrize(
    ("net", "rate", "vat"),
    [
        ("100.00", "0.21", "21.00"),
        ("9.99", "0.21", "2.10"),
        ("0.05", "0.09", "0.00"),
        ("-9.99", "0.21", "-2.10"),
    ],
)
def test_prices_excluding_vat_get_vat_added_half_up(net, rate, vat):
    split = split_excluding(D(net), D(rate))
    assert (split.net, split.vat, split.gross) == (D(net), D(vat), D(net) + D(vat))


def test_half_cent_rounds_away_from_zero():
    # 2.50 at 9 % is 0.225 exactly: half a cent, rounded away from zero.
    assert split_excluding(D("2.50"), D("0.09")).vat == D("0.23")
    assert split_excluding(D("-2.50"), D("0.09")).vat == D("-0.23")


def test_split_helpers_refuse_bad_rates_with_a_mapping_error():
    with pytest.raises(MappingError):
        split_including(D("10.00"), D("21"))
    with pytest.raises(MappingError):
        split_excluding(D("NaN"), D("0.21"))


def test_amount_excluding_vat_lines_on_an_entry(ref):
    draft = to_sales_entry(
        invoice(line("100.00", amount_basis=AmountBasis.EXCLUDING_VAT)), ref, config()
    )
    assert (draft.lines[0].amount_excl_vat, draft.lines[0].vat_amount) == (D("100.00"), D("21.00"))


def test_totals_of_the_source_are_checked(ref):
    source = invoice(
        line("10.00"), line("10.00"), total_incl_vat=D("20.00"), total_excl_vat=D("16.53")
    )
    with pytest.raises(MappingError) as caught:
        to_sales_entry(source, ref, config())
    error = caught.value
    # Per line: 8.26 + 8.26 = 16.52; the source computed VAT on the total.
    assert (error.field, error.policy, error.value) == (
        "total_excl_vat",
        "VatMapping.total_tolerance",
        D("16.53"),
    )
    assert "16.52" in str(error)


def test_total_tolerance_accepts_a_rounding_difference(ref):
    source = invoice(
        line("10.00"), line("10.00"), total_incl_vat=D("20.00"), total_excl_vat=D("16.53")
    )
    draft = to_sales_entry(source, ref, config(vat={"total_tolerance": "0.01"}))
    assert draft.total_excl_vat == D("16.52")
    assert draft.total_incl_vat == D("20.00")


def test_total_check_can_be_switched_off(ref):
    source = invoice(line("10.00"), total_incl_vat=D("99.00"))
    assert to_sales_entry(source, ref, config(vat={"check_totals": False})).total_incl_vat == D(
        "10.00"
    )


# --- revenue accounts --------------------------------------------------------------------------


# Virtuagym: "Ledger account revenue: Select the default ledger account for sales revenue".
def test_ledger_account_revenue_is_the_default(ref):
    assert to_sales_entry(invoice(), ref, config()).lines[0].gl_account == "8000"


def test_no_revenue_account_at_all_is_an_error(ref):
    with pytest.raises(MappingError) as caught:
        ledger_for_line(invoice(), line(), ref, LedgerMapping())
    assert caught.value.policy == "LedgerMapping.default_account"


# Virtuagym: "Exact Online general ledger mapping: Connect the VAT categories of Virtuagym to your
# Exact Online general ledger".
def test_general_ledger_mapping_by_vat_category(ref):
    mapping = LedgerMapping(default_account="8000", by_vat_category={"low": "8010"})
    assert ledger_for_line(invoice(), line(vat_category="low"), ref, mapping).gl_account == "8010"
    assert ledger_for_line(invoice(), line(vat_category="high"), ref, mapping).gl_account == "8000"


# Virtuagym: "Income category to Exact Online general ledger mapping".
def test_income_category_to_general_ledger_mapping(ref):
    mapping = LedgerMapping(
        default_account="8000", by_vat_category={"high": "8010"}, by_income_category={"Bar": "8200"}
    )
    assert (
        ledger_for_line(invoice(), line(income_category="bar"), ref, mapping).gl_account == "8200"
    )


def test_ledger_by_product(ref):
    mapping = LedgerMapping(default_account="8000", by_product={"PT-10": "8100"})
    assert ledger_for_line(invoice(), line(product="pt-10"), ref, mapping).gl_account == "8100"


# Eduframe: "If the ledger code, cost center and cost unit are filled in for the course edition,
# these settings will be used. If they are not filled in: the ... course template are used. If they
# are not filled in: the ledger code in the general settings are used. No cost center and cost unit
# will be set."
@pytest.mark.parametrize(
    ("edition", "template", "expected"),
    [
        ("ED-1", "TPL-1", LedgerTarget("8100", "CC-ED", "CU-ED")),
        ("ED-2", "TPL-1", LedgerTarget("8200", "CC-TPL", "CU-TPL")),
        (None, "TPL-1", LedgerTarget("8200", "CC-TPL", "CU-TPL")),
        ("ED-9", "TPL-9", LedgerTarget("8000", None, None)),
        (None, None, LedgerTarget("8000", None, None)),
    ],
)
def test_course_edition_then_course_template_then_general_settings(
    ref, edition, template, expected
):
    mapping = LedgerMapping(
        default_account="8000",
        by_course_edition={"ED-1": LedgerTarget("8100", "CC-ED", "CU-ED")},
        by_course_template={"TPL-1": LedgerTarget("8200", "CC-TPL", "CU-TPL")},
    )
    got = ledger_for_line(
        invoice(), line(course_edition=edition, course_template=template), ref, mapping
    )
    assert got == expected


def test_edition_without_cost_center_takes_the_templates(ref):
    mapping = LedgerMapping(
        default_account="8000",
        by_course_edition={"ED-1": LedgerTarget("8100")},
        by_course_template={"TPL-1": LedgerTarget("8200", "CC-TPL", None)},
    )
    got = ledger_for_line(
        invoice(), line(course_edition="ED-1", course_template="TPL-1"), ref, mapping
    )
    assert got == LedgerTarget("8100", "CC-TPL", None)


# Eduframe: "When using discount codes, the discount is added as a separate line ... No cost center
# or cost unit is assigned to this line."
def test_discount_line_gets_no_cost_center_or_cost_unit(ref):
    cfg = config(
        ledger={
            "by_course_edition": {
                "ED-1": {"gl_account": "8100", "cost_center": "CC1", "cost_unit": "CU1"}
            }
        }
    )
    draft = to_sales_entry(
        invoice(
            line("242.00", course_edition="ED-1"),
            line("-24.20", course_edition="ED-1", is_discount=True, description="Discount code"),
        ),
        ref,
        cfg,
    )
    assert [(x.gl_account, x.cost_center, x.cost_unit, x.is_discount) for x in draft.lines] == [
        ("8100", "CC1", "CU1", False),
        ("8100", None, None, True),
    ]


def test_discount_lines_can_have_their_own_account(ref):
    cfg = config(ledger={"discount_account": "8200"})
    draft = to_sales_entry(invoice(line(), line("-12.10", is_discount=True)), ref, cfg)
    assert [x.gl_account for x in draft.lines] == ["8000", "8200"]


# Coachview: "Should the cost center be sent to Exact-Online. Not checked: The cost center is not
# included."
def test_cost_center_not_sent_when_unchecked(ref):
    mapping = LedgerMapping(
        default_account="8000",
        default_cost_center="CC1",
        default_cost_unit="CU1",
        send_cost_center=False,
    )
    assert ledger_for_line(invoice(), line(), ref, mapping) == LedgerTarget("8000", None, "CU1")


def test_cost_unit_not_sent_when_unchecked(ref):
    mapping = LedgerMapping(default_account="8000", default_cost_unit="CU1", send_cost_unit=False)
    assert ledger_for_line(invoice(), line(), ref, mapping).cost_unit is None


def test_gl_account_that_requires_a_cost_center_is_named():
    ref = reference(gl_accounts=[GLAccount("8000", 110, use_cost_center=CostUsage.MANDATORY)])
    with pytest.raises(MappingError) as caught:
        ledger_for_line(invoice(), line(), ref, LedgerMapping(default_account="8000"), index=3)
    assert (caught.value.field, caught.value.value) == ("lines[3]", "8000")


def test_gl_account_that_allows_no_cost_center_drops_it():
    ref = reference(gl_accounts=[GLAccount("8000", 110, use_cost_center=CostUsage.NOT_ALLOWED)])
    mapping = LedgerMapping(default_account="8000", default_cost_center="CC1")
    assert ledger_for_line(invoice(), line(), ref, mapping).cost_center is None


@pytest.mark.parametrize("code", ["1300", "1500", "2000"])
def test_receivable_vat_and_bank_accounts_are_refused_on_sales_lines(ref, code):
    with pytest.raises(MappingError) as caught:
        ledger_for_line(invoice(), line(), ref, LedgerMapping(default_account=code))
    assert "refuses on a sales line" in str(caught.value)


def test_unknown_gl_account_names_the_table_that_chose_it(ref):
    mapping = LedgerMapping(default_account="8000", by_product={"p": "8999"})
    with pytest.raises(MappingError) as caught:
        ledger_for_line(invoice(), line(product="p"), ref, mapping)
    assert (caught.value.field, caught.value.policy, caught.value.value) == (
        "lines[0].product",
        "LedgerMapping.by_product",
        "8999",
    )


def test_ledger_order_is_configurable(ref):
    mapping = LedgerMapping(
        default_account="8000",
        by_vat_category={"high": "8010"},
        by_product={"p": "8200"},
        order=("vat_category", "product"),
    )
    assert ledger_for_line(invoice(), line(product="p"), ref, mapping).gl_account == "8010"


# Coachview: "Have project code generated from a Coachview field to Exact Online."
def test_project_code_from_a_source_field(ref):
    source = invoice(attributes={"course_code": "PRJ-2024"})
    draft = to_sales_entry(source, ref, config(ledger={"project_attribute": "course_code"}))
    assert draft.lines[0].project_code == "PRJ-2024"
    assert to_sales_entry(source, ref, config()).lines[0].project_code is None


def test_zero_percent_and_mixed_vat_on_one_invoice(ref):
    draft = to_sales_entry(
        invoice(
            line("121.00"), line("10.90", vat_category="low"), line("50.00", vat_category="zero")
        ),
        ref,
        config(),
    )
    assert [(x.amount_excl_vat, x.vat_amount) for x in draft.lines] == [
        (D("100.00"), D("21.00")),
        (D("10.00"), D("0.90")),
        (D("50.00"), D("0.00")),
    ]
    assert draft.total_incl_vat == D("181.90")
    assert isinstance(draft.total_vat, Decimal)
