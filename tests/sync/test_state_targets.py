"""A state store belongs to one Exact division: a switch books, or refuses, never "unchanged".

Source fake -> pipeline -> fake Exact with two divisions, on both state stores, and the
CLI's default state path, which differs per configuration file and division.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from exactbridge.errors import ConfigurationError, StateTargetError
from exactbridge.mapping import BookingConfig
from exactbridge.sync import (
    InvoicePipeline,
    MemoryStateStore,
    RunStatus,
    SQLiteStateStore,
    StateStore,
    exact_target,
    project_state_path,
    store_target,
)
from exactbridge.sync.connectors import ClubassistentInvoices
from exactbridge.testing import FakeClock, FakeExactOnline, write_invoice_csv
from exactbridge.testing.clubassistent import sample_invoices
from tests.cli._support import CANARY_SECRET, CLIENT_ID, SECRET_ENV
from tests.cli.test_sync_command import Setup

A, B = 1001, 2002
CONFIG = BookingConfig.from_mapping(
    {"vat": {"codes": {"21": "2", "9": "1", "0": "0"}}, "ledger": {"default_account": "8000"}}
)


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    made: StateStore = (
        MemoryStateStore() if request.param == "memory" else SQLiteStateStore(tmp_path / "s.db")
    )
    yield made
    made.close()


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = FakeClock(dt.datetime(2027, 1, 10, 8, tzinfo=dt.timezone.utc))
        self.fake = FakeExactOnline(clock=self.clock)
        self.fake.add_division(A, template="nl")
        self.fake.add_division(B, template="nl")
        self.folder = tmp_path / "exports"
        self.folder.mkdir()
        write_invoice_csv(self.folder / "facturen.csv", sample_invoices(6))

    def run(self, division: int, store: StateStore, *, preview: bool = False):
        pipeline = InvoicePipeline(
            ClubassistentInvoices(self.folder, tenant="club"),
            self.fake.client(division),
            CONFIG,
            store,
            clock=self.clock,
        )
        return pipeline.preview() if preview else pipeline.run()

    def entries(self, division: int) -> list[dict[str, object]]:
        domain = self.fake.domain
        return domain.rows(division, domain.entity_set("salesentry/SalesEntries"))


def test_a_store_takes_the_target_of_its_first_run(tmp_path: Path, store: StateStore) -> None:
    world = World(tmp_path)
    assert store_target(store) is None
    report = world.run(A, store)
    assert report.status is RunStatus.SUCCEEDED
    assert len(world.entries(A)) == 6
    assert store_target(store) == exact_target(world.fake.client(A))
    assert store_target(store) == f"{world.fake.client(A).base_url}#{A}"


def test_another_division_on_the_same_store_is_refused_and_nothing_is_written(
    tmp_path: Path, store: StateStore
) -> None:
    world = World(tmp_path)
    world.run(A, store)
    calls = world.fake.count()
    with pytest.raises(StateTargetError) as caught:
        world.run(B, store)
    error = caught.value
    assert isinstance(error, ConfigurationError)  # the CLI shows it as one (exit 2)
    assert error.stored.endswith(f"#{A}")
    assert error.wanted.endswith(f"#{B}")
    assert "[state] path" in str(error)
    assert world.entries(B) == []
    assert len(world.entries(A)) == 6
    assert world.fake.count() == calls  # not one call to Exact
    assert len(store.recent_runs()) == 1
    # a preview against B is refused the same way, and does not claim anything
    with pytest.raises(StateTargetError):
        world.run(B, store, preview=True)
    # and the store still serves A
    again = world.run(A, store)
    assert again.status is RunStatus.SUCCEEDED
    assert len(again.booked) == 0
    assert len(world.entries(A)) == 6


def test_a_new_store_books_the_same_records_into_the_new_division(tmp_path: Path) -> None:
    world = World(tmp_path)
    with SQLiteStateStore(tmp_path / "a.db") as first:
        world.run(A, first)
    with SQLiteStateStore(tmp_path / "b.db") as second:
        report = world.run(B, second)
    assert len(report.booked) == 6
    assert sorted(r["YourRef"] for r in world.entries(B)) == sorted(
        r["YourRef"] for r in world.entries(A)
    )
    total = sum((Decimal(str(r["AmountDC"])) for r in world.entries(B)), Decimal(0))
    assert total == sum((Decimal(str(r["AmountDC"])) for r in world.entries(A)), Decimal(0))


def test_a_preview_on_a_new_store_does_not_claim_it(tmp_path: Path, store: StateStore) -> None:
    world = World(tmp_path)
    world.run(B, store, preview=True)
    assert store_target(store) is None
    assert len(world.run(A, store).booked) == 6


def test_a_store_from_before_the_guard_is_adopted_by_its_next_run_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world = World(tmp_path)
    path = tmp_path / "old.db"
    with SQLiteStateStore(path) as old:
        world.run(A, old)
        # what an exactbridge without the guard left: records and runs, no target
        old.set_cursor("exactbridge", "exact-target", None, now=world.clock.now())
    with (
        caplog.at_level(logging.WARNING, logger="exactbridge.sync"),
        SQLiteStateStore(path) as reopened,
    ):
        report = world.run(A, reopened)
        assert store_target(reopened) is not None
    assert report.status is RunStatus.SUCCEEDED
    assert len(report.booked) == 0  # every record (and the source cursor) was kept
    assert len(world.entries(A)) == 6
    assert any("taken to belong to" in r.getMessage() for r in caplog.records)


def test_cli_default_state_path_differs_per_config_and_division(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    one = project_state_path(tmp_path / "one" / "exactbridge.toml", A)
    two = project_state_path(tmp_path / "two" / "exactbridge.toml", A)
    other_division = project_state_path(tmp_path / "one" / "exactbridge.toml", B)
    assert len({one, two, other_division}) == 3
    assert one.parent == tmp_path / "data" / "exactbridge"
    assert one.name.endswith(f"-{A}.sqlite3")
    # an existing shared default from before stays the default, so nothing is forgotten
    legacy = tmp_path / "data" / "exactbridge" / "state.sqlite3"
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(b"")
    assert project_state_path(tmp_path / "one" / "exactbridge.toml", A) == legacy


def test_cli_sync_after_a_division_switch_books_into_the_new_division(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The rehearsal: the same exactbridge.toml without [state], its [exact] changed."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    setup = Setup(tmp_path)
    setup.exact.add_division(B, template="nl")

    def write(division: int) -> None:
        (tmp_path / "exactbridge.toml").write_text(
            "[exact]\n"
            'country = "nl"\n'
            f'client_id = "{CLIENT_ID}"\n'
            f'client_secret_env = "{SECRET_ENV}"\n'
            'redirect_uri = "http://localhost:8766/callback"\n'
            'token_store = "tokens.sqlite3"\n'
            'base_url = "https://start.exactonline.nl"\n'
            f"division = {division}\n"
            '[pipelines.club]\nkind = "invoices"\n'
            '[pipelines.club.source]\nsystem = "virtuagym"\nclub_id = 8633\n'
            'api_key_env = "VG_KEY"\nclub_secret_env = "VG_SECRET"\n'
            '[pipelines.club.booking]\nsales_journal = "70"\nnumbering.enabled = false\n'
            'ledger.default_account = "8000"\nvat.codes = { 1 = "2", 2 = "1" }\n',
            encoding="utf-8",
        )

    write(A)
    assert setup.run("sync", "club") == 0
    write(B)
    assert setup.run("sync", "club") == 0
    assert setup.exact.count("POST", "SalesEntries") == 6  # 3 in A, then 3 in B
    domain = setup.exact.domain
    entries = domain.entity_set("salesentry/SalesEntries")
    assert len(domain.rows(A, entries)) == 3
    assert len(domain.rows(B, entries)) == 3
    assert CANARY_SECRET not in capsys.readouterr().out
