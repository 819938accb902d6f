"""``fake.client()`` / ``fake.async_client()``: real clients wired to the fake."""

from __future__ import annotations

import pytest

from exactbridge.exact import AsyncExactClient, ExactClient, P
from exactbridge.testing import FakeExactOnline


def test_client_reads_the_seeded_division():
    fake = FakeExactOnline()
    fake.add_division(777, template="nl")
    with fake.client(777) as exact:
        assert isinstance(exact, ExactClient)
        assert exact.division == 777
        codes = {journal.code for journal in exact.journals.iterate()}
    assert "70" in codes
    assert fake.count(method="GET") == 1


def test_client_waits_on_the_fake_clock():
    fake = FakeExactOnline(minutely_limit=5)
    fake.add_division(777, template="nl")
    start = fake.clock.now()
    with fake.client(777) as exact:
        for _ in range(12):
            exact.gl_accounts.first(filter=P("Code") == "8000")
    assert [c.status for c in fake.calls if c.status == 429] == []
    assert (fake.clock.now() - start).total_seconds() >= 120


@pytest.mark.asyncio
async def test_async_client_reads_the_seeded_division():
    fake = FakeExactOnline()
    fake.add_division(778, template="be")
    async with fake.async_client(778) as exact:
        assert isinstance(exact, AsyncExactClient)
        journals = await exact.journals.list()
    assert journals


def test_pytest_plugin_fixtures(pytester):
    pytester.makeconftest('pytest_plugins = ["exactbridge.testing.pytest_plugin"]')
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        def test_uses_fixtures(exact_fake, exact_client, exact_division):
            assert exact_client.division == exact_division
            assert exact_client.vat_codes.list()
            assert exact_fake.count(method="GET") == 1
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
