"""Benchmark: the staff console's lists on a province's worth of requests.

On the database that ``bench/lookup.py`` filled (one million requests: on SQLite
bench/results/lookup/bench.sqlite, on PostgreSQL the database ``siapambil_bench_lookup``; run
that first, with ``--keep`` to leave it, and ``flask --app wsgi init-db`` on it after an
upgrade), an admin (every office) and an operator (one office) are signed in through the
app, in process, and each list is asked for ``--times`` times. Printed: each page's median
and slowest milliseconds, as the app serves it (no HTTP, no browser), and its statements.

The accounts ``bench-admin`` and ``bench-operator`` are made on the first run (and left, their
password set again at each run); nothing else is written but the audit rows of the sign-ins
and of the pages that record a read.

    python bench/console.py                         # SQLite
    python bench/console.py --database postgresql   # the benchmark's PostgreSQL database
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from typing import Any

from common import filled_arguments, filled_url  # bench/common.py (the script's own folder)

PASSWORD = "bangku-antrean-loket-tiga"
PAGES = [
    "/staff/",
    "/staff/queue/submitted",
    "/staff/queue/ready",
    "/staff/queue/ready?page=100",
    "/staff/overdue",
    "/staff/search?q={receipt}",
    "/staff/search?q={nik}",
    "/staff/search?q={word}",
    "/staff/r/{receipt}",
    "/staff/handover?q={receipt}",
    "/board",
]


def accounts(app: Any) -> None:
    """``bench-admin`` and ``bench-operator`` at the first office, with the bench's password."""
    from sqlalchemy import select

    from tracker.accounts import operations
    from tracker.db import unit_of_work
    from tracker.models import Office, Role

    with app.app_context(), unit_of_work() as session:
        office = session.scalars(select(Office).order_by(Office.id)).first()
        if office is None:
            raise SystemExit("no office: fill the database with bench/lookup.py")
        for role in (Role.ADMIN, Role.OPERATOR):
            name = f"bench-{role.value}"
            found = operations.find(session, name)
            if found is None:
                operations.create(
                    session, username=name, password=PASSWORD, office=office, role=role
                )
            else:
                operations.set_password(found, PASSWORD)
                operations.set_active(found, True)


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    form = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert token is not None, "the sign-in form has no CSRF token"
    answer = client.post(
        "/staff/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    if answer.status_code != 303:
        raise SystemExit(f"{username} could not sign in ({answer.status_code})")
    return client


def samples(app: Any) -> dict[str, str]:
    """A ready request's receipt number, a NIK and a word of a name, of the first office."""
    from sqlalchemy import select

    from tracker.db import unit_of_work
    from tracker.models import Office, Request
    from tracker.status import Status

    with app.app_context(), unit_of_work() as session:
        office = session.scalars(select(Office).order_by(Office.id)).first()
        found = session.execute(
            select(Request.receipt, Request.nik, Request.applicant_name)
            .where(Request.office_id == office.id, Request.status == Status.READY)
            .where(Request.nik.is_not(None))
            .limit(1)
        ).one()
    return {"receipt": found[0], "nik": found[1], "word": found[2].split()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    filled_arguments(parser)
    parser.add_argument("--times", type=int, default=5, help="asks of each page")
    args = parser.parse_args()
    url = filled_url(args)
    from sqlalchemy import event, func, select

    from tracker import create_app
    from tracker.db import get_engine, unit_of_work
    from tracker.models import Request

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "BOARD_CACHE_SECONDS": 0})  # fmt: skip
    accounts(app)
    values = samples(app)
    with app.app_context(), unit_of_work() as session:
        total = session.scalar(select(func.count()).select_from(Request))
    statements: list[float] = []
    engine = get_engine(app)
    event.listen(engine, "after_cursor_execute", lambda *_: statements.append(1))
    print(f"database: {args.database}, {total:,} requests; each page asked {args.times} times")
    print("| who | page | median ms | slowest ms | statements |")
    print("|---|---|---|---|---|")
    for who in ("admin", "operator"):
        client = signed_in(app, f"bench-{who}")
        for page in PAGES:
            path = page.format(**values)
            took = []
            for _ in range(args.times):
                statements.clear()
                started = time.perf_counter()
                answer = client.get(path)
                took.append((time.perf_counter() - started) * 1000)
                if answer.status_code >= 400:
                    raise SystemExit(f"{path} answered {answer.status_code} to {who}")
            print(f"| {who} | `{page}` | {statistics.median(took):.1f} | {max(took):.1f} "
                  f"| {len(statements)} |")  # fmt: skip


if __name__ == "__main__":
    main()
