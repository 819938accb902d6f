"""The fake Virtuagym's wire format, checked against the documented shapes (raw JSON)."""

from __future__ import annotations

import datetime as dt
import json

import httpx

from exactbridge.testing.clock import FakeClock
from exactbridge.testing.virtuagym import FakeVirtuagym


def raw_get(fake: FakeVirtuagym, tail: str, **params):
    query = {"api_key": fake.credentials.api_key, "club_secret": fake.credentials.club_secret}
    query.update(params)
    with httpx.Client(transport=fake.transport()) as client:
        response = client.get(
            f"https://api.virtuagym.com/api/v1/club/{fake.club_id}/{tail}", params=query
        )
    return response, response.text


def test_invoice_page_envelope_and_float_amounts():
    fake = FakeVirtuagym(clock=FakeClock())
    summary = fake.seed_gym(members=50, months=12)
    assert summary.invoices > 500
    response, text = raw_get(fake, "invoices", page=1)
    body = json.loads(text)
    status = body["status"]
    assert response.status_code == 200
    assert status["statuscode"] == 200
    assert status["statusmessage"] == "Everything OK"
    assert status["next_page"] == 2
    assert isinstance(status["next_page"], int)
    assert status["total_pages"] == -(-len(fake.invoices) // 500)
    assert len(body["result"]) == 500
    assert '"price":39.95' in text or '"price":54.5' in text  # JSON floats, not strings
    first = body["result"][0]
    assert first["timestamp"] < 10**10  # seconds
    assert {"guid", "id", "rows", "timestamp_edit", "deleted"} <= set(first)


def test_errors_are_http_200_with_status_420_flat():
    fake = FakeVirtuagym(clock=FakeClock())
    response, text = raw_get(fake, "invoices/123")
    body = json.loads(text)
    assert response.status_code == 200
    assert body["statuscode"] == 420
    assert "status" not in body


def test_member_timestamps_are_milliseconds_and_the_cursor_is_inclusive():
    fake = FakeVirtuagym(clock=FakeClock(), members_per_page=2)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    for index in range(3):
        fake.add_member(member_id=index + 1, edited_at=start + dt.timedelta(seconds=index))
    _, text = raw_get(fake, "member", sync_from=0)
    body = json.loads(text)
    assert body["result"][0]["timestamp_edit"] > 10**12
    cursor = body["status"]["next_page"]
    assert cursor == f"sync_from={body['result'][-1]['timestamp_edit']}"
    _, text = raw_get(fake, "member", sync_from=cursor.split("=")[1])
    second = json.loads(text)["result"]
    assert second[0]["member_id"] == body["result"][-1]["member_id"]  # repeated row


def test_seed_is_realistic():
    fake = FakeVirtuagym(clock=FakeClock())
    summary = fake.seed_gym(members=400, months=12)
    assert summary.members == 400
    assert summary.guest_invoices > 0
    assert summary.credit_invoices > 0
    assert summary.discount_rows > 0
    assert summary.concept_invoices >= 0
    taxes = {row["club_tax_id"] for inv in fake.invoices.values() for row in inv["rows"]}
    assert taxes == {1, 2}
    assert any(inv["price"] < 0 for inv in fake.invoices.values())
    assert any("member_id" not in inv for inv in fake.invoices.values())
