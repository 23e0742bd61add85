"""Moving a pile of requests at once: a scanned or pasted list is checked line by line, then
moved in one transaction, all or nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from tracker.accounts import scope
from tracker.audit import trail as audit
from tracker.errors import ConflictError, MissingDetails, ReceiptMistyped
from tracker.models import PickupPoint, Request, StaffAccount
from tracker.places import pickup
from tracker.requests import receipts
from tracker.requests.status import Status
from tracker.requests.workflow import TRANSITIONS, transition

# Moves a batch may make: none of them needs a reason the citizen reads.
BATCH_MOVES = (Status.VERIFYING, Status.PROCESSING, Status.READY)
OK, MISTYPED, NOT_FOUND, OTHER_OFFICE, NOT_ALLOWED, REPEATED = (
    "ok",
    "mistyped",
    "not_found",
    "other_office",
    "not_allowed",
    "repeated",
)
CHUNK = 500


@dataclass
class Line:
    """One scanned or typed line and what it would do."""

    typed: str
    state: str
    receipt: str = ""
    status: Status | None = None

    @property
    def ok(self) -> bool:
        return self.state == OK


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def check(
    session: Session,
    account: StaffAccount,
    typed: list[str],
    to: Status,
    point: PickupPoint | None = None,
) -> list[Line]:
    """Each line's state for moving to ``to`` (at ``point``), one query per few hundred lines."""
    parsed: list[Line] = []
    for text in typed:
        try:
            parsed.append(Line(text[:80], OK, receipts.parse(text)))
        except ReceiptMistyped:
            parsed.append(Line(text[:80], MISTYPED))
    found = _load(session, [line.receipt for line in parsed if line.receipt])
    seen: set[str] = set()
    for line in parsed:
        if line.state != OK:
            continue
        request = found.get(line.receipt)
        line.state = _state(account, request, to, point, line.receipt in seen)
        line.status = request.status if request is not None else None
        seen.add(line.receipt)
    return parsed


def _state(
    account: StaffAccount,
    request: Request | None,
    to: Status,
    point: PickupPoint | None,
    repeated: bool,
) -> str:
    if request is None:
        return NOT_FOUND
    if not scope.sees(account, request.office_id):
        return OTHER_OFFICE
    if point is not None and point.office_id != request.office_id:
        return OTHER_OFFICE
    if repeated:
        return REPEATED
    if all(move.to != to for move in TRANSITIONS[request.status]):
        return NOT_ALLOWED
    return OK


def _load(session: Session, numbers: list[str]) -> dict[str, Request]:
    found: dict[str, Request] = {}
    for start in range(0, len(numbers), CHUNK):
        chunk = numbers[start : start + CHUNK]
        query = (
            select(Request).where(Request.receipt.in_(chunk)).options(selectinload(Request.events))
        )
        found.update((r.receipt, r) for r in session.scalars(query))
    return found


def move(
    session: Session,
    account: StaffAccount,
    typed: list[str],
    to: Status,
    *,
    point: PickupPoint | None = None,
    open_days: int = 10,
    at: dt.datetime,
) -> list[Line]:
    """Check the lines again and, when every one is fine, move them all in the caller's
    transaction (which the caller commits). Returns the lines; nothing moves if one is not ok."""
    if to == Status.READY and point is None:
        raise MissingDetails(missing="point", to=to)
    lines = check(session, account, typed, to, point)
    if not lines or not all(line.ok for line in lines):
        return lines
    requests = _load(session, [line.receipt for line in lines])
    window = numbers = None
    if to == Status.READY and point is not None:
        window = pickup.next_window(point, at, open_days)
        numbers = pickup.assign_numbers(session, point, window.first_day, len(lines))
    for index, line in enumerate(lines):
        request = requests[line.receipt]
        transition(
            session,
            request,
            to,
            actor=account.username,
            window=window,
            pickup_number=numbers[index] if numbers else None,
            at=at,
            flush=False,
        )
        audit.record(session, "transition", target=request.receipt, to=to.value, batch=True)
    try:
        session.flush()
    except StaleDataError:
        session.rollback()
        raise ConflictError(changed_by=None, changed_at=None) from None
    return lines
