"""Benchmark: announce, with its notifications, after 50,000 documents became ready, on
SQLite with 100,000 and with 1,000,000 requests stored.

For each size a database is filled once (``init-db``, ``demo --requests N --seed 1``) and
announced once, as a running system would have been. Then ``--changed`` requests that were
not ready are made ready since that run (status, pickup point, window, pickup number, and a
held *ready* message in the outbox for each, as the console writes them) and the announce
job runs in a fresh process: it publishes one announcement per point with its items, marks
the requests, and releases their messages to the outbox, in one transaction. The time of
that job and the peak memory (max RSS) of its process are printed.

Goals: at most 15 s and 300 MB with 1,000,000 stored, and a time that follows what changed,
not what is stored (the two sizes should take about as long).

    python bench/announce.py                       # 100,000 and 1,000,000 stored
    python bench/announce.py --sizes 20000 --changed 5000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from common import flask  # bench/common.py (the script's own folder is on the path)

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "bench" / "results" / "announce"


def filled(stored: int) -> Path:
    """A database with ``stored`` requests whose ready ones were announced already."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    database = WORKDIR / f"stored-{stored}.sqlite"
    if not database.exists():
        started = time.perf_counter()
        flask(database, "init-db")
        flask(database, "demo", "--requests", str(stored), "--per-status", "0", "--seed", "1")
        flask(database, "jobs", "run-once", "announce")
        took = time.perf_counter() - started
        print(f"filled {database.name} ({stored:,} requests) in {took:.0f} s", flush=True)
    return database


def make_changes(template: Path, changed: int) -> Path:
    """A copy of the database where ``changed`` requests became ready since the last run."""
    copy = WORKDIR / "run.sqlite"
    shutil.copy(template, copy)
    for suffix in ("-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(copy)
    ids = [row[0] for row in db.execute(
        "SELECT r.id FROM requests r WHERE r.status NOT IN ('ready', 'returned') "
        "ORDER BY r.id DESC LIMIT ?", (changed,))]  # fmt: skip
    if len(ids) < changed:
        raise SystemExit(f"only {len(ids)} requests can become ready")
    points = {office: point for office, point in db.execute(
        "SELECT office_id, min(id) FROM pickup_points GROUP BY office_id")}  # fmt: skip
    db.executemany(
        "UPDATE requests SET status = 'ready', announced_id = NULL, pickup_point_id = ?, "
        "window_starts = '2026-12-01 01:00:00.000000', window_ends = '2026-12-14 08:00:00.000000', "
        "pickup_day = '2026-12-01', pickup_number = ?, consent_notify = 1, channel = 'sms', "
        "version = version + 1 WHERE id = ?",
        [(points[office], f"B-{request_id}", request_id) for request_id, office in
         db.execute(f"SELECT id, office_id FROM requests WHERE id IN ({','.join(map(str, ids))})")],
    )  # fmt: skip
    db.execute(
        "INSERT INTO outbox (request_id, office_id, event, channel, idempotency_key, recipient, "
        "subject, body, status, attempts, next_attempt_at, last_error, created_at) "
        "SELECT id, office_id, 'ready', 'sms', id || ':ready:' || version || ':sms', phone, "
        "'', '', 'held', 0, '2026-12-01 01:00:00.000000', '', '2026-12-01 01:00:00.000000' "
        f"FROM requests WHERE id IN ({','.join(map(str, ids))})"
    )
    db.commit()
    db.close()
    return copy


def measure(database: Path) -> dict[str, float]:
    """Run in a fresh process: the announce job, timed, and this process's peak memory."""
    sys.path.insert(0, str(ROOT))
    from jobs import runner, work
    from tracker import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench"})
    started = time.perf_counter()
    published = runner.run(app, "announce", work.announce)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    db = sqlite3.connect(database)
    released = db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]
    db.close()
    return {"seconds": seconds, "peak_mb": peak, "published": published, "released": released}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--changed", type=int, default=50_000)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    for stored in args.sizes:
        run = make_changes(filled(stored), args.changed)
        out = subprocess.run(
            [sys.executable, __file__, "--measure", str(run)], check=True, capture_output=True,
            text=True, env={**os.environ, "SECRET_KEY": "bench"},
        ).stdout.strip().splitlines()[-1]  # fmt: skip
        result = json.loads(out)
        print(
            f"{stored:>9,} stored, {args.changed:,} became ready: announce took "
            f"{result['seconds']:.2f} s, peak memory {result['peak_mb']:.0f} MB; "
            f"{result['published']:,} published, {result['released']:,} messages released "
            f"(goal: at most 15 s and 300 MB)",
            flush=True,
        )


if __name__ == "__main__":
    main()
