"""Token expiry under load: 8 threads, 8 asyncio tasks and 2 processes share one token store.

The fake Exact Online enforces single-use refresh tokens and the 570 s rule. All
workers go through each phase together (a barrier); the clock is moved between
phases, once into the last 30 s of the token's life and once past its expiry. Each
time exactly one worker may refresh; the others must adopt the saved token, so the
token endpoint never sees an "Old refresh token used." or a too-early refusal.

The two processes (spawn start method) talk to the fake over real HTTP on
127.0.0.1 (``exactbridge.testing.server.serve``) and read the simulated time from
shared memory; threads and tasks use the
in-process transports. Every worker has its own store object on the same file or
database, so the exclusion comes from the store's own lock (an OS file lock, or a row lock
in PostgreSQL, the variant marked ``postgres``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from exactbridge.exact.auth import (
    Credentials,
    ExactAuth,
    FileTokenStore,
    SQLiteTokenStore,
    Token,
    TokenStore,
)
from exactbridge.exact.postgres import PostgresTokenStore
from exactbridge.testing import FakeClock, FakeExactOnline
from exactbridge.testing.server import serve

CLIENT_ID = "5b0e7d2c-9a41-4f6e-b3c8-1d2e3f4a5b6c"
CLIENT_SECRET = "canary-secret-concurrency"
REDIRECT_URI = "https://app.example/callback"
CREDENTIALS = Credentials(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
BASE = "https://start.exactonline.nl"
ME_PATH = "/api/v1/current/Me"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)

THREADS = 8
TASKS = 8
PROCESSES = 2
CALLS_PER_PHASE = 2
#: seconds after the first token was issued, and successful refreshes expected by then
PHASES = [(10, 0), (575, 1), (585, 1), (1185, 2), (1195, 2)]
BARRIER_TIMEOUT = 120.0


def make_store(kind: str, path: str) -> TokenStore:
    if kind == "postgres":  # path is "<conninfo>|<schema>"
        conninfo, schema = path.rsplit("|", 1)
        return PostgresTokenStore(conninfo, schema=schema, name="club")
    return FileTokenStore(path) if kind == "file" else SQLiteTokenStore(path, name="club")


class SharedClock:
    """A clock reading the simulated time (epoch seconds) from shared memory."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self._value.value, tz=dt.timezone.utc)

    def sleep(self, seconds: float) -> None:
        raise AssertionError("the auth layer must not sleep")

    async def asleep(self, seconds: float) -> None:
        raise AssertionError("the auth layer must not sleep")


def _call(client: httpx.Client, url: str) -> str:
    try:
        return str(client.get(url).status_code)
    except Exception as exc:  # recorded, so that the barrier is still reached
        return f"{type(exc).__name__}: {exc}"


def process_worker(
    name: str, port: int, kind: str, path: str, now: Any, barrier: Any, queue: Any
) -> None:
    """A worker in another process: its own store object, clock and HTTP connection."""
    results: list[tuple[str, int, str]] = []
    base = f"http://127.0.0.1:{port}"
    auth = ExactAuth(CREDENTIALS, make_store(kind, path), base_url=base, clock=SharedClock(now))
    try:
        with httpx.Client(auth=auth, timeout=60.0) as client:
            for phase in range(len(PHASES)):
                barrier.wait()
                for _ in range(CALLS_PER_PHASE):
                    results.append((name, phase, _call(client, base + ME_PATH)))
                barrier.wait()
    except threading.BrokenBarrierError:
        pass  # the controller failed and aborted the run
    finally:
        queue.put(results)


@pytest.fixture
def served_fake() -> Iterator[tuple[FakeExactOnline, FakeClock, int]]:
    clock = FakeClock(T0)
    fake = FakeExactOnline(clock=clock, minutely_limit=1_000_000, daily_limit=1_000_000)
    fake.register_app(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    fake.add_division(1234567)
    with serve(fake, "127.0.0.1", 0) as server:  # time moves only when the test moves it
        yield fake, clock, server.port


def _thread_worker(
    name: str,
    store_factory: Callable[[], TokenStore],
    fake: FakeExactOnline,
    clock: FakeClock,
    barrier: Any,
    results: list[tuple[str, int, str]],
) -> None:
    auth = ExactAuth(CREDENTIALS, store_factory(), base_url=BASE, clock=clock)
    with httpx.Client(transport=fake.transport(), auth=auth) as client:
        try:
            for phase in range(len(PHASES)):
                barrier.wait()
                for _ in range(CALLS_PER_PHASE):
                    results.append((name, phase, _call(client, BASE + ME_PATH)))
                barrier.wait()
        except threading.BrokenBarrierError:
            return  # the controller failed and aborted the run


async def _async_workers(
    store_factory: Callable[[], TokenStore],
    fake: FakeExactOnline,
    clock: FakeClock,
    barrier: Any,
    results: list[tuple[str, int, str]],
) -> None:
    # tasks 0-3 share one ExactAuth (they queue on its asyncio.Lock); 4-7 have their own
    shared = ExactAuth(CREDENTIALS, store_factory(), base_url=BASE, clock=clock)
    auths = [shared] * 4 + [
        ExactAuth(CREDENTIALS, store_factory(), base_url=BASE, clock=clock) for _ in range(4)
    ]
    clients = [httpx.AsyncClient(transport=fake.async_transport(), auth=a) for a in auths]

    async def task(i: int, phase: int) -> None:
        for _ in range(CALLS_PER_PHASE):
            try:
                outcome = str((await clients[i].get(BASE + ME_PATH)).status_code)
            except Exception as exc:
                outcome = f"{type(exc).__name__}: {exc}"
            results.append((f"task-{i}", phase, outcome))

    try:
        for phase in range(len(PHASES)):
            await asyncio.to_thread(barrier.wait)
            await asyncio.gather(*(task(i, phase) for i in range(TASKS)))
            await asyncio.to_thread(barrier.wait)
    except threading.BrokenBarrierError:
        pass  # the controller failed and aborted the run
    finally:
        for client in clients:
            await client.aclose()


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind", ["file", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_one_refresh_per_expiry_across_threads_tasks_and_processes(
    served_fake: tuple[FakeExactOnline, FakeClock, int],
    tmp_path: Path,
    kind: str,
    request: pytest.FixtureRequest,
):
    fake, clock, port = served_fake
    if kind == "postgres":
        conninfo = request.getfixturevalue("postgres_conninfo")
        path = f"{conninfo}|{request.getfixturevalue('postgres_schema')}"
    else:
        path = str(tmp_path / ("tokens.json" if kind == "file" else "tokens.sqlite3"))
    grant = fake.issue_tokens(CLIENT_ID)
    seeded = make_store(kind, path).save(
        Token(grant.access_token, grant.refresh_token, grant.issued_at, grant.expires_in),
        expected_generation=None,
    )

    ctx = multiprocessing.get_context("spawn")
    now = ctx.Value("d", T0.timestamp())
    # every thread, the async gate, every process and this controller
    barrier = ctx.Barrier(THREADS + 1 + PROCESSES + 1, timeout=BARRIER_TIMEOUT)
    queue = ctx.Queue()
    results: list[tuple[str, int, str]] = []

    def store_factory() -> TokenStore:
        return make_store(kind, path)

    processes = [
        ctx.Process(
            target=process_worker,
            args=(f"process-{i}", port, kind, path, now, barrier, queue),
            daemon=True,
        )
        for i in range(PROCESSES)
    ]
    threads = [
        threading.Thread(
            target=_thread_worker,
            args=(f"thread-{i}", store_factory, fake, clock, barrier, results),
            daemon=True,
        )
        for i in range(THREADS)
    ]
    threads.append(
        threading.Thread(
            target=asyncio.run,
            args=(_async_workers(store_factory, fake, clock, barrier, results),),
            daemon=True,
        )
    )
    for process in processes:
        process.start()
    for thread in threads:
        thread.start()

    def refreshes() -> list[int]:
        return [c.status for c in fake.token_log if c.grant_type == "refresh_token"]

    try:
        for offset, expected in PHASES:
            moment = T0 + dt.timedelta(seconds=offset)
            clock.set(moment)
            now.value = moment.timestamp()
            barrier.wait()  # everyone starts the phase
            barrier.wait()  # everyone finished it
            assert refreshes() == [200] * expected, f"after the phase at +{offset}s"
        for _ in processes:
            results.extend(queue.get(timeout=BARRIER_TIMEOUT))
    finally:
        barrier.abort()  # after a failure, release workers still waiting at the barrier
        for thread in threads:
            thread.join(BARRIER_TIMEOUT)
        for process in processes:
            process.join(BARRIER_TIMEOUT)
            if process.is_alive():
                process.terminate()

    # exactly one refresh per expiry, and no refusal of any kind at the token endpoint
    assert [(c.grant_type, c.status) for c in fake.token_log] == [("refresh_token", 200)] * 2
    # every call of every worker succeeded
    workers = THREADS + TASKS + PROCESSES
    assert len(results) == workers * len(PHASES) * CALLS_PER_PHASE
    failures = [r for r in results if r[2] != "200"]
    assert failures == []
    names = {name for name, _, _ in results}
    assert {n for n in names if n.startswith("process-")} == {"process-0", "process-1"}
    assert len(names) == workers
    assert fake.count("GET", "current/Me") == len(results)
    assert all(p.exitcode == 0 for p in processes)
    final = make_store(kind, path).load()
    assert final is not None
    assert final.generation == seeded.generation + 2
    assert final.issued_at == T0 + dt.timedelta(seconds=1185)
