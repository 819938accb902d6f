"""Sales entry drafts: numbering, credit notes, journals and the composed entry."""

from __future__ import annotations

import datetime as dt

import pytest

from exactbridge.errors import ConfigurationError, MappingError
from exactbridge.mapping import (
    INT32_MAX,
    BookingConfig,
    DebtorAction,
    EntryType,
    NonNumericNumber,
    NumberingPolicy,
    PaymentCondition,
    ReferenceData,
    entry_number,
    to_sales_entry,
)

from .mapping_builders import D, config, invoice, line, negate, party, reference

# --- numbering ---------------------------------------------------------------------------------


# Coachview: "Fill in a prefix (e.g. 2018). This must be a number and will be placed in front of the
# Coachview invoice number."
def test_invoice_number_prefix_is_placed_in_front_of_the_number():
    assert entry_number(invoice(number="00001"), NumberingPolicy(prefix="2018")) == 201800001


def test_invoice_number_prefix_must_be_a_number():
    from exactbridge.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        NumberingPolicy(prefix="CV")
    assert caught.value.key == "numbering.prefix"


# Virtuagym: "Add club ID to invoice number: Do you want to add the club id to the invoice number?"
def test_add_club_id_to_invoice_number():
    policy = NumberingPolicy(template="{tenant}{number}", number_width=6)
    assert entry_number(invoice(number="42", tenant="317"), policy) == 317000042
    assert entry_number(invoice(number="42", tenant="317"), NumberingPolicy()) == 42


def test_club_id_that_is_not_a_number_is_named():
    policy = NumberingPolicy(template="{tenant}{number}")
    with pytest.raises(MappingError) as caught:
        entry_number(invoice(tenant="club-a"), policy)
    assert (caught.value.field, caught.value.policy) == ("tenant", "NumberingPolicy.template")


def test_year_prefix_from_the_invoice_date():
    policy = NumberingPolicy(template="{yy}{number}", number_width=5)
    assert entry_number(invoice(number="7"), policy) == 2400007


def test_entry_number_beyond_int32_is_a_clear_error():
    policy = NumberingPolicy(prefix="2024", number_width=8)
    with pytest.raises(MappingError) as caught:
        entry_number(invoice(number="123"), policy)
    error = caught.value
    assert (error.field, error.policy, error.value) == (
        "number",
        "NumberingPolicy.template",
        "202400000123",
    )
    assert str(INT32_MAX) in str(error)


def test_largest_int32_entry_number_is_accepted():
    assert entry_number(invoice(number=str(INT32_MAX)), NumberingPolicy()) == INT32_MAX


@pytest.mark.parametrize(
    ("mode", "expected"),
    [(NonNumericNumber.DIGITS_ONLY, 20240042), (NonNumericNumber.LET_EXACT_NUMBER, None)],
)
def test_non_numeric_source_numbers(mode, expected):
    policy = NumberingPolicy(non_numeric=mode)
    assert entry_number(invoice(number="INV-2024-0042"), policy) == expected


def test_non_numeric_source_number_is_left_to_exact_by_default():
    assert NumberingPolicy().non_numeric is NonNumericNumber.LET_EXACT_NUMBER
    assert entry_number(invoice(number="INV-1"), NumberingPolicy()) is None


def test_refused_non_numeric_number_names_the_setting_that_fixes_it():
    with pytest.raises(MappingError) as caught:
        entry_number(invoice(number="INV-1"), NumberingPolicy(non_numeric="error"))
    assert caught.value.policy == "NumberingPolicy.non_numeric"
    assert caught.value.fix is not None
    assert 'numbering.non_numeric = "let_exact_number"' in caught.value.fix
    assert 'to fix: set numbering.non_numeric = "let_exact_number"' in str(caught.value)


def test_numbering_can_be_left_to_exact():
    assert entry_number(invoice(), NumberingPolicy(enabled=False)) is None


def test_source_number_is_kept_in_your_ref(ref):
    draft = to_sales_entry(invoice(number="00042"), ref, config(numbering={"prefix": "2018"}))
    assert (draft.your_ref, draft.entry_number) == ("00042", 201800042)


def test_description_template(ref):
    cfg = config(
        numbering={"description_template": "{source} {number}: {description} ({party_name})"}
    )
    draft = to_sales_entry(invoice(description="May   fee\n"), ref, cfg)
    assert draft.description == "coachview 1001: May fee (Bob Jansen)"


# --- journals ----------------------------------------------------------------------------------


# Coachview: "The sales diary number. By default it is set to 70." Virtuagym: "Select journal".
def test_sales_diary_number_defaults_to_70(ref):
    assert to_sales_entry(invoice(), ref, config()).journal == "70"


def test_select_journal_in_which_sales_entries_are_booked(ref):
    ref2 = ref.__class__(
        gl_accounts=ref.gl_accounts,
        vat_codes=ref.vat_codes,
        journals=[*ref.journals, ref.journals[0].__class__("75", 20)],
        periods=ref.periods,
        accounts=ref.accounts,
    )
    assert to_sales_entry(invoice(), ref2, config(sales_journal="75")).journal == "75"


def test_journal_that_is_not_a_sales_journal_is_refused(ref):
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(), ref, config(sales_journal="90"))
    assert (caught.value.field, caught.value.policy, caught.value.value) == (
        "journal",
        "BookingConfig.sales_journal",
        "90",
    )


# --- credit notes ------------------------------------------------------------------------------


# Coachview: "Book negative invoices as credit invoices ... Checked: X = credit note sales basis en
# transaction type 21 (credit)."
def test_negative_invoice_checked_is_a_credit_note_of_type_21(ref):
    credit = negate(invoice())
    draft = to_sales_entry(credit, ref, config(credit_notes={"mode": "credit_note"}))
    assert draft.type is EntryType.SALES_CREDIT_NOTE
    assert draft.lines[0].amount_excl_vat == D("-100.00")
    assert draft.lines[0].vat_amount == D("-21.00")
    assert draft.credited_invoice == "1001"
    assert draft.description == "Credit note 10019 for 1001"


# Coachview: "Unchecked: Y = sales basis en transaction type 20 (debet)."
def test_negative_invoice_unchecked_is_a_negative_sales_entry_of_type_20(ref):
    credit = negate(invoice())
    draft = to_sales_entry(credit, ref, config(credit_notes={"mode": "negative_entry"}))
    assert draft.type is EntryType.SALES_ENTRY
    assert draft.journal == "70"
    assert draft.total_incl_vat == D("-121.00")


def test_credit_notes_in_their_own_journal(ref):
    draft = to_sales_entry(negate(invoice()), ref, config(credit_notes={"journal": "71"}))
    assert (draft.journal, draft.type) == ("71", EntryType.SALES_CREDIT_NOTE)
    assert to_sales_entry(invoice(), ref, config(credit_notes={"journal": "71"})).journal == "70"


def test_credit_note_without_the_original_number(ref):
    draft = to_sales_entry(negate(invoice(), credited_invoice=None), ref, config())
    assert (draft.description, draft.credited_invoice) == ("Credit note 10019", None)


def test_credit_note_mirrors_the_invoice_it_reverses(ref):
    original = invoice(
        line("10.00"),
        line("10.90", vat_category="low"),
        line("-1.00", is_discount=True),
        total_incl_vat=D("19.90"),
    )
    cfg = config()
    booked = to_sales_entry(original, ref, cfg)
    reversed_ = to_sales_entry(negate(original), ref, cfg)
    assert [
        (x.gl_account, x.vat_code, -x.amount_excl_vat, -x.vat_amount) for x in reversed_.lines
    ] == [(x.gl_account, x.vat_code, x.amount_excl_vat, x.vat_amount) for x in booked.lines]
    assert reversed_.total_incl_vat == -booked.total_incl_vat


def test_zero_invoice_is_a_sales_entry(ref):
    draft = to_sales_entry(invoice(line("0.00")), ref, config())
    assert draft.type is EntryType.SALES_ENTRY
    assert draft.total_incl_vat == D("0.00")


# --- the composed entry ------------------------------------------------------------------------


def test_sales_entry_draft_holds_everything_the_sync_engine_sends(ref):
    source = invoice(
        line("121.00", quantity=D("2"), description="Membership\tMay"),
        due_date=dt.date(2024, 5, 17),
        reference="RF18 5390 0754 7034",
        party=party(internal_number="7"),
    )
    draft = to_sales_entry(source, ref, config(numbering={"prefix": "24"}))
    assert (draft.journal, draft.type, draft.entry_date) == ("70", 20, dt.date(2024, 5, 3))
    assert (draft.reporting_year, draft.reporting_period) == (2024, 5)
    assert (draft.customer_id, draft.customer_code) == ("acc-7", "                 7")
    assert draft.debtor.action is DebtorAction.EXISTING
    assert (draft.entry_number, draft.your_ref, draft.due_date) == (241001, "1001", source.due_date)
    assert draft.payment_reference == "RF18 5390 0754 7034"
    assert (draft.source, draft.source_ids, draft.currency) == ("coachview", ("inv-1",), "EUR")
    only = draft.lines[0]
    assert (only.gl_account, only.vat_code, only.quantity, only.description) == (
        "8000",
        "2  ",
        D("2"),
        "Membership May",
    )


def test_an_earlier_debtor_decision_is_reused(ref):
    first = to_sales_entry(invoice(), ref, config())
    second = to_sales_entry(invoice(party=party(name="")), ref, config(), debtor=first.debtor)
    assert second.debtor == first.debtor


def test_invoice_without_lines_is_refused(ref):
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(lines=()), ref, config())
    assert caught.value.field == "lines"


def test_bad_currency_is_named(ref):
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(currency="€"), ref, config())
    assert caught.value.field == "currency"


def test_every_mapping_error_names_record_field_policy_and_value(ref):
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(line(vat_category="unknown"), source_id="inv-77"), ref, config())
    error = caught.value
    assert error.record_id == "inv-77"
    assert error.source == "coachview"
    assert error.field == "lines[0].vat_category"
    assert error.policy == "VatMapping.codes"
    assert error.value == "unknown"
    assert "inv-77" in str(error)
    assert "VatMapping.codes" in str(error)


# --- payment terms -----------------------------------------------------------------------------

# Club-assistent: "de incasso's die in de facturen staan via Exact Online incasseren".


def _with_conditions() -> ReferenceData:
    return reference(
        payment_conditions=[
            PaymentCondition("IN", "Incasso", payment_method="I"),
            PaymentCondition("14", "14 dagen"),
        ]
    )


def test_a_direct_debit_invoice_gets_the_collection_condition():
    terms = {"by_payment_method": {"Incasso": "IN"}, "condition": "14"}
    collected = invoice(attributes={"payment_method": "incasso"})
    on_account = invoice(attributes={"payment_method": "factuur"})
    cfg = config(payment_terms=terms)
    assert to_sales_entry(collected, _with_conditions(), cfg).payment_condition == "IN"
    assert to_sales_entry(on_account, _with_conditions(), cfg).payment_condition == "14"


def test_without_payment_terms_no_condition_is_sent(ref):
    draft = to_sales_entry(invoice(attributes={"payment_method": "incasso"}), ref, config())
    assert draft.payment_condition is None
    assert not BookingConfig().payment_terms.in_use


def test_an_unknown_payment_condition_names_the_setting_and_the_fix():
    cfg = config(payment_terms={"by_payment_method": {"incasso": "XX"}})
    with pytest.raises(MappingError) as caught:
        to_sales_entry(invoice(attributes={"payment_method": "Incasso"}), _with_conditions(), cfg)
    error = caught.value
    assert (error.field, error.policy) == (
        "attributes.payment_method",
        "PaymentTermsPolicy.by_payment_method",
    )
    assert "'XX'" in str(error)
    assert "create payment condition 'XX'" in str(error)


@pytest.mark.parametrize(
    ("terms", "key"),
    [
        ({"condition": ""}, "payment_terms.condition"),
        ({"by_payment_method": {"incasso": " "}}, "payment_terms.by_payment_method.incasso"),
        ({"method_attribute": ""}, "payment_terms.method_attribute"),
        ({"unknown": "x"}, "payment_terms.unknown"),
    ],
)
def test_bad_payment_terms_are_configuration_errors(terms, key):
    with pytest.raises(ConfigurationError) as caught:
        config(payment_terms=terms)
    assert caught.value.key == key
