"""The events an office's subscriptions are told of, and the body each delivery carries.

``status_changed`` and ``announcement_published`` return one ``Delivery`` per active
subscription of the office that wants the event; the outbox writes them in the transaction
of the change (``tracker.outbox.operations.queue_webhooks``). A body is fixed then, as JSON:
``{"type", "timestamp", "data"}``. It carries what the public or the office's own bridge may
see (the receipt, as the API's list of changes gives it; pickup numbers and masked names, as
the public announcement shows them) and never personal data: no NIK, phone, full name,
address or staff note.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import (
    Announcement,
    Office,
    PickupPoint,
    Request,
    Service,
    WebhookEvent,
    WebhookSubscription,
)
from tracker.status import Status


@dataclass(frozen=True)
class Delivery:
    """One event for one subscription: where it goes, its key (the ``webhook-id``) and body."""

    subscription_id: int
    office_id: int
    url: str
    key: str
    body: str


@dataclass(frozen=True)
class Item:
    """A document in an announcement, as the public announcement shows it."""

    pickup_number: str
    masked_name: str
    service_id: int
    window_starts: dt.datetime
    window_ends: dt.datetime


def wanting(session: Session, office_id: int, event: WebhookEvent) -> list[WebhookSubscription]:
    """The office's active subscriptions to ``event`` (an indexed read of a few rows)."""
    found = session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.office_id == office_id, WebhookSubscription.active.is_(True))
        .order_by(WebhookSubscription.id)
    )
    return [subscription for subscription in found if subscription.wants(event)]


def status_changed(
    session: Session,
    request: Request,
    *,
    previous: Status | None,
    public_note: str,
    at: dt.datetime,
) -> list[Delivery]:
    """A request's move, just recorded and not yet flushed: its version is the one the
    flush will give it."""
    event = WebhookEvent.STATUS_CHANGED
    with session.no_autoflush:
        subscribers = wanting(session, request.office_id, event)
        if not subscribers:
            return []
        office = session.get(Office, request.office_id)
    version = (request.version or 0) + 1  # the version_id_col moves at the flush
    data = {
        "receipt": request.receipt,
        "office": office.code if office is not None else None,
        "status": Status(request.status).value,
        "previous_status": previous.value if previous is not None else None,
        "version": version,
        "time": _iso(at),
        "public_note": public_note.strip(),
    }
    body = _body(event, at, data)
    return [
        Delivery(s.id, s.office_id, s.url, f"msg_{s.id}_r{request.id}_v{version}", body)
        for s in subscribers
    ]


# The documents one ``announcement.published`` delivery carries at most (about 75 KB of
# JSON): a morning digest lists everything that waits at a point, thousands at a busy one, and
# a receiver behind a proxy's usual limit of a megabyte would refuse a body of them all.
ITEMS_PER_DELIVERY = 500


def announcement_published(
    session: Session,
    announcement: Announcement,
    items: Sequence[Item],
    per_delivery: int = ITEMS_PER_DELIVERY,
) -> list[Delivery]:
    """An announcement just published at a point: its point, time, count and documents, in
    parts of at most ``per_delivery`` documents, each its own delivery (``part``: its number
    and how many; the first keeps the announcement's own ``webhook-id``)."""
    event = WebhookEvent.ANNOUNCEMENT_PUBLISHED
    point = session.get(PickupPoint, announcement.point_id)
    assert point is not None
    subscribers = wanting(session, point.office_id, event)
    if not subscribers:
        return []
    wanted = {item.service_id for item in items}
    rows = session.execute(select(Service.id, Service.code).where(Service.id.in_(wanted)))
    codes = {service_id: code for service_id, code in rows}
    parts = [
        items[start : start + per_delivery] for start in range(0, len(items), per_delivery)
    ] or [items]
    deliveries = []
    for number, part in enumerate(parts, start=1):
        data = {
            "announcement": announcement.id,
            "kind": announcement.kind.value,
            "point": {"code": point.code, "name": point.name},
            "published_at": _iso(announcement.published_at),
            "count": len(items),
            "part": {"number": number, "of": len(parts)},
            "items": [
                {
                    "pickup_number": item.pickup_number,
                    "name": item.masked_name,
                    "service": codes.get(item.service_id),
                    "window": {"starts": _iso(item.window_starts), "ends": _iso(item.window_ends)},
                }
                for item in part
            ],
        }
        body = _body(event, announcement.published_at, data)
        key = f"a{announcement.id}" if number == 1 else f"a{announcement.id}_p{number}"
        deliveries += [
            Delivery(s.id, s.office_id, s.url, f"msg_{s.id}_{key}", body) for s in subscribers
        ]
    return deliveries


def _body(event: WebhookEvent, at: dt.datetime, data: dict[str, Any]) -> str:
    payload = {"type": event.value, "timestamp": _iso(at), "data": data}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
