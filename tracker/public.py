"""What the public may see of a request, read with a fixed, small number of indexed queries.

Nothing personal leaves this module: the name is masked here, and NIK, contact details and
address are never read. The look-up page, the receipt and the JSON API all use ``find``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import receipts
from tracker.errors import RequestNotFound
from tracker.formatters import mask_name
from tracker.models import Office, OpeningHours, PickupPoint, Request, Service, StatusEvent
from tracker.status import Status


@dataclass(frozen=True)
class Hours:
    weekday: int
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    address: str
    counters: tuple[str, ...]
    hours: tuple[Hours, ...]


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

    def today(self) -> dt.date:
        return dt.datetime.now(ZoneInfo(self.timezone)).date()

    @property
    def overdue(self) -> bool:
        """Still open past its expected date, in the office's own time zone."""
        return self.status.is_open and self.today() > self.expected_on


_SUMMARY = (
    select(
        Request.id,
        Request.status,
        Request.applicant_name,
        Request.created_at,
        Request.expected_on,
        Request.pickup_point_id,
        Request.window_starts,
        Request.window_ends,
        Request.pickup_number,
        Service.code.label("service_code"),
        Service.name_id,
        Service.name_en,
        Service.bring_id,
        Service.bring_en,
        Service.target_days,
        Office.code.label("office_code"),
        Office.name.label("office_name"),
        Office.timezone,
    )
    .join(Service, Service.id == Request.service_id)
    .join(Office, Office.id == Request.office_id)
)
_TIMELINE = select(StatusEvent.at, StatusEvent.to_status, StatusEvent.public_note).order_by(
    StatusEvent.id
)
_PLACE = select(PickupPoint.code, PickupPoint.name, PickupPoint.address, PickupPoint.counters)
_HOURS = select(OpeningHours.weekday, OpeningHours.opens, OpeningHours.closes).order_by(
    OpeningHours.weekday, OpeningHours.opens
)


def find(session: Session, receipt: str) -> PublicStatus:
    """The public view of the request with this (canonical) receipt number."""
    row = session.execute(_SUMMARY.where(Request.receipt == receipt)).first()
    if row is None:
        raise RequestNotFound()
    steps = session.execute(_TIMELINE.where(StatusEvent.request_id == row.id)).all()
    status = Status(row.status)
    place = _place(session, row.pickup_point_id) if status.is_collectable else None
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
        timeline=tuple(Step(at, Status(to), note) for at, to, note in steps),
        place=place,
        window_starts=row.window_starts if place else None,
        window_ends=row.window_ends if place else None,
        pickup_number=row.pickup_number if place else None,
    )


def _place(session: Session, point_id: int | None) -> Place | None:
    if point_id is None:
        return None
    row = session.execute(_PLACE.where(PickupPoint.id == point_id)).one()
    hours = session.execute(_HOURS.where(OpeningHours.point_id == point_id)).all()
    return Place(
        code=row.code,
        name=row.name,
        address=row.address,
        counters=tuple(row.counters or ()),
        hours=tuple(Hours(*h) for h in hours),
    )


def lookup(session: Session, text: str) -> PublicStatus:
    """Parse what was typed and find it: ReceiptMistyped or RequestNotFound otherwise."""
    return find(session, receipts.parse(text))
