"""OAuth2 tokens and the stores that keep them (memory, JSON file, SQLite).

A :class:`TokenStore` holds one :class:`Token` (an access/refresh pair) and offers
three things the refresh logic in :mod:`exactbridge.exact.auth` relies on:

* ``load()`` returns the current token, or ``None`` when nobody authorized yet;
* ``save(token, expected_generation=...)`` is a compare-and-swap on a generation
  counter: it only writes when the stored generation is still the one the caller
  read, and returns the saved token with the next generation number;
* ``refresh_lock()`` is a context manager that lets only one worker at a time
  (thread, task or process sharing the store) refresh the token.

Exact Online's refresh tokens are single-use: whoever refreshes second with the
same refresh token gets "Old refresh token used." and, unless the winner's tokens
were saved, the connection is lost. The lock plus the compare-and-swap make sure
that never happens between workers sharing a store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import attrs

from exactbridge.errors import ConfigurationError, TokenConflictError, TokenStoreError

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "REFRESH_NOT_BEFORE",
    "FileTokenStore",
    "MemoryTokenStore",
    "SQLiteTokenStore",
    "Token",
    "TokenStore",
]

#: Lifetime of an Exact Online access token in seconds.
ACCESS_TOKEN_LIFETIME = 600
#: Exact refuses to refresh a token younger than this many seconds.
REFRESH_NOT_BEFORE = 570


def _aware_utc(value: dt.datetime) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ConfigurationError(
            "must be a datetime", key="Token.issued_at", expected="an aware datetime"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConfigurationError(
            "a naive datetime is ambiguous",
            key="Token.issued_at",
            expected="a timezone-aware datetime",
        )
    return value.astimezone(dt.timezone.utc)


def _non_empty(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        # Never echo the value: it is a secret.
        raise ConfigurationError(
            "must be a non-empty string", key=f"Token.{attribute.name}", expected="a string"
        )


def _non_negative_int(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"got {value!r}", key=f"Token.{attribute.name}", expected="an integer >= 0"
        )


@attrs.frozen
class Token:
    """An Exact Online access/refresh token pair, as kept in a :class:`TokenStore`.

    ``issued_at`` is when the pair was obtained (aware, converted to UTC);
    ``generation`` counts saves in the store (the compare-and-swap counter).
    The token strings are left out of ``repr``::

        >>> import datetime as dt
        >>> t = Token("acc", "ref", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
        >>> t
        Token(issued_at=datetime.datetime(2024, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), \
expires_in=600, generation=0)
        >>> t.refreshable_at.time()
        datetime.time(0, 9, 30)
    """

    access_token: str = attrs.field(repr=False, validator=_non_empty)
    refresh_token: str = attrs.field(repr=False, validator=_non_empty)
    issued_at: dt.datetime = attrs.field(converter=_aware_utc)
    expires_in: int = attrs.field(default=ACCESS_TOKEN_LIFETIME, validator=_non_negative_int)
    generation: int = attrs.field(default=0, validator=_non_negative_int)

    @property
    def expires_at(self) -> dt.datetime:
        """When the access token stops working (``issued_at + expires_in``)."""
        return self.issued_at + dt.timedelta(seconds=self.expires_in)

    @property
    def refreshable_at(self) -> dt.datetime:
        """The earliest moment Exact accepts a refresh: 570 s after ``issued_at``."""
        return self.issued_at + dt.timedelta(seconds=REFRESH_NOT_BEFORE)

    def is_expired(self, now: dt.datetime) -> bool:
        """Whether the access token has expired at ``now``."""
        return now >= self.expires_at

    def may_refresh(self, now: dt.datetime) -> bool:
        """Whether Exact would accept a refresh at ``now`` (the last 30 s, or later)."""
        return now >= self.refreshable_at

    def _to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "issued_at": self.issued_at.isoformat(),
            "expires_in": self.expires_in,
            "generation": self.generation,
        }

    @classmethod
    def _from_json(cls, data: Any, *, where: str) -> Token:
        try:
            if not isinstance(data, dict):
                raise TypeError("not an object")
            issued = dt.datetime.fromisoformat(data["issued_at"])
            return cls(
                access_token=data["access_token"],
                refresh_token=data["refresh_token"],
                issued_at=issued,
                expires_in=data["expires_in"],
                generation=data["generation"],
            )
        except (KeyError, TypeError, ValueError) as exc:
            # ConfigurationError is a ValueError; its text never holds a token.
            raise TokenStoreError(
                f"token store {where} holds a malformed token record ({type(exc).__name__})"
            ) from None


@runtime_checkable
class TokenStore(Protocol):
    """Where an :class:`~exactbridge.exact.auth.ExactAuth` keeps its token pair.

    Implement this to keep tokens in your own database; the three built-in stores
    are :class:`MemoryTokenStore`, :class:`FileTokenStore` and
    :class:`SQLiteTokenStore`. Rules for implementations:

    * ``load`` never raises anything but :class:`~exactbridge.errors.TokenStoreError`;
    * ``save`` is atomic and compares before it swaps: when
      ``expected_generation`` is an int and the stored generation differs (or the
      store is empty), raise :class:`~exactbridge.errors.TokenConflictError`;
      ``None`` writes unconditionally (used after a new authorization). The
      saved token gets the stored generation + 1 (1 for an empty store) and is
      returned;
    * ``refresh_lock`` excludes every other worker that shares the store, in this
      process and in others, for as long as the ``with`` block runs. It need not
      be re-entrant, and ``save``/``load`` must work while it is held. It may be
      entered in one thread and left in another.
    """

    def load(self) -> Token | None:
        """Return the stored token, or ``None`` when the store is empty."""
        ...

    def save(self, token: Token, *, expected_generation: int | None) -> Token:
        """Store ``token`` if the stored generation is ``expected_generation``."""
        ...

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]:
        """Return a context manager that serialises refreshes among the store's users."""
        ...


def _next_generation(current: Token | None, expected: int | None, where: str) -> int:
    if expected is not None:
        if current is None:
            raise TokenConflictError(
                f"token store {where} is empty but generation {expected} was expected"
            )
        if current.generation != expected:
            raise TokenConflictError(
                f"token store {where} holds generation {current.generation}, "
                f"not the expected {expected}: another worker saved first"
            )
    return 1 if current is None else current.generation + 1


class MemoryTokenStore:
    """A token store in this process's memory (threads and asyncio tasks share it).

    Good for tests and for one long-running process; tokens are lost when it
    exits, so after a restart someone must authorize again. Example::

        store = MemoryTokenStore()
        auth = ExactAuth(credentials, store, base_url=base_url_for_country("nl"))
    """

    def __init__(self, token: Token | None = None) -> None:
        self._token = token
        self._data_lock = threading.Lock()
        self._refresh_lock = threading.Lock()

    def load(self) -> Token | None:
        """Return the stored token (or ``None``)."""
        with self._data_lock:
            return self._token

    def save(self, token: Token, *, expected_generation: int | None) -> Token:
        """Compare-and-swap save; see :class:`TokenStore`."""
        with self._data_lock:
            generation = _next_generation(self._token, expected_generation, "(memory)")
            saved = attrs.evolve(token, generation=generation)
            self._token = saved
            return saved

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._refresh_lock.acquire()
        try:
            yield
        finally:
            self._refresh_lock.release()

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]:
        """A lock shared by all threads and tasks using this store object."""
        return self._locked()

    def __repr__(self) -> str:
        generation = None if self._token is None else self._token.generation
        return f"MemoryTokenStore(generation={generation})"


# --------------------------------------------------------------------------- file locks

if sys.platform == "win32":  # pragma: no cover - exercised only on Windows
    import msvcrt

    def _lock_file(handle: IO[bytes]) -> None:
        handle.seek(0)
        while True:
            try:
                # LK_LOCK retries for about 10 s and then raises; keep waiting.
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

    def _unlock_file(handle: IO[bytes]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_file(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)

    def _unlock_file(handle: IO[bytes]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class _InterProcessLock:
    """A lock held by one thread of one process at a time, over a lock file.

    A :class:`threading.Lock` queues this object's users inside the process; the
    OS file lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows) excludes other
    processes and other store objects on the same file. Entering and leaving may
    happen in different threads (the async auth flow needs that).
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread_lock = threading.Lock()
        self._handle: IO[bytes] | None = None

    def acquire(self) -> None:
        self._thread_lock.acquire()
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            handle = os.fdopen(fd, "r+b")
            try:
                _lock_file(handle)
            except BaseException:
                handle.close()
                raise
        except OSError as exc:
            self._thread_lock.release()
            raise TokenStoreError(
                f"cannot lock {self._path} ({type(exc).__name__}: {exc.strerror})"
            ) from exc
        except BaseException:
            self._thread_lock.release()
            raise
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        try:
            if handle is not None:
                try:
                    _unlock_file(handle)
                finally:
                    handle.close()
        except OSError as exc:
            raise TokenStoreError(f"cannot unlock {self._path} ({exc.strerror})") from exc
        finally:
            self._thread_lock.release()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


def _as_path(path: str | os.PathLike[str], cls: str) -> Path:
    candidate: object = path
    if isinstance(candidate, (str, os.PathLike)):
        text = os.fspath(candidate)
        if isinstance(text, str) and text and text != ":memory:":
            return Path(text)
    raise ConfigurationError(f"got {path!r}", key=f"{cls}.path", expected="a file path")


class FileTokenStore:
    """A token store in a JSON file, safe to share between threads and processes.

    Writes go to a temporary file in the same directory that then replaces the
    token file (``os.replace``), so a reader never sees half a file; the file is
    created with mode 0600 (owner read/write only). Refreshes are serialised with
    an OS file lock on a sibling ``<name>.lock`` file (``flock`` on POSIX,
    ``msvcrt.locking`` on Windows); compare-and-swap saves use a second lock file,
    ``<name>.write.lock``. Both locks live on the local machine: several machines
    need a store on a shared database (see ``docs/authentication.md``). Example::

        store = FileTokenStore("~/.config/myapp/exact-tokens.json")
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = _as_path(path, "FileTokenStore").expanduser()
        self._refresh = _InterProcessLock(self._path.with_name(self._path.name + ".lock"))
        self._write = _InterProcessLock(self._path.with_name(self._path.name + ".write.lock"))

    @property
    def path(self) -> Path:
        """The token file."""
        return self._path

    def load(self) -> Token | None:
        """Read the token file; ``None`` when it does not exist yet."""
        try:
            raw = self._path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenStoreError(
                f"cannot read token file {self._path} ({type(exc).__name__}: {exc.strerror})"
            ) from exc
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise TokenStoreError(f"token file {self._path} is not valid JSON") from None
        return Token._from_json(data, where=str(self._path))

    def save(self, token: Token, *, expected_generation: int | None) -> Token:
        """Compare-and-swap save with an atomic replace; see :class:`TokenStore`."""
        with self._write.held():
            current = self.load()
            generation = _next_generation(current, expected_generation, str(self._path))
            saved = attrs.evolve(token, generation=generation)
            self._write_atomically(json.dumps(saved._to_json()).encode("utf-8"))
            return saved

    def _write_atomically(self, payload: bytes) -> None:
        directory = self._path.parent
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{self._path.name}.", suffix=".tmp", dir=directory
            )
        except OSError as exc:
            raise TokenStoreError(
                f"cannot write token file {self._path} ({type(exc).__name__}: {exc.strerror})"
            ) from exc
        try:
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                    handle.flush()
                    os.fsync(handle.fileno())
            except BaseException:
                with contextlib.suppress(OSError):
                    os.close(fd)
                raise
            os.replace(tmp_name, self._path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise TokenStoreError(
                f"cannot write token file {self._path} ({type(exc).__name__}: {exc.strerror})"
            ) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        if hasattr(os, "O_DIRECTORY"):
            # Make the rename itself durable; not possible (nor needed) everywhere.
            with contextlib.suppress(OSError):
                dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive across threads and processes on this machine (file lock)."""
        return self._refresh.held()

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self._path)!r})"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS exactbridge_tokens (
    name TEXT PRIMARY KEY,
    access_token TEXT NOT NULL,
    refresh_token TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_in INTEGER NOT NULL,
    generation INTEGER NOT NULL
)
"""


class SQLiteTokenStore:
    """A token store in an SQLite database (stdlib :mod:`sqlite3`), one row per ``name``.

    Several connections (a host app may keep tokens for several Exact
    registrations) share one database file by using different names. The
    compare-and-swap is a single transaction (``BEGIN IMMEDIATE``); refreshes are
    serialised with an OS file lock on a sibling ``<db>.lock`` file, so the
    store is safe for threads and processes on one machine. A new database file is
    created with mode 0600. Example::

        store = SQLiteTokenStore("/var/lib/myapp/state.sqlite3", name="club-42")
    """

    def __init__(self, path: str | os.PathLike[str], *, name: str = "default") -> None:
        self._path = _as_path(path, "SQLiteTokenStore").expanduser()
        name_value: object = name
        if not isinstance(name_value, str) or not name_value:
            raise ConfigurationError(
                f"got {name!r}", key="SQLiteTokenStore.name", expected="a non-empty string"
            )
        self._name = name
        self._refresh = _InterProcessLock(self._path.with_name(self._path.name + ".lock"))
        self._schema_ready = False

    @property
    def path(self) -> Path:
        """The database file."""
        return self._path

    @property
    def name(self) -> str:
        """The row this store reads and writes."""
        return self._name

    def _where(self) -> str:
        return f"{self._path} [{self._name}]"

    def _connect(self) -> sqlite3.Connection:
        if not self._path.exists():
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        conn = sqlite3.connect(self._path, timeout=30.0, isolation_level=None)
        try:
            if not self._schema_ready:
                conn.execute(_SCHEMA)
                self._schema_ready = True
        except BaseException:
            conn.close()
            raise
        return conn

    def _error(self, action: str, exc: BaseException) -> TokenStoreError:
        return TokenStoreError(
            f"cannot {action} token store {self._where()} ({type(exc).__name__}: {exc})"
        )

    def load(self) -> Token | None:
        """Read this store's row; ``None`` when there is none yet."""
        try:
            conn = self._connect()
            try:
                row = conn.execute(
                    "SELECT access_token, refresh_token, issued_at, expires_in, generation "
                    "FROM exactbridge_tokens WHERE name = ?",
                    (self._name,),
                ).fetchone()
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as exc:
            raise self._error("read", exc) from exc
        if row is None:
            return None
        return Token._from_json(
            {
                "access_token": row[0],
                "refresh_token": row[1],
                "issued_at": row[2],
                "expires_in": row[3],
                "generation": row[4],
            },
            where=self._where(),
        )

    def save(self, token: Token, *, expected_generation: int | None) -> Token:
        """Compare-and-swap save in one transaction; see :class:`TokenStore`."""
        try:
            conn = self._connect()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute(
                        "SELECT generation FROM exactbridge_tokens WHERE name = ?",
                        (self._name,),
                    ).fetchone()
                    current = None if row is None else int(row[0])
                    if expected_generation is not None and current != expected_generation:
                        raise TokenConflictError(
                            f"token store {self._where()} holds generation {current}, "
                            f"not the expected {expected_generation}: another worker saved first"
                        )
                    saved = attrs.evolve(token, generation=1 if current is None else current + 1)
                    values = saved._to_json()
                    cursor = conn.execute(
                        "UPDATE exactbridge_tokens SET access_token = ?, refresh_token = ?, "
                        "issued_at = ?, expires_in = ?, generation = ? "
                        "WHERE name = ? AND generation IS ?",
                        (
                            values["access_token"],
                            values["refresh_token"],
                            values["issued_at"],
                            values["expires_in"],
                            values["generation"],
                            self._name,
                            current,
                        ),
                    )
                    if cursor.rowcount == 0:
                        conn.execute(
                            "INSERT INTO exactbridge_tokens (name, access_token, refresh_token, "
                            "issued_at, expires_in, generation) VALUES (?, ?, ?, ?, ?, ?)",
                            (
                                self._name,
                                values["access_token"],
                                values["refresh_token"],
                                values["issued_at"],
                                values["expires_in"],
                                values["generation"],
                            ),
                        )
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as exc:
            raise self._error("write", exc) from exc
        return saved

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive across threads and processes on this machine (file lock)."""
        return self._refresh.held()

    def __repr__(self) -> str:
        return f"SQLiteTokenStore({str(self._path)!r}, name={self._name!r})"
