"""Demo data: the demo offices, and requests with believable histories, written in bulk.

``load_places`` makes the offices, pickup points and services once. ``add_requests`` writes
requests in a mix of statuses straight through SQLAlchemy Core in batches, so that a million
of them fit in a couple of minutes on SQLite; every request gets the full chain of events that
leads to its status, its version in step with them, and (once ready) a window and a pickup
number drawn from the same series the app uses, under the same rule: no two documents that
wait at a point (ready, or returned to the main office with a number of its returns series)
hold one number.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from tracker import receipts
from tracker.db import bulk_insert
from tracker.demo import data
from tracker.models import (
    Office,
    OfficeKind,
    OpeningHours,
    PickupPoint,
    PickupSeries,
    PointKind,
    Request,
    Service,
    StatusEvent,
)
from tracker.places.pickup import NUMBERS, WAITING, Window, next_window, series_of
from tracker.places.workdays import add_working_days, is_working_day, working_days_between
from tracker.status import Status

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
        phone, whatsapp, email = data.CONTACTS.get(code, ("", "", ""))
        office = Office(
            code=code, name=name, kind=OfficeKind.DINAS, timezone="Asia/Jakarta", address=address,
            phone=phone, whatsapp=whatsapp, email=email,
        )  # fmt: skip
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
            point.latitude, point.longitude = data.COORDINATES.get(p_code, (None, None))
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


@dataclass(frozen=True)
class _Office:
    id: int
    zone: ZoneInfo
    region: str


@dataclass(frozen=True)
class _Service:
    id: int
    target_days: int


@dataclass
class _Places:
    """What requests are made of, read once (plain values: millions of rows read them)."""

    offices: list[_Office]
    services: list[_Service]
    points: dict[int, list[PickupPoint]]
    main: dict[int, PickupPoint]
    series: dict[str, _Series] = field(default_factory=dict)
    lasts: dict[str, int] = field(default_factory=dict)  # of the series already on file
    _of: dict[tuple[int, bool], tuple[str, str]] = field(default_factory=dict)

    def series_of(self, point: PickupPoint, *, returns: bool = False) -> _Series:
        """The series ``point`` draws from (``tracker.places.pickup.series_of``), worked out
        once per point."""
        if (point.id, returns) not in self._of:
            found = series_of(point, returns=returns)
            self._of[(point.id, returns)] = (found.key, found.prefix)
        key, prefix = self._of[(point.id, returns)]
        if key not in self.series:
            self.series[key] = _Series(prefix, self.lasts.get(key, 0))
        return self.series[key]


@dataclass
class _Series:
    """One series while requests are made: its last number, and the numbers that waiting
    documents hold (``tracker.places.pickup.following``, kept incrementally)."""

    prefix: str
    last: int = 0
    held: set[int] = field(default_factory=set)
    held_small: int = 0  # how many held numbers have three digits

    def hold(self, number: int) -> None:
        if number not in self.held:
            self.held.add(number)
            self.held_small += number <= NUMBERS

    def draw(self, *, waits: bool) -> str:
        """The next number no waiting document holds; held from now on when ``waits``."""
        size = NUMBERS
        if self.held_small >= size:
            size = size * 10 + 9
            while size <= len(self.held):
                size = size * 10 + 9
        number = self.last
        while True:
            number = number + 1 if number < size else 1
            if number not in self.held:
                break
        self.last = number
        if waits:
            self.hold(number)
        return f"{self.prefix}-{number:03d}"


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
    services = session.scalars(select(Service).order_by(Service.id))
    found = _Places(
        offices=[_Office(o.id, ZoneInfo(o.timezone), regions.get(o.code, "3601")) for o in offices],
        services=[_Service(s.id, s.target_days) for s in services],
        points={o.id: [p for p in points if p.office_id == o.id] for o in offices},
        main={p.office_id: p for p in points if p.is_main},
    )
    by_id = {point.id: point for point in points}
    found.lasts = {row.key: row.last for row in session.scalars(select(PickupSeries))}
    waiting = session.execute(
        select(Request.pickup_point_id, Request.status, Request.pickup_number).where(
            Request.status.in_(WAITING), Request.pickup_point_id.is_not(None)
        )
    )
    for point_id, status, number in waiting:
        held = found.series_of(by_id[point_id], returns=status == S.RETURNED)
        digits = (number or "").removeprefix(f"{held.prefix}-")
        if number and number.startswith(f"{held.prefix}-") and digits.isdigit():
            held.hold(int(digits))
    return found


REQUEST_COLUMNS = [
    "id", "receipt", "office_id", "service_id", "applicant_name", "nik", "phone", "email",
    "address", "status", "version", "created_at", "updated_at", "changed_at", "expected_on",
    "pickup_point_id", "window_starts", "window_ends", "pickup_day", "pickup_number",
    "consent_notify", "channel", "wants_delivery", "preferred_point_id", "representative_allowed",
    "language", "paused_days",
]  # fmt: skip
EVENT_COLUMNS = [
    "request_id", "from_status", "to_status", "at", "actor", "public_note", "internal_note",
]  # fmt: skip
NOWHERE = (None, None, None, None, None)
OFFICE_OPENS = 8
OFFICE_DAY_SECONDS = 7 * 3600  # 08.00 to 15.00
HISTORY_DAYS = 400
BIRTH_DAYS = [dt.date(1950, 1, 1) + dt.timedelta(days=d) for d in range(0, 365 * 55)]


class _OfficeClock:
    """Office time in one zone: a moment is a position in seconds counted over the working
    days of the last ``HISTORY_DAYS`` days, 08.00 to 15.00 each (Indonesia keeps no summer
    time, so a zone's offset from UTC is fixed)."""

    def __init__(self, zone: ZoneInfo, now: dt.datetime) -> None:
        self.now = now
        self.offset = now.astimezone(zone).utcoffset() or dt.timedelta()
        today = now.astimezone(zone).date()
        self.days = [
            day
            for day in (today - dt.timedelta(days=n) for n in range(HISTORY_DAYS, -1, -1))
            if is_working_day(day)
        ]
        self.today = today
        # Each working day's opening, in UTC.
        self.openings = [
            (dt.datetime.combine(day, dt.time(OFFICE_OPENS)) - self.offset).replace(tzinfo=dt.UTC)
            for day in self.days
        ]

    def position_days_ago(self, days: float) -> float:
        """The position of the working day about ``days`` calendar days ago, at a random
        moment of its office hours (fractional days pick the moment)."""
        back = int(days * 5 / 7)
        index = max(0, len(self.days) - 1 - back)
        return index * OFFICE_DAY_SECONDS + (days % 1) * OFFICE_DAY_SECONDS

    def moment(self, position: float) -> dt.datetime:
        index, seconds = divmod(position, OFFICE_DAY_SECONDS)
        if index >= len(self.openings):
            return self.now
        return min(self.openings[int(index)] + dt.timedelta(seconds=seconds), self.now)


class _Maker:
    """Makes the rows of one request and its events."""

    def __init__(self, places: _Places, rng: random.Random, now: dt.datetime, window_days: int):
        self.places = places
        self.rng = rng
        self.now = now
        self.window_days = window_days
        self._expected: dict[tuple[dt.date, int], dt.date] = {}
        self._paused: dict[tuple[dt.date, dt.date], int] = {}
        self._windows: dict[tuple[int, dt.datetime, int], Window] = {}
        self._clocks: dict[ZoneInfo, _OfficeClock] = {}
        self._receipt_bits: list[int] = []

    def receipt(self) -> str:
        if not self._receipt_bits:
            self._receipt_bits = receipts.random_bits(4096)
        return receipts.generate(self._receipt_bits.pop())

    def clock(self, zone: ZoneInfo) -> _OfficeClock:
        if zone not in self._clocks:
            self._clocks[zone] = _OfficeClock(zone, self.now)
        return self._clocks[zone]

    def person(self, region: str) -> tuple[str, str, str, str, str]:
        rng = self.rng
        bits = rng.getrandbits(64)
        given, family = data.GIVEN_NAMES, data.FAMILY_NAMES
        name = f"{given[bits % len(given)]} {family[(bits >> 8) % len(family)]}"
        born = BIRTH_DAYS[(bits >> 16) % len(BIRTH_DAYS)]
        day = born.day + (40 if bits >> 63 else 0)  # the NIK adds 40 to a woman's day of birth
        nik = (
            f"{region}{(bits >> 32) % 29 + 1:02d}{day:02d}{born.month:02d}{born.year % 100:02d}"
            f"{(bits >> 40) % 9998 + 1:04d}"
        )
        phone = f"08{'1258'[(bits >> 54) % 4]}{rng.randrange(10**8, 10**9)}"
        address = (
            f"{data.STREETS[(bits >> 24) % len(data.STREETS)]} No. {(bits >> 28) % 199 + 1}, "
            f"RT {(bits >> 46) % 14 + 1:03d}/RW {(bits >> 50) % 9 + 1:03d}"
        )
        email = f"{name.split()[0].lower()}{(bits >> 12) % 9900 + 100}@contoh.id"
        return name, nik, phone, email, address

    def times(self, status: Status, steps: int, clock: _OfficeClock) -> list[dt.datetime]:
        """``steps`` moments in office hours, the first ``AGES`` days ago, a few office hours
        to two days apart, none later than now."""
        low, high = AGES.get(status, CLOSED_AGES)
        rng = self.rng
        position = clock.position_days_ago(rng.uniform(low, high))
        positions = [position]
        for _ in range(steps - 1):
            position += rng.uniform(1, 2 * OFFICE_DAY_SECONDS)
            positions.append(position)
        return [clock.moment(p) for p in positions]

    def expected(self, created: dt.datetime, zone: ZoneInfo, target: int) -> dt.date:
        key = (created.astimezone(zone).date(), target)
        if key not in self._expected:
            self._expected[key] = add_working_days(key[0], target)
        return self._expected[key]

    def paused(self, asked: dt.datetime, fixed: dt.datetime, zone: ZoneInfo) -> int:
        """Working days from the local day the office asked for a correction to the day it
        came (as ``move`` counts them)."""
        key = (asked.astimezone(zone).date(), fixed.astimezone(zone).date())
        if key not in self._paused:
            self._paused[key] = working_days_between(*key)
        return self._paused[key]

    def window(self, point: PickupPoint, at: dt.datetime, open_days: int) -> Window:
        """The window for a document ready at ``at`` (taken to the hour, so that the windows
        of a million requests are worked out a few thousand times)."""
        hour = at.replace(minute=0, second=0, microsecond=0)
        key = (point.id, hour, open_days)
        if key not in self._windows:
            self._windows[key] = next_window(point, hour, open_days)
        return self._windows[key]

    def number(self, point: PickupPoint, *, waits: bool, returns: bool = False) -> str:
        return self.places.series_of(point, returns=returns).draw(waits=waits)

    def request(self, request_id: int, status: Status) -> tuple[tuple, list[tuple]]:
        """One request's row (in ``REQUEST_COLUMNS`` order) and its events' rows."""
        rng = self.rng
        office = rng.choice(self.places.offices)
        zone = office.zone
        service = rng.choice(self.places.services)
        path = PATHS[status]
        if status in (S.PROCESSING, S.READY, S.COLLECTED) and rng.random() < 0.15:
            path = path[:2] + (S.NEEDS_FIX, S.VERIFYING) + path[2:]
        moments = self.times(status, len(path), self.clock(zone))
        expected = self.expected(moments[0], zone, service.target_days)
        paused = 0
        if S.NEEDS_FIX in path[:-1]:  # corrected: the clock stopped while the office waited
            fixed = path.index(S.NEEDS_FIX)
            paused = self.paused(moments[fixed], moments[fixed + 1], zone)
            expected = add_working_days(expected, paused) if paused else expected
        name, nik, phone, email, address = self.person(office.region)
        place = self.place(office, path, moments) if S.READY in path else NOWHERE
        email = email if rng.random() < 0.4 else None
        row = (
            request_id,
            self.receipt(),
            office.id,
            service.id,
            name,
            nik,
            phone,
            email,
            address,
            status,
            len(path),
            moments[0],
            moments[-1],
            moments[-1],  # changed_at: the last move, as nothing else moved it
            expected,
            *place,
            *self.choices(email),
            "id",
            paused,
        )
        events = [self.event(request_id, path, i, moments[i]) for i in range(len(path))]
        return row, events

    def choices(self, email: str | None) -> tuple[bool, str | None, bool, None, bool]:
        """What the citizen chose at intake: the intake columns of ``REQUEST_COLUMNS``."""
        draw = self.rng.random()
        if draw < 0.15:
            return False, None, False, None, True
        channel = "email" if email and draw < 0.3 else "whatsapp" if draw < 0.8 else "sms"
        return True, channel, draw > 0.97, None, draw < 0.9

    def place(
        self, office: _Office, path: tuple[Status, ...], moments: list[dt.datetime]
    ) -> tuple[int, dt.datetime, dt.datetime, dt.date | None, str | None]:
        """Where and when the document waits: the pickup columns of ``REQUEST_COLUMNS``."""
        ready_at = moments[path.index(S.READY)]
        point = self.rng.choice(self.places.points[office.id])
        window = self.window(point, ready_at, self.window_days)
        number = self.number(point, waits=path[-1] == S.READY)
        if path[-1] == S.RETURNED:
            main = self.places.main[office.id]
            kept = self.window(main, moments[-1], RETURN_KEEP_OPEN_DAYS)
            number = self.number(main, waits=True, returns=True)
            return main.id, kept.starts, kept.ends, kept.first_day, number
        return point.id, window.starts, window.ends, window.first_day, number

    def event(self, request_id: int, path: tuple[Status, ...], i: int, at: dt.datetime) -> tuple:
        """One event's row, in ``EVENT_COLUMNS`` order."""
        to = path[i]
        note = data.PUBLIC_NOTES.get(to.value, "")
        if to == S.NEEDS_FIX:
            note = self.rng.choice(data.NEEDS_FIX_NOTES)
        elif to == S.REJECTED:
            note = self.rng.choice(data.REJECTED_NOTES)
        elif to == S.CANCELLED:
            note = data.CANCELLED_NOTE
        actor = "demo" if i == 0 else ("operator1", "operator2")[self.rng.getrandbits(1)]
        return (request_id, path[i - 1] if i else None, to, at, actor, note, "")


def _statuses(count: int, mix: dict[Status, int], rng: random.Random) -> list[Status]:
    return rng.choices(list(mix), list(mix.values()), k=count)


def add_requests(
    session: Session,
    count: int,
    *,
    mix: dict[Status, int] | None = None,
    per_status: int = 0,
    seed: int | None = None,
    window_days: int = 10,
    now: dt.datetime,
) -> dict[Status, list[str]]:
    """Write ``per_status`` requests of every status and ``count`` more in ``mix``; returns a few
    receipt numbers of each status. The caller commits; batches are flushed as they fill."""
    rng = random.Random(seed)
    places = _places(session)
    maker = _Maker(places, rng, now, window_days)
    next_id = (session.scalar(select(func.max(Request.id))) or 0) + 1
    wanted = chain(
        (s for s in Status for _ in range(per_status)),
        _statuses(count, mix or SYNTHETIC_MIX, rng),
    )
    samples: dict[Status, list[str]] = {s: [] for s in Status}
    rows: list[tuple] = []
    events: list[tuple] = []
    with _fill_cache(session, count):
        for status in wanted:
            row, evs = maker.request(next_id, status)
            next_id += 1
            rows.append(row)
            events.extend(evs)
            if len(samples[status]) < 3:
                samples[status].append(row[1])
            if len(rows) >= BATCH:
                _write(session, rows, events)
                rows, events = [], []
        _write(session, rows, events)
    _save_series(session, places.series)
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


def _write(session: Session, rows: list[tuple], events: list[tuple]) -> None:
    bulk_insert(session, Request.__table__, REQUEST_COLUMNS, rows)
    bulk_insert(session, StatusEvent.__table__, EVENT_COLUMNS, events)


# SQLite's page cache while a large fill writes (KiB, as ``PRAGMA cache_size`` takes a negative
# number): the default 2 MB makes every insert into the random receipt and NIK indexes of a
# million rows a read from the file.
FILL_CACHE_KIB = 512 * 1024


@contextlib.contextmanager
def _fill_cache(session: Session, count: int) -> Iterator[None]:
    """On SQLite, a fill of two batches or more writes with a page cache of
    ``FILL_CACHE_KIB``, put back as it was afterwards, and without the secondary indexes of
    the tables it fills: each is dropped first and made again at the end from its own
    ``CREATE INDEX`` text, one sort instead of a million inserts at random places (the
    receipt's unique constraint, part of the table, stays). It all happens in the fill's
    transaction, so a fill that fails leaves every index as it was."""
    connection = session.connection()
    if count < 2 * BATCH or connection.dialect.name != "sqlite":
        yield
        return
    cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size=-{FILL_CACHE_KIB}")
    indexes = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('requests', 'status_events') ORDER BY name"
    ).all()
    try:
        for name, _sql in indexes:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        for _name, sql in indexes:
            connection.exec_driver_sql(sql)
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={cache}")


def _save_series(session: Session, series: dict[str, _Series]) -> None:
    existing = {row.key: row for row in session.scalars(select(PickupSeries))}
    for key, drawn in series.items():
        if key in existing:
            existing[key].last = drawn.last
        else:
            session.add(PickupSeries(key=key, last=drawn.last))
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
