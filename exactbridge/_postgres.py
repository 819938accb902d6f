"""What exactbridge's PostgreSQL stores share (private): loading psycopg, naming a server
without its password, advisory-lock numbers, schema names and versioned migrations.

Used by :mod:`exactbridge.sync.postgres_store` (the state store) and
:mod:`exactbridge.exact.postgres` (the token store and the shared rate limiter).
psycopg is imported only when one of those stores is made, so ``import exactbridge``
never needs it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from exactbridge.errors import ConfigurationError

__all__ = [
    "check_conninfo",
    "check_schema",
    "connect",
    "describe_conninfo",
    "error_detail",
    "lock_id",
    "migrate",
    "psycopg",
]

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: Advisory lock name space of schema migrations (the first int of the two-int form).
LOCK_MIGRATE = 0x45_42_01


def psycopg(feature: str) -> Any:
    """The psycopg module, or a ConfigurationError saying which extra to install."""
    try:
        import psycopg as module
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            f"the PostgreSQL {feature} needs psycopg 3",
            key=feature,
            expected="pip install 'exactbridge[postgres]'",
        ) from exc
    return module


def lock_id(*parts: str) -> int:
    """A signed 32-bit number for an advisory lock, stable across processes."""
    digest = hashlib.blake2b("\0".join(parts).encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def describe_conninfo(conninfo: str) -> str:
    """``user@host:port/dbname`` of a connection string, without its password.

    >>> describe_conninfo("host=db.local port=5433 dbname=books user=sync password=s3cret")
    'sync@db.local:5433/books'
    """
    try:
        parts = psycopg("store").conninfo.conninfo_to_dict(conninfo)
    except Exception:
        return "<PostgreSQL>"
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"{user}{host}{port}/{parts.get('dbname') or ''}"


def check_conninfo(conninfo: object, key: str) -> str:
    """``conninfo`` if it is a non-empty string (never echoed: it may hold a password)."""
    if not isinstance(conninfo, str) or not conninfo.strip():
        raise ConfigurationError(
            f"got {type(conninfo).__name__}",
            key=key,
            expected="a libpq connection string, e.g. 'host=... dbname=... user=...'",
        )
    return conninfo


def check_schema(schema: object, key: str) -> str:
    """``schema`` if it is a plain lower-case SQL name (it is put into SQL quoted, not bound)."""
    if not isinstance(schema, str) or not _SCHEMA_NAME.match(schema):
        raise ConfigurationError(
            f"got {schema!r}",
            key=key,
            expected="a lower-case SQL name (letters, digits, _), at most 63 characters",
        )
    return schema


def error_detail(exc: BaseException) -> str:
    """One line of a psycopg error (its messages name host and database, never a password)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def connect(
    module: Any, conninfo: str, timeout: float, fail: Callable[[BaseException], Exception]
) -> Any:
    """A new connection (autocommit off); ``fail`` turns a psycopg error into ours."""
    try:
        return module.connect(
            conninfo,
            connect_timeout=max(1, int(timeout)),
            autocommit=False,
            application_name="exactbridge",
        )
    except module.Error as exc:
        raise fail(exc) from None


def migrate(
    cur: Any,
    *,
    schema: str,
    table: str,
    migrations: Sequence[Sequence[str]],
    refuse: Callable[[int], Exception],
) -> None:
    """Bring ``schema`` to ``len(migrations)``, keeping the version in ``<schema>.<table>``.

    Runs inside the caller's transaction, under an advisory lock on (schema, table), so
    workers starting together migrate once. Each migration is a list of statements in
    which ``{schema}`` stands for the quoted schema. A version above what this code knows
    raises ``refuse(version)``: a newer exactbridge wrote it.
    """
    quoted = f'"{schema}"'
    latest = len(migrations)
    # The state store's table keeps the lock number it had before other stores came along.
    key = lock_id(schema) if table == "schema_version" else lock_id(schema, table)
    cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_MIGRATE, key))
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
    cur.execute(f"CREATE TABLE IF NOT EXISTS {quoted}.{table} (version INTEGER NOT NULL)")
    cur.execute(f"SELECT version FROM {quoted}.{table}")
    row = cur.fetchone()
    version = 0 if row is None else int(row[0])
    if version > latest:
        raise refuse(version)
    for number in range(version + 1, latest + 1):
        for statement in migrations[number - 1]:
            cur.execute(statement.format(schema=quoted))
    if row is None:
        cur.execute(f"INSERT INTO {quoted}.{table} (version) VALUES (%s)", (latest,))
    elif version < latest:
        cur.execute(f"UPDATE {quoted}.{table} SET version = %s", (latest,))
