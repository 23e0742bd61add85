"""A large ``demo --requests`` fill: every request written, and on SQLite a page cache large
enough for its random indexes while it writes, put back afterwards, and the secondary indexes
made again once at the end rather than kept up row by row; on PostgreSQL the fill leaves
the planner statistics of what it wrote."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from tracker import cli, demo, schema
from tracker.db import make_engine
from tracker.models import Request, StatusEvent
from tracker.models.base import utcnow


@pytest.fixture
def sqlite_session(tmp_path: Path) -> Iterator[Session]:
    """A session on a migrated SQLite file of its own (the cache is SQLite's)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'fill.sqlite'}")
    schema.upgrade(engine)
    with Session(engine.execution_options(sqlite_writer=True)) as session:
        demo.load_places(session)
        session.commit()
        yield session
    engine.dispose()


def _cache_sizes_while_writing(session: Any, count: int) -> tuple[list[int], int, int]:
    """The SQLite cache size seen by each insert of requests, and before and after the fill."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    seen: list[int] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO requests"):
            seen.append(driver.execute("PRAGMA cache_size").fetchone()[0])

    before_size = driver.execute("PRAGMA cache_size").fetchone()[0]
    event.listen(connection, "before_cursor_execute", before)
    try:
        demo.add_requests(session, count, seed=4, now=utcnow())
    finally:
        event.remove(connection, "before_cursor_execute", before)
    return seen, before_size, driver.execute("PRAGMA cache_size").fetchone()[0]


def test_a_large_fill_writes_every_request_and_its_events(session, monkeypatch) -> None:
    monkeypatch.setattr(demo, "BATCH", 40)
    before = session.scalar(select(func.count()).select_from(Request))
    samples = demo.add_requests(session, 200, seed=4, now=utcnow())
    session.flush()
    assert session.scalar(select(func.count()).select_from(Request)) == before + 200
    written = session.scalars(select(Request.receipt).where(Request.id > 0)).all()
    assert len(set(written)) == len(written)
    assert any(samples.values())
    without_events = session.scalar(
        select(func.count())
        .select_from(Request)
        .where(~select(StatusEvent.id).where(StatusEvent.request_id == Request.id).exists())
    )
    assert without_events == 0
    session.rollback()


def test_a_large_sqlite_fill_writes_with_a_large_cache_and_puts_it_back(
    sqlite_session, monkeypatch
) -> None:
    monkeypatch.setattr(demo, "BATCH", 40)
    seen, before, after = _cache_sizes_while_writing(sqlite_session, 200)
    assert len(seen) == 5
    assert set(seen) == {-demo.FILL_CACHE_KIB}
    assert after == before != -demo.FILL_CACHE_KIB


def test_a_small_sqlite_fill_keeps_the_cache_it_had(sqlite_session, monkeypatch) -> None:
    """The control: a fill of fewer than two batches leaves the cache alone."""
    monkeypatch.setattr(demo, "BATCH", 40)
    seen, before, after = _cache_sizes_while_writing(sqlite_session, 60)
    assert seen and set(seen) == {before} and after == before


def _indexes(session: Any) -> list[tuple[str, str]]:
    return list(
        session.connection().exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('requests', 'status_events') ORDER BY name"
        )
    )


def _indexes_while_writing(session: Any, count: int) -> set[int]:
    """How many secondary indexes the filled tables had at each insert of requests."""
    connection = session.connection()
    driver = connection.connection.driver_connection
    seen: set[int] = set()
    query = (
        "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('requests', 'status_events')"
    )

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO requests"):
            seen.add(driver.execute(query).fetchone()[0])

    event.listen(connection, "before_cursor_execute", before)
    try:
        demo.add_requests(session, count, seed=4, now=utcnow())
    finally:
        event.remove(connection, "before_cursor_execute", before)
    return seen


def test_a_large_sqlite_fill_writes_without_its_indexes_and_makes_them_again(
    sqlite_session, monkeypatch
) -> None:
    """A fill of two batches or more writes with no secondary index on the tables it fills
    and makes each again, exactly as it was, at the end, where a query uses it and the file
    checks whole. Control: a fill of fewer than two batches writes with every index in
    place."""
    monkeypatch.setattr(demo, "BATCH", 40)
    before = _indexes(sqlite_session)
    assert len(before) >= 8
    assert _indexes_while_writing(sqlite_session, 200) == {0}
    assert _indexes(sqlite_session) == before
    plan = (
        sqlite_session.connection()
        .exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM requests WHERE nik = '3673011203850001'"
        )
        .all()
    )
    assert "ix_requests_nik" in str(plan)
    assert sqlite_session.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert _indexes_while_writing(sqlite_session, 60) == {len(before)}  # control


def _analyzed(app: Any, name: str) -> int:
    """How many times ``ANALYZE`` (not autovacuum) has counted the table."""
    engine = app.extensions["siapambil.db"]["engine"]
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = :name"),
            {"name": name},
        ).scalar_one()


def test_a_fill_on_postgresql_leaves_the_planner_statistics_of_what_it_wrote(
    app, runner, monkeypatch
) -> None:
    if app.extensions["siapambil.db"]["engine"].dialect.name != "postgresql":
        pytest.skip("PostgreSQL's planner statistics")
    before = {name: _analyzed(app, name) for name in ("requests", "status_events")}
    # Control: a fill by COPY alone leaves them as they were.
    with monkeypatch.context() as patched:
        patched.setattr(cli, "analyze", lambda _engine: None)
        done = runner.invoke(args=["demo", "--requests", "30", "--seed", "3"])
        assert done.exit_code == 0, done.output
    assert {name: _analyzed(app, name) for name in before} == before
    done = runner.invoke(args=["demo", "--requests", "30", "--seed", "4"])
    assert done.exit_code == 0, done.output
    assert all(_analyzed(app, name) > count for name, count in before.items())
