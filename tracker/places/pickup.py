"""Pickup points: when they open, the window a ready document waits in, and pickup numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.db import insert_new
from tracker.errors import CodeTaken, NoOpeningHours
from tracker.models import Office, OpeningHours, PickupPoint, PickupSeries, PointKind, Request
from tracker.places.workdays import is_holiday
from tracker.status import Status

SEARCH_DAYS = 60


@dataclass(frozen=True)
class Window:
    """From when until when a document can be collected at a point (aware UTC datetimes)."""

    point: PickupPoint
    starts: dt.datetime
    ends: dt.datetime

    @property
    def first_day(self) -> dt.date:
        """The window's first day in the point's own time zone (the board shows it)."""
        return self.starts.astimezone(ZoneInfo(self.point.office.timezone)).date()


def _by_weekday(point: PickupPoint) -> dict[int, list[OpeningHours]]:
    by_weekday: dict[int, list[OpeningHours]] = {}
    for period in point.hours:
        by_weekday.setdefault(period.weekday, []).append(period)
    return by_weekday


def _hours_on(
    by_weekday: dict[int, list[OpeningHours]], closed: set[dt.date], day: dt.date
) -> list[OpeningHours]:
    """The opening periods on a day; none on public holidays and the point's closures."""
    if day in closed or is_holiday(day):
        return []
    return by_weekday.get(day.weekday(), [])


def hours_on(point: PickupPoint, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    """When ``point`` is open on ``day`` (its local date): ``[(opens, closes), ...]``, none on
    a closure or public holiday; a visit is open from its start to its end on its own days."""
    if point.visit_starts is not None and point.visit_ends is not None:
        zone = ZoneInfo(point.office.timezone)
        starts, ends = point.visit_starts.astimezone(zone), point.visit_ends.astimezone(zone)
        if not starts.date() <= day <= ends.date():
            return []
        opens = starts.time() if day == starts.date() else dt.time(0, 0)
        closes = ends.time() if day == ends.date() else dt.time(23, 59)
        return [(opens, closes)]
    periods = _hours_on(_by_weekday(point), {closure.day for closure in point.closures}, day)
    return [(period.opens, period.closes) for period in periods]


def next_opening(point: PickupPoint, after: dt.datetime) -> dt.datetime | None:
    """The first moment at or after ``after`` that ``point`` opens (aware, UTC), closures and
    public holidays skipped; None when it opens on no day in the weeks ahead."""
    zone = ZoneInfo(point.office.timezone)
    local = after.astimezone(zone)
    for offset in range(SEARCH_DAYS):
        day = local.date() + dt.timedelta(days=offset)
        for opens, _closes in hours_on(point, day):
            moment = dt.datetime.combine(day, opens, zone)
            if moment >= local:
                return moment.astimezone(dt.UTC)
    return None


def is_open(point: PickupPoint, at: dt.datetime) -> bool:
    """Whether ``point`` is open at the instant ``at``."""
    local = at.astimezone(ZoneInfo(point.office.timezone))
    return any(opens <= local.time() < closes for opens, closes in hours_on(point, local.date()))


def next_window(point: PickupPoint, after: dt.datetime, open_days: int) -> Window:
    """The window that starts at the point's next opening after ``after`` and lasts ``open_days``
    days on which the point is open; closed days, closures and public holidays are skipped.
    A mobile-service visit's window is the visit itself."""
    if point.visit_starts is not None and point.visit_ends is not None:
        if point.visit_ends <= after:
            raise NoOpeningHours(point=point.code)
        return Window(point, max(point.visit_starts, after), point.visit_ends)
    zone = ZoneInfo(point.office.timezone)
    local = after.astimezone(zone)
    starts: dt.datetime | None = None
    ends: dt.datetime | None = None
    counted = 0
    by_weekday = _by_weekday(point)
    closed = {closure.day for closure in point.closures}
    for offset in range(SEARCH_DAYS):
        day = local.date() + dt.timedelta(days=offset)
        periods = _hours_on(by_weekday, closed, day)
        if starts is None:
            periods = [p for p in periods if dt.datetime.combine(day, p.closes, zone) > local]
        if not periods:
            continue
        if starts is None:
            first = dt.datetime.combine(day, periods[0].opens, zone)
            starts = max(first, local)
        ends = dt.datetime.combine(day, periods[-1].closes, zone)
        counted += 1
        if counted == open_days:
            break
    if starts is None or ends is None:
        raise NoOpeningHours(point=point.code)
    return Window(point, starts.astimezone(dt.UTC), ends.astimezone(dt.UTC))


NUMBERS = 999  # a series turns through the numbers of three digits, then starts again at 1
RETURNS_PREFIX = "R"  # the series of documents kept at a point after their window
WAITING = (Status.READY, Status.RETURNED)  # the statuses that hold a pickup number


@dataclass(frozen=True)
class Series:
    """Where pickup numbers are drawn from: the counter's key, the numbers' prefix, and which
    points' waiting documents hold numbers of it (those are skipped)."""

    key: str
    prefix: str
    points: ColumnElement[bool]


def series_of(point: PickupPoint, *, returns: bool = False) -> Series:
    """A fixed point's own series (``A-017``); the series that every visit of an office shares
    (``K-017``: two visits never hand out one number); with ``returns``, the series of the
    documents kept at ``point`` after their window (``R-017``)."""
    at_point = Request.pickup_point_id == point.id
    if returns and point.number_prefix != RETURNS_PREFIX:
        return Series(f"returns:{point.id}", RETURNS_PREFIX, at_point)
    if point.visit_starts is not None:
        visits = select(PickupPoint.id).where(
            PickupPoint.office_id == point.office_id, PickupPoint.visit_starts.is_not(None)
        )
        return Series(
            f"visits:{point.office_id}", point.number_prefix, Request.pickup_point_id.in_(visits)
        )
    return Series(f"point:{point.id}", point.number_prefix, at_point)


def following(last: int, held: set[int], count: int) -> tuple[list[int], int]:
    """The ``count`` numbers after ``last`` that no waiting document holds, and the new last:
    1 follows 999; when fewer than ``count`` numbers of three digits are free, the series goes
    on to four digits (and more) rather than give a held number again."""
    size = NUMBERS
    while size - sum(1 for n in held if n <= size) < count:
        size = size * 10 + 9
    numbers: list[int] = []
    number = last
    while len(numbers) < count:
        number = number + 1 if number < size else 1
        if number not in held:
            numbers.append(number)
    return numbers, number


def assign_number(session: Session, point: PickupPoint, *, returns: bool = False) -> str:
    """The next pickup number at ``point`` (``B-017``), taken atomically; see ``assign_numbers``."""
    return assign_numbers(session, point, 1, returns=returns)[0]


def assign_numbers(
    session: Session, point: PickupPoint, count: int, *, returns: bool = False
) -> list[str]:
    """The next ``count`` pickup numbers of ``point``'s series (``series_of``), none held by a
    document that still waits there. The series' row is taken first (an upsert that locks it
    until the unit ends, so that two writers draw one after the other), then the numbers held
    are read, then the row moves on: no two waiting documents share a number."""
    series = series_of(point, returns=returns)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    take = (
        insert(PickupSeries)
        .values(key=series.key, last=0)
        .on_conflict_do_update(index_elements=["key"], set_={"last": PickupSeries.last})
        .returning(PickupSeries.last)
    )
    last = session.execute(take).scalar_one()
    start = len(series.prefix) + 1
    held = {
        int(number[start:])
        for number in session.scalars(
            select(Request.pickup_number).where(series.points, Request.status.in_(WAITING))
        )
        if number and number.startswith(f"{series.prefix}-") and number[start:].isdigit()
    }
    numbers, last = following(last, held, count)
    session.execute(update(PickupSeries).where(PickupSeries.key == series.key).values(last=last))
    return [f"{series.prefix}-{n:03d}" for n in numbers]


def choices(session: Session, office_id: int, now: dt.datetime) -> list[PickupPoint]:
    """Where an office's ready documents can wait: its points, then the mobile-service
    visits that are not over yet, soonest first."""
    points = session.scalars(
        select(PickupPoint)
        .where(PickupPoint.office_id == office_id, PickupPoint.visit_starts.is_(None))
        .order_by(PickupPoint.is_main.desc(), PickupPoint.id)
    ).all()
    visits = session.scalars(
        select(PickupPoint)
        .where(PickupPoint.office_id == office_id, PickupPoint.visit_ends > now)
        .order_by(PickupPoint.visit_starts)
    ).all()
    return [*points, *visits]


def main_point(session: Session, office_id: int) -> PickupPoint | None:
    """The office's main pickup point, where returned documents wait."""
    return session.scalars(
        select(PickupPoint).where(PickupPoint.office_id == office_id, PickupPoint.is_main)
    ).first()


def add_point(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    office: Office,
    *,
    code: str,
    name: str,
    kind: PointKind,
    address: str,
    counters: list[str],
    number_prefix: str,
) -> PickupPoint:
    """A new pickup point of ``office`` (not its main one), without opening hours yet: no
    document is placed there until it has some. One audit row names it. ``CodeTaken`` if
    another point has ``code``, also one added by another admin at the same moment (the
    insert runs in a savepoint, so the caller's unit stays usable)."""
    if session.scalar(select(PickupPoint.id).where(PickupPoint.code == code)) is not None:
        raise CodeTaken(kind="point", taken=code)
    point = PickupPoint(  # by the office's id: a relationship would add it outside the savepoint
        code=code, office_id=office.id, name=name, kind=kind, address=address, counters=counters,
        number_prefix=number_prefix, is_main=False,
    )  # fmt: skip
    if not insert_new(session, point):
        raise CodeTaken(kind="point", taken=code)
    audit.record(
        session, "point_added", actor=actor, at=now, target=code, office=office.code, name=name,
        kind=kind.value, address=address, counters=counters, number_prefix=number_prefix,
    )  # fmt: skip
    return point


def set_hours(point: PickupPoint, periods: list[tuple[int, dt.time, dt.time]]) -> None:
    """Replace a point's opening hours with ``(weekday, opens, closes)`` periods."""
    for weekday, opens, closes in periods:
        if not 0 <= weekday <= 6 or opens >= closes:
            raise ValueError(f"a period must open before it closes ({weekday} {opens}-{closes})")
    if clashing := overlapping(periods):
        raise ValueError(f"the periods of weekday {clashing[0]} overlap")
    point.hours = [OpeningHours(weekday=w, opens=o, closes=c) for w, o, c in sorted(periods)]


def overlapping(periods: list[tuple[int, dt.time, dt.time]]) -> list[int]:
    """The weekdays whose ``(weekday, opens, closes)`` periods overlap (or repeat): a point
    has one opening a day at a time."""
    day = sorted(periods)
    return sorted(
        {a[0] for a, b in zip(day, day[1:], strict=False) if a[0] == b[0] and a[2] > b[1]}
    )


def schedule_visit(
    session: Session,
    office: Office,
    *,
    name: str,
    address: str,
    starts: dt.datetime,
    ends: dt.datetime,
) -> PickupPoint:
    """A mobile-service visit: a pickup point of the office for one window."""
    if ends <= starts:
        raise ValueError("a visit must end after it starts")
    day = starts.astimezone(ZoneInfo(office.timezone)).date()
    taken = session.scalar(
        select(func.count()).where(
            PickupPoint.office_id == office.id, PickupPoint.visit_starts.is_not(None)
        )
    )
    visit = PickupPoint(
        code=f"{office.code}-keliling-{day:%Y%m%d}-{(taken or 0) + 1}",
        office=office,
        name=name.strip(),
        kind=PointKind.MOBILE,
        address=address.strip(),
        counters=[],
        number_prefix="K",
        visit_starts=starts,
        visit_ends=ends,
    )
    session.add(visit)
    session.flush()
    return visit
