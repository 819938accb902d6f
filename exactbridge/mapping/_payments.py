"""Payment matching: a payment provider's payout as one bank entry.

Each payment of a payout is matched to an open receivable by reference (the
receivable's ``YourRef`` or invoice number) and exact amount: 100 % matches only, a
partial or ambiguous match is never guessed. Matched payments are booked on the
debtors account against the customer with the invoice number in ``OurRef`` (Exact
then matches the receipt to the invoice); the rest go to the unassigned account or
the standard debtor, by policy; fees go to the PSP cost account, and the payout
itself to the transfer account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal

from exactbridge.codes import pad_account_code
from exactbridge.mapping._common import (
    check_amount,
    check_date,
    check_text,
    fail,
    round_cents,
    text_or_none,
    total,
)
from exactbridge.mapping._drafts import (
    AccountDraft,
    BankEntryDraft,
    BankEntryLineDraft,
    BankLineKind,
    PayoutMatch,
    UnmatchedPayment,
    UnmatchedReason,
)
from exactbridge.mapping._period import choose_period
from exactbridge.mapping._policies import (
    BookingConfig,
    PaymentMatchingPolicy,
    ReceiptSign,
    UnmatchedPayments,
)
from exactbridge.mapping._reference import (
    JOURNAL_BANK,
    JOURNAL_CASH,
    JOURNAL_PAYMENT_SERVICE,
    KnownAccount,
    OpenReceivable,
    ReferenceData,
)
from exactbridge.records import Fee, Payment, Payout

__all__ = ["match_payout"]

_POLICY = "PaymentMatchingPolicy"
_ZERO = Decimal("0.00")
_BANK_JOURNAL_TYPES = (JOURNAL_CASH, JOURNAL_BANK, JOURNAL_PAYMENT_SERVICE)


def _ref_key(value: object) -> str | None:
    if isinstance(value, str):
        text = value.strip().casefold()
        return text or None
    if type(value) is int:
        return str(value)
    return None


def _cents(record: object, field: str, value: object) -> Decimal:
    amount = check_amount(record, field, _POLICY, value)
    if round_cents(amount) != amount:
        fail(record, field, _POLICY, value, "a payment amount is a whole number of cents")
    return amount


def _gl(payout: Payout, reference: ReferenceData, key: str, code: str | None, why: str) -> str:
    if code is None:
        fail(
            payout,
            key,
            f"{_POLICY}.{key.split('.')[-1]}",
            None,
            f"no GL account is set {why}",
            fix=f'set {key} = "<GL account code>"',
        )
    account = reference.gl_account(code)
    if account is None or account.blocked:
        fail(
            payout,
            key,
            f"{_POLICY}.{key.split('.')[-1]}",
            code,
            f"GL account {code!r} does not exist in the division or is blocked",
            fix=f"set {key} to an existing, unblocked GL account of the division",
        )
    return code


def _revenue_group(payout: Payout) -> str | None:
    if isinstance(payout.revenue_group, str) and payout.revenue_group.strip():
        return payout.revenue_group.strip()
    groups = {p.revenue_group.strip() for p in payout.payments if isinstance(p.revenue_group, str)}
    if len(groups) == 1 and all(isinstance(p.revenue_group, str) for p in payout.payments):
        return groups.pop()
    return None


def _index_receivables(
    payout: Payout, receivables: Sequence[OpenReceivable]
) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for position, receivable in enumerate(receivables):
        field = f"receivables[{position}]"
        if not isinstance(receivable, OpenReceivable):
            fail(payout, field, _POLICY, receivable, "expected an OpenReceivable")
        check_amount(payout, f"{field}.amount", _POLICY, receivable.amount)
        keys = {_ref_key(receivable.your_ref), _ref_key(receivable.invoice_number)}
        for key in keys:
            if key is not None:
                index.setdefault(key, []).append(position)
    return index


def _match(
    payout: Payout,
    payment: Payment,
    amount: Decimal,
    receivables: Sequence[OpenReceivable],
    index: dict[str, list[int]],
    used: set[int],
) -> tuple[OpenReceivable | None, UnmatchedReason, str, int | None]:
    keys = [
        key for key in (_ref_key(payment.invoice_reference), _ref_key(payment.reference)) if key
    ]
    if not keys:
        return None, UnmatchedReason.NO_REFERENCE, "the payment carries no reference", None
    positions: list[int] = []
    for key in keys:
        for position in index.get(key, ()):
            if position not in used and position not in positions:
                positions.append(position)
    if not positions:
        return (
            None,
            UnmatchedReason.NO_OPEN_RECEIVABLE,
            "no open receivable has this reference",
            None,
        )
    same_currency = [p for p in positions if receivables[p].currency == payment.currency]
    if not same_currency:
        return (
            None,
            UnmatchedReason.CURRENCY_DIFFERS,
            "the open receivable is in another currency",
            None,
        )
    exact = [p for p in same_currency if receivables[p].amount == amount]
    if not exact:
        open_amounts = ", ".join(str(receivables[p].amount) for p in same_currency)
        return (
            None,
            UnmatchedReason.AMOUNT_DIFFERS,
            f"open amount {open_amounts} differs from the payment",
            None,
        )
    if len(exact) > 1:
        return None, UnmatchedReason.AMBIGUOUS, f"{len(exact)} open receivables match equally", None
    return receivables[exact[0]], UnmatchedReason.NO_REFERENCE, "", exact[0]


def _match_payout(
    payout: Payout,
    receivables: Iterable[OpenReceivable],
    reference: ReferenceData,
    config: BookingConfig,
) -> PayoutMatch:
    policy: PaymentMatchingPolicy = config.payments
    check_text(payout, "source_id", _POLICY, payout.source_id)
    date = check_date(payout, "date", _POLICY, payout.date)
    payout_amount = _cents(payout, "amount", payout.amount)
    currency = payout.currency
    raw_payments: object = payout.payments
    raw_fees: object = payout.fees
    if not isinstance(raw_payments, tuple) or not isinstance(raw_fees, tuple):
        fail(payout, "payments", _POLICY, None, "expected tuples of payments and fees")
    payments: tuple[object, ...] = raw_payments
    fees: tuple[object, ...] = raw_fees
    if not payments and not fees:
        fail(
            payout, "payments", _POLICY, payout_amount, "a payout needs at least one payment or fee"
        )

    if policy.revenue_groups:
        group = _revenue_group(payout)
        if group is None:
            return PayoutMatch(
                draft=None,
                skipped=(
                    "the payout has no single revenue group; "
                    "enable 'Payout per revenue group' in Pay."
                ),
            )
        if group not in policy.revenue_groups:
            return PayoutMatch(draft=None, skipped=f"revenue group {group!r} is not selected")

    journal_code = policy.bank_journal
    if journal_code is None:
        fail(
            payout,
            "payments.bank_journal",
            f"{_POLICY}.bank_journal",
            None,
            "no bank journal is set",
            fix='set payments.bank_journal = "<code of the Pay. bank journal>"',
        )
    journal = reference.journal(journal_code)
    if journal is None or journal.type not in _BANK_JOURNAL_TYPES:
        fail(
            payout,
            "payments.bank_journal",
            f"{_POLICY}.bank_journal",
            journal_code,
            f"journal {journal_code!r} is not a bank, cash or payment service journal "
            "of the division",
            fix="set payments.bank_journal to the code of a bank journal of the division",
        )
    debtors = _gl(
        payout, reference, "payments.debtors_account", policy.debtors_account, "for debtors"
    )
    transfer = _gl(
        payout, reference, "payments.payout_account", policy.payout_account, "for payouts"
    )

    total_payments = _ZERO
    checked_payments: list[tuple[Payment, Decimal, dt.date]] = []
    for position, payment in enumerate(payments):
        field = f"payments[{position}]"
        if not isinstance(payment, Payment):
            fail(payout, field, _POLICY, payment, "expected a Payment")
        amount = _cents(payout, f"{field}.amount", payment.amount)
        if payment.currency != currency:
            fail(
                payout,
                f"{field}.currency",
                _POLICY,
                payment.currency,
                f"the payout is in {currency!r}",
            )
        check_text(payout, f"{field}.source_id", _POLICY, payment.source_id)
        payment_date = check_date(payout, f"{field}.date", _POLICY, payment.date)
        total_payments += amount
        checked_payments.append((payment, amount, payment_date))
    total_fees = _ZERO
    checked_fees: list[tuple[Fee, Decimal, dt.date]] = []
    for position, fee in enumerate(fees):
        field = f"fees[{position}]"
        if not isinstance(fee, Fee):
            fail(payout, field, _POLICY, fee, "expected a Fee")
        amount = _cents(payout, f"{field}.amount", fee.amount)
        fee_date = (
            date if fee.date is None else check_date(payout, f"{field}.date", _POLICY, fee.date)
        )
        total_fees += amount
        checked_fees.append((fee, amount, fee_date))
    if total_payments - total_fees != payout_amount:
        fail(
            payout,
            "amount",
            _POLICY,
            payout_amount,
            f"payments {total_payments} minus fees {total_fees} do not add up to the payout",
        )

    receivable_list = tuple(receivables)
    index = _index_receivables(payout, receivable_list)
    sign = Decimal(1) if policy.receipt_sign is ReceiptSign.POSITIVE else Decimal(-1)
    lines: list[BankEntryLineDraft] = []
    unmatched: list[UnmatchedPayment] = []
    used: set[int] = set()
    standard_account = None
    by_name: dict[str, list[KnownAccount]] | None = None
    if policy.unmatched is UnmatchedPayments.NEW_RELATION:
        by_name = {}
        for account in reference.accounts:
            if account.is_customer and not account.blocked:
                by_name.setdefault(_name_key(account.name), []).append(account)
    for payment, amount, payment_date in checked_payments:
        receivable, reason, detail, matched_at = _match(
            payout, payment, amount, receivable_list, index, used
        )
        ref_text = payment.invoice_reference or payment.reference
        description = " ".join(f"{payment.description or 'Payment'} {ref_text or ''}".split())
        if receivable is not None and matched_at is not None:
            used.add(matched_at)
            lines.append(
                BankEntryLineDraft(
                    kind=BankLineKind.PAYMENT,
                    gl_account=debtors,
                    amount=sign * amount,
                    date=payment_date,
                    description=description,
                    account_id=receivable.account_id,
                    account_code=pad_account_code(receivable.account_code)
                    if receivable.account_code
                    else None,
                    our_ref=receivable.invoice_number,
                    source_id=payment.source_id,
                )
            )
            continue
        if policy.unmatched is UnmatchedPayments.STANDARD_DEBTOR:
            code = policy.standard_debtor_code or ""
            if standard_account is None:
                standard_account = reference.account_by_code(code)
                if standard_account is None:
                    fail(
                        payout,
                        "payments.standard_debtor_code",
                        f"{_POLICY}.standard_debtor_code",
                        code,
                        f"standard debtor {code!r} is not an account of the division",
                        fix=f"create customer {code!r} in Exact, or set "
                        'payments.unmatched = "unassigned_account"',
                    )
            line = BankEntryLineDraft(
                kind=BankLineKind.UNMATCHED,
                gl_account=debtors,
                amount=sign * amount,
                date=payment_date,
                description=description,
                account_id=standard_account.id,
                account_code=pad_account_code(code),
                source_id=payment.source_id,
            )
            booked_on = f"standard debtor {code}"
        elif (
            policy.unmatched is UnmatchedPayments.NEW_RELATION
            and (relation := _payer_relation(payment, reference, by_name)) is not None
        ):
            known, to_create = relation
            line = BankEntryLineDraft(
                kind=BankLineKind.UNMATCHED,
                gl_account=debtors,
                amount=sign * amount,
                date=payment_date,
                description=description,
                account_id=known.id if known is not None else None,
                account_code=pad_account_code(known.code)
                if known is not None and known.code
                else None,
                source_id=payment.source_id,
                new_account=to_create,
            )
            name = to_create.name if to_create is not None else known.name if known else ""
            booked_on = f"new relation {name}" if to_create is not None else f"relation {name}"
        else:
            unassigned = _gl(
                payout,
                reference,
                "payments.unassigned_account",
                policy.unassigned_account,
                "for unassigned payments",
            )
            line = BankEntryLineDraft(
                kind=BankLineKind.UNMATCHED,
                gl_account=unassigned,
                amount=sign * amount,
                date=payment_date,
                description=description,
                source_id=payment.source_id,
            )
            booked_on = f"GL account {unassigned}"
        lines.append(line)
        unmatched.append(
            UnmatchedPayment(
                payment_id=payment.source_id,
                reference=ref_text if isinstance(ref_text, str) else None,
                amount=amount,
                reason=reason,
                detail=detail,
                booked_on=booked_on,
            )
        )
    if checked_fees:
        cost = _gl(
            payout, reference, "payments.psp_cost_account", policy.psp_cost_account, "for PSP costs"
        )
        for fee, amount, fee_date in checked_fees:
            lines.append(
                BankEntryLineDraft(
                    kind=BankLineKind.FEE,
                    gl_account=cost,
                    amount=-sign * amount,
                    date=fee_date,
                    description=" ".join(str(fee.description or "PSP costs").split()),
                    source_id=fee.source_id if isinstance(fee.source_id, str) else None,
                )
            )
    choice = choose_period(
        payout,
        date,
        "payout_date",
        reference,
        journal_code,
        config.period.when_unavailable,
        preferred_entry_date=date,
        field="date",
    )
    payout_ref = payout.reference.strip() if isinstance(payout.reference, str) else ""
    transfer_line = BankEntryLineDraft(
        kind=BankLineKind.TRANSFER,
        gl_account=transfer,
        amount=-sign * payout_amount,
        date=choice.entry_date,
        description=" ".join(f"Payout {payout_ref or payout.source_id}".split()),
        source_id=payout.source_id,
    )
    draft = BankEntryDraft(
        journal_code=journal_code,
        financial_year=choice.year,
        financial_period=choice.period,
        date=choice.entry_date,
        description=transfer_line.description,
        lines=tuple(lines),
        transfer_line=transfer_line,
        currency=currency,
        source=text_or_none(payout.source),
        source_id=payout.source_id,
    )
    return PayoutMatch(draft=draft, unmatched=tuple(unmatched))


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _payer_relation(
    payment: Payment, reference: ReferenceData, by_name: dict[str, list[KnownAccount]] | None
) -> tuple[KnownAccount | None, AccountDraft | None] | None:
    """The payer's relation: the one customer of that name, or one to create.

    ``None`` when the payment names no payer or several customers share the name
    (never guessed between): the payment then goes to the unassigned account.
    """
    name = payment.payer_name.strip() if isinstance(payment.payer_name, str) else ""
    if not name or by_name is None:
        return None
    found = by_name.get(_name_key(name), [])
    if len(found) > 1:
        return None
    if found:
        return found[0], None
    return None, AccountDraft(name=name[:50])


@total
def match_payout(
    payout: Payout,
    receivables: Iterable[OpenReceivable],
    reference: ReferenceData,
    config: BookingConfig,
) -> PayoutMatch:
    """Book a payout as a bank entry, matching its payments to open receivables.

    ``receivables`` are the division's open items (``ReceivablesList``) as data. A
    payment is matched when exactly one unused receivable with the same currency has
    its reference (the payment's invoice reference or its own reference, compared
    with the receivable's ``YourRef`` or invoice number) and exactly its amount.
    The draft's :attr:`~BankEntryDraft.lines` (payments and fees) sum to the payout,
    signed by ``payments.receipt_sign``; the transfer line books the payout on the
    transfer account. Payouts outside the selected revenue groups are skipped
    (``PayoutMatch.skipped``). Unmatched payments are listed with their reason.
    """
    return _match_payout(payout, receivables, reference, config)
