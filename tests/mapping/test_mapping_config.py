"""BookingConfig loading, the package's public surface and its layering."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import pytest

import exactbridge.mapping as mapping
from exactbridge.errors import ConfigurationError
from exactbridge.mapping import (
    BookingConfig,
    BookingMode,
    CodeSource,
    CreditNoteMode,
    DateSource,
    LedgerTarget,
    NonNumericNumber,
    ReceiptSign,
    UnavailablePeriod,
    UnmatchedPayments,
)

FULL = {
    "sales_journal": "70",
    "debtor": {
        "code_sources": ["internal_number", "external_number", "extern_id"],
        "extern_source": "Exact",
        "prefix": "9",
        "match_by_email": False,
        "match_by_vat_number": True,
        "guest_debtor_code": "9000",
        "create_missing": True,
        "overwrite_existing": True,
        "refuse_supplier_codes": True,
    },
    "period": {
        "date_sources": ["order_start", "invoice_date"],
        "when_unavailable": "next_open",
        "line_service_period": True,
        "entry_date_in_period": True,
    },
    "credit_notes": {"mode": "negative_entry", "journal": "71"},
    "vat": {
        "codes": {"high": "2", "low": "1"},
        "rates": {"21": "2"},
        "default_code": "0",
        "check_rate": True,
        "check_totals": True,
        "total_tolerance": "0.02",
    },
    "ledger": {
        "default_account": "8000",
        "by_vat_category": {"low": "8010"},
        "by_income_category": {"bar": "8200"},
        "by_product": {"pt": {"gl_account": "8100", "cost_unit": "PT"}},
        "by_course_template": {"TPL": {"cost_center": "EDU"}},
        "by_course_edition": {"ED": {"gl_account": "8100", "cost_center": "C1", "cost_unit": "U1"}},
        "order": [
            "course_edition",
            "course_template",
            "product",
            "income_category",
            "vat_category",
        ],
        "discount_account": "8050",
        "send_cost_center": True,
        "send_cost_unit": False,
        "project_attribute": "course_code",
    },
    "numbering": {
        "enabled": True,
        "template": "{tenant}{number}",
        "prefix": "",
        "number_width": 6,
        "non_numeric": "digits_only",
        "description_template": "{number} {party_name}",
    },
    "summary": {"mode": "per_day", "collective_debtor_code": "9999"},
    "payments": {
        "bank_journal": "25",
        "debtors_account": "1300",
        "psp_cost_account": "4500",
        "payout_account": "2000",
        "unassigned_account": "2999",
        "unmatched": "standard_debtor",
        "standard_debtor_code": "9100",
        "revenue_groups": ["Webshop"],
        "receipt_sign": "negative",
    },
}


def test_every_option_loads_from_a_toml_mapping():
    config = BookingConfig.from_mapping(FULL)
    assert config.debtor.code_sources == (
        CodeSource.INTERNAL_NUMBER,
        CodeSource.EXTERNAL_NUMBER,
        CodeSource.EXTERN_ID,
    )
    assert (config.debtor.prefix, config.debtor.match_by_email) == ("9", False)
    assert config.period.date_sources == (DateSource.ORDER_START, DateSource.INVOICE_DATE)
    assert config.period.when_unavailable is UnavailablePeriod.NEXT_OPEN
    assert config.credit_notes.mode is CreditNoteMode.NEGATIVE_ENTRY
    assert config.vat.total_tolerance == Decimal("0.02")
    assert config.ledger.by_product["pt"] == LedgerTarget("8100", None, "PT")
    assert config.ledger.by_vat_category["low"] == LedgerTarget("8010")
    assert config.numbering.non_numeric is NonNumericNumber.DIGITS_ONLY
    assert config.summary.mode is BookingMode.PER_DAY
    assert config.payments.unmatched is UnmatchedPayments.STANDARD_DEBTOR
    assert config.payments.receipt_sign is ReceiptSign.NEGATIVE
    assert config.payments.revenue_groups == ("Webshop",)


def test_empty_mapping_gives_the_defaults():
    assert BookingConfig.from_mapping({}) == BookingConfig()


@pytest.mark.parametrize(
    ("data", "key", "expected_fragment"),
    [
        ({"debtr": {}}, "debtr", "debtor"),
        ({"debtor": {"prefx": "9"}}, "debtor.prefx", "prefix"),
        (
            {"debtor": {"code_sources": ["internal", "x"]}},
            "debtor.code_sources[0]",
            "internal_number",
        ),
        ({"debtor": {"code_sources": "internal_number"}}, "debtor.code_sources", "a list"),
        ({"debtor": {"code_sources": []}}, "debtor.code_sources", "internal_number"),
        ({"debtor": {"code_sources": ["extern_id"]}}, "debtor.extern_source", "ExternSource"),
        ({"debtor": {"match_by_email": "no"}}, "debtor.match_by_email", "true or false"),
        ({"debtor": {"guest_debtor_code": 9000}}, "debtor.guest_debtor_code", "a text"),
        ({"debtor": "x"}, "debtor", "a table"),
        ({"period": {"when_unavailable": "later"}}, "period.when_unavailable", "next_open"),
        ({"vat": {"total_tolerance": 0.01}}, "vat.total_tolerance", "as a text"),
        ({"vat": {"total_tolerance": "-1"}}, "vat.total_tolerance", "non-negative"),
        ({"vat": {"codes": {"high": "TOOLONG"}}}, "vat.codes.high", "at most 3"),
        ({"vat": {"rates": {"high": "2"}}}, "vat.rates.high", "percentage"),
        ({"ledger": {"by_product": {"p": 8000}}}, "ledger.by_product.p", "GL account code"),
        ({"ledger": {"by_product": {"p": {"gl": "8000"}}}}, "ledger.by_product.p.gl", "gl_account"),
        (
            {"ledger": {"by_course_edition": {"E": {"cost_center": "123456789"}}}},
            "ledger.by_course_edition.E.cost_center",
            "at most 8",
        ),
        ({"numbering": {"prefix": "20a8"}}, "numbering.prefix", "digits"),
        ({"numbering": {"number_width": "6"}}, "numbering.number_width", "whole number"),
        ({"numbering": {"template": "{number!r}"}}, "numbering.template", "placeholders"),
        ({"numbering": {"template": "{club}{number}"}}, "numbering.template", "tenant"),
        ({"summary": {"mode": "per_day"}}, "summary.collective_debtor_code", "collective"),
        ({"payments": {"unmatched": "standard_debtor"}}, "payments.standard_debtor_code", "code"),
        ({"payments": {"receipt_sign": "+"}}, "payments.receipt_sign", "positive"),
        (
            {"credit_notes": {"description_template": "{amount}"}},
            "credit_notes.description_template",
            "number",
        ),
    ],
)
def test_bad_configuration_names_the_key_path_and_what_was_expected(data, key, expected_fragment):
    with pytest.raises(ConfigurationError) as caught:
        BookingConfig.from_mapping(data)
    assert caught.value.key == key
    assert expected_fragment in (caught.value.expected or "")
    assert key in str(caught.value)


def test_a_config_that_is_not_a_mapping_is_refused():
    with pytest.raises(ConfigurationError):
        BookingConfig.from_mapping(["debtor"])  # type: ignore[arg-type]


def test_policies_built_in_code_check_themselves_too():
    from exactbridge.mapping import PeriodPolicy

    with pytest.raises(ConfigurationError) as caught:
        PeriodPolicy(when_unavailable="sometime")  # type: ignore[arg-type]
    assert caught.value.key == "period.when_unavailable"
    assert (
        PeriodPolicy(when_unavailable="next_open").when_unavailable is UnavailablePeriod.NEXT_OPEN
    )  # type: ignore[arg-type]


def test_all_is_sorted_and_complete():
    exported = mapping.__all__
    # isort-style, as ruff keeps it: constants, then classes, then functions, each alphabetical.
    assert exported == sorted(
        exported, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    public = {
        name
        for name, value in vars(mapping).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("exactbridge.mapping")
    }
    assert public <= set(exported)
    for name in exported:
        assert getattr(mapping, name).__doc__ or name.isupper()


def test_mapping_imports_neither_httpx_nor_client_code():
    code = (
        "import exactbridge.mapping, sys\n"
        "assert 'httpx' not in sys.modules\n"
        "assert not [m for m in sys.modules if m.startswith(('exactbridge.exact', "
        "'exactbridge.sources', 'exactbridge.sync', 'exactbridge.testing'))]\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_doctests_of_the_mapping_modules_pass():
    import doctest
    import importlib

    failed = 0
    for name in (
        "exactbridge.mapping",
        "exactbridge.mapping._reference",
        "exactbridge.mapping._policies",
        "exactbridge.mapping._debtor",
        "exactbridge.mapping._vat",
        "exactbridge.mapping._numbering",
    ):
        result = doctest.testmod(importlib.import_module(name))
        assert result.attempted > 0, name
        failed += result.failed
    assert failed == 0
