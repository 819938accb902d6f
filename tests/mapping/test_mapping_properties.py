"""Property tests: drafts balance to the cent, VAT follows its code, credit notes mirror invoices,
and no input, however hostile, makes a mapping function raise anything but MappingError."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exactbridge.errors import MappingError
from exactbridge.mapping import (
    DebtorPolicy,
    EntryType,
    LedgerMapping,
    NumberingPolicy,
    OpenReceivable,
    PeriodPolicy,
    entry_number,
    ledger_for_line,
    match_payout,
    resolve_debtor,
    select_period,
    split_excluding,
    split_including,
    summarize_day,
    to_sales_entry,
)
from exactbridge.records import (
    Address,
    AmountBasis,
    Fee,
    Invoice,
    InvoiceLine,
    Party,
    Payment,
    Payout,
    ServicePeriod,
)

from .mapping_builders import config, negate, reference

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CENT = Decimal("0.01")
RATES = {"high": Decimal("0.21"), "low": Decimal("0.09"), "zero": Decimal("0")}
REF = reference()
CONFIG = config(
    summary={"collective_debtor_code": "9999"},
    payments={
        "bank_journal": "25",
        "psp_cost_account": "4500",
        "payout_account": "2000",
        "unassigned_account": "2999",
    },
)

amounts = st.decimals(
    min_value=Decimal("-99999.99"),
    max_value=Decimal("99999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
dates_2024 = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2024, 12, 31))


@st.composite
def invoice_lines(draw):
    return InvoiceLine(
        description=draw(st.text(max_size=20)),
        amount=draw(amounts),
        amount_basis=draw(st.sampled_from(AmountBasis)),
        vat_category=draw(st.sampled_from(sorted(RATES))),
        is_discount=draw(st.booleans()),
    )


@st.composite
def invoices(draw, sign=None):
    lines = draw(st.lists(invoice_lines(), min_size=1, max_size=6))
    if sign is not None:
        lines = [attrs.evolve(x, amount=abs(x.amount) * sign) for x in lines]
    number = draw(st.integers(min_value=10_000, max_value=99_999_999))
    return Invoice(
        source="virtuagym",
        source_id=f"inv-{number}",
        number=str(number),
        invoice_date=draw(dates_2024),
        lines=lines,
        party=Party("virtuagym", f"m-{number}", "Member", internal_number=str(number)),
    )


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@FAST
@given(invoices())
def test_every_sales_entry_draft_balances_to_the_cent(invoice):
    draft = to_sales_entry(invoice, REF, CONFIG)
    expected_total = Decimal("0")
    for source_line, line in zip(invoice.lines, draft.lines, strict=True):
        assert line.amount_excl_vat == _rounded(line.amount_excl_vat)
        assert line.vat_amount == _rounded(line.vat_amount)
        if source_line.amount_basis is AmountBasis.INCLUDING_VAT:
            assert line.amount_incl_vat == source_line.amount
        else:
            assert line.amount_excl_vat == source_line.amount
        expected_total += line.amount_excl_vat + line.vat_amount
    assert draft.total_incl_vat == expected_total
    assert draft.total_excl_vat + draft.total_vat == draft.total_incl_vat
    assert (draft.type is EntryType.SALES_CREDIT_NOTE) == (expected_total < 0)


@FAST
@given(invoices())
def test_vat_on_each_line_matches_its_code_under_the_rounding_rule(invoice):
    draft = to_sales_entry(invoice, REF, CONFIG)
    for source_line, line in zip(invoice.lines, draft.lines, strict=True):
        rate = RATES[source_line.vat_category]
        assert line.vat_percentage == rate
        if source_line.amount_basis is AmountBasis.INCLUDING_VAT:
            exact = source_line.amount * rate / (1 + rate)
        else:
            exact = source_line.amount * rate
        # Half-up rounding: never more than half a cent away from the exact VAT ...
        assert abs(line.vat_amount - exact) <= Decimal("0.005")
        # ... the same sign as the amount, and zero at 0 %.
        assert line.vat_amount * source_line.amount >= 0
        if not rate:
            assert line.vat_amount == 0


@FAST
@given(amounts, st.sampled_from(sorted(RATES.values())))
def test_splits_are_exact_and_symmetric(amount, rate):
    including = split_including(amount, rate)
    excluding = split_excluding(amount, rate)
    assert including.net + including.vat == including.gross == amount
    assert excluding.net + excluding.vat == excluding.gross
    assert excluding.net == amount
    assert split_including(-amount, rate).vat == -including.vat
    assert split_excluding(-amount, rate).vat == -excluding.vat


@FAST
@given(invoices(sign=1))
def test_credit_note_mirrors_the_invoice_it_reverses(invoice):
    booked = to_sales_entry(invoice, REF, CONFIG)
    reversed_ = to_sales_entry(negate(invoice), REF, CONFIG)
    assert [
        (x.gl_account, x.vat_code, x.cost_center, x.cost_unit, -x.amount_excl_vat, -x.vat_amount)
        for x in reversed_.lines
    ] == [
        (x.gl_account, x.vat_code, x.cost_center, x.cost_unit, x.amount_excl_vat, x.vat_amount)
        for x in booked.lines
    ]
    assert reversed_.total_incl_vat == -booked.total_incl_vat
    assert (reversed_.reporting_year, reversed_.reporting_period) == (
        booked.reporting_year,
        booked.reporting_period,
    )
    if booked.total_incl_vat > 0:
        assert reversed_.type is EntryType.SALES_CREDIT_NOTE
        assert reversed_.credited_invoice == invoice.number


@FAST
@given(st.lists(invoices(), min_size=1, max_size=8))
def test_summary_entries_book_exactly_what_the_invoices_book(batch):
    batch = [attrs.evolve(inv, source_id=f"{inv.source_id}-{n}") for n, inv in enumerate(batch)]
    result = summarize_day(batch, REF, CONFIG)
    assert result.failed == ()
    per_invoice = [to_sales_entry(inv, REF, CONFIG) for inv in batch]
    assert sum(e.total_incl_vat for e in result.entries) == sum(
        d.total_incl_vat for d in per_invoice
    )
    assert sum(e.total_vat for e in result.entries) == sum(d.total_vat for d in per_invoice)
    booked = [i for e in result.entries for i in e.source_ids]
    assert sorted([*booked, *result.nothing_to_book]) == sorted(i.source_id for i in batch)


@st.composite
def payouts(draw):
    payments = []
    receivables = []
    for n in range(draw(st.integers(min_value=1, max_value=8))):
        amount = draw(amounts)
        reference_ = draw(st.one_of(st.none(), st.sampled_from(["1001", "1002", "X", f"R{n}"])))
        payments.append(
            Payment("paynl", f"p{n}", amount, dt.date(2024, 5, 5), reference=reference_)
        )
        if reference_ and draw(st.booleans()):
            open_amount = amount if draw(st.booleans()) else draw(amounts)
            receivables.append(
                OpenReceivable(f"acc-{n}", open_amount, invoice_number=n + 1, your_ref=reference_)
            )
    fees = [
        Fee(draw(st.decimals(min_value=0, max_value=10, places=2)), "fee")
        for _ in range(draw(st.integers(min_value=0, max_value=3)))
    ]
    total = sum((p.amount for p in payments), Decimal(0)) - sum(
        (f.amount for f in fees), Decimal(0)
    )
    return Payout("paynl", "po", draw(dates_2024), total, payments, fees), receivables


@FAST
@given(payouts())
def test_every_bank_entry_draft_balances_to_the_payout(case):
    payout, receivables = case
    result = match_payout(payout, receivables, REF, CONFIG)
    draft = result.draft
    assert draft is not None
    assert draft.total == payout.amount
    assert sum(x.amount for x in draft.all_lines) == 0
    assert len(draft.lines) == len(payout.payments) + len(payout.fees)
    matched = [x for x in draft.lines if x.kind.value == "payment"]
    assert len(matched) + len(result.unmatched) == len(payout.payments)


# --- hostile input -----------------------------------------------------------------------------

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.binary(max_size=5),
    st.decimals(),
    st.decimals(min_value=Decimal("-1e40"), max_value=Decimal("1e40")),
    st.just(Decimal("sNaN")),
    st.just(Decimal("1E+999999")),
    st.dates(),
    st.datetimes(),
    st.lists(st.integers(), max_size=2),
)
texts = st.one_of(
    st.none(), st.text(max_size=25), st.sampled_from(["high", "low", "zero", "7", "42", "1001"])
)
money = st.one_of(
    amounts,
    st.decimals(),
    st.sampled_from([Decimal(0), Decimal("-0.00"), Decimal("0.005")]),
    anything,
)
maybe_dates = st.one_of(st.none(), dates_2024, st.dates(), anything)


@st.composite
def hostile_lines(draw):
    return InvoiceLine(
        description=draw(st.one_of(st.text(max_size=30), anything)),
        amount=draw(money),
        amount_basis=draw(st.one_of(st.sampled_from(AmountBasis), anything)),
        quantity=draw(st.one_of(st.just(Decimal(1)), money)),
        vat_category=draw(st.one_of(texts, anything)),
        vat_rate=draw(st.one_of(st.none(), st.sampled_from(list(RATES.values())), money)),
        income_category=draw(texts),
        product=draw(texts),
        course_template=draw(texts),
        course_edition=draw(texts),
        is_discount=draw(st.one_of(st.booleans(), anything)),
        service_period=draw(
            st.one_of(
                st.none(),
                st.builds(ServicePeriod, maybe_dates, maybe_dates),
                anything,
            )
        ),
    )


@st.composite
def hostile_parties(draw):
    return Party(
        source=draw(st.one_of(st.text(max_size=10), anything)),
        source_id=draw(st.one_of(st.text(max_size=10), anything)),
        name=draw(st.one_of(st.text(max_size=30), anything)),
        email=draw(st.one_of(texts, st.just("ANN@example.org"))),
        vat_number=draw(texts),
        internal_number=draw(st.one_of(texts, st.just("x" * 40), anything)),
        external_number=draw(texts),
        extern_ids=draw(st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2)),
        exact_account_id=draw(st.one_of(texts, st.just("acc-7"), anything)),
        address=draw(st.one_of(st.none(), st.builds(Address, country=texts))),
    )


@st.composite
def hostile_invoices(draw):
    return Invoice(
        source=draw(st.one_of(st.text(max_size=10), anything)),
        source_id=draw(st.one_of(st.text(max_size=10), anything)),
        number=draw(st.one_of(texts, st.just("9" * 30), anything)),
        invoice_date=draw(maybe_dates),
        lines=draw(st.lists(st.one_of(hostile_lines(), anything), max_size=4)),
        party=draw(st.one_of(st.none(), hostile_parties(), anything)),
        currency=draw(st.one_of(st.just("EUR"), st.text(max_size=4), anything)),
        due_date=draw(maybe_dates),
        order_start=draw(maybe_dates),
        order_end=draw(maybe_dates),
        service_period=draw(
            st.one_of(st.none(), st.builds(ServicePeriod, maybe_dates, maybe_dates))
        ),
        total_incl_vat=draw(st.one_of(st.none(), money)),
        total_excl_vat=draw(st.one_of(st.none(), money)),
        reference=draw(st.one_of(texts, anything)),
        description=draw(st.one_of(texts, anything)),
        credited_invoice=draw(st.one_of(texts, anything)),
        tenant=draw(st.one_of(texts, anything)),
    )


HOSTILE_CONFIG = config(
    debtor={"guest_debtor_code": "9000"},
    period={
        "date_sources": ["order_start", "service_period_start", "invoice_date"],
        "line_service_period": True,
    },
    numbering={"template": "{tenant}{prefix}{number}", "prefix": "24"},
    summary={"collective_debtor_code": "9999"},
    ledger={"by_product": {"42": "8100"}, "project_attribute": "x"},
)


def _only_mapping_errors(function, *args, **kwargs):
    caught: MappingError | None = None
    try:
        return function(*args, **kwargs)
    except MappingError as error:
        caught = error
    assert caught.record_id
    assert caught.field
    assert caught.policy
    return None


@FAST
@given(hostile_invoices())
def test_hostile_invoices_raise_nothing_but_mapping_error(invoice):
    export = dt.date(2024, 6, 1)
    _only_mapping_errors(to_sales_entry, invoice, REF, HOSTILE_CONFIG, export_date=export)
    _only_mapping_errors(resolve_debtor, invoice, REF, DebtorPolicy())
    _only_mapping_errors(select_period, invoice, REF, PeriodPolicy(), "70", export_date=export)
    _only_mapping_errors(entry_number, invoice, NumberingPolicy(template="{tenant}{number}"))
    for line in invoice.lines:
        _only_mapping_errors(
            ledger_for_line, invoice, line, REF, LedgerMapping(by_product={"42": "8100"})
        )
    result = _only_mapping_errors(summarize_day, [invoice, invoice], REF, HOSTILE_CONFIG)
    if result is not None:
        assert all(isinstance(error, MappingError) for error in result.failed)


@st.composite
def hostile_payouts(draw):
    payments = draw(
        st.lists(
            st.one_of(
                st.builds(
                    Payment,
                    source=st.just("paynl"),
                    source_id=st.one_of(st.text(max_size=5), anything),
                    amount=money,
                    date=maybe_dates,
                    reference=texts,
                    invoice_reference=st.one_of(texts, anything),
                    currency=st.one_of(st.just("EUR"), anything),
                    revenue_group=texts,
                ),
                anything,
            ),
            max_size=4,
        )
    )
    fees = draw(
        st.lists(
            st.one_of(st.builds(Fee, money, st.text(max_size=5), date=maybe_dates), anything),
            max_size=2,
        )
    )
    return Payout(
        source="paynl",
        source_id=draw(st.one_of(st.text(max_size=5), anything)),
        date=draw(maybe_dates),
        amount=draw(money),
        payments=payments,
        fees=fees,
        currency=draw(st.one_of(st.just("EUR"), anything)),
        revenue_group=draw(texts),
    )


@FAST
@given(
    hostile_payouts(),
    st.lists(
        st.one_of(
            st.builds(
                OpenReceivable,
                st.text(max_size=5),
                money,
                your_ref=texts,
                invoice_number=st.integers(),
            ),
            anything,
        ),
        max_size=3,
    ),
)
def test_hostile_payouts_raise_nothing_but_mapping_error(payout, receivables):
    _only_mapping_errors(match_payout, payout, receivables, REF, CONFIG)
    with_groups = attrs.evolve(
        CONFIG, payments=attrs.evolve(CONFIG.payments, revenue_groups=("Web",))
    )
    _only_mapping_errors(match_payout, payout, receivables, REF, with_groups)


@FAST
@given(anything, anything)
def test_split_helpers_raise_nothing_but_mapping_error(amount, rate):
    _only_mapping_errors(split_including, amount, rate)
    _only_mapping_errors(split_excluding, amount, rate)
