"""The run frame every pipeline shares: run record, report, hooks, stop conditions.

:class:`PipelineBase` runs ``_work`` between ``store.start_run`` and
``store.finish_run``, turns run-ending conditions (Exact's daily limit, an outage,
refused access) into a STOPPED or FAILED report, and calls the ``on_failure`` hook.
:func:`stop_for` is the one place that decides which errors end a run and which are
a single record's failure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Generic, TypeVar

import attrs

from exactbridge.clock import Clock
from exactbridge.errors import (
    AuthenticationError,
    AuthError,
    DailyRateLimitError,
    ExactBridgeError,
    OutcomeUnknownError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    SourceError,
    TransportError,
)
from exactbridge.exact import ExactClient
from exactbridge.sync._exact_ops import DivisionSession
from exactbridge.sync.report import Action, RecordResult, SyncReport
from exactbridge.sync.settings import SyncSettings
from exactbridge.sync.state import RunRecord, RunStatus, StateStore
from exactbridge.sync.targets import check_target, exact_target

__all__ = [
    "FIRST_RUN",
    "PipelineBase",
    "RunState",
    "Stop",
    "fingerprint",
    "json_default",
    "stop_for",
]

log = logging.getLogger("exactbridge.sync")

#: The cursor holding the day of a pipeline's first run (for ``backfill = false``).
FIRST_RUN = "first_run"


def json_default(value: object) -> str:
    if isinstance(value, (Decimal, dt.date)):
        return str(value)
    return repr(getattr(value, "value", value))


def fingerprint(data: object) -> str:
    text = json.dumps(data, sort_keys=True, default=json_default, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Stop(Exception):
    """Internal: the run must end now (daily limit, outage, refused login)."""

    def __init__(self, status: RunStatus, error: ExactBridgeError, note: str) -> None:
        super().__init__(note)
        self.status = status
        self.error = error
        self.note = note


def stop_for(exc: ExactBridgeError) -> Stop | None:
    """The run-ending condition ``exc`` stands for, or ``None`` for a per-record failure.

    A lost answer (:class:`OutcomeUnknownError`) is a per-record matter: the record
    stays PENDING and the next run resolves it.
    """
    if isinstance(exc, DailyRateLimitError):
        return Stop(
            RunStatus.STOPPED,
            exc,
            f"Exact's daily limit is used up (resets at {exc.reset_at}); "
            "the next run resumes where this one stopped",
        )
    if isinstance(exc, (AuthError, AuthenticationError, PermissionDeniedError)):
        return Stop(RunStatus.FAILED, exc, f"Exact refused access: {exc}")
    if isinstance(exc, OutcomeUnknownError):
        return None
    if isinstance(exc, (ServiceUnavailableError, TransportError)):
        return Stop(RunStatus.STOPPED, exc, f"Exact Online is unreachable or unavailable: {exc}")
    if isinstance(exc, RateLimitError):
        return Stop(RunStatus.STOPPED, exc, f"rate limited by Exact: {exc}")
    return None


@attrs.define
class RunState:
    """Mutable state of one run (every pipeline's; pipelines add their own fields)."""

    session: DivisionSession
    dry_run: bool
    now: dt.datetime
    results: list[RecordResult] = attrs.field(factory=list)
    unchanged: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0

    def add(self, result: RecordResult) -> None:
        self.results.append(result)


S = TypeVar("S", bound=RunState)


class PipelineBase(Generic[S]):
    """What every pipeline shares: the run frame, the report, the hooks."""

    kind = ""

    exact: ExactClient
    store: StateStore
    name: str
    clock: Clock
    on_failure: Callable[[SyncReport], object] | None
    progress: Callable[[int, int], object] | None

    def _new_state(self, dry_run: bool, now: dt.datetime) -> S:
        raise NotImplementedError

    def _work(self, state: S, only_retry: bool) -> None:
        raise NotImplementedError

    #: One INFO progress line per this many records (and one at the end of a batch),
    #: so a long run speaks in logs and redirected output, not only on a terminal.
    progress_every: int = 50

    def _tick(self, state: S, done: int, total: int) -> None:
        """One record of ``total`` is done: call ``progress`` and log every N records."""
        if self.progress is not None:
            self.progress(done, total)
        if done % self.progress_every and done != total:
            return
        counts: dict[str, int] = {}
        for result in state.results:
            counts[result.action.value] = counts.get(result.action.value, 0) + 1
        summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items()))
        log.info(
            "pipeline %s: %d/%d records processed%s",
            self.name,
            done,
            total,
            f" ({summary})" if summary else "",
        )

    def _execute(self, *, dry_run: bool, only_retry: bool) -> SyncReport:
        started = self.clock.now()
        # Before anything is read or written: is this store this division's?
        check_target(
            self.store, exact_target(self.exact), pipeline=self.name, now=started, claim=not dry_run
        )
        calls_before = self.exact.calls
        run_record = None if dry_run else self.store.start_run(self.name, now=started)
        state = self._new_state(dry_run, started)
        status = RunStatus.SUCCEEDED
        notes = ""
        error: ExactBridgeError | None = None
        try:
            self._work(state, only_retry)
        except Stop as stop:
            status, error, notes = stop.status, stop.error, stop.note
            log.warning("pipeline %s stopped: %s", self.name, notes)
        except SourceError as exc:
            status, error, notes = RunStatus.FAILED, exc, f"reading the source failed: {exc}"
            log.error("pipeline %s: %s", self.name, notes)
        if status is RunStatus.SUCCEEDED and any(r.action is Action.FAILED for r in state.results):
            status = RunStatus.PARTIAL
        return self._finish(state, run_record, status, notes, error, calls_before, started)

    def _finish(
        self,
        state: S,
        run_record: RunRecord | None,
        status: RunStatus,
        notes: str,
        error: ExactBridgeError | None,
        calls_before: int,
        started: dt.datetime,
    ) -> SyncReport:
        results = tuple(state.results)
        finished = self.clock.now()
        calls = self.exact.calls - calls_before

        def count(action: Action) -> int:
            return sum(1 for r in results if r.action is action)

        run_id = None
        if run_record is not None:
            done = self.store.finish_run(
                run_record,
                status=status,
                now=finished,
                booked=count(Action.BOOKED),
                updated=count(Action.UPDATED),
                reversed=count(Action.REVERSED),
                skipped=count(Action.SKIPPED),
                failed=count(Action.FAILED),
                exact_calls=calls,
                notes=notes,
            )
            run_id = done.run_id
        report = SyncReport(
            pipeline=self.name,
            status=status,
            started_at=started,
            finished_at=finished,
            results=results,
            dry_run=state.dry_run,
            unchanged=state.unchanged,
            accounts_created=state.accounts_created,
            accounts_updated=state.accounts_updated,
            exact_calls=calls,
            notes=notes,
            run_id=run_id,
            error=error,
        )
        log.info(
            "pipeline %s: %s, %s, %d Exact calls", self.name, status.value, report.counts(), calls
        )
        if not report.ok and self.on_failure is not None:
            try:
                self.on_failure(report)
            except Exception:
                log.exception("pipeline %s: the on_failure hook raised", self.name)
        return report

    def _guarded(
        self,
        state: S,
        step: Callable[[], None],
        failed: Callable[[str, bool], None],
    ) -> None:
        """Run one record's ``step``; a failure is reported through ``failed(reason, unknown)``.

        Conditions that concern the whole run (daily limit, outage, refused access)
        end it; anything else is the record's own failure.
        """
        try:
            step()
        except Stop:
            raise
        except ExactBridgeError as exc:
            stop = stop_for(exc)
            if stop is not None:
                raise stop from exc
            unknown = isinstance(exc, OutcomeUnknownError)
            reason = f"outcome unknown, resolved next run: {exc}" if unknown else str(exc)
            failed(reason, unknown)

    @staticmethod
    def _beyond_until(settings: SyncSettings, day: dt.date, what: str) -> str | None:
        """Why a record dated ``day`` is left for a later run, or ``None`` when it is not."""
        until = settings.sync_until
        if until is None or day <= until:
            return None
        return f"{what} {day}, after the sync-until date {until}; left for a later run"

    @staticmethod
    def _saves_cursor(settings: SyncSettings) -> bool:
        """Whether a run moves the source's cursor on: not when an end date holds records back."""
        return settings.sync_until is None

    def _cutoff(self, settings: SyncSettings, state: S) -> dt.date | None:
        """The first day to book: the later of ``sync_from`` and, without backfill, day one."""
        cutoff = settings.sync_from
        if not settings.backfill:
            first = self.store.get_cursor(self.name, FIRST_RUN)
            if first is None:
                first = state.now.date().isoformat()
                if not state.dry_run:
                    self.store.set_cursor(self.name, FIRST_RUN, first, now=state.now)
            first_day = dt.date.fromisoformat(first)
            cutoff = first_day if cutoff is None else max(cutoff, first_day)
        return cutoff
