"""The ``exactbridge`` command line.

Commands (each in its own module of this package):

* ``exactbridge login``: authorize the app with Exact Online and keep the tokens;
* ``exactbridge divisions``: the divisions (companies) the user may access;
* ``exactbridge sync NAME`` / ``preview NAME`` / ``retry NAME``: run a pipeline of
  the configuration file through the sync engine;
* ``exactbridge status``: recent runs, failed and pending records;
* ``exactbridge fake-server``: a fake Exact Online on localhost for trials;
* ``exactbridge demo``: the invoice pipeline end to end on the embedded fakes
  (no credentials, no network), run twice to show nothing is booked twice;
* ``exactbridge --version``.

Commands that need a project read ``exactbridge.toml`` (``--config FILE``, else
``$EXACTBRIDGE_CONFIG``, else ``./exactbridge.toml``; see
:mod:`exactbridge.cli._config`). Exit codes: ``0`` success, ``1`` partial failure
(some records failed) or an error talking to Exact Online, ``2`` a usage or
configuration error, ``130`` interrupted (Ctrl-C).

>>> main(["demo", "--members", "2", "--invoices", "0", "--json"]) == EXIT_OK  # doctest: +ELLIPSIS
{...}
True
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable

from exactbridge._version import __version__
from exactbridge.cli import _divisions, _fakeserver, _login, _pipelines, _status
from exactbridge.cli._args import count as _count
from exactbridge.cli._args import positive as _positive
from exactbridge.cli._output import error
from exactbridge.errors import AuthorizationRequiredError, ConfigurationError, ExactBridgeError

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PARTIAL", "EXIT_USAGE", "build_parser", "main"]

#: Every record was handled.
EXIT_OK = 0
#: The run finished, but some records failed (each is reported with its reason),
#: or an operation failed (Exact Online refused, the network was down...).
EXIT_PARTIAL = 1
#: Bad command-line usage or configuration; nothing was booked.
EXIT_USAGE = 2
#: Interrupted with Ctrl-C.
EXIT_INTERRUPTED = 130


def _register_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the invoice and payout pipelines on the embedded fakes (no credentials, "
        "no network)",
        description=(
            "Seed a fake Virtuagym club and a fake Exact Online division, then run both "
            "pipelines: the invoice pipeline books the club's invoices as sales entries, and "
            "the payout pipeline books a fake Pay. settlement as a bank entry that closes the "
            "invoices it paid. Each pipeline runs twice, to show that nothing is booked twice."
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``exactbridge`` command."""
    parser = argparse.ArgumentParser(
        prog="exactbridge",
        description="Book gym, sports-club and education sales into Exact Online.",
    )
    parser.add_argument("--version", action="version", version=f"exactbridge {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _login.register(commands)
    _divisions.register(commands)
    _pipelines.register(commands)
    _status.register(commands)
    _fakeserver.register(commands)
    _register_demo(commands)
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


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "login": _login.command,
    "divisions": _divisions.command,
    "status": _status.command,
    "fake-server": _fakeserver.command,
    "demo": _demo_command,
    **dict.fromkeys(_pipelines.PIPELINE_COMMANDS, _pipelines.command),
}


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (captured in tests)
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the ``exactbridge`` command with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit code. Usage errors print argparse's message and return 2; a
    :class:`~exactbridge.errors.ConfigurationError` prints its message (file, key
    path, expected value) and returns 2; any other exactbridge error prints its
    message and returns 1. No traceback is shown for these.
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
    handler = _COMMANDS.get(args.command)
    if handler is None:  # pragma: no cover - argparse rejects unknown commands
        parser.print_usage(sys.stderr)
        return EXIT_USAGE
    try:
        return handler(args)
    except ConfigurationError as exc:
        error(str(exc), kind="configuration error")
        return EXIT_USAGE
    except AuthorizationRequiredError as exc:
        error(f"{exc} (run 'exactbridge login')")
        return EXIT_PARTIAL
    except ExactBridgeError as exc:
        error(str(exc))
        return EXIT_PARTIAL
    except BrokenPipeError:
        # The reader went away (``exactbridge status --json | head``): stop quietly.
        _silence_stdout()
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        print(file=sys.stderr)
        error("interrupted", kind="stopped")
        return EXIT_INTERRUPTED
