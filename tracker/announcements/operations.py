"""Announcements: per pickup point, what became ready since its last announcement, and a
morning digest of everything waiting there.

``publish`` reads only the ready requests not yet announced (an index on ``(status,
announced_id)``), so its cost follows what changed, not what is stored. Publishing marks
each request with its announcement and releases its held *ready* message to the outbox in
the same transaction, with a delivery to each of the office's webhooks that wants
``announcement.published``: a second run finds nothing left to do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.db import bulk_insert
from tracker.models import (
    Announcement,
    AnnouncementItem,
    AnnouncementKind,
    Office,
    PickupPoint,
    Request,
)
from tracker.outbox import operations as outbox
from tracker.status import Status
from tracker.web.formatters import mask_name
from tracker.webhooks import events as webhook_events

CHUNK = 900  # ids per IN (...) list, under SQLite's variable limit
ITEM_COLUMNS = [
    "announcement_id", "request_id", "pickup_number", "masked_name", "service_id",
    "window_starts", "window_ends",
]  # fmt: skip
_ROW = (
    Request.id,
    Request.pickup_point_id,
    Request.pickup_number,
    Request.applicant_name,
    Request.service_id,
    Request.window_starts,
    Request.window_ends,
)


def publish(session: Session, now: dt.datetime) -> list[Announcement]:
    """One batch announcement per point with newly ready documents; the caller commits."""
    rows = session.execute(
        select(*_ROW)
        .where(Request.status == Status.READY, Request.announced_id.is_(None))
        .order_by(Request.pickup_point_id, Request.pickup_number)
    ).all()
    made = []
    for point_id, group in groupby(rows, key=lambda row: row.pickup_point_id):
        items = list(group)
        announcement = _announce(session, point_id, AnnouncementKind.BATCH, None, now, items)
        ids = [row.id for row in items]
        for chunk in _chunks(ids):
            session.execute(
                update(Request)
                .where(Request.id.in_(chunk))
                .values(announced_id=announcement.id)
                .execution_options(synchronize_session=False)
            )
            outbox.release(session, outbox.held(chunk), now=now)
        made.append(announcement)
    return made


def digest(session: Session, zone: str, now: dt.datetime) -> list[Announcement]:
    """The morning digest of every point of the offices in ``zone``: all documents waiting
    there. One per point and local day; a second run that day adds nothing."""
    day = now.astimezone(ZoneInfo(zone)).date()
    points = session.scalars(
        select(PickupPoint).join(Office).where(Office.timezone == zone).order_by(PickupPoint.id)
    ).all()
    done = set(
        session.scalars(
            select(Announcement.point_id).where(
                Announcement.kind == AnnouncementKind.DIGEST, Announcement.day == day
            )
        )
    )
    made = []
    for point in points:
        if point.id in done:
            continue
        items = session.execute(
            select(*_ROW)
            .where(Request.pickup_point_id == point.id, Request.status == Status.READY)
            .order_by(Request.pickup_number)
        ).all()
        if items:
            made.append(_announce(session, point.id, AnnouncementKind.DIGEST, day, now, items))
    return made


def _announce(
    session: Session,
    point_id: int,
    kind: AnnouncementKind,
    day: dt.date | None,
    now: dt.datetime,
    items: list,
) -> Announcement:
    announcement = Announcement(
        point_id=point_id, kind=kind, day=day, published_at=now, count=len(items)
    )
    session.add(announcement)
    session.flush()
    bulk_insert(
        session,
        AnnouncementItem.__table__,
        ITEM_COLUMNS,
        [
            (announcement.id, row.id, row.pickup_number or "", mask_name(row.applicant_name),
             row.service_id, row.window_starts, row.window_ends)
            for row in items
        ],
    )  # fmt: skip
    _tell_webhooks(session, announcement, items, now)
    return announcement


def _tell_webhooks(
    session: Session, announcement: Announcement, rows: list, now: dt.datetime
) -> None:
    """The ``announcement.published`` deliveries to the office's webhooks, in this
    transaction: the documents as the public announcement shows them."""
    items = [
        webhook_events.Item(
            row.pickup_number or "", mask_name(row.applicant_name), row.service_id,
            row.window_starts, row.window_ends,
        )
        for row in rows
    ]  # fmt: skip
    deliveries = webhook_events.announcement_published(session, announcement, items)
    outbox.queue_webhooks(session, deliveries, now=now)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
