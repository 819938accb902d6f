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
import multiprocessing
import threading
from typing import Any

from exactbridge.errors import ConfigurationError

__all__ = ["DEFAULT_START", "FakeClock", "VirtualClock", "VirtualTime"]

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


_RUNNING = -1.0  # a worker that is working, not sleeping
_FINISHED = float("inf")  # a worker that has stopped (time may move past it)


class VirtualTime:
    """Simulated time shared by worker threads *and processes*: it moves only when every
    worker sleeps.

    A :class:`FakeClock` moves as soon as anyone sleeps, which is right for one worker
    but not for several: one worker's wait would push time past another's call in
    flight. Here each of ``workers`` workers gets its own clock (:meth:`clock`); its
    ``sleep`` waits until every worker is asleep (or :meth:`VirtualClock.finish`-ed), then
    time jumps to the earliest wake-up. While anyone works, time stands still. The state
    lives in shared memory of ``context`` (a :mod:`multiprocessing` context, ``spawn``
    by default), so pass this object to worker processes as a ``Process`` argument.
    :meth:`observer` gives a clock that reads the time but never sleeps (for a fake
    server)::

        vt = VirtualTime(2)
        a, b = vt.clock(0), vt.clock(1)
        b.finish()            # worker 1 is done
        a.sleep(60)           # nobody else works: time moves at once
        assert (a.now() - vt.start).total_seconds() == 60
    """

    def __init__(
        self, workers: int, start: dt.datetime | None = None, *, context: Any = None
    ) -> None:
        given: object = workers
        if isinstance(given, bool) or not isinstance(given, int) or given < 1:
            raise ConfigurationError(f"VirtualTime needs workers >= 1, got {workers!r}")
        ctx = context if context is not None else multiprocessing.get_context("spawn")
        self.start = _as_utc(start) if start is not None else DEFAULT_START
        self.workers = workers
        self._now = ctx.Value("d", self.start.timestamp(), lock=False)
        self._wake = ctx.Array("d", [_RUNNING] * workers, lock=False)
        self._cond = ctx.Condition()

    def clock(self, worker: int) -> VirtualClock:
        """The clock of worker number ``worker`` (0 to ``workers - 1``)."""
        given: object = worker
        if isinstance(given, bool) or not isinstance(given, int) or not 0 <= given < self.workers:
            raise ConfigurationError(
                f"VirtualTime.clock needs a worker number below {self.workers}, got {worker!r}"
            )
        return VirtualClock(self, worker)

    def observer(self) -> VirtualClock:
        """A clock that tells the shared time and refuses to sleep."""
        return VirtualClock(self, None)

    def _timestamp(self) -> float:
        with self._cond:
            return float(self._now.value)

    def _sleep(self, worker: int, seconds: float) -> None:
        with self._cond:
            self._wake[worker] = self._now.value + max(float(seconds), 0.0)
            while True:
                wakes = list(self._wake)
                if all(w != _RUNNING for w in wakes) and min(wakes) > self._now.value:
                    # Everyone sleeps: jump to the first wake-up and wake the sleepers.
                    self._now.value = min(wakes)
                    self._cond.notify_all()
                if self._now.value >= self._wake[worker]:
                    break
                # Not yet: let go of the lock so the worker due first can wake and work.
                # (The timeout only guards against a lost notification.)
                self._cond.wait(timeout=1.0)
            self._wake[worker] = _RUNNING

    def _set_state(self, worker: int, value: float) -> None:
        with self._cond:
            self._wake[worker] = value
            self._cond.notify_all()


class VirtualClock(FakeClock):
    """One worker's view of a :class:`VirtualTime` (see there)."""

    def __init__(self, time: VirtualTime, worker: int | None) -> None:
        self._time = time
        self._worker = worker
        self._slept: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """The shared simulated time."""
        return dt.datetime.fromtimestamp(self._time._timestamp(), tz=dt.timezone.utc)

    def sleep(self, seconds: float) -> None:
        """Wait until every worker sleeps and the shared time reaches the wake-up."""
        if self._worker is None:
            raise ConfigurationError("an observer clock of VirtualTime cannot sleep")
        with self._lock:
            self._slept.append(max(float(seconds), 0.0))
        self._time._sleep(self._worker, seconds)

    def advance(self, seconds: float) -> dt.datetime:
        """Not possible: shared time moves only by sleeping."""
        raise ConfigurationError("VirtualTime moves only when every worker sleeps")

    def set(self, when: dt.datetime) -> None:
        """Not possible: shared time moves only by sleeping."""
        raise ConfigurationError("VirtualTime moves only when every worker sleeps")

    def start_work(self) -> None:
        """Mark this worker as working again after :meth:`finish` (time stands still)."""
        if self._worker is not None:
            self._time._set_state(self._worker, _RUNNING)

    def finish(self) -> None:
        """Mark this worker as done, so the others' time can move without it."""
        if self._worker is not None:
            self._time._set_state(self._worker, _FINISHED)

    def __getstate__(self) -> dict[str, Any]:
        return {"time": self._time, "worker": self._worker, "slept": list(self._slept)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._time = state["time"]
        self._worker = state["worker"]
        self._slept = state["slept"]
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        who = "observer" if self._worker is None else f"worker {self._worker}"
        return f"VirtualClock({who}, {self.now().isoformat()})"
