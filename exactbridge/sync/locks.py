"""One run per pipeline at a time, across processes: :class:`RunLock`.

Two schedulers (a cron job and a person typing ``exactbridge sync``, or two
workers of a host application) may start the same pipeline at the same moment.
Only one of them may run it; the other is told the pipeline is busy.

How: an OS file lock (``flock`` on Linux and macOS, ``msvcrt.locking`` on
Windows) on a small lock file next to the state database, one file per pipeline
(``<database>.run-<pipeline>.lock``). Chosen over a lease row in the database
because the operating system releases the lock the moment the holding process
ends, however it ends (exception, ``kill -9``, power cut): a crashed run never
blocks the next one, and no expiry has to be guessed for a run that may
legitimately take hours while it waits out Exact's rate limits. A lease would
also need a clock inside the store, which the store deliberately does not read.

Limits: the lock is only as good as the file system's locking, so keep the
database on a local disk (also required by SQLite's WAL mode). A process that
forks without ``exec`` while holding the lock shares it with its child. The lock
file is left in place after release (deleting it would race with a process that
just opened it); it holds the holder's process id, for the busy message.

For a :class:`~exactbridge.sync.state.MemoryStateStore` the lock is a plain
in-process lock kept by that store (threads of one process).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import threading
from pathlib import Path

from exactbridge.errors import ConfigurationError, SyncError
from exactbridge.sync.sqlite_store import SQLiteStateStore
from exactbridge.sync.state import MemoryStateStore

__all__ = ["PipelineBusyError", "RunLock"]


class PipelineBusyError(SyncError):
    """Another run of the same pipeline holds the run lock.

    ``pipeline`` names the pipeline, ``lock`` the lock file (or ``"in-process"``),
    ``holder`` what the holder wrote into the lock file (its process id), if known.
    """

    def __init__(self, pipeline: str, *, lock: str, holder: str | None = None) -> None:
        self.pipeline = pipeline
        self.lock = lock
        self.holder = holder
        by = f" by {holder}" if holder else ""
        super().__init__(
            f"pipeline {pipeline!r} is busy: another run holds its lock{by} ({lock}); "
            "try again when it has finished"
        )


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except PermissionError:
            return False
        except OSError as exc:
            if exc.errno in (13, 36):  # EACCES, EDEADLOCK: someone else holds it
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}")


def _file_part(pipeline: str) -> str:
    """A file-name-safe, collision-free rendering of a pipeline name."""
    if _PLAIN_NAME.fullmatch(pipeline):
        return pipeline
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", pipeline)[:32].strip("_") or "pipeline"
    digest = hashlib.sha256(pipeline.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}"


class RunLock:
    """Exclusive right to run one pipeline, across threads and processes.

    ``path_or_store`` is the state database path, an
    :class:`~exactbridge.sync.sqlite_store.SQLiteStateStore` (its path is used) or
    a :class:`~exactbridge.sync.state.MemoryStateStore` (in-process lock).
    :meth:`try_acquire` never waits. As a context manager it raises
    :class:`PipelineBusyError` when another run holds the lock. Example::

        try:
            with RunLock(store, "virtuagym-invoices"):
                report = pipeline.run()
        except PipelineBusyError as busy:
            print(busy)  # pipeline 'virtuagym-invoices' is busy: ...

    One ``RunLock`` object is one holder: acquiring it twice without releasing
    raises :class:`~exactbridge.errors.SyncError`.
    """

    def __init__(
        self,
        path_or_store: str | os.PathLike[str] | SQLiteStateStore | MemoryStateStore,
        pipeline: str,
    ) -> None:
        name: object = pipeline
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                f"got {pipeline!r}", key="RunLock.pipeline", expected="a non-empty string"
            )
        self._pipeline = pipeline
        self._guard = threading.Lock()
        self._fd: int | None = None
        self._memory_lock: threading.Lock | None = None
        self._held = False
        self._lock_path: Path | None = None
        target: object = path_or_store
        if isinstance(target, MemoryStateStore):
            with target._lock:
                self._memory_lock = target._run_locks.setdefault(pipeline, threading.Lock())
        elif isinstance(target, SQLiteStateStore):
            self._lock_path = self._beside(target.path)
        elif isinstance(target, (str, os.PathLike)) and os.fspath(target):
            text = os.fspath(target)
            if not isinstance(text, str):
                raise ConfigurationError(
                    f"got {target!r}", key="RunLock.path_or_store", expected="a text path"
                )
            self._lock_path = self._beside(Path(text).expanduser())
        else:
            raise ConfigurationError(
                f"got {target!r}",
                key="RunLock.path_or_store",
                expected="a state database path, an SQLiteStateStore or a MemoryStateStore",
            )

    def _beside(self, database: Path) -> Path:
        return database.with_name(f"{database.name}.run-{_file_part(self._pipeline)}.lock")

    @property
    def pipeline(self) -> str:
        """The pipeline this lock guards."""
        return self._pipeline

    @property
    def lock_path(self) -> Path | None:
        """The lock file, or ``None`` for an in-process lock."""
        return self._lock_path

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._held

    def _where(self) -> str:
        return "in-process" if self._lock_path is None else str(self._lock_path)

    def try_acquire(self) -> bool:
        """Take the lock if it is free and return True; return False at once if it is not."""
        with self._guard:
            if self._held:
                raise SyncError(
                    f"run lock of pipeline {self._pipeline!r} is already held by this RunLock"
                )
            if self._memory_lock is not None:
                self._held = self._memory_lock.acquire(blocking=False)
                return self._held
            assert self._lock_path is not None
            try:
                self._lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise SyncError(
                    f"cannot open run lock {self._lock_path} ({type(exc).__name__}: {exc})"
                ) from exc
            try:
                locked = _try_lock(fd)
            except OSError as exc:
                os.close(fd)
                raise SyncError(
                    f"cannot lock {self._lock_path} ({type(exc).__name__}: {exc})"
                ) from exc
            if not locked:
                os.close(fd)
                return False
            # Diagnostics only: who holds the lock (best effort).
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"pid {os.getpid()}\n".encode("ascii"))
                os.lseek(fd, 0, os.SEEK_SET)
            self._fd = fd
            self._held = True
            return True

    def release(self) -> None:
        """Release the lock if this object holds it (otherwise do nothing)."""
        with self._guard:
            if not self._held:
                return
            self._held = False
            if self._memory_lock is not None:
                self._memory_lock.release()
                return
            fd, self._fd = self._fd, None
            assert fd is not None
            try:
                # Empty the holder note first: while we still hold the lock, no one
                # else can be writing theirs.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                _unlock(fd)
            except OSError as exc:
                raise SyncError(
                    f"cannot unlock {self._lock_path} ({type(exc).__name__}: {exc})"
                ) from exc
            finally:
                os.close(fd)

    def _holder(self) -> str | None:
        if self._lock_path is None:
            return None
        try:
            text = self._lock_path.read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return None
        return text or None

    def __enter__(self) -> RunLock:
        if not self.try_acquire():
            raise PipelineBusyError(self._pipeline, lock=self._where(), holder=self._holder())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "held" if self._held else "free"
        return f"RunLock({self._pipeline!r}, {self._where()!r}, {state})"
