"""What changed, for another system of the office (a SIAK bridge) that keeps in step: the
requests of some offices ordered by (``changed_at``, ``id``), a page at a time from where
the last page ended, read through the index on (office, changed_at, id). ``changed_at`` is
set by every move, by every window a closure or a leave day moves and by every expected date
a leave day puts off (``updated_at`` stays the moment of the last move, which these are not);
the answer calls it ``updated_at``, the name the bridge's contract has always had for it.

A bridge is the office's own system, so it reads what the office's console lists show of
a request's progress: receipt number, status, version, when it changed, office, service,
expected date, pickup point, pickup number and window. Not the NIK, phone, e-mail, address
or name: the bridge has them from SIAK already, and an API answer need not carry them again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, aliased

from tracker.models import Office, PickupPoint, Request, Service


def changed(
    session: Session,
    office_ids: Iterable[int],
    *,
    since: dt.datetime | None,
    after: tuple[dt.datetime, int] | None,
    limit: int,
    until: dt.datetime,
) -> list[Any]:
    """Up to ``limit`` requests of these offices changed at or after ``since``, after the
    (changed_at, id) ``after`` and before ``until``, in that order, as plain rows
    (``changed_at`` labelled ``updated_at``).

    ``until`` is the settled past: a change is stamped with the moment its unit of work
    began and is seen once that unit commits, so a unit that commits after a later one (a
    leave day's seconds of updates, a writer waiting for SQLite's lock) would land behind a
    cursor that had passed it. Listing only what was stamped before ``until`` (the caller's
    ``now`` less ``CHANGES_SETTLE_SECONDS``, more than any unit that stamps takes) keeps
    every change ahead of every cursor. A unit with no web timeout that took longer (a
    scheduled job's, ``setup load``'s) is listed again by ``relist``."""
    point = aliased(PickupPoint)
    query = (
        select(
            Request.id, Request.receipt, Request.status, Request.version,
            Request.changed_at.label("updated_at"),
            Request.expected_on, Request.pickup_number, Request.window_starts, Request.window_ends,
            Request.external_ref,
            Office.code.label("office"), Service.code.label("service"),
            point.code.label("point"),
        )
        .join(Office, Office.id == Request.office_id)
        .join(Service, Service.id == Request.service_id)
        .outerjoin(point, point.id == Request.pickup_point_id)
        .where(Request.office_id.in_(sorted(office_ids)), Request.changed_at < until)
        .order_by(Request.changed_at, Request.id)
        .limit(limit)
    )  # fmt: skip
    if since is not None:
        query = query.where(Request.changed_at >= since)
    if after is not None:
        moment, last_id = after
        query = query.where(
            or_(
                Request.changed_at > moment,
                and_(Request.changed_at == moment, Request.id > last_id),
            )
        )
    return list(session.execute(query))


def committed_late(stamped: dt.datetime, committed: dt.datetime, settle: float) -> bool:
    """Whether a unit of work that stamped its changes ``stamped`` and committed by
    ``committed`` took longer than the settling (``CHANGES_SETTLE_SECONDS``; 0 turns the
    settling, and so this, off): a bridge may have read past its changes meanwhile."""
    return settle > 0 and committed - stamped > dt.timedelta(seconds=settle)


def relist(session: Session, stamped: dt.datetime, at: dt.datetime) -> int:
    """Mark as changed at ``at`` the requests a unit of work that ``committed_late`` stamped
    ``stamped`` (its ``now``) and no later unit changed again, so that every bridge lists
    them ahead of its cursor: a cursor is always a stamp listed, settled before the moment of
    reading, and ``at`` is after that unit committed. A scheduled job (``jobs.runner``) and
    ``setup load`` call it, in a unit of their own after theirs, shorter than the settling
    (one UPDATE through the index on office and ``changed_at``). How many it marked."""
    result = session.execute(
        update(Request)
        .where(Request.office_id.in_(select(Office.id)), Request.changed_at == stamped)
        .values(changed_at=at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def catch_up(session: Session, now: dt.datetime) -> int:
    """Mark as changed at ``now`` the requests a release before this one made or moved
    meanwhile, which wrote ``updated_at`` only: during an upgrade, between the migration that
    made ``changed_at`` and the restart of the last web host. ``now``, not their
    ``updated_at``: a bridge may have read past that moment already, through a request the
    new release moved, and must still find them. The scheduler runs this as it starts (it is
    restarted last); a full scan that changes nothing once caught up. How many it set."""
    result = session.execute(
        update(Request)
        .where(or_(Request.changed_at.is_(None), Request.changed_at < Request.updated_at))
        .values(changed_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
