"""Fixtures every test package shares: the real servers some tests need.

Tests marked ``postgres`` need a PostgreSQL server named by ``EXACTBRIDGE_TEST_POSTGRES``
(a libpq connection string); ``.ci/run`` starts one. Without it they are skipped, and the
skip says why.
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
