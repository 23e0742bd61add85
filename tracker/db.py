"""The engine, the unit of work, and the SQLite settings that make it a safe default.

**The unit of work is the one commit point.** A web request is one unit: its session is made
on first use, and every view runs inside ``in_unit``, which commits when the view answered
with success (below 400), rolls back when it answered otherwise, and rolls back and raises
again on any exception (the error handlers then answer; a failed commit is a 500 page).
Commands, job runs, each message the dispatcher sends and the audit trail's refusals use
``unit_of_work()``: commit on leaving it, roll back on any exception. Operations only flush.

Each view chooses once whether it writes: a request whose method may change state writes,
and so does a GET view marked ``@writes`` (one that leaves an audit row, say). Asking a
reading unit for a writer (``get_session(write=True)``) is a mistake in the view and raises
``ReadOnlyUnit``; sessions are never swapped under the view's feet. Other modules hook in:
``on_unit`` as a unit begins, ``on_write_begin`` as each transaction of a writing unit
begins, on its connection (the leave days: ``tracker.places.leave``).

SQLite is set up so that concurrent writers wait rather than fail: WAL, a busy timeout,
foreign keys, and write transactions that start with ``BEGIN IMMEDIATE`` (a read
transaction that later writes fails at once with SQLITE_BUSY, ignoring the timeout).

**The public look-up reads outside any unit of work.** On PostgreSQL it has an engine of its
own (``get_read_engine``): autocommit, so each of its queries is one round trip (no
``BEGIN``, no ``ROLLBACK``), and no ping per checkout; instead ``PreparedQuery`` notices a
connection that a server restart broke, drops the pool and asks once more. On SQLite the
read engine is the app's engine.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import Engine, Select, Table, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SQLITE_BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_SECONDS = 5  # PostgreSQL: libpq's connect_timeout, unless the URL sets one
View = TypeVar("View", bound=Callable[..., Any])


class ReadOnlyUnit(RuntimeError):
    """A view that reads asked for a writing session: mark it ``@writes``."""


# Every engine this process made, for ``after_fork``.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def make_engine(url: str, statement_seconds: int = 0, **kwargs: Any) -> Engine:
    """An engine for the URL, with the SQLite pragmas and begin handling where it applies. On
    a server, ``statement_seconds`` (when not 0) is its sessions' ``statement_timeout``."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _setup_sqlite(engine)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **_server_connect(url, statement_seconds, kwargs))
    _ENGINES.add(engine)
    return engine


def after_fork() -> None:
    """In a process forked from one that had already connected (gunicorn's workers, forked from
    a master that loaded the app, which reads the leave days): the pools' connections are the
    parent's. Forget them without closing them, which would end the parent's sessions, so that
    the child opens its own (SQLAlchemy's advice for ``multiprocessing`` and ``os.fork``)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


def _server_connect(url: str, statement_seconds: int, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A server that takes a connection but never answers (a hung host, a half-open route)
    is given up after ``CONNECT_TIMEOUT_SECONDS`` rather than the system's minutes, unless
    the URL sets its own ``connect_timeout``. With ``statement_seconds``, every session of
    the engine cancels a statement that runs longer (libpq's ``options``, after any the URL
    gives): no round trip per query."""
    query = make_url(url).query
    connect_args = dict(kwargs.get("connect_args", {}))
    if "connect_timeout" not in query:
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    if statement_seconds:
        given = query.get("options", connect_args.get("options", ""))
        given = " ".join(given) if isinstance(given, tuple) else given
        timeout = f"-c statement_timeout={int(statement_seconds) * 1000}"
        connect_args["options"] = f"{given} {timeout}".strip()
    return {**kwargs, "connect_args": connect_args}


def make_read_engine(url: str, statement_seconds: int = 0) -> Engine:
    """The look-up's engine: the app's own on SQLite; on a server, autocommit and no ping per
    checkout (``PreparedQuery.fetch`` recovers from a restart instead)."""
    if url.startswith("sqlite"):
        return make_engine(url)
    return make_engine(url, statement_seconds, isolation_level="AUTOCOMMIT", pool_pre_ping=False)


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
        # Straight to the driver: this runs for every transaction, readers included.
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if writer else "BEGIN")


def init_app(app: Flask) -> None:
    """Make the app's engine and session factories; finish the unit of work of every request
    and close its session after every context."""
    url = app.config["DATABASE_URL"]
    seconds = app.config["DB_STATEMENT_TIMEOUT_SECONDS"]
    engine = make_engine(url, seconds)
    writer = sessionmaker(bind=engine.execution_options(sqlite_writer=True), expire_on_commit=False)
    factories: dict[str, Any] = {
        "engine": engine,
        "reads": engine if engine.dialect.name == "sqlite" else make_read_engine(url, seconds),
        "reader": sessionmaker(bind=engine, expire_on_commit=False),
        "writer": writer,
        "on_unit": [],
        "on_write_begin": [],
    }
    app.extensions["siapambil.db"] = factories
    # The listener lives as long as the sessionmaker, which the app holds: a weak reference
    # back, so that an app let go of (tests make hundreds) closes its pools when freed.
    app_ref = weakref.ref(app)

    @event.listens_for(writer, "after_begin")
    def _write_begins(_session: Session, transaction: Any, connection: Any) -> None:
        held = app_ref()
        if held is not None and transaction.parent is None:  # not a savepoint in the unit
            for hook in held.extensions["siapambil.db"]["on_write_begin"]:
                hook(held, connection)

    app.teardown_appcontext(close_session)


def on_unit(app: Flask, hook: Callable[[Flask, Engine, bool], None]) -> None:
    """Call ``hook(app, engine, writes)`` as each unit of work begins, before its session is
    made (the leave days a worker counts with: ``tracker.places.leave``)."""
    app.extensions["siapambil.db"]["on_unit"].append(hook)


def on_write_begin(app: Flask, hook: Callable[[Flask, Any], None]) -> None:
    """Call ``hook(app, connection)`` as each transaction of a writing unit begins, on its own
    connection, after its ``BEGIN`` (SQLite's ``BEGIN IMMEDIATE``: the one writer): what it
    reads there is what the transaction's writes are made from (``tracker.places.leave``)."""
    app.extensions["siapambil.db"]["on_write_begin"].append(hook)


def _begin_unit(app: Flask, writes: bool) -> dict[str, Any]:
    factories = app.extensions["siapambil.db"]
    for hook in factories["on_unit"]:
        hook(app, factories["engine"], writes)
    return factories


def wrap_views(app: Flask) -> None:
    """Run every view of ``app`` in its unit of work (call it once the blueprints are in)."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not getattr(view, "in_unit", False):
            app.view_functions[endpoint] = in_unit(view)


def in_unit(view: View) -> View:
    """The view, committing its unit on success and rolling it back otherwise."""

    @wraps(view)
    def unit(*args: Any, **kwargs: Any) -> Response:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            discard()
            raise
        finish_unit(response)
        return response

    unit.in_unit = True  # type: ignore[attr-defined]
    return unit  # type: ignore[return-value]


def get_engine(app: Flask | None = None) -> Engine:
    return (app or current_app).extensions["siapambil.db"]["engine"]


def get_read_engine(app: Flask | None = None) -> Engine:
    """The engine of reads that need no transaction (the public look-up)."""
    return (app or current_app).extensions["siapambil.db"]["reads"]


def writes(view: View) -> View:
    """Mark a GET view whose unit of work writes (an audit row of what staff looked at)."""
    view.writes = True  # type: ignore[attr-defined]
    return view


def _unit_writes() -> bool:
    if not has_request_context():
        return True  # commands and jobs
    if request.method not in SAFE_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes", False))


def get_session(write: bool = False) -> Session:
    """The session of this unit of work, made on first use as the view declared (a writer
    for commands and jobs); ``write=True`` only checks that it is a writer."""
    session: Session | None = g.get("db_session")
    if session is None:
        writer = _unit_writes()
        factories = _begin_unit(current_app._get_current_object(), writer)  # type: ignore[attr-defined]
        session = g.db_session = factories["writer" if writer else "reader"]()
        g.db_session_writer = writer
    if write and not g.db_session_writer:
        raise ReadOnlyUnit(f"{request.endpoint} reads only; mark it @writes to write")
    return session


def finish_unit(response: Response) -> Response:
    """Commit the request's unit of work when it answered with success, else roll it back."""
    session: Session | None = g.get("db_session")
    if session is not None and g.db_session_writer:
        if response.status_code < 400:
            session.commit()
        else:
            session.rollback()
    return response


def insert_new(session: Session, row: Any) -> bool:
    """Insert ``row`` in a savepoint: False, and the caller's unit still usable, when a unique
    index refuses it (another writer committed the same key after the caller's own check)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def discard() -> None:
    """Roll back what this request's unit has done so far (a refusal changes nothing); the
    unit goes on, empty."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()


def close_session(_exc: BaseException | None = None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.close()  # rolls back whatever was not committed


@contextmanager
def unit_of_work(app: Flask | None = None) -> Iterator[Session]:
    """A unit of work of its own, outside the request's: a writing session that commits
    when the block ends and rolls back when it raises."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    session: Session = _begin_unit(app, True)["writer"]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class PreparedQuery:
    """A SELECT compiled once per dialect and run on the driver's own cursor, with
    SQLAlchemy's type processors applied to the columns the caller reads.

    For the hottest read of the product (the public look-up: thousands a minute, one indexed
    query) SQLAlchemy's per-execution work — cache keys, events, result objects — costs
    several times the query itself. This keeps the statement written in SQLAlchemy and its
    types honoured, and drops only that bookkeeping.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self.keys = [c.key for c in statement.selected_columns]
        self.Row = namedtuple("Row", self.keys)  # type: ignore[misc]
        self._prepared: dict[str, tuple[str, tuple[str, ...] | None, list[Any]]] = {}

    def _prepare(self, dialect: Any) -> tuple[str, tuple[str, ...] | None, list[Any]]:
        if dialect.name not in self._prepared:
            compiled = self.statement.compile(dialect=dialect)
            processors = [
                c.type.dialect_impl(dialect).result_processor(dialect, None)
                for c in self.statement.selected_columns
            ]
            order = tuple(compiled.positiontup or ()) if dialect.positional else None
            self._prepared[dialect.name] = (compiled.string, order, processors)
        return self._prepared[dialect.name]

    def fetch(self, engine: Engine, **params: Any) -> list[Any]:
        """The rows as the driver gives them (``convert`` reads them). A connection that the
        server dropped (a restart) empties the pool, and the query is asked once more on a
        new connection: it only reads, so asking twice is safe."""
        sql, order, _processors = self._prepare(engine.dialect)
        arguments = tuple(params[name] for name in order) if order is not None else params
        try:
            return _fetch_all(engine, sql, arguments)
        except _Dropped:
            engine.dispose()  # every pooled connection predates the restart
        try:
            return _fetch_all(engine, sql, arguments)
        except _Dropped as dropped:
            raise dropped.__cause__ from None  # type: ignore[misc]

    def convert(self, engine: Engine, raw: Any, only: frozenset[str] | None = None) -> Any:
        """One row as a named tuple; with ``only``, the other columns are left as they came."""
        processors = self._prepare(engine.dialect)[2]
        return self.Row(
            *[
                value if p is None or value is None or (only and key not in only) else p(value)
                for key, p, value in zip(self.keys, processors, raw, strict=True)
            ]
        )


class _Dropped(Exception):
    """The server dropped the connection under a query (its cause is the driver's error)."""


def _fetch_all(engine: Engine, sql: str, arguments: Any) -> list[Any]:
    """Run one statement on a pooled connection; a dropped connection is invalidated and
    raised as ``_Dropped``."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, arguments)
            return cursor.fetchall()
        except engine.dialect.loaded_dbapi.Error as error:
            if not engine.dialect.is_disconnect(error, connection.dbapi_connection, cursor):
                raise
            connection.invalidate(error)
            raise _Dropped() from error
        finally:
            cursor.close()
    finally:
        connection.close()  # back to the pool (rolled back, where a transaction was begun)


def analyze(engine: Engine) -> None:
    """Have PostgreSQL count what a bulk load brought (``ANALYZE`` of the app's tables), for
    its planner: neither ``pg_restore`` (before PostgreSQL 18) nor a fill by ``COPY`` leaves
    statistics, and until autovacuum comes round (never, where it is switched off) the planner
    guesses. With its guesses the look-up's query took a bitmap scan and two sorts over
    status events it believed to number thousands a request. SQLite: nothing; its planner
    reads a unique index first without statistics, and ``ANALYZE`` of a large file costs
    seconds that a fill's time goal does not have."""
    if engine.dialect.name != "postgresql":
        return
    names = inspect(engine).get_table_names()
    if not names:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        preparer = engine.dialect.identifier_preparer
        connection.execute(text("ANALYZE " + ", ".join(map(preparer.quote, names))))


def bulk_insert(session: Session, table: Table, columns: list[str], rows: list[tuple]) -> None:
    """Insert many rows (tuples in the order of ``columns``) in the session's transaction,
    with SQLAlchemy's bind processors applied to the columns that have one: by PostgreSQL's
    ``COPY`` (streamed, one round trip), elsewhere by the driver's ``executemany``.
    SQLAlchemy's own ``executemany`` builds each row's parameters through its compiler,
    which costs more than the insert itself when a command adds millions of rows
    (``demo --requests``)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    processors = [
        (index, process)
        for index, name in enumerate(columns)
        if (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]

    def bound(row: tuple) -> tuple:
        values = list(row)
        for index, process in processors:
            values[index] = process(values[index])
        return tuple(values)

    if dialect.name == "postgresql":
        _copy(connection.connection.dbapi_connection, table, columns, map(bound, rows))
        return
    compiled = table.insert().compile(dialect=dialect, column_keys=columns)
    params: list[Any] = list(map(bound, rows))
    if dialect.positional:
        position = {name: index for index, name in enumerate(columns)}
        order = [position[name] for name in compiled.positiontup or ()]
        if order != list(range(len(columns))):
            params = [tuple(values[i] for i in order) for values in params]
    else:
        params = [dict(zip(columns, values, strict=True)) for values in params]
    connection.exec_driver_sql(compiled.string, params)


def _copy(dbapi_connection: Any, table: Table, columns: list[str], rows: Iterable[tuple]) -> None:
    """``COPY table (columns) FROM STDIN`` with psycopg, row by row."""
    from psycopg import sql  # only on PostgreSQL

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    with dbapi_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
