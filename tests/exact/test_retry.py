"""Retry decisions: reads only, never 4xx, capped backoff, isolated jitter."""

from __future__ import annotations

import pytest

from exactbridge.exact._retry import RetryPolicy

DETERMINISTIC = RetryPolicy(attempts=4, backoff=0.5, max_backoff=3.0, jitter=lambda c: c)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "post"])
def test_writes_are_never_retried_on_server_errors_or_transport_errors(method):
    assert DETERMINISTIC.retry_server_error(method, 500, 1) is None
    assert DETERMINISTIC.retry_server_error(method, 503, 1) is None
    assert DETERMINISTIC.retry_transport_error(method, 1) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 409, 422])
def test_client_errors_are_never_retried(status):
    assert DETERMINISTIC.retry_server_error("GET", status, 1) is None


def test_reads_back_off_exponentially_up_to_the_cap_and_stop_after_the_attempts():
    waits = [DETERMINISTIC.retry_server_error("GET", 502, attempt) for attempt in (1, 2, 3, 4)]
    assert waits == [0.5, 1.0, 2.0, None]
    capped = RetryPolicy(attempts=10, backoff=1.0, max_backoff=3.0, jitter=lambda c: c)
    assert capped.retry_transport_error("GET", 5) == 3.0


def test_jitter_receives_the_ceiling_and_its_result_is_clamped():
    seen: list[float] = []

    def jitter(ceiling: float) -> float:
        seen.append(ceiling)
        return ceiling * 10

    policy = RetryPolicy(backoff=1.0, max_backoff=4.0, jitter=jitter)
    assert policy.backoff_for(2) == 4.0
    assert seen == [2.0]


def test_default_jitter_stays_within_the_ceiling():
    policy = RetryPolicy(backoff=2.0, max_backoff=8.0)
    for attempt in range(1, 6):
        wait = policy.backoff_for(attempt)
        assert 0.0 <= wait <= min(8.0, 2.0 * 2 ** (attempt - 1))


def test_invalid_policies_are_refused():
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
