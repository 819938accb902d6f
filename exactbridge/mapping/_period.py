"""Booking period selection: which financial year and period an entry goes to."""

from __future__ import annotations

import datetime as dt

from exactbridge.mapping._common import check_date, fail, total
from exactbridge.mapping._drafts import PeriodChoice
from exactbridge.mapping._policies import DateSource, PeriodPolicy, UnavailablePeriod
from exactbridge.mapping._reference import ReferenceData
from exactbridge.records import Invoice

__all__ = ["choose_period", "select_period"]

_POLICY = "PeriodPolicy"


def _date_of(invoice: Invoice, source: DateSource, export_date: dt.date | None) -> dt.date | None:
    if source is DateSource.INVOICE_DATE:
        return invoice.invoice_date
    if source is DateSource.ORDER_START:
        return invoice.order_start
    if source is DateSource.ORDER_END:
        return invoice.order_end
    if source is DateSource.SERVICE_PERIOD_START:
        period = invoice.service_period
        return period.start if period is not None else None
    return export_date


def _field_of(source: DateSource) -> str:
    if source is DateSource.SERVICE_PERIOD_START:
        return "service_period.start"
    if source is DateSource.EXPORT_DATE:
        return "export_date"
    return str(source.value)


def choose_period(
    record: object,
    day: dt.date,
    date_source: str,
    reference: ReferenceData,
    journal: str,
    when_unavailable: UnavailablePeriod,
    *,
    preferred_entry_date: dt.date,
    entry_date_in_period: bool = True,
    field: str = "invoice_date",
) -> PeriodChoice:
    """Map ``day`` onto the division's periods for ``journal`` (sales and bank entries)."""
    period = reference.period_for(day)
    moved = False
    if period is None or not period.is_open_for(journal):
        state = (
            "no financial period"
            if period is None
            else f"period {period.year}/{period.period} is closed"
        )
        if when_unavailable is UnavailablePeriod.ERROR:
            fail(
                record,
                field,
                f"{_POLICY}.when_unavailable",
                day,
                f"{state} for {day.isoformat()} in journal {journal!r}",
                fix='set period.when_unavailable = "next_open" to book in the next open '
                "period, or open or create the period in Exact",
            )
        period = reference.next_open_period(day, journal)
        if period is None:
            fail(
                record,
                field,
                f"{_POLICY}.when_unavailable",
                day,
                f"{state} for {day.isoformat()} and no open period follows in journal {journal!r}",
                fix=f"create or open a financial period after {day.isoformat()} in Exact",
            )
        moved = True
    entry_date = preferred_entry_date
    if entry_date_in_period and not period.contains(entry_date):
        entry_date = day if period.contains(day) else period.start
    return PeriodChoice(
        year=period.year,
        period=period.period,
        date=day,
        date_source=date_source,
        entry_date=entry_date,
        moved=moved,
    )


def _select(
    invoice: Invoice,
    reference: ReferenceData,
    policy: PeriodPolicy,
    journal: str,
    export_date: dt.date | None,
) -> PeriodChoice:
    invoice_date = check_date(invoice, "invoice_date", _POLICY, invoice.invoice_date)
    for source in policy.date_sources:
        day = _date_of(invoice, source, export_date)
        if day is None:
            continue
        check_date(invoice, _field_of(source), f"{_POLICY}.date_sources", day)
        return choose_period(
            invoice,
            day,
            source.value,
            reference,
            journal,
            policy.when_unavailable,
            preferred_entry_date=invoice_date,
            entry_date_in_period=policy.entry_date_in_period,
            field=_field_of(source),
        )
    fail(
        invoice,
        _field_of(policy.date_sources[0]),
        f"{_POLICY}.date_sources",
        [source.value for source in policy.date_sources],
        "none of the configured date sources gives a date",
        fix='add "invoice_date" at the end of period.date_sources',
    )


@total
def select_period(
    invoice: Invoice,
    reference: ReferenceData,
    policy: PeriodPolicy,
    journal: str,
    *,
    export_date: dt.date | None = None,
) -> PeriodChoice:
    """Choose the financial year and period of ``invoice`` in ``journal``.

    The date sources are tried in order (invoice date, order start, order end,
    service period start, ``export_date`` given by the caller); the first date found
    is mapped onto the division's financial periods, which need not follow the
    calendar. A missing or closed period raises, or moves to the next open period,
    by ``when_unavailable``. The entry date stays the invoice date when it falls in
    the chosen period and is moved into the period otherwise.
    """
    return _select(invoice, reference, policy, journal, export_date)
