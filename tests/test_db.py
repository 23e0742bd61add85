from __future__ import annotations

import datetime as dt
import json
import os
import re
import runpy
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect, select, text
from sqlalchemy.exc import OperationalError

from tracker import create_app, schema
from tracker.accounts.scope import Scope
from tracker.audit.trail import Actor
from tracker.config import DEFAULTS, from_environment
from tracker.db import after_fork, get_engine, get_read_engine, get_session, make_engine
from tracker.models import Base, Request, utcnow
from tracker.requests import operations, public, queries
from tracker.status import Status
from tracker.web.arguments import declare


def test_the_migrations_make_exactly_the_models(app) -> None:
    engine = app.extensions["siapambil.db"]["engine"]
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_init_db_twice_is_harmless(runner) -> None:
    for _ in range(2):
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_sqlite_is_set_up_for_concurrent_writers(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_concurrent_writers_never_see_database_is_locked(app, make_request) -> None:
    """Eight threads each read a request and then write it, many times, at once."""
    requests = [make_request(Status.SUBMITTED).id for _ in range(8)]
    writer = app.extensions["siapambil.db"]["writer"]
    errors: list[BaseException] = []
    path = [Status.VERIFYING, Status.NEEDS_FIX] * 10

    def work(request_id: int) -> None:
        try:
            for to in path:
                with writer() as session:
                    request = session.get(Request, request_id)
                    session.scalar(select(Request.id).limit(1))  # a read before the write
                    operations.move(
                        session,
                        request,
                        to,
                        actor=Actor("t"),
                        public_note="n",
                        now=utcnow(),
                        config=DEFAULTS,
                    )
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(rid,)) for rid in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with writer() as session:
        versions = session.scalars(select(Request.version).where(Request.id.in_(requests)))
        assert set(versions) == {1 + len(path)}


def test_postgres_url_is_read_as_psycopg3(app_config) -> None:
    from tracker.config import normalise_database_url

    assert normalise_database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_the_lookup_uses_the_receipt_index(app) -> None:
    engine = app.extensions["siapambil.db"]["engine"]
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = connection.execute(
                text("EXPLAIN QUERY PLAN SELECT id FROM requests WHERE receipt = 'X'")
            ).all()
            assert "SEARCH requests USING COVERING INDEX" in str(plan)
            assert "(receipt=?)" in str(plan)
        else:
            connection.execute(text("SET enable_seqscan = off"))
            plan = connection.execute(
                text("EXPLAIN SELECT id FROM requests WHERE receipt = 'X'")
            ).all()
            assert "uq_requests_receipt" in str(plan)


def round_trips(engine, trace: Path, action) -> tuple[int, str]:
    """How many times ``action`` waited on the server: each simple ``Query`` and each
    extended-protocol ``Sync`` the client sends (libpq's trace of the pooled connection)."""
    engine.dispose()
    connection = engine.raw_connection()  # the pool's only connection from here on
    pgconn = connection.dbapi_connection.pgconn
    with trace.open("w") as out:
        pgconn.trace(out.fileno())
        connection.close()
        action()
        pgconn.untrace()
    sent = [line for line in trace.read_text().splitlines() if "\tF\t" in f"\t{line}"]
    return sum(1 for line in sent if "\tQuery\t" in line or "\tSync" in line), "\n".join(sent)


def test_a_lookup_on_postgresql_is_one_round_trip_per_query(app, make_request, tmp_path) -> None:
    """The look-up's engine is autocommit without a ping per checkout: a request in processing
    (its row with history, then its office's recent figures) costs two round trips, where the
    app's transactional engine with pre-ping costs four per query (ping, BEGIN, SELECT,
    ROLLBACK)."""
    if get_engine(app).dialect.name == "sqlite":
        pytest.skip("round trips to a server: PostgreSQL only")
    receipt = make_request(Status.PROCESSING).receipt
    now = utcnow()
    with app.app_context():
        reads, writes = get_read_engine(), get_engine()
    assert reads is not writes

    usual = public.UsualDays(0)  # read every time, as the status page's would be when due
    count, sent = round_trips(
        reads, tmp_path / "reads.trace", lambda: public.find(reads, receipt, now, usual)
    )
    assert count == 2, sent
    assert "BEGIN" not in sent and "ROLLBACK" not in sent
    # Control: the same look-up on the writers' engine.
    count, sent = round_trips(
        writes, tmp_path / "writes.trace", lambda: public.find(writes, receipt, now, usual)
    )
    assert count == 8, sent
    assert "BEGIN" in sent and "ROLLBACK" in sent


def test_the_json_look_up_reads_no_place_it_does_not_send(
    app, client, make_request, tmp_path
) -> None:
    """While the office waits on the citizen (needs fix), the status page says where to bring
    the correction: the office's main point, read in a second query. The JSON answer does not
    carry it, so the JSON look-up reads the request alone: one round trip. Control: the
    status page of the same request, two."""
    if get_engine(app).dialect.name == "sqlite":
        pytest.skip("round trips to a server: PostgreSQL only")
    receipt = make_request(Status.NEEDS_FIX).receipt
    with app.app_context():
        reads = get_read_engine()
    answers = []

    def ask(path: str) -> None:
        answers.append(client.get(path))

    json_count, json_sent = round_trips(
        reads, tmp_path / "json.trace", lambda: ask(f"/api/v1/requests/{receipt}")
    )
    page_count, page_sent = round_trips(
        reads, tmp_path / "page.trace", lambda: ask(f"/s/{receipt}")
    )
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].get_json()["status"]["code"] == "needs_fix"
    assert json_count == 1, json_sent
    assert page_count == 2 and "pickup_points" in page_sent, page_sent


def test_open311_look_ups_read_on_the_engine_of_reads(app, client, make_request, tmp_path) -> None:
    """Open311's look-ups are public reads as the JSON API's are: on the engine of reads, one
    round trip a query and no transaction. A request in processing costs one round trip asked
    alone, and two asked with another; the writers' engine, with its ping, ``BEGIN`` and
    ``ROLLBACK`` a query, would not show there at all (the control: what the trace sees of it
    is compared with what it sees of the engine of reads)."""
    if get_engine(app).dialect.name == "sqlite":
        pytest.skip("round trips to a server: PostgreSQL only")
    first = make_request(Status.PROCESSING).receipt
    second = make_request(Status.VERIFYING).receipt
    with app.app_context():
        reads, writes = get_read_engine(), get_engine()
    answers = []

    def ask(path: str) -> None:
        answers.append(client.get(path))

    one_count, one_sent = round_trips(
        reads, tmp_path / "one.trace", lambda: ask(f"/open311/v2/requests/{first}.json")
    )
    several = f"/open311/v2/requests.json?service_request_id={first},{second}"
    several_count, several_sent = round_trips(
        reads, tmp_path / "several.trace", lambda: ask(several)
    )
    assert [a.status_code for a in answers] == [200, 200]
    assert [r["service_request_id"] for r in answers[1].get_json()] == [first, second]
    assert one_count == 1, one_sent
    assert several_count == 2, several_sent
    assert "BEGIN" not in one_sent + several_sent
    # Control: the writers' engine, traced through the same look-up, sees none of it.
    writes_count, writes_sent = round_trips(
        writes, tmp_path / "writes.trace", lambda: ask(f"/open311/v2/requests/{first}.xml")
    )
    assert answers[-1].status_code == 200
    assert writes_count == 0, writes_sent


def test_the_lookup_engine_is_the_app_engine_on_sqlite(app) -> None:
    """SQLite has no round trips to save: one engine, one pool, the same pragmas."""
    with app.app_context():
        if get_engine().dialect.name != "sqlite":
            assert get_read_engine() is not get_engine()
            assert get_read_engine().pool._pre_ping is False
            assert get_engine().pool._pre_ping is True
        else:
            assert get_read_engine() is get_engine()


def _in_a_fork(engine, parent: object, forget: bool) -> tuple[bool, int]:
    """What a forked child sees: whether its pool hands out the parent's driver connection,
    and what its first query answers. ``forget`` calls ``after_fork`` first, as gunicorn's
    ``post_fork`` hook does in each worker."""
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, and leave without running the parent's clean-up
        try:
            if forget:
                after_fork()
            with engine.connect() as connection:
                seen = connection.connection.driver_connection is parent
                value = connection.execute(text("SELECT 41 + 1")).scalar()
            os.write(writing, json.dumps([seen, value]).encode())
        finally:
            os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        seen, value = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return seen, value


@pytest.mark.parametrize("forget", [True, False], ids=["after_fork", "control"])
def test_a_forked_worker_opens_a_connection_of_its_own(database_url, forget: bool) -> None:
    """gunicorn forks its workers from a master that loaded the app (``preload_app``), and
    the app reads the database as it loads. After ``after_fork`` a worker's pool holds none
    of the master's connections, which would otherwise be shared by two processes (the
    control: without it the child is handed the parent's very connection)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            parent = connection.connection.driver_connection
            connection.execute(text("SELECT 1"))
        shared, value = _in_a_fork(engine, parent, forget)
        assert value == 42
        assert shared is not forget
        with engine.connect() as connection:  # the parent's own connection still works
            assert connection.connection.driver_connection is parent
            assert connection.execute(text("SELECT 2")).scalar() == 2
    finally:
        engine.dispose()


# --- the statement timeout of the web ----------------------------------------------------------


@pytest.mark.parametrize("seconds", [1, 0], ids=["timeout", "control"])
def test_a_statement_past_the_statement_timeout_is_cancelled_and_answered_503(
    app_config, database_url, seconds: int
) -> None:
    """With ``DB_STATEMENT_TIMEOUT_SECONDS`` PostgreSQL cancels a statement that runs longer,
    on the units' engine and on the look-up's: the request is answered 503 (a moment may mend
    it) and the worker's connections serve the next one. The control, without it, lets the
    same statement finish."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no statement timeout")
    app = create_app({**app_config, "DB_STATEMENT_TIMEOUT_SECONDS": seconds})
    sleep = text("SELECT pg_sleep(1.5)")

    @declare()
    def slow_unit() -> str:
        get_session().execute(sleep)
        return "done"

    @declare()
    def slow_read() -> str:
        with get_read_engine().connect() as connection:
            connection.execute(sleep)
        return "done"

    app.add_url_rule("/slow/unit", view_func=slow_unit)
    app.add_url_rule("/slow/read", view_func=slow_read)
    client = app.test_client()
    try:
        for path in ("/slow/unit", "/slow/read"):
            answer = client.get(path)
            if seconds:
                assert answer.status_code == 503, path
                assert answer.headers["Retry-After"]
            else:
                assert answer.status_code == 200, path
            assert client.get("/api/v1/points").status_code == 200  # the next one is served
        for engine in (get_engine(app), get_read_engine(app)):
            with engine.connect() as connection:
                shown = connection.execute(text("SHOW statement_timeout")).scalar()
            assert shown == ("1s" if seconds else "0")
    finally:
        get_engine(app).dispose()
        get_read_engine(app).dispose()


def test_gunicorn_gives_the_web_a_statement_timeout_below_its_worker_timeout(
    monkeypatch,
) -> None:
    """``gunicorn.conf.py`` sets ``DB_STATEMENT_TIMEOUT_SECONDS`` to ``WEB_TIMEOUT`` less 5 s
    for the app it loads, unless the operator set it; the scheduler and the commands, which
    do not read that file, run without one."""
    config = Path(__file__).parent.parent / "gunicorn.conf.py"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/nonexistent")  # not made at load
    for given, timeout, expected in ((None, "20", "15"), (None, None, "25"), ("7", "20", "7")):
        monkeypatch.delenv("SIAPAMBIL_DB_STATEMENT_TIMEOUT_SECONDS", raising=False)
        if given is None:
            monkeypatch.delenv("DB_STATEMENT_TIMEOUT_SECONDS", raising=False)
        else:
            monkeypatch.setenv("DB_STATEMENT_TIMEOUT_SECONDS", given)
        if timeout is None:
            monkeypatch.delenv("WEB_TIMEOUT", raising=False)
        else:
            monkeypatch.setenv("WEB_TIMEOUT", timeout)
        loaded = runpy.run_path(str(config))
        assert loaded["timeout"] == int(timeout or 30)
        assert os.environ["DB_STATEMENT_TIMEOUT_SECONDS"] == expected
        assert from_environment(os.environ)["DB_STATEMENT_TIMEOUT_SECONDS"] == int(expected)
    assert DEFAULTS["DB_STATEMENT_TIMEOUT_SECONDS"] == 0  # without gunicorn: none


# --- the console's lists, read in order from their indexes ------------------------------------


@pytest.mark.parametrize("role", ["admin", "operator"])
def test_the_console_lists_are_read_in_order_from_their_indexes(
    app, make_account, make_request, session, role: str
) -> None:
    """A status's list and the overdue list, of every office (an admin's) or of one, are read
    in their order from an index, never sorted whole: PostgreSQL's plan of each has no Sort.
    (With sequential scans and sorts priced out: on a test's few rows either would be
    cheaper.) The control: without the indexes of 0016 the same plans still sort."""
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("the plans are PostgreSQL's")
    for status in (Status.SUBMITTED, Status.PROCESSING, Status.READY):
        make_request(status)
    scope = Scope(make_account(role))
    caught: list[tuple[str, Any]] = []

    def seen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if "FROM requests" in statement and "ORDER BY" in statement:
            caught.append((statement, parameters))

    engine = get_engine(app)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        queries.by_status(session, scope, Status.READY)
        queries.overdue(session, scope, utcnow() + dt.timedelta(days=400))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    session.rollback()
    assert len(caught) == 2

    def plans(dropped: bool) -> list[str]:
        """The two plans; with ``dropped``, without 0016's indexes (dropped in the same
        transaction, which is rolled back: PostgreSQL's DDL is transactional)."""
        with engine.connect() as connection:
            if dropped:
                for name in ("office_status_updated", "status_updated", "running_expected"):
                    connection.exec_driver_sql(f"DROP INDEX ix_requests_{name}")
            # On a test's few rows a scan and a sort is cheaper than reading an index in
            # order, and which one the planner takes varies; on a million it is not
            # (bench/console.py). With sorting priced out, a plan without a Sort is taken
            # wherever an index gives the order, and only there.
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            connection.exec_driver_sql("SET LOCAL enable_sort = off")
            found = []
            for statement, parameters in caught:
                rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
                found.append("\n".join(r[0] for r in rows))
            connection.rollback()
        return found

    listed, overdue = plans(dropped=False)
    assert "Sort" not in listed and "ix_requests_" in listed and "status_updated" in listed
    assert "Sort" not in overdue and "ix_requests_running_expected" in overdue
    assert all("Sort" in plan for plan in plans(dropped=True))  # the control


# --- migration 0015, online on PostgreSQL ----------------------------------------------------


def _when_changed(engine: Any) -> list[tuple]:
    with engine.connect() as connection:
        return connection.execute(
            select(Request.id, Request.updated_at, Request.changed_at).order_by(Request.id)
        ).all()


def _list_indexes(engine: Any) -> set[str]:
    names = {index["name"] for index in inspect(engine).get_indexes("requests")}
    return names & {"ix_requests_office_changed", "ix_requests_office_updated"}


def test_migration_0015_marks_each_request_changed_when_it_last_moved(
    app, make_request, session
) -> None:
    """Upgraded from 0014, every request's ``changed_at`` is its ``updated_at``, as the release
    before left it (control: a request that release moved after the others), and the list's
    index is on ``changed_at`` in place of ``updated_at``."""
    made = [make_request(status) for status in (Status.SUBMITTED, Status.PROCESSING) * 3]
    session.commit()
    engine = get_engine(app)
    schema.downgrade(engine, "0014")
    try:
        assert _list_indexes(engine) == {"ix_requests_office_updated"}
        moved = dt.datetime(2027, 3, 1, 2, 0, tzinfo=dt.UTC)
        with engine.begin() as connection:  # the release before moves one
            connection.execute(
                text("UPDATE requests SET updated_at = :at WHERE id = :id"),
                {"at": moved, "id": made[2].id},
            )
        schema.upgrade(engine, batch_rows=2)
    finally:
        schema.upgrade(engine)
    rows = _when_changed(engine)
    assert len(rows) == len(made) and all(changed == updated for _, updated, changed in rows)
    assert [changed for id_, _, changed in rows if id_ == made[2].id] == [moved]
    assert _list_indexes(engine) == {"ix_requests_office_changed"}


class Stopped(Exception):
    """The upgrade stopped half-way (the operator's ^C, a lost connection)."""


def _release_before(engine: Any, read: int, write: int) -> None:
    """What the web of the release before does meanwhile: read one request and write another,
    waiting at most two seconds for a lock."""
    with engine.connect() as connection:
        connection.exec_driver_sql("SET lock_timeout = '2s'")
        connection.execute(
            text("SELECT receipt, status FROM requests WHERE id = :id"), {"id": read}
        )
        connection.execute(
            text("UPDATE requests SET version = version + 1 WHERE id = :id"), {"id": write}
        )
        connection.commit()


def test_on_postgresql_0015_lets_the_release_before_read_and_write_while_it_runs(
    app, make_request, session
) -> None:
    """On PostgreSQL the backfill commits batch by batch, so the release before reads and
    writes requests while it runs (at each progress line), and an upgrade stopped half-way
    goes on from there when run again. Control: a migration holding the table in one
    transaction, as 0015 did at first (``ALTER TABLE`` locks it against reads too), makes the
    same read wait past its lock timeout."""
    engine = get_engine(app)
    if engine.dialect.name == "sqlite":
        pytest.skip("an upgrade beside a running release: PostgreSQL only")
    ids = [make_request().id for _ in range(24)]
    session.commit()
    schema.downgrade(engine, "0014")
    try:
        with engine.connect() as holder:  # control
            holder.exec_driver_sql("ALTER TABLE requests ADD COLUMN held integer")
            with pytest.raises(OperationalError, match="lock timeout|LockNotAvailable"):
                _release_before(engine, ids[0], ids[-1])
            holder.rollback()

        def stop(line: str) -> None:
            if re.match(r"0015: \d+ of", line):
                raise Stopped(line)

        with pytest.raises(Stopped, match="20 of 24"):
            schema.upgrade(engine, progress=stop, batch_rows=2)
        assert not schema.is_current(engine)
        assert sum(changed is not None for *_, changed in _when_changed(engine)) == 20

        told: list[str] = []

        def meanwhile(line: str) -> None:
            told.append(line)
            _release_before(engine, ids[0], ids[-1])

        schema.upgrade(engine, progress=meanwhile, batch_rows=2)
    finally:
        schema.upgrade(engine)
    assert told[:2] == [
        "0015: marking when each of 4 requests last changed",
        "0015: 4 of 4 requests",
    ]
    assert schema.is_current(engine) and _list_indexes(engine) == {"ix_requests_office_changed"}
    assert all(changed == updated for _, updated, changed in _when_changed(engine))
    with engine.connect() as connection:
        valid = connection.execute(
            text(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE c.relname = 'ix_requests_office_changed'"
            )
        ).scalar()
    assert valid is True
