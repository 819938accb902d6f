"""The Celery task end to end: a real worker thread on a real Redis broker.

Each test gets its own Celery app (broker and result backend: the Redis server named
by ``EXACTBRIDGE_TEST_REDIS``, on a queue of its own) and an embedded worker
(``celery.contrib.testing.worker.start_worker``, thread pool). The host's factory
builds a real :class:`~exactbridge.sync.InvoicePipeline` per call: a fake Virtuagym
club per division, one ``FakeExactOnline`` holding three divisions, an SQLite state
store per division. Exact is read back through the Exact client.

Without a Redis server the tests are skipped, saying why.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

pytest.importorskip("celery", reason="not run: Celery is not installed (exactbridge[celery])")

import celery
import celery.contrib.testing.tasks  # registers celery.ping, which start_worker sends
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from celery.signals import task_retry

from exactbridge.errors import ConfigurationError
from exactbridge.exact import RateLimitState
from exactbridge.mapping import BookingConfig
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import (
    InvoicePipeline,
    RunLock,
    RunStatus,
    SQLiteStateStore,
    SyncReport,
    VirtuagymInvoices,
)
from exactbridge.sync.celery import (
    DEFAULT_TASK_NAME,
    beat_schedule,
    budget_delay,
    enqueue_sync,
    register_sync_task,
)
from exactbridge.testing import FakeClock, FakeExactOnline
from exactbridge.testing.virtuagym import FakeVirtuagym

pytestmark = [pytest.mark.celery]

DIVISIONS = (1001, 1002, 1003)
PIPELINE = "virtuagym"
START = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.timezone.utc)
WAIT = 30.0  # seconds a test waits at most for a result (real time)

CONFIG = {
    "sales_journal": "70",
    "debtor": {"guest_debtor_code": "1"},
    "credit_notes": {"mode": "negative_entry"},
    "vat": {"codes": {"1": "2", "2": "1", "0": "0"}},
    "ledger": {"default_account": "8000", "by_vat_category": {"2": "8010"}},
    "numbering": {"enabled": False},
}


class Built:
    """What the factory returns: the pipeline, as a context manager closing what it opened."""

    def __init__(self, world: World, division: int) -> None:
        self.world = world
        self.division = division
        self.store = SQLiteStateStore(world.state_path(division))
        self.exact = world.exact.client(division)
        vg = world.clubs[division]
        source = VirtuagymInvoices(
            VirtuagymClient(vg.credentials, transport=vg.transport(), clock=world.clock)
        )
        self.pipeline = InvoicePipeline(
            source,
            self.exact,
            BookingConfig.from_mapping(CONFIG),
            self.store,
            name=f"{PIPELINE}-invoices",
            clock=world.clock,
        )
        self.name = self.pipeline.name

    def run(self) -> SyncReport:
        self.world.on_run(self.division)
        report = self.pipeline.run()
        with self.world.lock:
            self.world.runs[self.division] += 1
        return report

    def __enter__(self) -> Built:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.store.close()
        self.exact.close()
        with self.world.lock:
            self.world.closed += 1


@attrs.define
class World:
    """The fakes of three divisions and what the factory did with them."""

    tmp: Path
    clock: FakeClock
    exact: FakeExactOnline
    clubs: dict[int, FakeVirtuagym]
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    built: dict[int, int] = attrs.field(factory=lambda: dict.fromkeys(DIVISIONS, 0))
    runs: dict[int, int] = attrs.field(factory=lambda: dict.fromkeys(DIVISIONS, 0))
    closed: int = 0
    #: Called inside the run lock, before the pipeline runs (a test may block here).
    hook: Callable[[int], None] | None = None

    def state_path(self, division: int) -> Path:
        return self.tmp / f"state-{division}.sqlite3"

    def factory(self, division: int, pipeline: str) -> Built:
        assert pipeline == PIPELINE
        with self.lock:
            self.built[division] += 1
        # Real time passes between a request and the run that serves it; the fake
        # clock is told so (a run never starts at the very moment it was asked for).
        self.clock.advance(1)
        return Built(self, division)

    def on_run(self, division: int) -> None:
        if self.hook is not None:
            self.hook(division)

    def invoice(self, division: int, member: int, price: str = "39.95") -> dict[str, Any]:
        return self.clubs[division].add_invoice(
            member_id=member,
            invoice_date=dt.date(2025, 6, 1),
            rows=[{"name": "Abonnement juni", "price": Decimal(price), "tax": 2}],
        )

    def entries(self, division: int) -> dict[str, Any]:
        """Sales entries by YourRef; one booked twice fails the test."""
        with self.exact.client(division) as exact:
            found = list(exact.sales_entries.iterate())
        refs = [entry.your_ref for entry in found]
        assert len(refs) == len(set(refs)), f"booked more than once: {sorted(refs)}"
        return {entry.your_ref: entry for entry in found}


@pytest.fixture
def world(tmp_path: Path) -> World:
    clock = FakeClock(START)
    exact = FakeExactOnline(clock=clock)
    clubs: dict[int, FakeVirtuagym] = {}
    for division in DIVISIONS:
        exact.add_division(division, template="nl", customers=["Kassaverkoop"])
        clubs[division] = FakeVirtuagym(clock=clock)
    found = World(tmp_path, clock, exact, clubs)
    for index, division in enumerate(DIVISIONS):
        # 2, 3 and 4 invoices: every division has its own books.
        for member in range(index + 2):
            clubs[division].add_member(
                member_id=100 + member, firstname="Lid", lastname=str(member)
            )
            found.invoice(division, 100 + member)
    return found


@attrs.define
class FakeBudget:
    """A rate limiter's view of the budget: ``states`` are handed out in turn, then ``fresh``."""

    states: list[RateLimitState]
    asked: list[int] = attrs.field(factory=list)

    def state(self, division: int) -> RateLimitState:
        self.asked.append(division)
        if self.states:
            return self.states.pop(0)
        return RateLimitState(daily_remaining=4000, minutely_remaining=60)


@pytest.fixture
def app(redis_url: str) -> Iterator[celery.Celery]:
    """A Celery app on the test Redis, with a queue of its own (no other test's messages).

    Every thread gets a result backend of its own (each with Redis connections); they
    are recorded as they are made and disconnected at the end, so no socket is left to
    the garbage collector (``filterwarnings=error`` would turn that into an error).
    """
    queue = f"exactbridge-test-{uuid.uuid4().hex[:12]}"
    app = celery.Celery(f"exactbridge-test-{queue}", broker=redis_url, backend=redis_url)
    app.conf.update(
        task_default_queue=queue,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        result_expires=600,
        worker_hijack_root_logger=False,
        worker_prefetch_multiplier=1,
        task_track_started=True,
    )
    backends: list[Any] = []
    make_backend = app._get_backend

    def recorded() -> Any:
        backend = make_backend()
        backends.append(backend)
        return backend

    app._get_backend = recorded
    yield app
    # AsyncResults of the test that sit in reference cycles unsubscribe from the result
    # channel when collected; collect them now, while their consumer is still open
    # (collected later, in another test, each would reconnect and leave a socket).
    gc.collect()
    for backend in backends:
        consumer = getattr(backend, "result_consumer", None)
        if consumer is not None and getattr(consumer, "_pubsub", None) is not None:
            consumer.stop()
        if "client" in vars(backend):  # only a client that was made
            backend.client.connection_pool.disconnect()
    app.close()


@attrs.define
class Retries:
    """The retries the worker decided on: (task id, countdown) in order."""

    seen: list[tuple[str, Any]] = attrs.field(factory=list)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def __call__(self, sender: Any = None, request: Any = None, reason: Any = None, **_: Any):
        with self.lock:
            self.seen.append((request.id, getattr(reason, "when", None)))

    def of(self, task_id: str) -> list[Any]:
        with self.lock:
            return [when for seen_id, when in self.seen if seen_id == task_id]

    def wait_for(self, task_id: str, count: int = 1) -> list[Any]:
        deadline = time.monotonic() + WAIT
        while len(self.of(task_id)) < count:
            assert time.monotonic() < deadline, f"task {task_id} was not retried {count} times"
            time.sleep(0.02)
        return self.of(task_id)


@pytest.fixture
def retries() -> Iterator[Retries]:
    seen = Retries()
    task_retry.connect(seen, weak=False)
    yield seen
    task_retry.disconnect(seen)


@pytest.fixture
def worker(app: celery.Celery) -> Callable[..., Any]:
    """Start the embedded worker (after the test registered its task): ``with worker():``."""

    def start(concurrency: int = 4) -> Any:
        return start_worker(
            app,
            pool="threads",
            concurrency=concurrency,
            perform_ping_check=True,
            shutdown_timeout=30.0,
        )

    return start


def _register(app: celery.Celery, world: World, **options: Any) -> Any:
    options.setdefault("busy_retry_seconds", 0.3)
    options.setdefault("clock", world.clock)
    return register_sync_task(app, world.factory, **options)


def _wait_until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# -- booking through the worker ------------------------------------------------------------


def test_three_divisions_book_each_invoice_once_even_when_enqueued_twice(
    app, world, worker, retries
):
    task = _register(app, world)
    started = threading.Event()
    release = threading.Event()

    def hold_first_run_of_1001(division: int) -> None:
        if division == 1001 and not started.is_set():
            started.set()
            assert release.wait(WAIT)

    world.hook = hold_first_run_of_1001
    with worker():
        first = task.delay(1001, PIPELINE)
        assert started.wait(WAIT)
        # The same (division, pipeline) again while the first run holds the lock.
        second = task.delay(1001, PIPELINE)
        others = [task.delay(division, PIPELINE) for division in (1002, 1003)]
        # The second one finds the pipeline busy and is retried after busy_retry_seconds.
        assert retries.wait_for(second.id) == [0.3]
        release.set()
        first_summary = first.get(timeout=WAIT)
        second_summary = second.get(timeout=WAIT)
        other_summaries = [result.get(timeout=WAIT) for result in others]

    assert first_summary["ok"] is True
    assert first_summary["status"] == "succeeded"
    assert first_summary["division"] == 1001
    assert first_summary["pipeline"] == PIPELINE
    assert first_summary["name"] == "virtuagym-invoices"
    assert first_summary["counts"]["booked"] == 2
    # The retried duplicate ran after the first and found everything booked.
    assert second_summary["status"] == "succeeded"
    assert second_summary["counts"]["booked"] == 0
    assert second_summary["counts"]["unchanged"] == 2
    assert [(s["division"], s["counts"]["booked"]) for s in other_summaries] == [
        (1002, 3),
        (1003, 4),
    ]

    for division, invoices in zip(DIVISIONS, (2, 3, 4), strict=True):
        entries = world.entries(division)
        assert len(entries) == invoices
        assert all(entry.amount_fc == Decimal("39.95") for entry in entries.values())
    assert world.runs == {1001: 2, 1002: 1, 1003: 1}
    # Every pipeline the factory built was closed again, busy attempts included (the
    # duplicate was built once per attempt: at least the busy one and the run).
    assert world.built[1001] >= 3
    assert world.closed == sum(world.built.values())
    assert retries.of(first.id) == []


def test_a_lock_held_elsewhere_is_retried_until_it_is_free(app, world, worker, retries):
    task = _register(app, world)
    elsewhere = RunLock(world.state_path(1002), "virtuagym-invoices")
    assert elsewhere.try_acquire()
    try:
        with worker():
            result = task.delay(1002, PIPELINE)
            # Retried, not waited on inside the worker: nothing ran meanwhile.
            assert retries.wait_for(result.id, count=3)[:3] == [0.3, 0.3, 0.3]
            assert world.runs[1002] == 0
            assert world.entries(1002) == {}
            elsewhere.release()
            summary = result.get(timeout=WAIT)
    finally:
        if elsewhere.held:
            elsewhere.release()
    assert summary["status"] == "succeeded"
    assert summary["counts"]["booked"] == 3
    assert len(world.entries(1002)) == 3
    assert world.runs[1002] == 1


def test_busy_beyond_max_retries_ends_as_busy_without_running(app, world, worker, retries):
    task = _register(app, world, max_retries=1)
    elsewhere = RunLock(world.state_path(1003), "virtuagym-invoices")
    assert elsewhere.try_acquire()
    try:
        with worker():
            summary = task.delay(1003, PIPELINE).get(timeout=WAIT)
    finally:
        elsewhere.release()
    assert summary["status"] == "busy"
    assert summary["ok"] is False
    assert "busy" in summary["notes"]
    assert world.runs[1003] == 0
    assert world.built[1003] == 2  # the first attempt and its one retry


# -- the shared budget and Exact's limits -------------------------------------------------------


def test_a_used_up_daily_budget_is_not_run_but_retried_at_the_reset(app, world, worker, retries):
    reset = START + dt.timedelta(hours=3)
    budget = FakeBudget(
        [RateLimitState(daily_limit=5000, daily_remaining=0, daily_reset=reset)] * 5
    )
    task = _register(app, world, budget=budget, reset_margin_seconds=5)
    with worker():
        result = task.delay(1001, PIPELINE)
        (countdown,) = retries.wait_for(result.id)
        _wait_until(lambda: result.state == "RETRY", "the RETRY state")
    # The factory advanced the fake clock by one second before the budget was read.
    assert countdown == pytest.approx(3 * 3600 - 1 + 5)
    assert budget.asked == [1001]
    assert world.runs[1001] == 0
    assert world.entries(1001) == {}


def test_a_used_up_minute_waits_for_its_reset_then_runs(app, world, worker, retries):
    now = START + dt.timedelta(seconds=1)  # after the factory's one-second step
    budget = FakeBudget(
        [
            RateLimitState(
                daily_remaining=4000,
                daily_reset=START + dt.timedelta(hours=15),
                minutely_remaining=0,
                minutely_reset=now + dt.timedelta(seconds=0.5),
            )
        ]
    )
    task = _register(app, world, budget=budget, reset_margin_seconds=0.25)
    with worker():
        result = task.delay(1002, PIPELINE)
        summary = result.get(timeout=WAIT)
    assert retries.of(result.id) == [pytest.approx(0.75)]
    assert budget.asked == [1002, 1002]
    assert summary["counts"]["booked"] == 3
    assert world.runs[1002] == 1


def test_a_run_stopped_by_the_daily_limit_is_retried_at_exacts_reset(app, world, worker, retries):
    world.exact.daily_limit = 4  # division 1003 runs out in the middle of its first run
    task = _register(app, world, reset_margin_seconds=5)
    with worker():
        result = task.delay(1003, PIPELINE)
        (countdown,) = retries.wait_for(result.id)
        _wait_until(lambda: result.state == "RETRY", "the RETRY state")
        # Exact's day ends at midnight UTC; the countdown runs to it from the run's "now".
        midnight = dt.datetime(2025, 6, 3, tzinfo=dt.timezone.utc)
        assert countdown == pytest.approx((midnight - world.clock.now()).total_seconds() + 5)
    assert world.runs[1003] == 1
    world.exact.daily_limit = 5000  # so the test can read the books back
    with SQLiteStateStore(world.state_path(1003)) as store:
        (run,) = store.recent_runs("virtuagym-invoices")
    assert run.status is RunStatus.STOPPED
    assert "daily limit" in run.notes
    assert len(world.entries(1003)) < 4


# -- webhooks -----------------------------------------------------------------------------


def test_a_burst_of_webhooks_books_the_new_invoice_once_in_at_most_two_runs(
    app, world, worker, retries
):
    task = _register(app, world)
    with worker():
        assert task.delay(1001, PIPELINE).get(timeout=WAIT)["counts"]["booked"] == 2
        world.clock.advance(600)
        world.invoice(1001, 100, price="59.95")  # the change the webhooks announce
        burst = [
            enqueue_sync(task, 1001, PIPELINE, countdown=0.5, clock=world.clock) for _ in range(6)
        ]
        summaries = [result.get(timeout=WAIT) for result in burst]

    statuses = sorted(summary["status"] for summary in summaries)
    booked = sum(summary["counts"].get("booked", 0) for summary in summaries)
    assert booked == 1
    assert world.runs[1001] - 1 in (1, 2), statuses
    assert statuses.count("covered") == 6 - (world.runs[1001] - 1)
    assert all(summary["ok"] for summary in summaries)
    entries = world.entries(1001)
    assert len(entries) == 3
    assert sorted(str(entry.amount_fc) for entry in entries.values()) == [
        "39.95",
        "39.95",
        "59.95",
    ]


def test_a_webhook_after_the_last_run_runs_again(app, world, worker, retries):
    task = _register(app, world)
    with worker():
        assert task.delay(1002, PIPELINE).get(timeout=WAIT)["counts"]["booked"] == 3
        world.clock.advance(60)
        summary = enqueue_sync(task, 1002, PIPELINE, clock=world.clock).get(timeout=WAIT)
    # The only finished run started before the webhook: it cannot have seen the change.
    assert summary["status"] == "succeeded"
    assert summary["counts"]["unchanged"] == 3
    assert world.runs[1002] == 2


# -- the pieces without a worker ----------------------------------------------------------------


def test_budget_delay_reads_the_day_first_and_ignores_passed_resets():
    now = START
    later = now + dt.timedelta(minutes=10)
    assert budget_delay(RateLimitState(), now) is None
    assert budget_delay(RateLimitState(daily_remaining=0, daily_reset=later), now, margin=0) == 600
    assert (
        budget_delay(
            RateLimitState(
                daily_remaining=0,
                daily_reset=later,
                minutely_remaining=0,
                minutely_reset=now + dt.timedelta(seconds=30),
            ),
            now,
            margin=1,
        )
        == 601
    )
    # The day's reset has passed: the budget renewed, the run may start.
    assert budget_delay(RateLimitState(daily_remaining=0, daily_reset=now), now) is None
    assert budget_delay(RateLimitState(daily_remaining=0), now) is None


def test_beat_schedule_every_two_hours_and_nightly():
    schedule = beat_schedule(
        [1001, 1002],
        ["virtuagym", "eduframe"],
        every=dt.timedelta(hours=2),
        nightly_at=dt.time(2, 30),
        options={"queue": "exactbridge"},
    )
    assert len(schedule) == 8
    every = schedule["exactbridge.sync:1001:virtuagym:every"]
    assert every == {
        "task": DEFAULT_TASK_NAME,
        "schedule": dt.timedelta(hours=2),
        "args": (1001, "virtuagym"),
        "options": {"queue": "exactbridge"},
    }
    nightly = schedule["exactbridge.sync:1002:eduframe:nightly"]["schedule"]
    assert isinstance(nightly, crontab)
    assert nightly == crontab(hour=2, minute=30)
    with pytest.raises(ConfigurationError, match="every="):
        beat_schedule([1001], ["virtuagym"])
    with pytest.raises(ConfigurationError, match="naive"):
        beat_schedule([1001], ["virtuagym"], nightly_at=dt.time(2, tzinfo=dt.timezone.utc))
    with pytest.raises(ConfigurationError, match="division"):
        beat_schedule(["1001"], ["virtuagym"], every=dt.timedelta(hours=2))


def test_register_sync_task_checks_its_arguments(world):
    app = celery.Celery("exactbridge-test-args")
    task = register_sync_task(app, world.factory, name="books.sync", max_retries=3)
    assert task.name == "books.sync"
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True  # see test_celery_worker_lost.py
    assert task.max_retries == 3
    strict = register_sync_task(
        app, world.factory, name="books.strict", reject_on_worker_lost=False
    )
    assert strict.reject_on_worker_lost is False
    with pytest.raises(ConfigurationError, match=r"celery\.Celery"):
        register_sync_task(object(), world.factory)
    with pytest.raises(ConfigurationError, match="budget"):
        register_sync_task(app, world.factory, budget=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="busy_retry_seconds"):
        register_sync_task(app, world.factory, busy_retry_seconds=0)


@pytest.mark.postgres
def test_a_day_spent_by_other_workers_in_the_shared_budget_holds_the_task_back(
    app, world, worker, retries, postgres_conninfo, postgres_schema
):
    """The budget is the real PostgresRateLimiter that every worker's client draws from."""
    from exactbridge.exact.postgres import PostgresRateLimiter

    reset = START + dt.timedelta(hours=3)
    with PostgresRateLimiter(
        postgres_conninfo, app="club-app", schema=postgres_schema, clock=world.clock
    ) as shared:
        # Another worker's last call of division 1001 came back with the day used up.
        shared.record(
            1001,
            {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(reset.timestamp() * 1000)),
            },
        )
        task = _register(app, world, budget=shared, reset_margin_seconds=5)
        with worker():
            held = task.delay(1001, PIPELINE)
            (countdown,) = retries.wait_for(held.id)
            _wait_until(lambda: held.state == "RETRY", "the RETRY state")
            # Division 1002 has its own budget in the same table: it runs.
            other = task.delay(1002, PIPELINE).get(timeout=WAIT)
    # The factory moved the fake clock one second per task before the budget was read.
    assert countdown == pytest.approx(3 * 3600 - 1 + 5)
    assert world.runs[1001] == 0
    assert world.entries(1001) == {}
    assert other["counts"]["booked"] == 3
    assert len(world.entries(1002)) == 3
