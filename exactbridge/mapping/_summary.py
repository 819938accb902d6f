"""Summary booking: one sales entry per day or per period on a collective debtor.

For clubs with thousands of small invoices a day, one Exact call per invoice is more
than the daily rate limit allows. Summary booking maps every invoice exactly as
:func:`to_sales_entry` would (VAT codes, per-line rounding, ledger), then adds the
lines up per VAT code, GL account, cost center and cost unit. VAT of a summary line
is the sum of the invoices' per-line VAT, so the VAT in Exact equals the VAT the
customers were invoiced, cent for cent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import attrs

from exactbridge.codes import pad_account_code
from exactbridge.errors import MappingError
from exactbridge.mapping._common import check_text, fail, record_identity, render, total
from exactbridge.mapping._drafts import (
    DebtorAction,
    DebtorDecision,
    SalesEntryDraft,
    SalesEntryLineDraft,
    SummaryResult,
)
from exactbridge.mapping._period import _select
from exactbridge.mapping._policies import BookingConfig, BookingMode
from exactbridge.mapping._reference import ReferenceData
from exactbridge.mapping._sales import _check_currency, entry_kind, map_lines
from exactbridge.records import Invoice

__all__ = ["summarize", "summarize_day", "summarize_period"]

_POLICY = "SummaryPolicy"
_ZERO = Decimal("0.00")

# GL account, VAT code, cost center, cost unit, VAT rate, VAT code includes VAT
_LineKey = tuple[str, str, str | None, str | None, Decimal, bool]


@attrs.define
class _Group:
    source: str
    currency: str
    label: str
    year: int
    period: int
    entry_date: dt.date
    amounts: dict[_LineKey, list[Decimal]] = attrs.field(factory=dict)
    source_ids: list[str] = attrs.field(factory=list)


class _Summary:
    """A stand-in record for errors about a whole summary entry."""

    def __init__(self, source_id: str, source: str | None):
        self.source_id = source_id
        self.source = source


def _summarize(
    invoices: Iterable[Invoice],
    reference: ReferenceData,
    config: BookingConfig,
    mode: BookingMode,
    export_date: dt.date | None,
) -> SummaryResult:
    summary = config.summary
    anchor = _Summary("<summary>", None)
    if mode is BookingMode.PER_INVOICE:
        fail(
            anchor,
            "summary.mode",
            f"{_POLICY}.mode",
            mode.value,
            "summary booking needs per_day or per_period",
            fix='set summary.mode = "per_day" or "per_period"',
        )
    code = summary.collective_debtor_code
    if code is None:
        fail(
            anchor,
            "summary.collective_debtor_code",
            f"{_POLICY}.collective_debtor_code",
            None,
            "no collective debtor is set",
            fix='set summary.collective_debtor_code = "<code of the collective debtor>"',
        )
    account = reference.account_by_code(code)
    if account is None:
        fail(
            anchor,
            "summary.collective_debtor_code",
            f"{_POLICY}.collective_debtor_code",
            code,
            f"collective debtor {code!r} is not an account of the division",
            fix=f"create customer {code!r} in Exact, or set summary.collective_debtor_code "
            "to an existing customer's code",
        )
    debtor = DebtorDecision(
        DebtorAction.EXISTING,
        account_id=account.id,
        code=pad_account_code(code),
        matched_by="collective",
    )
    groups: dict[tuple[str, str, str], _Group] = {}
    failed: list[MappingError] = []
    per_day = mode is BookingMode.PER_DAY
    for invoice in invoices:
        try:
            currency = _check_currency(invoice)
            lines = map_lines(invoice, reference, config)
            choice = _select(invoice, reference, config.period, config.sales_journal, export_date)
            source = check_text(invoice, "source", _POLICY, invoice.source)
            source_id = check_text(invoice, "source_id", _POLICY, invoice.source_id)
        except MappingError as exc:
            failed.append(exc)
            continue
        except Exception as exc:
            record_id, record_source = record_identity(invoice)
            error = MappingError(
                f"the record is malformed ({type(exc).__name__}: {exc})",
                record_id=record_id,
                field="<record>",
                policy=_POLICY,
                source=record_source,
            )
            error.__cause__ = exc
            failed.append(error)
            continue
        label = choice.entry_date.isoformat() if per_day else f"{choice.year}-P{choice.period:02d}"
        group = groups.get((source, currency, label))
        if group is None:
            group = groups[(source, currency, label)] = _Group(
                source, currency, label, choice.year, choice.period, choice.entry_date
            )
        elif choice.entry_date > group.entry_date:
            group.entry_date = choice.entry_date
        group.source_ids.append(source_id)
        amounts = group.amounts
        for line in lines:
            key = (
                line.gl_account,
                line.vat_code,
                line.cost_center,
                line.cost_unit,
                line.vat_percentage,
                line.vat_included,
            )
            pair = amounts.get(key)
            if pair is None:
                amounts[key] = [line.amount_excl_vat, line.vat_amount]
            else:
                pair[0] += line.amount_excl_vat
                pair[1] += line.vat_amount

    entries = []
    nothing: list[str] = []
    for (source, currency, label), group in sorted(groups.items()):
        drafts = []
        for key, (net, vat) in sorted(
            group.amounts.items(), key=lambda item: tuple(str(part) for part in item[0])
        ):
            if not net and not vat:
                continue
            gl_account, vat_code, cost_center, cost_unit, percentage, included = key
            drafts.append(
                SalesEntryLineDraft(
                    gl_account=gl_account,
                    vat_code=vat_code,
                    amount_excl_vat=net,
                    vat_amount=vat,
                    vat_percentage=percentage,
                    description=render(
                        summary.line_description_template,
                        {
                            "gl_account": gl_account,
                            "vat_code": vat_code.strip(),
                            "cost_center": cost_center or "",
                            "cost_unit": cost_unit or "",
                            "label": label,
                        },
                    ),
                    cost_center=cost_center,
                    cost_unit=cost_unit,
                    vat_included=included,
                )
            )
        if not drafts:
            nothing.extend(group.source_ids)
            continue
        gross = sum((line.amount_excl_vat + line.vat_amount for line in drafts), _ZERO)
        record = _Summary(f"{source}-{label}", source)
        journal, entry_type = entry_kind(record, reference, config, gross < 0)
        values = {
            "label": label,
            "source": source,
            "count": str(len(group.source_ids)),
            "currency": currency,
        }
        entries.append(
            SalesEntryDraft(
                journal=journal,
                type=entry_type,
                debtor=debtor,
                entry_date=group.entry_date,
                reporting_year=group.year,
                reporting_period=group.period,
                your_ref=render(summary.your_ref_template, values),
                description=render(summary.description_template, values),
                lines=tuple(drafts),
                currency=currency,
                entry_number=None,
                source=source,
                source_ids=tuple(group.source_ids),
                payment_condition=config.payment_terms.condition,
            )
        )
    return SummaryResult(
        entries=tuple(entries), failed=tuple(failed), nothing_to_book=tuple(nothing)
    )


@total
def summarize(
    invoices: Iterable[Invoice],
    reference: ReferenceData,
    config: BookingConfig,
    *,
    export_date: dt.date | None = None,
) -> SummaryResult:
    """Book ``invoices`` as summary entries, per day or per period as ``config.summary.mode`` says.

    Each entry is on the collective debtor and has one line per GL account, VAT
    code, cost center and cost unit; ``source_ids`` lists the invoices it books.
    Invoices that cannot be mapped are left out and returned in ``failed`` with
    their :class:`~exactbridge.errors.MappingError`; one bad invoice never blocks
    the day. A day whose lines add up to a negative total follows the credit note
    policy. Invoices in different currencies go to different entries.
    """
    return _summarize(invoices, reference, config, config.summary.mode, export_date)


@total
def summarize_day(
    invoices: Iterable[Invoice],
    reference: ReferenceData,
    config: BookingConfig,
    *,
    export_date: dt.date | None = None,
) -> SummaryResult:
    """Like :func:`summarize`, one entry per entry date whatever ``summary.mode`` says."""
    return _summarize(invoices, reference, config, BookingMode.PER_DAY, export_date)


@total
def summarize_period(
    invoices: Iterable[Invoice],
    reference: ReferenceData,
    config: BookingConfig,
    *,
    export_date: dt.date | None = None,
) -> SummaryResult:
    """Like :func:`summarize`, one entry per financial period whatever ``summary.mode`` says."""
    return _summarize(invoices, reference, config, BookingMode.PER_PERIOD, export_date)
