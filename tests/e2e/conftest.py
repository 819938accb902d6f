"""The seed options end to end: source fake -> adapter -> pipeline -> fake Exact.

Every module here holds one integration's options, one test per option the seed
document names (named after its wording), each switch tried on both sides. A test
builds the source's data in its fake, runs the real pipeline with a ``BookingConfig``
(and ``SyncSettings``) as a user would write them, and reads back what the fake Exact
division holds through the Exact client (the fake shares no parsing code with it).

docs/policies.md keeps the table seed option -> policy field -> test;
``tests/test_docs.py`` checks that every test it names exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from exactbridge.exact import P
from exactbridge.mapping import BookingConfig
from exactbridge.sync import (
    InvoicePipeline,
    InvoiceSource,
    MemoryStateStore,
    StateStore,
    SyncReport,
    SyncSettings,
)
from exactbridge.testing import FakeClock, FakeExactOnline
from tests.sync.conftest import DIVISION, START, Books

#: A second division of the same Exact app ("select the administration").
OTHER_DIVISION = 1002

__all__ = [
    "DIVISION",
    "OTHER_DIVISION",
    "Books",
    "add_gl_account",
    "add_payment_condition",
    "add_project",
    "add_sales_journal",
    "book",
]


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def fake_exact(fake_clock: FakeClock) -> FakeExactOnline:
    """Two Dutch divisions (template "nl") of one Exact app, no customers yet."""
    fake = FakeExactOnline(clock=fake_clock)
    fake.add_division(DIVISION, template="nl")
    fake.add_division(OTHER_DIVISION, template="nl")
    return fake


@pytest.fixture
def books(fake_exact: FakeExactOnline) -> Books:
    return Books(fake_exact)


@pytest.fixture
def state_store() -> Iterator[MemoryStateStore]:
    store = MemoryStateStore()
    yield store
    store.close()


def book(
    source: InvoiceSource,
    books: Books,
    config: Mapping[str, Any] | BookingConfig,
    store: StateStore,
    clock: FakeClock,
    *,
    settings: SyncSettings | None = None,
    division: int = DIVISION,
    **options: Any,
) -> SyncReport:
    """One pipeline run of ``source`` into ``division`` under ``config``."""
    if not isinstance(config, BookingConfig):
        config = BookingConfig.from_mapping(config)
    pipeline = InvoicePipeline(
        source,
        books.fake.client(division),
        config,
        store,
        settings=settings,
        clock=clock,
        **options,
    )
    return pipeline.run()


def add_sales_journal(
    books: Books, code: str, description: str, *, debtors_account: str = "1300"
) -> None:
    """A further sales journal (type 20) on a debtors account, as an admin adds one."""
    exact = books.exact
    debtors = exact.gl_accounts.first(filter=P("Code") == debtors_account)
    journals = books.fake.domain.entity_set("financial/Journals")
    assert journals is not None
    books.fake.domain.create(
        books.division,
        journals,
        {"Code": code, "Description": description, "Type": 20, "GLAccount": debtors.id},
    )


def add_payment_condition(books: Books, code: str, description: str, *, method: str) -> None:
    """A payment condition (``PaymentMethod`` B, I collection, K cash), as an admin adds one."""
    conditions = books.fake.domain.entity_set("cashflow/PaymentConditions")
    assert conditions is not None
    books.fake.domain.create(
        books.division,
        conditions,
        {"Code": code, "Description": description, "PaymentDays": 14, "PaymentMethod": method},
    )


def add_gl_account(books: Books, code: str, description: str, kind: int) -> None:
    """A further GL account (``Type``: 20 debtors, 16 PSP transfer, 90 general, 120 costs)."""
    accounts = books.fake.domain.entity_set("financial/GLAccounts")
    assert accounts is not None
    books.fake.domain.create(
        books.division, accounts, {"Code": code, "Description": description, "Type": kind}
    )


def add_project(books: Books, code: str, description: str) -> uuid.UUID:
    """A project (``project/Projects``) a sales line can refer to."""
    projects = books.fake.domain.entity_set("project/Projects")
    assert projects is not None
    created = books.fake.domain.create(
        books.division, projects, {"Code": code, "Description": description}
    )
    project_id: uuid.UUID = created["ID"]
    return project_id
