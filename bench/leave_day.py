"""Benchmark: a collective leave day added over a province's worth of documents.

On the database that ``bench/lookup.py`` filled (one million requests: on SQLite
bench/results/lookup/bench.sqlite, on PostgreSQL the database ``siapambil_bench_lookup``; run
that first, with ``--keep`` to leave it), a leave day is added as the console and ``setup
load`` add one (``tracker.places.leave.add``): the pickup windows of the documents waiting
over it are worked out again (an audit row each, a message to each who agreed), and the
expected dates of the requests in progress over it move a working day later. The unit of
work is rolled back, so the database is left as it was and the run can be repeated.

Printed: how many documents and requests the day is over (``closures.over_leave_day``, what
the console compares with ``LEAVE_DAY_CONSOLE_MOST``), how many windows and dates moved, and
the seconds each part took. The console's bound comes from these figures: a sync web worker
is killed after ``WEB_TIMEOUT`` (30 s) of silence, so a page may spend about half of that.

    python bench/leave_day.py                         # SQLite
    python bench/leave_day.py --database postgresql   # the benchmark's PostgreSQL database
    python bench/leave_day.py --day 2026-12-01        # a day inside the filled windows
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

from common import filled_arguments, filled_url  # bench/common.py (the script's own folder)


def busiest_day(session: object) -> dt.date:
    """The weekday with the most documents waiting over it: the first working day after the
    latest ready moment in the table (every window then takes it in)."""
    from sqlalchemy import func, select

    from tracker.models import Request
    from tracker.places import workdays
    from tracker.status import Status

    latest = session.scalar(  # type: ignore[attr-defined]
        select(func.max(Request.window_starts)).where(Request.status == Status.READY)
    )
    if latest is None:
        raise SystemExit("no document is waiting: fill the database with bench/lookup.py")
    day = latest.date() + dt.timedelta(days=1)
    while not workdays.is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    filled_arguments(parser)
    parser.add_argument("--day", type=dt.date.fromisoformat, help="the leave day (a weekday)")
    args = parser.parse_args()
    url = filled_url(args)
    from tracker import create_app
    from tracker.audit.trail import SYSTEM
    from tracker.db import unit_of_work
    from tracker.models import utcnow
    from tracker.places import closures, leave

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context(), unit_of_work() as session:
        day = args.day or busiest_day(session)
        started = time.perf_counter()
        over = closures.over_leave_day(session, day)
        counted = time.perf_counter()
        added = leave.add(session, utcnow(), SYSTEM, day, "Cuti bersama (bench)")
        session.flush()
        done = time.perf_counter()
        session.rollback()  # the database stays as it was
    most = app.config["LEAVE_DAY_CONSOLE_MOST"]
    print(f"database: {args.database}; leave day {day.isoformat()}")
    print(f"over it: about {over:,} documents and requests ({(counted - started) * 1000:.0f} ms "
          f"to count); the console adds it when at most {most:,}")  # fmt: skip
    print(f"moved: {len(added.moved):,} pickup windows and {added.deferred:,} expected dates "
          f"in {done - counted:.1f} s (rolled back)")  # fmt: skip


if __name__ == "__main__":
    main()
