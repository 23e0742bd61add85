"""Registering a request at intake: its receipt number, first event, expected date and audit
row, in the caller's unit of work (only flushed)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker import receipts
from tracker.audit import trail as audit
from tracker.audit.trail import Actor
from tracker.models import Office, Request, Service, StatusEvent
from tracker.places.workdays import add_working_days
from tracker.requests.workflow import OPEN_ENDED
from tracker.status import Status

RECEIPT_ATTEMPTS = 5


def register(
    session: Session,
    *,
    office: Office,
    service: Service,
    applicant_name: str,
    actor: Actor,
    now: dt.datetime,
    nik: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
    **choices: Any,
) -> Request:
    """A new request in ``submitted`` with its first event, receipt number and expected date;
    ``choices`` are the intake's other columns (consent, channel, delivery, preferred point)."""
    local_day = now.astimezone(ZoneInfo(office.timezone)).date()
    request = Request(
        receipt=_fresh_receipt(session),
        office=office,
        service=service,
        applicant_name=applicant_name.strip(),
        nik=nik,
        phone=phone,
        email=email,
        address=address,
        status=Status.SUBMITTED,
        created_at=now,
        updated_at=now,
        changed_at=now,
        expected_on=add_working_days(local_day, service.target_days),
        **choices,
    )
    session.add(request)
    session.add(
        StatusEvent(
            request=request, from_status=None, to_status=Status.SUBMITTED, at=now, actor=actor.name
        )
    )
    audit.record(
        session, "register", actor=actor, at=now, target=request.receipt, service=service.code
    )
    session.flush()
    return request


def open_duplicates(session: Session, nik: str, service: Service) -> list[str]:
    """Receipt numbers of unfinished requests (any that can still move) for the same NIK and
    service."""
    query = select(Request.receipt).where(
        Request.nik == nik, Request.service_id == service.id, Request.status.in_(OPEN_ENDED)
    )
    return list(session.scalars(query))


def _fresh_receipt(session: Session) -> str:
    for _ in range(RECEIPT_ATTEMPTS):
        number = receipts.generate()
        if session.scalar(select(Request.id).where(Request.receipt == number)) is None:
            return number
    raise RuntimeError("could not draw an unused receipt number")
