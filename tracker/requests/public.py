"""What the public may see of a request, read with a fixed, small number of indexed queries.

Nothing personal leaves this module: the name is masked here, NIK and address are never read,
and of the contact details only what DESIGN §5 lets the citizen's own page name leaves it:
the channel, the last two digits of a phone number, the first letter of an e-mail domain.
The look-up page, the receipt and the JSON API all use ``find``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam, select

from tracker import receipts
from tracker.db import PreparedQuery
from tracker.errors import RequestNotFound
from tracker.models import (
    Channel,
    Closure,
    Office,
    OpeningHours,
    PickupPoint,
    Request,
    Service,
    StatusEvent,
)
from tracker.status import ENDED, Status
from tracker.web.formatters import mask_name


@dataclass(frozen=True)
class Hours:
    weekday: int
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True)
class ClosedDay:
    day: dt.date
    reason: str


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    address: str
    counters: tuple[str, ...]
    hours: tuple[Hours, ...]
    closures: tuple[ClosedDay, ...] = ()  # the next ``UPCOMING_DAYS`` days' closures


@dataclass(frozen=True)
class Messages:
    """Where the citizen's messages go, as much as their own page may say: the channel and
    ``hint``, the last two digits of the number (SMS, WhatsApp) or the first letter of the
    e-mail's domain; ``on`` is False once the citizen stopped them."""

    channel: Channel
    hint: str
    on: bool


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    status: Status
    note: str


@dataclass(frozen=True)
class PublicStatus:
    receipt: str
    status: Status
    masked_name: str
    service_code: str
    service_name_id: str
    service_name_en: str
    bring_id: str
    bring_en: str
    target_days: int
    office_code: str
    office_name: str
    timezone: str
    submitted_at: dt.datetime
    expected_on: dt.date
    timeline: tuple[Step, ...]
    place: Place | None
    window_starts: dt.datetime | None
    window_ends: dt.datetime | None
    pickup_number: str | None
    as_of: dt.datetime  # the instant of the look-up, which "overdue" is judged at
    version: int = 1  # goes up with every change: a calendar entry's SEQUENCE
    language: str = "id"  # the citizen's language, of their messages and calendar entry
    messages: Messages | None = None  # None: no channel, or nothing more will be sent

    def today(self) -> dt.date:
        return self.as_of.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def overdue(self) -> bool:
        """Still open past its expected date, in the office's own time zone."""
        return self.status.is_open and self.today() > self.expected_on


# Built once, with bound parameters: a look-up only binds the receipt number and runs.
_REQUEST_AND_HISTORY = PreparedQuery(
    select(
        Request.status,
        Request.applicant_name,
        Request.created_at,
        Request.expected_on,
        Request.pickup_point_id,
        Request.window_starts,
        Request.window_ends,
        Request.pickup_number,
        Request.version,
        Request.language,
        Request.consent_notify,
        Request.channel,
        Request.phone,
        Request.email,
        Request.anonymised_at,
        Service.code.label("service_code"),
        Service.name_id,
        Service.name_en,
        Service.bring_id,
        Service.bring_en,
        Service.target_days,
        Office.code.label("office_code"),
        Office.name.label("office_name"),
        Office.timezone,
        StatusEvent.at,
        StatusEvent.to_status,
        StatusEvent.public_note,
    )
    .join(Service, Service.id == Request.service_id)
    .join(Office, Office.id == Request.office_id)
    .join(StatusEvent, StatusEvent.request_id == Request.id)
    .where(Request.receipt == bindparam("receipt"))
    .order_by(StatusEvent.id)
)
_EVENT_COLUMNS = frozenset({"at", "to_status", "public_note"})
_PLACE_AND_HOURS = PreparedQuery(
    select(
        PickupPoint.code,
        PickupPoint.name,
        PickupPoint.address,
        PickupPoint.counters,
        OpeningHours.weekday,
        OpeningHours.opens,
        OpeningHours.closes,
    )
    .outerjoin(OpeningHours, OpeningHours.point_id == PickupPoint.id)
    .where(PickupPoint.id == bindparam("point"))
    .order_by(OpeningHours.weekday, OpeningHours.opens)
)
UPCOMING_DAYS = 30  # how far ahead the status page lists the point's closures
_CLOSURES = PreparedQuery(
    select(Closure.day, Closure.reason)
    .where(
        Closure.point_id == bindparam("point"),
        Closure.day >= bindparam("first"),
        Closure.day <= bindparam("last"),
    )
    .order_by(Closure.day)
)


def find(engine: Engine, receipt: str, now: dt.datetime) -> PublicStatus:
    """The public view, as of ``now``, of the request with this (canonical) receipt number: one
    query for the request with its history (one snapshot), one more for its pickup point once
    ready. Not through the ORM session: a look-up only reads rows (see ``PreparedQuery``)."""
    rows = _REQUEST_AND_HISTORY.fetch(engine, receipt=receipt)
    if not rows:
        raise RequestNotFound()
    row = _REQUEST_AND_HISTORY.convert(engine, rows[0])  # the request's columns repeat per event
    history = [_REQUEST_AND_HISTORY.convert(engine, r, only=_EVENT_COLUMNS) for r in rows]
    status = Status(row.status)
    today = now.astimezone(ZoneInfo(row.timezone)).date()
    place = _place(engine, row.pickup_point_id, today) if status.is_collectable else None
    return PublicStatus(
        receipt=receipt,
        status=status,
        masked_name=mask_name(row.applicant_name),
        service_code=row.service_code,
        service_name_id=row.name_id,
        service_name_en=row.name_en,
        bring_id=row.bring_id,
        bring_en=row.bring_en,
        target_days=row.target_days,
        office_code=row.office_code,
        office_name=row.office_name,
        timezone=row.timezone,
        submitted_at=row.created_at,
        expected_on=row.expected_on,
        timeline=tuple(Step(r.at, Status(r.to_status), r.public_note) for r in history),
        place=place,
        window_starts=row.window_starts if place else None,
        window_ends=row.window_ends if place else None,
        pickup_number=row.pickup_number if place else None,
        as_of=now,
        version=row.version,
        language=row.language or "id",
        messages=_messages(row, status),
    )


def _messages(row: Any, status: Status) -> Messages | None:
    """What the page may say of the channel; None when there is none, the request has
    ended (nothing more would be sent) or its personal data is gone."""
    if row.channel is None or status in ENDED or row.anonymised_at is not None:
        return None
    channel = Channel(row.channel)
    if channel == Channel.EMAIL:
        domain = (row.email or "").rpartition("@")[2]
        hint = domain[:1].lower() if domain[:1].isalnum() else ""
    else:
        digits = "".join(c for c in row.phone or "" if c.isdigit())
        hint = digits[-2:] if len(digits) >= 2 else ""
    return Messages(channel, hint, bool(row.consent_notify))


def _place(engine: Engine, point_id: int | None, today: dt.date) -> Place | None:
    if point_id is None:
        return None
    rows = [
        _PLACE_AND_HOURS.convert(engine, r) for r in _PLACE_AND_HOURS.fetch(engine, point=point_id)
    ]
    first = rows[0]
    return Place(
        code=first.code,
        name=first.name,
        address=first.address,
        counters=tuple(first.counters or ()),
        hours=tuple(Hours(r.weekday, r.opens, r.closes) for r in rows if r.weekday is not None),
        closures=_closures(engine, point_id, today),
    )


def _closures(engine: Engine, point_id: int, today: dt.date) -> tuple[ClosedDay, ...]:
    last = today + dt.timedelta(days=UPCOMING_DAYS)
    rows = _CLOSURES.fetch(engine, point=point_id, first=today, last=last)
    return tuple(
        ClosedDay(r.day, r.reason or "") for r in (_CLOSURES.convert(engine, x) for x in rows)
    )


def lookup(engine: Engine, text: str, now: dt.datetime) -> PublicStatus:
    """Parse what was typed and find it as of ``now``: ReceiptMistyped or RequestNotFound
    otherwise."""
    return find(engine, receipts.parse(text), now)
