"""Coachview clients (sync and async) against FakeCoachview."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pytest

from exactbridge.errors import ConfigurationError, SourceAPIError
from exactbridge.sources._http import RetryPolicy, no_jitter
from exactbridge.sources.coachview import (
    HOSTS,
    AsyncCoachviewClient,
    CoachviewClient,
    CoachviewRateLimitError,
    parse_rate_limit,
    where_changed_between,
    where_equals,
    where_in,
)
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.coachview import FakeCoachview

SECRET = "CANARY-client-secret-3f9a8b"
START = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def fake(clock: FakeClock) -> FakeCoachview:
    cv = FakeCoachview(clock=clock)
    cv.add_client("cv-client", SECRET, lifetime=900)
    cv.seed_invoices(230, seed=4)
    return cv


def _client(fake: FakeCoachview, clock: FakeClock, **kw: Any) -> CoachviewClient:
    return CoachviewClient("cv-client", SECRET, transport=fake.transport(), clock=clock, **kw)


def test_pages_with_skip_take_and_parses_dutch_fields(
    fake: FakeCoachview, clock: FakeClock
) -> None:
    client = _client(fake, clock)
    listing = client.list_invoices()
    invoices = listing.all()
    assert listing.errors == []
    assert len(invoices) == 230
    api = [c for c in fake.calls if c.method == "GET"]
    assert [(c.params["skip"], c.params["take"]) for c in api] == [
        ("0", "100"),
        ("100", "100"),
        ("200", "100"),
    ]
    raw = fake.entities["facturen"][0]
    first = invoices[0]
    assert first.id == raw["id"]
    assert first.number == raw["factuurnummer"]
    assert first.invoice_date == dt.date.fromisoformat(raw["factuurdatum"])
    assert first.total_incl_vat == raw["totaalInclBtw"]
    assert isinstance(first.total_incl_vat, Decimal)
    assert first.request_number == raw["aanvraagnummer"]
    assert first.request_reference == raw["referentieNrKlant"]
    assert first.order_start == dt.date.fromisoformat(raw["orderStartdatum"][:10])
    assert first.changed_at is not None
    assert first.changed_at.tzinfo is not None
    assert first.lines[0].amount_excl_vat == raw["factuurregels"][0]["bedragExclBtw"]
    assert client.calls == 3
    assert client.token_requests == 1


def test_token_is_refreshed_before_expiry(fake: FakeCoachview, clock: FakeClock) -> None:
    client = _client(fake, clock, refresh_margin=60)
    client.list_debtors().all()
    clock.advance(800)  # 900 s token, renewed 60 s early: still valid at 800 s
    client.list_debtors().all()
    assert client.token_requests == 1
    clock.advance(45)  # 845 s: within the margin
    client.list_debtors().all()
    assert client.token_requests == 2
    assert all(c.status == 200 for c in fake.calls)


def test_a_401_gets_one_new_token(fake: FakeCoachview, clock: FakeClock) -> None:
    client = _client(fake, clock)
    client.list_persons().all()
    fake.tokens.clear()  # revoked server-side
    assert len(client.list_persons().all()) > 0
    assert client.token_requests == 2
    fake.fail_next(401, times=2)
    with pytest.raises(SourceAPIError) as info:
        client.list_persons().all()
    assert info.value.status == 401


def test_bad_credentials_and_scopes(fake: FakeCoachview, clock: FakeClock) -> None:
    bad = CoachviewClient("cv-client", "CANARY-wrong", transport=fake.transport(), clock=clock)
    with pytest.raises(SourceAPIError, match="invalid_client") as info:
        bad.list_invoices().all()
    assert "CANARY" not in str(info.value)
    narrow = _client(fake, clock, scopes=("api", "Facturen.Lezen"))
    assert len(narrow.list_invoices().all()) == 230
    with pytest.raises(SourceAPIError) as denied:
        narrow.list_debtors().all()
    assert denied.value.status == 403
    with pytest.raises(SourceAPIError, match="invalid_scope"):
        _client(fake, clock, scopes=("api", "Docenten.Schrijven")).list_invoices().all()


def test_secrets_never_in_repr_errors_or_logs(
    fake: FakeCoachview, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = _client(fake, clock)
    client.list_invoices().all()
    token = next(iter(fake.tokens))
    assert SECRET not in repr(client)
    assert token not in repr(client)
    assert token not in repr(client._token)
    fake.fail_next(500, times=5)
    with pytest.raises(SourceAPIError) as info:
        _client(fake, clock, retry=RetryPolicy(attempts=2, jitter=no_jitter)).list_invoices().all()
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text
    assert token not in caplog.text


def test_changed_range_filter_for_incremental_reads(fake: FakeCoachview, clock: FakeClock) -> None:
    client = _client(fake, clock)
    since = dt.datetime(2026, 1, 20, 9, 45, tzinfo=dt.timezone.utc)
    invoices = client.list_invoices(changed_from=since, changed_to=dt.date(2026, 1, 25)).all()
    where = fake.calls[-1].params["where"]
    assert where == "audittrail.gewijzigddatumtijd=20-01-2026,25-01-2026"
    assert invoices
    assert all(i.changed_at is not None and i.changed_at >= since for i in invoices)
    days = {i.changed_at.date() for i in invoices if i.changed_at}
    assert min(days) >= dt.date(2026, 1, 20)
    assert max(days) <= dt.date(2026, 1, 25)


def test_where_helpers_and_filters(fake: FakeCoachview, clock: FakeClock) -> None:
    assert where_equals("code", "ABC") == "code=ABC"
    assert where_in("aanvraagid", ["a", "b"]) == "aanvraagid=a,b"
    assert where_changed_between(dt.date(2021, 6, 9), dt.date(2021, 6, 10)) == (
        "audittrail.gewijzigddatumtijd=09-06-2021,10-06-2021"
    )
    client = _client(fake, clock)
    number = fake.entities["facturen"][5]["factuurnummer"]
    (found,) = client.list_invoices(where=where_equals("factuurnummer", number)).all()
    assert found.number == number


def test_related_records_are_fetched_in_bulk(fake: FakeCoachview, clock: FakeClock) -> None:
    client = _client(fake, clock)
    bundles = client.list_invoice_bundles().all()
    assert len(bundles) == 230
    assert all(b.debtor.id == b.invoice.debtor_id for b in bundles)
    assert any(b.company is not None for b in bundles)
    assert any(b.person is not None for b in bundles)
    # per invoice page: 1 invoice call + 2 debtor chunks (58 debtors > 50) + companies + persons
    assert client.calls < 20
    with pytest.raises(ConfigurationError):
        client.list_debtors(ids=["not-a-guid"]).all()


def test_hostile_records_are_collected(fake: FakeCoachview, clock: FakeClock) -> None:
    good = dict(fake.entities["facturen"][0])
    fake.add_raw("Facturen", {**good, "id": "12345"})
    fake.add_raw("Facturen", {**good, "totaalInclBtw": "veel"})
    fake.add_raw("Facturen", {**good, "factuurdatum": "31-12-2026"})
    fake.add_raw("Facturen", {**good, "factuurregels": [{"omschrijving": "x"}]})
    fake.add_raw("Facturen", {**good, "nieuwVeld": 1, "id": "0f0f0f0f-0000-4000-8000-000000000001"})
    fake.add_raw("Facturen", [1, 2])
    listing = _client(fake, clock).list_invoices()
    invoices = listing.all()
    assert len(invoices) == 231
    assert dict(invoices[-1].extra) == {"nieuwVeld": 1}
    assert [e.field for e in listing.errors] == [
        "id",
        "totaalInclBtw",
        "factuurdatum",
        "factuurregels[0].bedragExclBtw",
        "<record>",
    ]
    assert listing.errors[1].record_id == good["id"]


def test_missing_debtor_is_a_record_error(fake: FakeCoachview, clock: FakeClock) -> None:
    fake.entities["debiteuren"].pop(0)
    listing = _client(fake, clock).list_invoice_bundles()
    bundles = listing.all()
    assert len(bundles) == 226
    assert {e.field for e in listing.errors} == {"debiteurId"}
    assert len(listing.errors) == 4


def test_daily_limit_headers_are_honoured(clock: FakeClock) -> None:
    fake = FakeCoachview(clock=clock, daily_limit=3)
    fake.add_client("cv-client", SECRET, lifetime=28800)
    fake.seed_invoices(10)
    client = _client(fake, clock, page_size=2)
    with pytest.raises(CoachviewRateLimitError) as info:
        client.list_invoices().all()
    assert client.rate_limit.remaining == 0
    assert client.rate_limit.limit == 3
    assert info.value.reset_at == START + dt.timedelta(days=1)
    assert [c.status for c in fake.calls if c.method == "GET"] == [200, 200, 200]  # no 429 spent
    clock.advance(86400)
    waiting = _client(fake, clock, page_size=2, max_wait=86400)
    waiting.list_invoices().all()
    assert waiting.rate_limit.remaining == 0
    assert waiting.list_invoices(where="factuurnummer=00001").all()[0].number == "00001"
    assert clock.slept[-1] == pytest.approx(86400)


def test_a_429_becomes_a_rate_limit_error(fake: FakeCoachview, clock: FakeClock) -> None:
    fake.fail_next(429)
    with pytest.raises(CoachviewRateLimitError):
        _client(fake, clock).list_invoices().all()
    assert [c.status for c in fake.calls if c.method == "GET"] == [429]


def test_rate_limit_header_formats() -> None:
    now = START
    epoch = parse_rate_limit({"X-Rate-Limit-Reset": str(int(now.timestamp()) + 60)}, now)
    assert epoch is not None
    assert epoch.reset_at == now + dt.timedelta(seconds=60)
    millis = parse_rate_limit({"x-rate-limit-reset": str(int(now.timestamp()) * 1000)}, now)
    assert millis is not None
    assert millis.reset_at == now
    relative = parse_rate_limit({"X-Rate-Limit-Reset": "120", "X-Rate-Limit-Remaining": "7"}, now)
    assert relative is not None
    assert (relative.remaining, relative.reset_at) == (7, now + dt.timedelta(seconds=120))
    iso = parse_rate_limit({"X-Rate-Limit-Reset": "2026-03-02T08:00:00Z"}, now)
    assert iso is not None
    assert iso.reset_at == now + dt.timedelta(days=1)
    assert parse_rate_limit({}, now) is None


def test_hosts_and_configuration() -> None:
    assert (
        CoachviewClient("a", "b").base_url == HOSTS["production"] == "https://secure.coachview.net"
    )
    assert CoachviewClient("a", "b", environment="training").base_url == (
        "https://training.coachview.net"
    )
    with pytest.raises(ConfigurationError):
        CoachviewClient("a", "")
    with pytest.raises(ConfigurationError):
        CoachviewClient("a", "b", environment="test")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        CoachviewClient("a", "b", page_size=0)


def test_non_array_answer_is_an_api_error(fake: FakeCoachview, clock: FakeClock) -> None:
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 900})
        return httpx.Response(200, json={"value": []})

    client = CoachviewClient("a", "b", transport=httpx.MockTransport(handler), clock=clock)
    with pytest.raises(SourceAPIError, match="not a JSON array"):
        client.list_invoices().all()

    def no_expiry(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "t"})

    client = CoachviewClient("a", "b", transport=httpx.MockTransport(no_expiry), clock=clock)
    with pytest.raises(SourceAPIError, match="expires_in"):
        client.list_invoices().all()


@pytest.mark.asyncio
async def test_async_client_has_the_same_surface(fake: FakeCoachview, clock: FakeClock) -> None:
    fake.fail_next(503, path_contains="Facturen")
    async with AsyncCoachviewClient(
        "cv-client",
        SECRET,
        transport=fake.async_transport(),
        clock=clock,
        retry=RetryPolicy(jitter=no_jitter, retry_statuses={503}),
    ) as client:
        invoices = await client.list_invoices(changed_from=dt.date(2026, 1, 10)).all()
        bundles = await client.list_invoice_bundles(changed_from=dt.date(2026, 1, 10)).all()
        debtors = await client.list_debtors(ids=[invoices[0].debtor_id]).all()
        companies = await client.list_companies().all()
        persons = await client.list_persons().all()
    assert [b.invoice for b in bundles] == invoices
    assert debtors[0].id == invoices[0].debtor_id
    assert companies
    assert persons
    assert clock.slept == [1.0]
    sync = _client(fake, clock)
    assert sync.list_invoices(changed_from=dt.date(2026, 1, 10)).all() == invoices
