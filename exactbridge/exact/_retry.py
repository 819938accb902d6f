"""When to try a request again, and how long to wait (pure decisions, no I/O).

The rules follow Exact Online's constraints:

* Only reads (``GET``) are retried on 5xx answers, timeouts and connection errors.
  Exact reports business-rule failures on writes as 500, and a write whose answer
  got lost may have been booked: the client raises
  :class:`~exactbridge.errors.OutcomeUnknownError` and never repeats it blindly.
* A 4xx is never retried: Exact blocks an app key after about ten 4xx answers per
  endpoint per hour.
* A 429 for the minute is waited out and the request sent again, for any method:
  Exact refused it without processing it. A 429 for the day ends the attempt.

Backoff is exponential with a cap and "full jitter"; the random part lives in one
replaceable callable so tests are deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs

__all__ = ["RETRYABLE_METHODS", "RetryPolicy"]

RETRYABLE_METHODS = frozenset({"GET", "HEAD"})


def _full_jitter(ceiling: float) -> float:
    # Jitter spreads retries of many workers; it needs no cryptographic randomness.
    return random.uniform(0.0, ceiling)


@attrs.frozen
class RetryPolicy:
    """How often and how patiently a client retries.

    ``attempts`` counts the first try: 4 means up to three retries. ``backoff`` is the
    first wait in seconds, doubled each retry up to ``max_backoff``. ``jitter`` maps
    the computed ceiling to the actual wait (default: uniform between 0 and the
    ceiling); pass ``lambda ceiling: ceiling`` for deterministic tests.
    ``wait_for_minutely_limit=False`` makes a minutely 429 raise
    :class:`~exactbridge.errors.MinutelyRateLimitError` instead of waiting.
    """

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    backoff: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    max_backoff: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    jitter: Callable[[float], float] = attrs.field(default=_full_jitter, eq=False, repr=False)
    wait_for_minutely_limit: bool = True
    max_rate_limit_waits: int = attrs.field(default=5, validator=attrs.validators.ge(0))

    def backoff_for(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return max(0.0, min(self.jitter(ceiling), self.max_backoff))

    def retry_server_error(self, method: str, status: int, attempt: int) -> float | None:
        """Wait before retrying a 5xx answer, or ``None`` to give up."""
        if method.upper() not in RETRYABLE_METHODS or status < 500 or attempt >= self.attempts:
            return None
        return self.backoff_for(attempt)

    def retry_transport_error(self, method: str, attempt: int) -> float | None:
        """Wait before retrying a timeout or connection error, or ``None`` to give up."""
        if method.upper() not in RETRYABLE_METHODS or attempt >= self.attempts:
            return None
        return self.backoff_for(attempt)
