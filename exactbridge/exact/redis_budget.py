"""Exact's rate budget in Redis, shared by workers on many machines.

``pip install 'exactbridge[redis]'`` (redis-py). For hosts whose workers already share a
Redis server (a Celery broker, say) and would rather not give the budget a database:
:class:`RedisRateLimiter` is a :class:`~exactbridge.exact.RateBudget` that keeps the
same counts as :class:`~exactbridge.exact.PostgresRateLimiter` (one
:class:`~exactbridge.exact.SharedBudget` per app and division) in one Redis hash each,
changed with an optimistic transaction (``WATCH``/``MULTI``/``EXEC``, retried when
another worker changed the hash in between), so no two workers are ever granted the
same call. A hash nobody touched for two days expires by itself.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from exactbridge.clock import Clock
from exactbridge.errors import ConfigurationError, ExactBridgeError
from exactbridge.exact._ratelimit import SharedBudget, SharedRateLimiterBase, SharedWindow

__all__ = ["RedisRateLimiter"]

_T = TypeVar("_T")
_IDLE_SECONDS = 2 * 86400  # a budget untouched for two days is gone: its windows are over


def _redis(feature: str) -> Any:
    try:
        import redis as module
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigurationError(
            f"the Redis {feature} needs redis-py",
            key=feature,
            expected="pip install 'exactbridge[redis]'",
        ) from exc
    return module


def _describe_redis_url(url: str) -> str:
    """``host:port/db`` of a Redis URL, without user name or password.

    >>> _describe_redis_url("redis://:s3cret@cache.internal:6380/2")
    'cache.internal:6380/2'
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<Redis>"
    return f"{host}{port}{parts.path or '/0'}"


def _window_fields(prefix: str, window: SharedWindow) -> dict[str, str]:
    return {
        f"{prefix}_limit": str(window.limit),
        f"{prefix}_remaining": str(window.remaining),
        f"{prefix}_reset": "" if window.reset is None else window.reset.isoformat(),
        f"{prefix}_estimated": "1" if window.estimated else "0",
        f"{prefix}_carry": str(window.carry),
    }


def _window(prefix: str, stored: Mapping[str, str]) -> SharedWindow:
    reset = stored[f"{prefix}_reset"]
    return SharedWindow(
        int(stored[f"{prefix}_limit"]),
        int(stored[f"{prefix}_remaining"]),
        dt.datetime.fromisoformat(reset) if reset else None,
        stored[f"{prefix}_estimated"] == "1",
        int(stored[f"{prefix}_carry"]),
    )


class RedisRateLimiter(SharedRateLimiterBase):
    """One Exact rate budget per (app, division) in Redis, shared by every worker.

    Pass it to every client of the app (``ExactClient(..., rate_limiter=limiter)``), in
    every worker process. ``url`` is a redis-py URL (``redis://host:6379/0``;
    ``rediss://`` for TLS); its password never appears in errors or the ``repr``.
    ``app`` names the Exact app (its client ID, say; never its secret); ``prefix``
    starts every key (``exactbridge:budget:<app>:<division>``);
    ``minutely_limit``/``daily_limit`` are assumed until Exact reports its own;
    ``margin`` seconds are added to a minute's reset before calling again; ``clock``
    tells the time (a simulated one in tests). ``client`` is an existing
    ``redis.Redis`` to use instead of ``url`` (it is not closed by :meth:`close`).
    Redis problems raise :class:`~exactbridge.errors.ExactBridgeError` naming the
    server. Example::

        limiter = RedisRateLimiter("redis://cache.internal:6379/0", app=credentials.client_id)
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        app: str = "default",
        prefix: str = "exactbridge:budget",
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        margin: float = 1.0,
        clock: Clock | None = None,
        client: Any = None,
        socket_timeout: float = 10.0,
    ) -> None:
        self._setup(
            "RedisRateLimiter",
            app=app,
            minutely_limit=minutely_limit,
            daily_limit=daily_limit,
            margin=margin,
            clock=clock,
        )
        given: object = prefix
        if not isinstance(given, str) or not given:
            raise ConfigurationError(
                f"got {prefix!r}", key="RedisRateLimiter.prefix", expected="a non-empty string"
            )
        module = _redis("RedisRateLimiter")
        self._errors: type[BaseException] = module.RedisError
        self._watch_error: type[BaseException] = module.WatchError
        if client is not None:
            if url is not None:
                raise ConfigurationError(
                    "both url and client given", key="RedisRateLimiter", expected="one of them"
                )
            self._client = client
            self._owned = False
            kwargs = client.connection_pool.connection_kwargs
            self._where = f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}"
        else:
            if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
                raise ConfigurationError(
                    "got a value that is not a Redis URL",
                    key="RedisRateLimiter.url",
                    expected="redis://host:port/db (or rediss://, unix://)",
                )
            self._client = module.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
            )
            self._owned = True
            self._where = _describe_redis_url(url)
        self._prefix = prefix

    def key(self, division: int | None) -> str:
        """The Redis key of ``division``'s budget."""
        return f"{self._prefix}:{self._app}:{self._division_key(division)}"

    # --- the hash <-> a budget ---------------------------------------------------------

    def _read(self, reader: Any, key: str) -> SharedBudget | None:
        raw = reader.hgetall(key)
        if not raw:
            return None
        stored = {k.decode(): v.decode() for k, v in raw.items()}
        return SharedBudget(_window("minute", stored), _window("day", stored))

    # --- the two primitives of SharedRateLimiterBase -----------------------------------

    def _load(self, division: int | None) -> SharedBudget | None:
        try:
            return self._read(self._client, self.key(division))
        except self._errors as exc:
            raise self._error("read the rate budget", exc) from None

    def _change(
        self,
        action: str,
        division: int | None,
        change: Callable[[SharedBudget], tuple[SharedBudget, _T]],
    ) -> _T:
        """Read, change and write one budget atomically (retried when it moved meanwhile)."""
        key = self.key(division)
        try:
            # redis-py's client is thread-safe: each change gets a pipeline (and a
            # connection) of its own, so threads of one process need no lock here.
            with self._client.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(key)
                        stored = self._read(pipe, key)
                        budget, result = change(self._new if stored is None else stored)
                        pipe.multi()
                        pipe.hset(
                            key,
                            mapping={
                                **_window_fields("minute", budget.minute),
                                **_window_fields("day", budget.day),
                            },
                        )
                        pipe.expire(key, _IDLE_SECONDS)
                        pipe.execute()
                        return result
                    except self._watch_error:
                        continue  # another worker changed it first: read it again
        except self._errors as exc:
            raise self._error(action, exc) from None

    def _error(self, action: str, exc: BaseException) -> ExactBridgeError:
        # redis-py's messages name the server and the failure, never the password.
        detail = f"{type(exc).__name__}: {exc}"
        return ExactBridgeError(f"rate budget redis {self._where}: cannot {action}: {detail}")

    def close(self) -> None:
        """Close the connections this limiter opened (not a ``client=`` passed in)."""
        if self._owned:
            self._client.close()

    def __enter__(self) -> RedisRateLimiter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RedisRateLimiter({self._where!r}, app={self._app!r}, prefix={self._prefix!r})"
