"""Argument types and options shared by the ``exactbridge`` commands."""

from __future__ import annotations

import argparse
import datetime as dt

__all__ = [
    "add_config_option",
    "add_date_range_options",
    "add_json_option",
    "count",
    "day",
    "port",
    "positive",
]


def count(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative (expected 0 or more)")
    return value


def positive(text: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    value = count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected 1 or more")
    return value


def port(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    value = count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port (expected 0 to 65535)")
    return value


def day(text: str) -> dt.date:
    """An argparse type: an ISO date (``2025-03-31``)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def add_date_range_options(parser: argparse.ArgumentParser) -> None:
    """``--from DATE`` / ``--until DATE``: this run's ``sync_from`` / ``sync_until``."""
    parser.add_argument(
        "--from",
        dest="sync_from",
        type=day,
        metavar="DATE",
        help="book only records dated on or after DATE (overrides sync.sync_from)",
    )
    parser.add_argument(
        "--until",
        dest="sync_until",
        type=day,
        metavar="DATE",
        help="book only records dated on or before DATE; later ones stay for a later run "
        "(overrides sync.sync_until)",
    )


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config FILE`` (default ``$EXACTBRIDGE_CONFIG`` or ``./exactbridge.toml``)."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="the configuration file (default: $EXACTBRIDGE_CONFIG, else ./exactbridge.toml)",
    )


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """``--json``: machine-readable output on stdout."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
