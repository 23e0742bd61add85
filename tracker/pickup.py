"""Pickup points: when they open, the window a ready document waits in, and pickup numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tracker.models import OpeningHours, PickupCounter, PickupPoint
from tracker.workdays import is_holiday

SEARCH_DAYS = 60


@dataclass(frozen=True)
class Window:
    """From when until when a document can be collected at a point (aware UTC datetimes)."""

    point: PickupPoint
    starts: dt.datetime
    ends: dt.datetime

    @property
    def first_day(self) -> dt.date:
        """The window's first day in the point's own time zone (pickup numbers count per day)."""
        return self.starts.astimezone(ZoneInfo(self.point.office.timezone)).date()


def _by_weekday(point: PickupPoint) -> dict[int, list[OpeningHours]]:
    by_weekday: dict[int, list[OpeningHours]] = {}
    for period in point.hours:
        by_weekday.setdefault(period.weekday, []).append(period)
    return by_weekday


def _hours_on(by_weekday: dict[int, list[OpeningHours]], day: dt.date) -> list[OpeningHours]:
    """The opening periods on a day; none on public holidays."""
    return [] if is_holiday(day) else by_weekday.get(day.weekday(), [])


def next_window(point: PickupPoint, after: dt.datetime, open_days: int) -> Window:
    """The window that starts at the point's next opening after ``after`` and lasts ``open_days``
    days on which the point is open; closed days and public holidays are skipped."""
    zone = ZoneInfo(point.office.timezone)
    local = after.astimezone(zone)
    starts: dt.datetime | None = None
    ends: dt.datetime | None = None
    counted = 0
    by_weekday = _by_weekday(point)
    for offset in range(SEARCH_DAYS):
        day = local.date() + dt.timedelta(days=offset)
        periods = _hours_on(by_weekday, day)
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
        raise ValueError(f"pickup point {point.code} has no opening hours in the next weeks")
    return Window(point, starts.astimezone(dt.UTC), ends.astimezone(dt.UTC))


def assign_number(session: Session, point: PickupPoint, day: dt.date) -> str:
    """The next pickup number of a point for a day (``B-017``), taken atomically."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(PickupCounter)
        .values(point_id=point.id, day=day, last=1)
        .on_conflict_do_update(
            index_elements=["point_id", "day"], set_={"last": PickupCounter.last + 1}
        )
        .returning(PickupCounter.last)
    )
    number = session.execute(statement).scalar_one()
    return f"{point.number_prefix}-{number:03d}"


def main_point(session: Session, office_id: int) -> PickupPoint | None:
    """The office's main pickup point, where returned documents wait."""
    return session.scalars(
        select(PickupPoint).where(PickupPoint.office_id == office_id, PickupPoint.is_main)
    ).first()
