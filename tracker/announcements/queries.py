"""What the announcement pages, the feed and the JSON read: the newest announcements, with
their point, office and items; and, for the newest announcement of each point, every document
announced there that still waits now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

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


def waiting_now(session: Session, announcements: list[Announcement]) -> dict[int, list[Waiting]]:
    """For the newest announcement of each point among ``announcements`` (newest first), by
    its id: every document announced at that point that is still ready there now, by pickup
    number, so that the newest announcement reads as the full list of what waits. A document
    collected since is no longer on it; one made ready since the announcement waits for the
    next. One query on the index of point and status, whatever the number stored."""
    newest: dict[int, Announcement] = {}
    for announcement in announcements:
        newest.setdefault(announcement.point_id, announcement)
    if not newest:
        return {}
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
        .join(Service, Service.id == Request.service_id)
        .where(
            Request.pickup_point_id.in_(list(newest)),
            Request.status == Status.READY,
            Request.announced_id.is_not(None),
        )
        .order_by(Request.pickup_point_id, Request.pickup_number, Request.id)
    ).all()
    full: dict[int, list[Waiting]] = {a.id: [] for a in newest.values()}
    for row in rows:
        announcement = newest[row.pickup_point_id]
        full[announcement.id].append(
            Waiting(
                pickup_number=row.pickup_number or "",
                masked_name=mask_name(row.applicant_name),
                service=row.Service,
                window_starts=row.window_starts,
                window_ends=row.window_ends,
                new=row.announced_id == announcement.id,
            )
        )
    return full


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
