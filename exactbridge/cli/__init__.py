"""The ``exactbridge`` command line.

Commands so far:

* ``exactbridge demo [--members M] [--invoices N] [--bad-invoices K] [--json]
  [--state-dir DIR]``: the invoice pipeline end to end on the embedded fakes (no
  credentials, no network), run twice to show nothing is booked twice;
* ``exactbridge --version``.

Exit codes: ``0`` success, ``1`` partial failure (some records failed), ``2`` a
usage or configuration error.

>>> main(["--version"])  # doctest: +SKIP
exactbridge 0.1.0.dev0
0
"""

from __future__ import annotations

import argparse
import json
import sys

from exactbridge._version import __version__
from exactbridge.errors import ConfigurationError, ExactBridgeError

__all__ = ["EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "build_parser", "main"]

#: Every record was handled.
EXIT_OK = 0
#: The run finished, but some records failed (each is reported with its reason).
EXIT_PARTIAL = 1
#: Bad command-line usage or configuration; nothing was booked.
EXIT_USAGE = 2


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative (expected 0 or more)")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value == 0:
        raise argparse.ArgumentTypeError("expected 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``exactbridge`` command."""
    parser = argparse.ArgumentParser(
        prog="exactbridge",
        description="Book gym, sports-club and education sales into Exact Online.",
    )
    parser.add_argument("--version", action="version", version=f"exactbridge {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run the invoice pipeline on the embedded fakes (no credentials, no network)",
        description=(
            "Seed a fake Virtuagym club and a fake Exact Online division, book the club's "
            "invoices, then run the same sync again to show that nothing is booked twice."
        ),
    )
    demo.add_argument(
        "--members", type=_positive, default=40, help="members of the fake club (default 40)"
    )
    demo.add_argument(
        "--invoices", type=_count, default=60, help="invoices of the fake club (default 60)"
    )
    demo.add_argument(
        "--bad-invoices",
        type=_count,
        default=0,
        help="of those, invoices with a VAT rate no Exact code is mapped to (default 0)",
    )
    demo.add_argument("--json", action="store_true", help="print the report as JSON")
    demo.add_argument(
        "--state-dir",
        metavar="DIR",
        help="keep the SQLite state store in DIR (default: a temporary folder)",
    )
    return parser


def _demo_command(args: argparse.Namespace) -> int:
    from exactbridge.cli._demo import format_report, run_demo

    if args.bad_invoices > args.invoices:
        raise ConfigurationError(
            f"{args.bad_invoices} bad invoices out of {args.invoices}",
            key="--bad-invoices",
            expected="at most --invoices",
        )
    result = run_demo(
        members=args.members,
        invoices=args.invoices,
        bad_invoices=args.bad_invoices,
        state_dir=args.state_dir,
    )
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
    else:
        for line in format_report(result):
            print(line)
    return EXIT_PARTIAL if result.failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run the ``exactbridge`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit code; usage errors print argparse's message and return 2.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help, --version and usage errors
        code = exc.code
        return code if isinstance(code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("exactbridge: error: a command is required (try 'exactbridge demo')", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "demo":
            return _demo_command(args)
    except ConfigurationError as exc:
        print(f"exactbridge: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ExactBridgeError as exc:
        print(f"exactbridge: error: {exc}", file=sys.stderr)
        return EXIT_PARTIAL
    parser.print_usage(sys.stderr)  # pragma: no cover - argparse rejects unknown commands
    return EXIT_USAGE  # pragma: no cover
