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
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar, runtime_checkable

import attrs

from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import ConfigurationError, DailyRateLimitError

__all__ = [
    "RateBudget",
    "RateLimitState",
    "RateLimiter",
    "SharedBudget",
    "SharedWindow",
    "parse_rate_limit_headers",
]

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
            if b.minutely_reset is not None and now >= b.minutely_reset:
                # The minute is over: a fresh one started; the next answer tells its budget.
                b.minutely_remaining = None
                b.minutely_reset = None
            if b.minutely_remaining is not None and b.minutely_remaining <= 0:
                assert b.minutely_reset is not None
                # Not granted, so nothing is counted: the caller waits and asks again.
                wait = (b.minutely_reset - now).total_seconds() + self._margin
                return max(wait, 0.0)
            if b.minutely_remaining is not None:
                b.minutely_remaining -= 1
            if b.daily_remaining is not None:
                b.daily_remaining -= 1
            return 0.0

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


@runtime_checkable
class RateBudget(Protocol):
    """What a client needs of a rate limiter; :class:`RateLimiter` and
    :class:`~exactbridge.exact.PostgresRateLimiter` are two.

    ``reserve`` either grants one call now (returns ``0.0`` and counts it) or returns
    the seconds to wait before asking again (counting nothing); the client asks
    until it is granted. ``record`` takes in the budget an answer reports,
    ``wait_after_429`` decides what a 429 means, ``state`` tells what is known.
    """

    def state(self, division: int | None) -> RateLimitState:
        """What is known of a division's budget now."""
        ...

    def reserve(self, division: int | None, now: dt.datetime, *, method: str, url: str) -> float:
        """Claim one call, or say how long to wait first."""
        ...

    def record(self, division: int | None, headers: Mapping[str, str]) -> RateLimitState | None:
        """Take in the ``X-RateLimit-*`` headers of an answer."""
        ...

    def wait_after_429(
        self, division: int | None, headers: Mapping[str, str], now: dt.datetime
    ) -> float | None:
        """Seconds to wait after a 429, or ``None`` when the day is used up."""
        ...


# --------------------------------------------------------------------------- shared budgets
#
# A budget many workers draw from (kept in a database row, one per app and division) is
# counted differently from the per-process one above: every grant is counted at once,
# before the call is sent, so calls in flight in other workers are never forgotten; an
# answer's headers can only lower what is left in its window (min of ours and Exact's),
# never raise it, because Exact has not yet seen the calls other workers are sending; and
# when a window ends, the next one starts with the full limit rather than "unknown", so
# workers waiting for the reset do not all rush in at once.

_MINUTE = dt.timedelta(minutes=1)
_DAY = dt.timedelta(days=1)


@attrs.frozen
class SharedWindow:
    """One window (the minute or the day) of a shared budget.

    ``reset`` is when the window ends (``None``: no call seen yet); ``estimated``
    says whether that moment was inferred (the window after a known one) rather
    than reported by Exact, so the next answer may correct it. ``carry`` counts the
    calls granted in the window's last ``margin`` seconds: they may reach Exact after
    the reset, so the next window starts with that many fewer.
    """

    limit: int
    remaining: int
    reset: dt.datetime | None = None
    estimated: bool = True
    carry: int = 0

    def rolled(self, now: dt.datetime, length: dt.timedelta) -> SharedWindow:
        """This window as it stands at ``now``: a new full one once its reset has passed."""
        if self.reset is None or now < self.reset:
            return self
        periods = (now - self.reset) // length + 1
        # Late arrivals can only land in the window right after this one.
        remaining = self.limit - self.carry if periods == 1 else self.limit
        return SharedWindow(self.limit, remaining, self.reset + periods * length, True)

    def granted(self, now: dt.datetime, margin: float) -> SharedWindow:
        """This window after granting one call at ``now``."""
        late = self.reset is not None and (self.reset - now).total_seconds() < margin
        return attrs.evolve(self, remaining=self.remaining - 1, carry=self.carry + int(late))

    def reported(
        self, limit: int | None, remaining: int | None, reset: dt.datetime | None, now: dt.datetime
    ) -> SharedWindow:
        """Take in what an answer said of this window (stale answers are ignored)."""
        if remaining is None or reset is None or reset <= now:
            return self  # nothing usable, or a window that is already over
        new_limit = limit if limit is not None and limit > 0 else self.limit
        if self.reset is not None and reset < self.reset and not self.estimated:
            return self  # an answer from before the window we know
        # The same window, or Exact's differs from our estimate: take Exact's reset and
        # the lower count (Exact has not seen the calls other workers are sending).
        return SharedWindow(new_limit, min(self.remaining, remaining), reset, False, self.carry)


def _start_window(window: SharedWindow, now: dt.datetime, length: dt.timedelta) -> SharedWindow:
    if window.reset is None:
        # No answer yet: assume a window that started now; the first answer corrects it.
        return attrs.evolve(window, reset=now + length, estimated=True)
    return window


@attrs.frozen
class SharedBudget:
    """The shared budget of one app in one division: the minute and the day.

    Pure values; :class:`~exactbridge.exact.PostgresRateLimiter` keeps one per row and
    changes it with the functions below inside a transaction that locks the row.
    """

    minute: SharedWindow
    day: SharedWindow

    @classmethod
    def new(cls, minutely_limit: int = 60, daily_limit: int = 5000) -> SharedBudget:
        """A budget no answer has reported on yet (Exact's documented limits)."""
        return cls(
            SharedWindow(minutely_limit, minutely_limit), SharedWindow(daily_limit, daily_limit)
        )

    def state(self) -> RateLimitState:
        """As a :class:`RateLimitState` (for reports and :meth:`RateBudget.state`)."""
        return RateLimitState(
            daily_limit=self.day.limit,
            daily_remaining=self.day.remaining,
            daily_reset=self.day.reset,
            minutely_limit=self.minute.limit,
            minutely_remaining=self.minute.remaining,
            minutely_reset=self.minute.reset,
        )

    def reserve(self, now: dt.datetime, margin: float) -> tuple[SharedBudget, float]:
        """Grant one call (wait ``0.0``) or say how long to wait before asking again.

        A wait of ``math.inf`` means the day is used up (the caller raises
        :class:`~exactbridge.errors.DailyRateLimitError`).
        """
        day = self.day.rolled(now, _DAY)
        minute = self.minute.rolled(now, _MINUTE)
        if day.remaining <= 0 and day.reset is not None:
            return SharedBudget(minute, day), float("inf")
        if minute.remaining <= 0 and minute.reset is not None:
            wait = (minute.reset - now).total_seconds() + margin
            return SharedBudget(minute, day), max(wait, 0.0)
        minute = _start_window(minute, now, _MINUTE)
        day = _start_window(day, now, _DAY)
        return SharedBudget(minute.granted(now, margin), day.granted(now, margin)), 0.0

    def record(self, state: RateLimitState, now: dt.datetime) -> SharedBudget:
        """Take in the headers of an answer."""
        minute = self.minute.rolled(now, _MINUTE).reported(
            state.minutely_limit, state.minutely_remaining, state.minutely_reset, now
        )
        day = self.day.rolled(now, _DAY).reported(
            state.daily_limit, state.daily_remaining, state.daily_reset, now
        )
        return SharedBudget(minute, day)

    def after_429(
        self, state: RateLimitState | None, now: dt.datetime, margin: float
    ) -> tuple[SharedBudget, float | None]:
        """A 429: the day is gone (``None``) or wait for the minute's reset."""
        if state is not None and state.has_daily and (state.daily_remaining or 0) <= 0:
            day_reset = state.daily_reset or now + _DAY
            return attrs.evolve(self, day=SharedWindow(self.day.limit, 0, day_reset, False)), None
        reported = state.minutely_reset if state is not None else None
        reset = reported if reported is not None and reported > now else now + _MINUTE
        # Without a reported reset the minute's end is a guess the next answer may correct.
        minute = SharedWindow(self.minute.limit, 0, reset, reset is not reported)
        wait = (reset - now).total_seconds() + margin
        return attrs.evolve(self, minute=minute), max(wait, 0.0)


_T = TypeVar("_T")


class SharedRateLimiterBase:
    """The :class:`RateBudget` methods of a limiter whose :class:`SharedBudget` lives in a
    store that several workers reach (PostgreSQL, Redis).

    A subclass sets ``_new`` (the budget before any answer), ``_margin`` and ``_clock``,
    and provides two primitives: ``_load(division)`` reads the stored budget (``None``
    when there is none yet) and ``_change(action, division, change)`` applies
    ``change(budget) -> (new budget, result)`` atomically (under a row lock, in a
    transaction, ...) and returns the result. ``action`` names what is being done, for
    the store's error messages.
    """

    _app: str
    _new: SharedBudget
    _margin: float
    _clock: Clock

    def _setup(
        self,
        owner: str,
        *,
        app: str,
        minutely_limit: int,
        daily_limit: int,
        margin: float,
        clock: Clock | None,
    ) -> None:
        """Check and keep the settings every shared limiter takes (``owner`` names it)."""
        given: object = app
        if not isinstance(given, str) or not given:
            raise ConfigurationError(
                f"got {app!r}", key=f"{owner}.app", expected="a non-empty string"
            )
        for key, value in (("minutely_limit", minutely_limit), ("daily_limit", daily_limit)):
            number: object = value
            if isinstance(number, bool) or not isinstance(number, int) or number < 1:
                raise ConfigurationError(
                    f"got {value!r}", key=f"{owner}.{key}", expected="a positive integer"
                )
        seconds: object = margin
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ConfigurationError(
                f"got {margin!r}", key=f"{owner}.margin", expected="a number of seconds >= 0"
            )
        self._app = app
        self._new = SharedBudget.new(minutely_limit, daily_limit)
        self._margin = float(margin)
        self._clock = clock or SystemClock()

    @property
    def app(self) -> str:
        """Whose budget this is (the Exact app, by name)."""
        return self._app

    @staticmethod
    def _division_key(division: int | None) -> int:
        """The stored key of ``division``: calls outside a division (``current/Me``) share 0."""
        return 0 if division is None else division

    def _load(self, division: int | None) -> SharedBudget | None:
        raise NotImplementedError

    def _change(
        self,
        action: str,
        division: int | None,
        change: Callable[[SharedBudget], tuple[SharedBudget, _T]],
    ) -> _T:
        raise NotImplementedError

    def state(self, division: int | None) -> RateLimitState:
        """What the store says of ``division``'s budget now (windows that ended are renewed)."""
        stored = self._load(division)
        budget = self._new if stored is None else stored
        now = self._clock.now()
        return SharedBudget(
            budget.minute.rolled(now, _MINUTE), budget.day.rolled(now, _DAY)
        ).state()

    def reserve(self, division: int | None, now: dt.datetime, *, method: str, url: str) -> float:
        """Grant one call (``0.0``) or return the seconds to wait before asking again.

        Raises :class:`~exactbridge.errors.DailyRateLimitError` when the division's day
        is used up.
        """

        def grant(budget: SharedBudget) -> tuple[SharedBudget, tuple[SharedBudget, float]]:
            after, wait = budget.reserve(now, self._margin)
            return after, (after, wait)

        budget, wait = self._change("take from the rate budget", division, grant)
        if wait == float("inf"):
            raise DailyRateLimitError(
                "the daily rate limit of this division is used up (shared budget)",
                status=429,
                method=method,
                url=url,
                reset_at=budget.day.reset,
            )
        return wait

    def record(self, division: int | None, headers: Mapping[str, str]) -> RateLimitState | None:
        """Fold an answer's ``X-RateLimit-*`` headers into the shared budget."""
        state = parse_rate_limit_headers(headers)
        if state is None:
            return None
        now = self._clock.now()
        self._change("record the rate budget", division, lambda b: (b.record(state, now), None))
        return state

    def wait_after_429(
        self, division: int | None, headers: Mapping[str, str], now: dt.datetime
    ) -> float | None:
        """After a 429: the seconds to wait, or ``None`` when the day is used up."""
        state = parse_rate_limit_headers(headers)
        return self._change(
            "record a 429 in the rate budget",
            division,
            lambda b: b.after_429(state, now, self._margin),
        )
