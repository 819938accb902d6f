"""``exactbridge divisions``: the Exact Online divisions (companies) the user may access."""

from __future__ import annotations

import argparse
from typing import Any

import attrs
import httpx

from exactbridge.cli._args import add_config_option, add_json_option
from exactbridge.cli._config import config_path, load_config, make_exact_client
from exactbridge.cli._output import print_json, print_table
from exactbridge.clock import Clock
from exactbridge.exact import Division

__all__ = ["command", "division_rows", "register"]


def register(commands: Any) -> None:
    """Add the ``divisions`` subcommand to ``commands`` (an argparse subparsers action)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "divisions",
        help="list the Exact Online divisions the authorized user may access",
        description=(
            "List the divisions (companies) the authorized user may access, marking "
            "Exact's current division. Run 'exactbridge login' first."
        ),
    )
    add_config_option(parser)
    add_json_option(parser)


def division_rows(divisions: list[Division], configured: int | None) -> list[dict[str, Any]]:
    """One plain row per division, sorted by code (the data behind the table and the JSON)."""
    return [
        {
            "code": division.code,
            "description": division.description,
            "country": division.country,
            "currency": division.currency,
            "current": bool(division.current),
            "configured": configured is not None and division.code == configured,
        }
        for division in sorted(divisions, key=lambda d: (d.code is None, d.code or 0))
    ]


def command(
    args: argparse.Namespace,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
) -> int:
    """Run ``exactbridge divisions``; ``transport``/``clock`` are test seams."""
    config = load_config(config_path(args.config))
    settings = config.require_exact()
    # Listed through the user's current division, not the configured one: the list
    # is what someone needs when the configured division is wrong.
    discovery = attrs.evolve(settings, division=None)
    with make_exact_client(
        discovery, resolve_division=False, transport=transport, clock=clock
    ) as exact:
        divisions = exact.divisions()
    rows = division_rows(divisions, settings.division)
    # A configured division the user cannot reach is an error every command would hit:
    # say so with a non-zero exit (1), here where the list shows the right codes.
    missing = settings.division is not None and not any(row["configured"] for row in rows)
    status = 1 if missing else 0
    if args.json:
        print_json({"configured_division": settings.division, "divisions": rows})
        return status
    if not rows:
        print("No divisions: this user may not access any Exact Online company.")
        return status
    print_table(
        ["", "code", "description", "country", "currency"],
        [
            [
                ("*" if row["current"] else "") + (">" if row["configured"] else ""),
                row["code"],
                row["description"],
                row["country"],
                row["currency"],
            ]
            for row in rows
        ],
    )
    print()
    print("* = Exact's current division (the company last opened in Exact Online)")
    if settings.division is None:
        print(
            f"{settings.file.name} sets no exact.division: commands use the current division; "
            "set division = <code> to fix it."
        )
    else:
        print(
            f"exact.division = {settings.division} in {settings.file.name} is not in this list: "
            "set it to one of the codes above"
            if missing
            else f"> = exact.division in {settings.file.name} ({settings.division})"
        )
    return status
