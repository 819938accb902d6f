"""The arithmetic of a shared rate budget (SharedBudget), without a database.

The property test plays several workers against a model of Exact's minute windows:
calls are granted by the budget, reach Exact up to half a second later, and their
answers come back in any order and any delay. Exact must never see more than its
limit in a minute.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactbridge.exact import RateLimitState, SharedBudget, SharedWindow

T0 = dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.timezone.utc)
MARGIN = 1.0


def _at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_a_new_budget_grants_exacts_documented_limits_then_waits_for_the_minute():
    budget = SharedBudget.new()
    for _ in range(60):
        budget, wait = budget.reserve(T0, MARGIN)
        assert wait == 0.0
    budget, wait = budget.reserve(T0, MARGIN)
    # No answer yet: the minute is assumed to have started with the first call.
    assert wait == pytest.approx(61.0)
    assert (budget.minute.remaining, budget.day.remaining) == (0, 4940)
    budget, wait = budget.reserve(_at(61), MARGIN)
    assert wait == 0.0
    assert budget.minute.remaining == 59


def test_an_answer_takes_exacts_window_and_the_lower_count():
    budget, _ = SharedBudget.new().reserve(T0, MARGIN)
    reset = dt.datetime(2026, 3, 2, 9, 1, tzinfo=dt.timezone.utc)
    seen = RateLimitState(minutely_limit=60, minutely_remaining=59, minutely_reset=reset)
    budget = budget.record(seen, T0)
    assert budget.minute == SharedWindow(60, 59, reset, estimated=False)
    lower = RateLimitState(minutely_limit=60, minutely_remaining=12, minutely_reset=reset)
    assert budget.record(lower, T0).minute.remaining == 12
    higher = RateLimitState(minutely_limit=60, minutely_remaining=59, minutely_reset=reset)
    assert budget.record(lower, T0).record(higher, T0).minute.remaining == 12


def test_answers_from_a_window_that_is_over_are_ignored():
    reset = dt.datetime(2026, 3, 2, 9, 1, tzinfo=dt.timezone.utc)
    budget = SharedBudget(SharedWindow(60, 40, reset, False), SharedBudget.new().day)
    old = RateLimitState(
        minutely_limit=60,
        minutely_remaining=2,
        minutely_reset=reset - dt.timedelta(minutes=1),
    )
    assert budget.record(old, T0) == budget


def test_a_new_window_starts_full_minus_the_calls_granted_at_the_very_end():
    reset = dt.datetime(2026, 3, 2, 9, 1, tzinfo=dt.timezone.utc)
    budget = SharedBudget(SharedWindow(60, 3, reset, False), SharedBudget.new().day)
    just_before = reset - dt.timedelta(seconds=0.4)
    for _ in range(3):
        budget, wait = budget.reserve(just_before, MARGIN)
        assert wait == 0.0
    assert budget.minute.carry == 3
    budget, wait = budget.reserve(reset + dt.timedelta(seconds=2), MARGIN)
    assert wait == 0.0
    # 3 calls may have reached Exact after the reset, plus this one.
    assert budget.minute.remaining == 56
    assert budget.minute.reset == reset + dt.timedelta(minutes=1)
    # Long after, nothing carries over.
    later, _ = budget.reserve(reset + dt.timedelta(minutes=5, seconds=2), MARGIN)
    assert later.minute.remaining == 59


def test_a_429_for_the_minute_waits_for_its_reset_and_one_for_the_day_ends_the_day():
    reset = _at(20)
    minute = RateLimitState(minutely_limit=60, minutely_remaining=0, minutely_reset=reset)
    budget, wait = SharedBudget.new().after_429(minute, T0, MARGIN)
    assert wait == pytest.approx(21.0)
    assert budget.reserve(_at(5), MARGIN)[1] == pytest.approx(16.0)
    day_reset = _at(3600)
    day = RateLimitState(daily_limit=5000, daily_remaining=0, daily_reset=day_reset)
    budget, wait = SharedBudget.new().after_429(day, T0, MARGIN)
    assert wait is None
    assert budget.reserve(_at(10), MARGIN)[1] == float("inf")
    assert budget.reserve(day_reset, MARGIN)[1] == 0.0


def test_a_bare_429_waits_a_full_minute():
    budget, wait = SharedBudget.new().after_429(None, T0, MARGIN)
    assert wait == pytest.approx(61.0)
    assert budget.minute.estimated


# -- several workers against a model of Exact -----------------------------------------------


class ModelExact:
    """Exact's fixed minute windows (aligned to the minute, as the fake's are)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: dict[dt.datetime, int] = {}

    def call(self, now: dt.datetime) -> RateLimitState:
        window = now.replace(second=0, microsecond=0)
        self.counts[window] = self.counts.get(window, 0) + 1
        return RateLimitState(
            minutely_limit=self.limit,
            minutely_remaining=max(self.limit - self.counts[window], 0),
            minutely_reset=window + dt.timedelta(minutes=1),
        )


steps = st.lists(
    st.tuples(
        st.integers(0, 3),  # which worker acts
        st.sampled_from(["call", "call", "call", "answer", "tick"]),
        st.floats(0.0, 0.5),  # how long the call is on its way / how far time ticks
        st.integers(0, 5),  # which waiting answer is delivered
    ),
    min_size=1,
    max_size=400,
)


@settings(max_examples=150, deadline=None)
@given(steps=steps, limit=st.sampled_from([5, 60]))
def test_workers_sharing_a_budget_never_exceed_exacts_minute(
    steps: list[tuple[int, str, float, int]], limit: int
):
    exact = ModelExact(limit)
    budget = SharedBudget.new(minutely_limit=limit)
    now = T0
    sleeping: dict[int, dt.datetime] = {}
    answers: list[RateLimitState] = []
    for worker, action, delay, pick in steps:
        if worker in sleeping:
            if len(sleeping) < 4:
                continue  # time moves only when every worker waits
            now = max(now, min(sleeping.values()))
            sleeping = {w: t for w, t in sleeping.items() if t > now}
            continue
        if action == "tick":
            now += dt.timedelta(seconds=delay)
        elif action == "answer" and answers:
            budget = budget.record(answers.pop(pick % len(answers)), now)
        else:
            budget, wait = budget.reserve(now, MARGIN)
            if wait > 0:
                sleeping[worker] = now + dt.timedelta(seconds=wait)
                continue
            # The call reaches Exact a little later; its answer waits to be read.
            answers.append(exact.call(now + dt.timedelta(seconds=delay)))
    assert all(count <= limit for count in exact.counts.values()), exact.counts
