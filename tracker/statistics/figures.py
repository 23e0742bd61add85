"""The public statistics: the daily roll-up of the request history into ``daily_figures``,
and the figures the statistics page, its CSV and its JSON show (no Flask here).

What is counted, per office, service and local day (the office's own time zone):

- received: requests taken in that day. Counted from each request's first event (into
  ``submitted``), which intake writes at the request's ``created_at``: ``status_events.at``
  is indexed and ``requests.created_at`` is not, so the roll-up reads one range of events.
- finished: documents made, the event from an open status into ``ready`` (a delivered
  document passes ``ready`` first). Its duration is the number of working days from the
  local day of intake to the local day of that event, less the working days the office
  waited on the citizen (``requests.paused_days``, needs fix): the clock stops then.
- within_target: finished with a duration of at most the service's target.
- collected: events into ``collected`` or ``delivered``.

Waiting uncollected (``ready`` or ``returned``) is counted live when figures are asked for.
Only counts leave this module: no names, NIKs, phone numbers or receipt numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from tracker.models import DailyFigure, Office, Request, Service, StatusEvent
from tracker.places.workdays import working_days_between
from tracker.status import OPEN, Status

OVERLAP_DAYS = 2  # days recomputed again on every run, for events recorded late
MAX_DAYS_BACK = 400  # the furthest a roll-up reaches back, however long it was not run
LONGEST = 60  # the last entry of a duration histogram counts this many working days or more
WEEK_CHOICES = (4, 12, 26, 52)
DEFAULT_WEEKS = 12
COLLECTED = (Status.COLLECTED, Status.DELIVERED)
WAITING = (Status.READY, Status.RETURNED)


# --- The roll-up --------------------------------------------------------------------------


@dataclass(frozen=True)
class RollUp:
    """What one roll-up did: the local days it (re)computed and the rows it wrote."""

    zone: str
    first: dt.date | None
    last: dt.date | None
    rows: int

    @property
    def days(self) -> int:
        if self.first is None or self.last is None:
            return 0
        return (self.last - self.first).days + 1


def roll_up(session: Session, zone: str, today: dt.date, *, full: bool = False) -> RollUp:
    """(Re)compute the daily figures of the offices of ``zone`` up to yesterday (local), in
    the caller's transaction. It starts ``OVERLAP_DAYS`` before the last day on file, or at
    the first event when there is none, and never more than ``MAX_DAYS_BACK`` days ago;
    ``full`` starts there (the demo, which has just written a past). The days it covers
    are deleted and written again, so a second run changes nothing."""
    tz = ZoneInfo(zone)
    furthest = today - dt.timedelta(days=MAX_DAYS_BACK)
    offices = set(session.scalars(select(Office.id).where(Office.timezone == zone)))
    first = furthest if full else _first_day(session, offices, tz)
    if not offices or first is None:
        return RollUp(zone, None, None, 0)
    first = max(first, furthest)
    last = today - dt.timedelta(days=1)
    if first > last:
        return RollUp(zone, None, None, 0)
    days = _count(session, offices, tz, first, today)
    session.execute(
        delete(DailyFigure).where(
            DailyFigure.office_id.in_(offices), DailyFigure.day >= first, DailyFigure.day <= last
        )
    )
    rows = [
        {"office_id": o, "service_id": s, "day": d, **figures.stored()}
        for (o, s, d), figures in sorted(days.items())
    ]
    if rows:
        session.execute(insert(DailyFigure), rows)
    return RollUp(zone, first, last, len(rows))


def _first_day(session: Session, offices: set[int], tz: ZoneInfo) -> dt.date | None:
    """Where a roll-up starts: a little before the last day on file, else the first event."""
    rolled = session.scalar(
        select(func.max(DailyFigure.day)).where(DailyFigure.office_id.in_(offices))
    )
    if rolled is not None:
        return rolled + dt.timedelta(days=1 - OVERLAP_DAYS)
    earliest = session.scalar(select(func.min(StatusEvent.at)))  # the index on ``at`` answers
    return earliest.astimezone(tz).date() if earliest is not None else None


def _midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)


def _count(
    session: Session, offices: set[int], tz: ZoneInfo, first: dt.date, until: dt.date
) -> dict[tuple[int, int, dt.date], _Tally]:
    """The figures of the local days ``first`` to ``until`` (excluded), from one range of
    events: intakes, documents made, and documents handed over."""
    e = StatusEvent
    counted = or_(
        e.from_status.is_(None),
        and_(e.to_status == Status.READY, e.from_status.in_(OPEN)),
        e.to_status.in_(COLLECTED),
    )
    rows = session.execute(
        select(e.at, e.from_status, e.to_status, Request.office_id, Request.service_id)
        .add_columns(Request.created_at, Request.paused_days, Service.target_days)
        .join(Request, Request.id == e.request_id)
        .join(Service, Service.id == Request.service_id)
        .where(e.at >= _midnight(first, tz), e.at < _midnight(until, tz))
        .where(Request.office_id.in_(offices), counted)
        # streamed (a server-side cursor on PostgreSQL): a full roll-up reads millions of rows
        .execution_options(yield_per=10_000)
    )
    days: dict[tuple[int, int, dt.date], _Tally] = defaultdict(_Tally)
    spans: dict[tuple[dt.date, dt.date], int] = {}  # working days between two dates, once each
    for at, came_from, to, office_id, service_id, created_at, paused, target in rows:
        day = at.astimezone(tz).date()
        figures = days[(office_id, service_id, day)]
        if came_from is None:
            figures.received += 1
        elif to == Status.READY:
            span = (created_at.astimezone(tz).date(), day)
            if span not in spans:
                spans[span] = working_days_between(*span)
            figures.finish(max(0, spans[span] - (paused or 0)), target)
        else:
            figures.collected += 1
    return days


# --- The figures shown ----------------------------------------------------------------------


def percentile(histogram: list[int], share: float) -> int | None:
    """The nearest-rank percentile of a duration histogram: the smallest duration ``d`` such
    that at least ``share`` of all documents (``ceil(share * n)`` of them, at least one) took
    ``d`` working days or fewer. None when the histogram is empty. The median is
    ``percentile(h, 0.5)``: of an even number of documents, the lower of the two middle ones."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = max(1, math.ceil(share * total))
    running = 0
    for days, count in enumerate(histogram):
        running += count
        if running >= rank:
            return days
    raise AssertionError("unreachable: the running count reaches the total")


@dataclass(frozen=True)
class Period:
    """Whole ISO weeks (Monday to Sunday) ending with the week of ``last``, which is yesterday:
    the last week holds only the days up to ``last``."""

    weeks: int
    first: dt.date
    last: dt.date

    @classmethod
    def ending(cls, last: dt.date, weeks: int = DEFAULT_WEEKS) -> Period:
        monday = last - dt.timedelta(days=last.weekday())
        return cls(weeks, monday - dt.timedelta(weeks=weeks - 1), last)


@dataclass(frozen=True)
class Figures:
    """Counts over a period, the durations of the documents finished in it, and the
    documents waiting now."""

    received: int
    finished: int
    within_target: int
    collected: int
    waiting: int
    median_days: int | None
    p90_days: int | None

    @property
    def share_within_target(self) -> float | None:
        """Finished within the service target, as a fraction of all finished (None: none)."""
        return self.within_target / self.finished if self.finished else None


@dataclass
class _Tally:
    """Figures while they are counted: of one day in the roll-up, or added up for a period."""

    received: int = 0
    finished: int = 0
    within_target: int = 0
    collected: int = 0
    waiting: int = 0
    durations: list[int] = field(default_factory=lambda: [0] * (LONGEST + 1))

    def finish(self, days: int, target: int) -> None:
        self.finished += 1
        self.within_target += days <= target
        self.durations[min(days, LONGEST)] += 1

    def stored(self) -> dict[str, Any]:
        """The columns of a DailyFigure: the histogram without its trailing zeros."""
        last = max((d for d, count in enumerate(self.durations) if count), default=-1)
        return {
            "received": self.received,
            "finished": self.finished,
            "within_target": self.within_target,
            "collected": self.collected,
            "durations": self.durations[: last + 1],
        }

    def add(self, other: _Tally) -> None:
        self.received += other.received
        self.finished += other.finished
        self.within_target += other.within_target
        self.collected += other.collected
        self.waiting += other.waiting
        self.add_durations(other.durations)

    def add_durations(self, durations: Iterable[int]) -> None:
        for days, count in enumerate(durations):
            self.durations[min(days, LONGEST)] += count

    def figures(self) -> Figures:
        return Figures(
            self.received,
            self.finished,
            self.within_target,
            self.collected,
            self.waiting,
            percentile(self.durations, 0.5),
            percentile(self.durations, 0.9),
        )


@dataclass(frozen=True)
class ServiceFigures:
    code: str
    name_id: str
    name_en: str
    target_days: int
    figures: Figures


@dataclass(frozen=True)
class OfficeFigures:
    code: str
    name: str
    timezone: str
    services: list[ServiceFigures]
    total: Figures


@dataclass(frozen=True)
class Week:
    """One ISO week of the trend, ``monday`` to ``last`` (the period's last week may end
    before its Sunday)."""

    monday: dt.date
    last: dt.date
    received: int
    finished: int
    within_target: int

    @property
    def share_within_target(self) -> float | None:
        return self.within_target / self.finished if self.finished else None

    @property
    def iso(self) -> str:
        year, week, _day = self.monday.isocalendar()
        return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class Statistics:
    """Everything the statistics page, its CSV and its JSON show, for one period and one
    office (or all of them)."""

    period: Period
    office: str | None
    offices: list[OfficeFigures]
    services: list[ServiceFigures]  # each service over the offices shown
    total: Figures
    weekly: list[Week]
    generated_at: dt.datetime


def gather(
    session: Session, period: Period, office: str | None = None, *, now: dt.datetime
) -> Statistics:
    """The figures of ``period`` for ``office`` (a code; None: every office), read from the
    daily figures and the live count of documents waiting. Raises LookupError for an
    unknown office code."""
    offices = _offices(session, office)
    services = list(session.scalars(select(Service).order_by(Service.name_id)))
    ids = [o.id for o in offices]
    tallies: dict[tuple[int, int], _Tally] = defaultdict(_Tally)
    weeks: dict[dt.date, list[int]] = {
        period.first + dt.timedelta(weeks=n): [0, 0, 0] for n in range(period.weeks)
    }
    for row in session.execute(_daily(period, ids)):
        tally = tallies[(row.office_id, row.service_id)]
        tally.received += row.received
        tally.finished += row.finished
        tally.within_target += row.within_target
        tally.collected += row.collected
        tally.add_durations(row.durations or ())
        week = weeks[row.day - dt.timedelta(days=row.day.weekday())]
        week[0] += row.received
        week[1] += row.finished
        week[2] += row.within_target
    for office_id, service_id, count in session.execute(_waiting(ids)):
        tallies[(office_id, service_id)].waiting += count
    return _assemble(period, office, offices, services, tallies, weeks, now)


def _offices(session: Session, code: str | None) -> list[Office]:
    query = select(Office).order_by(Office.name)
    if code is not None:
        query = query.where(Office.code == code)
    found = list(session.scalars(query))
    if code is not None and not found:
        raise LookupError(code)
    return found


def _daily(period: Period, office_ids: list[int]) -> Select[Any]:
    f = DailyFigure
    return (
        select(
            f.office_id, f.service_id, f.day, f.received, f.finished, f.within_target, f.collected
        )
        .add_columns(f.durations)
        .where(f.office_id.in_(office_ids), f.day >= period.first, f.day <= period.last)
    )


def _waiting(office_ids: list[int]) -> Select[Any]:
    """Documents waiting to be collected now (the status index finds them)."""
    return (
        select(Request.office_id, Request.service_id, func.count())
        .where(Request.status.in_(WAITING), Request.office_id.in_(office_ids))
        .group_by(Request.office_id, Request.service_id)
    )


def _assemble(
    period: Period,
    office: str | None,
    offices: list[Office],
    services: list[Service],
    tallies: dict[tuple[int, int], _Tally],
    weeks: dict[dt.date, list[int]],
    now: dt.datetime,
) -> Statistics:
    grand = _Tally()
    per_service: dict[int, _Tally] = defaultdict(_Tally)
    shown: list[OfficeFigures] = []
    for o in offices:
        office_total = _Tally()
        rows = []
        for s in services:
            tally = tallies.get((o.id, s.id), _Tally())
            office_total.add(tally)
            per_service[s.id].add(tally)
            rows.append(_service(s, tally))
        grand.add(office_total)
        shown.append(OfficeFigures(o.code, o.name, o.timezone, rows, office_total.figures()))
    return Statistics(
        period=period,
        office=office,
        offices=shown,
        services=[_service(s, per_service[s.id]) for s in services],
        total=grand.figures(),
        weekly=[
            Week(monday, min(monday + dt.timedelta(days=6), period.last), *counts)
            for monday, counts in sorted(weeks.items())
        ],
        generated_at=now,
    )


def _service(service: Service, tally: _Tally) -> ServiceFigures:
    return ServiceFigures(
        service.code, service.name_id, service.name_en, service.target_days, tally.figures()
    )
