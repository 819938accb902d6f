"""Tests of the host application's Exact Online code, run against exactbridge's fakes.

No credentials and no network: ``exact_client`` is a real ``ExactClient`` whose
HTTP requests are answered by the in-memory ``exact_fake``; the assertions read
what the fake administration holds afterwards.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from membership import SALES_JOURNAL, MembershipFee, book_membership_fee, fee_reference

from exactbridge.exact import P
from exactbridge.mapping import BookingConfig
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import InvoicePipeline, MemoryStateStore, VirtuagymInvoices
from exactbridge.testing import FakeExactOnline, Fault

MARCH = MembershipFee("4711", "Ann Smit", dt.date(2025, 3, 1), Decimal("39.95"))
APRIL = MembershipFee("4711", "Ann Smit", dt.date(2025, 4, 1), Decimal("39.95"))


def entries_with_ref(exact_client: Any, your_ref: str) -> list[Any]:
    """The sales entries in the fee journal whose YourRef is ``your_ref``."""
    where = (P("Journal") == SALES_JOURNAL) & (P("YourRef") == your_ref)
    result: list[Any] = exact_client.sales_entries.list(filter=where)
    return result


def test_books_the_fee_with_vat_on_a_new_customer(exact_client: Any) -> None:
    entry_id = book_membership_fee(exact_client, MARCH)

    entry = exact_client.sales_entries.get(entry_id)
    assert entry.your_ref == "FEE-4711-202503"
    assert entry.amount_dc == Decimal("39.95")  # incl. VAT, what the member owes
    assert entry.vat_amount_dc == Decimal("3.30")  # 9 % of 36.65
    customer = exact_client.accounts.find_by_code("4711")
    assert customer is not None
    assert customer.name == "Ann Smit"
    assert entry.customer == customer.id


def test_next_month_reuses_the_customer(exact_client: Any, exact_fake: FakeExactOnline) -> None:
    first = book_membership_fee(exact_client, MARCH)
    second = book_membership_fee(exact_client, APRIL)

    assert first != second
    assert exact_fake.count("POST", "crm/Accounts") == 1
    assert exact_fake.count("POST", "salesentry/SalesEntries") == 2


def test_a_lost_answer_is_not_booked_twice(exact_client: Any, exact_fake: FakeExactOnline) -> None:
    # Exact commits the entry, but its answer never reaches us (a read timeout).
    exact_fake.fail_next(Fault.LOST_RESPONSE, method="POST", path="salesentry/SalesEntries")

    entry_id = book_membership_fee(exact_client, MARCH)
    again = book_membership_fee(exact_client, MARCH)  # e.g. the job is retried

    assert again == entry_id
    assert [entry.entry_id for entry in entries_with_ref(exact_client, fee_reference(MARCH))] == [
        entry_id
    ]
    assert exact_fake.count("POST", "salesentry/SalesEntries") == 1


def test_the_nightly_sync_books_the_club_once(
    club_client: VirtuagymClient, exact_client: Any, exact_fake: FakeExactOnline
) -> None:
    config = BookingConfig.from_mapping(
        {
            "sales_journal": "70",
            "vat": {"codes": {"1": "2", "2": "1", "0": "0"}},  # Virtuagym tax id -> Exact code
            "ledger": {"default_account": "8000", "by_vat_category": {"2": "8010"}},
        }
    )
    pipeline = InvoicePipeline(
        VirtuagymInvoices(club_client),
        exact_client,
        config,
        MemoryStateStore(),
        clock=exact_fake.clock,
    )

    first = pipeline.run()
    second = pipeline.run()

    assert first.ok
    assert len(first.booked) == 3
    assert first.accounts_created == 2
    assert sum(row.amount or 0 for row in first.booked) == Decimal("124.90")
    assert exact_fake.count("POST", "salesentry/SalesEntries") == 3
    assert second.counts()["booked"] == 0
    assert second.unchanged == 3
    assert second.exact_calls == 0
