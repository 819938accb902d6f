"""Booking period selection (Coachview's "Panel Financial", Virtuagym's "Periods")."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from exactbridge.errors import MappingError
from exactbridge.mapping import (
    DateSource,
    FinancialPeriod,
    PeriodPolicy,
    UnavailablePeriod,
    select_period,
    to_sales_entry,
)
from exactbridge.records import ServicePeriod

from .mapping_builders import config, invoice, line, periods, reference

DATED = invoice(
    invoice_date=dt.date(2024, 5, 3),
    order_start=dt.date(2024, 3, 1),
    order_end=dt.date(2024, 8, 31),
    service_period=ServicePeriod(dt.date(2024, 4, 1), dt.date(2024, 4, 30)),
)


# Coachview: "Which date from Coachview should be used to determine the booking period? You have
# the choice: 1. Invoice date 2. Invoice order start date 3. Invoice order end date 4. Export date"
@pytest.mark.parametrize(
    ("source", "expected_period", "expected_date"),
    [
        (DateSource.INVOICE_DATE, 5, dt.date(2024, 5, 3)),
        (DateSource.ORDER_START, 3, dt.date(2024, 3, 1)),
        (DateSource.ORDER_END, 8, dt.date(2024, 8, 31)),
        (DateSource.SERVICE_PERIOD_START, 4, dt.date(2024, 4, 1)),
        (DateSource.EXPORT_DATE, 11, dt.date(2024, 11, 20)),
    ],
)
def test_date_used_to_determine_the_booking_period(ref, source, expected_period, expected_date):
    choice = select_period(
        DATED, ref, PeriodPolicy(date_sources=(source,)), "70", export_date=dt.date(2024, 11, 20)
    )
    assert (choice.year, choice.period, choice.date, choice.date_source) == (
        2024,
        expected_period,
        expected_date,
        source.value,
    )


# Coachview: "Select option 2 if you expect that the first option cannot produce a date."
def test_option_2_is_used_when_option_1_cannot_produce_a_date(ref):
    policy = PeriodPolicy(date_sources=(DateSource.ORDER_START, DateSource.INVOICE_DATE))
    choice = select_period(invoice(order_start=None), ref, policy, "70")
    assert (choice.period, choice.date_source) == (5, "invoice_date")


def test_no_date_source_gives_a_date(ref):
    policy = PeriodPolicy(date_sources=(DateSource.ORDER_START, DateSource.EXPORT_DATE))
    with pytest.raises(MappingError) as caught:
        select_period(invoice(), ref, policy, "70")
    assert caught.value.policy == "PeriodPolicy.date_sources"
    assert caught.value.value == ["order_start", "export_date"]


def test_financial_year_need_not_follow_the_calendar():
    # A school year: financial year 2024 runs from August 2024 to July 2025.
    ref = reference(periods=periods(2024, first_month=8))
    choice = select_period(invoice(invoice_date=dt.date(2025, 2, 14)), ref, PeriodPolicy(), "70")
    assert (choice.year, choice.period) == (2024, 7)


def test_closed_period_is_an_error_by_default():
    closed = [attrs.evolve(p, closed=p.period == 5) for p in periods(2024)]
    with pytest.raises(MappingError) as caught:
        select_period(invoice(), reference(periods=closed), PeriodPolicy(), "70")
    error = caught.value
    assert (error.field, error.policy, error.value) == (
        "invoice_date",
        "PeriodPolicy.when_unavailable",
        dt.date(2024, 5, 3),
    )
    assert "closed" in str(error)


def test_closed_period_moves_to_the_next_open_period():
    closed = [attrs.evolve(p, closed=p.period in (5, 6)) for p in periods(2024)]
    policy = PeriodPolicy(when_unavailable=UnavailablePeriod.NEXT_OPEN)
    choice = select_period(invoice(), reference(periods=closed), policy, "70")
    assert (choice.year, choice.period, choice.moved) == (2024, 7, True)
    # Exact refuses an entry date outside its period: the entry date moves along.
    assert choice.entry_date == dt.date(2024, 7, 1)


def test_period_closed_for_one_journal_only():
    closed = [
        attrs.evolve(p, closed_journals={"70"} if p.period == 5 else set()) for p in periods(2024)
    ]
    ref = reference(periods=closed)
    policy = PeriodPolicy(when_unavailable=UnavailablePeriod.NEXT_OPEN)
    assert select_period(invoice(), ref, policy, "70").period == 6
    assert select_period(invoice(), ref, policy, "71").period == 5


def test_missing_period_moves_to_the_next_open_period():
    ref = reference(periods=periods(2025))
    policy = PeriodPolicy(when_unavailable=UnavailablePeriod.NEXT_OPEN)
    choice = select_period(invoice(), ref, policy, "70")
    assert (choice.year, choice.period) == (2025, 1)


def test_missing_period_without_a_later_one_is_an_error():
    ref = reference(periods=periods(2023))
    policy = PeriodPolicy(when_unavailable=UnavailablePeriod.NEXT_OPEN)
    with pytest.raises(MappingError) as caught:
        select_period(invoice(), ref, policy, "70")
    assert "no open period follows" in str(caught.value)


def test_entry_date_stays_the_invoice_date_inside_the_period(ref):
    policy = PeriodPolicy(date_sources=(DateSource.ORDER_START,))
    choice = select_period(invoice(order_start=dt.date(2024, 5, 1)), ref, policy, "70")
    assert choice.entry_date == dt.date(2024, 5, 3)


def test_entry_date_moves_into_a_period_chosen_by_another_date(ref):
    policy = PeriodPolicy(date_sources=(DateSource.ORDER_START,))
    choice = select_period(invoice(order_start=dt.date(2024, 3, 10)), ref, policy, "70")
    assert (choice.period, choice.entry_date) == (3, dt.date(2024, 3, 10))


def test_entry_date_can_be_kept_as_invoice_date(ref):
    policy = PeriodPolicy(date_sources=(DateSource.ORDER_START,), entry_date_in_period=False)
    choice = select_period(invoice(order_start=dt.date(2024, 3, 10)), ref, policy, "70")
    assert (choice.period, choice.entry_date) == (3, dt.date(2024, 5, 3))


# Virtuagym: "Do you want to use the periods added to the Virtuagym invoice in Exact Online too?"
def test_use_the_periods_added_to_the_invoice_as_line_from_to(ref):
    own = ServicePeriod(dt.date(2024, 6, 1), dt.date(2024, 6, 30))
    inherited = ServicePeriod(dt.date(2024, 5, 1), dt.date(2024, 5, 31))
    source = invoice(line(service_period=own), line("10.00"), service_period=inherited)
    on = to_sales_entry(source, ref, config(period={"line_service_period": True}))
    off = to_sales_entry(source, ref, config())
    assert [(x.date_from, x.date_to) for x in on.lines] == [
        (own.start, own.end),
        (inherited.start, inherited.end),
    ]
    assert [(x.date_from, x.date_to) for x in off.lines] == [(None, None), (None, None)]


def test_service_period_ending_before_it_starts_is_refused(ref):
    wrong = ServicePeriod(dt.date(2024, 6, 30), dt.date(2024, 6, 1))
    with pytest.raises(MappingError) as caught:
        to_sales_entry(
            invoice(line(service_period=wrong)), ref, config(period={"line_service_period": True})
        )
    assert caught.value.field == "lines[0].service_period"


def test_overlapping_periods_are_refused_when_reference_data_is_built():
    from exactbridge.errors import ConfigurationError

    with pytest.raises(ConfigurationError):
        reference(
            periods=[
                FinancialPeriod(2024, 1, dt.date(2024, 1, 1), dt.date(2024, 1, 31)),
                FinancialPeriod(2024, 2, dt.date(2024, 1, 31), dt.date(2024, 2, 29)),
            ]
        )
