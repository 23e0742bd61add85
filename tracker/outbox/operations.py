"""The outbox: messages to citizens and deliveries to offices' webhooks, and the only
functions that change one.

``TRANSITIONS`` says which states each move may start from and end in; ``queue``,
``queue_text`` (and ``queue_webhooks``, through it), ``release``, ``claim``, ``sent``,
``failed``, ``retry`` (and ``retry_all``), ``cancel`` and ``scrub`` make the moves, and
nothing else sets a message's state. A function that takes one message raises
``MessageMoveRefused`` for a move the table does not allow; one that takes many issues a
single UPDATE whose WHERE allows exactly the table's source states, so the rows it may not
move stay as they are. Like every operation they never commit: the caller's unit of work
does.

``queue`` writes one row per request, event and channel the citizen agreed to, in the
transaction of the change that causes it; the key ``request:event:version:channel`` makes a
second write of the same message a no-op. A *ready* message is held until the announce job
publishes the document (``release``), so that the message and the public announcement say
the same thing at the same time. ``queue_text`` writes a message that belongs to no request
(a reply, a webhook delivery: ``tracker.outbox.kinds``), with its text fixed then.

The dispatcher claims due messages and records what became of each: ``sent``; ``failed``
(due again after a backoff, or given up as *dead*); ``release`` with a later ``at`` (quiet
hours: the claim is handed back unsent, no attempt counted); or ``cancel`` (the citizen no
longer agrees). Texts about a request are rendered when sent (``tracker.outbox.texts``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import MessageMoveRefused
from tracker.models import Channel, OutboxMessage, OutboxStatus, Request
from tracker.outbox.kinds import KINDS
from tracker.outbox.texts import Text
from tracker.status import ENDED, Status
from tracker.webhooks import events as webhook_events
from tracker.webhooks.events import Delivery

HELD, PENDING, SENDING = OutboxStatus.HELD, OutboxStatus.PENDING, OutboxStatus.SENDING
SENT, DEAD, CANCELLED = OutboxStatus.SENT, OutboxStatus.DEAD, OutboxStatus.CANCELLED
Ids = Collection[int] | Select[tuple[int]]


@dataclass(frozen=True)
class Move:
    """A move of a message: the states it may start from, and those it may end in."""

    sources: frozenset[OutboxStatus]
    targets: frozenset[OutboxStatus]


def _move(sources: Collection[OutboxStatus], targets: Collection[OutboxStatus]) -> Move:
    return Move(frozenset(sources), frozenset(targets))


# The outbox's transition table, one row per function. A claimed message (``sending``) is the
# dispatcher's: only the dispatcher's own outcomes, a stale claim taken up again, a cancel
# and retention touch it. ``sent`` and ``cancelled`` are final; ``dead`` waits for a person.
TRANSITIONS: dict[str, Move] = {
    "queue": _move((), (HELD, PENDING)),  # a new message (queue, queue_text)
    "release": _move((HELD, SENDING), (PENDING,)),  # announced; or a claim handed back
    "claim": _move((PENDING, SENDING), (SENDING,)),  # due; or a claim gone stale
    "sent": _move((SENDING,), (SENT,)),
    "failed": _move((SENDING,), (PENDING, DEAD)),  # tried again after a backoff, or given up
    "retry": _move((DEAD,), (PENDING,)),  # a supervisor sends it again
    "cancel": _move((HELD, PENDING, SENDING), (CANCELLED,)),  # opted out, moved on
    "scrub": _move(tuple(OutboxStatus), ()),  # retention: its texts go, its state stays
}

STATUS_EVENTS = {
    Status.READY: "ready",
    Status.NEEDS_FIX: "needs_fix",
    Status.REJECTED: "rejected",
    Status.RETURNED: "returned",
}
EVENTS = tuple(name for name, kind in KINDS.items() if kind.rendered)  # about a request


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
    if not KINDS[event].rendered:
        raise ValueError(f"a {event!r} message has its own text: queue it with queue_text()")
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
            status=HELD if held else PENDING,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


def has_key(session: Session, key: str) -> bool:
    """Whether a message with this idempotency key has been written."""
    found = session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    return found is not None


def queue_text(
    session: Session,
    *,
    kind: str,
    channel: Channel,
    recipient: str,
    body: str,
    subject: str = "",
    office_id: int,
    key: str,
    now: dt.datetime,
    webhook_id: int | None = None,
) -> bool:
    """Write a message that belongs to no request, with its text fixed now (a reply to a
    citizen's question, a webhook delivery to the subscription ``webhook_id``), due at
    ``now``. False, and nothing written, when a message already has ``key``: the same answer
    queued twice is sent once."""
    if KINDS[kind].consent or KINDS[kind].rendered:
        raise ValueError(f"a {kind!r} message is about a request: queue it with queue()")
    if has_key(session, key):
        return False
    session.add(
        OutboxMessage(
            request_id=None,
            office_id=office_id,
            event=kind,
            channel=channel,
            idempotency_key=key,
            recipient=recipient,
            subject=subject,
            body=body,
            status=PENDING,
            next_attempt_at=now,
            created_at=now,
            webhook_id=webhook_id,
        )
    )
    return True


def queue_webhooks(session: Session, deliveries: Iterable[Delivery], *, now: dt.datetime) -> int:
    """Write one ``webhook`` message per delivery, in the transaction of the change it tells
    of; its key is the delivery's ``webhook-id``. How many were written."""
    written = 0
    for delivery in deliveries:
        written += queue_text(
            session, kind="webhook", channel=Channel.WEBHOOK, recipient=delivery.url,
            body=delivery.body, office_id=delivery.office_id, key=delivery.key, now=now,
            webhook_id=delivery.subscription_id,
        )  # fmt: skip
    return written


def held(request_ids: Collection[int]) -> Select[tuple[int]]:
    """The held messages of these requests (announce releases them)."""
    return select(OutboxMessage.id).where(
        OutboxMessage.request_id.in_(request_ids), OutboxMessage.status == HELD
    )


def of_requests(
    request_ids: Collection[int], *, besides: Collection[str] = ()
) -> Select[tuple[int]]:
    """The messages of these requests, but those about the events ``besides``."""
    query = select(OutboxMessage.id).where(OutboxMessage.request_id.in_(request_ids))
    return query.where(OutboxMessage.event.not_in(besides)) if besides else query


def release(session: Session, ids: Ids, *, now: dt.datetime, at: dt.datetime | None = None) -> int:
    """Held or claimed messages among ``ids`` become due at ``at`` (``now`` when not given):
    announce releases the held *ready* messages of what it published; the dispatcher hands
    back a claim in quiet hours, without counting an attempt. How many moved."""
    return _bulk(session, "release", ids, status=PENDING, next_attempt_at=at or now)


def claim(session: Session, *, now: dt.datetime, limit: int, lease_seconds: int) -> list[int]:
    """Take up to ``limit`` messages that are due (or whose claim went stale), in the caller's
    unit of work, which commits the claim before anything is sent."""
    stale = now - dt.timedelta(seconds=lease_seconds)
    query = (
        select(OutboxMessage.id)
        .where(
            or_(
                and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
                and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_at < stale),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        _bulk(session, "claim", ids, status=SENDING, claimed_at=now)
    return ids


def sent(
    session: Session, message: OutboxMessage, *, now: dt.datetime, text: Text | None = None
) -> None:
    """The provider took the claimed message; ``text`` is what it was sent with."""
    _change(message, "sent", SENT)
    _record_text(message, text)
    message.sent_at = now
    message.last_error = ""


@dataclass(frozen=True)
class Retries:
    """How often a message is tried, and how long it waits between tries: ``base · 2^(n-1)``
    seconds after the n-th failure, at most ``cap``, with jitter down to half of it."""

    attempts: int
    base_seconds: int
    cap_seconds: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Retries:
        return cls(
            config["NOTIFY_MAX_ATTEMPTS"],
            config["NOTIFY_BACKOFF_SECONDS"],
            config["NOTIFY_BACKOFF_CAP_SECONDS"],
        )


def failed(
    session: Session,
    message: OutboxMessage,
    error: str,
    *,
    now: dt.datetime,
    retries: Retries,
    text: Text | None = None,
) -> OutboxStatus:
    """The claimed message could not be sent: it is due again after a backoff, or *dead*
    after its last attempt, where supervisors see it. The state it is left in."""
    attempts = message.attempts + 1
    to = DEAD if attempts >= retries.attempts else PENDING
    _change(message, "failed", to)
    _record_text(message, text)
    message.attempts = attempts
    message.last_error = error[:500]
    if to == PENDING:
        message.next_attempt_at = now + backoff(attempts, retries.base_seconds, retries.cap_seconds)
    return to


def backoff(attempts: int, base: int, cap: int) -> dt.timedelta:
    """``base · 2^(attempts-1)`` seconds, at most ``cap``, with jitter down to half of it."""
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return dt.timedelta(seconds=delay * random.uniform(0.5, 1.0))


def retry(session: Session, message: OutboxMessage, *, now: dt.datetime) -> None:
    """A supervisor sends a dead message again, from its first attempt, at once."""
    _change(message, "retry", PENDING)
    message.attempts = 0
    message.next_attempt_at = now


def retry_all(session: Session, ids: Ids, *, now: dt.datetime) -> int:
    """The dead messages among ``ids`` are sent again, each from its first attempt, at once
    (one UPDATE; others are left as they are). How many."""
    return _bulk(session, "retry", ids, status=PENDING, attempts=0, next_attempt_at=now)


def worth_sending_again(*columns: Any) -> Select[Any]:
    """The dead messages that ``retry_all`` may send again without asking about each (their
    ids, or ``columns``): every delivery to an office's system (it tells of an event that
    happened, and a receiver drops a repeat by its id), and every message about a request
    that has not moved since it was queued and was not anonymised (a "ready" message to a
    citizen who has collected the document since would mislead). Not a reply to a citizen's
    own question: it answered with the status of that moment. Those stay dead, to be sent
    one by one if still wanted. The caller limits it to a channel and to the offices it may
    touch (``retry_channel`` does both)."""
    about_a_request = and_(
        OutboxMessage.request_id.is_not(None),
        OutboxMessage.channel != Channel.WEBHOOK,
        Request.anonymised_at.is_(None),
        Request.updated_at <= OutboxMessage.created_at,
    )
    return (
        select(*(columns or (OutboxMessage.id,)))
        .outerjoin(Request, Request.id == OutboxMessage.request_id)
        .where(
            OutboxMessage.status == OutboxStatus.DEAD,
            or_(OutboxMessage.channel == Channel.WEBHOOK, about_a_request),
        )
    )


def retry_channel(
    session: Session,
    channel: Channel,
    *,
    now: dt.datetime,
    actor: Actor,
    within: Callable[[Select[Any]], Select[Any]] | None = None,
    office: object = None,
) -> tuple[int, int]:
    """After a provider's outage: the channel's dead messages still worth sending go again
    at once (``retry_all``), among the messages ``within`` keeps (a console's scope, an
    office; every office when None), audited as one row (``office``: what was chosen). How
    many went again, and how many of the channel's dead were left as they were."""
    keep = within or (lambda query: query)
    worth = keep(worth_sending_again().where(OutboxMessage.channel == channel))
    dead = keep(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == DEAD, OutboxMessage.channel == channel)
    )
    given_up = session.scalar(dead) or 0
    again = retry_all(session, worth, now=now)
    audit.record(
        session, "messages_retried", actor=actor, at=now, target=channel.value, count=again,
        left=given_up - again, office=office,
    )  # fmt: skip
    return again, given_up - again


def cancel(session: Session, ids: Ids) -> int:
    """The messages among ``ids`` that wait or are claimed will not be sent; sent and dead
    ones stay as they are. How many were cancelled."""
    return _bulk(session, "cancel", ids, status=CANCELLED)


def scrub(session: Session, request_ids: Collection[int]) -> None:
    """Retention: the messages of these requests keep their state and dates, and lose their
    recipient, texts and errors."""
    _bulk(session, "scrub", of_requests(request_ids), recipient="", body="", subject="",
          last_error="")  # fmt: skip


def scrub_replies(session: Session, before: dt.datetime) -> int:
    """Retention: the replies to citizens' own questions (they belong to no request) queued
    before ``before`` and no longer in flight (sent, dead or cancelled) lose the sender's
    number, their texts and errors; their state and dates stay."""
    ids = select(OutboxMessage.id).where(
        OutboxMessage.request_id.is_(None),
        OutboxMessage.event == "reply",
        OutboxMessage.created_at < before,
        OutboxMessage.status.in_((SENT, DEAD, CANCELLED)),
        OutboxMessage.recipient != "",
    )
    return _bulk(session, "scrub", ids, recipient="", body="", subject="", last_error="")


def _change(message: OutboxMessage, name: str, to: OutboxStatus) -> None:
    """Move one message as the table allows, or refuse and change nothing."""
    move = TRANSITIONS[name]
    if message.status not in move.sources or to not in move.targets:
        raise MessageMoveRefused(move=name, current=message.status, to=to, message=message.id)
    message.status = to


def _record_text(message: OutboxMessage, text: Text | None) -> None:
    if text is not None:
        message.subject, message.body = text


def _bulk(session: Session, name: str, ids: Ids, **values: Any) -> int:
    """One UPDATE of the messages among ``ids`` that the table lets make the move ``name``."""
    move = TRANSITIONS[name]
    if "status" in values:
        assert values["status"] in move.targets, (name, values["status"])
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(move.sources))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount  # type: ignore[attr-defined]


def after_transition(
    session: Session,
    request: Request,
    to: Status,
    at: dt.datetime,
    *,
    previous: Status | None = None,
    public_note: str = "",
) -> None:
    """The messages a change of status causes, to the citizen and to the office's webhooks
    (``tracker.requests.operations.move`` calls this; the caller flushes, so nothing here
    may: the cancel is an UPDATE of its own)."""
    with session.no_autoflush:
        _after_transition(session, request, to, at)
        deliveries = webhook_events.status_changed(
            session, request, previous=previous, public_note=public_note, at=at
        )
        queue_webhooks(session, deliveries, now=at)


def _after_transition(session: Session, request: Request, to: Status, at: dt.datetime) -> None:
    event = STATUS_EVENTS.get(to)
    if event is not None:
        queue(session, request, event, now=at, held=to == Status.READY)
    if to in (Status.COLLECTED, Status.DELIVERING, Status.DELIVERED, Status.CANCELLED):
        # A document that moved on makes its waiting messages pointless.
        cancel(session, of_requests([request.id], besides=("needs_fix", "rejected")))


def opt_out(session: Session, receipt: str, *, actor: Actor, now: dt.datetime) -> bool:
    """No more messages for this request; the waiting ones are cancelled (audited). False
    when no request has the number."""
    request = session.scalars(select(Request).where(Request.receipt == receipt)).first()
    if request is None:
        return False
    request.consent_notify = False
    cancel(session, of_requests([request.id]))
    audit.record(session, "messages_stopped", actor=actor, at=now, target=receipt)
    return True


def can_opt_in(request: Request) -> bool:
    """Messages can be turned back on: the request has a channel with an address, it has not
    ended, and its personal data is still there."""
    return (
        request.channel is not None
        and bool(recipient(request))
        and request.status not in ENDED
        and request.anonymised_at is None
    )


def opt_in(session: Session, receipt: str, *, actor: Actor, now: dt.datetime) -> bool:
    """Messages about this request again, by the channel chosen at intake (audited); what
    was cancelled stays cancelled, the next change is told. False, and nothing changed, when
    no request has the number or it cannot have messages (``can_opt_in``)."""
    request = session.scalars(select(Request).where(Request.receipt == receipt)).first()
    if request is None or not can_opt_in(request):
        return False
    if not request.consent_notify:
        request.consent_notify = True
        audit.record(session, "messages_resumed", actor=actor, at=now, target=receipt)
    return True
