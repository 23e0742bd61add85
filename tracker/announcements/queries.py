"""What the announcement pages, the feed and the JSON read: the newest announcements, with
their point and office, and the first of their documents; and, for the newest announcement of
each point, the documents announced there that still wait now, a part at a time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from tracker.models import (
    Announcement,
    AnnouncementItem,
    Closure,
    Office,
    PickupPoint,
    Request,
    Service,
)
from tracker.places.closures import UPCOMING_DAYS
from tracker.status import Status
from tracker.web.formatters import mask_name

RECENT = 30


# The documents of a list shown at once: on the page, in the feed and in the JSON. A point may
# hold thousands waiting (a delivery of blank cards made ready at once), and every list here is
# public and asked for without a budget; the page goes through the rest a part at a time.
SHOWN = 100
# ... and of each point's list on the page of every point, which links to the point's own.
FEW = 20


@dataclass(frozen=True)
class Part:
    """Part of a list of documents: the rows shown, where they start (from 0) and how many
    the list holds in all."""

    rows: list[Any]
    start: int
    total: int

    @property
    def before(self) -> int:
        return min(self.start, self.total)

    @property
    def after(self) -> int:
        return max(self.total - self.start - len(self.rows), 0)


def recent(
    session: Session, point_codes: Iterable[str] = (), limit: int = RECENT
) -> list[Announcement]:
    """The newest announcements, of some points or of all, newest first, with their point and
    office (not their documents: ``items_of`` reads a part of them)."""
    newest = select(Announcement.id).order_by(
        Announcement.published_at.desc(), Announcement.id.desc()
    )
    codes = list(point_codes)
    if codes:
        newest = newest.join(PickupPoint).where(PickupPoint.code.in_(codes))
    ids = list(session.scalars(newest.limit(limit)))
    return list(
        session.scalars(
            select(Announcement)
            .where(Announcement.id.in_(ids))
            .options(joinedload(Announcement.point).joinedload(PickupPoint.office))
            .order_by(Announcement.published_at.desc(), Announcement.id.desc())
        )
    )


def items_of(
    session: Session, announcements: list[Announcement], first: int = SHOWN
) -> dict[int, Part]:
    """The first ``first`` documents of each announcement, by pickup number, with their
    service, and how many it announced in all: one query, whatever their number."""
    if not announcements:
        return {}
    place = (
        func.row_number()
        .over(
            partition_by=AnnouncementItem.announcement_id,
            order_by=(AnnouncementItem.pickup_number, AnnouncementItem.id),
        )
        .label("place")
    )
    numbered = (
        select(AnnouncementItem.id, place)
        .where(AnnouncementItem.announcement_id.in_([a.id for a in announcements]))
        .subquery()
    )
    rows = session.scalars(
        select(AnnouncementItem)
        .join(numbered, numbered.c.id == AnnouncementItem.id)
        .where(numbered.c.place <= first)
        .options(joinedload(AnnouncementItem.service))
        .order_by(AnnouncementItem.announcement_id, numbered.c.place)
    ).all()
    parts = {a.id: Part([], 0, a.count) for a in announcements}
    for row in rows:
        parts[row.announcement_id].rows.append(row)
    return parts


@dataclass(frozen=True)
class Waiting:
    """A document that waits at a point now, as an announcement shows it: its pickup number,
    masked name, service and window; ``new`` when this announcement brought it."""

    pickup_number: str
    masked_name: str
    service: Service
    window_starts: dt.datetime
    window_ends: dt.datetime
    new: bool


def waiting_now(
    session: Session, announcements: list[Announcement], start: int = 0, first: int = SHOWN
) -> dict[int, Part]:
    """For the newest announcement of each point among ``announcements`` (newest first), by
    its id: the documents announced at that point that are still ready there now, by pickup
    number, ``first`` of them from ``start``, and how many there are, so that the newest
    announcement reads as the full list of what waits. A document collected since is no longer
    on it; one made ready since the announcement waits for the next. Two queries, whatever the
    number stored: one counts them, one numbers them by point and keeps the part asked for
    (its cost grows with what waits at the points shown, not with what is stored)."""
    newest: dict[int, Announcement] = {}
    for announcement in announcements:
        newest.setdefault(announcement.point_id, announcement)
    if not newest:
        return {}
    waits = (
        Request.pickup_point_id.in_(list(newest)),
        Request.status == Status.READY,
        Request.announced_id.is_not(None),
    )
    totals = dict(
        session.execute(
            select(Request.pickup_point_id, func.count())
            .where(*waits)
            .group_by(Request.pickup_point_id)
        ).all()
    )
    place = (
        func.row_number()
        .over(partition_by=Request.pickup_point_id, order_by=(Request.pickup_number, Request.id))
        .label("place")
    )
    numbered = select(Request.id, place).where(*waits).subquery()
    rows = session.execute(
        select(
            Request.pickup_point_id,
            Request.pickup_number,
            Request.applicant_name,
            Request.window_starts,
            Request.window_ends,
            Request.announced_id,
            Service,
        )
        .join(numbered, numbered.c.id == Request.id)
        .join(Service, Service.id == Request.service_id)
        .where(numbered.c.place > start, numbered.c.place <= start + first)
        .order_by(Request.pickup_point_id, numbered.c.place)
    ).all()
    parts = {a.id: Part([], start, totals.get(point_id, 0)) for point_id, a in newest.items()}
    for row in rows:
        announcement = newest[row.pickup_point_id]
        parts[announcement.id].rows.append(
            Waiting(
                pickup_number=row.pickup_number or "",
                masked_name=mask_name(row.applicant_name),
                service=row.Service,
                window_starts=row.window_starts,
                window_ends=row.window_ends,
                new=row.announced_id == announcement.id,
            )
        )
    return parts


def closures_ahead(
    session: Session, now: dt.datetime, point_codes: Iterable[str] = ()
) -> list[Closure]:
    """The closures of the next ``UPCOMING_DAYS`` days (each point's own local date), of some
    points or of all, by point and day."""
    codes = list(point_codes)
    around = now.astimezone(dt.UTC).date()
    query = (
        select(Closure)
        .join(PickupPoint, PickupPoint.id == Closure.point_id)
        .join(Office, Office.id == PickupPoint.office_id)
        .where(
            Closure.day >= around - dt.timedelta(days=1),
            Closure.day <= around + dt.timedelta(days=UPCOMING_DAYS + 1),
        )
        .options(joinedload(Closure.point).joinedload(PickupPoint.office))
        .order_by(PickupPoint.name, PickupPoint.code, Closure.day)
    )
    if codes:
        query = query.where(PickupPoint.code.in_(codes))
    found = []
    for closure in session.scalars(query):
        today = now.astimezone(ZoneInfo(closure.point.office.timezone)).date()
        if today <= closure.day <= today + dt.timedelta(days=UPCOMING_DAYS):
            found.append(closure)
    return found
