"""Run pipelines as Celery tasks: :func:`register_sync_task`, :func:`beat_schedule`,
:func:`enqueue_sync` (needs ``pip install 'exactbridge[celery]'``).

A host that already runs Celery should not run :func:`~exactbridge.sync.run_every`
next to it: it registers one task that books one pipeline of one division, lets
Celery beat start it on a schedule (every two hours, nightly) and lets its webhook
handlers enqueue it when a source says something changed. The task:

- builds the pipeline with the host's ``factory(division, pipeline)`` (the host knows
  the credentials and the configuration; the task's arguments stay two JSON values);
- asks the shared rate-limit budget (``budget=``, optional) whether the division can
  make calls at all, and retries after the reset instead of starting a run that
  would stop at its first call;
- runs it under its run lock (:func:`~exactbridge.sync.run_locked`); when another
  worker holds the lock, the task is retried later instead of waiting inside the
  worker;
- retries at the reset time when the run was stopped by a rate limit, retries with
  exponential backoff when Exact or the source was unreachable, and does not retry
  a permanent failure;
- returns a small JSON summary of the report (:func:`report_summary`).

Importing :mod:`exactbridge.sync` never imports Celery; only this module does.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import (
    ConfigurationError,
    DailyRateLimitError,
    RateLimitError,
    ServerError,
    ServiceUnavailableError,
    SourceAPIError,
    TransportError,
)
from exactbridge.exact import RateLimitState
from exactbridge.sync.locks import PipelineBusyError
from exactbridge.sync.report import SyncReport
from exactbridge.sync.schedule import Runnable, run_locked
from exactbridge.sync.state import RunStatus

try:
    import celery
    from celery.schedules import crontab
except ImportError as missing:  # pragma: no cover - exercised without the extra only
    raise ConfigurationError(
        f"exactbridge.sync.celery needs Celery, which is not installed ({missing})",
        key="celery",
        expected="pip install 'exactbridge[celery]'",
    ) from missing

__all__ = [
    "DEFAULT_TASK_NAME",
    "BudgetView",
    "PipelineFactory",
    "beat_schedule",
    "budget_delay",
    "enqueue_sync",
    "register_sync_task",
    "report_summary",
]

log = logging.getLogger("exactbridge.sync.celery")

#: The name :func:`register_sync_task` gives the task unless told otherwise.
DEFAULT_TASK_NAME = "exactbridge.sync"

#: Builds the pipeline ``pipeline`` (a name the host chooses, e.g. ``"virtuagym"``) of
#: Exact division ``division``. What it returns may also be a context manager: the task
#: then enters it around the run (to close the clients and the store it opened).
PipelineFactory = Callable[[int, str], Runnable]

# When a limit is used up but its reset is unknown, come back after this long.
_UNKNOWN_DAILY_RESET = 3600.0
_UNKNOWN_MINUTELY_RESET = 60.0
# Gateway-type 5xx answers: Exact's load balancers, not a business rule.
_TRANSIENT_STATUSES = frozenset({502, 503, 504})
# Runs that cover a webhook: they read the source after the webhook came.
_COVERING = frozenset({RunStatus.SUCCEEDED, RunStatus.PARTIAL})


@runtime_checkable
class BudgetView(Protocol):
    """What the task reads of a rate limiter: the known budget of a division.

    :class:`~exactbridge.exact.RateLimiter` has this method, and so does a shared
    (database-backed) limiter; pass the one your clients draw from, so the task sees
    the calls every worker has made.
    """

    def state(self, division: int) -> RateLimitState:
        """What is known of ``division``'s budget now."""
        ...


def _seconds_until(when: dt.datetime | None, now: dt.datetime) -> float | None:
    if when is None:
        return None
    return (when - now).total_seconds()


def budget_delay(state: RateLimitState, now: dt.datetime, *, margin: float = 5.0) -> float | None:
    """Seconds to wait before a run can make calls, or ``None`` when it may start now.

    The day counts first: with nothing left of it and its reset still ahead, the wait
    is until that reset (plus ``margin``). Then the minute, likewise. A used-up window
    whose reset has passed does not hold a run back: the budget has renewed since.

    >>> import datetime as dt
    >>> from exactbridge.exact import RateLimitState
    >>> now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
    >>> budget_delay(RateLimitState(daily_remaining=0, daily_reset=now.replace(hour=12)), now)
    10805.0
    >>> budget_delay(RateLimitState(daily_remaining=10, minutely_remaining=20), now) is None
    True
    """
    for remaining, reset in (
        (state.daily_remaining, state.daily_reset),
        (state.minutely_remaining, state.minutely_reset),
    ):
        if remaining is None or remaining > 0:
            continue
        left = _seconds_until(reset, now)
        if left is not None and left > 0:
            return left + margin
    return None


def report_summary(division: int, pipeline: str, report: SyncReport) -> dict[str, Any]:
    """The task's return value for a run: plain JSON values only.

    ``pipeline`` is the name the task was called with, ``name`` the pipeline's own
    name (as in the run history), ``status`` the :class:`~exactbridge.sync.RunStatus`
    value, ``counts`` the records per action (:meth:`SyncReport.counts`).
    """
    return {
        "division": division,
        "pipeline": pipeline,
        "name": report.pipeline,
        "status": report.status.value,
        "ok": report.ok,
        "counts": report.counts(),
        "exact_calls": report.exact_calls,
        "run_id": report.run_id,
        "notes": report.notes,
    }


def _no_run_summary(
    division: int, pipeline: str, name: str, status: str, notes: str
) -> dict[str, Any]:
    return {
        "division": division,
        "pipeline": pipeline,
        "name": name,
        "status": status,
        "ok": status == "covered",
        "counts": {},
        "exact_calls": 0,
        "run_id": None,
        "notes": notes,
    }


def _rate_limit_delay(exc: RateLimitError, now: dt.datetime, margin: float) -> float:
    left = _seconds_until(exc.reset_at, now)
    if left is not None:
        return max(left, 0.0) + margin
    if isinstance(exc, DailyRateLimitError):
        return _UNKNOWN_DAILY_RESET
    return _UNKNOWN_MINUTELY_RESET


def _is_transient(exc: BaseException) -> bool:
    """Would the same call probably work a little later?"""
    if isinstance(exc, (TransportError, ServiceUnavailableError)):
        return True
    if isinstance(exc, ServerError):
        return exc.status in _TRANSIENT_STATUSES
    if isinstance(exc, SourceAPIError):
        return exc.status is None or exc.status == 429 or exc.status >= 500
    return False


def _requested(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigurationError(
            f"got {value!r}", key="requested_at", expected="an ISO 8601 timestamp or None"
        )
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"got {value!r}", key="requested_at", expected="an ISO 8601 timestamp"
        ) from exc
    if when.tzinfo is None or when.utcoffset() is None:
        raise ConfigurationError(
            f"got {value!r}", key="requested_at", expected="a timestamp with a UTC offset"
        )
    return when


def _covered(pipeline: Runnable, requested_at: dt.datetime) -> bool:
    """Has a run that started after ``requested_at`` already read the source and finished?"""
    for run in pipeline.store.recent_runs(pipeline.name, limit=5):
        if run.started_at > requested_at and run.status in _COVERING:
            return True
    return False


def _check_seconds(value: object, key: str, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"got {value!r}", key=key, expected="a number of seconds")
    if value < 0 or (value == 0 and not allow_zero):
        expected = "a number of seconds >= 0" if allow_zero else "a positive number of seconds"
        raise ConfigurationError(f"got {value!r}", key=key, expected=expected)
    return float(value)


def _check_target(division: object, pipeline: object) -> None:
    if isinstance(division, bool) or not isinstance(division, int) or division <= 0:
        raise ConfigurationError(
            f"got {division!r}", key="division", expected="an Exact division number"
        )
    if not isinstance(pipeline, str) or not pipeline:
        raise ConfigurationError(
            f"got {pipeline!r}", key="pipeline", expected="a non-empty pipeline name"
        )


def _check_name(value: object, key: str) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"got {value!r}", key=key, expected="a non-empty task name")


def register_sync_task(
    app: Any,
    factory: PipelineFactory,
    *,
    budget: BudgetView | None = None,
    clock: Clock | None = None,
    name: str = DEFAULT_TASK_NAME,
    max_retries: int | None = 24,
    busy_retry_seconds: float = 120.0,
    reset_margin_seconds: float = 5.0,
    backoff_seconds: float = 30.0,
    backoff_max_seconds: float = 3600.0,
    queue: str | None = None,
    reject_on_worker_lost: bool = True,
) -> Any:
    """Register the sync task on the Celery ``app`` and return it.

    The task is called as ``task.delay(division, pipeline)`` (both JSON values; the
    keyword ``requested_at`` is set by :func:`enqueue_sync`). In order, it:

    1. builds the pipeline: ``factory(division, pipeline)``; a context manager is
       entered around the run;
    2. when ``requested_at`` is given (a webhook), returns at once with status
       ``"covered"`` if a run that *started after* that moment has already finished
       (it read the source after the change the webhook announced);
    3. when ``budget`` is given and ``budget.state(division)`` says the day (or the
       minute) is used up until a reset still ahead, retries at that reset plus
       ``reset_margin_seconds`` without running (:func:`budget_delay`);
    4. runs it with :func:`~exactbridge.sync.run_locked`. A
       :class:`~exactbridge.sync.PipelineBusyError` (another worker runs this
       division's pipeline) retries after ``busy_retry_seconds``: the run lock is
       respected and never waited on inside a worker. When the retries are used up
       the task ends with status ``"busy"``: the run that holds the lock, or the next
       scheduled one, books what there is;
    5. a run stopped by :class:`~exactbridge.errors.DailyRateLimitError` or
       :class:`~exactbridge.errors.MinutelyRateLimitError` (reported, or raised)
       retries at its ``reset_at`` plus the margin; one stopped because Exact or the
       source was unreachable retries after ``backoff_seconds * 2**retries`` (at most
       ``backoff_max_seconds``); any other exception fails the task, unretried;
    6. returns :func:`report_summary` of the report. A report that is not ``ok``
       for a permanent reason (records that failed to map, refused access) is not
       retried: the next scheduled run retries failed records, and the pipeline's
       ``on_failure`` hook has already been called.

    ``max_retries`` counts every retry of one task (busy, budget, rate limit,
    backoff); ``None`` retries forever. ``clock`` gives "now" for the countdowns
    (default the system clock). ``queue`` routes the task to a queue of its own.

    The task is registered with ``acks_late=True``: the broker message is
    acknowledged after the run, so a worker that dies mid-run leaves it to be
    delivered again. With ``reject_on_worker_lost`` (the default) that also holds
    when only the pool process running the task dies (killed by the kernel's
    out-of-memory killer, say): the message goes back to the queue at once instead of
    being acknowledged as failed. That is safe because a re-run is idempotent: the
    state store remembers every booking (and every write whose answer was lost), so
    each invoice is booked once however often the task runs, and each attempt goes on
    where the last one stopped. Celery does not count these deliveries as retries: a
    pool process that dies every time before it books anything is delivered again and
    again, so watch for it in the worker's log (``WorkerLostError``), or pass ``False``
    to let a lost pool process fail the task instead.
    """
    if not isinstance(app, celery.Celery):
        raise ConfigurationError(f"got {app!r}", key="app", expected="a celery.Celery app")
    if not callable(factory):
        raise ConfigurationError(
            f"got {factory!r}", key="factory", expected="a callable (division, pipeline)"
        )
    if budget is not None and not isinstance(budget, BudgetView):
        raise ConfigurationError(
            f"got {budget!r}", key="budget", expected="an object with state(division)"
        )
    _check_name(name, "name")
    given: object = max_retries
    if given is not None and (isinstance(given, bool) or not isinstance(given, int) or given < 0):
        raise ConfigurationError(
            f"got {max_retries!r}", key="max_retries", expected="a number >= 0 or None"
        )
    busy_delay = _check_seconds(busy_retry_seconds, "busy_retry_seconds")
    margin = _check_seconds(reset_margin_seconds, "reset_margin_seconds", allow_zero=True)
    backoff = _check_seconds(backoff_seconds, "backoff_seconds")
    backoff_max = _check_seconds(backoff_max_seconds, "backoff_max_seconds")
    time: Clock = clock or SystemClock()
    options: dict[str, Any] = {}
    if queue is not None:
        options["queue"] = queue

    def retries_left(task: Any) -> bool:
        limit = task.max_retries
        return limit is None or task.request.retries < limit

    def backoff_delay(task: Any) -> float:
        return float(min(backoff * 2 ** int(task.request.retries), backoff_max))

    def run_sync(
        task: Any, division: int, pipeline: str, requested_at: str | None = None
    ) -> dict[str, Any]:
        _check_target(division, pipeline)
        requested = _requested(requested_at)
        built = factory(division, pipeline)
        with contextlib.ExitStack() as stack:
            if isinstance(built, contextlib.AbstractContextManager):
                stack.enter_context(built)
            if requested is not None and _covered(built, requested):
                log.info(
                    "division %s, pipeline %s: a run after %s already finished; nothing to do",
                    division,
                    built.name,
                    requested.isoformat(),
                )
                return _no_run_summary(
                    division, pipeline, built.name, "covered", "a later run already read the source"
                )
            if budget is not None:
                delay = budget_delay(budget.state(division), time.now(), margin=margin)
                if delay is not None:
                    log.info(
                        "division %s, pipeline %s: Exact's budget is used up; retrying in %.0f s",
                        division,
                        built.name,
                        delay,
                    )
                    raise task.retry(countdown=delay)
            try:
                report = run_locked(built)
            except PipelineBusyError as busy:
                if not retries_left(task):
                    log.warning("division %s: %s; giving up after the last retry", division, busy)
                    return _no_run_summary(division, pipeline, built.name, "busy", str(busy))
                log.info("division %s: %s; retrying in %.0f s", division, busy, busy_delay)
                raise task.retry(countdown=busy_delay) from None
            except RateLimitError as exc:
                delay = _rate_limit_delay(exc, time.now(), margin)
                raise task.retry(exc=exc, countdown=delay) from None
            except Exception as exc:
                if _is_transient(exc):
                    raise task.retry(exc=exc, countdown=backoff_delay(task)) from None
                raise
        error = report.error
        if report.status is RunStatus.STOPPED and error is not None:
            if isinstance(error, RateLimitError):
                raise task.retry(exc=error, countdown=_rate_limit_delay(error, time.now(), margin))
            if _is_transient(error):
                raise task.retry(exc=error, countdown=backoff_delay(task))
        if report.status is RunStatus.FAILED and error is not None and _is_transient(error):
            # A source that could not be read (an outage, not a bad record).
            raise task.retry(exc=error, countdown=backoff_delay(task))
        return report_summary(division, pipeline, report)

    run_sync.__doc__ = f"Book pipeline ``pipeline`` of Exact division ``division`` ({name})."
    return app.task(
        run_sync,
        bind=True,
        # Not a shared task: it belongs to this app and its factory only, and is not
        # added to every other app finalized in the process.
        shared=False,
        name=name,
        acks_late=True,
        reject_on_worker_lost=bool(reject_on_worker_lost),
        max_retries=max_retries,
        ignore_result=False,
        **options,
    )


def enqueue_sync(
    task: Any,
    division: int,
    pipeline: str,
    *,
    countdown: float = 0,
    clock: Clock | None = None,
) -> Any:
    """Ask for a run of ``pipeline`` of ``division`` now (a webhook came); returns the AsyncResult.

    The message carries the moment of the request (``requested_at``, from ``clock``).
    When its task starts and a run that began *after* that moment has already
    finished, it returns at once with status ``"covered"``. So a burst of webhooks
    for one division costs one or two runs, not one per webhook: the first task runs;
    the others find the run lock taken, are retried after ``busy_retry_seconds`` and
    then see the run that covered them. A ``countdown`` of a few seconds (say 30)
    lets a burst settle before the first run starts, so that one run covers it all.

    The run lock alone already keeps two runs of one pipeline from overlapping; the
    covering check keeps the queued duplicates from re-reading the source afterwards.
    (Celery does not drop a second message with the same task id, so a fixed task id
    would not de-duplicate; every request gets its own id.)
    """
    _check_target(division, pipeline)
    delay = _check_seconds(countdown, "countdown", allow_zero=True)
    requested = (clock or SystemClock()).now()
    options: dict[str, Any] = {}
    if delay:
        options["countdown"] = delay
    return task.apply_async(
        args=(division, pipeline), kwargs={"requested_at": requested.isoformat()}, **options
    )


def beat_schedule(
    divisions: Iterable[int],
    pipelines: Iterable[str],
    *,
    every: dt.timedelta | None = None,
    nightly_at: dt.time | None = None,
    task_name: str = DEFAULT_TASK_NAME,
    options: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """Celery beat entries running every pipeline of every division; for ``app.conf.beat_schedule``.

    ``every=timedelta(hours=2)`` runs each one every two hours; ``nightly_at=time(2, 30)``
    once a night, as a :class:`celery.schedules.crontab` (in the app's ``timezone``
    setting, e.g. ``"Europe/Amsterdam"``; give a naive time). Both may be given: each
    pair then gets two entries. ``options`` are passed on as each entry's
    ``options`` (e.g. ``{"queue": "exactbridge"}``).

    >>> import datetime as dt
    >>> sorted(beat_schedule([1001], ["virtuagym"], every=dt.timedelta(hours=2)))
    ['exactbridge.sync:1001:virtuagym:every']
    """
    if every is None and nightly_at is None:
        raise ConfigurationError(
            "no schedule",
            key="beat_schedule",
            expected="every=timedelta(...) or nightly_at=time(...)",
        )
    schedules: list[tuple[str, Any]] = []
    if every is not None:
        interval: object = every
        if not isinstance(interval, dt.timedelta) or every <= dt.timedelta(0):
            raise ConfigurationError(
                f"got {every!r}", key="every", expected="a positive datetime.timedelta"
            )
        schedules.append(("every", every))
    if nightly_at is not None:
        at: object = nightly_at
        if not isinstance(at, dt.time):
            raise ConfigurationError(
                f"got {nightly_at!r}", key="nightly_at", expected="a datetime.time"
            )
        if nightly_at.tzinfo is not None:
            raise ConfigurationError(
                f"got {nightly_at!r}",
                key="nightly_at",
                expected="a naive time (it is read in the Celery app's timezone setting)",
            )
        schedules.append(("nightly", crontab(hour=nightly_at.hour, minute=nightly_at.minute)))
    _check_name(task_name, "task_name")
    names = list(pipelines)
    entries: dict[str, dict[str, Any]] = {}
    for division in divisions:
        for pipeline in names:
            _check_target(division, pipeline)
            for kind, schedule in schedules:
                entry: dict[str, Any] = {
                    "task": task_name,
                    "schedule": schedule,
                    "args": (division, pipeline),
                }
                if options:
                    entry["options"] = dict(options)
                entries[f"{task_name}:{division}:{pipeline}:{kind}"] = entry
    if not entries:
        raise ConfigurationError(
            "no divisions or no pipelines", key="beat_schedule", expected="at least one of each"
        )
    return entries
