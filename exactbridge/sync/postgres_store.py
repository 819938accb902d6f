"""A state store in PostgreSQL, for many workers on many machines (``exactbridge[postgres]``).

:class:`PostgresStateStore` implements :class:`~exactbridge.sync.state.StateStore`
with psycopg 3 in one PostgreSQL schema (``exactbridge`` by default), so workers on
several machines share what was booked. The same contract tests run against it and
against the SQLite store.

How it keeps a record booked once when several workers run:

- **One transaction per change**, and each change of a booking record first takes a
  transaction-scoped advisory lock on that record's key
  (``pg_advisory_xact_lock``): the read-check-write of a status transition of one
  record is serialised across every connection, while different records proceed
  in parallel. An intent is committed before the Exact write it announces.
- **Run lock** (:meth:`PostgresStateStore.run_lock`): a session-level advisory lock
  on the pipeline's name, held on a connection of its own for the whole run. A
  worker that crashes loses its connection and PostgreSQL frees the lock at once:
  no lease to expire, no stale lock to clean up.
- **Schema versioned** in ``<schema>.schema_version``; the migrations are applied in
  order, in one transaction, under an advisory lock, so two workers starting at the
  same time migrate once. A schema written by a newer exactbridge is refused.

Problems of the database (unreachable server, refused login, a damaged row) raise
:class:`~exactbridge.errors.SyncError` naming the server and database, never the
password; no bare psycopg exception escapes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from exactbridge import _postgres as _pg
from exactbridge._postgres import describe_conninfo, lock_id
from exactbridge.errors import SyncError
from exactbridge.sync.locks import PipelineBusyError
from exactbridge.sync.state import (
    BookingKey,
    BookingRecord,
    BookingStatus,
    OutcomeMethods,
    RunRecord,
    RunStatus,
    _check_cursor_value,
    _check_key,
    _check_limit,
    _check_name,
    _utc,
    finished_run,
    intent_record,
    outcome_record,
)

__all__ = ["POSTGRES_SCHEMA_VERSION", "PostgresRunLock", "PostgresStateStore"]

#: One entry per schema version; never edit a released entry, append a new one.
#: ``{schema}`` is the store's schema name (quoted).
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE {schema}.sync_bookings (
            source TEXT NOT NULL,
            tenant TEXT NOT NULL,
            kind TEXT NOT NULL,
            source_id TEXT NOT NULL,
            status TEXT NOT NULL,
            exact_id TEXT,
            entry_number BIGINT,
            your_ref TEXT,
            journal TEXT,
            content_hash TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TIMESTAMPTZ NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            extra TEXT NOT NULL DEFAULT '{{}}',
            PRIMARY KEY (source, tenant, kind, source_id)
        )
        """,
        "CREATE INDEX sync_bookings_by_status ON {schema}.sync_bookings (status, updated_at)",
        """
        CREATE TABLE {schema}.sync_cursors (
            pipeline TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (pipeline, name)
        )
        """,
        """
        CREATE TABLE {schema}.sync_runs (
            run_id BIGSERIAL PRIMARY KEY,
            pipeline TEXT NOT NULL,
            started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ,
            status TEXT NOT NULL,
            booked INTEGER NOT NULL DEFAULT 0,
            updated INTEGER NOT NULL DEFAULT 0,
            reversed INTEGER NOT NULL DEFAULT 0,
            skipped INTEGER NOT NULL DEFAULT 0,
            failed INTEGER NOT NULL DEFAULT 0,
            exact_calls INTEGER NOT NULL DEFAULT 0,
            notes TEXT NOT NULL DEFAULT ''
        )
        """,
        "CREATE INDEX sync_runs_by_pipeline ON {schema}.sync_runs (pipeline, run_id)",
    ),
)

#: The schema version this exactbridge writes.
POSTGRES_SCHEMA_VERSION: int = len(_MIGRATIONS)

_BOOKING_COLUMNS = (
    "source, tenant, kind, source_id, status, exact_id, entry_number, your_ref, journal, "
    "content_hash, attempts, last_error, created_at, updated_at, extra"
)
_RUN_COLUMNS = (
    "run_id, pipeline, started_at, finished_at, status, booked, updated, reversed, "
    "skipped, failed, exact_calls, notes"
)
_KEYS_PER_QUERY = 5000
# Advisory lock name spaces (the first int of the two-int form).
_LOCK_RECORD = 0x45_42_02
_LOCK_RUN = 0x45_42_03


class PostgresStateStore(OutcomeMethods):
    """A :class:`~exactbridge.sync.state.StateStore` in a PostgreSQL database.

    ``conninfo`` is a libpq connection string or URL (keep the password out of it:
    libpq reads ``PGPASSWORD`` or ``~/.pgpass``); ``schema`` the schema that holds
    the tables (created when missing), so several stores can share one database;
    ``connect_timeout`` seconds to wait for the server. Example::

        store = PostgresStateStore("host=db.internal dbname=exactbridge user=sync")
        with store.run_lock("club-12-invoices"):
            pipeline.run()
    """

    def __init__(
        self, conninfo: str, *, schema: str = "exactbridge", connect_timeout: float = 10.0
    ) -> None:
        self._conninfo = _pg.check_conninfo(conninfo, "PostgresStateStore.conninfo")
        self._schema = _pg.check_schema(schema, "PostgresStateStore.schema")
        self._psycopg = _pg.psycopg("PostgresStateStore")
        self._where = describe_conninfo(conninfo)
        self._timeout = connect_timeout
        self._lock = threading.RLock()
        self._closed = False
        self._conn = self._connect()
        try:
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    # --- connection, schema, errors -------------------------------------------------

    @property
    def schema(self) -> str:
        """The PostgreSQL schema holding this store's tables."""
        return self._schema

    @property
    def schema_version(self) -> int:
        """The version of the store's tables."""
        with self._transaction("read the schema version") as cur:
            cur.execute(f"SELECT version FROM {self._q}.schema_version")
            row = cur.fetchone()
        return int(row[0])

    @property
    def _q(self) -> str:
        return f'"{self._schema}"'

    def _error(self, action: str, exc: BaseException) -> SyncError:
        return SyncError(f"state store {self._where}: cannot {action}: {_pg.error_detail(exc)}")

    def _connect(self) -> Any:
        return _pg.connect(
            self._psycopg, self._conninfo, self._timeout, lambda exc: self._error("connect", exc)
        )

    def _refuse(self, version: int) -> SyncError:
        return SyncError(
            f"state store {self._where}: schema {self._schema} is at version {version}, "
            f"written by a newer exactbridge (this one knows up to "
            f"{POSTGRES_SCHEMA_VERSION}); upgrade exactbridge to use it"
        )

    def _migrate(self) -> None:
        with self._transaction("migrate the schema") as cur:
            _pg.migrate(
                cur,
                schema=self._schema,
                table="schema_version",
                migrations=_MIGRATIONS,
                refuse=self._refuse,
            )

    @contextlib.contextmanager
    def _transaction(self, action: str, *, lock: BookingKey | None = None) -> Iterator[Any]:
        """One transaction, committed when the block ends normally; ``lock`` serialises
        the changes of that booking record across every connection."""
        with self._lock:
            if self._closed:
                raise SyncError(f"state store {self._where} is closed")
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    if lock is not None:
                        cur.execute(
                            "SELECT pg_advisory_xact_lock(%s, %s)",
                            (_LOCK_RECORD, lock_id(self._schema, str(lock))),
                        )
                    yield cur
            except self._psycopg.Error as exc:
                raise self._error(action, exc) from None

    def __enter__(self) -> PostgresStateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection; later calls raise ``SyncError``. Idempotent."""
        with self._lock:
            if not self._closed:
                self._closed = True
                with contextlib.suppress(self._psycopg.Error):
                    self._conn.close()

    def __repr__(self) -> str:
        return f"PostgresStateStore({self._where!r}, schema={self._schema!r})"

    # --- rows <-> records ------------------------------------------------------------

    def _record(self, row: Sequence[Any]) -> BookingRecord:
        try:
            return BookingRecord(
                key=BookingKey(source=row[0], tenant=row[1], kind=row[2], source_id=row[3]),
                status=BookingStatus(row[4]),
                exact_id=row[5],
                entry_number=row[6],
                your_ref=row[7],
                journal=row[8],
                content_hash=row[9],
                attempts=row[10],
                last_error=row[11],
                created_at=row[12],
                updated_at=row[13],
                extra=json.loads(row[14]),
            )
        except (ValueError, TypeError) as exc:
            key_text = "/".join(str(part) for part in row[:4])
            raise SyncError(
                f"state store {self._where}: booking {key_text} is damaged ({exc})"
            ) from exc

    def _run(self, row: Sequence[Any]) -> RunRecord:
        try:
            return RunRecord(
                run_id=row[0],
                pipeline=row[1],
                started_at=row[2],
                finished_at=row[3],
                status=RunStatus(row[4]),
                booked=row[5],
                updated=row[6],
                reversed=row[7],
                skipped=row[8],
                failed=row[9],
                exact_calls=row[10],
                notes=row[11],
            )
        except (ValueError, TypeError) as exc:
            raise SyncError(f"state store {self._where}: run {row[0]} is damaged ({exc})") from exc

    def _select_one(self, cur: Any, key: BookingKey) -> BookingRecord | None:
        cur.execute(
            f"SELECT {_BOOKING_COLUMNS} FROM {self._q}.sync_bookings "
            "WHERE source = %s AND tenant = %s AND kind = %s AND source_id = %s",
            (key.source, key.tenant, key.kind, key.source_id),
        )
        row = cur.fetchone()
        return None if row is None else self._record(row)

    def _save(self, cur: Any, record: BookingRecord) -> None:
        k = record.key
        cur.execute(
            f"INSERT INTO {self._q}.sync_bookings ({_BOOKING_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (source, tenant, kind, source_id) DO UPDATE SET "
            "status = EXCLUDED.status, exact_id = EXCLUDED.exact_id, "
            "entry_number = EXCLUDED.entry_number, your_ref = EXCLUDED.your_ref, "
            "journal = EXCLUDED.journal, content_hash = EXCLUDED.content_hash, "
            "attempts = EXCLUDED.attempts, last_error = EXCLUDED.last_error, "
            "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, "
            "extra = EXCLUDED.extra",
            (
                k.source,
                k.tenant,
                k.kind,
                k.source_id,
                record.status.value,
                record.exact_id,
                record.entry_number,
                record.your_ref,
                record.journal,
                record.content_hash,
                record.attempts,
                record.last_error,
                record.created_at,
                record.updated_at,
                json.dumps(dict(record.extra), sort_keys=True, ensure_ascii=False),
            ),
        )

    # --- booking records -------------------------------------------------------------

    def get(self, key: BookingKey) -> BookingRecord | None:
        """See :meth:`~exactbridge.sync.state.StateStore.get`."""
        _check_key(key)
        with self._transaction(f"read booking {key}") as cur:
            return self._select_one(cur, key)

    def get_many(self, keys: Iterable[BookingKey]) -> dict[BookingKey, BookingRecord]:
        """See :meth:`~exactbridge.sync.state.StateStore.get_many` (one query per 5,000 keys)."""
        wanted = list(dict.fromkeys(_check_key(k) for k in keys))
        found: dict[BookingKey, BookingRecord] = {}
        columns = ", ".join("b." + column for column in _BOOKING_COLUMNS.split(", "))
        with self._transaction(f"read {len(wanted)} bookings") as cur:
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                cur.execute(
                    f"SELECT {columns} FROM unnest(%s::text[], %s::text[], %s::text[], "
                    "%s::text[]) AS w (source, tenant, kind, source_id) "
                    f"JOIN {self._q}.sync_bookings AS b USING (source, tenant, kind, source_id)",
                    (
                        [k.source for k in chunk],
                        [k.tenant for k in chunk],
                        [k.kind for k in chunk],
                        [k.source_id for k in chunk],
                    ),
                )
                for row in cur.fetchall():
                    record = self._record(row)
                    found[record.key] = record
        return found

    def record_intent(
        self,
        key: BookingKey,
        *,
        content_hash: str | None,
        your_ref: str | None,
        journal: str | None,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.record_intent` (committed on return)."""
        _check_key(key)
        with self._transaction(f"record the intent for {key}", lock=key) as cur:
            record = intent_record(
                key,
                self._select_one(cur, key),
                content_hash=content_hash,
                your_ref=your_ref,
                journal=journal,
                now=now,
                extra=extra,
            )
            self._save(cur, record)
        return record

    def _outcome(self, key: BookingKey, target: BookingStatus, **kwargs: Any) -> BookingRecord:
        _check_key(key)
        with self._transaction(f"mark {key} {target.name}", lock=key) as cur:
            record = outcome_record(key, self._select_one(cur, key), target, **kwargs)
            self._save(cur, record)
        return record

    def _with_status(
        self,
        status: BookingStatus,
        source: str | None,
        tenant: str | None,
        kind: str | None,
    ) -> list[BookingRecord]:
        where = ["status = %s"]
        params: list[str] = [status.value]
        for column, value in (("source", source), ("tenant", tenant), ("kind", kind)):
            if value is not None:
                _check_name(value, column)
                where.append(f"{column} = %s")
                params.append(value)
        with self._transaction(f"list {status.name} bookings") as cur:
            cur.execute(
                f"SELECT {_BOOKING_COLUMNS} FROM {self._q}.sync_bookings "
                f"WHERE {' AND '.join(where)} "
                "ORDER BY updated_at, source, tenant, kind, source_id",
                params,
            )
            rows = cur.fetchall()
        return [self._record(row) for row in rows]

    # --- cursors ---------------------------------------------------------------------

    def get_cursor(self, pipeline: str, name: str) -> str | None:
        """See :meth:`~exactbridge.sync.state.StateStore.get_cursor`."""
        _check_name(pipeline)
        _check_name(name, "name")
        with self._transaction(f"read cursor {pipeline}/{name}") as cur:
            cur.execute(
                f"SELECT value FROM {self._q}.sync_cursors WHERE pipeline = %s AND name = %s",
                (pipeline, name),
            )
            row = cur.fetchone()
        return None if row is None else str(row[0])

    def set_cursor(self, pipeline: str, name: str, value: str | None, *, now: dt.datetime) -> None:
        """See :meth:`~exactbridge.sync.state.StateStore.set_cursor`."""
        _check_name(pipeline)
        _check_name(name, "name")
        _check_cursor_value(value)
        when = _utc(now, key="now")
        with self._transaction(f"write cursor {pipeline}/{name}") as cur:
            if value is None:
                cur.execute(
                    f"DELETE FROM {self._q}.sync_cursors WHERE pipeline = %s AND name = %s",
                    (pipeline, name),
                )
            else:
                cur.execute(
                    f"INSERT INTO {self._q}.sync_cursors (pipeline, name, value, updated_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (pipeline, name) "
                    "DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at",
                    (pipeline, name, value, when),
                )

    # --- runs ------------------------------------------------------------------------

    def start_run(self, pipeline: str, *, now: dt.datetime) -> RunRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.start_run`."""
        _check_name(pipeline)
        when = _utc(now, key="now")
        with self._transaction(f"start a run of {pipeline}") as cur:
            cur.execute(
                f"INSERT INTO {self._q}.sync_runs (pipeline, started_at, status) "
                "VALUES (%s, %s, %s) RETURNING run_id",
                (pipeline, when, RunStatus.RUNNING.value),
            )
            run_id = int(cur.fetchone()[0])
        return RunRecord(
            run_id=run_id,
            pipeline=pipeline,
            started_at=when,
            finished_at=None,
            status=RunStatus.RUNNING,
        )

    def finish_run(
        self,
        run: RunRecord,
        *,
        status: RunStatus,
        now: dt.datetime,
        booked: int = 0,
        updated: int = 0,
        reversed: int = 0,
        skipped: int = 0,
        failed: int = 0,
        exact_calls: int = 0,
        notes: str = "",
    ) -> RunRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.finish_run`."""
        candidate: object = run
        run_id = run.run_id if isinstance(candidate, RunRecord) else None
        with self._transaction(f"finish run {run_id}") as cur:
            cur.execute(
                f"SELECT {_RUN_COLUMNS} FROM {self._q}.sync_runs WHERE run_id = %s FOR UPDATE",
                (run_id,),
            )
            row = cur.fetchone()
            done = finished_run(
                run,
                None if row is None else self._run(row),
                status=status,
                now=now,
                booked=booked,
                updated=updated,
                reversed=reversed,
                skipped=skipped,
                failed=failed,
                exact_calls=exact_calls,
                notes=notes,
            )
            cur.execute(
                f"UPDATE {self._q}.sync_runs SET finished_at = %s, status = %s, booked = %s, "
                "updated = %s, reversed = %s, skipped = %s, failed = %s, exact_calls = %s, "
                "notes = %s WHERE run_id = %s",
                (
                    done.finished_at,
                    done.status.value,
                    done.booked,
                    done.updated,
                    done.reversed,
                    done.skipped,
                    done.failed,
                    done.exact_calls,
                    done.notes,
                    done.run_id,
                ),
            )
        return done

    def recent_runs(self, pipeline: str | None = None, limit: int = 20) -> list[RunRecord]:
        """See :meth:`~exactbridge.sync.state.StateStore.recent_runs`."""
        if pipeline is not None:
            _check_name(pipeline)
        _check_limit(limit)
        with self._transaction("read the run history") as cur:
            if pipeline is None:
                cur.execute(
                    f"SELECT {_RUN_COLUMNS} FROM {self._q}.sync_runs ORDER BY run_id DESC LIMIT %s",
                    (limit,),
                )
            else:
                cur.execute(
                    f"SELECT {_RUN_COLUMNS} FROM {self._q}.sync_runs WHERE pipeline = %s "
                    "ORDER BY run_id DESC LIMIT %s",
                    (pipeline, limit),
                )
            rows = cur.fetchall()
        return [self._run(row) for row in rows]

    # --- run lock --------------------------------------------------------------------

    def run_lock(self, pipeline: str) -> PostgresRunLock:
        """The run lock of ``pipeline`` in this store's database (see :class:`PostgresRunLock`)."""
        return PostgresRunLock(self, pipeline)


class PostgresRunLock:
    """Exclusive right to run one pipeline, across every worker sharing the database.

    A session-level advisory lock on the pipeline's name (and the store's schema), held
    on a connection of its own while the run lasts. :meth:`try_acquire` never waits;
    as a context manager it raises :class:`~exactbridge.sync.PipelineBusyError` when
    another worker holds it. A crashed worker's connection ends, and PostgreSQL frees
    its lock with it.
    """

    def __init__(self, store: PostgresStateStore, pipeline: str) -> None:
        _check_name(pipeline)
        self._store = store
        self._pipeline = pipeline
        self._conn: Any = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._conn is not None

    def _ids(self) -> tuple[int, int]:
        return _LOCK_RUN, lock_id(self._store.schema, self._pipeline)

    def try_acquire(self) -> bool:
        """Take the lock if it is free; ``True`` when taken, ``False`` when another holds it."""
        with self._guard:
            if self._conn is not None:
                raise SyncError(f"run lock of {self._pipeline!r} is already held by this object")
            store = self._store
            conn = store._connect()
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT pg_try_advisory_lock(%s, %s)", self._ids())
                    taken = bool(cur.fetchone()[0])
                conn.commit()
            except store._psycopg.Error as exc:
                conn.close()
                raise store._error(f"take the run lock of {self._pipeline!r}", exc) from None
            if not taken:
                conn.close()
                return False
            self._conn = conn
            return True

    def release(self) -> None:
        """Give the lock back (closing its connection). Idempotent."""
        with self._guard:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(self._store._psycopg.Error):
                conn.close()

    def __enter__(self) -> PostgresRunLock:
        if not self.try_acquire():
            raise PipelineBusyError(self._pipeline, lock=f"PostgreSQL {self._store._where}")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
