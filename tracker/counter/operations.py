"""At the counter: calling a ready document to a counter of its point, for the lobby board.

Handing a document over (to the applicant, a representative or a courier) is a move of its
status, made by ``tracker.requests.operations.move`` with a ``Collector`` or a ``Courier``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import CannotCall
from tracker.models import Request
from tracker.requests.workflow import check_version
from tracker.status import Status


def call(
    session: Session,
    request: Request,
    counter: str,
    *,
    actor: Actor,
    now: dt.datetime,
    expected_version: int | None = None,
) -> None:
    """Call a ready document to a counter of its point: the lobby board shows the call (and
    may speak it). Calling again, to the same or another counter, is a new call."""
    check_version(request, expected_version)
    if request.status != Status.READY or request.pickup_point is None:
        raise CannotCall(reason="not_ready")
    if counter not in (request.pickup_point.counters or []):
        raise CannotCall(reason="counter", point=request.pickup_point.name)
    request.counter = counter
    request.called_at = now
    audit.record(session, "call", actor=actor, at=now, target=request.receipt, counter=counter)
    session.flush()
