"""Benchmark: an upgrade's migrations on PostgreSQL while the release before serves.

The upgrade guide runs the migrations first, while the web of the release before keeps
serving. This measures whether it can: on a filled database (by default the one
``bench/lookup.py --database postgresql --keep`` left, a million requests), the schema is
taken back to ``--from`` (by default the revision before head), then brought to head as
``flask --app wsgi init-db`` does, while two threads do what that web does meanwhile:

- a reader runs a look-up's query (a request by its receipt number) every 20 ms;
- a writer moves a request on (one row's ``UPDATE`` in a transaction of its own) every
  100 ms.

Printed: the migrations' progress lines and seconds, and for the reader and the writer how
many ran, their median, 99th percentile and longest time, and how many took over a second
(a page that waits that long is a citizen or a clerk waiting). The database is left at head.

    python bench/upgrade.py                                   # the benchmark's database
    python bench/upgrade.py --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/other
    python bench/upgrade.py --from 0014
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import FILLED_POSTGRES  # bench/common.py (the script's own folder)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = FILLED_POSTGRES
SAMPLE = 2_000  # receipts and ids the threads pick from


@dataclass
class Timings:
    """How long each of one thread's statements took, in seconds."""

    name: str
    seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        if not self.seconds:
            return f"{self.name}: none ran ({len(self.errors)} errors)"
        ordered = sorted(self.seconds)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        slow = sum(1 for s in ordered if s > 1.0)
        return (
            f"{self.name}: {len(ordered):,} ran, median {statistics.median(ordered) * 1000:.1f} ms,"
            f" p99 {p99 * 1000:.1f} ms, longest {ordered[-1]:.2f} s, over 1 s: {slow},"
            f" errors: {len(self.errors)}"
        )


def keep_doing(
    engine: object,
    timings: Timings,
    every: float,
    statement: str,
    values: list,
    stop: threading.Event,
) -> None:
    """Run ``statement`` with one of ``values`` every ``every`` seconds until ``stop``, each
    in a transaction of its own, timing it."""
    from sqlalchemy import text

    query = text(statement)
    with engine.connect() as connection:  # type: ignore[attr-defined]
        connection.exec_driver_sql("SET lock_timeout = '120s'")
        connection.commit()
        while not stop.is_set():
            started = time.perf_counter()
            try:
                result = connection.execute(query, {"value": random.choice(values)})
                if result.returns_rows:
                    result.all()
                connection.commit()
                timings.seconds.append(time.perf_counter() - started)
            except Exception as error:  # noqa: BLE001 - counted and printed
                connection.rollback()
                timings.errors.append(f"{error.__class__.__name__}: {error}"[:200])
            stop.wait(every)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    parser.add_argument("--from", dest="start", help="the revision to go back to first")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "bench")
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from tracker import schema
    from tracker.db import make_engine

    engine = make_engine(args.postgres_url)
    if engine.dialect.name != "postgresql":
        raise SystemExit("PostgreSQL only: on SQLite one office's database migrates in moments")
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    head = scripts.get_current_head()
    start = args.start or scripts.get_revision(head).down_revision
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM requests")).scalar()
        picked = connection.execute(
            text("SELECT id, receipt FROM requests ORDER BY random() LIMIT :n"), {"n": SAMPLE}
        ).all()
    if not picked:
        raise SystemExit("no requests: fill the database with bench/lookup.py first")
    print(f"{count:,} requests; back to {start}", flush=True)
    began = time.perf_counter()
    schema.downgrade(engine, start)
    print(f"back to {start} in {time.perf_counter() - began:.1f} s; now up to {head}", flush=True)

    read = "SELECT id, status FROM requests WHERE receipt = :value"
    write = "UPDATE requests SET version = version + 1 WHERE id = :value"
    stop = threading.Event()
    reader, writer = Timings("look-ups (the release before)"), Timings("moves (the release before)")
    threads = [
        threading.Thread(
            target=keep_doing,
            args=(engine, reader, 0.02, read, [r.receipt for r in picked], stop),
        ),
        threading.Thread(
            target=keep_doing,
            args=(engine, writer, 0.1, write, [r.id for r in picked], stop),
        ),
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # both running before the migrations start
    began = time.perf_counter()
    try:
        schema.upgrade(engine, progress=lambda line: print(f"  {line}", flush=True))
    finally:
        took = time.perf_counter() - began
        time.sleep(1.0)
        stop.set()
        for thread in threads:
            thread.join()
    print(f"\nmigrations {start} to {head}: {took:.1f} s")
    for timings in (reader, writer):
        print(timings.line())
        for error in sorted(set(timings.errors))[:3]:
            print(f"  {error}")
    engine.dispose()


if __name__ == "__main__":
    main()
