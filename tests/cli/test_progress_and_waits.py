"""A long run says what it is doing: progress lines and every wait, on a non-TTY stderr."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from exactbridge.cli import EXIT_OK, build_parser, configure_logging
from exactbridge.sources.virtuagym import VirtuagymClient, VirtuagymCredentials
from exactbridge.testing import FakeClock
from exactbridge.testing.virtuagym import FakeVirtuagym
from tests.cli.test_sync_command import Setup, _config


@pytest.fixture(autouse=True)
def _logging_reset() -> Iterator[None]:
    yield
    configure_logging(quiet=True)  # leave the shared exactbridge logger quiet again


def _many_invoices(setup: Setup, count: int) -> None:
    member = setup.vg.add_member(firstname="Bo", lastname="Smit")["member_id"]
    for day in range(count):
        setup.vg.add_invoice(
            member_id=member,
            invoice_date=dt.date(2025, 1, 1) + dt.timedelta(days=day),
            rows=[{"name": "Les", "price": Decimal("10.00"), "tax": 2}],
        )


def test_a_rate_limited_sync_prints_progress_and_what_it_waits_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = Setup(tmp_path)
    _many_invoices(setup, 57)  # 60 invoices with the 3 of the setup
    setup.exact.minutely_limit = 20
    _config(setup.folder)
    configure_logging()
    assert setup.run("sync", "club", "--json") == EXIT_OK
    err = capsys.readouterr().err
    assert "exactbridge: pipeline club: 50/60 records processed (50 booked)" in err
    assert "exactbridge: pipeline club: 60/60 records processed (60 booked)" in err
    waits = [line for line in err.splitlines() if "Exact rate limit" in line]
    assert waits, err
    assert "the minutely budget of division 1001 is spent; waiting" in waits[0]
    assert waits[0].endswith(" UTC")
    assert " until " in waits[0]
    assert setup.clock.slept  # the waits happened on the fake clock, not in real time


def test_a_source_retry_says_what_failed_and_until_when(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc))
    fake = FakeVirtuagym(api_key="k", club_secret="s", clock=clock)
    failures = {"left": 2}
    inner = fake.transport()

    class Flaky(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if failures["left"]:
                failures["left"] -= 1
                raise httpx.ConnectError("unreachable", request=request)
            return inner.handle_request(request)

    credentials = VirtuagymCredentials(club_id=fake.club_id, api_key="k", club_secret="s")
    with (
        caplog.at_level(logging.INFO, logger="exactbridge.sources"),
        VirtuagymClient(credentials, transport=Flaky(), clock=clock) as client,
    ):
        assert list(client.members()) == []
    lines = [r.getMessage() for r in caplog.records if r.name == "exactbridge.sources"]
    assert len(lines) == 2
    assert lines[0].startswith("virtuagym GET /api/v1/club/")
    assert "ConnectError, retry 1/4; waiting" in lines[0]
    assert "ConnectError, retry 2/4; waiting" in lines[1]
    assert all(line.endswith(" UTC") and " until " in line for line in lines)
    assert all("api_key" not in line for line in lines)


def test_verbosity_options_before_and_after_the_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["sync", "club"]).verbose == 0
    assert parser.parse_args(["-v", "sync", "club"]).verbose == 1
    assert parser.parse_args(["sync", "club", "-vv"]).verbose == 2
    assert parser.parse_args(["sync", "club", "--log-level", "debug"]).log_level == "DEBUG"
    assert parser.parse_args(["--quiet", "status"]).quiet is True


def test_quiet_and_log_level_set_the_level_of_the_exactbridge_logger() -> None:
    configure_logging(quiet=True)
    assert logging.getLogger("exactbridge").level == logging.WARNING
    configure_logging(level="ERROR")
    assert logging.getLogger("exactbridge").level == logging.ERROR
    configure_logging(verbose=1)
    assert logging.getLogger("exactbridge").level == logging.DEBUG
    configure_logging(verbose=2)
    assert logging.getLogger("httpx").level == logging.DEBUG
