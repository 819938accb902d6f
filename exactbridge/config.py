"""Load an ``exactbridge.toml`` from your own code, and run its pipelines.

The ``exactbridge`` command reads one configuration file per project (see
docs/cli.md for every key). This module is the same loader, public and stable, for
hosts and notebooks that want the file's settings without the command line::

    from exactbridge.config import load_config, open_pipeline

    project = load_config("exactbridge.toml")
    project.pipeline("club").booking.sales_journal      # '70'

    with open_pipeline(project, "club") as pipeline:    # the state store, Exact and
        report = pipeline.preview()                     # the source, as `sync` opens them
    print(report.summary())

Every problem in the file is a :class:`ConfigFileError` (a
:class:`~exactbridge.errors.ConfigurationError`) naming the file, the dotted key and
what was expected. Secrets are never in the file: it names environment variables,
read only when a pipeline is opened (``environ`` replaces ``os.environ``).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import httpx

from exactbridge.cli._config import (
    CONFIG_ENV,
    DEFAULT_CONFIG_NAME,
    ConfigFileError,
    ExactSettings,
    PipelineConfig,
    ProjectConfig,
    config_path,
    load_config,
    make_credentials,
    make_exact_client,
    make_token_store,
)
from exactbridge.clock import Clock
from exactbridge.sync import SQLiteStateStore, StateStore, SyncReport

if TYPE_CHECKING:
    from types import TracebackType

    from exactbridge.cli._sync import _Pipeline
    from exactbridge.exact import ExactClient

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "ConfigFileError",
    "ExactSettings",
    "OpenPipeline",
    "PipelineConfig",
    "ProjectConfig",
    "config_path",
    "load_config",
    "make_credentials",
    "make_exact_client",
    "make_token_store",
    "open_pipeline",
]


class OpenPipeline:
    """A configured pipeline with what it was opened with; close it (or use ``with``).

    ``run()``, ``preview()`` and ``retry()`` are the pipeline's own (see
    :class:`~exactbridge.sync.InvoicePipeline`); ``pipeline`` is the pipeline itself
    and ``store`` its state store. ``close()`` closes what :func:`open_pipeline`
    opened (the source client, and the Exact client and state store unless you
    passed them in), never what you own.
    """

    def __init__(
        self,
        pipeline: _Pipeline,
        store: StateStore,
        closers: list[Callable[[], object]],
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self._closers = closers

    @property
    def name(self) -> str:
        """The pipeline's name (its ``[pipelines.NAME]``), which keys its run lock."""
        return self.pipeline.name

    def run(self) -> SyncReport:
        """One pass: book what is new or changed, retry what failed, report."""
        return self.pipeline.run()

    def preview(self) -> SyncReport:
        """What a run would book, without writing to Exact or to the state store."""
        return self.pipeline.preview()

    def retry(self) -> SyncReport:
        """Book again only the records that failed before."""
        return self.pipeline.retry()

    def close(self) -> None:
        """Close what was opened for this pipeline (safe to call twice)."""
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            close()

    def __enter__(self) -> OpenPipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<OpenPipeline {self.name!r}>"


def open_pipeline(
    project: ProjectConfig,
    name: str,
    *,
    exact: ExactClient | None = None,
    store: StateStore | None = None,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    exact_transport: httpx.BaseTransport | None = None,
    source_transports: Mapping[str, httpx.BaseTransport] | None = None,
    sync_from: dt.date | None = None,
    sync_until: dt.date | None = None,
) -> OpenPipeline:
    """Build pipeline ``name`` of ``project`` as ``exactbridge sync`` would.

    Without ``exact`` it makes the Exact client from ``[exact]`` (tokens from the
    configured token store, the client secret from the environment variable the file
    names); without ``store`` it opens the project's SQLite state file. Pass
    ``exact_transport`` / ``source_transports`` (keyed by source system, e.g.
    ``"virtuagym"``) to run on the fakes of :mod:`exactbridge.testing`.
    ``sync_from`` / ``sync_until`` replace the pipeline's ``[sync]`` dates for this
    opening (a one-off export of a date range, as ``exactbridge sync --from/--until``).
    Configuration errors raise :class:`ConfigFileError` before anything is opened.
    """
    from exactbridge.cli._sync import Seams, build_pipeline, sync_settings

    pipeline_config = project.pipeline(name)
    dates = argparse.Namespace(sync_from=sync_from, sync_until=sync_until)
    settings = sync_settings(pipeline_config, dates)
    exact_settings = project.require_exact() if exact is None else None
    seams = Seams(
        exact_transport=exact_transport,
        source_transports=dict(source_transports or {}),
        clock=clock,
        environ=environ,
    )
    closers: list[Callable[[], object]] = []
    try:
        if store is None:
            store = SQLiteStateStore(project.state_path)
            closers.append(store.close)
        if exact is None:
            assert exact_settings is not None
            exact = make_exact_client(
                exact_settings, environ=environ, transport=exact_transport, clock=clock
            )
            closers.append(exact.close)
        pipeline = build_pipeline(
            pipeline_config,
            exact=exact,
            store=store,
            seams=seams,
            settings=settings,
            closers=closers,
        )
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return OpenPipeline(pipeline, store, closers)
