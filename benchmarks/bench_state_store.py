"""State store throughput: the engine's write pattern on the SQLite store.

Run: .venv/bin/python benchmarks/bench_state_store.py [--keys 50000] [--batch 500]
     [--synchronous FULL NORMAL] [--path DIR]

For every batch of ``--batch`` source records: one ``get_many`` (the engine reads a
batch at once), then for each record ``record_intent`` followed by ``mark_booked``
(each its own committed transaction, as in a real run). Prints, per ``synchronous``
setting, the elapsed time, records per second, and store operations per second
(intent + booked + the share of get_many; counted as 2 + 1/batch per record).

The database goes to a temporary folder unless ``--path`` names one: fsync cost
depends on the disk, so run it where the real state file will live.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from exactbridge.sync.sqlite_store import SQLiteStateStore
from exactbridge.sync.state import BookingKey, BookingStatus

T0 = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.timezone.utc)


def run(folder: Path, keys: int, batch: int, synchronous: str) -> tuple[float, int]:
    path = folder / f"bench-{synchronous.lower()}.sqlite3"
    all_keys = [BookingKey("virtuagym", "club-12", f"INV-{i:06d}") for i in range(keys)]
    tick = dt.timedelta(microseconds=1)
    now = T0
    store = SQLiteStateStore(path, synchronous=synchronous)  # type: ignore[arg-type]
    reads = 0
    try:
        started = time.perf_counter()
        for start in range(0, keys, batch):
            chunk = all_keys[start : start + batch]
            known = store.get_many(chunk)
            reads += 1
            for key in chunk:
                if key in known and known[key].status is BookingStatus.BOOKED:
                    continue
                now += tick
                store.record_intent(
                    key, content_hash="sha256:0f3a", your_ref=key.source_id, journal="70", now=now
                )
                now += tick
                store.mark_booked(
                    key,
                    exact_id=f"00000000-0000-4000-8000-{start:012d}",
                    entry_number=700000 + start,
                    content_hash="sha256:0f3a",
                    now=now,
                )
        elapsed = time.perf_counter() - started
        booked = len(store.get_many(all_keys))
    finally:
        store.close()
    assert booked == keys, (booked, keys)
    return elapsed, reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--synchronous", nargs="+", default=["FULL", "NORMAL"])
    parser.add_argument("--path", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.path or Path(tmp)
        print(f"{args.keys} records, get_many batches of {args.batch}, database in {folder}")
        for mode in args.synchronous:
            elapsed, reads = run(folder, args.keys, args.batch, mode)
            ops = 2 * args.keys + reads
            print(
                f"synchronous={mode:<6} {elapsed:8.2f} s  "
                f"{args.keys / elapsed:10,.0f} records/s  "
                f"{ops / elapsed:10,.0f} store operations/s "
                f"({2 * args.keys} writes + {reads} get_many)"
            )


if __name__ == "__main__":
    main()
