"""An office's webhook subscriptions: add one (its signing secret shown once), rotate its
secret, remove it; and the office's subscriptions an event goes to.

A secret is ``whsec_`` and the base64 of 32 random bytes, the form of the Standard Webhooks
specification; it is shown once and stored sealed (``tracker.webhooks.sealing``). A rotation
keeps the previous secret signing, beside the new one, for ``OVERLAP`` (a day), so that a
receiver can change its setting at its own pace.

These are operations: they take the session, ``now`` and the ``Actor``, flush only, and
write the audit row of what they did.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.errors import WebhookError
from tracker.models import Office, OutboxMessage, WebhookEvent, WebhookSubscription
from tracker.outbox import operations as outbox
from tracker.webhooks.sealing import CLEAR_PREFIX, Keyring, SecretUnreadable

PREFIX = CLEAR_PREFIX  # the Standard Webhooks form
SECRET_BYTES = 32
OVERLAP = dt.timedelta(days=1)  # the previous secret still signs this long after a rotation
LONGEST_URL = 200
KNOWN = [event.value for event in WebhookEvent]


def make_secret() -> str:
    """A new signing secret: ``whsec_`` and base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_url(url: str) -> str:
    """The URL, stripped, if it is http(s) with a host and fits; else ``WebhookError``."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        fits = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an IPv6 host that does not parse
        fits = False
    if not fits or len(url) > LONGEST_URL or any(c.isspace() for c in url):
        raise WebhookError(reason="url", url=url[:LONGEST_URL])
    return url


def check_events(names: Iterable[str]) -> list[WebhookEvent]:
    """The events named, in ``WebhookEvent`` order, each once; unknown ones or none refused."""
    wanted = {name.strip() for name in names if name.strip()}
    unknown = sorted(wanted - set(KNOWN))
    if unknown or not wanted:
        raise WebhookError(reason="events", unknown=unknown, known=KNOWN)
    return [event for event in WebhookEvent if event.value in wanted]


def find_office(session: Session, code: str) -> Office:
    office = session.scalars(select(Office).where(Office.code == code.strip())).first()
    if office is None:
        raise WebhookError(reason="office", office=code)
    return office


def find(session: Session, subscription_id: int) -> WebhookSubscription:
    """The subscription with this number, removed or not; ``WebhookError`` when none."""
    found = session.get(WebhookSubscription, subscription_id)
    if found is None:
        raise WebhookError(reason="unknown", id=subscription_id)
    return found


def listed(session: Session, office_ids: Iterable[int] | None = None) -> list[WebhookSubscription]:
    """The active subscriptions, of these offices (every office when None), newest last."""
    query = select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    if office_ids is not None:
        query = query.where(WebhookSubscription.office_id.in_(list(office_ids)))
    return list(session.scalars(query.order_by(WebhookSubscription.id)))


def add(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    *,
    office: Office,
    url: str,
    events: Iterable[str],
    ring: Keyring,
) -> tuple[WebhookSubscription, str]:
    """Subscribe ``url`` to the office's ``events``; the secret is returned (to be shown
    once) and stored sealed by ``ring``."""
    url = check_url(url)
    chosen = check_events(events)
    secret = make_secret()
    subscription = WebhookSubscription(
        office_id=office.id, url=url, events=",".join(e.value for e in chosen),
        secret=ring.seal(secret), active=True, created_by=actor.name, created_at=now,
    )  # fmt: skip
    session.add(subscription)
    session.flush()
    audit.record(
        session, "webhook_added", actor=actor, at=now, target=str(subscription.id),
        office=office.code, url=url, events=[e.value for e in chosen],
    )  # fmt: skip
    return subscription, secret


def rotate(
    session: Session,
    now: dt.datetime,
    actor: Actor,
    subscription: WebhookSubscription,
    *,
    ring: Keyring,
) -> str:
    """A new secret, returned (to be shown once) and stored sealed by ``ring``; the previous
    one signs too for a day."""
    _still_active(subscription)
    secret = make_secret()
    try:  # one that no key opens any more cannot sign beside the new one
        ring.open(subscription.secret)
        previous: str | None = subscription.secret
    except SecretUnreadable:
        previous = None
    until = now + OVERLAP if previous else None
    subscription.previous_secret, subscription.previous_until = previous, until
    subscription.secret = ring.seal(secret)
    audit.record(
        session, "webhook_rotated", actor=actor, at=now, target=str(subscription.id),
        previous_until=until.isoformat() if until else None,
    )  # fmt: skip
    return secret


def remove(
    session: Session, now: dt.datetime, actor: Actor, subscription: WebhookSubscription
) -> int:
    """No more deliveries to the subscription: it is switched off, its secrets dropped, and
    the deliveries still waiting are cancelled. How many were cancelled."""
    _still_active(subscription)
    subscription.active = False
    subscription.removed_at = now
    subscription.secret = ""
    subscription.previous_secret, subscription.previous_until = None, None
    waiting = select(OutboxMessage.id).where(OutboxMessage.webhook_id == subscription.id)
    cancelled = outbox.cancel(session, waiting)
    audit.record(
        session, "webhook_removed", actor=actor, at=now, target=str(subscription.id),
        url=subscription.url, cancelled=cancelled,
    )  # fmt: skip
    return cancelled


def _still_active(subscription: WebhookSubscription) -> None:
    if not subscription.active:
        raise WebhookError(reason="removed", id=subscription.id)


@dataclass
class Resealed:
    """What ``reseal`` did: secrets sealed (clear ones and those under an older key), secrets
    already sealed by the first key, and secrets no key opens (left as they are)."""

    sealed: int = 0
    current: int = 0
    unreadable: list[int] = field(default_factory=list)


def reseal(session: Session, now: dt.datetime, actor: Actor, ring: Keyring) -> Resealed:
    """Seal every active subscription's secrets by the first key of ``ring``: those stored
    in the clear before sealing existed, and those sealed by a key now among the fallbacks
    (after a rotation of ``WEBHOOK_SECRET_KEY``, so that the old key can be dropped).

    Each value is written only where it is still the one read (compare and set), so that a
    rotation committed meanwhile on a web host is never overwritten by the secret before it;
    two runs at once write the same values (AES-SIV seals a secret the same way each time)."""
    done = Resealed()
    for subscription in listed(session):
        stored = {name: getattr(subscription, name) for name in ("secret", "previous_secret")}
        try:
            fresh = {name: _resealed(ring, value) for name, value in stored.items() if value}
        except SecretUnreadable:
            done.unreadable.append(subscription.id)
            continue
        for name, value in fresh.items():
            if value == stored[name]:
                done.current += 1
                continue
            column = getattr(WebhookSubscription, name)
            written = session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == subscription.id, column == stored[name])
                .values({name: value})
                .execution_options(synchronize_session=False)
            )
            done.sealed += written.rowcount
    if done.sealed or done.unreadable:
        audit.record(
            session, "webhook_resealed", actor=actor, at=now, target="webhooks",
            sealed=done.sealed, unreadable=done.unreadable,
        )  # fmt: skip
    return done


def _resealed(ring: Keyring, stored: str) -> str:
    """The stored value as sealed by the first key (itself when it is already)."""
    return stored if ring.is_current(stored) else ring.seal(ring.open(stored))
