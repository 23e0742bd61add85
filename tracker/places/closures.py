"""Closing a pickup point on a day, and what that does to the documents waiting there.

A window computed today skips the closures known today. A closure added later, on a day
inside the windows of documents already waiting (``ready`` or ``returned`` at the point),
would leave those windows counting a day the point is shut. ``close`` therefore works each
such window out again from its start with the closure skipped, so that it keeps its number
of open days and ends later; the request's version goes up with it, so its calendar entry
is replaced (a higher ``SEQUENCE``); and each citizen who agreed to messages is told
(``window_moved``, in their language). All of it in the caller's unit of work, audited.
Removing a closure leaves windows as they are: nobody is told to come back sooner.

A collective leave day (cuti bersama) added in the console or by ``setup load`` shuts every
point that day, so ``lengthen_for_leave_days`` does the same for the windows at every point;
removing one, like removing a closure, moves nothing.

A leave day also shuts the office's back room: it is not a working day of the legal target.
``defer_expected_dates`` therefore moves the expected date of each request still being worked
on (open: the clock runs, or waits on the citizen) whose count of working days took in that
day one working day later, as if the day had been known at intake; its version goes up. Its
citizen is not sent a message (the status page shows the new date), and one audit row per
day counts the requests. A closure of one point moves no expected date: the work goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import ConflictError
from tracker.models import Closure, Office, PickupPoint, Request
from tracker.outbox import operations as outbox
from tracker.places import pickup, workdays
from tracker.requests.operations import flush_moves
from tracker.status import OPEN, Status

WAITING = (Status.READY, Status.RETURNED)
UPCOMING_DAYS = 30  # how far ahead the public pages list a point's closures
DEFER_CHUNK = 1000  # requests per UPDATE when a leave day moves expected dates


@dataclass(frozen=True)
class Closed:
    """What closing a day did: the closure, and the receipts whose windows moved."""

    closure: Closure
    moved: list[str]


def close(
    session: Session,
    point: PickupPoint,
    day: dt.date,
    reason: str,
    *,
    actor: Actor,
    now: dt.datetime,
    config: Mapping[str, Any],
) -> Closed:
    """Close ``point`` on ``day`` (its local date) and lengthen the windows of the documents
    waiting there that counted that day. The caller has checked that the day is not closed
    already."""
    waiting = _waiting_over(session, point, day)
    counted = _open_days(point, waiting)
    was_open = bool(pickup.hours_on(point, day))
    closure = Closure(day=day, reason=reason.strip())
    point.closures.append(closure)
    moved = _lengthen(session, point, day, waiting if was_open else [], counted, actor, now)
    audit.record(
        session, "closure_added", actor=actor, at=now, target=point.code,
        day=day.isoformat(), moved=len(moved),
    )  # fmt: skip
    flush_moves(session)  # a document changed meanwhile is a ConflictError
    return Closed(closure, moved)


def lengthen_for_leave_days(
    session: Session, days: list[dt.date], *, actor: Actor, now: dt.datetime
) -> list[str]:
    """Collective leave days being added (in the caller's unit, not yet counted by
    ``workdays``) shut every point on them, as a closure shuts one: lengthen the windows of
    the documents waiting at a point open that day, as ``close`` does. Days in order, each
    counted with those before it; a mobile-service visit keeps its own hours. The receipts
    whose windows moved, once each."""
    moved: list[str] = []
    added: frozenset[dt.date] = frozenset()
    for day in sorted(days):
        with workdays.counting_also(added):
            plans = []
            for point in _points_waiting_near(session, day):
                waiting = _waiting_over(session, point, day)
                if waiting and pickup.hours_on(point, day):
                    plans.append((point, waiting, _open_days(point, waiting)))
        added |= {day}
        with workdays.counting_also(added):
            for point, waiting, counted in plans:
                moved += _lengthen(session, point, day, waiting, counted, actor, now)
    flush_moves(session)  # a document changed meanwhile is a ConflictError
    return list(dict.fromkeys(moved))


def over_leave_day(session: Session, day: dt.date) -> int:
    """About how many waiting documents and requests in progress a new leave day on ``day``
    would move (``lengthen_for_leave_days``, ``defer_expected_dates``): two counts, each a
    superset (windows within a day of ``day`` in UTC; applications before it in UTC), to
    judge the work before doing it (half a second to two on a million requests)."""
    windows = select(func.count()).where(*_waiting_near(day))
    dates = select(func.count()).where(*_in_progress_over(day))
    return (session.scalar(windows) or 0) + (session.scalar(dates) or 0)


def defer_expected_dates(
    session: Session, days: list[dt.date], *, actor: Actor, now: dt.datetime
) -> int:
    """Collective leave days being added (in the caller's unit, not yet counted by
    ``workdays``): move each open request's expected date a working day later for each day
    that falls after its day of application (in its office's zone) and on or before that
    date. Days in order, each counted with those before it. How many requests moved.

    A province holds tens of thousands of open requests, and an admin's form must answer
    within the web timeout: the rows are read as plain tuples and changed by one ``UPDATE``
    per expected date and thousand requests, each bumping the version (a writer holding the
    old one gets a conflict) and re-checking the status and date it was chosen by (a request
    moved on meanwhile is left as it is). ``updated_at``, the moment of the last move, stays;
    ``changed_at`` becomes ``now``, so that the office's bridge finds the new date in its list
    of changes."""
    added: frozenset[dt.date] = frozenset()
    deferred: set[int] = set()
    for day in sorted(days):
        added |= {day}
        rows = session.execute(
            select(Request.id, Request.expected_on, Request.created_at, Office.timezone)
            .join(Office, Office.id == Request.office_id)
            .where(*_in_progress_over(day))
        ).all()
        by_date: dict[dt.date, list[int]] = {}
        for request_id, expected_on, created_at, zone in rows:
            if created_at.astimezone(ZoneInfo(zone)).date() < day:
                by_date.setdefault(expected_on, []).append(request_id)
        moved: set[int] = set()
        with workdays.counting_also(added):
            for expected_on, ids in sorted(by_date.items()):
                later = workdays.add_working_days(expected_on, 1)
                for start in range(0, len(ids), DEFER_CHUNK):
                    moved.update(
                        session.scalars(
                            update(Request)
                            .where(
                                Request.id.in_(ids[start : start + DEFER_CHUNK]),
                                Request.status.in_(OPEN),
                                Request.expected_on == expected_on,
                            )
                            .values(expected_on=later, version=Request.version + 1, changed_at=now)
                            .returning(Request.id),
                            execution_options={"synchronize_session": False},
                        )
                    )
        if moved:
            audit.record(
                session, "expected_dates_deferred", actor=actor, at=now,
                target=day.isoformat(), requests=len(moved),
            )  # fmt: skip
        deferred |= moved
    for held in list(session.identity_map.values()):  # requests this unit holds: read again
        if isinstance(held, Request) and held.id in deferred:
            session.expire(held)
    return len(deferred)


def _lengthen(
    session: Session,
    point: PickupPoint,
    day: dt.date,
    waiting: list[Request],
    counted: dict[int, int],
    actor: Actor,
    now: dt.datetime,
) -> list[str]:
    """Work each waiting window out again from its start, now that ``day`` is shut, so that it
    keeps its ``counted`` open days; tell who was told of the old one. The receipts moved."""
    moved: list[str] = []
    changes: list[tuple[Request, pickup.Window]] = []
    for request in waiting:
        assert request.window_starts is not None
        window = pickup.next_window(point, request.window_starts, counted[request.id])
        if (window.starts, window.ends) == (request.window_starts, request.window_ends):
            continue
        # A document not yet announced is told by its ready message, written when sent.
        if request.status == Status.RETURNED or request.announced_id is not None:
            outbox.queue(session, request, "window_moved", now=now)
        audit.record(
            session, "window_moved", actor=actor, at=now, target=request.receipt,
            point=point.code, day=day.isoformat(), until=window.ends.isoformat(),
        )  # fmt: skip
        changes.append((request, window))
        moved.append(request.receipt)
    _store_windows(session, changes, now)
    return moved


def _store_windows(
    session: Session, changes: list[tuple[Request, pickup.Window]], now: dt.datetime
) -> None:
    """Store the new windows with one ``executemany`` UPDATE (a leave day can move tens of
    thousands in one form's unit of work, where the ORM would send one statement each), each
    row only while its version is the one read, and one higher after, changed (for a
    bridge's list) at ``now``; a row changed meanwhile is a ConflictError. The loaded
    requests are then given the stored values."""
    if not changes:
        return
    table = Request.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_read"))
        .values(
            window_starts=bindparam("b_starts"),
            window_ends=bindparam("b_ends"),
            version=bindparam("b_version"),
            changed_at=bindparam("b_changed"),
        )
    )
    rows = [
        {"b_id": r.id, "b_read": r.version, "b_starts": w.starts, "b_ends": w.ends,
         "b_version": r.version + 1, "b_changed": now}
        for r, w in changes
    ]  # fmt: skip
    if session.execute(statement, rows).rowcount != len(rows):
        raise ConflictError(changed_by=None, changed_at=None)
    for request, window in changes:
        set_committed_value(request, "window_starts", window.starts)
        set_committed_value(request, "window_ends", window.ends)
        set_committed_value(request, "version", request.version + 1)
        set_committed_value(request, "changed_at", now)


def _in_progress_over(day: dt.date) -> tuple[ColumnElement[bool], ...]:
    """Open requests expected on or after ``day`` and applied for before it in any zone of the
    country (UTC+7 to +9): a superset of those whose working days take ``day`` in, which each
    request's own zone then narrows."""
    return (
        Request.status.in_(OPEN),
        Request.expected_on >= day,
        Request.created_at < dt.datetime.combine(day, dt.time(0, 0), dt.UTC),
    )


def _waiting_near(day: dt.date) -> tuple[ColumnElement[bool], ...]:
    """Waiting documents whose windows come within a day of ``day`` in UTC: a superset of
    those whose windows take in ``day`` in their point's own zone."""
    begins = dt.datetime.combine(day, dt.time(0, 0), dt.UTC) - dt.timedelta(days=1)
    return (
        Request.status.in_(WAITING),
        Request.window_starts < begins + dt.timedelta(days=3),
        Request.window_ends > begins,
    )


def _points_waiting_near(session: Session, day: dt.date) -> list[PickupPoint]:
    """The points (not visits) holding waiting documents whose windows come within a day of
    ``day`` in UTC: a superset of those whose windows take in ``day`` in the point's own
    zone, which ``_waiting_over`` then finds."""
    near = select(Request.pickup_point_id).where(*_waiting_near(day)).distinct()
    query = select(PickupPoint).where(PickupPoint.id.in_(near), PickupPoint.visit_starts.is_(None))
    return list(session.scalars(query.order_by(PickupPoint.id)))


def _waiting_over(session: Session, point: PickupPoint, day: dt.date) -> list[Request]:
    """The documents waiting at ``point`` whose window takes in any part of ``day``."""
    zone = ZoneInfo(point.office.timezone)
    begins = dt.datetime.combine(day, dt.time(0, 0), zone).astimezone(dt.UTC)
    ends = begins + dt.timedelta(days=1)
    return list(
        session.scalars(
            select(Request)
            .where(
                Request.pickup_point_id == point.id,
                Request.status.in_(WAITING),
                Request.window_starts < ends,
                Request.window_ends > begins,
            )
            .order_by(Request.id)
        )
    )


def _open_days(point: PickupPoint, waiting: list[Request]) -> dict[int, int]:
    """On how many days the point is open within each request's window, as it stands, by
    request id (each day's hours looked up once: many windows share their days)."""
    zone = ZoneInfo(point.office.timezone)
    open_on: dict[dt.date, bool] = {}
    counted: dict[int, int] = {}
    for request in waiting:
        assert request.window_starts is not None and request.window_ends is not None
        first = request.window_starts.astimezone(zone).date()
        last = request.window_ends.astimezone(zone).date()
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        for d in days:
            if d not in open_on:
                open_on[d] = bool(pickup.hours_on(point, d))
        counted[request.id] = max(1, sum(1 for d in days if open_on[d]))
    return counted


def upcoming(point: PickupPoint, today: dt.date, days: int = UPCOMING_DAYS) -> list[Closure]:
    """The point's closures from ``today`` for ``days`` days, soonest first."""
    last = today + dt.timedelta(days=days)
    return [c for c in point.closures if today <= c.day <= last]
