"""Fixtures that run one scenario through both the sync and the async client.

A test receives ``exact`` (a :class:`Harness`) and calls ``exact.call(lambda c: ...)``
or ``exact.collect(lambda c: ...)``; the lambda gets the real client, which is an
``ExactClient`` or an ``AsyncExactClient`` wired to the fake Exact Online.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from exactbridge.exact import (
    AsyncExactClient,
    Credentials,
    ExactClient,
    MemoryTokenStore,
    RetryPolicy,
    Token,
)
from exactbridge.testing import FakeExactOnline

DIVISION = 1234567
CLIENT_ID = "8d1a7f0e-1b0c-4a57-9d4f-2a6b0c9e3f11"
CLIENT_SECRET = "canary-client-secret-Zq81"
REDIRECT_URI = "https://app.example/callback"


def deterministic_retry(**overrides: Any) -> RetryPolicy:
    return RetryPolicy(jitter=lambda ceiling: ceiling, **overrides)


class Harness:
    """One client (sync or async) plus helpers that hide the difference."""

    def __init__(self, fake: FakeExactOnline, mode: str, **client_options: Any) -> None:
        self.fake = fake
        self.mode = mode
        self.credentials = Credentials(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
        grant = fake.issue_tokens(CLIENT_ID)
        self.store = MemoryTokenStore(
            Token(
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                issued_at=grant.issued_at,
                expires_in=int(grant.expires_in),
            )
        )
        self._loop = asyncio.new_event_loop() if mode == "async" else None
        self.client = self.make_client(**client_options)

    def make_client(self, **options: Any) -> Any:
        kwargs: dict[str, Any] = {
            "division": DIVISION,
            "credentials": self.credentials,
            "token_store": self.store,
            "clock": self.fake.clock,
            "retry": deterministic_retry(),
        }
        kwargs.update(options)
        if self.mode == "async":
            kwargs.setdefault("transport", self.fake.async_transport())
            return AsyncExactClient(**kwargs)
        kwargs.setdefault("transport", self.fake.transport())
        return ExactClient(**kwargs)

    def call(self, fn: Callable[[Any], Any], client: Any = None) -> Any:
        result = fn(client or self.client)
        if inspect.isawaitable(result):
            assert self._loop is not None
            return self._loop.run_until_complete(result)
        return result

    def collect(self, fn: Callable[[Any], Any], client: Any = None) -> list[Any]:
        iterable = fn(client or self.client)
        if hasattr(iterable, "__aiter__"):
            assert self._loop is not None

            async def gather() -> list[Any]:
                return [item async for item in iterable]

            return self._loop.run_until_complete(gather())
        return list(iterable)

    def close(self, client: Any = None) -> None:
        target = client or self.client
        if self.mode == "async":
            assert self._loop is not None
            self._loop.run_until_complete(target.aclose())
        else:
            target.close()

    def shutdown(self) -> None:
        self.close()
        if self._loop is not None:
            self._loop.close()


@pytest.fixture
def fake() -> FakeExactOnline:
    fake = FakeExactOnline()
    fake.register_app(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    fake.add_division(DIVISION, template="nl")
    return fake


@pytest.fixture(params=["sync", "async"])
def exact(request: pytest.FixtureRequest, fake: FakeExactOnline) -> Iterator[Harness]:
    harness = Harness(fake, request.param)
    yield harness
    harness.shutdown()
