"""Shared fixtures: the same scenarios run through the sync and the async Virtuagym client."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from exactbridge.sources._http import Pacer, RetryPolicy, no_jitter
from exactbridge.sources.virtuagym import (
    AsyncVirtuagymClient,
    VirtuagymClient,
    VirtuagymSettings,
)
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.virtuagym import FakeVirtuagym

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


class Driver:
    """Runs client calls through either client flavour and returns plain results."""

    def __init__(self, mode: str, fake: FakeVirtuagym, clock: FakeClock, **kwargs: Any):
        self.mode = mode
        kwargs.setdefault("retry", RetryPolicy(attempts=4, backoff=10, jitter=no_jitter))
        if mode == "sync":
            self.client: Any = VirtuagymClient(
                fake.credentials, transport=fake.transport(), clock=clock, **kwargs
            )
        else:
            self.client = AsyncVirtuagymClient(
                fake.credentials, transport=fake.async_transport(), clock=clock, **kwargs
            )

    @property
    def calls(self) -> int:
        return self.client.session.calls

    def _run(self, coro: Any) -> Any:
        return asyncio.run(coro)

    def listing(self, method: str, **kwargs: Any) -> tuple[list[Any], Any]:
        listing = getattr(self.client, method)(**kwargs)
        if self.mode == "sync":
            return list(listing), listing
        if asyncio.iscoroutine(listing):
            listing = self._run(listing)
            return list(listing), listing

        async def collect() -> list[Any]:
            return [item async for item in listing]

        return self._run(collect()), listing

    def one(self, method: str, *args: Any) -> Any:
        result = getattr(self.client, method)(*args)
        if self.mode == "sync":
            return result
        return self._run(result)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def fake(clock: FakeClock) -> FakeVirtuagym:
    return FakeVirtuagym(clock=clock)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_driver(mode: str, fake: FakeVirtuagym, clock: FakeClock):
    def build(**kwargs: Any) -> Driver:
        return Driver(mode, fake, clock, **kwargs)

    return build


@pytest.fixture
def driver(make_driver) -> Driver:
    return make_driver()


__all__ = ["START", "Driver", "Pacer", "VirtuagymSettings"]


@pytest.fixture
def driver_for(mode: str, clock: FakeClock):
    """Build a driver for a custom fake: ``driver_for(fake, settings=...)``."""

    def build(fake: FakeVirtuagym, **kwargs: Any) -> Driver:
        return Driver(mode, fake, clock, **kwargs)

    return build
