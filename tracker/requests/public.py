"""What the public may see of a request, read with a fixed, small number of indexed queries.

Nothing personal leaves this module: the name is masked here, NIK and address are never read,
and of the contact details only what DESIGN §5 lets the citizen's own page name leaves it:
the channel, the last two digits of a phone number, the first letter of an e-mail domain.
The look-up page, the receipt and the JSON API all use ``find``.

Besides the request and its history (one query) it reads at most one more place (the pickup
point once ready, with its coming closures in one more small query; the office's main point
while it waits on the citizen or after a rejection, for the pages and replies that name it)
and, while the office works on it, the office's recent figures for the service
(``DailyFigure``, one indexed range), from which ``expected_range`` gives the usual time,
which only the status page shows. Those figures change when the statistics roll up, once a
day, yet reading twelve weeks of daily histograms costs as much as the rest of a JSON
answer, so the page reads them through ``UsualDays``: once per office, service and day in
each worker every ``STATS_CACHE_SECONDS``; the others (``usual`` left out) do not read them
at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Engine, bindparam, select, type_coerce
from sqlalchemy.types import NullType

from tracker import receipts
from tracker.db import PreparedQuery
from tracker.errors import RequestNotFound
from tracker.models import (
    Channel,
    Closure,
    DailyFigure,
    Handover,
    Office,
    OpeningHours,
    PickupPoint,
    Request,
    Service,
    StatusEvent,
)
from tracker.places.closures import UPCOMING_DAYS
from tracker.places.workdays import add_working_days, leave_days
from tracker.statistics.figures import percentile
from tracker.status import CLOCK_RUNS, ENDED, OPEN, Status
from tracker.web.cache import WorkerCache
from tracker.web.formatters import mask_name

S = Status
RANGE_WEEKS = 12  # the office's recent figures: the finished documents of these weeks
RANGE_MINIMUM = 20  # fewer finished than this: only the legal target is shown


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
    latitude: float | None = None
    longitude: float | None = None
    closures: tuple[ClosedDay, ...] = ()  # the next ``UPCOMING_DAYS`` days' closures

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def geo_link(self) -> str:
        return f"geo:{self.latitude:.6f},{self.longitude:.6f}"

    @property
    def map_link(self) -> str:
        lat, lon = f"{self.latitude:.6f}", f"{self.longitude:.6f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=18/{lat}/{lon}"


@dataclass(frozen=True)
class Contact:
    """Where citizens can ask or complain: the office's own address and contacts."""

    address: str
    phone: str
    whatsapp: str
    email: str

    @property
    def any(self) -> bool:
        return bool(self.phone or self.whatsapp or self.email)

    @property
    def whatsapp_link(self) -> str:
        """A wa.me link: the number in international form, digits only (08… is +628…)."""
        digits = "".join(c for c in self.whatsapp if c.isdigit())
        if digits.startswith("0"):
            digits = "62" + digits[1:]
        return f"https://wa.me/{digits}"

    @property
    def phone_link(self) -> str:
        return "tel:" + "".join(c for c in self.phone if c.isdigit() or c == "+")


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
    courier: str = ""  # the move to delivering: who delivers, and their tracking reference
    tracking_ref: str = ""


@dataclass(frozen=True)
class Stage:
    """One step of the step bar: ``state`` is "done", "current" or "todo"."""

    status: Status
    state: str


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
    paused_days: int = 0  # working days the office waited on the citizen (needs fix)
    contact: Contact | None = None
    office_place: Place | None = None  # the office's main point: where to bring a correction
    # The usual time of this office for this service, in working days (50th and 90th
    # percentile of the last RANGE_WEEKS weeks); None with fewer than RANGE_MINIMUM finished.
    usual_days: tuple[int, int] | None = None
    version: int = 1  # goes up with every change: a calendar entry's SEQUENCE
    language: str = "id"  # the citizen's language, of their messages and calendar entry
    messages: Messages | None = None  # None: no channel, or nothing more will be sent

    def today(self) -> dt.date:
        return self.as_of.astimezone(ZoneInfo(self.timezone)).date()

    def _local(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def overdue(self) -> bool:
        """Still open past its expected date, in the office's own time zone; never while the
        office waits on the citizen (needs fix): the service-time clock stops then."""
        return self.status in CLOCK_RUNS and self.today() > self.expected_on

    @property
    def expected_range(self) -> tuple[dt.date, dt.date] | None:
        """The expected date by this office's recent figures: from the day of application,
        the 50th and the 90th percentile in working days, plus the days paused."""
        if self.usual_days is None:
            return None
        start = self._local(self.submitted_at)
        low, high = (d + self.paused_days for d in self.usual_days)
        return add_working_days(start, low), add_working_days(start, high)

    @property
    def leave_days_counted(self) -> tuple[dt.date, ...]:
        """The collective leave days on weekdays after the day of application and up to the
        expected date, which it counts as closed, while the request is open: a date that a
        leave day put off says why."""
        if self.status not in OPEN:
            return ()
        start = self._local(self.submitted_at)
        return tuple(
            sorted(d for d in leave_days() if start < d <= self.expected_on and d.weekday() < 5)
        )

    def fix_by(self, days: int) -> dt.date:
        """By when the citizen should bring or send the correction: ``days`` working days
        after the day the office asked for it."""
        return add_working_days(self._local(self.timeline[-1].at), days)

    @property
    def delivery(self) -> Step | None:
        """The move to delivering, with the courier and tracking reference."""
        return next((s for s in reversed(self.timeline) if s.status == S.DELIVERING), None)

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The request's path for the step bar: the usual path, with correction, return and
        delivery where this request took them; the steps before the current one are done."""
        seen = [s.status for s in self.timeline]
        if self.status in (S.REJECTED, S.CANCELLED):
            path = [x for i, x in enumerate(seen) if i == 0 or seen[i - 1] != x]
            return tuple(
                Stage(x, "current" if i == len(path) - 1 else "done") for i, x in enumerate(path)
            )
        path = [S.SUBMITTED, S.VERIFYING]
        if S.NEEDS_FIX in seen:
            path += [S.NEEDS_FIX, S.VERIFYING]
        path += [S.PROCESSING, S.READY]
        if S.RETURNED in seen:
            path.append(S.RETURNED)
        path += [S.DELIVERING, S.DELIVERED] if S.DELIVERING in seen else [S.COLLECTED]
        if self.status not in path:  # a path the table does not draw: the status still shows
            path.append(self.status)
        here = len(path) - 1 - path[::-1].index(self.status)
        return tuple(
            Stage(x, "done" if i < here else "current" if i == here else "todo")
            for i, x in enumerate(path)
        )


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
        Request.paused_days,
        Request.office_id,
        Request.service_id,
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
        Office.address.label("office_address"),
        Office.phone.label("office_phone"),
        Office.whatsapp.label("office_whatsapp"),
        Office.email.label("office_email"),
        StatusEvent.at,
        StatusEvent.to_status,
        StatusEvent.public_note,
        Handover.courier,
        Handover.tracking_ref,
    )
    .join(Service, Service.id == Request.service_id)
    .join(Office, Office.id == Request.office_id)
    .join(StatusEvent, StatusEvent.request_id == Request.id)
    .outerjoin(
        Handover, (Handover.request_id == Request.id) & (Handover.event_id == StatusEvent.id)
    )
    .where(Request.receipt == bindparam("receipt"))
    .order_by(StatusEvent.id)
)
_EVENT_COLUMNS = frozenset({"at", "to_status", "public_note", "courier", "tracking_ref"})
_PLACE_COLUMNS = (
    PickupPoint.code,
    PickupPoint.name,
    PickupPoint.address,
    PickupPoint.counters,
    # read as the driver gives them (floats on both databases): SQLAlchemy's float processor
    # for psycopg needs the cursor's column types, which a prepared query does not keep
    type_coerce(PickupPoint.latitude, NullType()).label("latitude"),
    type_coerce(PickupPoint.longitude, NullType()).label("longitude"),
    OpeningHours.weekday,
    OpeningHours.opens,
    OpeningHours.closes,
)
_PLACE_AND_HOURS = PreparedQuery(
    select(*_PLACE_COLUMNS)
    .outerjoin(OpeningHours, OpeningHours.point_id == PickupPoint.id)
    .where(PickupPoint.id == bindparam("point"))
    .order_by(OpeningHours.weekday, OpeningHours.opens)
)
# The office's main point (the index on ``office_id`` finds it), with its hours.
_MAIN_PLACE_AND_HOURS = PreparedQuery(
    select(*_PLACE_COLUMNS)
    .outerjoin(OpeningHours, OpeningHours.point_id == PickupPoint.id)
    .where(PickupPoint.office_id == bindparam("office"), PickupPoint.is_main.is_(True))
    .order_by(PickupPoint.id, OpeningHours.weekday, OpeningHours.opens)
)
# The finished documents' durations of one office and service over a run of days (the
# unique index on office, service and day reads it as one range).
_RECENT_DURATIONS = PreparedQuery(
    select(DailyFigure.durations).where(
        DailyFigure.office_id == bindparam("office"),
        DailyFigure.service_id == bindparam("service"),
        DailyFigure.day >= bindparam("first"),
        DailyFigure.day < bindparam("until"),
    )
)
# Where the office asks the citizen to come: to correct something, or to apply again.
_AT_THE_OFFICE = frozenset({S.NEEDS_FIX, S.REJECTED})
_CLOSURES = PreparedQuery(
    select(Closure.day, Closure.reason)
    .where(
        Closure.point_id == bindparam("point"),
        Closure.day >= bindparam("first"),
        Closure.day <= bindparam("last"),
    )
    .order_by(Closure.day)
)


def find(
    engine: Engine,
    receipt: str,
    now: dt.datetime,
    usual: UsualDays | None = None,
    *,
    office_place: bool = True,
) -> PublicStatus:
    """The public view, as of ``now``, of the request with this (canonical) receipt number: one
    query for the request with its history (one snapshot), one more for its pickup point once
    ready. Not through the ORM session: a look-up only reads rows (see ``PreparedQuery``).
    The office's usual days are read, through ``usual``, only when it is given: the status
    page shows them, the API, the receipt and the replies by message do not. The office's
    main point, where to come while the office waits on the citizen, is read unless
    ``office_place`` is false: the JSON API and Open311 do not send it."""
    rows = _REQUEST_AND_HISTORY.fetch(engine, receipt=receipt)
    if not rows:
        raise RequestNotFound()
    row = _REQUEST_AND_HISTORY.convert(engine, rows[0])  # the request's columns repeat per event
    history = [_REQUEST_AND_HISTORY.convert(engine, r, only=_EVENT_COLUMNS) for r in rows]
    status = Status(row.status)
    today = now.astimezone(ZoneInfo(row.timezone)).date()
    place = _place(engine, row.pickup_point_id, today) if status.is_collectable else None
    main_place = None
    if office_place and status in _AT_THE_OFFICE:
        main_place = _main_place(engine, row.office_id)
    usual_days = None
    if usual is not None and status in CLOCK_RUNS:
        usual_days = usual.get(engine, row.office_id, row.service_id, today)
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
        timeline=tuple(
            Step(r.at, Status(r.to_status), r.public_note, r.courier or "", r.tracking_ref or "")
            for r in history
        ),
        place=place,
        window_starts=row.window_starts if place else None,
        window_ends=row.window_ends if place else None,
        pickup_number=row.pickup_number if place else None,
        as_of=now,
        paused_days=row.paused_days or 0,
        contact=Contact(
            row.office_address or "",
            row.office_phone or "",
            row.office_whatsapp or "",
            row.office_email or "",
        ),
        office_place=main_place,
        usual_days=usual_days,
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
    place = _as_place(engine, _PLACE_AND_HOURS, _PLACE_AND_HOURS.fetch(engine, point=point_id))
    return replace(place, closures=_closures(engine, point_id, today))


def _main_place(engine: Engine, office_id: int) -> Place | None:
    rows = _MAIN_PLACE_AND_HOURS.fetch(engine, office=office_id)
    return _as_place(engine, _MAIN_PLACE_AND_HOURS, rows) if rows else None


def _as_place(engine: Engine, query: PreparedQuery, raw: list[object]) -> Place:
    rows = [query.convert(engine, r) for r in raw]
    first = rows[0]
    rows = [r for r in rows if r.code == first.code]  # one point, should an office have two mains
    return Place(
        code=first.code,
        name=first.name,
        address=first.address,
        counters=tuple(first.counters or ()),
        hours=tuple(Hours(r.weekday, r.opens, r.closes) for r in rows if r.weekday is not None),
        latitude=first.latitude,
        longitude=first.longitude,
    )


def _closures(engine: Engine, point_id: int, today: dt.date) -> tuple[ClosedDay, ...]:
    last = today + dt.timedelta(days=UPCOMING_DAYS)
    rows = _CLOSURES.fetch(engine, point=point_id, first=today, last=last)
    return tuple(
        ClosedDay(r.day, r.reason or "") for r in (_CLOSURES.convert(engine, x) for x in rows)
    )


def _usual_days(
    engine: Engine, office_id: int, service_id: int, today: dt.date
) -> tuple[int, int] | None:
    """The 50th and 90th percentile of the working days this office took for this service,
    over the ``RANGE_WEEKS`` weeks before ``today``; None with fewer than ``RANGE_MINIMUM``
    finished."""
    first: dt.date | str = today - dt.timedelta(weeks=RANGE_WEEKS)
    until: dt.date | str = today
    if engine.dialect.name == "sqlite":  # dates are stored as ISO text there
        first, until = first.isoformat(), today.isoformat()  # type: ignore[union-attr]
    histogram: list[int] = []
    for (raw,) in _RECENT_DURATIONS.fetch(
        engine, office=office_id, service=service_id, first=first, until=until
    ):
        durations = _RECENT_DURATIONS.convert(engine, (raw,)).durations or ()
        if len(durations) > len(histogram):
            histogram += [0] * (len(durations) - len(histogram))
        for days, count in enumerate(durations):
            histogram[days] += count
    if sum(histogram) < RANGE_MINIMUM:
        return None
    low, high = percentile(histogram, 0.5), percentile(histogram, 0.9)
    assert low is not None and high is not None
    return low, high


class UsualDays:
    """``_usual_days`` of each office, service and day, kept ``seconds`` in this worker (the
    figures change once a day, when the statistics roll up)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._kept = WorkerCache()

    def get(
        self, engine: Engine, office_id: int, service_id: int, today: dt.date
    ) -> tuple[int, int] | None:
        return self._kept.get(
            (office_id, service_id, today),
            self.seconds,
            lambda: _usual_days(engine, office_id, service_id, today),
        )


def kept_usual_days() -> UsualDays:
    """This app's ``UsualDays`` in this worker, kept ``STATS_CACHE_SECONDS``."""
    found = current_app.extensions.get("siapambil.usual_days")
    if found is None:
        found = current_app.extensions.setdefault(
            "siapambil.usual_days", UsualDays(current_app.config["STATS_CACHE_SECONDS"])
        )
    return found


def lookup(
    engine: Engine,
    text: str,
    now: dt.datetime,
    usual: UsualDays | None = None,
    *,
    office_place: bool = True,
) -> PublicStatus:
    """Parse what was typed and find it as of ``now``: ReceiptMistyped or RequestNotFound
    otherwise."""
    return find(engine, receipts.parse(text), now, usual, office_place=office_place)
