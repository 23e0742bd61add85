"""The workflow of a request: which status may follow which (DESIGN §3), in one table.

``TRANSITIONS`` is the single statement of what may follow what; ``find_move`` looks a move
up in it. The one function that makes a move is ``tracker.requests.operations.move``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tracker.errors import ConflictError, TransitionError
from tracker.models import Request
from tracker.status import Status

S = Status


@dataclass(frozen=True)
class Move:
    to: Status
    needs_reason: bool = False  # a reason the citizen reads
    handover: bool = False  # the document leaves the office: recorded as a handover


TRANSITIONS: dict[Status, tuple[Move, ...]] = {
    S.SUBMITTED: (
        Move(S.VERIFYING),
        Move(S.REJECTED, needs_reason=True),
        Move(S.CANCELLED, needs_reason=True),
    ),
    S.VERIFYING: (
        Move(S.PROCESSING),
        Move(S.NEEDS_FIX, needs_reason=True),
        Move(S.REJECTED, needs_reason=True),
        Move(S.CANCELLED, needs_reason=True),
    ),
    S.NEEDS_FIX: (
        Move(S.VERIFYING),
        Move(S.REJECTED, needs_reason=True),
        Move(S.CANCELLED, needs_reason=True),
    ),
    S.PROCESSING: (
        Move(S.READY),
        Move(S.REJECTED, needs_reason=True),
        Move(S.CANCELLED, needs_reason=True),
    ),
    S.READY: (
        Move(S.COLLECTED, handover=True),
        Move(S.DELIVERING, handover=True),
        Move(S.RETURNED),
        Move(S.CANCELLED, needs_reason=True),
    ),
    S.RETURNED: (
        Move(S.COLLECTED, handover=True),
        Move(S.DELIVERING, handover=True),
        Move(S.CANCELLED, needs_reason=True),
    ),
    S.DELIVERING: (Move(S.DELIVERED), Move(S.RETURNED)),
    S.DELIVERED: (),
    S.COLLECTED: (),
    S.REJECTED: (),
    S.CANCELLED: (),
}


OPEN_ENDED = tuple(status for status, moves in TRANSITIONS.items() if moves)
# The statuses a move may reach only with a reason the citizen reads.
NEEDS_REASON = frozenset(m.to for moves in TRANSITIONS.values() for m in moves if m.needs_reason)


def find_move(current: Status, to: Status) -> Move:
    for move in TRANSITIONS[current]:
        if move.to == to:
            return move
    raise TransitionError(current=current, to=to)


def check_version(request: Request, expected_version: int | None) -> None:
    """ConflictError, naming who changed it last, when ``request`` is no longer the version
    the caller read; or saying so when the request never had that version (a caller's
    mistake: no one else changed it)."""
    if expected_version is None or expected_version == request.version:
        return
    if expected_version > request.version:
        raise ConflictError(
            reason="unknown_version", asked=expected_version, current=request.version
        )
    last = request.events[-1] if request.events else None
    raise conflict(last.actor if last else None, last.at if last else None, request.office.timezone)


def conflict(
    changed_by: str | None, changed_at: dt.datetime | None, zone: str | None
) -> ConflictError:
    return ConflictError(changed_by=changed_by, changed_at=changed_at, zone=zone)
