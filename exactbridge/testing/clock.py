"""A controllable clock for tests: simulated time that never really sleeps.

:class:`FakeClock` implements :class:`exactbridge.clock.Clock`. Sleeping advances the
simulated time at once, so a test can run through token lifetimes, rate-limit windows
and backoff schedules without waiting::

    >>> import datetime as dt
    >>> clock = FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc))
    >>> clock.sleep(90)
    >>> clock.now().isoformat()
    '2026-03-02T09:01:30+00:00'
    >>> clock.slept
    [90.0]
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

from exactbridge.errors import ConfigurationError

__all__ = ["DEFAULT_START", "FakeClock"]

#: Where a :class:`FakeClock` starts when no start time is given (a Monday morning).
DEFAULT_START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def _as_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(
            f"FakeClock needs a timezone-aware datetime, got the naive value {value.isoformat()}"
        )
    return value.astimezone(dt.timezone.utc)


class FakeClock:
    """Simulated time (aware UTC), safe to share between threads and tasks.

    ``sleep`` and ``asleep`` advance the time by the requested amount immediately and
    remember each requested duration in :attr:`slept`, so tests can assert how long a
    client *would* have waited. ``advance`` and ``set`` move the time by hand.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._now = _as_utc(start) if start is not None else DEFAULT_START
        self._slept: list[float] = []

    def now(self) -> dt.datetime:
        """Return the simulated current time (timezone-aware, UTC)."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> dt.datetime:
        """Move the time forward by ``seconds`` (not backward) and return the new time."""
        if seconds < 0:
            raise ConfigurationError(f"FakeClock.advance needs seconds >= 0, got {seconds!r}")
        with self._lock:
            self._now = self._now + dt.timedelta(seconds=seconds)
            return self._now

    def set(self, when: dt.datetime) -> None:
        """Jump to ``when`` (timezone-aware; may lie in the past)."""
        value = _as_utc(when)
        with self._lock:
            self._now = value

    def sleep(self, seconds: float) -> None:
        """Pretend to sleep: advance the time by ``seconds`` (negative counts as zero)."""
        seconds = max(float(seconds), 0.0)
        with self._lock:
            self._slept.append(seconds)
            self._now = self._now + dt.timedelta(seconds=seconds)

    async def asleep(self, seconds: float) -> None:
        """Async variant of :meth:`sleep`; yields to the event loop once."""
        self.sleep(seconds)
        await asyncio.sleep(0)

    @property
    def slept(self) -> list[float]:
        """Every duration passed to ``sleep``/``asleep`` so far, in order (a copy)."""
        with self._lock:
            return list(self._slept)

    def __repr__(self) -> str:
        return f"FakeClock({self.now().isoformat()})"
