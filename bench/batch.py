"""Benchmark: one batch of receipts marked ready through the staff console, on SQLite.

A database with ``--stored`` synthetic requests is made once (``flask --app wsgi init-db``
and ``demo --requests N --seed 1``). For each of ``--runs`` runs a fresh copy of it is
taken, an operator signs in, and ``--batch`` receipts of requests in ``processing`` at one
office are posted to ``/staff/batch`` as a pasted list with "ready" and a pickup point: the
whole path a counter PC takes (CSRF, parsing, checking every line, windows, pickup numbers,
events, audit rows, one commit). The time printed is that POST's, from request to answer.
Goal: 1,000 receipts in under 2 seconds.

    python bench/batch.py                    # 1,000 receipts, 5 runs, 200,000 stored
    python bench/batch.py --batch 200 --stored 20000 --runs 3
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

from common import flask  # bench/common.py (the script's own folder is on the path)

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "bench" / "results" / "batch"
PASSWORD = "bench-batch-password-7"


def prepare(stored: int) -> Path:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    database = WORKDIR / f"batch-{stored}.sqlite"
    if not database.exists():
        started = time.perf_counter()
        flask(database, "init-db")
        flask(database, "demo", "--requests", str(stored), "--per-status", "0", "--seed", "1")
        flask(database, "staff", "create", "bench-op", "--office", "36.73", "--role", "operator",
              stdin=PASSWORD + "\n")  # fmt: skip
        took = time.perf_counter() - started
        print(f"made {database.name} with {stored:,} requests in {took:.1f} s")
    return database


def one_run(template: Path, size: int) -> tuple[float, int]:
    from sqlalchemy import select

    from tracker import create_app
    from tracker.models import Office, PickupPoint, Request
    from tracker.status import Status

    copy = WORKDIR / "run.sqlite"
    shutil.copy(template, copy)
    for suffix in ("-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": f"sqlite:///{copy}", "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False})  # fmt: skip
    session = app.extensions["siapambil.db"]["reader"]()
    office = session.scalars(select(Office).where(Office.code == "36.73")).one()
    receipts = list(session.scalars(
        select(Request.receipt)
        .where(Request.office_id == office.id, Request.status == Status.PROCESSING)
        .limit(size)
    ))  # fmt: skip
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == "srg-dinas")).one()
    session.close()
    if len(receipts) < size:
        raise SystemExit(f"only {len(receipts)} requests in processing; raise --stored")
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    signed = client.post("/staff/login", data={"username": "bench-op", "password": PASSWORD,
                                               "csrf_token": token})  # fmt: skip
    assert signed.status_code == 303, signed.status_code
    page = client.get("/staff/batch").get_data(as_text=True)  # signing in renewed the token
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "to": "ready", "point": str(point.id),
            "receipts": "\n".join(receipts)}  # fmt: skip
    started = time.perf_counter()
    answer = client.post("/staff/batch", data=form)
    took = time.perf_counter() - started
    if answer.status_code != 303:
        raise SystemExit(f"the batch was refused ({answer.status_code})")
    check = app.extensions["siapambil.db"]["reader"]()
    ready = check.scalars(
        select(Request.id).where(Request.receipt.in_(receipts), Request.status == Status.READY)
    ).all()
    check.close()
    app.extensions["siapambil.db"]["engine"].dispose()
    return took, len(ready)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--stored", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    template = prepare(args.stored)
    times = []
    for number in range(1, args.runs + 1):
        took, moved = one_run(template, args.batch)
        if moved != args.batch:
            raise SystemExit(f"run {number}: {moved} of {args.batch} are ready")
        times.append(took)
        print(f"run {number}: {args.batch:,} receipts marked ready in {took:.3f} s")
    median = statistics.median(times)
    print(
        f"batch of {args.batch:,} with {args.stored:,} stored: median {median:.3f} s, "
        f"max {max(times):.3f} s (goal: under 2 s)"
    )


if __name__ == "__main__":
    main()
