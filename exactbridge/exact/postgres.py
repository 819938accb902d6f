"""Tokens and rate budgets in PostgreSQL, shared by workers on many machines.

``exactbridge[postgres]`` (psycopg 3). Two stores for hosts that run many workers
against one Exact app:

- :class:`PostgresTokenStore`: a :class:`~exactbridge.exact.TokenStore` in a table,
  one row per name. A refresh is done under a row lock (``SELECT ... FOR UPDATE`` on
  the name's row of a lock table, held on a connection of its own), so only one
  worker anywhere refreshes, and the others read the token it saved. Exact rotates
  the refresh token on every refresh: whoever used the old one would be locked out.
- :class:`PostgresRateLimiter`: a :class:`~exactbridge.exact.RateBudget` whose
  counts (60 calls a minute, 5,000 a day, per app and division) live in one row per
  (app, division); every worker's client draws from it and feeds Exact's
  ``X-RateLimit-*`` headers back into it (see :class:`~exactbridge.exact.SharedBudget`
  for how the counts are kept).

Both keep their tables in a schema of their own choosing (``exactbridge`` by default,
which may be the state store's), created and migrated on first use. A crashed worker's
locks go with its connection. Database problems raise
:class:`~exactbridge.errors.TokenStoreError` (tokens) or
:class:`~exactbridge.errors.ExactBridgeError` (budgets) naming the server and
database, never the password or a token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import attrs

from exactbridge import _postgres as _pg
from exactbridge.clock import Clock
from exactbridge.errors import (
    ConfigurationError,
    ExactBridgeError,
    TokenConflictError,
    TokenStoreError,
)
from exactbridge.exact._ratelimit import (
    SharedBudget,
    SharedRateLimiterBase,
    SharedWindow,
)
from exactbridge.exact._tokenstores import Token

__all__ = ["PostgresRateLimiter", "PostgresTokenStore"]

_T = TypeVar("_T")

_TOKEN_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE {schema}.exact_tokens (
            name TEXT PRIMARY KEY,
            access_token TEXT NOT NULL,
            refresh_token TEXT NOT NULL,
            issued_at TIMESTAMPTZ NOT NULL,
            expires_in INTEGER NOT NULL,
            generation BIGINT NOT NULL
        )
        """,
        "CREATE TABLE {schema}.exact_token_locks (name TEXT PRIMARY KEY)",
    ),
)

_BUDGET_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE {schema}.exact_rate_budgets (
            app TEXT NOT NULL,
            division BIGINT NOT NULL,
            minute_limit INTEGER NOT NULL,
            minute_remaining INTEGER NOT NULL,
            minute_reset TIMESTAMPTZ,
            minute_estimated BOOLEAN NOT NULL,
            minute_carry INTEGER NOT NULL,
            day_limit INTEGER NOT NULL,
            day_remaining INTEGER NOT NULL,
            day_reset TIMESTAMPTZ,
            day_estimated BOOLEAN NOT NULL,
            day_carry INTEGER NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (app, division)
        )
        """,
    ),
)

_LOCK_TOKEN_SAVE = 0x45_42_10


def _check_name(value: object, key: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"got {value!r}", key=key, expected="a non-empty string")
    return value


class _Database:
    """A database for one store: a kept connection (re-made when it breaks) used under a
    lock, or a fresh connection per transaction (``persistent=False``)."""

    def __init__(
        self,
        conninfo: str,
        schema: str,
        timeout: float,
        *,
        feature: str,
        error: type[ExactBridgeError],
        label: str,
        persistent: bool,
    ) -> None:
        self.psycopg = _pg.psycopg(feature)
        self.conninfo = conninfo
        self.schema = schema
        self.where = _pg.describe_conninfo(conninfo)
        self.timeout = timeout
        self.label = label
        self.persistent = persistent
        self._error_type = error
        self._lock = threading.Lock()
        self._conn: Any = None

    def error(self, action: str, exc: BaseException) -> ExactBridgeError:
        return self._error_type(
            f"{self.label} {self.where} [{self.schema}]: cannot {action}: {_pg.error_detail(exc)}"
        )

    def connect(self) -> Any:
        return _pg.connect(
            self.psycopg, self.conninfo, self.timeout, lambda exc: self.error("connect", exc)
        )

    @contextlib.contextmanager
    def transaction(self, action: str) -> Iterator[Any]:
        """One transaction on the kept connection (``persistent``) or on a fresh one."""
        if not self.persistent:
            conn = self.connect()
            try:
                with conn.transaction(), conn.cursor() as cur:
                    yield cur
            except self.psycopg.Error as exc:
                raise self.error(action, exc) from None
            finally:
                with contextlib.suppress(self.psycopg.Error):
                    conn.close()
            return
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = self.connect()
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield cur
            except self.psycopg.Error as exc:
                raise self.error(action, exc) from None

    def migrate(self, table: str, migrations: tuple[tuple[str, ...], ...]) -> None:
        def refuse(version: int) -> ExactBridgeError:
            return self._error_type(
                f"{self.label} {self.where}: schema {self.schema} holds {table} version "
                f"{version}, written by a newer exactbridge (this one knows up to "
                f"{len(migrations)}); upgrade exactbridge to use it"
            )

        with self.transaction("migrate the schema") as cur:
            _pg.migrate(cur, schema=self.schema, table=table, migrations=migrations, refuse=refuse)

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(self.psycopg.Error):
                conn.close()


class PostgresTokenStore:
    """A :class:`~exactbridge.exact.TokenStore` in PostgreSQL, safe across machines.

    ``name`` picks the row (one per Exact authorization: a host app keeps each club's
    tokens under its own name); ``schema`` holds the tables ``exact_tokens`` and
    ``exact_token_locks`` (created when missing). ``save`` compares and swaps the
    generation in one transaction; ``refresh_lock`` holds ``SELECT ... FOR UPDATE`` on
    the name's row in ``exact_token_locks`` on a connection of its own, waiting at most
    ``lock_timeout`` seconds (then :class:`~exactbridge.errors.TokenStoreError`). A
    worker that dies while refreshing loses its connection, and with it the lock.

    The tokens are stored as given: limit who may read the table. Example::

        store = PostgresTokenStore("host=db.internal dbname=exactbridge user=sync",
                                   name="club-12")
        client = ExactClient(division=12, credentials=creds, token_store=store)
    """

    def __init__(
        self,
        conninfo: str,
        *,
        name: str = "default",
        schema: str = "exactbridge",
        connect_timeout: float = 10.0,
        lock_timeout: float = 60.0,
    ) -> None:
        self._name = _check_name(name, "PostgresTokenStore.name")
        self._db = _Database(
            _pg.check_conninfo(conninfo, "PostgresTokenStore.conninfo"),
            _pg.check_schema(schema, "PostgresTokenStore.schema"),
            connect_timeout,
            feature="PostgresTokenStore",
            error=TokenStoreError,
            label="token store",
            # Auth reads and writes tokens only around refreshes: no connection is kept.
            persistent=False,
        )
        given: object = lock_timeout
        if isinstance(given, bool) or not isinstance(given, (int, float)) or given <= 0:
            raise ConfigurationError(
                f"got {lock_timeout!r}",
                key="PostgresTokenStore.lock_timeout",
                expected="a positive number of seconds",
            )
        self._lock_timeout_ms = max(1, int(lock_timeout * 1000))
        self._q = f'"{self._db.schema}"'
        self._db.migrate("token_schema_version", _TOKEN_MIGRATIONS)

    @property
    def name(self) -> str:
        """The row this store reads and writes."""
        return self._name

    @property
    def schema(self) -> str:
        """The PostgreSQL schema of the tables."""
        return self._db.schema

    def _where(self) -> str:
        return f"{self._db.where} [{self._db.schema}.{self._name}]"

    def load(self) -> Token | None:
        """The row's token, or ``None`` when nobody saved one yet."""
        with self._db.transaction("read the token") as cur:
            cur.execute(
                f"SELECT access_token, refresh_token, issued_at, expires_in, generation "
                f"FROM {self._q}.exact_tokens WHERE name = %s",
                (self._name,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        return Token._from_json(
            {
                "access_token": row[0],
                "refresh_token": row[1],
                "issued_at": row[2].isoformat() if isinstance(row[2], dt.datetime) else row[2],
                "expires_in": row[3],
                "generation": row[4],
            },
            where=self._where(),
        )

    def save(self, token: Token, *, expected_generation: int | None) -> Token:
        """Compare-and-swap save in one transaction; see :class:`~exactbridge.exact.TokenStore`."""
        with self._db.transaction("write the token") as cur:
            # Serialise savers of this name, also when the row does not exist yet.
            cur.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                (_LOCK_TOKEN_SAVE, _pg.lock_id(self._db.schema, self._name)),
            )
            cur.execute(
                f"SELECT generation FROM {self._q}.exact_tokens WHERE name = %s",
                (self._name,),
            )
            row = cur.fetchone()
            current = None if row is None else int(row[0])
            if expected_generation is not None and current != expected_generation:
                held = "nothing" if current is None else f"generation {current}"
                raise TokenConflictError(
                    f"token store {self._where()} holds {held}, not the expected "
                    f"generation {expected_generation}: another worker saved first"
                )
            saved = attrs.evolve(token, generation=1 if current is None else current + 1)
            cur.execute(
                f"INSERT INTO {self._q}.exact_tokens (name, access_token, refresh_token, "
                "issued_at, expires_in, generation) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET access_token = EXCLUDED.access_token, "
                "refresh_token = EXCLUDED.refresh_token, issued_at = EXCLUDED.issued_at, "
                "expires_in = EXCLUDED.expires_in, generation = EXCLUDED.generation",
                (
                    self._name,
                    saved.access_token,
                    saved.refresh_token,
                    saved.issued_at,
                    saved.expires_in,
                    saved.generation,
                ),
            )
        return saved

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        db = self._db
        conn = db.connect()
        try:
            try:
                with conn.cursor() as cur:
                    cur.execute(
                        f"INSERT INTO {self._q}.exact_token_locks (name) VALUES (%s) "
                        "ON CONFLICT (name) DO NOTHING",
                        (self._name,),
                    )
                conn.commit()
                with conn.cursor() as cur:
                    cur.execute(f"SET LOCAL lock_timeout = {self._lock_timeout_ms}")
                    cur.execute(
                        f"SELECT name FROM {self._q}.exact_token_locks WHERE name = %s FOR UPDATE",
                        (self._name,),
                    )
            except db.psycopg.Error as exc:
                raise db.error("take the refresh lock", exc) from None
            yield
        finally:
            # Ending the transaction (or the connection) frees the row lock.
            with contextlib.suppress(db.psycopg.Error):
                conn.rollback()
            with contextlib.suppress(db.psycopg.Error):
                conn.close()

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive across every worker using this name in this database (a row lock)."""
        return self._locked()

    def close(self) -> None:
        """Nothing to close: the store keeps no connection between calls (kept for symmetry)."""
        self._db.close()

    def __enter__(self) -> PostgresTokenStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"PostgresTokenStore({self._db.where!r}, name={self._name!r}, "
            f"schema={self._db.schema!r})"
        )


_BUDGET_COLUMNS = (
    "minute_limit, minute_remaining, minute_reset, minute_estimated, minute_carry, "
    "day_limit, day_remaining, day_reset, day_estimated, day_carry"
)


class PostgresRateLimiter(SharedRateLimiterBase):
    """One Exact rate budget per (app, division), shared by every worker (a :class:`RateBudget`).

    Pass it to every client of the app (``ExactClient(..., rate_limiter=limiter)``), in
    every worker process: each call is granted from the division's row under a row lock
    (taken by an ``INSERT ... ON CONFLICT DO UPDATE`` that also reads the row) and
    counted before it is sent, and each answer's
    ``X-RateLimit-*`` headers are folded back in, so workers together stay within
    Exact's 60 calls a minute and 5,000 a day. ``app`` names the Exact app (its client
    ID, say; never its secret); ``minutely_limit``/``daily_limit`` are assumed until
    Exact reports its own; ``margin`` seconds are added to a minute's reset before
    calling again; ``clock`` tells the time (a simulated one in tests). Example::

        limiter = PostgresRateLimiter("host=db.internal dbname=exactbridge user=sync",
                                      app=credentials.client_id)
    """

    def __init__(
        self,
        conninfo: str,
        *,
        app: str = "default",
        schema: str = "exactbridge",
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        margin: float = 1.0,
        clock: Clock | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self._setup(
            "PostgresRateLimiter",
            app=app,
            minutely_limit=minutely_limit,
            daily_limit=daily_limit,
            margin=margin,
            clock=clock,
        )
        self._db = _Database(
            _pg.check_conninfo(conninfo, "PostgresRateLimiter.conninfo"),
            _pg.check_schema(schema, "PostgresRateLimiter.schema"),
            connect_timeout,
            feature="PostgresRateLimiter",
            error=ExactBridgeError,
            label="rate budget",
            # Two transactions per API call: keep the connection (close() ends it).
            persistent=True,
        )
        self._q = f'"{self._db.schema}"'
        self._db.migrate("rate_budget_schema_version", _BUDGET_MIGRATIONS)

    # --- rows <-> budgets -------------------------------------------------------------

    @staticmethod
    def _budget(row: tuple[Any, ...]) -> SharedBudget:
        return SharedBudget(
            SharedWindow(int(row[0]), int(row[1]), row[2], bool(row[3]), int(row[4])),
            SharedWindow(int(row[5]), int(row[6]), row[7], bool(row[8]), int(row[9])),
        )

    def _locked_budget(self, cur: Any, division: int | None) -> SharedBudget:
        key = (self._app, self._division_key(division))
        new = self._new
        # One round trip: a new row is inserted, an existing one is "updated" to itself,
        # which locks it until the transaction ends (as FOR UPDATE would) and returns it.
        cur.execute(
            f"INSERT INTO {self._q}.exact_rate_budgets (app, division, {_BUDGET_COLUMNS}) "
            "VALUES (%s, %s, %s, %s, NULL, TRUE, 0, %s, %s, NULL, TRUE, 0) "
            "ON CONFLICT (app, division) DO UPDATE SET app = EXCLUDED.app "
            f"RETURNING {_BUDGET_COLUMNS}",
            (*key, new.minute.limit, new.minute.remaining, new.day.limit, new.day.remaining),
        )
        return self._budget(cur.fetchone())

    def _store(self, cur: Any, division: int | None, budget: SharedBudget) -> None:
        m, d = budget.minute, budget.day
        cur.execute(
            f"UPDATE {self._q}.exact_rate_budgets SET minute_limit = %s, minute_remaining = %s, "
            "minute_reset = %s, minute_estimated = %s, minute_carry = %s, day_limit = %s, "
            "day_remaining = %s, day_reset = %s, day_estimated = %s, day_carry = %s, "
            "updated_at = now() "
            "WHERE app = %s AND division = %s",
            (
                m.limit,
                m.remaining,
                m.reset,
                m.estimated,
                m.carry,
                d.limit,
                d.remaining,
                d.reset,
                d.estimated,
                d.carry,
                self._app,
                self._division_key(division),
            ),
        )

    # --- the two primitives of SharedRateLimiterBase -----------------------------------

    def _load(self, division: int | None) -> SharedBudget | None:
        with self._db.transaction("read the rate budget") as cur:
            cur.execute(
                f"SELECT {_BUDGET_COLUMNS} FROM {self._q}.exact_rate_budgets "
                "WHERE app = %s AND division = %s",
                (self._app, self._division_key(division)),
            )
            row = cur.fetchone()
        return None if row is None else self._budget(row)

    def _change(
        self,
        action: str,
        division: int | None,
        change: Callable[[SharedBudget], tuple[SharedBudget, _T]],
    ) -> _T:
        # One transaction: the row is locked from the read to the write.
        with self._db.transaction(action) as cur:
            budget, result = change(self._locked_budget(cur, division))
            self._store(cur, division, budget)
        return result

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        self._db.close()

    def __enter__(self) -> PostgresRateLimiter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"PostgresRateLimiter({self._db.where!r}, app={self._app!r}, "
            f"schema={self._db.schema!r})"
        )
