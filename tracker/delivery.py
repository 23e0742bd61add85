"""The dispatcher: sends the outbox through Apprise, one message per transaction.

Rows are claimed first (``sending``, with the time), and each message's outcome is
committed on its own, so a dispatcher killed mid-batch loses nothing: a claim older than
``NOTIFY_CLAIM_SECONDS`` is taken up again, and at most the message that was in flight is
sent a second time, with the same idempotency key. A failed send is retried with capped
exponential backoff and jitter, then given up as ``dead``. SMS and WhatsApp keep quiet
hours (21.00 to 07.00 office time): such messages wait for the morning.

Channel addresses are Apprise URLs from configuration, with ``{to}`` for the recipient and
``{key}`` for the idempotency key, e.g. ``json://gateway.example/sms?:to={to}&+Idempotency-Key={key}``.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections import Counter
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import apprise
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from tracker import notify
from tracker.models import Channel, OutboxMessage, OutboxStatus, Request, utcnow

log = logging.getLogger(__name__)
CHANNEL_SETTINGS = {
    Channel.WHATSAPP: "NOTIFY_WHATSAPP_URL",
    Channel.SMS: "NOTIFY_SMS_URL",
    Channel.EMAIL: "NOTIFY_EMAIL_URL",
}
QUIET_CHANNELS = (Channel.SMS, Channel.WHATSAPP)
QUIET_FROM, QUIET_UNTIL = dt.time(21, 0), dt.time(7, 0)


def claim(session: Session, now: dt.datetime, limit: int, lease_seconds: int) -> list[int]:
    """Take up to ``limit`` messages that are due (or whose claim went stale) and commit."""
    stale = now - dt.timedelta(seconds=lease_seconds)
    query = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    OutboxMessage.next_attempt_at <= now,
                ),
                and_(
                    OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < stale
                ),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=OutboxStatus.SENDING, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    return ids


def dispatch(session: Session, config: dict[str, Any], now: dt.datetime | None = None) -> Counter:
    """Send what is due; returns how many messages ended in each state."""
    now = now or utcnow()
    tally: Counter = Counter()
    ids = claim(session, now, config["NOTIFY_BATCH"], config["NOTIFY_CLAIM_SECONDS"])
    for message_id in ids:
        message = session.get(OutboxMessage, message_id, populate_existing=True)
        if message is None or message.status != OutboxStatus.SENDING:
            continue
        tally[send_one(session, message, config, now)] += 1
        session.commit()
    return tally


def send_one(
    session: Session, message: OutboxMessage, config: dict[str, Any], now: dt.datetime
) -> str:
    """Send one claimed message and record the outcome (the caller commits)."""
    request = session.get(Request, message.request_id)
    assert request is not None
    if not request.consent_notify or request.anonymised_at is not None:
        message.status = OutboxStatus.CANCELLED
        return "cancelled"
    zone = ZoneInfo(request.office.timezone)
    if message.channel in QUIET_CHANNELS and is_quiet(now.astimezone(zone).time()):
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = morning_after(now, zone)
        return "quiet"
    message.subject, message.body = notify.render(request, message.event, message.channel)
    error = _send(message, config)
    if error is None:
        message.status = OutboxStatus.SENT
        message.sent_at = now
        message.last_error = ""
        return "sent"
    message.attempts += 1
    message.last_error = error[:500]
    if message.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.DEAD
        log.warning("message %s is dead after %s attempts: %s", message.id, message.attempts, error)
        return "dead"
    message.status = OutboxStatus.PENDING
    message.next_attempt_at = now + backoff(
        message.attempts, config["NOTIFY_BACKOFF_SECONDS"], config["NOTIFY_BACKOFF_CAP_SECONDS"]
    )
    return "retry"


def _send(message: OutboxMessage, config: dict[str, Any]) -> str | None:
    """None when the provider took the message, else why not."""
    template = config.get(CHANNEL_SETTINGS[message.channel])
    if not template:
        return f"no address is configured for {message.channel.value}"
    url = template.format(
        to=quote(message.recipient, safe="@+"), key=quote(message.idempotency_key)
    )
    sender = apprise.Apprise()
    if not sender.add(url):
        return f"the {message.channel.value} address is not a valid Apprise URL"
    try:
        taken = sender.notify(
            body=message.body, title=message.subject, body_format=apprise.NotifyFormat.TEXT
        )
    except Exception as error:  # noqa: BLE001 - a provider's library failing is a failed send
        return f"{error.__class__.__name__}: {error}"
    return None if taken else f"the {message.channel.value} provider did not accept the message"


def backoff(attempts: int, base: int, cap: int) -> dt.timedelta:
    """``base · 2^(attempts-1)`` seconds, at most ``cap``, with jitter down to half of it."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=delay * random.uniform(0.5, 1.0))


def is_quiet(clock: dt.time) -> bool:
    return clock >= QUIET_FROM or clock < QUIET_UNTIL


def morning_after(now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """07.00 office time at the end of the quiet hours ``now`` falls in."""
    there = now.astimezone(zone)
    day = there.date() if there.time() < QUIET_UNTIL else there.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, QUIET_UNTIL, zone).astimezone(dt.UTC)
