"""``exactbridge sync``, ``preview`` and ``retry``: run a configured pipeline.

The pipeline comes from ``[pipelines.NAME]`` in ``exactbridge.toml``: its ``kind``
(invoices, payouts, mandates), its source (``[pipelines.NAME.source]`` with the
``system`` and the source's options), its booking policies and its engine settings.
A run takes the pipeline's run lock, so a second ``exactbridge sync NAME`` started
meanwhile reports that the pipeline is busy (exit code 3) instead of running.

Exit codes: 0 everything done, 1 some records failed or the run stopped early (the
next run resumes), 2 a configuration or usage error, 3 the pipeline is busy.
"""

from __future__ import annotations

import argparse
import glob
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import attrs
import httpx

from exactbridge.clock import Clock
from exactbridge.errors import ConfigurationError
from exactbridge.exact import ExactClient
from exactbridge.sync import (
    InvoicePipeline,
    MemoryStateStore,
    PipelineBusyError,
    RunLock,
    SQLiteStateStore,
    StateStore,
    SyncReport,
    SyncSettings,
    VirtuagymInvoices,
)

__all__ = ["EXIT_BUSY", "Seams", "build_pipeline", "main", "run_command", "sync_settings"]

#: Another run of the same pipeline holds its lock.
EXIT_BUSY = 3


class _Pipeline(Protocol):
    name: str

    def run(self) -> SyncReport: ...

    def preview(self) -> SyncReport: ...

    def retry(self) -> SyncReport: ...


@attrs.frozen
class Seams:
    """What tests (and embedding hosts) may swap: transports, clock, environment.

    ``source_transports`` maps a source system (``"virtuagym"``...) to the httpx
    transport its client should use.
    """

    exact_transport: httpx.BaseTransport | None = None
    source_transports: Mapping[str, httpx.BaseTransport] = attrs.field(factory=dict)
    clock: Clock | None = None
    environ: Mapping[str, str] | None = None


def main(args: argparse.Namespace) -> int:
    """Entry point used by :mod:`exactbridge.cli` for ``sync``, ``preview`` and ``retry``."""
    return run_command(args, Seams())


def run_command(args: argparse.Namespace, seams: Seams) -> int:
    """Load the configuration, build the pipeline, run it and print the report."""
    from exactbridge.cli import EXIT_OK, EXIT_PARTIAL
    from exactbridge.cli._config import config_path, load_config, make_exact_client
    from exactbridge.cli._output import Progress, print_json

    project = load_config(config_path(args.config, environ=seams.environ))
    pipeline_config = project.pipeline(args.pipeline)
    exact_settings = project.require_exact()
    dry_run = args.command == "preview" or bool(getattr(args, "dry_run", False))
    settings = sync_settings(pipeline_config, args)  # configuration errors before any I/O
    store: StateStore
    if dry_run and not project.state_path.exists():
        # A preview writes nothing, so it does not create the state file either: with
        # no file there is nothing booked yet, which an empty store says as well.
        store = MemoryStateStore()
    else:
        store = SQLiteStateStore(project.state_path)
    closers: list[Callable[[], object]] = [store.close]
    try:
        exact = make_exact_client(
            exact_settings,
            environ=seams.environ,
            transport=seams.exact_transport,
            clock=seams.clock,
        )
        closers.append(exact.close)
        progress = None if args.json else Progress(f"{args.command} {args.pipeline}")
        if progress is not None:
            closers.append(progress.close)
        pipeline = build_pipeline(
            pipeline_config,
            exact=exact,
            store=store,
            seams=seams,
            settings=settings,
            progress=None if progress is None else progress.update,
            closers=closers,
        )
        try:
            if dry_run:
                report = pipeline.preview()
            else:
                with RunLock(store, pipeline.name):
                    report = pipeline.retry() if args.command == "retry" else pipeline.run()
        except PipelineBusyError as busy:
            if progress is not None:
                progress.close()
            print(f"exactbridge: {busy}")
            return EXIT_BUSY
        if progress is not None:
            progress.close()
    finally:
        for close in reversed(closers):
            close()
    limit = getattr(args, "limit", None)
    if args.json:
        data = report.as_dict()
        if limit is not None:
            data["results"] = data["results"][:limit]
        print_json(data)
    else:
        _print_report(report, limit)
    return EXIT_OK if report.ok else EXIT_PARTIAL


def _print_report(report: SyncReport, limit: int | None) -> None:
    from exactbridge.cli._output import print_table

    for line in report.lines():
        if not line.lstrip().startswith(("FAILED", "WOULD FAIL")):
            print(line)
    rows = [
        [
            row.action.describe(report.dry_run),
            row.label or row.record_id,
            "" if row.amount is None else str(row.amount),
            "" if row.entry_number is None else str(row.entry_number),
            row.reason or "",
        ]
        for row in report.results
    ]
    if limit is not None:
        rows = rows[:limit]
    if rows:
        print()
        print_table(["action", "record", "amount", "entry", "reason"], rows)


# -- building pipelines from the configuration ---------------------------------------------


def build_pipeline(
    config: Any,
    *,
    exact: ExactClient,
    store: StateStore,
    seams: Seams,
    settings: SyncSettings | None = None,
    progress: Callable[[int, int], object] | None = None,
    closers: list[Callable[[], object]] | None = None,
) -> _Pipeline:
    """The pipeline ``[pipelines.NAME]`` describes (a ``PipelineConfig``), ready to run."""
    if settings is None:
        settings = sync_settings(config)
    builder = _BUILDERS.get((config.kind, config.source))
    if builder is None:
        raise config.error(
            f"{config.kind} from {config.source} is not supported",
            key="kind",
            expected="invoices from any source, payouts from paynl, mandates from clubassistent",
        )
    pipeline: _Pipeline = builder(
        config, exact, store, settings, seams, progress, closers if closers is not None else []
    )
    return pipeline


def sync_settings(config: Any, args: argparse.Namespace | None = None) -> SyncSettings:
    """The ``[pipelines.NAME.sync]`` table as :class:`~exactbridge.sync.SyncSettings`.

    ``--from`` / ``--until`` on the command line (``args.sync_from`` / ``args.sync_until``)
    replace the table's ``sync_from`` / ``sync_until`` for this run.
    """
    table = dict(config.sync)
    for name in ("sync_from", "sync_until"):
        value = getattr(args, name, None)
        if value is not None:
            table[name] = value
    try:
        return SyncSettings.from_mapping(table)
    except ConfigurationError as exc:
        raise config.relocate(exc) from exc


def _option(config: Any, name: str, kind: type, *, required: bool = True) -> Any:
    value = config.source_options.get(name)
    if value is None:
        if required:
            raise config.error("missing", key=f"source.{name}", expected=f"a {kind.__name__} value")
        return None
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise config.error(f"got {value!r}", key=f"source.{name}", expected="a whole number")
    if kind is str and not isinstance(value, str):
        raise config.error(f"got {value!r}", key=f"source.{name}", expected="a text")
    return value


def _secret(config: Any, name: str, seams: Seams) -> str:
    _option(config, name, str)
    value: str = config.env(name, environ=seams.environ)
    return value


def _files(config: Any, name: str) -> list[Path]:
    patterns = config.source_options.get(name)
    if isinstance(patterns, str):
        patterns = (patterns,)
    if (
        not isinstance(patterns, (tuple, list))
        or not patterns
        or not all(isinstance(p, str) for p in patterns)
    ):
        raise config.error(
            f"got {patterns!r}",
            key=f"source.{name}",
            expected="a file name or glob pattern, or a list of them",
        )
    base = Path(config.file).parent
    found: list[Path] = []
    for pattern in patterns:
        full = os.path.join(base, os.path.expanduser(pattern))
        found.extend(sorted(Path(path) for path in glob.glob(full)))
    return found


def _common(config: Any, store: StateStore, settings: SyncSettings, seams: Seams) -> dict[str, Any]:
    return {
        "settings": settings,
        "name": config.name,
        "clock": seams.clock,
    }


def _virtuagym(
    config: Any,
    exact: ExactClient,
    store: StateStore,
    settings: SyncSettings,
    seams: Seams,
    progress: Callable[[int, int], object] | None,
    closers: list[Callable[[], object]],
) -> _Pipeline:
    from exactbridge.sources.virtuagym import (
        VirtuagymClient,
        VirtuagymCredentials,
        VirtuagymSettings,
    )

    credentials = VirtuagymCredentials(
        club_id=_option(config, "club_id", int),
        api_key=_secret(config, "api_key_env", seams),
        club_secret=_secret(config, "club_secret_env", seams),
    )
    base_url = _option(config, "base_url", str, required=False)
    client = VirtuagymClient(
        credentials,
        settings=VirtuagymSettings(base_url=base_url) if base_url else None,
        transport=seams.source_transports.get("virtuagym"),
        clock=seams.clock,
    )
    closers.append(client.close)
    source = VirtuagymInvoices(client, tenant=config.tenant)
    return InvoicePipeline(
        source,
        exact,
        config.booking,
        store,
        progress=progress,
        **_common(config, store, settings, seams),
    )


def _paynl(
    config: Any,
    exact: ExactClient,
    store: StateStore,
    settings: SyncSettings,
    seams: Seams,
    progress: Callable[[int, int], object] | None,
    closers: list[Callable[[], object]],
) -> _Pipeline:
    from exactbridge.sources.paynl import PayClient
    from exactbridge.sync import PayoutPipeline, PayPayouts
    from exactbridge.sync.payouts import InvoiceReference

    service_secret = None
    if config.source_options.get("service_secret_env") is not None:
        service_secret = _secret(config, "service_secret_env", seams)
    client = PayClient(
        _option(config, "token_code", str),
        _secret(config, "api_token_env", seams),
        service_id=_option(config, "service_id", str, required=False),
        service_secret=service_secret,
        transport=seams.source_transports.get("paynl"),
        clock=seams.clock,
    )
    closers.append(client.close)
    per_group = config.source_options.get("per_revenue_group", False)
    if not isinstance(per_group, bool):
        raise config.error(
            f"got {per_group!r}", key="source.per_revenue_group", expected="true or false"
        )
    reference = _option(config, "invoice_reference", str, required=False) or "reference"
    if reference not in ("reference", "description", "order_id"):
        raise config.error(
            f"got {reference!r}",
            key="source.invoice_reference",
            expected="'reference', 'description' or 'order_id'",
        )
    try:
        source = PayPayouts(
            client,
            tenant=config.tenant,
            per_revenue_group=per_group,
            invoice_reference=cast(InvoiceReference, reference),
        )
    except ConfigurationError as exc:
        raise config.relocate(exc, section="source") from exc
    return PayoutPipeline(
        source,
        exact,
        config.booking,
        store,
        progress=progress,
        **_common(config, store, settings, seams),
    )


def _clubassistent_mandates(
    config: Any,
    exact: ExactClient,
    store: StateStore,
    settings: SyncSettings,
    seams: Seams,
    progress: Callable[[int, int], object] | None,
    closers: list[Callable[[], object]],
) -> _Pipeline:
    from exactbridge.sync import ClubassistentMandates, MandatePipeline

    invoice_files: list[Path] = []
    if config.source_options.get("invoice_files") is not None:
        invoice_files = _files(config, "invoice_files")
    source = ClubassistentMandates(
        _files(config, "files"), tenant=config.tenant, invoice_files=invoice_files
    )
    return MandatePipeline(
        source,
        exact,
        config.booking,
        store,
        name=config.name,
        clock=seams.clock,
        progress=progress,
    )


def _invoice_pipeline(
    config: Any,
    source: Any,
    exact: ExactClient,
    store: StateStore,
    settings: SyncSettings,
    seams: Seams,
    progress: Callable[[int, int], object] | None,
) -> _Pipeline:
    return InvoicePipeline(
        source,
        exact,
        config.booking,
        store,
        progress=progress,
        **_common(config, store, settings, seams),
    )


def _eduframe(
    config: Any,
    exact: ExactClient,
    store: StateStore,
    settings: SyncSettings,
    seams: Seams,
    progress: Callable[[int, int], object] | None,
    closers: list[Callable[[], object]],
) -> _Pipeline:
    from exactbridge.sources.eduframe import EduframeClient, EduframeCredentials, EduframeSettings
    from exactbridge.sync.connectors import EduframeInvoices

    base_url = _option(config, "base_url", str, required=False)
    client = EduframeClient(
        EduframeCredentials(api_key=_secret(config, "api_key_env", seams)),
        settings=EduframeSettings(base_url=base_url) if base_url else None,
        transport=seams.source_transports.get("eduframe"),
        clock=seams.clock,
    )
    closers.append(client.close)
    source = EduframeInvoices(client, tenant=config.tenant)
    return _invoice_pipeline(config, source, exact, store, settings, seams, progress)


def _coachview(
    config: Any,
    exact: ExactClient,
    store: StateStore,
    settings: SyncSettings,
    seams: Seams,
    progress: Callable[[int, int], object] | None,
    closers: list[Callable[[], object]],
) -> _Pipeline:
    from exactbridge.sources.coachview import CoachviewClient
    from exactbridge.sync.connectors import CoachviewInvoices

    environment = _option(config, "environment", str, required=False) or "production"
    if environment not in ("production", "training"):
        raise config.error(
            f"got {environment!r}",
            key="source.environment",
            expected="'production' or 'training'",
        )
    client = CoachviewClient(
        _option(config, "client_id", str),
        _secret(config, "client_secret_env", seams),
        environment=cast(Literal["production", "training"], environment),
        base_url=_option(config, "base_url", str, required=False),
        transport=seams.source_transports.get("coachview"),
        clock=seams.clock,
    )
    closers.append(client.close)
    source = CoachviewInvoices(client, tenant=config.tenant)
    return _invoice_pipeline(config, source, exact, store, settings, seams, progress)


def _clubassistent_invoices(
    config: Any,
    exact: ExactClient,
    store: StateStore,
    settings: SyncSettings,
    seams: Seams,
    progress: Callable[[int, int], object] | None,
    closers: list[Callable[[], object]],
) -> _Pipeline:
    from exactbridge.sync.connectors import ClubassistentInvoices

    source = ClubassistentInvoices(_files(config, "files"), tenant=config.tenant)
    return _invoice_pipeline(config, source, exact, store, settings, seams, progress)


_Builder = Callable[
    [
        Any,
        ExactClient,
        StateStore,
        SyncSettings,
        Seams,
        "Callable[[int, int], object] | None",
        "list[Callable[[], object]]",
    ],
    _Pipeline,
]

_BUILDERS: dict[tuple[str, str], _Builder] = {
    ("invoices", "virtuagym"): _virtuagym,
    ("invoices", "eduframe"): _eduframe,
    ("invoices", "coachview"): _coachview,
    ("invoices", "clubassistent"): _clubassistent_invoices,
    ("payouts", "paynl"): _paynl,
    ("mandates", "clubassistent"): _clubassistent_mandates,
}
