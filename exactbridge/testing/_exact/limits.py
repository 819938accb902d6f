"""Rate limits and the error budget of the fake Exact Online (reference §3.4 and §4).

* Per division: ``minutely`` calls per clock minute (the window resets at the next
  whole minute) and ``daily`` calls per UTC day (reset at the next midnight **UTC**;
  the reference leaves UTC vs Amsterdam open, the fake picks UTC).
* Resets are sent in epoch **milliseconds**.
* Error budget: more than ``budget`` answers with status 400, 401, 403 or 404 for one
  endpoint of one division within an hour block that endpoint for one hour.
"""

from __future__ import annotations

import collections
import datetime as dt

import attrs

__all__ = ["ErrorBudget", "LimitDecision", "RateLimiter", "epoch_ms"]

BUDGET_STATUSES = frozenset({400, 401, 403, 404})
_HOUR = dt.timedelta(hours=1)


def epoch_ms(value: dt.datetime) -> int:
    """Aware datetime -> integer milliseconds since the Unix epoch."""
    return int(value.timestamp()) * 1000 + value.microsecond // 1000


def _minute_start(now: dt.datetime) -> dt.datetime:
    return now.replace(second=0, microsecond=0)


def _day_start(now: dt.datetime) -> dt.datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@attrs.frozen
class LimitDecision:
    """Whether a call may proceed, and the rate-limit headers to send with the answer."""

    allowed: bool
    headers: dict[str, str]
    exhausted: str | None = None  # "minutely" or "daily" when refused


@attrs.define
class _Window:
    minute: dt.datetime
    minute_count: int
    day: dt.datetime
    day_count: int


class RateLimiter:
    """Counts calls per division in a minute window and a UTC-day window."""

    def __init__(self, minutely: int, daily: int) -> None:
        self.minutely = minutely
        self.daily = daily
        self._windows: dict[int, _Window] = {}

    def reset(self) -> None:
        """Forget all counts."""
        self._windows.clear()

    def _window(self, division: int, now: dt.datetime) -> _Window:
        minute, day = _minute_start(now), _day_start(now)
        window = self._windows.get(division)
        if window is None:
            window = _Window(minute, 0, day, 0)
            self._windows[division] = window
        if window.minute != minute:
            window.minute, window.minute_count = minute, 0
        if window.day != day:
            window.day, window.day_count = day, 0
        return window

    def _minutely_headers(self, window: _Window) -> dict[str, str]:
        reset = window.minute + dt.timedelta(minutes=1)
        return {
            "X-RateLimit-Minutely-Limit": str(self.minutely),
            "X-RateLimit-Minutely-Remaining": str(max(self.minutely - window.minute_count, 0)),
            "X-RateLimit-Minutely-Reset": str(epoch_ms(reset)),
        }

    def _daily_headers(self, window: _Window) -> dict[str, str]:
        reset = window.day + dt.timedelta(days=1)
        return {
            "X-RateLimit-Limit": str(self.daily),
            "X-RateLimit-Remaining": str(max(self.daily - window.day_count, 0)),
            "X-RateLimit-Reset": str(epoch_ms(reset)),
        }

    def take(self, division: int, now: dt.datetime) -> LimitDecision:
        """Count one call, or refuse it when a window is used up.

        A refused call is not counted. Its headers are only the trio of the exhausted
        window (daily checked first); an allowed call gets all six.
        """
        window = self._window(division, now)
        if window.day_count >= self.daily:
            return LimitDecision(False, self._daily_headers(window), "daily")
        if window.minute_count >= self.minutely:
            return LimitDecision(False, self._minutely_headers(window), "minutely")
        window.minute_count += 1
        window.day_count += 1
        return LimitDecision(
            True, {**self._daily_headers(window), **self._minutely_headers(window)}
        )

    def used(self, division: int, now: dt.datetime) -> tuple[int, int]:
        """Calls counted so far in the current (minute, day) windows of ``division``."""
        window = self._window(division, now)
        return window.minute_count, window.day_count


class ErrorBudget:
    """Counts 400/401/403/404 answers per (division, endpoint) and blocks abusers."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._errors: dict[tuple[int | None, str], collections.deque[dt.datetime]] = {}
        self._blocked: dict[tuple[int | None, str], dt.datetime] = {}

    def reset(self) -> None:
        """Forget all errors and blocks."""
        self._errors.clear()
        self._blocked.clear()

    def blocked_until(self, key: tuple[int | None, str], now: dt.datetime) -> dt.datetime | None:
        """When the block on ``key`` ends, or None if it is not blocked."""
        until = self._blocked.get(key)
        if until is None:
            return None
        if now >= until:
            del self._blocked[key]
            self._errors.pop(key, None)
            return None
        return until

    def record(self, key: tuple[int | None, str], status: int, now: dt.datetime) -> None:
        """Note one answer; a budget status past the budget starts a one-hour block."""
        if status not in BUDGET_STATUSES:
            return
        errors = self._errors.setdefault(key, collections.deque())
        errors.append(now)
        while errors and now - errors[0] >= _HOUR:
            errors.popleft()
        if len(errors) > self.budget:
            self._blocked[key] = now + _HOUR
