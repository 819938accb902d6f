"""The durable state store: one SQLite database file (stdlib :mod:`sqlite3`).

:class:`SQLiteStateStore` implements :class:`~exactbridge.sync.state.StateStore`
in a single file, by default under the user's data directory
(:func:`default_state_path`).

Durability choices, and why:

- **WAL journal** (``PRAGMA journal_mode=WAL``): readers (``exactbridge status``)
  never block the running sync and the sync never blocks them.
- **synchronous=FULL** by default: in WAL mode, FULL syncs the log to disk at
  every commit, so a recorded intent survives a power cut or an OS crash, not only
  a crash of the process. ``NORMAL`` would be faster but can lose the last commits
  when the machine goes down; a lost intent whose write did reach Exact is
  exactly the case that books an invoice twice. One fsync per Exact write costs
  little next to Exact's own limits (about 60 calls a minute). Hosts that accept
  the risk can pass ``synchronous="NORMAL"``.
- **Every change is one transaction** started with ``BEGIN IMMEDIATE``: the
  read-check-write of a status transition cannot interleave with another writer,
  in this process or another one.
- **Schema versioned** with ``PRAGMA user_version`` and an ordered list of
  migrations applied, inside one transaction, when the store opens. A database
  written by a newer exactbridge is refused rather than misread.

One connection is shared by all threads of the process, guarded by a lock.
Problems of the database itself (a damaged file, a file that is not a database,
a lock held longer than ``timeout`` seconds) raise
:class:`~exactbridge.errors.SyncError` naming the file; no bare
:mod:`sqlite3` exception escapes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from exactbridge.errors import ConfigurationError, SyncError
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

__all__ = ["SCHEMA_VERSION", "SQLiteStateStore", "default_state_path", "project_state_path"]

#: One entry per schema version: the statements that bring a database from the
#: previous version to this one. Never edit a released entry; append a new one.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v1: booking records, cursors and run history.
    (
        """
        CREATE TABLE sync_bookings (
            source TEXT NOT NULL,
            tenant TEXT NOT NULL,
            kind TEXT NOT NULL,
            source_id TEXT NOT NULL,
            status TEXT NOT NULL,
            exact_id TEXT,
            entry_number INTEGER,
            your_ref TEXT,
            journal TEXT,
            content_hash TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (source, tenant, kind, source_id)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE sync_cursors (
            pipeline TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (pipeline, name)
        ) WITHOUT ROWID
        """,
        """
        CREATE TABLE sync_runs (
            run_id INTEGER PRIMARY KEY AUTOINCREMENT,
            pipeline TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
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
    ),
    # v2: small per-record facts (``extra``, a JSON object of strings) and indexes
    # for the retry queries (by status) and the run history (by pipeline).
    (
        "ALTER TABLE sync_bookings ADD COLUMN extra TEXT NOT NULL DEFAULT '{}'",
        "CREATE INDEX sync_bookings_by_status ON sync_bookings (status, updated_at)",
        "CREATE INDEX sync_runs_by_pipeline ON sync_runs (pipeline, run_id)",
    ),
)

#: The schema version this exactbridge writes (``PRAGMA user_version``).
SCHEMA_VERSION: int = len(_MIGRATIONS)

# How many keys one get_many statement may carry (4 parameters a key). SQLite
# before 3.32 allows 999 parameters per statement, later versions 32766.
_KEYS_PER_QUERY = 8000 if sqlite3.sqlite_version_info >= (3, 32, 0) else 240

_BOOKING_COLUMNS = (
    "source, tenant, kind, source_id, status, exact_id, entry_number, your_ref, journal, "
    "content_hash, attempts, last_error, created_at, updated_at, extra"
)
_RUN_COLUMNS = (
    "run_id, pipeline, started_at, finished_at, status, booked, updated, reversed, "
    "skipped, failed, exact_calls, notes"
)

_Synchronous = Literal["FULL", "NORMAL", "EXTRA"]


def default_state_path(app_name: str = "exactbridge") -> Path:
    """The default database file: ``<user data directory>/<app_name>/state.sqlite3``.

    The user data directory is ``$XDG_DATA_HOME`` (when set to an absolute path)
    or ``~/.local/share`` on Linux and other Unix systems, ``~/Library/Application
    Support`` on macOS and ``%LOCALAPPDATA%`` on Windows. Nothing is created; the
    store creates the folder when it opens. Example::

        >>> default_state_path().name
        'state.sqlite3'
    """
    return (
        _data_dir(sys.platform, os.environ, Path.home()) / _app_folder(app_name) / ("state.sqlite3")
    )


def project_state_path(
    config_file: str | os.PathLike[str],
    division: int | None = None,
    *,
    app_name: str = "exactbridge",
) -> Path:
    """The default state file of one configuration file (and division), when it names none.

    ``<user data directory>/<app_name>/state-<file stem>-<hash of its absolute
    path>[-<division>].sqlite3``: two configuration files, or one file pointed at two
    divisions, never share a state store by accident. For stores made before this
    rule: when the old shared file (:func:`default_state_path`) exists, it stays the
    default, so an upgrade never forgets what was booked (the store's Exact target,
    see :mod:`exactbridge.sync.targets`, then refuses another division). Example::

        >>> p = project_state_path("/srv/club/exactbridge.toml", 123)
        >>> p.name.startswith("state-exactbridge-") and p.name.endswith("-123.sqlite3")
        True
    """
    legacy = default_state_path(app_name)
    if legacy.exists():
        return legacy
    absolute = Path(config_file).expanduser().absolute()
    digest = hashlib.sha256(str(absolute).encode("utf-8")).hexdigest()[:10]
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in absolute.stem)[:40]
    suffix = f"-{division}" if division is not None else ""
    return legacy.with_name(f"state-{stem}-{digest}{suffix}.sqlite3")


def _app_folder(app_name: object) -> str:
    if (
        not isinstance(app_name, str)
        or not app_name.strip()
        or app_name in (".", "..")
        or any(sep in app_name for sep in ("/", "\\", "\0"))
    ):
        raise ConfigurationError(
            f"got {app_name!r}",
            key="app_name",
            expected="a non-empty folder name without path separators",
        )
    return app_name


def _data_dir(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """The per-user data directory for ``platform`` (a ``sys.platform`` value)."""
    if platform == "win32":
        local = environ.get("LOCALAPPDATA", "")
        return Path(local) if local else home / "AppData" / "Local"
    if platform == "darwin":
        return home / "Library" / "Application Support"
    xdg = environ.get("XDG_DATA_HOME", "")
    # The XDG spec says relative paths in these variables are invalid: ignore them.
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    return home / ".local" / "share"


def _text_time(value: dt.datetime) -> str:
    # Fixed-width ISO text in UTC, so text order is time order in SQL.
    return value.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


class SQLiteStateStore(OutcomeMethods):
    """A :class:`~exactbridge.sync.state.StateStore` in one SQLite file.

    ``path`` is the database file (created with its folder, mode 0600, when
    missing); ``None`` means :func:`default_state_path`. ``timeout`` is how many
    seconds a call waits for another process's write lock before it raises
    :class:`~exactbridge.errors.SyncError`. ``synchronous`` is SQLite's setting;
    keep ``"FULL"`` unless you accept losing the last intents in a power cut (see
    the module documentation). Example::

        with SQLiteStateStore("/var/lib/club/exactbridge.sqlite3") as store:
            rec = store.get(BookingKey("virtuagym", "club-12", "INV-7"))
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        timeout: float = 5.0,
        synchronous: _Synchronous = "FULL",
    ) -> None:
        self._path = _as_path(path)
        timeout_value: object = timeout
        if (
            isinstance(timeout_value, bool)
            or not isinstance(timeout_value, (int, float))
            or timeout_value < 0
        ):
            raise ConfigurationError(
                f"got {timeout!r}", key="timeout", expected="a number of seconds >= 0"
            )
        if synchronous not in ("FULL", "NORMAL", "EXTRA"):
            raise ConfigurationError(
                f"got {synchronous!r}", key="synchronous", expected='"FULL", "NORMAL" or "EXTRA"'
            )
        self._timeout = float(timeout)
        self._synchronous = synchronous
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._conn = self._open_connection()

    # --- opening, migrating, errors --------------------------------------------------

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def schema_version(self) -> int:
        """The database's schema version (``PRAGMA user_version``)."""
        with self._reading("read the schema version") as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def _error(self, action: str, exc: BaseException) -> SyncError:
        text = str(exc)
        lowered = text.lower()
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in lowered or "busy" in lowered):
            detail = (
                f"the database is locked by another connection (waited {self._timeout:g} s): {text}"
            )
        elif isinstance(exc, sqlite3.DatabaseError) and (
            "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered
        ):
            detail = f"the file is damaged or is not a database: {text}"
        else:
            detail = f"{type(exc).__name__}: {text}"
        return SyncError(f"state store {self._path}: cannot {action}: {detail}")

    def _open_connection(self) -> sqlite3.Connection:
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self._path.exists():
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            conn = sqlite3.connect(
                self._path,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        except (sqlite3.Error, OSError) as exc:
            raise self._error("open the database", exc) from exc
        try:
            # Refuse a newer schema before changing anything in the file.
            self._refuse_newer(int(conn.execute("PRAGMA user_version").fetchone()[0]))
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise SyncError(
                    f"state store {self._path}: cannot use WAL journaling (SQLite chose "
                    f"{mode!r}); put the database on a local file system"
                )
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            self._migrate(conn)
        except (sqlite3.Error, OSError) as exc:
            conn.close()
            raise self._error("open the database", exc) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            self._refuse_newer(version)
            for number in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[number - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _refuse_newer(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise SyncError(
                f"state store {self._path}: schema version {version} was written by a "
                f"newer exactbridge (this one knows up to {SCHEMA_VERSION}); upgrade "
                "exactbridge to use this database"
            )

    def _connection(self) -> sqlite3.Connection:
        if self._closed or self._conn is None:
            raise SyncError(f"state store {self._path} is closed")
        return self._conn

    @contextlib.contextmanager
    def _reading(self, action: str) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                yield conn
            except (sqlite3.Error, OSError) as exc:
                raise self._error(action, exc) from exc

    @contextlib.contextmanager
    def _writing(self, action: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction; committed when the block ends normally."""
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, OSError) as exc:
                raise self._error(action, exc) from exc
            try:
                yield conn
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, (sqlite3.Error, OSError)):
                    raise self._error(action, exc) from exc
                raise
            try:
                conn.execute("COMMIT")
            except (sqlite3.Error, OSError) as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise self._error(action, exc) from exc

    def __enter__(self) -> SQLiteStateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection; later calls raise ``SyncError``. Idempotent."""
        with self._lock:
            conn, self._conn = self._conn, None
            self._closed = True
            if conn is not None:
                try:
                    conn.close()
                except sqlite3.Error as exc:
                    raise self._error("close the database", exc) from exc

    def __repr__(self) -> str:
        return f"SQLiteStateStore({str(self._path)!r})"

    # --- rows <-> records ------------------------------------------------------------

    def _record(self, row: Sequence[Any]) -> BookingRecord:
        key_text = "/".join(str(part) for part in row[:4])
        try:
            key = BookingKey(source=row[0], tenant=row[1], kind=row[2], source_id=row[3])
            extra = json.loads(row[14])
            return BookingRecord(
                key=key,
                status=BookingStatus(row[4]),
                exact_id=row[5],
                entry_number=row[6],
                your_ref=row[7],
                journal=row[8],
                content_hash=row[9],
                attempts=row[10],
                last_error=row[11],
                created_at=dt.datetime.fromisoformat(row[12]),
                updated_at=dt.datetime.fromisoformat(row[13]),
                extra=extra,
            )
        except (ValueError, TypeError) as exc:
            # ConfigurationError is a ValueError too: a stored value of the wrong shape.
            raise SyncError(
                f"state store {self._path}: booking {key_text} is damaged ({exc})"
            ) from exc

    def _run(self, row: Sequence[Any]) -> RunRecord:
        try:
            return RunRecord(
                run_id=row[0],
                pipeline=row[1],
                started_at=dt.datetime.fromisoformat(row[2]),
                finished_at=None if row[3] is None else dt.datetime.fromisoformat(row[3]),
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
            raise SyncError(f"state store {self._path}: run {row[0]} is damaged ({exc})") from exc

    @staticmethod
    def _select_one(conn: sqlite3.Connection, key: BookingKey) -> Sequence[Any] | None:
        row: Sequence[Any] | None = conn.execute(
            f"SELECT {_BOOKING_COLUMNS} FROM sync_bookings "
            "WHERE source = ? AND tenant = ? AND kind = ? AND source_id = ?",
            (key.source, key.tenant, key.kind, key.source_id),
        ).fetchone()
        return row

    @staticmethod
    def _save(conn: sqlite3.Connection, record: BookingRecord) -> None:
        k = record.key
        conn.execute(
            f"INSERT OR REPLACE INTO sync_bookings ({_BOOKING_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                _text_time(record.created_at),
                _text_time(record.updated_at),
                json.dumps(dict(record.extra), sort_keys=True, ensure_ascii=False),
            ),
        )

    # --- booking records -------------------------------------------------------------

    def get(self, key: BookingKey) -> BookingRecord | None:
        """See :meth:`~exactbridge.sync.state.StateStore.get`."""
        _check_key(key)
        with self._reading(f"read booking {key}") as conn:
            row = self._select_one(conn, key)
        return None if row is None else self._record(row)

    def get_many(self, keys: Iterable[BookingKey]) -> dict[BookingKey, BookingRecord]:
        """See :meth:`~exactbridge.sync.state.StateStore.get_many`.

        One ``SELECT`` per up to 8,000 keys (240 on SQLite older than 3.32).
        """
        wanted = list(dict.fromkeys(_check_key(k) for k in keys))
        found: dict[BookingKey, BookingRecord] = {}
        if not wanted:
            return found
        with self._reading(f"read {len(wanted)} bookings") as conn:
            rows: list[Sequence[Any]] = []
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                values = ", ".join("(?, ?, ?, ?)" for _ in chunk)
                params = [part for k in chunk for part in (k.source, k.tenant, k.kind, k.source_id)]
                rows.extend(
                    conn.execute(
                        f"WITH wanted (source, tenant, kind, source_id) AS (VALUES {values}) "
                        f"SELECT {', '.join('b.' + c for c in _BOOKING_COLUMNS.split(', '))} "
                        "FROM wanted JOIN sync_bookings AS b "
                        "USING (source, tenant, kind, source_id)",
                        params,
                    ).fetchall()
                )
        for row in rows:
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
        """See :meth:`~exactbridge.sync.state.StateStore.record_intent`.

        Committed (and, with ``synchronous="FULL"``, synced to disk) before it returns.
        """
        _check_key(key)
        with self._writing(f"record the intent for {key}") as conn:
            row = self._select_one(conn, key)
            record = intent_record(
                key,
                None if row is None else self._record(row),
                content_hash=content_hash,
                your_ref=your_ref,
                journal=journal,
                now=now,
                extra=extra,
            )
            self._save(conn, record)
        return record

    def _outcome(self, key: BookingKey, target: BookingStatus, **kwargs: Any) -> BookingRecord:
        _check_key(key)
        with self._writing(f"mark {key} {target.name}") as conn:
            row = self._select_one(conn, key)
            record = outcome_record(
                key, None if row is None else self._record(row), target, **kwargs
            )
            self._save(conn, record)
        return record

    def _with_status(
        self,
        status: BookingStatus,
        source: str | None,
        tenant: str | None,
        kind: str | None,
    ) -> list[BookingRecord]:
        where = ["status = ?"]
        params: list[str] = [status.value]
        for column, value in (("source", source), ("tenant", tenant), ("kind", kind)):
            if value is not None:
                _check_name(value, column)
                where.append(f"{column} = ?")
                params.append(value)
        with self._reading(f"list {status.name} bookings") as conn:
            rows = conn.execute(
                f"SELECT {_BOOKING_COLUMNS} FROM sync_bookings WHERE {' AND '.join(where)} "
                "ORDER BY updated_at, source, tenant, kind, source_id",
                params,
            ).fetchall()
        return [self._record(row) for row in rows]

    # --- cursors ---------------------------------------------------------------------

    def get_cursor(self, pipeline: str, name: str) -> str | None:
        """See :meth:`~exactbridge.sync.state.StateStore.get_cursor`."""
        _check_name(pipeline)
        _check_name(name, "name")
        with self._reading(f"read cursor {pipeline}/{name}") as conn:
            row = conn.execute(
                "SELECT value FROM sync_cursors WHERE pipeline = ? AND name = ?",
                (pipeline, name),
            ).fetchone()
        return None if row is None else str(row[0])

    def set_cursor(self, pipeline: str, name: str, value: str | None, *, now: dt.datetime) -> None:
        """See :meth:`~exactbridge.sync.state.StateStore.set_cursor`."""
        _check_name(pipeline)
        _check_name(name, "name")
        _check_cursor_value(value)
        when = _text_time(_utc(now, key="now"))
        with self._writing(f"write cursor {pipeline}/{name}") as conn:
            if value is None:
                conn.execute(
                    "DELETE FROM sync_cursors WHERE pipeline = ? AND name = ?", (pipeline, name)
                )
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO sync_cursors (pipeline, name, value, updated_at) "
                    "VALUES (?, ?, ?, ?)",
                    (pipeline, name, value, when),
                )

    # --- runs ------------------------------------------------------------------------

    def start_run(self, pipeline: str, *, now: dt.datetime) -> RunRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.start_run`."""
        _check_name(pipeline)
        when = _utc(now, key="now")
        with self._writing(f"start a run of {pipeline}") as conn:
            cursor = conn.execute(
                "INSERT INTO sync_runs (pipeline, started_at, status) VALUES (?, ?, ?)",
                (pipeline, _text_time(when), RunStatus.RUNNING.value),
            )
            run_id = cursor.lastrowid
        assert run_id is not None
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
        with self._writing(f"finish run {run_id}") as conn:
            row = conn.execute(
                f"SELECT {_RUN_COLUMNS} FROM sync_runs WHERE run_id = ?", (run_id,)
            ).fetchone()
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
            assert done.finished_at is not None
            conn.execute(
                "UPDATE sync_runs SET finished_at = ?, status = ?, booked = ?, updated = ?, "
                "reversed = ?, skipped = ?, failed = ?, exact_calls = ?, notes = ? "
                "WHERE run_id = ?",
                (
                    _text_time(done.finished_at),
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
        with self._reading("read the run history") as conn:
            if pipeline is None:
                rows = conn.execute(
                    f"SELECT {_RUN_COLUMNS} FROM sync_runs ORDER BY run_id DESC LIMIT ?",
                    (limit,),
                ).fetchall()
            else:
                rows = conn.execute(
                    f"SELECT {_RUN_COLUMNS} FROM sync_runs WHERE pipeline = ? "
                    "ORDER BY run_id DESC LIMIT ?",
                    (pipeline, limit),
                ).fetchall()
        return [self._run(row) for row in rows]


def _as_path(path: object) -> Path:
    if path is None:
        return default_state_path()
    if isinstance(path, (str, os.PathLike)):
        text = os.fspath(path)
        if isinstance(text, str) and text and text != ":memory:" and not text.startswith("file:"):
            return Path(text).expanduser()
    raise ConfigurationError(
        f"got {path!r}",
        key="SQLiteStateStore.path",
        expected="a file path (str or os.PathLike); use MemoryStateStore for an in-memory store",
    )
