"""Benchmark: the public announcement lists when a province's documents wait to be collected.

On the database that ``bench/lookup.py`` filled (one million requests, about 50,000 of them
ready at 15 points; run that first, with ``--keep``), every ready document is announced at
its point, as the announce job would (once: a later run finds them announced), then the
public lists are asked for ``--times`` times each, in process (no HTTP). Printed: each
address's median and slowest milliseconds, the CPU milliseconds of its median answer, and
the size of the answer.

    python bench/announcements.py                         # SQLite
    python bench/announcements.py --database postgresql   # the benchmark's PostgreSQL database
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import filled_arguments, filled_url  # bench/common.py (the script's own folder)

ADDRESSES = [
    "/pengumuman",
    "/pengumuman?titik={point}",
    "/pengumuman?titik={point}&hal=20",
    "/pengumuman.atom",
    "/api/v1/announcements",
    "/api/v1/announcements?point={point}",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    filled_arguments(parser)
    parser.add_argument("--times", type=int, default=5, help="asks of each address")
    args = parser.parse_args()
    url = filled_url(args)
    from sqlalchemy import func, select

    from tracker import create_app
    from tracker.announcements import operations
    from tracker.db import unit_of_work
    from tracker.models import Announcement, PickupPoint, Request, utcnow
    from tracker.status import Status

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context(), unit_of_work() as session:
        started = time.perf_counter()
        published = operations.publish(session, utcnow())
        if published:
            print(f"announced: {len(published)} announcements in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        ready = session.scalar(
            select(func.count()).select_from(Request).where(Request.status == Status.READY)
        )
        announcements = session.scalar(select(func.count()).select_from(Announcement))
        point = session.scalar(
            select(PickupPoint.code)
            .join(Request, Request.pickup_point_id == PickupPoint.id)
            .where(Request.status == Status.READY)
            .group_by(PickupPoint.code)
            .order_by(func.count().desc())
            .limit(1)
        )
    print(f"database: {args.database}, {ready:,} ready documents, {announcements:,} "
          f"announcements; each address asked {args.times} times")  # fmt: skip
    print("| address | median ms | slowest ms | CPU ms | size |")
    print("|---|---|---|---|---|")
    client = app.test_client()
    for address in ADDRESSES:
        path = address.format(point=point)
        took, cpu = [], []
        size = 0
        for _ in range(args.times):
            started, used = time.perf_counter(), time.process_time()
            answer = client.get(path)
            size = len(answer.data)
            took.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - used) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"{path} answered {answer.status_code}")
        print(f"| `{address}` | {statistics.median(took):.1f} | {max(took):.1f} "
              f"| {statistics.median(cpu):.1f} | {size / 1e6:.2f} MB |")  # fmt: skip


if __name__ == "__main__":
    main()
