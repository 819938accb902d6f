"""``exactbridge status``: recent runs, failed records with their reasons, pending records.

Reads the state store only (no Exact Online call, no secret needed). Exit code
``0`` when no record is failed, ``1`` when some are (they are retried on the next
run once the cause is fixed).
"""

from __future__ import annotations

import argparse
from typing import Any

from exactbridge.cli._args import add_config_option, add_json_option, positive
from exactbridge.cli._config import config_path, load_config
from exactbridge.cli._output import print_json, print_table
from exactbridge.sync import BookingRecord, RunRecord, SQLiteStateStore

__all__ = ["command", "record_row", "register", "run_row"]

_DEFAULT_LIMIT = 10


def register(commands: Any) -> None:
    """Add the ``status`` subcommand to ``commands`` (an argparse subparsers action)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "status",
        help="show recent runs, failed records with their reasons and pending records",
        description=(
            "Show the latest runs from the state store, every failed record with its "
            "reason and every pending record (an Exact write whose outcome is not known "
            "yet). Exit code 1 when some records failed."
        ),
    )
    add_config_option(parser)
    parser.add_argument(
        "--pipeline", metavar="NAME", help="only this pipeline of the configuration file"
    )
    parser.add_argument(
        "--limit",
        type=positive,
        default=_DEFAULT_LIMIT,
        metavar="N",
        help=f"how many recent runs to show (default {_DEFAULT_LIMIT})",
    )
    add_json_option(parser)


def run_row(run: RunRecord) -> dict[str, Any]:
    """A run as plain data (the JSON of ``status --json``)."""
    return {
        "run_id": run.run_id,
        "pipeline": run.pipeline,
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": run.duration,
        "booked": run.booked,
        "updated": run.updated,
        "reversed": run.reversed,
        "skipped": run.skipped,
        "failed": run.failed,
        "exact_calls": run.exact_calls,
        "notes": run.notes,
    }


def record_row(record: BookingRecord) -> dict[str, Any]:
    """A booking record as plain data (the JSON of ``status --json``)."""
    return {
        "record": str(record.key),
        "source": record.key.source,
        "tenant": record.key.tenant,
        "kind": record.key.kind,
        "source_id": record.key.source_id,
        "status": record.status,
        "attempts": record.attempts,
        "exact_id": record.exact_id,
        "entry_number": record.entry_number,
        "your_ref": record.your_ref,
        "journal": record.journal,
        "updated_at": record.updated_at,
        "reason": record.last_error,
    }


def command(args: argparse.Namespace) -> int:
    """Run ``exactbridge status``."""
    config = load_config(config_path(args.config))
    pipeline = config.pipeline(args.pipeline) if args.pipeline is not None else None
    path = config.state_path
    runs: list[RunRecord] = []
    failed: list[BookingRecord] = []
    pending: list[BookingRecord] = []
    exists = path.exists()
    if exists:
        with SQLiteStateStore(path) as store:
            if pipeline is None:
                runs = store.recent_runs(limit=args.limit)
                failed = store.failed()
                pending = store.pending()
            else:
                runs = store.recent_runs(pipeline.name, limit=args.limit)
                failed = store.failed(source=pipeline.source, tenant=pipeline.tenant)
                pending = store.pending(source=pipeline.source, tenant=pipeline.tenant)
    code = 1 if failed else 0
    if args.json:
        print_json(
            {
                "state_store": path,
                "exists": exists,
                "pipeline": pipeline.name if pipeline is not None else None,
                "runs": [run_row(run) for run in runs],
                "failed": [record_row(record) for record in failed],
                "pending": [record_row(record) for record in pending],
            }
        )
        return code
    print(f"state store: {path}")
    if not exists:
        print("It does not exist yet: nothing has run with this configuration.")
        return code
    scope = f" of pipeline {pipeline.name!r}" if pipeline is not None else ""
    print()
    if runs:
        print(f"Recent runs{scope}, newest first:")
        print_table(
            [
                "run",
                "pipeline",
                "started",
                "took",
                "status",
                "booked",
                "updated",
                "reversed",
                "skipped",
                "failed",
                "calls",
                "notes",
            ],
            [
                [
                    run.run_id,
                    run.pipeline,
                    run.started_at,
                    run.duration,
                    run.status,
                    run.booked,
                    run.updated,
                    run.reversed,
                    run.skipped,
                    run.failed,
                    run.exact_calls,
                    run.notes or None,
                ]
                for run in runs
            ],
            indent="  ",
        )
    else:
        print(f"No runs{scope} yet.")
    print()
    if failed:
        print(f"Failed records{scope} ({len(failed)}), retried on the next run:")
        print_table(
            ["record", "attempts", "last tried", "reason"],
            [[str(r.key), r.attempts, r.updated_at, r.last_error] for r in failed],
            indent="  ",
        )
    else:
        print(f"No failed records{scope}.")
    if pending:
        print()
        print(
            f"Pending records{scope} ({len(pending)}): an Exact write was started and its "
            "outcome is not known; the next run looks each one up in Exact before writing again."
        )
        print_table(
            ["record", "attempts", "since", "journal", "your ref"],
            [[str(r.key), r.attempts, r.updated_at, r.journal, r.your_ref] for r in pending],
            indent="  ",
        )
    if failed:
        print()
        print(
            f"{len(failed)} failed record{'s' if len(failed) != 1 else ''}: fix the cause "
            f"(see the reasons above) and run 'exactbridge sync' or 'exactbridge retry'."
        )
    return code
