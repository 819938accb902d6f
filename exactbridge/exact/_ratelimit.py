"""Exact Online's rate limits, tracked per division (pure logic, no I/O).

Exact allows an app 60 calls a minute and 5000 a day per division and reports the
budget on every successful answer in six headers (resets in epoch milliseconds)::

    X-RateLimit-Limit / -Remaining / -Reset                      the day
    X-RateLimit-Minutely-Limit / -Minutely-Remaining / -Minutely-Reset   the minute

A 429 for the minute carries only the minutely trio; one for the day carries the
daily trio. :class:`RateLimiter` remembers the last known budget of each division,
counts the calls made since, and tells the client how long to wait before the next
call so that the minutely limit is never hit; when the day is used up it raises
:class:`~exactbridge.errors.DailyRateLimitError` with the reset time instead of
sleeping for hours.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping

import attrs

from exactbridge.errors import DailyRateLimitError

__all__ = ["RateLimitState", "RateLimiter", "parse_rate_limit_headers"]

_UTC = dt.timezone.utc


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _epoch_ms(headers: Mapping[str, str], name: str) -> dt.datetime | None:
    value = _int_header(headers, name)
    if value is None or value <= 0:
        return None
    try:
        return dt.datetime.fromtimestamp(value / 1000, tz=_UTC)
    except (OverflowError, OSError, ValueError):
        return None


@attrs.frozen
class RateLimitState:
    """The budget of one division as last reported by Exact (any part may be unknown)."""

    daily_limit: int | None = None
    daily_remaining: int | None = None
    daily_reset: dt.datetime | None = None
    minutely_limit: int | None = None
    minutely_remaining: int | None = None
    minutely_reset: dt.datetime | None = None

    @property
    def has_daily(self) -> bool:
        return self.daily_remaining is not None

    @property
    def has_minutely(self) -> bool:
        return self.minutely_remaining is not None


def parse_rate_limit_headers(headers: Mapping[str, str]) -> RateLimitState | None:
    """Read the ``X-RateLimit-*`` headers; ``None`` when there are none.

    ``headers`` should be case-insensitive (``httpx.Headers`` is).
    """
    state = RateLimitState(
        daily_limit=_int_header(headers, "X-RateLimit-Limit"),
        daily_remaining=_int_header(headers, "X-RateLimit-Remaining"),
        daily_reset=_epoch_ms(headers, "X-RateLimit-Reset"),
        minutely_limit=_int_header(headers, "X-RateLimit-Minutely-Limit"),
        minutely_remaining=_int_header(headers, "X-RateLimit-Minutely-Remaining"),
        minutely_reset=_epoch_ms(headers, "X-RateLimit-Minutely-Reset"),
    )
    if not state.has_daily and not state.has_minutely:
        return None
    return state


@attrs.define
class _Budget:
    minutely_remaining: int | None = None
    minutely_reset: dt.datetime | None = None
    daily_remaining: int | None = None
    daily_reset: dt.datetime | None = None


class RateLimiter:
    """Per-division call budget shared by every request of one client (thread-safe).

    ``margin`` seconds are added to a minutely reset before calling again, to absorb
    clock skew between this machine and Exact. A client may share one limiter with
    other clients of the same app (pass it in) so their calls count together.
    """

    def __init__(self, *, margin: float = 1.0) -> None:
        self._margin = margin
        self._lock = threading.Lock()
        self._budgets: dict[int | None, _Budget] = {}

    def state(self, division: int | None) -> RateLimitState:
        """What is known of a division's budget now (for reports and tests)."""
        with self._lock:
            b = self._budgets.get(division, _Budget())
            return RateLimitState(
                daily_remaining=b.daily_remaining,
                daily_reset=b.daily_reset,
                minutely_remaining=b.minutely_remaining,
                minutely_reset=b.minutely_reset,
            )

    def reserve(self, division: int | None, now: dt.datetime, *, method: str, url: str) -> float:
        """Claim one call. Returns the seconds to wait first (0.0 to go at once).

        Raises :class:`DailyRateLimitError` when the day's budget is known to be
        used up and its reset lies in the future.
        """
        with self._lock:
            b = self._budgets.setdefault(division, _Budget())
            if b.daily_reset is not None and now >= b.daily_reset:
                b.daily_remaining = None
                b.daily_reset = None
            if b.daily_remaining is not None and b.daily_remaining <= 0:
                raise DailyRateLimitError(
                    "the daily rate limit of this division is used up",
                    status=429,
                    method=method,
                    url=url,
                    reset_at=b.daily_reset,
                )
            wait = 0.0
            if b.minutely_reset is not None and now >= b.minutely_reset:
                b.minutely_remaining = None
                b.minutely_reset = None
            if b.minutely_remaining is not None and b.minutely_remaining <= 0:
                assert b.minutely_reset is not None
                wait = (b.minutely_reset - now).total_seconds() + self._margin
                # After waiting, a fresh minute starts; the next answer tells its budget.
                b.minutely_remaining = None
                b.minutely_reset = None
            elif b.minutely_remaining is not None:
                b.minutely_remaining -= 1
            if b.daily_remaining is not None:
                b.daily_remaining -= 1
            return max(wait, 0.0)

    def record(self, division: int | None, headers: Mapping[str, str]) -> RateLimitState | None:
        """Take in the budget an answer reports."""
        state = parse_rate_limit_headers(headers)
        if state is None:
            return None
        with self._lock:
            b = self._budgets.setdefault(division, _Budget())
            if state.has_minutely:
                b.minutely_remaining = state.minutely_remaining
                b.minutely_reset = state.minutely_reset
            if state.has_daily:
                b.daily_remaining = state.daily_remaining
                b.daily_reset = state.daily_reset
        return state

    def wait_after_429(
        self, division: int | None, headers: Mapping[str, str], now: dt.datetime
    ) -> float | None:
        """After a 429: seconds to wait before trying again, or ``None`` when the day is used up.

        A 429 with the daily trio at zero remaining (or with no minutely headers but a
        daily reset) means the day is gone; otherwise it is the minute, and the wait
        runs to the minutely reset (or a full minute when Exact sent no reset).
        """
        state = parse_rate_limit_headers(headers)
        with self._lock:
            b = self._budgets.setdefault(division, _Budget())
            if state is not None and state.has_daily and (state.daily_remaining or 0) <= 0:
                b.daily_remaining = 0
                b.daily_reset = state.daily_reset
                return None
            reset = state.minutely_reset if state is not None else None
            b.minutely_remaining = None
            b.minutely_reset = None
        if reset is None:
            return 60.0
        return max((reset - now).total_seconds(), 0.0) + self._margin
