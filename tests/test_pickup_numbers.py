"""Pickup numbers: one per waiting document at a point. A point's numbers follow on from day to
day and skip every number a waiting document holds, the visits of an office share one series,
and a document kept at the main office after its window gets a number of its returns series.
Migration 0009 puts right a database that already holds repeats."""

from __future__ import annotations

import datetime as dt
import random
import threading
from typing import Any

from sqlalchemy import func, select, text

from tracker import schema
from tracker.audit.trail import Actor
from tracker.models import Channel, PickupPoint, PickupSeries, Request
from tracker.outbox import texts
from tracker.places import pickup
from tracker.requests import lifecycle, operations
from tracker.status import Status

STAFF = Actor("op1")
WAITING = (Status.READY, Status.RETURNED)
# Monday 1 February 2027, 09.00 in Serang (WIB): a fixed instant, whatever day the tests run.
MONDAY = dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC)


def repeats(session: Any) -> list[tuple[int, str, int]]:
    """(point, number, how many) for every number that more than one waiting document holds
    at one point."""
    found = session.execute(
        select(Request.pickup_point_id, Request.pickup_number, func.count())
        .where(Request.status.in_(WAITING))
        .group_by(Request.pickup_point_id, Request.pickup_number)
        .having(func.count() > 1)
    ).all()
    session.commit()
    return [tuple(row) for row in found]


def ready(app: Any, make_request: Any, point: PickupPoint, at: dt.datetime) -> Request:
    request = make_request(Status.PROCESSING, at=at)
    operations.move(
        make_request.session, request, Status.READY, actor=STAFF, now=at, config=app.config,
        point=point,
    )  # fmt: skip
    make_request.session.commit()
    return request


def visit(session: Any, office: Any, name: str, day: dt.datetime) -> PickupPoint:
    """A visit from 08.00 to 14.00 WIB on ``day``'s date."""
    starts = day.replace(hour=1)
    found = pickup.schedule_visit(
        session, office, name=name, address="Balai desa", starts=starts,
        ends=starts + dt.timedelta(hours=6),
    )  # fmt: skip
    session.commit()
    return found


def test_two_weeks_of_windows_at_a_point_never_give_a_waiting_number_twice(
    app, session, make_request
) -> None:
    """Every working day for two weeks ten documents are made ready at a kecamatan and three
    at the main office; some are collected; each night the late ones go back to the main
    office, among them those of two visits. No point ever has two waiting documents with one
    number (with numbers counted per day, the kecamatan held C-001 once a day)."""
    rng = random.Random(7)
    office = make_request.office("36.73")
    kecamatan, main = make_request.point("srg-cipocok"), make_request.point("srg-dinas")
    visits = [
        visit(session, office, "Desa Sukajaya", MONDAY + dt.timedelta(days=2)),
        visit(session, office, "Desa Margaluyu", MONDAY + dt.timedelta(days=3)),
    ]
    waiting: list[Request] = []
    from_visits: list[Request] = []  # nobody comes for these: they go back to the main office
    for offset in range(14):
        morning = MONDAY + dt.timedelta(days=offset)
        if morning.weekday() < 5:
            for _ in range(10):
                waiting.append(ready(app, make_request, kecamatan, morning))
            for _ in range(3):
                waiting.append(ready(app, make_request, main, morning))
            if offset < 2:  # the visits' documents are ready before the visit
                for _ in range(4):
                    from_visits.append(ready(app, make_request, visits[offset], morning))
            for request in rng.sample(waiting, len(waiting) // 4):
                session.refresh(request)
                if request.status in WAITING:
                    make_request.move(request, Status.COLLECTED, at=morning + dt.timedelta(hours=2))
            session.commit()
            waiting = [r for r in waiting if r.status in WAITING]
        lifecycle.expire(session, app.config, morning + dt.timedelta(hours=15))  # 00.00 WIB
        session.commit()
        assert repeats(session) == [], f"day {offset}"
    for request in from_visits:
        session.refresh(request)
    assert {(r.status, r.pickup_point_id) for r in from_visits} == {(Status.RETURNED, main.id)}
    numbers = {r.pickup_number for r in from_visits}
    session.commit()
    assert len(numbers) == 8 and all(n.startswith("R-") for n in numbers)
    kecamatan_numbers = session.scalars(
        select(Request.pickup_number).where(Request.pickup_point_id == kecamatan.id)
    ).all()
    session.commit()
    assert max(kecamatan_numbers) > "C-050"  # numbers follow on from day to day


def test_two_visits_of_an_office_never_share_a_number(app, session, make_request) -> None:
    office = make_request.office("36.73")
    first = visit(session, office, "Desa Sukajaya", MONDAY + dt.timedelta(days=1))
    second = visit(session, office, "Desa Margaluyu", MONDAY + dt.timedelta(days=1))
    one = [ready(app, make_request, first, MONDAY) for _ in range(3)]
    pile = [make_request(Status.PROCESSING, at=MONDAY) for _ in range(3)]
    placements = operations.ready_placements(session, second, len(pile), MONDAY, app.config)
    for request, placement in zip(pile, placements, strict=True):
        operations.move(
            session, request, Status.READY, actor=STAFF, now=MONDAY, config=app.config,
            placement=placement,
        )  # fmt: skip
    session.commit()
    numbers = [r.pickup_number for r in one + pile]
    assert all(n.startswith("K-") for n in numbers)
    assert len(set(numbers)) == 6, numbers
    # after the visits, both piles wait at the main office, each with a number of its own
    lifecycle.expire(session, app.config, MONDAY + dt.timedelta(days=2))
    session.commit()
    kept = {r.pickup_number for r in one + pile}
    assert {r.status for r in one + pile} == {Status.RETURNED}
    assert len(kept) == 6 and all(n.startswith("R-") for n in kept)


def test_a_returned_document_is_told_and_found_by_its_returns_number(
    app, client, operator, make_request, session
) -> None:
    waiting = ready(app, make_request, make_request.point("srg-cipocok"), MONDAY)
    lifecycle.expire(session, app.config, waiting.window_ends + dt.timedelta(hours=1))
    session.commit()
    number = waiting.pickup_number
    assert number.startswith("R-") and waiting.pickup_point.code == "srg-dinas"
    for channel in (Channel.SMS, Channel.EMAIL):
        _, body = texts.render(waiting, "returned", channel, base_url=app.config["PUBLIC_BASE_URL"])
        assert f"no. {number}" in body or f"Nomor pengambilan: {number}" in body, body
    session.commit()
    found = client.get("/staff/handover", query_string={"no": number.lower().replace("-", "")})
    assert f"/staff/handover/{waiting.receipt}" in found.get_data(as_text=True)


def test_writers_drawing_at_once_never_get_one_number(app, make_request) -> None:
    """Four writers make documents ready at one point at the same time: the series' row is
    taken before the numbers held are read, so each draws after the other has committed."""
    pile = [make_request(Status.PROCESSING, at=MONDAY).id for _ in range(24)]
    writer = app.extensions["siapambil.db"]["writer"]
    errors: list[BaseException] = []

    def work(ids: list[int]) -> None:
        try:
            for request_id in ids:
                with writer() as session:
                    point = session.scalars(
                        select(PickupPoint).where(PickupPoint.code == "srg-cipocok")
                    ).one()
                    operations.move(
                        session, session.get(Request, request_id), Status.READY, actor=STAFF,
                        now=MONDAY, config=app.config, point=point,
                    )  # fmt: skip
                    session.commit()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(pile[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with writer() as session:
        numbers = session.scalars(select(Request.pickup_number).where(Request.id.in_(pile))).all()
    assert len(set(numbers)) == len(pile), sorted(numbers)


def test_a_series_wraps_after_999_and_grows_rather_than_repeat() -> None:
    assert pickup.following(997, {999, 1, 3}, 3) == ([998, 2, 4], 4)
    assert pickup.following(0, set(), 2) == ([1, 2], 2)
    everything = set(range(1, 1000))
    assert pickup.following(999, everything, 2) == ([1000, 1001], 1001)
    assert pickup.following(1001, {5}, 1) == ([1], 1)  # back to three digits once free


def test_a_point_whose_prefix_is_r_keeps_its_returns_in_its_own_series(
    app, session, make_request
) -> None:
    main = make_request.point("srg-dinas")
    main.number_prefix = "R"
    session.commit()
    request = ready(app, make_request, main, MONDAY)
    operations.move(session, request, Status.RETURNED, actor=STAFF, now=MONDAY, config=app.config)
    session.commit()
    other = ready(app, make_request, main, MONDAY)
    assert request.pickup_number.startswith("R-") and other.pickup_number.startswith("R-")
    assert request.pickup_number != other.pickup_number
    assert repeats(session) == []


def test_migration_0009_renumbers_repeats_among_waiting_documents(
    app, session, make_request
) -> None:
    """A database numbered per day: three documents ready at the kecamatan as C-001 (on three
    days), two returned from two visits as K-001 at the main office. After 0009 each waiting
    number is held once, the first C-001 keeps its number, the returned get R-numbers, and
    the next number drawn follows on."""
    kecamatan, main = make_request.point("srg-cipocok"), make_request.point("srg-dinas")
    at_kecamatan = [ready(app, make_request, kecamatan, MONDAY) for _ in range(3)]
    returned = [ready(app, make_request, kecamatan, MONDAY) for _ in range(2)]
    for request in returned:
        operations.move(
            session, request, Status.RETURNED, actor=STAFF, now=MONDAY, config=app.config
        )
    session.commit()
    engine = app.extensions["siapambil.db"]["engine"]
    session.close()
    try:
        schema.downgrade(engine, "0008")
        with engine.begin() as connection:
            for day, request in enumerate(at_kecamatan, start=1):
                connection.execute(
                    text("UPDATE requests SET pickup_number = 'C-001', pickup_day = :day "
                         "WHERE id = :id"),
                    {"day": dt.date(2027, 2, day), "id": request.id},
                )  # fmt: skip
            for day, request in enumerate(returned, start=1):
                connection.execute(
                    text("UPDATE requests SET pickup_number = 'K-001', pickup_day = :day "
                         "WHERE id = :id"),
                    {"day": dt.date(2027, 1, day), "id": request.id},
                )  # fmt: skip
        schema.upgrade(engine, "head")
        numbers = {
            r.id: r.pickup_number
            for r in session.scalars(select(Request).where(Request.status.in_(WAITING)))
        }
        lasts = dict(session.execute(select(PickupSeries.key, PickupSeries.last)).all())
        session.commit()
        assert repeats(session) == []
        assert numbers[at_kecamatan[0].id] == "C-001"
        assert sorted(numbers[r.id] for r in at_kecamatan[1:]) == ["C-002", "C-003"]
        assert sorted(numbers[r.id] for r in returned) == ["R-001", "R-002"]
        assert lasts[f"point:{kecamatan.id}"] == 3 and lasts[f"returns:{main.id}"] == 2
        again = make_request.point("srg-cipocok")
        assert ready(app, make_request, again, MONDAY).pickup_number == "C-004"
    finally:
        session.close()
        schema.upgrade(engine)
