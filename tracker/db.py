"""The engine, one session per app context, and the SQLite settings that make it a safe default.

SQLite is set up so that concurrent writers wait rather than fail: WAL, a busy timeout,
foreign keys, and write transactions that start with ``BEGIN IMMEDIATE`` (a read
transaction that later writes fails at once with SQLITE_BUSY, ignoring the timeout).
A session is a writer when it is made outside a request (commands, jobs), for a request
whose method may change state, or when asked for with ``write=True``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the URL, with the SQLite pragmas and begin handling where it applies."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _setup_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is switched off; the begin event emits ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        writer = connection.get_execution_options().get("sqlite_writer", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def init_app(app: Flask) -> None:
    """Make the app's engine and session factories; close the session after every context."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["siapambil.db"] = {
        "engine": engine,
        "reader": sessionmaker(bind=engine, expire_on_commit=False),
        "writer": sessionmaker(
            bind=engine.execution_options(sqlite_writer=True), expire_on_commit=False
        ),
    }
    app.teardown_appcontext(close_session)


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["siapambil.db"]["engine"]


def _wants_writer() -> bool:
    return not has_request_context() or request.method not in SAFE_METHODS


def get_session(write: bool = False) -> Session:
    """The session of this app context, made on first use; ``write=True`` asks for a writer."""
    session: Session | None = g.get("db_session")
    writer = write or _wants_writer()
    if session is not None and (g.db_session_writer or not writer):
        return session
    if session is not None:
        session.close()
    factories = current_app.extensions["siapambil.db"]
    g.db_session = factories["writer" if writer else "reader"]()
    g.db_session_writer = writer
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back whatever was not committed
