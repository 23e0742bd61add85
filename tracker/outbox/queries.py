"""What the console reads of the outbox: the messages of one request, in words, with their
last error masked (a gateway's error may quote the citizen's number or address)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tracker.models import Channel, OutboxMessage, OutboxStatus
from tracker.status import LABELS, N_, Status
from tracker.web.formatters import mask_contacts

CHANNELS = {
    Channel.WHATSAPP: N_("WhatsApp"),
    Channel.SMS: N_("SMS"),
    Channel.EMAIL: N_("E-mail"),
    Channel.WEBHOOK: N_("Webhook"),
}
STATES = {
    OutboxStatus.HELD: N_("Held until the announcement"),
    OutboxStatus.PENDING: N_("Waiting to be sent"),
    OutboxStatus.SENDING: N_("Sending"),
    OutboxStatus.SENT: N_("Sent"),
    OutboxStatus.DEAD: N_("Failed, given up"),
    OutboxStatus.CANCELLED: N_("Cancelled"),
}
EVENTS = {
    "reminder_closing": N_("Reminder: the pickup window is closing"),
    "reminder_waiting": N_("Reminder: the document is waiting"),
    "window_moved": N_("The pickup window is longer: the point closes a day"),
    "reply": N_("Reply to the citizen"),
    "webhook": N_("Delivery to the office's system"),
}


@dataclass(frozen=True)
class MessageLine:
    """One message as the request page shows it; the words are still to be translated."""

    event: str
    channel: str
    state: str
    attempts: int
    queued_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str  # masked


def of_request(session: Session, request_id: int) -> list[MessageLine]:
    """Every message of the request, oldest first."""
    found = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.request_id == request_id)
        .order_by(OutboxMessage.id)
    )
    return [
        MessageLine(
            event=event_words(m.event),
            channel=CHANNELS.get(m.channel, m.channel.value),
            state=STATES[m.status],
            attempts=m.attempts,
            queued_at=m.created_at,
            sent_at=m.sent_at,
            last_error=mask_contacts(m.last_error or ""),
        )
        for m in found
    ]


def event_words(event: str) -> str:
    """What a message is about: the status it tells of, or its kind's words."""
    if event in EVENTS:
        return EVENTS[event]
    try:
        return LABELS[Status(event)]
    except (KeyError, ValueError):
        return event


def dead_by_channel() -> Select[tuple[Channel, int]]:
    """The dead messages per channel (the caller limits it to the offices it shows)."""
    return (
        select(OutboxMessage.channel, func.count())
        .where(OutboxMessage.status == OutboxStatus.DEAD)
        .group_by(OutboxMessage.channel)
    )
