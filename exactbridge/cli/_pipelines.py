"""The pipeline commands' arguments: ``sync``, ``preview`` and ``retry``.

They run a pipeline of the configuration file through the sync engine. The work
itself lives in ``exactbridge.cli._sync`` (``main(args) -> int``), imported only
when one of these commands runs.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from exactbridge.cli._args import (
    add_config_option,
    add_date_range_options,
    add_json_option,
    positive,
)
from exactbridge.cli._output import error

__all__ = ["PIPELINE_COMMANDS", "command", "register"]

#: The commands that run a pipeline, dispatched to ``exactbridge.cli._sync.main``.
PIPELINE_COMMANDS = ("sync", "preview", "retry")

_EXIT_USAGE = 2


def _pipeline_parser(commands: Any, name: str, help: str, description: str) -> Any:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help, description=description)
    parser.add_argument("pipeline", metavar="NAME", help="a [pipelines.NAME] of the configuration")
    add_config_option(parser)
    add_json_option(parser)
    return parser


def register(commands: Any) -> None:
    """Add ``sync``, ``preview`` and ``retry`` to ``commands`` (an argparse subparsers action)."""
    sync = _pipeline_parser(
        commands,
        "sync",
        "book a pipeline's new and changed records into Exact Online",
        "Run one pass of a pipeline: read the source, book what is new or changed, "
        "retry what failed before, and report.",
    )
    add_date_range_options(sync)
    sync.add_argument(
        "--dry-run",
        action="store_true",
        help="do everything except writing to Exact Online (same report)",
    )
    preview = _pipeline_parser(
        commands,
        "preview",
        "show the entries a sync would book, without writing anything",
        "Read the source and map the records to Exact drafts as a sync would, and show "
        "them; nothing is written to Exact Online or the state store.",
    )
    add_date_range_options(preview)
    preview.add_argument("--limit", type=positive, metavar="N", help="show at most N drafts")
    _pipeline_parser(
        commands,
        "retry",
        "retry only the failed records of a pipeline",
        "Retry the records of a pipeline that failed before (see 'exactbridge status').",
    )


def command(args: argparse.Namespace) -> int:
    """Run ``sync``, ``preview`` or ``retry`` through ``exactbridge.cli._sync.main``."""
    try:
        module = importlib.import_module("exactbridge.cli._sync")
    except ModuleNotFoundError as exc:
        if exc.name != "exactbridge.cli._sync":
            raise
        error(f"'{args.command}' is not available in this version of exactbridge yet")
        return _EXIT_USAGE
    code: int = module.main(args)
    return code
