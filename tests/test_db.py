from __future__ import annotations

import threading

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from tracker.audit.trail import Actor
from tracker.config import DEFAULTS
from tracker.db import make_engine
from tracker.models import Base, Request, utcnow
from tracker.requests import operations
from tracker.status import Status


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
