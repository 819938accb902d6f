"""Shared fixtures: the same scenarios run through the sync and the async Eduframe client."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from exactbridge.sources._http import RetryPolicy, no_jitter
from exactbridge.sources.eduframe import AsyncEduframeClient, EduframeClient
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.eduframe import FakeEduframe

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)


class EfDriver:
    """Runs client calls through either client flavour and returns plain results."""

    def __init__(self, mode: str, fake: FakeEduframe, clock: FakeClock, **kwargs: Any):
        self.mode = mode
        kwargs.setdefault("retry", RetryPolicy(attempts=4, backoff=5, jitter=no_jitter))
        credentials = kwargs.pop("credentials", fake.credentials)
        if mode == "sync":
            self.client: Any = EduframeClient(
                credentials, transport=fake.transport(), clock=clock, **kwargs
            )
        else:
            self.client = AsyncEduframeClient(
                credentials, transport=fake.async_transport(), clock=clock, **kwargs
            )

    @property
    def calls(self) -> int:
        return self.client.session.calls

    def listing(self, method: str, **kwargs: Any) -> tuple[list[Any], Any]:
        listing = getattr(self.client, method)(**kwargs)
        if self.mode == "sync":
            return list(listing), listing

        async def collect() -> list[Any]:
            return [item async for item in listing]

        return asyncio.run(collect()), listing

    def one(self, method: str, *args: Any) -> Any:
        result = getattr(self.client, method)(*args)
        return result if self.mode == "sync" else asyncio.run(result)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def fake(clock: FakeClock) -> FakeEduframe:
    return FakeEduframe(clock=clock)


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ef_driver_for(mode: str, clock: FakeClock):
    def build(fake: FakeEduframe, **kwargs: Any) -> EfDriver:
        return EfDriver(mode, fake, clock, **kwargs)

    return build


@pytest.fixture
def ef(ef_driver_for, fake: FakeEduframe) -> EfDriver:
    return ef_driver_for(fake)
