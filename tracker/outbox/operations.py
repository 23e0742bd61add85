"""The outbox: messages to citizens, written in the transaction of the change that causes
them, and their texts.

``queue`` writes one row per request, event and channel the citizen agreed to; the key
``request:event:version:channel`` makes a second write of the same message a no-op. A
*ready* message is held until the announce job publishes the document, so that the message
and the public announcement say the same thing at the same time. Texts are rendered when
they are sent (``tracker.outbox.texts``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.models import Channel, OutboxMessage, OutboxStatus, Request
from tracker.requests.status import Status

STATUS_EVENTS = {
    Status.READY: "ready",
    Status.NEEDS_FIX: "needs_fix",
    Status.REJECTED: "rejected",
    Status.RETURNED: "returned",
}
EVENTS = (*STATUS_EVENTS.values(), "reminder_closing", "reminder_waiting")


def recipient(request: Request) -> str | None:
    if request.channel == Channel.EMAIL:
        return request.email
    return request.phone


def key_for(request: Request, event: str, channel: Channel) -> str:
    return f"{request.id}:{event}:{request.version}:{channel.value}"


def queue(
    session: Session,
    request: Request,
    event: str,
    *,
    now: dt.datetime,
    held: bool = False,
    once: bool = False,
) -> bool:
    """Write the message for ``event`` in the caller's transaction, if the citizen agreed to
    messages and left an address for the chosen channel. A change of status makes a new key
    (the version is in it); a job passes ``once`` to look for the key first."""
    if not request.consent_notify or request.channel is None:
        return False
    to = recipient(request)
    if not to:
        return False
    key = key_for(request, event, request.channel)
    if once and session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)
    ):
        return False
    session.add(
        OutboxMessage(
            request_id=request.id,
            office_id=request.office_id,
            event=event,
            channel=request.channel,
            idempotency_key=key,
            recipient=to,
            body="",
            status=OutboxStatus.HELD if held else OutboxStatus.PENDING,
            next_attempt_at=now,
        )
    )
    return True


def after_transition(session: Session, request: Request, to: Status, at: dt.datetime) -> None:
    """The messages a change of status causes (``workflow.transition`` calls this; the
    caller flushes, so nothing here may)."""
    with session.no_autoflush:
        _after_transition(session, request, to, at)


def _after_transition(session: Session, request: Request, to: Status, at: dt.datetime) -> None:
    event = STATUS_EVENTS.get(to)
    if event is not None:
        queue(session, request, event, now=at, held=to == Status.READY)
    if to in (Status.COLLECTED, Status.DELIVERING, Status.DELIVERED, Status.CANCELLED):
        # A document that moved on makes its waiting messages pointless.
        for message in session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.request_id == request.id,
                OutboxMessage.status.in_((OutboxStatus.HELD, OutboxStatus.PENDING)),
                OutboxMessage.event.not_in(("needs_fix", "rejected")),
            )
        ):
            message.status = OutboxStatus.CANCELLED


def opt_out(session: Session, receipt: str) -> bool:
    """No more messages for this request; the waiting ones are cancelled. False when no
    request has the number."""
    request = session.scalars(select(Request).where(Request.receipt == receipt)).first()
    if request is None:
        return False
    request.consent_notify = False
    session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.request_id == request.id,
            OutboxMessage.status.in_((OutboxStatus.HELD, OutboxStatus.PENDING)),
        )
        .values(status=OutboxStatus.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return True
