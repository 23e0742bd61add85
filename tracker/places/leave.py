"""The collective leave days (cuti bersama): adding and removing one (audited), and how every
process comes to count with the days on file.

``tracker.places.workdays`` is pure and holds the days it is handed. Each app keeps a
``Calendar``: the days it last read, and when (a monotonic instant, not a date). A unit of
work that only reads (``tracker.db``: a web request's first session) reads ``leave_days``
again, on a connection of its own, once ``LEAVE_DAYS_CHECK_SECONDS`` have passed since the
last read. A unit that writes reads them as each of its transactions begins, inside it
(``on_write_begin``), so that whatever it stores (an expected date, a pickup window) counts
the days on file. The table is small (a few rows a year), so the read is the stamp: there is
no version column to keep in step. A change made by one worker thus reaches every worker on
every host: at once for what is stored, within that many seconds for what pages show.

**A day added while others write.** Adding a leave day moves the expected dates and windows
of the requests on file that it falls in. A request being registered at that moment is not
on file yet, and its own date may be counted from the days as they were: it would keep a
date that does not count the new day. So the two exclude each other. On SQLite they do
already: a writing transaction starts with ``BEGIN IMMEDIATE``, the only writer until it
ends, and reads the days after it. On PostgreSQL every writing transaction takes the
calendar's advisory lock shared as it begins, before it reads the days, and adding leave
days takes it alone (``take_calendar``): the adding waits for the writers in flight, which
the moves then find on file, and writers that begin meanwhile wait for it and read the new
day. Removing a day moves nothing back, so it needs no lock.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import LeaveDayError
from tracker.models import LeaveDay
from tracker.places import closures, workdays

# The calendar's advisory lock on PostgreSQL (its key; any number no other lock here uses).
CALENDAR_LOCK = 0x5341_4C44
# How long adding leave days waits for the writers in flight (a scheduled job's long run,
# say) before it says the calendar is busy: the console within a page's time, ``setup load``
# longer. Bounded either way: a unit that opens a second one while its own transaction holds
# the lock shared would otherwise wait behind the adding for good.
CONSOLE_WAIT_MS = 10_000
LOAD_WAIT_MS = 60_000


@dataclass
class Calendar:
    """One app's leave days, and the monotonic instant it last read them (None: never);
    ``table_seen`` once the table is known to exist (before ``init-db`` it does not)."""

    every: float
    days: frozenset[dt.date] = frozenset()
    read_at: float | None = None
    table_seen: bool = False

    def due(self, at: float) -> bool:
        return self.read_at is None or at - self.read_at >= self.every


def read_days(engine: Engine) -> frozenset[dt.date]:
    """The leave days on file; none before ``init-db`` made the table."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("leave_days"):
            return frozenset()
        return _days_on(connection)


def _days_on(connection: Connection) -> frozenset[dt.date]:
    return frozenset(connection.scalars(select(LeaveDay.day)))


def years(session: Session) -> list[int]:
    """The years that have leave days on file."""
    return sorted({day.year for day in session.scalars(select(LeaveDay.day))})


def refresh(engine: Engine, calendar: Calendar, at: float) -> bool:
    """Read the days again if the calendar is due at ``at``, and hand the
    app's days to ``workdays`` either way (two apps may share a process: tests). False if
    the database could not be read: the days known stay, and a reading unit tries again an
    interval later, so a database that is down costs it nothing more."""
    read = True
    if calendar.due(at):
        calendar.read_at = at
        try:
            calendar.days = read_days(engine)
        except SQLAlchemyError:
            read = False
    workdays.set_leave_days(calendar.days)
    return read


def install(app: Flask, engine: Engine) -> Calendar:
    """Give ``app`` its calendar, read the days once now, and refresh at every unit."""
    calendar = Calendar(every=float(app.config["LEAVE_DAYS_CHECK_SECONDS"]))
    app.extensions["siapambil.calendar"] = calendar
    if not refresh(engine, calendar, time.monotonic()):
        app.logger.warning("leave days not read: the database cannot be reached yet")
    return calendar


def on_unit(app: Flask, engine: Engine, writes: bool) -> None:
    """The hook ``tracker.db`` calls as a unit of work begins: a reading unit reads the days
    when they are due; a writing one reads them as its transactions begin
    (``on_write_begin``)."""
    calendar: Calendar | None = app.extensions.get("siapambil.calendar")
    if calendar is None or writes:
        return
    if not refresh(engine, calendar, time.monotonic()):
        app.logger.warning("leave days not read again: the database cannot be reached")


def on_write_begin(app: Flask, connection: Connection) -> None:
    """The hook ``tracker.db`` calls as a writing transaction begins, on its connection: on
    PostgreSQL take the calendar's lock shared, then read the days inside the transaction."""
    calendar: Calendar | None = app.extensions.get("siapambil.calendar")
    if calendar is None:
        return
    if connection.dialect.name == "postgresql":
        shared = text("SELECT pg_advisory_xact_lock_shared(:key)")
        connection.execute(shared, {"key": CALENDAR_LOCK})
    if not calendar.table_seen and inspect(connection).has_table("leave_days"):
        calendar.table_seen = True
    if calendar.table_seen:
        calendar.days = _days_on(connection)
        calendar.read_at = time.monotonic()
    workdays.set_leave_days(calendar.days)


def take_calendar(session: Session, wait_ms: int) -> None:
    """Before adding leave days, on PostgreSQL: the calendar's lock alone, until the
    transaction ends (see the module's text). It waits for the writing transactions in
    flight, at most ``wait_ms``; ``LeaveDayError(reason="busy")`` when that passes, or when
    another adding holds the lock, and the unit goes on unharmed (the wait is in a
    savepoint). SQLite: nothing, the transaction is the only writer."""
    if session.get_bind().dialect.name != "postgresql":
        return
    try:
        with session.begin_nested():
            connection = session.connection()
            connection.execute(text(f"SET LOCAL lock_timeout = {int(wait_ms)}"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CALENDAR_LOCK})
            connection.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) not in {"55P03", "40P01"}:
            raise  # not lock_not_available nor deadlock_detected
        raise LeaveDayError(reason="busy") from None


def listed(session: Session, year: int | None = None) -> list[LeaveDay]:
    """The leave days on file, by date; of one year if given."""
    query = select(LeaveDay).order_by(LeaveDay.day)
    if year is not None:
        query = query.where(
            LeaveDay.day >= dt.date(year, 1, 1), LeaveDay.day <= dt.date(year, 12, 31)
        )
    return list(session.scalars(query))


@dataclass(frozen=True)
class Added:
    """What adding a leave day did: the day, the receipts whose windows it lengthened, and
    how many expected dates it moved a working day later."""

    leave: LeaveDay
    moved: list[str]
    deferred: int


def add(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    day: dt.date,
    name: str,
    *,
    most: int | None = None,
) -> Added:
    """A new leave day, which lengthens the windows of the documents waiting over it at every
    point (``closures.lengthen_for_leave_days``) and moves the expected dates of the requests
    whose working days took it in (``closures.defer_expected_dates``);
    ``LeaveDayError(reason="taken")`` if the date is one already, ``reason="too_many"``
    (nothing done) if ``most`` is given and the day would move more documents and requests
    than that (``closures.over_leave_day``): the console's bound, within a page's time."""
    take_calendar(session, CONSOLE_WAIT_MS)  # setup load takes it itself, longer
    if session.scalar(select(LeaveDay.id).where(LeaveDay.day == day)) is not None:
        raise LeaveDayError(reason="taken", day=day.isoformat())
    if most is not None and (count := closures.over_leave_day(session, day)) > most:
        raise LeaveDayError(reason="too_many", day=day.isoformat(), count=count, most=most)
    leave = LeaveDay(day=day, name=name.strip())
    session.add(leave)
    session.flush()
    moved = closures.lengthen_for_leave_days(session, [day], actor=actor, now=now)
    deferred = closures.defer_expected_dates(session, [day], actor=actor, now=now)
    audit.record(session, "leave_day_added", actor=actor, at=now, target=day.isoformat(),
                 name=leave.name, moved=len(moved), deferred=deferred)  # fmt: skip
    return Added(leave, moved, deferred)


def remove(session: Session, now: dt.datetime, actor: Actor, leave_id: int) -> LeaveDay:
    """Remove the leave day ``leave_id``; ``LeaveDayError(reason="missing")`` if there is none
    (removed already, say by a second click)."""
    leave = session.get(LeaveDay, leave_id)
    if leave is None:
        raise LeaveDayError(reason="missing", day=str(leave_id))
    session.delete(leave)
    session.flush()
    audit.record(session, "leave_day_removed", actor=actor, at=now, target=leave.day.isoformat(),
                 name=leave.name)  # fmt: skip
    return leave
