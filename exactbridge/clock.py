"""Time as exactbridge sees it: an injectable clock.

Token lifetimes, rate-limit windows and backoff all ask a :class:`Clock` for the
time and for sleeping, never :mod:`time` directly, so tests and the fakes can run
hours of simulated time in milliseconds (see ``exactbridge.testing.FakeClock``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """The time source and sleeper used by clients, token rules and rate limiting."""

    def now(self) -> dt.datetime:
        """Return the current time as a timezone-aware UTC datetime."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the calling thread for ``seconds``."""
        ...

    async def asleep(self, seconds: float) -> None:
        """Suspend the calling task for ``seconds``."""
        ...


class SystemClock:
    """The real clock: :func:`time.time` and real sleeping."""

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(time.time(), tz=dt.timezone.utc)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    async def asleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))

    def __repr__(self) -> str:
        return "SystemClock()"
