"""Demo data: the demo offices, and requests with believable histories, written in bulk.

``load_places`` makes the offices, pickup points and services once. ``add_requests`` writes
requests in a mix of statuses straight through SQLAlchemy Core in batches, so that a million
of them fit in a couple of minutes on SQLite; every request gets the full chain of events that
leads to its status, its version in step with them, and (once ready) a window and a pickup
number taken from the same counters the app uses.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, selectinload

from tracker import demo_data as data
from tracker import receipts
from tracker.models import (
    Office,
    OfficeKind,
    OpeningHours,
    PickupCounter,
    PickupPoint,
    PointKind,
    Request,
    Service,
    StatusEvent,
    utcnow,
)
from tracker.pickup import next_window
from tracker.status import Status
from tracker.workdays import add_working_days, is_working_day

S = Status
BATCH = 20_000
RETURN_KEEP_OPEN_DAYS = 30

PATHS: dict[Status, tuple[Status, ...]] = {
    S.SUBMITTED: (S.SUBMITTED,),
    S.VERIFYING: (S.SUBMITTED, S.VERIFYING),
    S.NEEDS_FIX: (S.SUBMITTED, S.VERIFYING, S.NEEDS_FIX),
    S.PROCESSING: (S.SUBMITTED, S.VERIFYING, S.PROCESSING),
    S.READY: (S.SUBMITTED, S.VERIFYING, S.PROCESSING, S.READY),
    S.COLLECTED: (S.SUBMITTED, S.VERIFYING, S.PROCESSING, S.READY, S.COLLECTED),
    S.RETURNED: (S.SUBMITTED, S.VERIFYING, S.PROCESSING, S.READY, S.RETURNED),
    S.DELIVERING: (S.SUBMITTED, S.VERIFYING, S.PROCESSING, S.READY, S.DELIVERING),
    S.DELIVERED: (S.SUBMITTED, S.VERIFYING, S.PROCESSING, S.READY, S.DELIVERING, S.DELIVERED),
    S.REJECTED: (S.SUBMITTED, S.VERIFYING, S.REJECTED),
    S.CANCELLED: (S.SUBMITTED, S.CANCELLED),
}
# How many days ago a request in each status was submitted: (fewest, most).
AGES = {
    S.SUBMITTED: (0, 2),
    S.VERIFYING: (0, 4),
    S.NEEDS_FIX: (1, 8),
    S.PROCESSING: (1, 12),
    S.READY: (3, 9),
    S.DELIVERING: (3, 8),
    S.RETURNED: (25, 60),
}
CLOSED_AGES = (10, 300)
# The mix of statuses in synthetic requests: most are long finished, as in a real office.
SYNTHETIC_MIX = {
    S.COLLECTED: 68,
    S.DELIVERED: 3,
    S.READY: 5,
    S.RETURNED: 2,
    S.DELIVERING: 1,
    S.PROCESSING: 5,
    S.VERIFYING: 3,
    S.SUBMITTED: 4,
    S.NEEDS_FIX: 2,
    S.REJECTED: 4,
    S.CANCELLED: 3,
}


def load_places(session: Session) -> bool:
    """Make the demo offices, pickup points and services; False if they were already there."""
    if session.scalar(select(func.count()).select_from(Office)):
        return False
    for code, name, _region, address, points in data.OFFICES:
        office = Office(
            code=code, name=name, kind=OfficeKind.DINAS, timezone="Asia/Jakarta", address=address
        )
        session.add(office)
        for p_code, p_name, kind, p_address, counters, prefix, hours, is_main in points:
            point = PickupPoint(
                code=p_code,
                office=office,
                name=p_name,
                kind=PointKind(kind),
                address=p_address,
                counters=counters,
                number_prefix=prefix,
                is_main=is_main,
            )
            point.hours = [OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in hours]
            session.add(point)
    for code, name_id, name_en, target, bring_id, bring_en in data.SERVICES:
        session.add(
            Service(
                code=code,
                name_id=name_id,
                name_en=name_en,
                target_days=target,
                bring_id=bring_id,
                bring_en=bring_en,
            )
        )
    session.flush()
    return True


@dataclass
class _Places:
    offices: list[Office]
    services: list[Service]
    points: dict[int, list[PickupPoint]]
    main: dict[int, PickupPoint]
    region: dict[int, str]
    counters: dict[tuple[int, dt.date], int] = field(default_factory=dict)


def _places(session: Session) -> _Places:
    offices = list(session.scalars(select(Office).order_by(Office.id)))
    points = list(
        session.scalars(
            select(PickupPoint).options(
                selectinload(PickupPoint.hours), selectinload(PickupPoint.office)
            )
        )
    )
    regions = {code: region for code, _n, region, _a, _p in data.OFFICES}
    found = _Places(
        offices=offices,
        services=list(session.scalars(select(Service).order_by(Service.id))),
        points={o.id: [p for p in points if p.office_id == o.id] for o in offices},
        main={p.office_id: p for p in points if p.is_main},
        region={o.id: regions.get(o.code, "3601") for o in offices},
    )
    for counter in session.scalars(select(PickupCounter)):
        found.counters[(counter.point_id, counter.day)] = counter.last
    return found


class _Maker:
    """Makes the rows of one request and its events."""

    def __init__(self, places: _Places, rng: random.Random, now: dt.datetime, window_days: int):
        self.places = places
        self.rng = rng
        self.now = now
        self.window_days = window_days
        self._expected: dict[tuple[dt.date, int], dt.date] = {}

    def person(self, region: str) -> tuple[str, str, str, str, str]:
        rng = self.rng
        female = rng.random() < 0.5
        name = f"{rng.choice(data.GIVEN_NAMES)} {rng.choice(data.FAMILY_NAMES)}"
        born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
        day = born.day + (40 if female else 0)
        nik = f"{region}{rng.randrange(1, 30):02d}{day:02d}{born.month:02d}{born.year % 100:02d}"
        nik += f"{rng.randrange(1, 9999):04d}"
        phone = f"08{rng.choice('1258')}{rng.randrange(10**8, 10**9)}"
        address = (
            f"{rng.choice(data.STREETS)} No. {rng.randrange(1, 200)}, "
            f"RT {rng.randrange(1, 15):03d}/RW {rng.randrange(1, 10):03d}"
        )
        email = f"{name.split()[0].lower()}{rng.randrange(100, 9999)}@contoh.id"
        return name, nik, phone, email, address

    def office_time(self, moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """Moved forward into office hours (08–15 on a working day) where it falls outside."""
        there = moment.astimezone(zone)
        while not is_working_day(there.date()) or there.hour >= 15:
            there = (there + dt.timedelta(days=1)).replace(hour=8, minute=self.rng.randrange(60))
        if there.hour < 8:
            there = there.replace(hour=8, minute=self.rng.randrange(60))
        return there.astimezone(dt.UTC)

    def times(self, status: Status, steps: int, zone: ZoneInfo) -> list[dt.datetime]:
        low, high = AGES.get(status, CLOSED_AGES)
        start = self.now - dt.timedelta(days=self.rng.uniform(low, high))
        start = min(self.office_time(start, zone), self.now)
        moments = [start]
        for _ in range(steps - 1):
            gap = dt.timedelta(hours=self.rng.uniform(2, 40))
            moments.append(min(self.office_time(moments[-1] + gap, zone), self.now))
        return moments

    def expected(self, created: dt.datetime, zone: ZoneInfo, target: int) -> dt.date:
        key = (created.astimezone(zone).date(), target)
        if key not in self._expected:
            self._expected[key] = add_working_days(key[0], target)
        return self._expected[key]

    def number(self, point: PickupPoint, day: dt.date) -> str:
        key = (point.id, day)
        self.places.counters[key] = self.places.counters.get(key, 0) + 1
        return f"{point.number_prefix}-{self.places.counters[key]:03d}"

    def request(self, request_id: int, status: Status) -> tuple[dict, list[dict]]:
        rng = self.rng
        office = rng.choice(self.places.offices)
        zone = ZoneInfo(office.timezone)
        service = rng.choice(self.places.services)
        path = PATHS[status]
        if status in (S.PROCESSING, S.READY, S.COLLECTED) and rng.random() < 0.15:
            path = path[:2] + (S.NEEDS_FIX, S.VERIFYING) + path[2:]
        moments = self.times(status, len(path), zone)
        name, nik, phone, email, address = self.person(self.places.region[office.id])
        row = {
            "id": request_id,
            "receipt": receipts.generate(),
            "office_id": office.id,
            "service_id": service.id,
            "applicant_name": name,
            "nik": nik,
            "phone": phone,
            "email": email if rng.random() < 0.4 else None,
            "address": address,
            "status": status,
            "version": len(path),
            "created_at": moments[0],
            "updated_at": moments[-1],
            "expected_on": self.expected(moments[0], zone, service.target_days),
            "pickup_point_id": None,
            "window_starts": None,
            "window_ends": None,
            "pickup_day": None,
            "pickup_number": None,
        }
        events = [self.event(request_id, path, i, moments[i]) for i in range(len(path))]
        if S.READY in path:
            self.place(row, office, path, moments)
        return row, events

    def place(
        self, row: dict, office: Office, path: tuple[Status, ...], moments: list[dt.datetime]
    ) -> None:
        ready_at = moments[path.index(S.READY)]
        point = self.rng.choice(self.places.points[office.id])
        window = next_window(point, ready_at, self.window_days)
        row.update(
            pickup_point_id=point.id,
            window_starts=window.starts,
            window_ends=window.ends,
            pickup_day=window.starts.date(),
            pickup_number=self.number(point, window.starts.date()),
        )
        if path[-1] == S.RETURNED:
            main = self.places.main[office.id]
            kept = next_window(main, moments[-1], RETURN_KEEP_OPEN_DAYS)
            row.update(
                pickup_point_id=main.id,
                window_starts=kept.starts,
                window_ends=kept.ends,
                pickup_day=None,
                pickup_number=None,
            )

    def event(self, request_id: int, path: tuple[Status, ...], i: int, at: dt.datetime) -> dict:
        to = path[i]
        note = data.PUBLIC_NOTES.get(to.value, "")
        if to == S.NEEDS_FIX:
            note = self.rng.choice(data.NEEDS_FIX_NOTES)
        elif to == S.REJECTED:
            note = self.rng.choice(data.REJECTED_NOTES)
        elif to == S.CANCELLED:
            note = data.CANCELLED_NOTE
        return {
            "request_id": request_id,
            "from_status": path[i - 1] if i else None,
            "to_status": to,
            "at": at,
            "actor": "demo" if i == 0 else self.rng.choice(["operator1", "operator2"]),
            "public_note": note,
            "internal_note": "",
        }


def _statuses(count: int, mix: dict[Status, int], rng: random.Random) -> Iterator[Status]:
    population, weights = list(mix), list(mix.values())
    for _ in range(count):
        yield rng.choices(population, weights)[0]


def add_requests(
    session: Session,
    count: int,
    *,
    mix: dict[Status, int] | None = None,
    per_status: int = 0,
    seed: int | None = None,
    window_days: int = 10,
    now: dt.datetime | None = None,
) -> dict[Status, list[str]]:
    """Write ``per_status`` requests of every status and ``count`` more in ``mix``; returns a few
    receipt numbers of each status. The caller commits; batches are flushed as they fill."""
    rng = random.Random(seed)
    places = _places(session)
    maker = _Maker(places, rng, now or utcnow(), window_days)
    next_id = (session.scalar(select(func.max(Request.id))) or 0) + 1
    wanted = chain(
        (s for s in Status for _ in range(per_status)),
        _statuses(count, mix or SYNTHETIC_MIX, rng),
    )
    samples: dict[Status, list[str]] = {s: [] for s in Status}
    rows: list[dict] = []
    events: list[dict] = []
    for status in wanted:
        row, evs = maker.request(next_id, status)
        next_id += 1
        rows.append(row)
        events.extend(evs)
        if len(samples[status]) < 3:
            samples[status].append(row["receipt"])
        if len(rows) >= BATCH:
            _write(session, rows, events)
            rows, events = [], []
    _write(session, rows, events)
    _save_counters(session, places.counters)
    _advance_sequence(session)
    return samples


def sample_receipts(session: Session, per_status: int = 2) -> dict[Status, list[str]]:
    """A few receipt numbers of each status already on file."""
    return {
        status: list(
            session.scalars(
                select(Request.receipt).where(Request.status == status).limit(per_status)
            )
        )
        for status in Status
    }


def _write(session: Session, rows: list[dict], events: list[dict]) -> None:
    if rows:
        session.execute(insert(Request.__table__), rows)
        session.execute(insert(StatusEvent.__table__), events)


def _save_counters(session: Session, counters: dict[tuple[int, dt.date], int]) -> None:
    existing = {(c.point_id, c.day): c for c in session.scalars(select(PickupCounter))}
    for (point_id, day), last in counters.items():
        if (point_id, day) in existing:
            existing[(point_id, day)].last = max(existing[(point_id, day)].last, last)
        else:
            session.add(PickupCounter(point_id=point_id, day=day, last=last))
    session.flush()


def _advance_sequence(session: Session) -> None:
    """Ids were given explicitly; PostgreSQL's sequence must move past them."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('requests', 'id'), "
                "coalesce((SELECT max(id) FROM requests), 1))"
            )
        )
