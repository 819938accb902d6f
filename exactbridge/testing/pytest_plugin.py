"""Opt-in pytest fixtures for the fake Exact Online.

Enable them in your ``conftest.py``::

    pytest_plugins = ["exactbridge.testing.pytest_plugin"]

Fixtures:

* ``exact_division``: the division code the fixtures seed (``123456``; override the
  fixture to choose another);
* ``exact_fake``: a fresh :class:`FakeExactOnline` with that division seeded from the
  Dutch template;
* ``exact_client``: ``exact_fake.client(exact_division)``, a real ``ExactClient`` wired
  to the fake, closed after the test;
* ``async_exact_client``: ``exact_fake.async_client(exact_division)``, a real
  ``AsyncExactClient`` (only defined when pytest-asyncio is installed; mark the test
  ``@pytest.mark.asyncio``);
* ``exact_server``: the same fake served over real HTTP on 127.0.0.1 (a
  :class:`~exactbridge.testing.server.RunningServer` with ``.url``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import pytest

from exactbridge.testing._exact.fake import FakeExactOnline
from exactbridge.testing.server import RunningServer, serve

__all__ = [
    "async_exact_client",
    "exact_client",
    "exact_division",
    "exact_fake",
    "exact_server",
]


@pytest.fixture
def exact_division() -> int:
    """The division code the other fixtures seed."""
    return 123456


@pytest.fixture
def exact_fake(exact_division: int) -> FakeExactOnline:
    """A fresh fake Exact Online with ``exact_division`` seeded from the Dutch template."""
    fake = FakeExactOnline()
    fake.add_division(exact_division, template="nl")
    return fake


@pytest.fixture
def exact_client(exact_fake: FakeExactOnline, exact_division: int) -> Iterator[Any]:
    """A real sync ``ExactClient`` wired to ``exact_fake`` with a valid token."""
    client = cast(Any, exact_fake).client(exact_division)
    try:
        yield client
    finally:
        client.close()


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def async_exact_client(
        exact_fake: FakeExactOnline, exact_division: int
    ) -> AsyncIterator[Any]:
        """A real ``AsyncExactClient`` wired to ``exact_fake``, closed after the test."""
        client = cast(Any, exact_fake).async_client(exact_division)
        try:
            yield client
        finally:
            await client.aclose()


@pytest.fixture
def exact_server(exact_fake: FakeExactOnline) -> Iterator[RunningServer]:
    """``exact_fake`` served over real HTTP on 127.0.0.1 (a free port)."""
    with serve(exact_fake, "127.0.0.1", 0) as server:
        yield server
