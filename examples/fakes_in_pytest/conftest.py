"""Fixtures of the "host project": the fake Exact Online and a fake Virtuagym club.

``pytest_plugins`` switches on exactbridge's opt-in fixtures (it is not loaded by
default, so installing exactbridge never changes anyone's test suite):

* ``exact_division``: the division code to seed (123456; overridden below);
* ``exact_fake``: a fresh ``FakeExactOnline`` with that division seeded from the
  Dutch template (GL accounts 8000/8010/8020, VAT codes 0/1/2, journal 70...);
* ``exact_client``: a real ``ExactClient`` wired to the fake, closed after the test;
* ``async_exact_client`` (with pytest-asyncio) and ``exact_server`` (the fake over
  real HTTP on 127.0.0.1).

Declare ``pytest_plugins`` in your project's top-level ``conftest.py``: pytest
refuses it in a conftest further down the tree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.testing.virtuagym import FakeVirtuagym

pytest_plugins = ["exactbridge.testing.pytest_plugin"]


@pytest.fixture
def exact_division() -> int:
    """Our tests book into division 1001 (overrides the plugin's 123456)."""
    return 1001


@pytest.fixture
def club() -> FakeVirtuagym:
    """A fake Virtuagym club with two members and three invoices from March 2025."""
    fake = FakeVirtuagym(club_id=8633)
    ann = fake.add_member(firstname="Ann", lastname="Smit", email="ann@example.org")
    bram = fake.add_member(firstname="Bram", lastname="de Vries")
    march = dt.date(2025, 3, 1)
    membership = {"name": "Membership", "price": Decimal("39.95"), "tax": 2}  # club tax 2: 9 %
    fake.add_invoice(member_id=ann["member_id"], invoice_date=march, rows=[membership])
    fake.add_invoice(member_id=bram["member_id"], invoice_date=march, rows=[membership])
    fake.add_invoice(
        member_id=ann["member_id"],
        invoice_date=dt.date(2025, 3, 14),
        rows=[{"name": "Personal training", "price": Decimal("45.00"), "tax": 1}],
    )
    return fake


@pytest.fixture
def club_client(club: FakeVirtuagym) -> VirtuagymClient:
    """A real ``VirtuagymClient`` wired to the fake club."""
    return VirtuagymClient(club.credentials, transport=club.transport())
