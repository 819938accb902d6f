"""The shared rate budgets on real servers: PostgresRateLimiter and RedisRateLimiter.

Every test runs on both: on PostgreSQL (marked ``postgres``, needs
``EXACTBRIDGE_TEST_POSTGRES``) and on Redis (marked ``redis``, needs
``EXACTBRIDGE_TEST_REDIS``); ``.ci/run`` starts both servers. Without one, its half is
skipped and says why. The last test plays four workers against the fake Exact Online
on shared virtual time.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from exactbridge.errors import ConfigurationError, DailyRateLimitError, ExactBridgeError
from exactbridge.exact import PostgresRateLimiter, RateBudget, RedisRateLimiter
from exactbridge.testing import FakeClock, FakeExactOnline, VirtualTime

T0 = dt.datetime(2026, 3, 2, 9, 0, 10, tzinfo=dt.timezone.utc)
DIVISION = 1001

#: make(app="app-1", clock=None) -> a new limiter on the server under test.
Make = Callable[..., Any]


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
def make(request: pytest.FixtureRequest) -> Iterator[Make]:
    """Limiters on one server, sharing one namespace (a schema or a key prefix) per test."""
    made: list[Any] = []
    if request.param == "postgres":
        conninfo = request.getfixturevalue("postgres_conninfo")
        schema = request.getfixturevalue("postgres_schema")

        def new(app: str = "app-1", clock: Any = None) -> Any:
            limiter = PostgresRateLimiter(conninfo, schema=schema, app=app, clock=clock)
            made.append(limiter)
            return limiter

        yield new
    else:
        url = request.getfixturevalue("redis_url")
        prefix = f"test:{uuid.uuid4().hex[:12]}"

        def new(app: str = "app-1", clock: Any = None) -> Any:
            limiter = RedisRateLimiter(url, prefix=prefix, app=app, clock=clock)
            made.append(limiter)
            return limiter

        yield new
        import redis

        with redis.Redis.from_url(url) as client:
            for key in client.scan_iter(f"{prefix}:*"):
                client.delete(key)
    for limiter in made:
        limiter.close()


def _headers(minutely: int, daily: int, minute_reset: dt.datetime, day_reset: dt.datetime):
    return {
        "X-RateLimit-Minutely-Limit": "60",
        "X-RateLimit-Minutely-Remaining": str(minutely),
        "X-RateLimit-Minutely-Reset": str(int(minute_reset.timestamp() * 1000)),
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": str(daily),
        "X-RateLimit-Reset": str(int(day_reset.timestamp() * 1000)),
    }


def test_both_are_rate_budgets(make: Make):
    assert isinstance(make(), RateBudget)


def test_every_grant_is_counted_in_the_shared_budget(make: Make):
    limiter, other, third = make(clock=FakeClock(T0)), make(), make(app="app-2")
    for _ in range(30):
        assert limiter.reserve(DIVISION, T0, method="GET", url="u") == 0.0
        assert other.reserve(DIVISION, T0, method="GET", url="u") == 0.0
    # 60 granted between the two: the 61st waits for the minute (plus the 1 s margin).
    assert other.reserve(DIVISION, T0, method="GET", url="u") == pytest.approx(61.0)
    state = limiter.state(DIVISION)
    assert (state.minutely_remaining, state.daily_remaining) == (0, 4940)
    # Another app and another division have budgets of their own.
    assert third.reserve(DIVISION, T0, method="GET", url="u") == 0.0
    assert limiter.reserve(DIVISION + 1, T0, method="GET", url="u") == 0.0


def test_an_answer_lowers_the_count_but_never_raises_it(make: Make):
    limiter = make(clock=FakeClock(T0))
    for _ in range(10):
        limiter.reserve(DIVISION, T0, method="GET", url="u")
    minute_reset, day_reset = T0 + dt.timedelta(seconds=50), T0 + dt.timedelta(hours=10)
    # Exact has seen only 3 of our 10 calls: the other 7 are still on their way.
    limiter.record(DIVISION, _headers(57, 4997, minute_reset, day_reset))
    assert limiter.state(DIVISION).minutely_remaining == 50
    # Another app of this user spent more than we did: Exact's lower count wins.
    limiter.record(DIVISION, _headers(20, 4000, minute_reset, day_reset))
    state = limiter.state(DIVISION)
    assert (state.minutely_remaining, state.daily_remaining) == (20, 4000)
    assert state.minutely_reset == minute_reset
    assert state.daily_reset == day_reset


def test_a_used_up_day_raises_for_every_worker(make: Make):
    limiter, other = make(), make()
    reset = T0 + dt.timedelta(hours=14)
    headers = {
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(int(reset.timestamp() * 1000)),
    }
    assert limiter.wait_after_429(DIVISION, headers, T0) is None
    with pytest.raises(DailyRateLimitError) as caught:
        other.reserve(DIVISION, T0 + dt.timedelta(hours=1), method="GET", url="u")
    assert caught.value.reset_at == reset
    # After the reset the day starts again.
    assert other.reserve(DIVISION, reset + dt.timedelta(seconds=1), method="GET", url="u") == 0.0


def test_a_429_without_headers_waits_a_minute_for_everyone(make: Make):
    limiter, other = make(), make()
    assert limiter.wait_after_429(DIVISION, {}, T0) == pytest.approx(61.0)
    assert other.reserve(DIVISION, T0 + dt.timedelta(seconds=30), method="GET", url="u") == (
        pytest.approx(31.0)
    )


@pytest.mark.parametrize("shared", [False, True], ids=["a-limiter-each", "one-limiter"])
def test_grants_from_many_threads_never_exceed_the_minute(make: Make, shared: bool):
    one = make()
    limiters = [one] * 4 if shared else [one, *(make() for _ in range(3))]
    granted: list[int] = []
    lock = threading.Lock()

    def take(limiter: Any) -> None:
        for _ in range(40):
            if limiter.reserve(DIVISION, T0, method="GET", url="u") == 0.0:
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=take, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    # 160 asked at one moment, by four threads: exactly one minute's worth granted.
    assert len(granted) == 60


WORKERS = 4
CALLS_EACH = 45


def _limited_worker(
    fake: FakeExactOnline, limiter: Any, vtime: VirtualTime, worker: int, outcomes: list[str]
) -> None:
    clock = vtime.clock(worker)
    try:
        with fake.client(DIVISION, clock=clock, rate_limiter=limiter) as client:
            for _ in range(CALLS_EACH):
                try:
                    client.gl_accounts.list(top=1)
                    outcomes.append("ok")
                except Exception as exc:  # recorded and asserted on below
                    outcomes.append(f"{type(exc).__name__}: {exc}")
    finally:
        clock.finish()


def test_workers_sharing_the_budget_never_exceed_exacts_minute(make: Make):
    vtime = VirtualTime(WORKERS, T0, context=multiprocessing.get_context("fork"))
    fake = FakeExactOnline(clock=vtime.observer())
    fake.add_division(DIVISION)
    limiters = [make(clock=vtime.observer()) for _ in range(WORKERS)]
    outcomes: list[str] = []
    threads = [
        threading.Thread(target=_limited_worker, args=(fake, limiters[i], vtime, i, outcomes))
        for i in range(WORKERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert outcomes == ["ok"] * (WORKERS * CALLS_EACH)
    api = [c for c in fake.calls if c.division == DIVISION]
    assert len(api) == WORKERS * CALLS_EACH
    # Exact never had to refuse a call, and no minute saw more than 60.
    assert [c.status for c in api if c.status != 200] == []
    per_minute = Counter(c.at.replace(second=0, microsecond=0) for c in api)
    assert max(per_minute.values()) <= 60
    # 180 calls at 60 a minute need at least three windows of virtual time.
    assert len(per_minute) >= 3


# -- Redis only ------------------------------------------------------------------------------


def test_redis_errors_name_the_server_but_never_the_password():
    canary = "canary-redis-password-5d1e"
    # Nothing listens on port 1: the first call fails.
    limiter = RedisRateLimiter(f"redis://:{canary}@127.0.0.1:1/0", socket_timeout=2)
    assert canary not in repr(limiter)
    with pytest.raises(ExactBridgeError) as caught:
        limiter.reserve(DIVISION, T0, method="GET", url="u")
    assert "127.0.0.1:1/0" in str(caught.value)
    assert canary not in str(caught.value)
    assert canary not in repr(caught.value)
    limiter.close()


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"url": "http://cache:6379"}, "url"),
        ({"url": "redis://cache", "app": ""}, "app"),
        ({"url": "redis://cache", "minutely_limit": 0}, "minutely_limit"),
        ({"url": "redis://cache", "daily_limit": True}, "daily_limit"),
        ({"url": "redis://cache", "margin": -1}, "margin"),
        ({"url": "redis://cache", "prefix": ""}, "prefix"),
    ],
)
def test_redis_settings_are_checked(options: dict[str, Any], key: str):
    with pytest.raises(ConfigurationError, match=key):
        RedisRateLimiter(**options)


@pytest.mark.parametrize(
    ("options", "key"),
    [({"app": ""}, "app"), ({"minutely_limit": 0}, "minutely_limit"), ({"margin": "1"}, "margin")],
)
def test_postgres_settings_are_checked_before_connecting(options: dict[str, Any], key: str):
    # No server needed: the settings are refused before any connection is made.
    with pytest.raises(ConfigurationError, match=key):
        PostgresRateLimiter("host=127.0.0.1 port=1 dbname=none", **options)
