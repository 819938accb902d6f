"""No secret in any log line, at any level, of any library (httpx and httpcore included).

Each test turns the root logger to DEBUG with a real handler, runs a sync or a source
read on the fakes with canary credentials, and searches every formatted line, every
record's message and arguments, and the reports for the canaries. Exact's own access
and refresh tokens (issued by the fake during the run) are canaries too.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from exactbridge._logsafety import REDACTED, RedactingFilter, install, redact_text
from exactbridge.exact import SQLiteTokenStore
from exactbridge.sources.coachview import CoachviewClient
from exactbridge.sources.eduframe import EduframeClient, EduframeCredentials
from exactbridge.testing import FakeClock, FakeCoachview, FakeEduframe, seed_pay_for_receivables

from .cli._support import CANARY_SECRET, DIVISION
from .cli.test_sync_command import PAY_PIPELINE, PAY_TOKEN, VG_KEY, VG_SECRET, Setup, _config


class Everything(logging.Handler):
    """Keeps every record and every formatted line."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.stream = io.StringIO()
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.stream.write(self.format(record) + "\n")

    def text(self) -> str:
        parts = [self.stream.getvalue()]
        for record in self.records:
            parts.append(str(record.msg))
            parts.append(repr(record.args))
        return "\n".join(parts)

    def names(self) -> set[str]:
        return {record.name for record in self.records}


@pytest.fixture
def everything() -> Iterator[Everything]:
    root = logging.getLogger()
    handler = Everything()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _assert_clean(text: str, canaries: list[str]) -> None:
    for canary in canaries:
        assert canary not in text, f"{canary!r} leaked"


def test_exact_and_virtuagym_and_pay_syncs_log_no_secret(
    tmp_path: Path, everything: Everything, capsys: pytest.CaptureFixture[str]
) -> None:
    setup = Setup(tmp_path)
    path = _config(setup.folder)
    path.write_text(path.read_text(encoding="utf-8") + PAY_PIPELINE, encoding="utf-8")
    assert setup.run("sync", "club", "--json") == 0
    with setup.exact.client(DIVISION) as reader:
        seed_pay_for_receivables(setup.pay, reader, every=1, unmatched=1)
    setup.clock.advance(700)  # the access token expires: the next run refreshes it
    assert setup.run("sync", "pay", "--json") == 0
    out = capsys.readouterr()
    token = SQLiteTokenStore(tmp_path / "tokens.sqlite3", name="default").load()
    assert token is not None
    # httpx's own request lines were logged, and carry the redacted query
    assert "httpx" in everything.names()
    assert f"api_key={REDACTED}" in everything.stream.getvalue()
    _assert_clean(
        everything.text() + out.out + out.err,
        [VG_KEY, VG_SECRET, PAY_TOKEN, CANARY_SECRET, token.access_token, token.refresh_token],
    )


def test_eduframe_reads_log_no_api_key(everything: Everything) -> None:
    canary = "CANARY-eduframe-api-key-5d1e"
    clock = FakeClock()
    fake = FakeEduframe(api_key=canary, clock=clock)
    fake.seed_institute(courses=1, editions_per_course=1, accounts=3, invoices=5)
    with EduframeClient(
        EduframeCredentials(api_key=canary), transport=fake.transport(), clock=clock
    ) as client:
        invoices = client.invoices().all()
        assert len(invoices) == 5
        text = repr(client)
    assert "httpx" in everything.names()
    _assert_clean(everything.text() + text, [canary])


def test_coachview_token_exchange_logs_no_secret_or_token(everything: Everything) -> None:
    canary = "CANARY-coachview-secret-8b2c"
    clock = FakeClock()
    fake = FakeCoachview(clock=clock)
    fake.add_client("cv-canary", canary)
    fake.seed_invoices(4)
    with CoachviewClient("cv-canary", canary, transport=fake.transport(), clock=clock) as client:
        assert len(client.list_invoices().all()) == 4
        text = repr(client)
    issued = list(fake.tokens)
    assert issued
    assert "httpx" in everything.names()
    _assert_clean(everything.text() + text, [canary, *issued])


def test_the_filter_redacts_what_other_libraries_write() -> None:
    install()
    install()  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in logging.getLogger("httpx").filters) == 1
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, 'HTTP Request: %s %s "%s"', None, None
    )
    record.args = ("GET", "https://x.test/club/1/member?api_key=K1&club_secret=S1&page=2", "200")
    assert RedactingFilter().filter(record) is True
    message = record.getMessage()
    assert "K1" not in message
    assert "S1" not in message
    assert "page=2" in message
    assert redact_text('{"access_token": "A1", "token_type": "bearer"}') == (
        '{"access_token": "[redacted]", "token_type": "bearer"}'
    )
    assert redact_text("Authorization: Basic QVQtMTIzNDpzZWNyZXQ=") == (
        "Authorization: Basic [redacted]"
    )
    assert redact_text("grant_type=refresh_token&refresh_token=R1&client_id=c") == (
        "grant_type=refresh_token&refresh_token=[redacted]&client_id=c"
    )
