"""Sales entry drafts: one invoice, every policy, one Exact sales entry or credit note."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import cast

from exactbridge.codes import pad_vat_code
from exactbridge.mapping._common import (
    MAX_AMOUNT,
    check_amount,
    check_date,
    check_text,
    fail,
    setting,
    text_or_none,
    total,
)
from exactbridge.mapping._debtor import _resolve
from exactbridge.mapping._drafts import (
    DebtorDecision,
    EntryType,
    SalesEntryDraft,
    SalesEntryLineDraft,
)
from exactbridge.mapping._ledger import resolve_ledger
from exactbridge.mapping._numbering import compose_entry_number, describe_invoice
from exactbridge.mapping._period import _select
from exactbridge.mapping._policies import (
    BookingConfig,
    CreditNoteMode,
    LedgerMapping,
    PaymentTermsPolicy,
    VatMapping,
)
from exactbridge.mapping._reference import (
    JOURNAL_RETURN_INVOICE,
    JOURNAL_SALES,
    ReferenceData,
    VatType,
)
from exactbridge.mapping._vat import split_line, vat_code_for_line
from exactbridge.records import Invoice, InvoiceLine, ServicePeriod

__all__ = ["map_lines", "to_sales_entry"]

_ZERO = Decimal("0.00")
_SALES_JOURNAL_TYPES = (JOURNAL_SALES, JOURNAL_RETURN_INVOICE)


def _clean_description(text: object) -> str:
    if not isinstance(text, str):
        return ""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _service_period(
    invoice: Invoice, line: InvoiceLine, index: int
) -> tuple[dt.date | None, dt.date | None]:
    period = line.service_period
    field = f"lines[{index}].service_period"
    if period is None:
        period = invoice.service_period
        field = "service_period"
    if period is None:
        return None, None
    if not isinstance(period, ServicePeriod):
        fail(invoice, field, "PeriodPolicy.line_service_period", period, "expected a ServicePeriod")
    start = check_date(invoice, f"{field}.start", "PeriodPolicy.line_service_period", period.start)
    end = check_date(invoice, f"{field}.end", "PeriodPolicy.line_service_period", period.end)
    if end < start:
        fail(
            invoice,
            field,
            "PeriodPolicy.line_service_period",
            period,
            "the service period ends before it starts",
        )
    return start, end


_RULES_CACHE_SIZE = 4096

_Rules = tuple[Decimal, str, str, "str | None", "str | None", bool]


def _line_rules(
    invoice: Invoice, line: InvoiceLine, index: int, reference: ReferenceData, config: BookingConfig
) -> _Rules:
    """VAT rate, padded VAT code, GL account, cost center, cost unit of a line, and
    whether its VAT code is an including one.

    The decision depends only on the line's keys, the VAT and ledger policies and the
    reference data, so successful decisions are remembered on the reference data: a
    club with three VAT categories and ten products decides each combination once.
    """
    vat_mapping = config.vat
    ledger = config.ledger
    rate = line.vat_rate
    key: object = (
        id(vat_mapping),
        id(ledger),
        line.vat_category,
        type(rate),
        rate,
        line.course_edition,
        line.course_template,
        line.product,
        line.income_category,
        line.ledger_account,
        line.cost_center,
        line.cost_unit,
        line.is_discount is True,
    )
    cache = reference.rules_cache
    try:
        hit = cache.get(key)
    except TypeError:  # an unhashable value: decide without the cache
        hit = None
        key = None
    if hit is not None:
        entry = cast("tuple[VatMapping, LedgerMapping, _Rules]", hit)
        if entry[0] is vat_mapping and entry[1] is ledger:
            return entry[2]
    vat_code = vat_code_for_line(invoice, line, index, reference, vat_mapping)
    gl_account, cost_center, cost_unit = resolve_ledger(invoice, line, index, reference, ledger)
    rules = (
        vat_code.percentage,
        pad_vat_code(vat_code.code),
        gl_account,
        cost_center,
        cost_unit,
        vat_code.type is VatType.INCLUDING,
    )
    if key is not None:
        if len(cache) >= _RULES_CACHE_SIZE:
            cache.clear()
        # The policies are kept alive by the entry, so their ids in the key stay theirs.
        cache[key] = (vat_mapping, ledger, rules)
    return rules


def map_lines(
    invoice: Invoice, reference: ReferenceData, config: BookingConfig
) -> tuple[SalesEntryLineDraft, ...]:
    """Map every line of ``invoice`` (VAT code, net/VAT split, ledger) and check the totals."""
    raw_lines: object = invoice.lines
    if not isinstance(raw_lines, tuple) or not raw_lines:
        fail(invoice, "lines", "BookingConfig", raw_lines, "an invoice needs at least one line")
    lines: tuple[object, ...] = raw_lines
    vat_mapping = config.vat
    ledger = config.ledger
    with_periods = config.period.line_service_period
    project_code: str | None = None
    if ledger.project_attribute is not None:
        attributes = invoice.attributes
        raw = attributes.get(ledger.project_attribute) if attributes else None
        project_code = raw.strip() or None if isinstance(raw, str) else None
    drafts = []
    sum_gross = _ZERO
    sum_net = _ZERO
    for index, line in enumerate(lines):
        if not isinstance(line, InvoiceLine):
            fail(invoice, f"lines[{index}]", "BookingConfig", line, "expected an InvoiceLine")
        rate, vat_code, gl_account, cost_center, cost_unit, included = _line_rules(
            invoice, line, index, reference, config
        )
        split = split_line(invoice, line, index, rate)
        quantity = line.quantity
        if type(quantity) is not Decimal or not quantity.is_finite() or abs(quantity) > MAX_AMOUNT:
            fail(
                invoice,
                f"lines[{index}].quantity",
                "BookingConfig",
                quantity,
                "expected a finite Decimal quantity",
            )
        date_from = date_to = None
        if with_periods:
            date_from, date_to = _service_period(invoice, line, index)
        sum_gross += split.gross
        sum_net += split.net
        drafts.append(
            SalesEntryLineDraft(
                gl_account=gl_account,
                vat_code=vat_code,
                amount_excl_vat=split.net,
                vat_amount=split.vat,
                vat_percentage=rate,
                description=_clean_description(line.description),
                quantity=quantity,
                cost_center=cost_center,
                cost_unit=cost_unit,
                project_code=project_code,
                date_from=date_from,
                date_to=date_to,
                is_discount=line.is_discount is True,
                vat_included=included,
                source_line_id=line.source_line_id
                if isinstance(line.source_line_id, str)
                else None,
            )
        )
    if vat_mapping.check_totals:
        tolerance = vat_mapping.total_tolerance
        if invoice.total_incl_vat is not None:
            expected = check_amount(
                invoice, "total_incl_vat", "VatMapping.check_totals", invoice.total_incl_vat
            )
            if abs(expected - sum_gross) > tolerance:
                fail(
                    invoice,
                    "total_incl_vat",
                    "VatMapping.total_tolerance",
                    expected,
                    f"the lines add up to {sum_gross} including VAT",
                    fix="raise vat.total_tolerance (e.g. 0.05) if the source rounds per invoice,"
                    " or set vat.check_totals = false",
                )
        if invoice.total_excl_vat is not None:
            expected = check_amount(
                invoice, "total_excl_vat", "VatMapping.check_totals", invoice.total_excl_vat
            )
            if abs(expected - sum_net) > tolerance:
                fail(
                    invoice,
                    "total_excl_vat",
                    "VatMapping.total_tolerance",
                    expected,
                    f"the lines add up to {sum_net} excluding VAT under the per-line rounding rule",
                    fix="raise vat.total_tolerance (e.g. 0.05) if the source rounds per invoice,"
                    " or set vat.check_totals = false",
                )
    return tuple(drafts)


def _check_currency(invoice: Invoice) -> str:
    currency: object = invoice.currency
    if (
        not isinstance(currency, str)
        or len(currency) != 3
        or not (currency.isascii() and currency.isalpha())
    ):
        fail(invoice, "currency", "BookingConfig", currency, "expected an ISO 4217 currency code")
    return currency.upper()


def entry_kind(
    record: object, reference: ReferenceData, config: BookingConfig, is_credit: bool
) -> tuple[str, EntryType]:
    """The journal and entry type of an entry, by its sign and the credit note policy.

    ``record`` only names the failing record in a :class:`MappingError`.
    """
    journal = config.sales_journal
    policy = "BookingConfig.sales_journal"
    entry_type = EntryType.SALES_ENTRY
    if is_credit and config.credit_notes.mode is CreditNoteMode.CREDIT_NOTE:
        entry_type = EntryType.SALES_CREDIT_NOTE
        if config.credit_notes.journal is not None:
            journal = config.credit_notes.journal
            policy = "CreditNotePolicy.journal"
    found = reference.journal(journal)
    if found is None:
        fail(
            record,
            "journal",
            policy,
            journal,
            f"journal {journal!r} does not exist in the division",
            fix=f"set {setting(policy)} to the code of a sales journal of the division",
        )
    if found.type not in _SALES_JOURNAL_TYPES:
        fail(
            record,
            "journal",
            policy,
            journal,
            f"journal {journal!r} has type {found.type}, not a sales journal",
            fix=f"set {setting(policy)} to the code of a sales journal (type 20)",
        )
    return journal, entry_type


def payment_condition(
    invoice: Invoice, reference: ReferenceData, policy: PaymentTermsPolicy
) -> str | None:
    """The payment condition code of the invoice's entry under ``policy`` (or ``None``).

    The invoice's payment method (its ``policy.method_attribute`` attribute) picks a
    code from ``by_payment_method``; any other invoice gets ``policy.condition``.
    """
    if not policy.in_use:
        return None
    attributes = invoice.attributes
    method = attributes.get(policy.method_attribute) if attributes else None
    key = method.strip().casefold() if isinstance(method, str) else None
    code = policy.by_payment_method.get(key) if key else None
    field = f"attributes.{policy.method_attribute}"
    setting = "PaymentTermsPolicy.by_payment_method" if code else "PaymentTermsPolicy.condition"
    if code is None:
        code = policy.condition
        field = "payment_terms"
    if code is None:
        return None
    if reference.payment_condition(code) is None:
        fail(
            invoice,
            field,
            setting,
            method if method is not None else code,
            f"payment condition {code!r} does not exist in the division",
            fix=f"create payment condition {code!r} in Exact (for direct debit with payment "
            "method 'Incasso'), or set payment_terms to a condition code the division has",
        )
    return code


def _to_sales_entry(
    invoice: Invoice,
    reference: ReferenceData,
    config: BookingConfig,
    export_date: dt.date | None,
    debtor: DebtorDecision | None,
) -> SalesEntryDraft:
    source_id = check_text(invoice, "source_id", "BookingConfig", invoice.source_id)
    number = check_text(invoice, "number", "NumberingPolicy", invoice.number)
    currency = _check_currency(invoice)
    lines = map_lines(invoice, reference, config)
    gross = sum((line.amount_excl_vat + line.vat_amount for line in lines), _ZERO)
    is_credit = gross < 0
    journal, entry_type = entry_kind(invoice, reference, config, is_credit)
    period = _select(invoice, reference, config.period, journal, export_date)
    if debtor is None:
        debtor = _resolve(invoice, reference, config.debtor)
    credited = invoice.credited_invoice.strip() if isinstance(invoice.credited_invoice, str) else ""
    if is_credit:
        template = (
            config.credit_notes.description_template
            if credited
            else config.credit_notes.description_template_without_original
        )
    else:
        template = config.numbering.description_template
    due_date = invoice.due_date
    if due_date is not None:
        check_date(invoice, "due_date", "BookingConfig", due_date)
    reference_text = invoice.reference.strip() if isinstance(invoice.reference, str) else ""
    return SalesEntryDraft(
        journal=journal,
        type=entry_type,
        debtor=debtor,
        entry_date=period.entry_date,
        reporting_year=period.year,
        reporting_period=period.period,
        your_ref=number,
        description=describe_invoice(invoice, template, credited),
        lines=lines,
        currency=currency,
        entry_number=compose_entry_number(invoice, config.numbering),
        due_date=due_date,
        payment_reference=reference_text or None,
        payment_condition=payment_condition(invoice, reference, config.payment_terms),
        credited_invoice=credited or None,
        source=text_or_none(invoice.source),
        source_ids=(source_id,),
    )


@total
def to_sales_entry(
    invoice: Invoice,
    reference: ReferenceData,
    config: BookingConfig,
    *,
    export_date: dt.date | None = None,
    debtor: DebtorDecision | None = None,
) -> SalesEntryDraft:
    """Compose the Exact sales entry draft of one invoice under ``config``.

    Lines get their VAT code (by category, rate or default), an exact net/VAT split
    (per-line ``ROUND_HALF_UP`` to cents, checked against the invoice's own totals),
    and their GL account, cost center and cost unit. An invoice whose total is
    negative is booked as a credit note (type 21, optionally in its own journal) or
    as a negative sales entry (type 20), by the credit note policy; amounts keep
    their sign, so a credit note that reverses an invoice mirrors it line by line.
    The period comes from the period policy (``export_date`` is today's date in the
    caller's eyes, used when the policy asks for it), the customer from the debtor
    policy unless ``debtor`` is given (the sync engine passes an earlier decision),
    the entry number from the numbering policy; ``YourRef`` is the source number.

    Raises :class:`~exactbridge.errors.MappingError` naming the record, the field,
    the policy and the value when any of this is impossible.
    """
    return _to_sales_entry(invoice, reference, config, export_date, debtor)
