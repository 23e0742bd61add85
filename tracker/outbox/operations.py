"""The outbox: messages to citizens, written in the transaction of the change that causes
them, and their texts.

``queue`` writes one row per request, event and channel the citizen agreed to; the key
``request:event:version:channel`` makes a second write of the same message a no-op. A
*ready* message is held until the announce job publishes the document, so that the message
and the public announcement say the same thing at the same time. Texts are rendered when
they are sent (``render``), from ``templates/messages/``, in Indonesian unless the citizen
chose otherwise; an SMS keeps to one 160-character GSM-7 message.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.models import Channel, OutboxMessage, OutboxStatus, Request
from tracker.requests.status import Status
from tracker.web.formatters import mask_name

STATUS_EVENTS = {
    Status.READY: "ready",
    Status.NEEDS_FIX: "needs_fix",
    Status.REJECTED: "rejected",
    Status.RETURNED: "returned",
}
EVENTS = (*STATUS_EVENTS.values(), "reminder_closing", "reminder_waiting")
SMS_LENGTH = 160
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


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


def render(request: Request, event: str, channel: Channel) -> tuple[str, str]:
    """The subject and body of a message, in Indonesian."""
    context: dict[str, Any] = {
        "r": request,
        "name": mask_name(request.applicant_name)
        if request.anonymised_at
        else request.applicant_name,
        "status_url": f"{current_app.config['PUBLIC_BASE_URL']}/s/{request.receipt}",
        "zone": request.office.timezone,
        # The note of the change the message is about, even if the request moved on since.
        "note": next((e.public_note for e in reversed(request.events) if e.to_status == event), ""),
    }
    with force_locale("id"):
        if channel == Channel.SMS:
            body = render_template(f"messages/{event}.sms.txt", **context)
            return "", sms_text(body)
        subject = render_template(f"messages/{event}.subject.txt", **context).strip()
        body = render_template(f"messages/{event}.txt", **context).strip() + "\n"
    return subject, body


def sms_text(text: str) -> str:
    """One line of GSM-7 characters, at most 160: accents dropped, spaces folded, and the
    text cut at a word with an ellipsis of dots when it is still too long."""
    flat = " ".join(text.split())
    flat = "".join(c if c in GSM7 else _plain(c) for c in flat)
    if len(flat) <= SMS_LENGTH:
        return flat
    cut = flat[: SMS_LENGTH - 3]
    return re.sub(r"\s+\S*$", "", cut) + "..."


def _plain(character: str) -> str:
    if character in "–—":
        return "-"
    if character in "“”":
        return '"'
    if character in "‘’":
        return "'"
    return unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode()


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
