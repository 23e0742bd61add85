"""What the announcement pages, the feed and the JSON read: the newest announcements, with
their point, office and items."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.models import Announcement, AnnouncementItem, PickupPoint

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
