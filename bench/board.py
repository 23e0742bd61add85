"""Benchmark: the lobby board's JSON, on SQLite, served by gunicorn as in production.

Setup (once, kept under bench/results/board/): ``init-db``, ``demo --requests N --seed 1``,
then ``--ready`` (default 500) requests of office 36.73 in *processing* are marked ready at
pickup point ``srg-dinas`` through the console's batch (``/staff/batch``), so that one board
lists that many documents with real pickup numbers.

1. Latency: one keep-alive connection asks ``/api/v1/points/srg-dinas/board`` ``--asks``
   times in a row, three ways: every answer built afresh (``BOARD_CACHE_SECONDS=0``), from
   the worker's cache (the default), and a 304 for a board that has not changed. Goal: the
   board with 500 documents answers in at most 20 ms at the median, built afresh.
2. Load: ``--boards`` boards (default 200) each poll every ``--every`` seconds (default 5)
   with their ETag for ``--seconds`` (default 60), as the TVs do, while a staff action (a
   call to a counter) changes the board every ``--calls-every`` seconds (default 5, which
   is busier than any counter; 0 for a board that does not change). The server's CPU time
   (gunicorn master and worker, from /proc) over the wall time is its share of one core.
   Goal: at most 10%.

    python bench/board.py
    python bench/board.py --ready 500 --boards 200 --seconds 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import flask  # bench/common.py (the script's own folder is on the path)

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = ROOT / "bench" / "results" / "board"
POINT = "srg-dinas"
PATH = f"/api/v1/points/{POINT}/board"
PASSWORD = "bench-board-password-7"


def prepare(stored: int, ready: int) -> Path:
    WORKDIR.mkdir(parents=True, exist_ok=True)
    database = WORKDIR / f"board-{stored}-{ready}.sqlite"
    if database.exists():
        return database
    started = time.perf_counter()
    flask(database, "init-db")
    flask(database, "demo", "--requests", str(stored), "--per-status", "0", "--seed", "1")
    flask(database, "staff", "create", "bench-op", "--office", "36.73", "--role", "operator",
          stdin=PASSWORD + "\n")  # fmt: skip
    mark_ready(database, ready)
    print(f"made {database.name}: {stored:,} stored, {ready} ready at {POINT} "
          f"in {time.perf_counter() - started:.1f} s")  # fmt: skip
    return database


def mark_ready(database: Path, count: int) -> None:
    """Mark ``count`` requests ready at the point through the console's batch, as staff do."""
    from sqlalchemy import func, select

    from tracker import create_app
    from tracker.models import Office, PickupPoint, Request
    from tracker.status import Status

    app = create_app({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench",
                      "RATELIMIT_ENABLED": False})  # fmt: skip
    session = app.extensions["siapambil.db"]["reader"]()
    office = session.scalars(select(Office).where(Office.code == "36.73")).one()
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == POINT)).one()
    already = session.scalar(
        select(func.count()).where(
            Request.pickup_point_id == point.id, Request.status == Status.READY
        )
    )
    receipts = list(session.scalars(
        select(Request.receipt)
        .where(Request.office_id == office.id, Request.status == Status.PROCESSING)
        .limit(count - already)
    ))  # fmt: skip
    session.close()
    if len(receipts) < count - already:
        raise SystemExit(f"only {len(receipts)} requests in processing; raise --stored")
    client = app.test_client()

    def token(path: str) -> str:
        page = client.get(path).get_data(as_text=True)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    signed = client.post("/staff/login", data={"username": "bench-op", "password": PASSWORD,
                                               "csrf_token": token("/staff/login")})  # fmt: skip
    assert signed.status_code == 303, signed.status_code
    for start in range(0, len(receipts), 250):
        form = {"csrf_token": token("/staff/batch"), "to": "ready", "point": str(point.id),
                "receipts": "\n".join(receipts[start : start + 250])}  # fmt: skip
        answer = client.post("/staff/batch", data=form)
        if answer.status_code != 303:
            raise SystemExit(f"the batch was refused ({answer.status_code})")
    app.extensions["siapambil.db"]["engine"].dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with one worker of four threads, serving the product on a free port."""

    def __init__(self, database: Path, cache_seconds: int) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench",
               "ENV": "production", "RATELIMIT_ENABLED": "0",
               "BOARD_CACHE_SECONDS": str(cache_seconds)}  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4",
             "--worker-class", "gthread", "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", PATH)
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the server did not come up")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of gunicorn's master and its workers so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        pids = [self.process.pid, *self._children()]
        for pid in pids:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def _children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def latency(port: int, asks: int, etag: bool) -> tuple[list[float], int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", PATH)
    first = connection.getresponse()
    body = first.read()
    headers = {"If-None-Match": first.getheader("ETag")} if etag else {}
    times = []
    for _ in range(asks):
        started = time.perf_counter()
        connection.request("GET", PATH, headers=headers)
        answer = connection.getresponse()
        answer.read()
        times.append((time.perf_counter() - started) * 1000)
        if answer.status != (304 if etag else 200):
            raise SystemExit(f"unexpected answer {answer.status}")
    connection.close()
    return times, len(body)


def describe(name: str, times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (f"{name}: median {statistics.median(times):.2f} ms, p95 {p95:.2f} ms, "
            f"max {max(times):.2f} ms ({len(times)} asks)")  # fmt: skip


def count_documents(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", PATH)
    return len(json.loads(connection.getresponse().read())["documents"])


def poll(port: int, every: float, until: float, tally: dict[str, int], lock: threading.Lock):
    """One TV: a poll every ``every`` seconds with the ETag it holds, from a random phase."""
    time.sleep(random.uniform(0, every))
    etag = None
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", PATH, headers={"If-None-Match": etag} if etag else {})
            answer = connection.getresponse()
            answer.read()
            connection.close()
            key = str(answer.status)
            if answer.status == 200:
                etag = answer.getheader("ETag")
        except OSError:
            key = "error"
        with lock:
            tally[key] = tally.get(key, 0) + 1
        time.sleep(max(0.0, every - (time.monotonic() - started)))


def staff_calls(database: Path, until: float, every: float) -> int:
    """A call to a counter every ``every`` seconds, written as the console writes it."""
    connection = sqlite3.connect(database, timeout=10)
    ids = [row[0] for row in connection.execute(
        "SELECT id FROM requests WHERE status = 'ready' AND pickup_point_id = "
        "(SELECT id FROM pickup_points WHERE code = ?)", (POINT,))]  # fmt: skip
    made = 0
    while every and time.monotonic() < until:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        connection.execute(
            "UPDATE requests SET counter = 'Loket 2', called_at = ?, version = version + 1 "
            "WHERE id = ?", (now, random.choice(ids)),
        )  # fmt: skip
        connection.commit()
        made += 1
        time.sleep(every)
    connection.close()
    return made


def load(database: Path, boards: int, every: float, seconds: float, calls: float) -> None:
    server = Server(database, cache_seconds=2)
    try:
        tally: dict[str, int] = {}
        lock = threading.Lock()
        until = time.monotonic() + seconds + every  # every board is polling after one period
        threads = [threading.Thread(target=poll, args=(server.port, every, until, tally, lock))
                   for _ in range(boards)]  # fmt: skip
        for thread in threads:
            thread.start()
        caller = threading.Thread(target=staff_calls, args=(database, until, calls))
        caller.start()
        time.sleep(every)  # the boards' first, unconditional polls are not the steady state
        cpu, wall = server.cpu_seconds(), time.monotonic()
        with lock:
            tally.clear()
        time.sleep(seconds)
        used, took = server.cpu_seconds() - cpu, time.monotonic() - wall
        with lock:
            counts = dict(tally)
        for thread in [*threads, caller]:
            thread.join()
    finally:
        server.stop()
    asked = sum(counts.values())
    changes = f"a call every {calls:g} s" if calls else "no change"
    print(f"{boards} boards polling every {every:g} s for {took:.0f} s, {changes}: {asked} asks "
          f"({asked / took:.1f}/s; {counts}), server CPU {used:.2f} s = "
          f"{100 * used / took:.1f}% of one core (goal: at most 10%)")  # fmt: skip
    if counts.get("error"):
        raise SystemExit("some polls failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, default=60_000)
    parser.add_argument("--ready", type=int, default=500)
    parser.add_argument("--asks", type=int, default=300)
    parser.add_argument("--boards", type=int, default=200)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--calls-every", type=float, default=5.0, help="0: the board never changes")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    database = prepare(args.stored, args.ready)

    fresh = Server(database, cache_seconds=0)
    try:
        documents = count_documents(fresh.port)
        times, size = latency(fresh.port, args.asks, etag=False)
        print(f"board of {POINT}: {documents} documents, {size:,} bytes of JSON")
        print(describe("built afresh every time", times))
    finally:
        fresh.stop()
    cached = Server(database, cache_seconds=2)
    try:
        print(describe("from the worker's cache", latency(cached.port, args.asks, False)[0]))
        print(describe("304, board unchanged", latency(cached.port, args.asks, True)[0]))
    finally:
        cached.stop()
    load(database, args.boards, args.every, args.seconds, args.calls_every)


if __name__ == "__main__":
    main()
