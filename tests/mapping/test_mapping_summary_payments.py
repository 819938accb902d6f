"""Summary booking (Virtuagym "Book revenue") and payout matching (the Pay. integration)."""

from __future__ import annotations

import datetime as dt

import pytest

from exactbridge.errors import MappingError
from exactbridge.mapping import (
    BankLineKind,
    EntryType,
    OpenReceivable,
    UnmatchedReason,
    VatCode,
    VatType,
    match_payout,
    summarize,
    summarize_day,
    summarize_period,
    to_sales_entry,
)
from exactbridge.records import Fee, Payment, Payout

from .mapping_builders import D, config, invoice, line, negate, party, reference

# --- summary booking ---------------------------------------------------------------------------

DAY1 = dt.date(2024, 5, 3)
DAY2 = dt.date(2024, 5, 4)


def _day_invoices():
    return [
        invoice(line("121.00"), line("10.90", vat_category="low"), source_id="a", number="1"),
        invoice(line("12.10"), source_id="b", number="2", party=None),
        invoice(line("60.50"), source_id="c", number="3", invoice_date=DAY2),
    ]


# Virtuagym: "Book revenue: How would you like the revenue to be booked?" — per invoice.
def test_book_revenue_per_invoice(ref):
    cfg = config(summary={"mode": "per_invoice"})
    assert to_sales_entry(_day_invoices()[0], ref, cfg).source_ids == ("a",)


# ... one summary entry per day on a collective debtor, grouped by VAT code and GL account.
def test_book_revenue_as_one_summary_entry_per_day(ref):
    cfg = config(summary={"mode": "per_day", "collective_debtor_code": "9999"})
    result = summarize(_day_invoices(), ref, cfg)
    assert result.failed == ()
    first, second = result.entries
    assert (first.entry_date, first.source_ids, first.customer_id) == (DAY1, ("a", "b"), "acc-coll")
    assert [(x.vat_code, x.gl_account, x.amount_excl_vat, x.vat_amount) for x in first.lines] == [
        ("1  ", "8000", D("10.00"), D("0.90")),
        ("2  ", "8000", D("110.00"), D("23.10")),
    ]
    assert (first.your_ref, first.description) == ("coachview-2024-05-03", "Revenue 2024-05-03")
    assert first.entry_number is None
    assert (second.entry_date, second.source_ids, second.total_incl_vat) == (
        DAY2,
        ("c",),
        D("60.50"),
    )


def test_book_revenue_as_one_summary_entry_per_period(ref):
    cfg = config(summary={"mode": "per_day", "collective_debtor_code": "9999"})
    result = summarize_period(_day_invoices(), ref, cfg)
    (entry,) = result.entries
    assert (entry.reporting_year, entry.reporting_period, entry.entry_date) == (2024, 5, DAY2)
    assert entry.your_ref == "coachview-2024-P05"
    assert entry.total_incl_vat == D("204.50")


def test_summary_lines_of_an_including_vat_code_send_the_gross_amount():
    # Club-assistent links revenue accounts to an including VAT code (Exact type I).
    codes = [VatCode("6", D("0.21"), type=VatType.INCLUDING), VatCode("1", D("0.09"))]
    including = reference(vat_codes=codes)
    cfg = config(
        summary={"mode": "per_day", "collective_debtor_code": "9999"},
        vat={"codes": {"high": "6", "low": "1"}},
    )
    [entry] = summarize(_day_invoices()[:2], including, cfg).entries
    by_code = {line.vat_code.strip(): line for line in entry.lines}
    assert (by_code["6"].vat_included, by_code["6"].amount_fc) == (True, D("133.10"))
    assert (by_code["6"].amount_excl_vat, by_code["6"].vat_amount) == (D("110.00"), D("23.10"))
    assert (by_code["1"].vat_included, by_code["1"].amount_fc) == (False, D("10.00"))


def test_summary_lines_carry_the_invoices_vat_cent_for_cent(ref):
    # Three lines of 10.00 including 21 %: 1.74 VAT each, 5.22 together (5.21 on the total).
    invoices = [invoice(line("10.00"), source_id=str(n), number=str(n)) for n in range(3)]
    cfg = config(summary={"collective_debtor_code": "9999"})
    (entry,) = summarize_day(invoices, ref, cfg).entries
    assert (entry.lines[0].amount_excl_vat, entry.lines[0].vat_amount) == (D("24.78"), D("5.22"))


def test_one_bad_invoice_does_not_block_the_day(ref):
    invoices = [*_day_invoices(), invoice(line(vat_category="nope"), source_id="bad")]
    result = summarize_day(invoices, ref, config(summary={"collective_debtor_code": "9999"}))
    assert [e.record_id for e in result.failed] == ["bad"]
    assert sum(len(e.source_ids) for e in result.entries) == 3


def test_negative_day_follows_the_credit_note_policy(ref):
    cfg = config(summary={"collective_debtor_code": "9999"}, credit_notes={"journal": "71"})
    (entry,) = summarize_day([negate(invoice())], ref, cfg).entries
    assert (entry.type, entry.journal) == (EntryType.SALES_CREDIT_NOTE, "71")


def test_summary_needs_a_collective_debtor_in_the_division(ref):
    cfg = config(summary={"collective_debtor_code": "4711"})
    with pytest.raises(MappingError) as caught:
        summarize_day(_day_invoices(), ref, cfg)
    assert caught.value.policy == "SummaryPolicy.collective_debtor_code"


def test_summary_mode_needs_a_collective_debtor_in_the_config():
    from exactbridge.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        config(summary={"mode": "per_day"})
    assert caught.value.key == "summary.collective_debtor_code"


# --- payout matching ---------------------------------------------------------------------------

PAY_CONFIG = {
    "bank_journal": "25",
    "debtors_account": "1300",
    "psp_cost_account": "4500",
    "payout_account": "2000",
    "unassigned_account": "2999",
}


def _payout(*payments, fees=(), amount=None, **overrides):
    fees = tuple(fees)
    if amount is None:
        amount = sum((p.amount for p in payments), D("0")) - sum((f.amount for f in fees), D("0"))
    values = {
        "source": "paynl",
        "source_id": "po-1",
        "date": dt.date(2024, 5, 6),
        "amount": amount,
        "payments": payments,
        "fees": fees,
        "reference": "CL-0001",
    }
    values.update(overrides)
    return Payout(**values)


def _payment(amount, ref, n=1, **overrides):
    values = {
        "source": "paynl",
        "source_id": f"pay-{n}",
        "amount": D(amount),
        "date": dt.date(2024, 5, 5),
        "reference": ref,
    }
    values.update(overrides)
    return Payment(**values)


OPEN = [
    OpenReceivable("acc-7", D("121.00"), invoice_number=241001, your_ref="1001", account_code="7"),
    OpenReceivable("acc-8", D("50.00"), invoice_number=241002, your_ref="1002"),
    OpenReceivable("acc-9", D("30.00"), invoice_number=241003, your_ref="1003"),
    OpenReceivable("acc-10", D("30.00"), invoice_number=241004, your_ref="1003"),
]


# Pay.: "Automatic booking at 100% match."
def test_automatic_booking_at_100_percent_match(ref):
    payout = _payout(_payment("121.00", "1001"), fees=[Fee(D("0.29"), "Transaction fee")])
    result = match_payout(payout, OPEN, ref, config(payments=PAY_CONFIG))
    assert result.unmatched == ()
    draft = result.draft
    assert draft is not None
    payment, fee = draft.lines
    assert (payment.kind, payment.gl_account, payment.amount) == (
        BankLineKind.PAYMENT,
        "1300",
        D("121.00"),
    )
    assert (payment.account_id, payment.account_code, payment.our_ref) == (
        "acc-7",
        "                 7",
        241001,
    )
    assert (fee.kind, fee.gl_account, fee.amount) == (BankLineKind.FEE, "4500", D("-0.29"))
    assert draft.total == payout.amount == D("120.71")
    assert (draft.transfer_line.gl_account, draft.transfer_line.amount) == ("2000", D("-120.71"))
    assert sum(x.amount for x in draft.all_lines) == 0
    assert (draft.journal_code, draft.financial_year, draft.financial_period) == ("25", 2024, 5)


def test_payment_matches_by_invoice_number_too(ref):
    payout = _payout(_payment("50.00", None, invoice_reference="241002"))
    (line_,) = match_payout(payout, OPEN, ref, config(payments=PAY_CONFIG)).draft.lines
    assert line_.account_id == "acc-8"


def test_partial_payment_is_not_a_100_percent_match(ref):
    payout = _payout(_payment("100.00", "1001"))
    result = match_payout(payout, OPEN, ref, config(payments=PAY_CONFIG))
    (unmatched,) = result.unmatched
    assert unmatched.reason is UnmatchedReason.AMOUNT_DIFFERS
    assert "121.00" in unmatched.detail


def test_two_equal_open_receivables_are_not_guessed(ref):
    result = match_payout(
        _payout(_payment("30.00", "1003")), OPEN, ref, config(payments=PAY_CONFIG)
    )
    assert [u.reason for u in result.unmatched] == [UnmatchedReason.AMBIGUOUS]


def test_one_receivable_is_matched_once(ref):
    payout = _payout(_payment("50.00", "1002", 1), _payment("50.00", "1002", 2))
    result = match_payout(payout, OPEN, ref, config(payments=PAY_CONFIG))
    assert [x.kind for x in result.draft.lines] == [BankLineKind.PAYMENT, BankLineKind.UNMATCHED]
    assert [u.reason for u in result.unmatched] == [UnmatchedReason.NO_OPEN_RECEIVABLE]


def test_payment_without_reference_is_unmatched(ref):
    result = match_payout(_payout(_payment("5.00", None)), OPEN, ref, config(payments=PAY_CONFIG))
    assert [u.reason for u in result.unmatched] == [UnmatchedReason.NO_REFERENCE]


# Pay.: "If you choose 'No', the relevant booking lines will be booked to the 'General Ledger
# Account: Unassigned'."
def test_unmatched_payment_is_booked_to_the_unassigned_account(ref):
    result = match_payout(_payout(_payment("9.99", "X")), OPEN, ref, config(payments=PAY_CONFIG))
    (only,) = result.draft.lines
    assert (only.kind, only.gl_account, only.account_id) == (BankLineKind.UNMATCHED, "2999", None)
    assert result.unmatched[0].booked_on == "GL account 2999"


# Pay.: "If you want to book all orders to a standard debtor in Exact Online, enter the code of the
# standard debtor here."
def test_unmatched_payment_is_booked_to_the_standard_debtor(ref):
    cfg = config(
        payments={**PAY_CONFIG, "unmatched": "standard_debtor", "standard_debtor_code": "9100"}
    )
    result = match_payout(_payout(_payment("9.99", "X")), OPEN, ref, cfg)
    (only,) = result.draft.lines
    assert (only.gl_account, only.account_id, only.account_code) == (
        "1300",
        "acc-std",
        "              9100",
    )


# Pay.: "Select the default general ledger account for debtors, costs, and payouts." Coachview:
# "General ledger account number for debtors ... Default is 1300."
def test_default_general_ledger_accounts_for_debtors_costs_and_payouts(ref):
    payments = {key: value for key, value in PAY_CONFIG.items() if key != "debtors_account"}
    cfg = config(payments=payments)
    assert cfg.payments.debtors_account == "1300"
    draft = match_payout(
        _payout(_payment("121.00", "1001"), fees=[Fee(D("1.00"), "fee")]), OPEN, ref, cfg
    ).draft
    assert [x.gl_account for x in draft.all_lines] == ["1300", "4500", "2000"]


def test_missing_psp_cost_account_is_named(ref):
    cfg = config(payments={**PAY_CONFIG, "psp_cost_account": "4599"})
    with pytest.raises(MappingError) as caught:
        match_payout(_payout(_payment("1.00", "x"), fees=[Fee(D("0.10"), "fee")]), OPEN, ref, cfg)
    assert (caught.value.field, caught.value.value) == ("payments.psp_cost_account", "4599")


# Pay.: "Select bank journal: Choose the bank journal where the invoice payments should be
# recorded."
def test_select_bank_journal(ref):
    draft = match_payout(
        _payout(_payment("121.00", "1001")),
        OPEN,
        ref,
        config(payments={**PAY_CONFIG, "bank_journal": "20"}),
    ).draft
    assert draft.journal_code == "20"


def test_sales_journal_is_not_a_bank_journal(ref):
    with pytest.raises(MappingError) as caught:
        match_payout(
            _payout(_payment("1.00", "x")),
            OPEN,
            ref,
            config(payments={**PAY_CONFIG, "bank_journal": "70"}),
        )
    assert caught.value.policy == "PaymentMatchingPolicy.bank_journal"


# Pay.: "Select revenue groups: Do you only want to synchronize payouts for specific revenue
# groups?"
def test_select_revenue_groups(ref):
    cfg = config(payments={**PAY_CONFIG, "revenue_groups": ["Webshop"]})
    chosen = match_payout(_payout(_payment("1.00", "x"), revenue_group="Webshop"), OPEN, ref, cfg)
    other = match_payout(_payout(_payment("1.00", "x"), revenue_group="Bar"), OPEN, ref, cfg)
    assert chosen.draft is not None
    assert other.draft is None
    assert other.skipped == "revenue group 'Bar' is not selected"


# Pay.: "Ensure that you have also enabled the 'Payout per revenue group' option".
def test_mixed_revenue_groups_need_payout_per_revenue_group(ref):
    cfg = config(payments={**PAY_CONFIG, "revenue_groups": ["Webshop"]})
    payout = _payout(
        _payment("1.00", "x", 1, revenue_group="Webshop"),
        _payment("2.00", "y", 2, revenue_group="Bar"),
    )
    result = match_payout(payout, OPEN, ref, cfg)
    assert result.draft is None
    assert "Payout per revenue group" in (result.skipped or "")


def test_receipt_sign_convention_is_a_policy(ref):
    cfg = config(payments={**PAY_CONFIG, "receipt_sign": "negative"})
    payout = _payout(_payment("121.00", "1001"), fees=[Fee(D("0.29"), "fee")])
    draft = match_payout(payout, OPEN, ref, cfg).draft
    assert [x.amount for x in draft.all_lines] == [D("-121.00"), D("0.29"), D("120.71")]
    assert draft.total == -payout.amount


def test_payout_that_does_not_add_up_is_refused(ref):
    payout = _payout(_payment("10.00", "x"), amount=D("9.00"))
    with pytest.raises(MappingError) as caught:
        match_payout(payout, OPEN, ref, config(payments=PAY_CONFIG))
    error = caught.value
    assert (error.record_id, error.source, error.field, error.value) == (
        "po-1",
        "paynl",
        "amount",
        D("9.00"),
    )


def test_refund_matches_an_open_credit_note(ref):
    open_credit = [OpenReceivable("acc-7", D("-20.00"), invoice_number=241009, your_ref="CN-9")]
    payout = _payout(_payment("50.00", "nothing", 1), _payment("-20.00", "CN-9", 2))
    draft = match_payout(payout, open_credit, ref, config(payments=PAY_CONFIG)).draft
    assert [(x.kind, x.amount) for x in draft.lines] == [
        (BankLineKind.UNMATCHED, D("50.00")),
        (BankLineKind.PAYMENT, D("-20.00")),
    ]


def test_payment_in_another_currency_than_the_receivable(ref):
    open_usd = [OpenReceivable("acc-7", D("5.00"), your_ref="1001", currency="USD")]
    result = match_payout(
        _payout(_payment("5.00", "1001")), open_usd, ref, config(payments=PAY_CONFIG)
    )
    assert [u.reason for u in result.unmatched] == [UnmatchedReason.CURRENCY_DIFFERS]


def test_party_is_irrelevant_to_payment_matching(ref):
    # Receivables are data: the matching never looks at who paid.
    payout = _payout(_payment("121.00", "1001", payer_name=party().name))
    assert match_payout(payout, OPEN, ref, config(payments=PAY_CONFIG)).unmatched == ()
