"""Debtor resolution, one test per option of the seed documents (Coachview, Virtuagym, Eduframe)."""

from __future__ import annotations

import pytest

from exactbridge.errors import MappingError
from exactbridge.mapping import (
    CodeSource,
    DebtorAction,
    DebtorPolicy,
    KnownAccount,
    resolve_debtor,
)
from exactbridge.records import Address, PartyKind

from .mapping_builders import invoice, party, reference

PAD = "{:>18}".format


# Coachview: "Which field from Coachview is used as debtor number. Make your choice from the list."
@pytest.mark.parametrize(
    ("sources", "expected_code", "expected_source"),
    [
        (("internal_number",), "42", "internal_number"),
        (("external_number",), "E-77", "external_number"),
        (("extern_id",), "X-5", "extern_id"),
    ],
)
def test_which_field_is_used_as_debtor_number(ref, sources, expected_code, expected_source):
    who = party(internal_number="42", external_number="E-77", extern_ids={"exact": "X-5"})
    policy = DebtorPolicy(code_sources=tuple(CodeSource(s) for s in sources), extern_source="exact")
    decision = resolve_debtor(invoice(party=who), ref, policy)
    assert decision.action is DebtorAction.CREATE
    assert decision.code == PAD(expected_code)
    assert decision.account is not None
    assert decision.account.code == PAD(expected_code)
    assert decision.code_source == expected_source


# Coachview: "Option 1 (mandatory) ... Option 2 (optional): Does option 1 not provide a debtor
# number? Then this number will be used. Option 3 (optional) ..."
@pytest.mark.parametrize(
    ("internal", "external", "extern", "expected"),
    [
        ("42", "E-77", "X-5", "42"),
        (None, "E-77", "X-5", "E-77"),
        ("  ", None, "X-5", "X-5"),
    ],
)
def test_debtor_number_options_fall_back_in_order(ref, internal, external, expected, extern):
    who = party(internal_number=internal, external_number=external, extern_ids={"exact": extern})
    policy = DebtorPolicy(
        code_sources=(CodeSource.INTERNAL_NUMBER, CodeSource.EXTERNAL_NUMBER, CodeSource.EXTERN_ID),
        extern_source="exact",
    )
    assert resolve_debtor(invoice(party=who), ref, policy).code == PAD(expected)


def test_no_option_provides_a_debtor_number_fails_naming_the_options_tried(ref):
    who = party(internal_number=None, email=None, vat_number=None)
    policy = DebtorPolicy(code_sources=("internal_number", "external_number"))
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(party=who), ref, policy)
    message = str(caught.value)
    assert "party.internal_number, party.external_number" in message
    assert "debtor.let_exact_number = true" in message


def test_with_let_exact_number_a_debtor_without_number_is_created_without_code(ref):
    who = party(internal_number=None)
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy(let_exact_number=True))
    assert decision.action is DebtorAction.CREATE
    assert decision.code is None
    assert decision.account is not None
    assert decision.account.name == "Bob Jansen"


# Coachview: "fill in exactly the ExternSource that is listed in the company or personal file."
def test_extern_id_uses_exactly_the_named_extern_source(ref):
    who = party(internal_number=None, extern_ids={"Exact": "X-1", "exact": "X-2"})
    policy = DebtorPolicy(code_sources=(CodeSource.EXTERN_ID,), extern_source="Exact")
    assert resolve_debtor(invoice(party=who), ref, policy).code == PAD("X-1")


# Coachview: "This prefix will only be added if the internal debtor number of Coachview is used."
def test_debtor_prefix_applies_only_to_internal_number(ref):
    policy = DebtorPolicy(
        code_sources=(CodeSource.INTERNAL_NUMBER, CodeSource.EXTERNAL_NUMBER), prefix="9"
    )
    internal = resolve_debtor(invoice(party=party(internal_number="42")), ref, policy)
    external = resolve_debtor(
        invoice(party=party(internal_number=None, external_number="42")), ref, policy
    )
    assert internal.code == PAD("942")
    assert external.code == PAD("42")


def test_debtor_codes_are_right_aligned_to_18_characters(ref):
    decision = resolve_debtor(invoice(party=party(internal_number="123")), ref, DebtorPolicy())
    assert decision.code is not None
    assert len(decision.code) == 18
    assert decision.code.endswith("123")
    assert decision.code.startswith(" ")


def test_debtor_code_longer_than_18_characters_is_refused(ref):
    policy = DebtorPolicy(prefix="123456789")
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(party=party(internal_number="1234567890")), ref, policy)
    assert caught.value.field == "party.internal_number"
    assert caught.value.policy == "DebtorPolicy.code_sources"
    assert caught.value.value == "1234567891234567890"


def test_existing_account_is_matched_by_code(ref):
    decision = resolve_debtor(invoice(party=party(internal_number="7")), ref, DebtorPolicy())
    assert decision.action is DebtorAction.EXISTING
    assert decision.account_id == "acc-7"
    assert decision.matched_by == "code"
    assert decision.account is None


# Eduframe: merged contacts must keep the contact Eduframe created; the link wins over numbers.
def test_linked_account_is_used_before_any_code(ref):
    who = party(internal_number="42", exact_account_id="acc-vat")
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy())
    assert (decision.action, decision.account_id, decision.matched_by) == (
        DebtorAction.EXISTING,
        "acc-vat",
        "linked_id",
    )


def test_stale_link_falls_back_to_the_code(ref):
    who = party(internal_number="7", exact_account_id="deleted-account")
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy())
    assert decision.account_id == "acc-7"
    assert decision.matched_by == "code"


def test_existing_customer_is_found_by_email_address(ref):
    who = party(internal_number="42", email="  ANN@example.org ")
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy())
    assert decision.account_id == "acc-7"
    assert decision.matched_by == "email"


# Virtuagym: "Disable check on email address? Should we disable the check if a customer exists by
# email address?"
def test_disable_check_on_email_address(ref):
    who = party(internal_number="42", email="ann@example.org")
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy(match_by_email=False))
    assert decision.action is DebtorAction.CREATE
    assert decision.code == PAD("42")


def test_email_shared_by_two_accounts_is_not_guessed():
    ref = reference(
        accounts=[
            KnownAccount("a", code="1", email="x@example.org"),
            KnownAccount("b", code="2", email="X@example.org"),
        ]
    )
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(party=party(email="x@example.org")), ref, DebtorPolicy())
    assert caught.value.field == "party.email"


# Eduframe: "Synchronise VAT number of organisations ... format: NL0000000000B00"
def test_existing_organisation_is_found_by_vat_number(ref):
    who = party(kind=PartyKind.ORGANISATION, vat_number="nl 0000.00.000 b01")
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy())
    assert decision.account_id == "acc-vat"
    assert decision.matched_by == "vat_number"


def test_match_by_vat_number_can_be_switched_off(ref):
    who = party(kind=PartyKind.ORGANISATION, vat_number="NL000000000B01")
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy(match_by_vat_number=False))
    assert decision.action is DebtorAction.CREATE


def test_vat_number_and_address_are_synchronised_to_a_new_account(ref):
    who = party(
        kind=PartyKind.ORGANISATION,
        name="School BV",
        vat_number="NL123456789B01",
        email="info@school.nl",
        address=Address(line1="Dorpsstraat 1", postcode="1234 AB", city="Utrecht", country="nl"),
    )
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy())
    account = decision.account
    assert account is not None
    assert (account.name, account.vat_number, account.email) == (
        "School BV",
        "NL123456789B01",
        "info@school.nl",
    )
    assert (account.city, account.country, account.is_organisation) == ("Utrecht", "NL ", True)


# Virtuagym: "Debtor number for guest orders ... the debtor number of the debtor on which these
# orders should be booked."
def test_debtor_number_for_guest_orders(ref):
    decision = resolve_debtor(invoice(party=None), ref, DebtorPolicy(guest_debtor_code="9000"))
    assert (decision.action, decision.account_id, decision.code) == (
        DebtorAction.GUEST,
        "acc-guest",
        PAD("9000"),
    )


def test_guest_order_without_guest_debtor_number_is_an_error(ref):
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(party=None), ref, DebtorPolicy())
    error = caught.value
    assert (error.record_id, error.source, error.field, error.policy) == (
        "inv-1",
        "coachview",
        "party",
        "DebtorPolicy.guest_debtor_code",
    )


def test_guest_debtor_number_must_exist_in_the_division(ref):
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(party=None), ref, DebtorPolicy(guest_debtor_code="4711"))
    assert caught.value.value == "4711"


# Coachview: "The debtors of Coachview are automatically created as a customer relationship in Exact
# online if they do not yet exist." Pay.: "Specify whether to create new relations".
def test_create_new_relations_when_they_do_not_exist(ref):
    decision = resolve_debtor(invoice(), ref, DebtorPolicy(create_missing=True))
    assert decision.action is DebtorAction.CREATE


def test_do_not_create_new_relations_is_an_error_for_unknown_debtors(ref):
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(), ref, DebtorPolicy(create_missing=False))
    assert caught.value.policy == "DebtorPolicy.create_missing"
    assert caught.value.value == "42"


# Coachview: "Unchecked means that the data of an existing relation in Exact-Online will not be
# overwritten".
def test_existing_relation_is_not_overwritten_when_unchecked(ref):
    who = party(internal_number="7", name="Ann de Vries-Bakker")
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy(overwrite_existing=False))
    assert decision.action is DebtorAction.EXISTING
    assert decision.account is None


# Coachview: "Ticked means that the data of an existing relation is overwritten in Exact-Online with
# the debtor data from Coachview".
def test_existing_relation_is_overwritten_when_ticked(ref):
    who = party(internal_number="7", name="Ann de Vries-Bakker")
    decision = resolve_debtor(invoice(party=who), ref, DebtorPolicy(overwrite_existing=True))
    assert decision.action is DebtorAction.UPDATE
    assert decision.account is not None
    assert (decision.account.id, decision.account.name, decision.account.code) == (
        "acc-7",
        "Ann de Vries-Bakker",
        PAD("7"),
    )


# Coachview: "Don't check this option if you are not sure if the debtor number from Coachview can
# occur as a relation number (customer or supplier)."
def test_debtor_number_of_a_supplier_is_refused(ref):
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(party=party(internal_number="500")), ref, DebtorPolicy())
    error = caught.value
    assert (error.field, error.policy, error.value) == (
        "party.internal_number",
        "DebtorPolicy.refuse_supplier_codes",
        "500",
    )


def test_supplier_refusal_can_be_switched_off(ref):
    policy = DebtorPolicy(refuse_supplier_codes=False)
    decision = resolve_debtor(invoice(party=party(internal_number="500")), ref, policy)
    assert decision.account_id == "acc-sup"


def test_customer_that_is_also_a_supplier_is_accepted():
    ref = reference(accounts=[KnownAccount("both", code="42", is_customer=True, is_supplier=True)])
    assert resolve_debtor(invoice(), ref, DebtorPolicy()).account_id == "both"


def test_new_account_without_a_name_is_refused(ref):
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(party=party(name="   ")), ref, DebtorPolicy())
    assert caught.value.field == "party.name"


def test_bad_country_is_named(ref):
    who = party(address=Address(country="Netherlands"))
    with pytest.raises(MappingError) as caught:
        resolve_debtor(invoice(party=who), ref, DebtorPolicy())
    assert caught.value.field == "party.address.country"
    assert caught.value.value == "Netherlands"
