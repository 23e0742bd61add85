"""What happens to requests with time: reminders, the end of a pickup window, the overdue
list, and the anonymisation of long-finished requests (DESIGN §6). Each function works in
the caller's transaction and is safe to run twice: a second run finds nothing left to do."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, true, update
from sqlalchemy.orm import Session, joinedload

from tracker.audit import trail as audit
from tracker.audit.trail import SYSTEM
from tracker.models import Handover, Office, PickupPoint, Request, StatusEvent
from tracker.outbox import operations as outbox
from tracker.places.pickup import main_point
from tracker.requests import operations
from tracker.status import CLOCK_RUNS, ENDED, Status
from tracker.web.formatters import mask_name


def _in_zone(zone: str | None) -> Any:
    """A condition on requests: of offices in ``zone`` (all when None)."""
    if zone is None:
        return true()
    return Request.office_id.in_(select(Office.id).where(Office.timezone == zone))


def remind(
    session: Session,
    config: dict[str, Any],
    now: dt.datetime,
    zone: str | None = None,
) -> Counter:
    """Remind those whose window closes soon, and those whose document has waited long."""
    tally: Counter = Counter()
    closing = now + dt.timedelta(days=config["REMIND_BEFORE_CLOSE_DAYS"])
    waited = now - dt.timedelta(days=config["REMIND_WAITING_DAYS"])
    ready = select(Request).where(
        Request.status == Status.READY, Request.consent_notify, _in_zone(zone)
    )
    for request in session.scalars(
        ready.where(Request.window_ends > now, Request.window_ends <= closing)
    ):
        tally["reminder_closing"] += outbox.queue(
            session, request, "reminder_closing", now=now, once=True
        )
    for request in session.scalars(
        ready.where(Request.window_starts <= waited, Request.window_ends > closing)
    ):
        tally["reminder_waiting"] += outbox.queue(
            session, request, "reminder_waiting", now=now, once=True
        )
    return tally


def expire(
    session: Session,
    config: dict[str, Any],
    now: dt.datetime,
    zone: str | None = None,
) -> int:
    """Move documents past their window to ``returned`` at the office's main point, where they
    wait ``RETURN_KEEP_OPEN_DAYS`` more days (the same window as a return by hand); the
    citizen is told where (the outbox)."""
    late = session.scalars(
        select(Request)
        .where(Request.status == Status.READY, Request.window_ends < now, _in_zone(zone))
        .options(joinedload(Request.office))
    ).all()
    kept: dict[int, list[Request]] = {}  # by the point each goes to: its office's main point
    points: dict[int, PickupPoint] = {}
    mains: dict[int, PickupPoint | None] = {}
    for request in late:
        if request.office_id not in mains:
            mains[request.office_id] = main_point(session, request.office_id)
        point = mains[request.office_id] or operations.return_point(session, request)
        points[point.id] = point
        kept.setdefault(point.id, []).append(request)
    for point_id, requests in kept.items():
        placements = operations.return_placements(
            session, points[point_id], len(requests), now, config
        )
        for request, placement in zip(requests, placements, strict=True):
            operations.move(
                session, request, Status.RETURNED, actor=SYSTEM, now=now, config=config,
                placement=placement,
                public_note="Tidak diambil dalam jadwal; disimpan di kantor utama.",
            )  # fmt: skip
    return len(late)


def overdue_counts(
    session: Session, now: dt.datetime, zone: str = "Asia/Jakarta"
) -> dict[int, int]:
    """Open requests past their service target, per office of ``zone`` (the supervisors'
    daily list; the console shows each one)."""
    today = now.astimezone(ZoneInfo(zone)).date()
    rows = session.execute(
        select(Request.office_id, func.count())
        .where(Request.status.in_(CLOCK_RUNS), Request.expected_on < today, _in_zone(zone))
        .group_by(Request.office_id)
    )
    return {office_id: count for office_id, count in rows}


def anonymise(session: Session, config: dict[str, Any], now: dt.datetime) -> int:
    """Remove the personal data of requests that ended (``ENDED``: collected, delivered,
    rejected, cancelled) more than ``RETENTION_DAYS`` ago: the name is kept masked, NIK,
    phone, e-mail and address go, and so do the collector's name, the notes of the history,
    the messages' recipients, texts and errors, and the details of the audit rows about the
    request; status, service, office and dates stay for the statistics, and the audit
    trail's chain stays whole."""
    before = now - dt.timedelta(days=config["RETENTION_DAYS"])
    rows = session.execute(
        select(Request.id, Request.receipt, Request.applicant_name).where(
            Request.anonymised_at.is_(None),
            Request.status.in_(ENDED),
            Request.updated_at < before,
        )
    ).all()
    for request_id, _receipt, name in rows:
        session.execute(
            update(Request)
            .where(Request.id == request_id)
            .values(
                applicant_name=mask_name(name), nik=None, phone=None, email=None, address=None,
                consent_notify=False, anonymised_at=now,
            )
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        _forget_around([row.id for row in chunk], session)
        outbox.scrub(session, [row.id for row in chunk])
        audit.redact(session, [row.receipt for row in chunk], now)
    return len(rows)


def _forget_around(request_ids: list[int], session: Session) -> None:
    """What other tables keep of these requests' people: handovers and the notes of their
    history (free text, which may name anyone). Their messages are the outbox's to scrub."""
    wiped = {
        Handover: {"collector_name": "", "relation": ""},
        StatusEvent: {"public_note": "", "internal_note": ""},
    }
    for model, values in wiped.items():
        # A bulk UPDATE: the history's append-only guard watches the ORM's changes, and
        # retention is the one change the history allows.
        session.execute(
            update(model)
            .where(model.request_id.in_(request_ids))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
