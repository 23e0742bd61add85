"""The collective leave days (cuti bersama): adding and removing one (audited), and how every
process comes to count with the days on file.

``tracker.places.workdays`` is pure and holds the days it is handed. Each app keeps a
``Calendar``: the days it last read, and when (a monotonic instant, not a date). As a unit
of work begins (``tracker.db``: a web request's first session, a command's or a job run's
unit) ``refresh`` reads ``leave_days`` again on a connection of its own: always for a unit
that writes, so that whatever it stores (an expected date, a pickup window) counts the days
on file; for a unit that only reads, once ``LEAVE_DAYS_CHECK_SECONDS`` have passed since the
last read. Then it hands the app's days to ``workdays``. The table is small (a few rows a
year), so the read is the stamp: there is no version column to keep in step. A change made
by one worker thus reaches every worker on every host: at once for what is stored, within
that many seconds for what pages show.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import LeaveDayError
from tracker.models import LeaveDay
from tracker.places import closures, workdays


@dataclass
class Calendar:
    """One app's leave days, and the monotonic instant it last read them (None: never)."""

    every: float
    days: frozenset[dt.date] = frozenset()
    read_at: float | None = None

    def due(self, at: float) -> bool:
        return self.read_at is None or at - self.read_at >= self.every


def read_days(engine: Engine) -> frozenset[dt.date]:
    """The leave days on file; none before ``init-db`` made the table."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("leave_days"):
            return frozenset()
        return frozenset(connection.scalars(select(LeaveDay.day)))


def years(session: Session) -> list[int]:
    """The years that have leave days on file."""
    return sorted({day.year for day in session.scalars(select(LeaveDay.day))})


def refresh(engine: Engine, calendar: Calendar, at: float, force: bool = False) -> bool:
    """Read the days again if ``force`` or if the calendar is due at ``at``, and hand the
    app's days to ``workdays`` either way (two apps may share a process: tests). False if
    the database could not be read: the days known stay, and a reading unit tries again an
    interval later, so a database that is down costs it nothing more."""
    read = True
    if force or calendar.due(at):
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
    """The hook ``tracker.db`` calls as a unit of work begins: a writing unit reads the days
    always, a reading one when they are due."""
    calendar: Calendar | None = app.extensions.get("siapambil.calendar")
    if calendar is not None and not refresh(engine, calendar, time.monotonic(), force=writes):
        app.logger.warning("leave days not read again: the database cannot be reached")


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
