"""Fixtures every test package shares: the real servers some tests need.

Tests marked ``postgres`` need a PostgreSQL server named by ``EXACTBRIDGE_TEST_POSTGRES``
(a libpq connection string); ``.ci/run`` starts one. Without it they are skipped, and the
skip says why. Tests marked ``celery`` or ``redis`` need a Redis server named by
``EXACTBRIDGE_TEST_REDIS`` (a ``redis://`` URL), likewise.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

# -- PostgreSQL ---------------------------------------------------------------------------

#: The environment variable naming the PostgreSQL server the ``postgres`` tests use.
POSTGRES_ENV = "EXACTBRIDGE_TEST_POSTGRES"


@pytest.fixture
def postgres_conninfo() -> str:
    """A libpq connection string for a test server; the test is skipped, saying why, without."""
    conninfo = os.environ.get(POSTGRES_ENV, "")
    if not conninfo:
        pytest.skip(
            f"not run: no PostgreSQL server ({POSTGRES_ENV} is not set; .ci/run starts one "
            "and sets it)"
        )
    return conninfo


@pytest.fixture
def postgres_schema(postgres_conninfo: str) -> Iterator[str]:
    """A fresh schema name for one test, dropped afterwards."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    yield name
    with psycopg.connect(postgres_conninfo, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


# -- Redis (the Celery tests and the Redis rate budget) -----------------------------------

#: The environment variable naming the Redis server of the ``celery`` tests (broker and
#: result backend) and the ``redis`` tests (``redis://127.0.0.1:63799/0``; ``.ci/redis.sh``
#: starts one).
REDIS_ENV = "EXACTBRIDGE_TEST_REDIS"


@pytest.fixture
def redis_url() -> str:
    """The test Redis server's URL; the test is skipped, saying why, without one."""
    url = os.environ.get(REDIS_ENV, "")
    if not url:
        pytest.skip(f"not run: no Redis server ({REDIS_ENV} is not set; .ci/run starts one)")
    return url
