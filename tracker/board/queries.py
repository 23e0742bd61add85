"""What a lobby board shows: the points that have one, and for a point the documents ready
there, today's opening hours and its latest announcement.

What a board shows is DESIGN §5's public minimum: pickup number, masked name, service,
counter and window. Never a receipt number, a NIK, a phone number or a full name (the name
is read here and masked where it is serialised). Nothing here depends on the clock but the
point's local date, so every worker reads the same board from the same data: the TV tells
open from shut with today's periods and the next opening after today (``open_now`` says the
same for the page the TV first loads).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.errors import PointNotFound
from tracker.models import (
    Announcement,
    AnnouncementItem,
    Closure,
    PickupPoint,
    Request,
    Service,
)
from tracker.places.closures import upcoming
from tracker.places.pickup import hours_on, is_open, next_opening
from tracker.status import Status

TICKER_NUMBERS = 40  # pickup numbers read out in the ticker


def find_points(session: Session, codes: list[str]) -> list[PickupPoint]:
    """The points named by ``codes``, in that order; PointNotFound names any unknown one."""
    found = {
        point.code: point
        for point in session.scalars(
            select(PickupPoint)
            .where(PickupPoint.code.in_(codes))
            .options(
                joinedload(PickupPoint.office),
                selectinload(PickupPoint.hours),
                selectinload(PickupPoint.closures),
            )
        )
    }
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise PointNotFound(codes=", ".join(unknown))
    return [found[code] for code in codes]


def listed_points(session: Session, now: dt.datetime) -> list[PickupPoint]:
    """Every point that has a board today: all fixed points and the visits not yet over."""
    return list(
        session.scalars(
            select(PickupPoint)
            .where(or_(PickupPoint.visit_ends.is_(None), PickupPoint.visit_ends > now))
            .options(joinedload(PickupPoint.office), selectinload(PickupPoint.hours))
            .order_by(PickupPoint.office_id, PickupPoint.is_main.desc(), PickupPoint.name)
        )
    )


@dataclass(frozen=True)
class Waiting:
    """How many documents wait at a point: ready there (what its board shows), and held there
    after their window (asked for by receipt at the counter)."""

    ready: int = 0
    returned: int = 0


def waiting_counts(session: Session) -> dict[int, Waiting]:
    """Per point id, what waits there; a point with nothing waiting is left out. One grouped
    query over the waiting documents, on the index of status."""
    counts: dict[int, dict[str, int]] = {}
    for point_id, status, count in session.execute(
        select(Request.pickup_point_id, Request.status, func.count())
        .where(
            Request.status.in_([Status.READY, Status.RETURNED]),
            Request.pickup_point_id.is_not(None),
        )
        .group_by(Request.pickup_point_id, Request.status)
    ):
        counts.setdefault(point_id, {})[Status(status).value] = count
    return {
        point_id: Waiting(ready=found.get("ready", 0), returned=found.get("returned", 0))
        for point_id, found in counts.items()
    }


@dataclass(frozen=True)
class Ticker:
    """The point's latest announcement: how many it announced, and the first numbers ("…"
    last when there were more)."""

    count: int
    numbers: list[str]


@dataclass(frozen=True)
class Board:
    point: PickupPoint
    today: dt.date
    open: list[tuple[dt.time, dt.time]]
    documents: list[Any]  # rows of ``_DOCUMENT``, newest first
    ticker: Ticker | None
    next_open: dt.datetime | None = None  # the first opening after today
    closures: list[Closure] = field(default_factory=list)  # the coming closures

    def periods(self) -> list[tuple[dt.datetime, dt.datetime]]:
        """Today's opening periods as instants (UTC), so that a TV can tell open from shut."""
        zone = ZoneInfo(self.point.office.timezone)
        return [
            (
                dt.datetime.combine(self.today, opens, zone).astimezone(dt.UTC),
                dt.datetime.combine(self.today, closes, zone).astimezone(dt.UTC),
            )
            for opens, closes in self.open
        ]


@dataclass(frozen=True)
class OpenNow:
    """Whether a point is open at an instant, today's periods, and when it opens next."""

    open: bool
    day: dt.date  # the point's local date
    today: list[tuple[dt.time, dt.time]]
    next_open: dt.datetime | None  # in the point's own time zone


def open_now(point: PickupPoint, now: dt.datetime) -> OpenNow:
    """What a board's hours line says at ``now``: open (with today's hours), or closed and
    when it opens next (before opening, after closing, on a closed day, holiday or closure)."""
    today = now.astimezone(ZoneInfo(point.office.timezone)).date()
    zone = ZoneInfo(point.office.timezone)
    upcoming_open = next_opening(point, now)
    return OpenNow(
        is_open(point, now),
        today,
        hours_on(point, today),
        upcoming_open.astimezone(zone) if upcoming_open is not None else None,
    )


_DOCUMENT = (
    Request.pickup_number,
    Request.pickup_day,
    Request.applicant_name,
    Request.updated_at,
    Request.window_ends,
    Request.counter,
    Request.called_at,
    Service.code,
    Service.name_id,
    Service.name_en,
)


def board(session: Session, point: PickupPoint, now: dt.datetime) -> Board:
    """What the board of ``point`` shows: the documents ready there, newest first. (A
    document held at the main office after its window closed has a number of that point's
    returns series, ``R-017``, by which the counter finds it; the board lists ready ones.)
    Each number is held by one waiting document at a point. For a ready document
    ``updated_at`` is the moment it became ready: calling it to a counter does not touch it."""
    today = now.astimezone(ZoneInfo(point.office.timezone)).date()
    rows = session.execute(
        select(*_DOCUMENT)
        .join(Service, Service.id == Request.service_id)
        .where(Request.pickup_point_id == point.id, Request.status == Status.READY)
        .order_by(Request.updated_at.desc(), Request.pickup_number, Request.id)
    ).all()
    zone = ZoneInfo(point.office.timezone)
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0, 0), zone)
    return Board(
        point,
        today,
        hours_on(point, today),
        list(rows),
        _ticker(session, point),
        next_opening(point, tomorrow),
        upcoming(point, today),
    )


def _ticker(session: Session, point: PickupPoint) -> Ticker | None:
    latest = session.scalars(
        select(Announcement)
        .where(Announcement.point_id == point.id)
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    numbers = list(
        session.scalars(
            select(AnnouncementItem.pickup_number)
            .where(AnnouncementItem.announcement_id == latest.id)
            .order_by(AnnouncementItem.pickup_number)
            .limit(TICKER_NUMBERS)
        )
    )
    if latest.count > TICKER_NUMBERS:
        numbers.append("…")
    return Ticker(latest.count, numbers)
