"""FakeExactOnline.add_customer: seeding customers the way a host app's tests need them."""

from __future__ import annotations

import httpx
import pytest

from exactbridge.testing import FakeExactOnline, FakeODataError


def _accounts(fake: FakeExactOnline, division: int) -> list[dict[str, object]]:
    domain = fake.domain
    return domain.rows(division, domain.entity_set("crm/Accounts"))


def test_customers_are_stored_with_exact_code_padding():
    fake = FakeExactOnline()
    fake.add_division(7, template="nl")
    numeric = fake.add_customer(7, "Ann Smit", code=42, email="ann@example.nl")
    prefixed = fake.add_customer(7, "Club BV", code="CV00042", vat_number="NL001234567B01")
    rows = {row["ID"]: row for row in _accounts(fake, 7)}
    assert rows[numeric]["Code"] == " " * 16 + "42"
    assert rows[numeric]["Email"] == "ann@example.nl"
    assert rows[numeric]["IsSales"] is True
    assert rows[prefixed]["VATNumber"] == "NL001234567B01"
    assert rows[prefixed]["Code"].strip() == "CV00042"


def test_a_seeded_customer_is_found_over_the_api_by_its_padded_code():
    fake = FakeExactOnline()
    fake.add_division(7, template="nl")
    fake.add_customer(7, "Ann Smit", code=42)
    token = fake.issue_tokens().access_token
    with httpx.Client(transport=fake.transport(), base_url="https://start.exactonline.nl") as http:
        answer = http.get(
            "/api/v1/7/crm/Accounts",
            params={"$filter": f"Code eq '{'42':>18}'", "$select": "Name,Code"},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
    assert answer.status_code == 200
    (row,) = answer.json()["d"]["results"]
    assert row["Name"] == "Ann Smit"


def test_a_duplicate_code_is_refused_as_exact_refuses_it():
    fake = FakeExactOnline()
    fake.add_division(7, template="nl")
    fake.add_customer(7, "Ann Smit", code=42)
    with pytest.raises(FakeODataError):
        fake.add_customer(7, "Bob Smit", code=42)
    assert len([r for r in _accounts(fake, 7) if r.get("IsSales")]) == 1
