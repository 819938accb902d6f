"""exactbridge.config: the exactbridge.toml loader and pipelines opened from your own code."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from exactbridge.config import (
    ConfigFileError,
    OpenPipeline,
    ProjectConfig,
    load_config,
    open_pipeline,
)
from exactbridge.sync import MemoryStateStore, RunStatus, SQLiteStateStore

from .cli.test_sync_command import Setup, _config


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


def _open(setup: Setup, **options: object) -> OpenPipeline:
    project = load_config(setup.folder / "exactbridge.toml")
    seams = setup.seams()
    return open_pipeline(
        project,
        "club",
        environ=setup.environ,
        clock=setup.clock,
        exact_transport=seams.exact_transport,
        source_transports=seams.source_transports,
        **options,  # type: ignore[arg-type]
    )


def test_load_config_reads_the_file_the_cli_reads(setup: Setup) -> None:
    _config(setup.folder)
    project = load_config(setup.folder / "exactbridge.toml")
    assert isinstance(project, ProjectConfig)
    club = project.pipeline("club")
    assert (club.kind, club.source) == ("invoices", "virtuagym")
    assert club.booking.sales_journal == "70"
    assert club.booking.ledger.default_account == "8000"
    assert project.state_path == setup.folder / "state.sqlite3"


def test_open_pipeline_books_into_exact_and_remembers_it(setup: Setup) -> None:
    _config(setup.folder)
    with _open(setup) as pipeline:
        assert pipeline.name == "club"
        report = pipeline.run()
    assert report.status is RunStatus.SUCCEEDED
    assert len(report.booked) == 3
    assert setup.exact.count("POST", "SalesEntries") == 3
    # the project's own state file holds the run: a second pass books nothing
    store = SQLiteStateStore(setup.folder / "state.sqlite3")
    try:
        (run,) = store.recent_runs("club")
        assert run.pipeline == "club"
    finally:
        store.close()
    with _open(setup) as pipeline:
        again = pipeline.run()
    assert len(again.booked) == 0
    assert setup.exact.count("POST", "SalesEntries") == 3


def test_open_pipeline_with_an_end_date_books_only_up_to_it(setup: Setup) -> None:
    _config(setup.folder)  # invoices of 1 March, 1 April and 1 May 2025
    with _open(setup, sync_until=dt.date(2025, 3, 31)) as pipeline:
        report = pipeline.run()
    assert len(report.booked) == 1
    assert [row.reason for row in report.skipped] == [
        "dated 2025-04-01, after the sync-until date 2025-03-31; left for a later run",
        "dated 2025-05-01, after the sync-until date 2025-03-31; left for a later run",
    ]
    assert setup.exact.count("POST", "SalesEntries") == 1


def test_preview_writes_nothing_and_a_given_store_is_not_closed(setup: Setup) -> None:
    _config(setup.folder)
    store = MemoryStateStore()
    with _open(setup, store=store) as pipeline:
        report = pipeline.preview()
        assert pipeline.store is store
    assert len(report.results) == 3
    assert setup.exact.count("POST", "SalesEntries") == 0
    assert store.recent_runs("club") == []  # a preview records no run; the store is open
    store.close()


def test_a_bad_key_is_a_config_file_error_naming_file_and_key(setup: Setup) -> None:
    _config(setup.folder, booking='vat.codes = { 1 = "2" }\nnumbering.prefix = "A1"')
    with pytest.raises(ConfigFileError) as caught:
        load_config(setup.folder / "exactbridge.toml")
    message = str(caught.value)
    assert "exactbridge.toml" in message
    assert "numbering.prefix" in message


def test_unknown_pipeline_is_refused_before_anything_opens(setup: Setup) -> None:
    _config(setup.folder)
    project = load_config(setup.folder / "exactbridge.toml")
    with pytest.raises(ConfigFileError, match="nope"):
        open_pipeline(project, "nope", environ=setup.environ)
    assert not (setup.folder / "state.sqlite3").exists()
