"""What the announcement pages, the feed and the JSON read: the newest announcements, with
their point, office and items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.models import Announcement, AnnouncementItem, Closure, Office, PickupPoint

RECENT = 30


def recent(
    session: Session, point_codes: Iterable[str] = (), limit: int = RECENT
) -> list[Announcement]:
    """The newest announcements, of some points or of all, newest first."""
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
            .options(
                joinedload(Announcement.point).joinedload(PickupPoint.office),
                selectinload(Announcement.items).joinedload(AnnouncementItem.service),
            )
            .order_by(Announcement.published_at.desc(), Announcement.id.desc())
        )
    )


CLOSURE_DAYS = 30  # how far ahead /pengumuman lists the points' closures


def closures_ahead(
    session: Session, now: dt.datetime, point_codes: Iterable[str] = ()
) -> list[Closure]:
    """The closures of the next ``CLOSURE_DAYS`` days (each point's own local date), of some
    points or of all, by point and day."""
    codes = list(point_codes)
    around = now.astimezone(dt.UTC).date()
    query = (
        select(Closure)
        .join(PickupPoint, PickupPoint.id == Closure.point_id)
        .join(Office, Office.id == PickupPoint.office_id)
        .where(
            Closure.day >= around - dt.timedelta(days=1),
            Closure.day <= around + dt.timedelta(days=CLOSURE_DAYS + 1),
        )
        .options(joinedload(Closure.point).joinedload(PickupPoint.office))
        .order_by(PickupPoint.name, PickupPoint.code, Closure.day)
    )
    if codes:
        query = query.where(PickupPoint.code.in_(codes))
    found = []
    for closure in session.scalars(query):
        today = now.astimezone(ZoneInfo(closure.point.office.timezone)).date()
        if today <= closure.day <= today + dt.timedelta(days=CLOSURE_DAYS):
            found.append(closure)
    return found
