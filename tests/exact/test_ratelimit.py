"""The per-division rate limiter: header parsing, waiting before the minute runs out, the day."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from exactbridge.errors import DailyRateLimitError
from exactbridge.exact._ratelimit import RateLimiter, parse_rate_limit_headers

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
NEXT_MINUTE_MS = int(dt.datetime(2026, 3, 2, 9, 1, 0, tzinfo=UTC).timestamp() * 1000)
MIDNIGHT_MS = int(dt.datetime(2026, 3, 3, 0, 0, 0, tzinfo=UTC).timestamp() * 1000)


def headers(*, daily: int | None = 4980, minutely: int | None = 49) -> httpx.Headers:
    h: dict[str, str] = {}
    if daily is not None:
        h |= {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(daily),
            "X-RateLimit-Reset": str(MIDNIGHT_MS),
        }
    if minutely is not None:
        h |= {
            "X-RateLimit-Minutely-Limit": "60",
            "X-RateLimit-Minutely-Remaining": str(minutely),
            "X-RateLimit-Minutely-Reset": str(NEXT_MINUTE_MS),
        }
    return httpx.Headers(h)


def test_headers_are_read_as_epoch_milliseconds():
    state = parse_rate_limit_headers(headers())
    assert state is not None
    assert state.daily_limit == 5000
    assert state.daily_remaining == 4980
    assert state.daily_reset == dt.datetime(2026, 3, 3, tzinfo=UTC)
    assert state.minutely_limit == 60
    assert state.minutely_remaining == 49
    assert state.minutely_reset == dt.datetime(2026, 3, 2, 9, 1, tzinfo=UTC)


def test_no_headers_means_no_state_and_garbage_is_ignored():
    assert parse_rate_limit_headers(httpx.Headers({})) is None
    state = parse_rate_limit_headers(
        httpx.Headers({"X-RateLimit-Minutely-Remaining": "3", "X-RateLimit-Minutely-Reset": "soon"})
    )
    assert state is not None
    assert state.minutely_remaining == 3
    assert state.minutely_reset is None
    assert not state.has_daily


def test_calls_go_at_once_while_the_minute_has_room():
    limiter = RateLimiter(margin=1.0)
    limiter.record(7, headers(minutely=2))
    assert limiter.reserve(7, NOW, method="GET", url="u") == 0.0
    assert limiter.reserve(7, NOW, method="GET", url="u") == 0.0
    # The third call would exceed the minute: wait until the reset plus the margin.
    assert limiter.reserve(7, NOW, method="GET", url="u") == pytest.approx(31.0)


def test_a_wait_counts_nothing_so_a_call_that_waited_is_counted_once():
    limiter = RateLimiter(margin=1.0)
    limiter.record(7, headers(daily=100, minutely=0))
    assert limiter.reserve(7, NOW, method="GET", url="u") == pytest.approx(31.0)
    assert limiter.reserve(7, NOW, method="GET", url="u") == pytest.approx(31.0)
    assert limiter.state(7).daily_remaining == 100
    # The client waited and asks again in the next minute: granted, counted once.
    after = NOW + dt.timedelta(seconds=31)
    assert limiter.reserve(7, after, method="GET", url="u") == 0.0
    assert limiter.state(7).daily_remaining == 99


def test_state_reports_what_is_known_and_counts_reserved_calls():
    limiter = RateLimiter()
    assert limiter.state(7).minutely_remaining is None
    limiter.record(7, headers(daily=100, minutely=10))
    limiter.reserve(7, NOW, method="GET", url="u")
    state = limiter.state(7)
    assert (state.daily_remaining, state.minutely_remaining) == (99, 9)
    assert state.daily_reset == dt.datetime(2026, 3, 3, tzinfo=UTC)


def test_divisions_have_separate_budgets():
    limiter = RateLimiter()
    limiter.record(1, headers(minutely=0))
    assert limiter.reserve(2, NOW, method="GET", url="u") == 0.0
    assert limiter.reserve(1, NOW, method="GET", url="u") > 0


def test_a_passed_minutely_reset_frees_the_budget():
    limiter = RateLimiter()
    limiter.record(1, headers(minutely=0))
    later = NOW + dt.timedelta(seconds=31)
    assert limiter.reserve(1, later, method="GET", url="u") == 0.0


def test_daily_exhaustion_raises_with_the_reset_time_instead_of_sleeping():
    limiter = RateLimiter()
    limiter.record(1, headers(daily=0))
    with pytest.raises(DailyRateLimitError) as info:
        limiter.reserve(1, NOW, method="GET", url="https://x/api")
    assert info.value.reset_at == dt.datetime(2026, 3, 3, tzinfo=UTC)
    assert "2026-03-03" in str(info.value)
    # After midnight the day is new again.
    assert (
        limiter.reserve(1, dt.datetime(2026, 3, 3, 0, 0, 1, tzinfo=UTC), method="GET", url="u") == 0
    )


def test_a_minutely_429_waits_until_the_reset():
    limiter = RateLimiter(margin=1.0)
    wait = limiter.wait_after_429(1, headers(daily=None, minutely=0), NOW)
    assert wait == pytest.approx(31.0)


def test_a_429_without_headers_waits_a_full_minute():
    assert RateLimiter().wait_after_429(1, httpx.Headers({}), NOW) == 60.0


def test_a_daily_429_is_not_waited_out():
    limiter = RateLimiter()
    assert limiter.wait_after_429(1, headers(daily=0, minutely=None), NOW) is None
    with pytest.raises(DailyRateLimitError):
        limiter.reserve(1, NOW, method="GET", url="u")
