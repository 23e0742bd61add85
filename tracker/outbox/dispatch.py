"""The dispatcher: sends the outbox through Apprise, one message per transaction.

Rows are claimed first (``sending``, with the time), and each message's outcome is
committed on its own, so a dispatcher killed mid-batch loses nothing: a claim older than
``NOTIFY_CLAIM_SECONDS`` is taken up again, and at most the message that was in flight is
sent a second time, with the same idempotency key. A failed send is retried with capped
exponential backoff and jitter, then given up as ``dead``. SMS and WhatsApp keep quiet
hours (``NOTIFY_QUIET_HOURS``, 21.00 to 07.00 by default, in each office's own time zone):
such messages wait for the end of them. What applies to a message follows its kind
(``tracker.outbox.kinds``): a reply or a webhook delivery needs no consent and keeps no
quiet hours, and is sent with the text it was queued with. A webhook delivery is an HTTP
POST of its JSON body, signed per Standard Webhooks (``tracker.webhooks.delivery``), to its
subscription's URL; a 4xx other than 408 and 429 is given up at once. On WhatsApp, a message
about a request goes outside the 24-hour window, so as an approved template with its
parameters (``tracker.outbox.whatsapp``, ``WHATSAPP_TEMPLATES``); a reply goes as text. Every
change of a message is one of the moves of ``tracker.outbox.operations``.

Channel addresses are Apprise URLs from configuration, with ``{to}`` for the recipient and
``{key}`` for the idempotency key, e.g. ``json://gateway.example/sms?:to={to}&+Idempotency-Key={key}``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import apprise
from sqlalchemy.orm import Session

from tracker.config import QuietHours
from tracker.db import unit_of_work
from tracker.models import (
    Channel,
    Office,
    OutboxMessage,
    OutboxStatus,
    Request,
    WebhookSubscription,
)
from tracker.outbox import operations as outbox
from tracker.outbox import texts, whatsapp
from tracker.outbox.kinds import KINDS, Kind
from tracker.webhooks import delivery as webhook_delivery
from tracker.webhooks import sealing

DEAD, SENDING = OutboxStatus.DEAD, OutboxStatus.SENDING
log = logging.getLogger(__name__)
CHANNEL_SETTINGS = {
    Channel.WHATSAPP: "NOTIFY_WHATSAPP_URL",
    Channel.SMS: "NOTIFY_SMS_URL",
    Channel.EMAIL: "NOTIFY_EMAIL_URL",
}
QUIET_CHANNELS = (Channel.SMS, Channel.WHATSAPP)


def dispatch(config: Mapping[str, Any], now: dt.datetime) -> Counter:
    """Send what is due at ``now``: the claim in one unit of work, then each message in one
    of its own; returns how many messages ended in each state."""
    tally: Counter = Counter()
    with unit_of_work() as session:
        ids = outbox.claim(
            session,
            now=now,
            limit=config["NOTIFY_BATCH"],
            lease_seconds=config["NOTIFY_CLAIM_SECONDS"],
        )
    for message_id in ids:
        with unit_of_work() as session:
            message = session.get(OutboxMessage, message_id)
            if message is None or message.status != SENDING:
                continue
            tally[send_one(session, message, config, now)] += 1
    return tally


def send_one(
    session: Session, message: OutboxMessage, config: Mapping[str, Any], now: dt.datetime
) -> str:
    """Send one claimed message and record the outcome (the caller's unit commits it)."""
    if message.channel == Channel.WEBHOOK:
        return _send_webhook(session, message, config, now)
    kind = KINDS[message.event]
    request = session.get(Request, message.request_id) if message.request_id else None
    if kind.consent and not _agrees(request):
        outbox.cancel(session, [message.id])
        return "cancelled"
    until = _end_of_quiet_hours(session, message, config, now) if kind.quiet else None
    if until is not None:
        outbox.release(session, [message.id], now=now, at=until)
        return "quiet"
    text = _text(message, request, kind, config)
    error = _send(message, text, config, request if kind.rendered else None)
    if error is None:
        outbox.sent(session, message, now=now, text=text)
        return "sent"
    return _failed(session, message, error, config, now, text=text)


def _failed(
    session: Session,
    message: OutboxMessage,
    error: str,
    config: Mapping[str, Any],
    now: dt.datetime,
    *,
    text: texts.Text | None = None,
    final: bool = False,
) -> str:
    """Record a failed attempt: due again after a backoff, or dead (at once when ``final``)."""
    retries = outbox.Retries.from_config(config)
    if final:
        retries = replace(retries, attempts=0)
    if outbox.failed(session, message, error, now=now, retries=retries, text=text) == DEAD:
        log.warning("message %s is dead after %s attempts: %s", message.id, message.attempts, error)
        return "dead"
    return "retry"


def _send_webhook(
    session: Session, message: OutboxMessage, config: Mapping[str, Any], now: dt.datetime
) -> str:
    """POST a webhook delivery, signed with the secrets its subscription has at ``now``; a
    delivery to a subscription removed since it was queued is cancelled."""
    found = session.get(WebhookSubscription, message.webhook_id) if message.webhook_id else None
    if found is None or not found.active:
        outbox.cancel(session, [message.id])
        return "cancelled"
    try:
        signing = [sealing.keyring(config).open(stored) for stored in found.secrets_at(now)]
    except sealing.SecretUnreadable as error:
        log.error("webhook %s: %s", found.id, error)
        return _failed(session, message, str(error), config, now)
    outcome = webhook_delivery.post(
        found.url, message.idempotency_key, message.body, signing, now=now,
        timeout=config["WEBHOOK_TIMEOUT_SECONDS"],
    )  # fmt: skip
    if outcome.error is None:
        outbox.sent(session, message, now=now)
        found.last_delivery_at = now
        return "sent"
    return _failed(session, message, outcome.error, config, now, final=outcome.final)


def _agrees(request: Request | None) -> bool:
    """The citizen still agrees to messages about the request, and it was not anonymised."""
    return request is not None and request.consent_notify and request.anonymised_at is None


def _end_of_quiet_hours(
    session: Session, message: OutboxMessage, config: Mapping[str, Any], now: dt.datetime
) -> dt.datetime | None:
    """When an SMS or WhatsApp message may go, if ``now`` is in the quiet hours of its
    office's time zone; None when it may go now."""
    quiet = QuietHours.parse(config["NOTIFY_QUIET_HOURS"])
    if quiet is None or message.channel not in QUIET_CHANNELS:
        return None
    office = session.get(Office, message.office_id)
    assert office is not None
    zone = ZoneInfo(office.timezone)
    return quiet.end_after(now, zone) if quiet.covers(now.astimezone(zone).time()) else None


def _text(
    message: OutboxMessage, request: Request | None, kind: Kind, config: Mapping[str, Any]
) -> texts.Text:
    """The text to send: rendered now for a message about a request, else as it was queued."""
    if not kind.rendered:
        return texts.Text(message.subject, message.body)
    assert request is not None
    return texts.render(request, message.event, message.channel, base_url=config["PUBLIC_BASE_URL"])


def _send(
    message: OutboxMessage, text: texts.Text, config: Mapping[str, Any], about: Request | None
) -> str | None:
    """None when the provider took the message, else why not. A WhatsApp message ``about``
    a request goes as its approved template (``tracker.outbox.whatsapp``); a reply as text."""
    template = config.get(CHANNEL_SETTINGS[message.channel])
    if not template:
        return f"no address is configured for {message.channel.value}"
    url = template.format(
        to=quote(message.recipient, safe="@+"), key=quote(message.idempotency_key)
    )
    if message.channel == Channel.WHATSAPP and about is not None:
        url = whatsapp.service(url, about, message.event, config)
        if url is None:
            return f"no WhatsApp template is set for {message.event} ({texts.language_of(about)})"
    sender = apprise.Apprise()
    if not sender.add(url if isinstance(url, str) else apprise.Apprise.instantiate(url)):
        return f"the {message.channel.value} address is not a valid Apprise URL"
    try:
        taken = sender.notify(
            body=text.body, title=text.subject, body_format=apprise.NotifyFormat.TEXT
        )
    except Exception as error:  # noqa: BLE001 - a provider's library failing is a failed send
        return f"{error.__class__.__name__}: {error}"
    return None if taken else f"the {message.channel.value} provider did not accept the message"
