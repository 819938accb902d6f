"""The "host application" code under test: book a member's monthly fee in Exact Online.

Imagine this module lives in your own membership software. It uses the public
Exact client of exactbridge and nothing else; ``test_my_integration.py`` tests it
against the fake Exact Online, including what happens when Exact's answer to a
booking is lost on the way back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal

import attrs

from exactbridge.errors import OutcomeUnknownError
from exactbridge.exact import ExactClient, NewAccount, NewSalesEntry, NewSalesEntryLine, P

__all__ = ["SALES_JOURNAL", "MembershipFee", "book_membership_fee", "fee_reference"]

#: The sales journal the fees are booked in.
SALES_JOURNAL = "70"
#: Revenue account and VAT code of sports memberships (9 % VAT in the Netherlands).
REVENUE_ACCOUNT = "8010"
VAT_CODE = "1"
VAT_RATE = Decimal("0.09")
_CENT = Decimal("0.01")


@attrs.frozen
class MembershipFee:
    """One month of membership for one member; ``amount`` includes VAT."""

    member_number: str
    member_name: str
    month: dt.date
    amount: Decimal


def fee_reference(fee: MembershipFee) -> str:
    """The natural key of a fee's entry in Exact (its ``YourRef``)."""
    return f"FEE-{fee.member_number}-{fee.month:%Y%m}"


def _customer(exact: ExactClient, fee: MembershipFee) -> uuid.UUID:
    """The member's customer account, created on first use (code = member number)."""
    found = exact.accounts.find_by_code(fee.member_number)
    if found is not None and found.id is not None:
        return found.id
    created = exact.accounts.create(
        NewAccount(name=fee.member_name, code=fee.member_number, status="C", is_sales=True)
    )
    if created.id is None:  # Exact always answers with the new id
        raise RuntimeError(f"Exact created customer {fee.member_number} without an id")
    return created.id


def book_membership_fee(exact: ExactClient, fee: MembershipFee) -> uuid.UUID:
    """Book ``fee`` as a sales entry and return its Exact entry id.

    Safe to call again for the same fee: an entry that is already booked (found by
    journal + ``YourRef``) is returned instead of booked twice, also when Exact's
    answer to the booking itself was lost.
    """
    your_ref = fee_reference(fee)
    existing = exact.sales_entries.find_by_your_ref(SALES_JOURNAL, your_ref)
    if existing is not None and existing.entry_id is not None:
        return existing.entry_id
    revenue = exact.gl_accounts.first(filter=P("Code") == REVENUE_ACCOUNT)
    if revenue is None or revenue.id is None:
        raise LookupError(f"GL account {REVENUE_ACCOUNT} does not exist in this division")
    net = (fee.amount / (1 + VAT_RATE)).quantize(_CENT, rounding=ROUND_HALF_UP)
    entry = NewSalesEntry(
        customer=_customer(exact, fee),
        journal=SALES_JOURNAL,
        entry_date=fee.month,
        your_ref=your_ref,
        description=f"Membership {fee.month:%B %Y}",
        lines=[
            NewSalesEntryLine(
                gl_account=revenue.id,
                amount_fc=net,
                vat_code=VAT_CODE,
                vat_amount_fc=fee.amount - net,
                description=f"Membership {fee.member_name} {fee.month:%m/%Y}",
            )
        ],
    )
    try:
        created = exact.sales_entries.create(entry)
    except OutcomeUnknownError:
        # The POST may have been committed before the answer got lost: look before
        # booking again (never blindly repeat a write).
        found = exact.sales_entries.find_by_your_ref(SALES_JOURNAL, your_ref)
        if found is None or found.entry_id is None:
            raise
        return found.entry_id
    if created.entry_id is None:  # Exact always answers with the new id
        raise RuntimeError(f"Exact booked {your_ref} without an entry id")
    return created.entry_id
