"""benchmarks/bench_many_divisions.py, small: run as a user runs it, figures checked.

Four divisions on two worker processes, long enough in simulated time (about eleven
minutes) that the shared access token (ten minutes) is refreshed while both book.
What is asserted are counts (entries, calls per window, refreshes), never times.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_many_divisions.py"
DIVISIONS, INVOICES = 4, 300


def test_four_divisions_on_two_workers_book_each_invoice_once_within_exacts_limits(
    postgres_conninfo: str,
):
    args = [
        *("--divisions", str(DIVISIONS), "--invoices", str(INVOICES), "--members", "40"),
        *("--workers", "2", "--no-baseline", "--json"),
    ]
    env = {**os.environ, "EXACTBRIDGE_TEST_POSTGRES": postgres_conninfo}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (figures,) = json.loads(done.stdout)
    assert figures["errors"] == []
    assert (figures["divisions"], figures["invoices"], figures["workers"]) == (4, 300, 2)
    assert figures["duplicates"] == 0
    assert figures["losses"] == 0
    assert figures["failed_records"] == 0
    # Every invoice needs its entry; customers are created on the way.
    assert figures["exact_calls"] >= DIVISIONS * INVOICES
    # The shared budget held each division to Exact's minute, and Exact never said 429.
    assert 0 < figures["max_calls_per_minute"] <= 60
    assert figures["max_calls_per_day"] <= 5000
    assert figures["too_many_requests"] == 0
    # The token was refreshed while both workers used it, and no refresh was refused
    # (a worker presenting a rotated refresh token would have been).
    assert figures["refreshes"] >= 1
    assert figures["refresh_failures"] == 0
    # Two workers on four divisions of about 5.5 minutes each: more than ten minutes.
    assert figures["simulated_hours"] > 10 / 60
