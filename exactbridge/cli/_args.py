"""Argument types and options shared by the ``exactbridge`` commands."""

from __future__ import annotations

import argparse

__all__ = ["add_config_option", "add_json_option", "count", "port", "positive"]


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
