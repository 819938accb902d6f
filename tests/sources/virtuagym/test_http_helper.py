"""Tests of the shared source HTTP helper (exactbridge.sources._http)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest

from exactbridge.errors import SourceAPIError, SourceRecordError
from exactbridge.sources._http import (
    AsyncHttpSession,
    AsyncListing,
    HttpSession,
    Listing,
    Pacer,
    RetryPolicy,
    SourceRateLimitError,
    no_jitter,
    parse_retry_after,
    read_json,
    redact_url,
)
from exactbridge.testing.clock import FakeClock

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def scripted(responses):
    """A handler answering with the given responses in turn (exceptions are raised)."""
    seen = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, seen


def test_parse_retry_after_seconds_date_and_garbage():
    assert parse_retry_after("12", START) == 12.0
    assert parse_retry_after("Mon, 02 Mar 2026 09:01:00 GMT", START) == 60.0
    assert parse_retry_after("Mon, 02 Mar 2026 08:00:00 GMT", START) == 0.0
    assert parse_retry_after("soon", START) is None
    assert parse_retry_after(None, START) is None
    assert parse_retry_after("-5", START) == 0.0


def test_redact_url_masks_only_secret_params():
    text = redact_url(
        "https://h.test/p?api_key=CANARY&page=3&club_secret=X", ["api_key", "club_secret"]
    )
    assert "CANARY" not in text
    assert "X&" not in text
    assert "page=3" in text


def test_backoff_doubles_up_to_cap():
    policy = RetryPolicy(backoff=1, max_backoff=5, jitter=no_jitter)
    assert [policy.backoff_for(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]


def test_pacer_waits_for_the_oldest_request_to_leave_the_window():
    clock = FakeClock(START)
    pacer = Pacer(3, 60, clock=clock)
    for _ in range(3):
        assert pacer.delay() == 0.0
        pacer.record()
        clock.advance(10)
    assert pacer.delay() == pytest.approx(30.0)
    clock.advance(30)
    assert pacer.delay() == 0.0
    pacer.pause_until(clock.now() + dt.timedelta(seconds=100))
    assert pacer.delay() == pytest.approx(100.0)


def test_session_retries_5xx_and_honours_retry_after():
    clock = FakeClock(START)
    handler, seen = scripted(
        [
            httpx.Response(503),
            httpx.Response(429, headers={"Retry-After": "42"}),
            httpx.Response(200, json={"ok": 1}),
        ]
    )
    session = HttpSession(
        "demo",
        base_url="https://h.test/api",
        transport=httpx.MockTransport(handler),
        clock=clock,
        retry=RetryPolicy(backoff=2, jitter=no_jitter),
    )
    response = session.get("/things", params={"page": 1})
    assert response.status_code == 200
    assert session.calls == 3
    assert clock.slept == [2.0, 42.0]
    assert str(seen[0].url) == "https://h.test/api/things?page=1"


def test_session_raises_typed_error_without_secrets():
    handler, _ = scripted([httpx.Response(403, text="nope")])
    session = HttpSession(
        "demo",
        base_url="https://h.test",
        transport=httpx.MockTransport(handler),
        clock=FakeClock(START),
        headers={"Authorization": "Bearer CANARY-TOKEN"},
        redact_params=["api_key"],
    )
    with pytest.raises(SourceAPIError) as info:
        session.get("/x", params={"api_key": "CANARY-KEY"})
    assert info.value.status == 403
    assert "CANARY" not in str(info.value)
    assert "CANARY" not in repr(session)


def test_transport_errors_are_retried_then_wrapped():
    clock = FakeClock(START)
    boom = httpx.ConnectError("refused")
    handler, _ = scripted([boom, boom])
    session = HttpSession(
        "demo",
        base_url="https://h.test",
        transport=httpx.MockTransport(handler),
        clock=clock,
        retry=RetryPolicy(attempts=2, backoff=1, jitter=no_jitter),
    )
    with pytest.raises(SourceAPIError) as info:
        session.get("/x")
    assert info.value.status is None
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert session.calls == 2


def test_long_retry_after_raises_rate_limit_error():
    handler, _ = scripted([httpx.Response(429, headers={"Retry-After": "99999"})])
    session = HttpSession(
        "demo",
        base_url="https://h.test",
        transport=httpx.MockTransport(handler),
        clock=FakeClock(START),
        retry=RetryPolicy(max_retry_after=60),
    )
    with pytest.raises(SourceRateLimitError) as info:
        session.get("/x")
    assert info.value.retry_after == 99999.0
    assert session.calls == 1


def test_post_is_not_retried_on_5xx():
    handler, _ = scripted([httpx.Response(500)])
    session = HttpSession(
        "demo",
        base_url="https://h.test",
        transport=httpx.MockTransport(handler),
        clock=FakeClock(START),
    )
    with pytest.raises(SourceAPIError):
        session.request("POST", "/x", json_body={"a": 1})
    assert session.calls == 1


def test_retry_response_hook_flags_a_200_as_retryable():
    clock = FakeClock(START)
    handler, _ = scripted(
        [
            httpx.Response(200, json={"statuscode": 421}),
            httpx.Response(200, json={"statuscode": 200}),
        ]
    )
    session = HttpSession(
        "demo",
        base_url="https://h.test",
        transport=httpx.MockTransport(handler),
        clock=clock,
        retry=RetryPolicy(backoff=3, jitter=no_jitter),
        retry_response=lambda r: b"421" in r.content,
    )
    assert session.get("/x").json() == {"statuscode": 200}
    assert clock.slept == [3.0]


def test_pacing_sleeps_on_the_clock():
    clock = FakeClock(START)
    handler, _ = scripted([httpx.Response(200)] * 3)
    session = HttpSession(
        "demo",
        base_url="https://h.test",
        transport=httpx.MockTransport(handler),
        clock=clock,
        pacer=Pacer(2, 3600, clock=clock),
    )
    for _ in range(3):
        session.get("/x")
    assert clock.slept == [3600.0]


def test_read_json_keeps_decimals_and_wraps_garbage():
    request = httpx.Request("GET", "https://h.test/x")
    good = httpx.Response(200, content=b'{"price": 12.1}', request=request)
    assert read_json(good, source="demo") == {"price": Decimal("12.1")}
    bad = httpx.Response(200, content=b"<html>", request=request)
    with pytest.raises(SourceAPIError):
        read_json(bad, source="demo")


def test_listing_collects_errors():
    err = SourceRecordError("bad", source="demo", record_id="2", field="x", expected="int")
    listing: Listing[int] = Listing(iter([1, err, 3]))
    assert listing.all() == [1, 3]
    assert listing.errors == [err]


@pytest.mark.asyncio
async def test_async_session_and_listing():
    clock = FakeClock(START)
    handler, _ = scripted([httpx.Response(502), httpx.Response(200, json=[1])])
    session = AsyncHttpSession(
        "demo",
        base_url="https://h.test",
        transport=httpx.MockTransport(handler),
        clock=clock,
        retry=RetryPolicy(backoff=1, jitter=no_jitter),
    )
    response = await session.get("/x")
    assert response.json() == [1]
    assert session.calls == 2
    await session.aclose()

    err = SourceRecordError("bad", source="demo", record_id="2", field="x", expected="int")

    async def gen():
        yield 1
        yield err

    listing: AsyncListing[int] = AsyncListing(gen())
    assert await listing.all() == [1]
    assert listing.errors == [err]


def test_record_reader_types_and_errors_name_record_and_field():
    from exactbridge.sources._http import RecordReader

    data = {"id": 5, "n": "12", "price": Decimal("1.10"), "s": "x", "flag": 1, "day": "2026-01-31"}
    reader = RecordReader("demo", data, id_field="id")
    assert reader.integer("n") == 12
    assert reader.decimal("price") == Decimal("1.10")
    assert reader.flag("flag") is True
    assert reader.date("day") == dt.date(2026, 1, 31)
    assert reader.opt_text("missing") is None
    assert reader.extras({"id", "n"}) == {k: v for k, v in data.items() if k not in {"id", "n"}}
    with pytest.raises(SourceRecordError) as info:
        reader.integer("s")
    assert (info.value.record_id, info.value.field, info.value.expected) == ("5", "s", "an integer")
    with pytest.raises(SourceRecordError):
        reader.decimal("flag_missing")
    with pytest.raises(SourceRecordError):
        RecordReader("demo", {"p": 1.5}).decimal("p")  # a binary float is refused
    with pytest.raises(SourceRecordError) as info:
        RecordReader("demo", ["not", "an", "object"])
    assert info.value.field == "<record>"
    child = reader.child({"q": True}, "rows[0].")
    with pytest.raises(SourceRecordError) as info:
        child.integer("q")
    assert info.value.field == "rows[0].q"
