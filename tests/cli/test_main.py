"""The ``exactbridge`` command: its commands, the pipeline commands' arguments, error handling."""

from __future__ import annotations

import argparse
import subprocess
import sys
import types
from pathlib import Path

import pytest

import exactbridge.cli as cli
from exactbridge.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, build_parser, main
from exactbridge.errors import ExactBridgeError, SyncError
from tests.cli._support import write_config

REPO = Path(__file__).resolve().parents[2]


def test_the_parser_knows_every_command() -> None:
    parser = build_parser()
    subparsers = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    assert set(subparsers.choices) == {
        "login",
        "divisions",
        "sync",
        "preview",
        "retry",
        "status",
        "fake-server",
        "demo",
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["sync", "club", "--config", "x.toml", "--json", "--dry-run"],
            {
                "command": "sync",
                "pipeline": "club",
                "config": "x.toml",
                "json": True,
                "dry_run": True,
            },
        ),
        (
            ["sync", "club"],
            {
                "command": "sync",
                "pipeline": "club",
                "config": None,
                "json": False,
                "dry_run": False,
            },
        ),
        (
            ["preview", "club", "--limit", "5", "--json"],
            {"command": "preview", "pipeline": "club", "limit": 5, "json": True},
        ),
        (["preview", "club"], {"command": "preview", "pipeline": "club", "limit": None}),
        (
            ["retry", "club", "--config", "y.toml"],
            {"command": "retry", "pipeline": "club", "config": "y.toml", "json": False},
        ),
    ],
)
def test_the_pipeline_commands_accept_their_arguments(
    argv: list[str], expected: dict[str, object]
) -> None:
    args = build_parser().parse_args(argv)
    for name, value in expected.items():
        assert getattr(args, name) == value


@pytest.mark.parametrize(
    "argv",
    [
        ["sync"],  # the pipeline name is required
        ["preview", "club", "--limit", "0"],
        ["retry", "club", "--dry-run"],
        ["status", "--limit", "-1"],
        ["login", "--port", "x"],
    ],
)
def test_bad_arguments_are_usage_errors(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_USAGE
    assert "usage: exactbridge" in capsys.readouterr().err


def test_pipeline_commands_say_so_when_the_sync_module_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "exactbridge.cli._sync", None)  # as if not installed
    for command in ("sync", "preview", "retry"):
        assert main([command, "club"]) == EXIT_USAGE
        assert f"'{command}' is not available" in capsys.readouterr().err


def test_pipeline_commands_dispatch_their_arguments_to_the_sync_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[argparse.Namespace] = []

    def fake_main(args: argparse.Namespace) -> int:
        received.append(args)
        return EXIT_PARTIAL

    module = types.ModuleType("exactbridge.cli._sync")
    module.main = fake_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "exactbridge.cli._sync", module)
    assert main(["sync", "club", "--dry-run"]) == EXIT_PARTIAL
    assert main(["retry", "gym", "--json"]) == EXIT_PARTIAL
    assert [(a.command, a.pipeline) for a in received] == [("sync", "club"), ("retry", "gym")]
    assert received[0].dry_run is True
    assert received[1].json is True


def test_expected_errors_print_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise SyncError("the state store is locked")

    monkeypatch.setitem(cli._COMMANDS, "status", broken)
    assert main(["status"]) == EXIT_PARTIAL
    assert capsys.readouterr().err == "exactbridge: error: the state store is locked\n"

    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(cli._COMMANDS, "status", interrupted)
    assert main(["status"]) == cli.EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err

    def plain(args: argparse.Namespace) -> int:
        raise ExactBridgeError("something else")

    monkeypatch.setitem(cli._COMMANDS, "status", plain)
    assert main(["status"]) == EXIT_PARTIAL


def test_a_bad_config_file_exits_2_with_file_key_and_expected_and_no_traceback(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path,
        "[pipelines.club]\nkind = 'invoices'\nsource = 'virtuagym'\n"
        "[pipelines.club.booking]\nvat.codes = 7\n",
    )
    result = subprocess.run(
        [sys.executable, "-m", "exactbridge.cli", "status", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert result.returncode == EXIT_USAGE
    assert result.stdout == ""
    assert result.stderr == (
        f"exactbridge: configuration error: {config}: pipelines.club.booking.vat.codes: "
        "7 is not accepted (expected a table of texts)\n"
    )


def test_status_of_an_empty_project_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "[state]\npath = 'state.sqlite3'\n")
    assert main(["status", "--config", str(config)]) == EXIT_OK
