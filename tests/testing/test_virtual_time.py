"""VirtualTime: shared simulated time that moves only when every worker sleeps."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from typing import Any

import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.testing import VirtualTime

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


def _seconds(when: dt.datetime) -> float:
    return (when - T0).total_seconds()


def test_time_stands_still_while_any_worker_works():
    vtime = VirtualTime(2, T0, context=multiprocessing.get_context("fork"))
    a, b = vtime.clock(0), vtime.clock(1)
    woke: list[float] = []
    sleeper = threading.Thread(target=lambda: (a.sleep(60), woke.append(_seconds(a.now()))))
    sleeper.start()
    sleeper.join(0.3)
    # Worker 1 has not slept: worker 0 is still waiting and no time has passed.
    assert sleeper.is_alive()
    assert _seconds(b.now()) == 0.0
    b.sleep(10)  # now both sleep: time jumps to worker 1's wake-up first
    assert _seconds(b.now()) == 10.0
    assert sleeper.is_alive()
    b.finish()  # worker 1 is done: time may move on to worker 0's wake-up
    sleeper.join(10)
    assert woke == [60.0]
    assert a.slept == [60.0]


def _sleep_in_child(vtime: VirtualTime, worker: int, seconds: list[float], out: Any) -> None:
    clock = vtime.clock(worker)
    for s in seconds:
        clock.sleep(s)
        out.put((worker, _seconds(clock.now())))
    clock.finish()


def test_processes_share_the_time():
    ctx = multiprocessing.get_context("spawn")
    vtime = VirtualTime(2, T0, context=ctx)
    out = ctx.Queue()
    children = [
        ctx.Process(target=_sleep_in_child, args=(vtime, 0, [30, 30], out)),
        ctx.Process(target=_sleep_in_child, args=(vtime, 1, [45], out)),
    ]
    for child in children:
        child.start()
    woke = sorted((out.get(timeout=60) for _ in range(3)), key=lambda item: item[1])
    for child in children:
        child.join(60)
    assert woke == [(0, 30.0), (1, 45.0), (0, 60.0)]
    assert _seconds(vtime.observer().now()) == 60.0


def test_an_observer_reads_but_never_moves_time():
    vtime = VirtualTime(1, T0, context=multiprocessing.get_context("fork"))
    observer = vtime.observer()
    with pytest.raises(ConfigurationError, match="cannot sleep"):
        observer.sleep(1)
    with pytest.raises(ConfigurationError, match="only when every worker sleeps"):
        observer.advance(1)
    with pytest.raises(ConfigurationError, match="only when every worker sleeps"):
        vtime.clock(0).set(T0)
    assert observer.now() == T0


@pytest.mark.parametrize("bad", [0, -1, True, "2"])
def test_bad_worker_counts_are_refused(bad: Any):
    with pytest.raises(ConfigurationError):
        VirtualTime(bad)


def test_a_worker_number_must_exist():
    vtime = VirtualTime(2, T0, context=multiprocessing.get_context("fork"))
    with pytest.raises(ConfigurationError, match="below 2"):
        vtime.clock(2)
