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
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from exactbridge._version import __version__
from exactbridge.cli import _divisions, _fakeserver, _login, _pipelines, _status
from exactbridge.cli._args import count as _count
from exactbridge.cli._args import positive as _positive
from exactbridge.cli._output import error
from exactbridge.errors import AuthorizationRequiredError, ConfigurationError, ExactBridgeError

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_USAGE",
    "build_parser",
    "configure_logging",
    "main",
]

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
    _add_log_options(parser, top=True)
    for sub in commands.choices.values():
        _add_log_options(sub, top=False)
    return parser


def _add_log_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    # The same options before and after the command (`exactbridge -v sync x` and
    # `exactbridge sync x -v`); after it they only override what was given before.
    keep = {} if top else {"default": argparse.SUPPRESS}
    group = parser.add_argument_group("logging")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        help="more detail on stderr: -v shows every step (DEBUG), -vv also each HTTP request",
        **({"default": 0} if top else keep),
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="only warnings and errors on stderr (no progress or wait lines)",
        **({"default": False} if top else keep),
    )
    group.add_argument(
        "--log-level",
        metavar="LEVEL",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the level of exactbridge's log lines on stderr (default INFO: progress, waits "
        "for rate limits and retries, run summaries)",
        **({"default": None} if top else keep),
    )


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (tests swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("exactbridge: %(message)s"))

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


_HANDLER = _StderrHandler()


def configure_logging(verbose: int = 0, *, quiet: bool = False, level: str | None = None) -> None:
    """Show exactbridge's log lines on stderr, as the command line does.

    INFO by default: progress every 50 records, every wait for a rate limit or a
    retry (what for, and until when), run summaries. ``verbose=1`` is DEBUG;
    ``verbose=2`` also shows httpx's request lines (their secrets redacted).
    ``quiet`` keeps only warnings and errors; ``level`` names the level outright.
    Calling it again replaces the earlier setting.
    """
    chosen = level or ("WARNING" if quiet else "DEBUG" if verbose else "INFO")
    ours = logging.getLogger("exactbridge")
    if _HANDLER not in ours.handlers:
        ours.addHandler(_HANDLER)
    ours.setLevel(chosen)
    _HANDLER.setLevel(chosen)
    http = logging.getLogger("httpx")
    if verbose >= 2:
        if _HANDLER not in http.handlers:
            http.addHandler(_HANDLER)
        http.setLevel(logging.DEBUG)
    elif _HANDLER in http.handlers:
        http.removeHandler(_HANDLER)


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
    configure_logging(args.verbose or 0, quiet=args.quiet, level=args.log_level)
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
