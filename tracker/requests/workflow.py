"""The workflow of a request: which status may follow which, and the one function that moves it.

``TRANSITIONS`` is the whole workflow of DESIGN §3 in one table. ``transition`` checks a
move against it, writes the event, keeps ``Request.status`` in step and bumps the version,
all in the caller's transaction; it never commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from tracker.errors import ConflictError, MissingDetails, TransitionError
from tracker.models import Office, PickupPoint, Request, Service, StatusEvent
from tracker.outbox import operations as outbox
from tracker.places import pickup
from tracker.places.pickup import Window
from tracker.places.workdays import add_working_days
from tracker.requests import receipts
from tracker.requests.status import Status
from tracker.web.edge import visible

S = Status


@dataclass(frozen=True)
class Move:
    to: Status
    needs_reason: bool = False
    needs_window: bool = False
    by_handover: bool = False  # only ``handover.collect`` or ``handover.send_out`` make it


TRANSITIONS: dict[Status, tuple[Move, ...]] = {
    S.SUBMITTED: (Move(S.VERIFYING), Move(S.REJECTED, needs_reason=True), Move(S.CANCELLED)),
    S.VERIFYING: (
        Move(S.PROCESSING),
        Move(S.NEEDS_FIX, needs_reason=True),
        Move(S.REJECTED, needs_reason=True),
        Move(S.CANCELLED),
    ),
    S.NEEDS_FIX: (Move(S.VERIFYING), Move(S.REJECTED, needs_reason=True), Move(S.CANCELLED)),
    S.PROCESSING: (
        Move(S.READY, needs_window=True),
        Move(S.REJECTED, needs_reason=True),
        Move(S.CANCELLED),
    ),
    S.READY: (
        Move(S.COLLECTED, by_handover=True),
        Move(S.DELIVERING, by_handover=True),
        Move(S.RETURNED, needs_window=True),
        Move(S.CANCELLED),
    ),
    S.RETURNED: (
        Move(S.COLLECTED, by_handover=True),
        Move(S.DELIVERING, by_handover=True),
        Move(S.CANCELLED),
    ),
    S.DELIVERING: (Move(S.DELIVERED), Move(S.RETURNED, needs_window=True)),
    S.DELIVERED: (),
    S.COLLECTED: (),
    S.REJECTED: (),
    S.CANCELLED: (),
}
RECEIPT_ATTEMPTS = 5


def find_move(current: Status, to: Status) -> Move:
    for move in TRANSITIONS[current]:
        if move.to == to:
            return move
    raise TransitionError(current=current, to=to)


def transition(
    session: Session,
    request: Request,
    to: Status,
    *,
    actor: str,
    expected_version: int | None = None,
    public_note: str = "",
    internal_note: str = "",
    window: Window | None = None,
    pickup_number: str | None = None,
    at: dt.datetime,
    flush: bool = True,
    handover: bool = False,
) -> StatusEvent:
    """Move ``request`` to ``to`` and record the event; raises a DomainError and changes
    nothing when the move is not allowed, lacks what it needs, or the request changed since
    ``expected_version`` was read. A document leaves the office (``collected``,
    ``delivering``) only through ``tracker.handover``, which records who took it and passes
    ``handover=True``. With ``flush=False`` (many moves in one go) the caller flushes, and a
    lost race shows there as StaleDataError."""
    check_version(request, expected_version)
    move = find_move(request.status, to)
    if move.by_handover and not handover:
        raise MissingDetails(missing="handover", to=to)
    if move.needs_reason and not visible(public_note):
        raise MissingDetails(missing="reason", to=to)
    if move.needs_window and window is None:
        raise MissingDetails(missing="window", to=to)
    event = StatusEvent(
        request=request,
        from_status=request.status,
        to_status=to,
        at=at,
        actor=actor,
        public_note=public_note.strip(),
        internal_note=internal_note.strip(),
    )
    request.status = to
    request.updated_at = at
    if window is not None:
        _place(request, window, pickup_number)
    session.add(event)
    outbox.after_transition(session, request, to, at)
    if not flush:
        return event
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise _conflict(request) from None
    return event


def check_version(request: Request, expected_version: int | None) -> None:
    """ConflictError, naming who changed it last, when ``request`` is no longer the version
    the caller read."""
    if expected_version is not None and request.version != expected_version:
        raise _conflict(request)


def _place(request: Request, window: Window, pickup_number: str | None) -> None:
    request.pickup_point = window.point
    request.window_starts = window.starts
    request.window_ends = window.ends
    if pickup_number is not None:
        request.pickup_number = pickup_number
        request.pickup_day = window.first_day


def _conflict(request: Request) -> ConflictError:
    last = request.events[-1] if request.events else None
    return ConflictError(
        changed_by=last.actor if last else None,
        changed_at=last.at if last else None,
        zone=request.office.timezone,
    )


def register(
    session: Session,
    *,
    office: Office,
    service: Service,
    applicant_name: str,
    actor: str,
    nik: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
    at: dt.datetime,
    **choices: Any,
) -> Request:
    """A new request in ``submitted`` with its first event, receipt number and expected date;
    ``choices`` are the intake's other columns (consent, channel, delivery, preferred point)."""
    local_day = at.astimezone(ZoneInfo(office.timezone)).date()
    request = Request(
        receipt=_fresh_receipt(session),
        office=office,
        service=service,
        applicant_name=applicant_name.strip(),
        nik=nik,
        phone=phone,
        email=email,
        address=address,
        status=S.SUBMITTED,
        created_at=at,
        updated_at=at,
        expected_on=add_working_days(local_day, service.target_days),
        **choices,
    )
    session.add(request)
    session.add(
        StatusEvent(request=request, from_status=None, to_status=S.SUBMITTED, at=at, actor=actor)
    )
    session.flush()
    return request


def _fresh_receipt(session: Session) -> str:
    for _ in range(RECEIPT_ATTEMPTS):
        number = receipts.generate()
        if session.scalar(select(Request.id).where(Request.receipt == number)) is None:
            return number
    raise RuntimeError("could not draw an unused receipt number")


def mark_ready(
    session: Session,
    request: Request,
    point: PickupPoint,
    *,
    actor: str,
    open_days: int,
    at: dt.datetime,
    **notes: Any,
) -> StatusEvent:
    """Move a request to ``ready`` at ``point``: its window starts at the point's next opening
    and the document gets the point's next pickup number for the window's first day."""
    find_move(request.status, S.READY)
    if point.office_id != request.office_id:
        raise MissingDetails(missing="point", to=S.READY)
    window = pickup.next_window(point, at, open_days)
    number = pickup.assign_number(session, point, window.first_day)
    return transition(
        session, request, S.READY, actor=actor, window=window, pickup_number=number, at=at, **notes
    )


def open_duplicates(session: Session, nik: str, service: Service) -> list[str]:
    """Receipt numbers of unfinished requests (any that can still move) for the same NIK and
    service."""
    unfinished = [status for status, moves in TRANSITIONS.items() if moves]
    query = select(Request.receipt).where(
        Request.nik == nik, Request.service_id == service.id, Request.status.in_(unfinished)
    )
    return list(session.scalars(query))
