from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from tracker.audit.trail import Actor
from tracker.config import DEFAULTS
from tracker.errors import ConflictError, MissingDetails, TransitionError
from tracker.models import Request, StatusEvent, utcnow
from tracker.places import pickup
from tracker.requests import operations
from tracker.requests.operations import Placement
from tracker.requests.workflow import TRANSITIONS
from tracker.status import ENDED, FINISHED, OPEN, Status

TERMINAL = {Status.COLLECTED, Status.DELIVERED, Status.REJECTED, Status.CANCELLED}


def reachable(start: Status) -> set[Status]:
    seen, todo = {start}, [start]
    while todo:
        for move in TRANSITIONS[todo.pop()]:
            if move.to not in seen:
                seen.add(move.to)
                todo.append(move.to)
    return seen


def test_the_table_covers_every_status_and_every_one_is_reachable() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert reachable(Status.SUBMITTED) == set(Status)
    assert {s for s, moves in TRANSITIONS.items() if not moves} == TERMINAL
    assert OPEN | FINISHED == set(Status) and not OPEN & FINISHED
    assert ENDED == {status for status, moves in TRANSITIONS.items() if not moves}


def test_cancel_is_possible_from_every_open_state() -> None:
    for status in OPEN | {Status.READY, Status.RETURNED}:
        assert Status.CANCELLED in {m.to for m in TRANSITIONS[status]}
    cancels = [m for moves in TRANSITIONS.values() for m in moves if m.to == Status.CANCELLED]
    assert cancels and all(m.needs_reason for m in cancels)  # the citizen reads why


def events_of(session, request: Request) -> list[tuple]:
    rows = session.execute(
        select(StatusEvent.from_status, StatusEvent.to_status)
        .where(StatusEvent.request_id == request.id)
        .order_by(StatusEvent.id)
    )
    return [tuple(r) for r in rows]


def test_a_move_writes_the_event_and_bumps_the_version(session, make_request) -> None:
    request = make_request(Status.SUBMITTED)
    assert request.version == 1
    event = operations.move(
        session,
        request,
        Status.VERIFYING,
        actor=Actor("op1"),
        expected_version=1,
        public_note="Berkas lengkap.",
        internal_note="cek ulang alamat",
        now=utcnow(),
        config=DEFAULTS,
    )
    session.commit()
    fresh = session.get(Request, request.id)
    session.refresh(fresh)
    assert fresh.status == Status.VERIFYING and fresh.version == 2
    assert event.actor == "op1" and event.internal_note == "cek ulang alamat"
    assert events_of(session, request) == [
        (None, Status.SUBMITTED),
        (Status.SUBMITTED, Status.VERIFYING),
    ]


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (Status.SUBMITTED, Status.READY),
        (Status.COLLECTED, Status.READY),
        (Status.REJECTED, Status.VERIFYING),
        (Status.PROCESSING, Status.SUBMITTED),
        (Status.CANCELLED, Status.CANCELLED),
    ],
)
def test_an_illegal_move_is_refused_and_changes_nothing(session, make_request, start, to) -> None:
    request = make_request(start)
    before = (request.status, request.version, len(events_of(session, request)))
    with pytest.raises(TransitionError):
        operations.move(
            session, request, to, actor=Actor("op1"), public_note="x", now=utcnow(), config=DEFAULTS
        )
    session.rollback()
    fresh = session.get(Request, request.id)
    session.refresh(fresh)
    assert (fresh.status, fresh.version, len(events_of(session, fresh))) == before


@pytest.mark.parametrize("to", [Status.NEEDS_FIX, Status.REJECTED, Status.CANCELLED])
def test_needs_fix_rejected_and_cancelled_need_a_reason(session, make_request, to) -> None:
    request = make_request(Status.VERIFYING)
    with pytest.raises(MissingDetails) as caught:
        operations.move(
            session,
            request,
            to,
            actor=Actor("op1"),
            public_note="   ",
            now=utcnow(),
            config=DEFAULTS,
        )
    assert caught.value.details["missing"] == "reason"


def test_ready_needs_a_window(session, make_request) -> None:
    request = make_request(Status.PROCESSING)
    with pytest.raises(MissingDetails):
        operations.move(
            session, request, Status.READY, actor=Actor("op1"), now=utcnow(), config=DEFAULTS
        )
    point = request.office.points[1]
    window = pickup.next_window(point, utcnow(), 10)
    number = pickup.assign_number(session, point)
    operations.move(
        session,
        request,
        Status.READY,
        actor=Actor("op1"),
        placement=Placement(window, number),
        now=utcnow(),
        config=DEFAULTS,
    )
    session.commit()
    assert request.pickup_point_id == point.id
    assert request.pickup_number == number


def test_a_stale_version_is_a_conflict_and_overwrites_nothing(app, session, make_request) -> None:
    request = make_request(Status.VERIFYING)
    other = app.extensions["siapambil.db"]["writer"]()
    try:
        theirs = other.get(Request, request.id)
        operations.move(
            other,
            theirs,
            Status.PROCESSING,
            actor=Actor("op2"),
            expected_version=2,
            now=utcnow(),
            config=DEFAULTS,
        )
        other.commit()
    finally:
        other.close()
    with pytest.raises(ConflictError) as caught:
        operations.move(
            session,
            request,
            Status.NEEDS_FIX,
            actor=Actor("op1"),
            expected_version=2,
            public_note="Foto buram",
            now=utcnow(),
            config=DEFAULTS,
        )
    session.rollback()
    assert caught.value.code == "conflict"
    fresh = session.get(Request, request.id)
    session.refresh(fresh)
    assert fresh.status == Status.PROCESSING and fresh.version == 3


def test_a_concurrent_write_without_expected_version_is_caught_at_flush(
    app, session, make_request
) -> None:
    """Both sessions read version 2; the database lets only one UPDATE ... WHERE version=2 win."""
    request = make_request(Status.VERIFYING)
    other = app.extensions["siapambil.db"]["writer"]()
    try:
        theirs = other.get(Request, request.id)
        operations.move(
            other, theirs, Status.PROCESSING, actor=Actor("op2"), now=utcnow(), config=DEFAULTS
        )
        other.commit()
    finally:
        other.close()
    assert request.version == 2  # this session still holds what it read
    with pytest.raises(ConflictError) as caught:
        operations.move(
            session, request, Status.CANCELLED, actor=Actor("op1"), now=utcnow(), config=DEFAULTS,
            public_note="Dibatalkan atas permintaan pemohon.",
        )  # fmt: skip
    assert caught.value.details["changed_by"] is not None
    session.rollback()
    count = session.scalar(
        select(func.count()).select_from(StatusEvent).where(StatusEvent.request_id == request.id)
    )
    assert count == 3


def test_history_is_append_only(session, make_request) -> None:
    request = make_request(Status.VERIFYING)
    event = session.scalars(select(StatusEvent).where(StatusEvent.request_id == request.id)).first()
    event.public_note = "rewritten"
    with pytest.raises(RuntimeError, match="history"):
        session.flush()


def test_pickup_numbers_count_per_local_day(session, make_request) -> None:
    """In WIT (UTC+9) an 08.00 opening is the day before in UTC; the number's day is local."""
    office = make_request.office("36.73")
    office.timezone = "Asia/Jayapura"
    session.commit()
    request = make_request(Status.PROCESSING)
    point = request.office.points[0]
    window = pickup.next_window(point, dt.datetime(2026, 12, 1, 22, 0, tzinfo=dt.UTC), 10)
    assert window.starts == dt.datetime(2026, 12, 1, 23, 0, tzinfo=dt.UTC)  # 08.00 WIT, Dec 2
    assert window.first_day == dt.date(2026, 12, 2)
    operations.move(
        session,
        request,
        Status.READY,
        actor=Actor("op1"),
        placement=Placement(window, pickup.assign_number(session, point)),
        now=utcnow(),
        config=DEFAULTS,
    )
    session.commit()
    assert request.pickup_day == dt.date(2026, 12, 2)
