"""What the console lists: requests per status, the overdue list, and staff search, each
limited to what the account's scope shows."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from tracker import receipts
from tracker.accounts.scope import Scope
from tracker.errors import ReceiptMistyped
from tracker.intake import nik
from tracker.models import Handover, Office, Request
from tracker.status import CLOCK_RUNS, Status

PAGE = 50
SEARCH_LIMIT = 100


@dataclass(frozen=True)
class Page:
    rows: list[Request]
    number: int
    more: bool


def counts(session: Session, scope: Scope) -> dict[Status, int]:
    """How many requests each status holds."""
    query = scope.limit(
        select(Request.status, func.count()).group_by(Request.status), Request.office_id
    )
    found: dict[Status, int] = {row[0]: row[1] for row in session.execute(query)}
    return {status: found.get(status, 0) for status in Status}


def by_status(session: Session, scope: Scope, status: Status, number: int = 1) -> Page:
    """One page of a status's requests, oldest change first (the longest waiting on top)."""
    query = scope.limit(select(Request).where(Request.status == status), Request.office_id)
    query = query.options(joinedload(Request.service)).order_by(Request.updated_at, Request.id)
    return _page(session, query, number)


def _page(session: Session, query, number: int) -> Page:  # type: ignore[no-untyped-def]
    number = max(number, 1)
    rows = list(session.scalars(query.offset((number - 1) * PAGE).limit(PAGE + 1)))
    return Page(rows[:PAGE], number, len(rows) > PAGE)


def overdue(session: Session, scope: Scope, now: dt.datetime, number: int = 1) -> Page:
    """Open requests past their service's target date, not those waiting on the citizen
    (needs fix), the most overdue first (today is the office's own date; across all
    offices, Jakarta's)."""
    today = local_today(session, scope, now)
    query = scope.limit(
        select(Request).where(Request.status.in_(CLOCK_RUNS), Request.expected_on < today),
        Request.office_id,
    )
    query = query.options(joinedload(Request.service), joinedload(Request.office))
    return _page(session, query.order_by(Request.expected_on, Request.id), number)


def local_today(session: Session, scope: Scope, now: dt.datetime) -> dt.date:
    """Today in the time zone of the office the lists show (across all offices, Jakarta's)."""
    zone = "Asia/Jakarta"
    if scope.office_id is not None:
        found = session.scalar(select(Office.timezone).where(Office.id == scope.office_id))
        zone = found or zone
    return now.astimezone(ZoneInfo(zone)).date()


def search(session: Session, scope: Scope, text: str) -> list[Request]:
    """Requests by receipt number, NIK or part of the applicant's name (a text without
    digits)."""
    text = text.strip()[:100]
    if not text:
        return []
    conditions = []
    try:
        conditions.append(Request.receipt == receipts.parse(text))
    except ReceiptMistyped:
        pass
    digits = nik.normalise(text)
    if digits.isdigit() and len(digits) == 16:
        conditions.append(Request.nik == digits)
    # Words are looked for in names (a scan of every name of the scope); a text with a digit
    # is no part of a name (Permendagri 73/2022 allows none), so a receipt number or a NIK
    # is found by its index alone.
    if re.search(r"[^\W\d_]", text) and len(text) >= 3 and not re.search(r"\d", text):
        name = func.lower(Request.applicant_name)
        conditions.append(name.contains(text.lower(), autoescape=True))
    if not conditions:
        return []
    query = scope.limit(select(Request).where(or_(*conditions)), Request.office_id)
    query = query.options(joinedload(Request.service)).order_by(Request.created_at.desc())
    return list(session.scalars(query.limit(SEARCH_LIMIT)))


def handovers(session: Session, request_id: int) -> list[Handover]:
    """Who took the request's document away, and what staff checked; oldest first (a
    delivery that came back may be followed by a collection)."""
    return list(
        session.scalars(
            select(Handover).where(Handover.request_id == request_id).order_by(Handover.id)
        )
    )
