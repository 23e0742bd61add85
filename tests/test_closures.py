"""Closures now and later: a closure added inside the windows of waiting documents lengthens
them, replaces their calendar entries and tells each citizen who agreed; one outside every
window, or a refused form, changes nothing; a collective leave day added in the console or by
``setup load`` does the same at every point. The coming closures are listed on the status
page, the board and /pengumuman; the board says "Tutup" and when it opens next whenever the
point is closed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from tests.factories import csrf_token, sign_in
from tests.test_api_keys import bearer, make_key
from tracker.announcements import operations as announce
from tracker.audit.trail import Actor
from tracker.errors import ConflictError
from tracker.models import (
    AuditEntry,
    Channel,
    Closure,
    CollectorKind,
    LeaveDay,
    OutboxMessage,
    Request,
    utcnow,
)
from tracker.places import closures, pickup, workdays
from tracker.places.workdays import is_holiday
from tracker.requests import operations
from tracker.requests.operations import Collector
from tracker.status import Status
from tracker.web.formatters import format_day

POINT = "srg-dinas"
JAKARTA = ZoneInfo("Asia/Jakarta")


def boss_signs_in(client: Any, make_account: Any) -> None:
    account = make_account("supervisor")
    assert sign_in(client, account.username).status_code == 303


def add_closure(client: Any, day: dt.date | str, reason: str = "Rapat dinas") -> Any:
    token = csrf_token(client, f"/staff/points/{POINT}")
    data = {"day": str(day), "reason": reason, "csrf_token": token}
    return client.post(f"/staff/points/{POINT}/closures", data=data)


def waiting(make_request: Any, session: Any, *, consent: bool, language: str = "id") -> Request:
    """A document ready at POINT (the real clock), announced, its citizen agreeing to SMS or
    not."""
    request = make_request(Status.PROCESSING)
    if consent:
        request.consent_notify, request.channel = True, Channel.SMS
    request.language = language
    session.commit()
    make_request.move(request, Status.READY, point=POINT)
    session.commit()
    return request


def open_days(request: Request) -> list[dt.date]:
    """The days the request's point is open within its window."""
    point = request.pickup_point
    first = request.window_starts.astimezone(JAKARTA).date()
    last = request.window_ends.astimezone(JAKARTA).date()
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return [d for d in days if pickup.hours_on(point, d)]


def calendar_fields(client: Any, receipt: str) -> dict[str, str]:
    text = client.get(f"/s/{receipt}/pickup.ics").get_data(as_text=True)
    unfolded = text.replace("\r\n ", "")
    return dict(re.findall(r"^(SEQUENCE|DTSTART|DTEND|SUMMARY)[^:]*:(.*?)\r?$", unfolded, re.M))


def moved_messages(session: Any) -> list[OutboxMessage]:
    session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.event == "window_moved")
    found = list(session.scalars(query.order_by(OutboxMessage.id)))
    session.commit()
    return found


def test_a_closure_inside_waiting_windows_lengthens_them_and_tells_who_agreed(
    client, make_account, make_request, session
) -> None:
    told = waiting(make_request, session, consent=True)
    silent = waiting(make_request, session, consent=False)
    announce.publish(session, utcnow())
    session.commit()
    days = open_days(told)
    closed = days[1]  # a day inside the window, after its first
    before = {r.receipt: (r.window_starts, r.window_ends, r.version) for r in (told, silent)}
    entry = calendar_fields(client, told.receipt)
    assert moved_messages(session) == []

    boss_signs_in(client, make_account)
    answer = add_closure(client, closed)
    assert answer.status_code == 303
    session.expire_all()
    for request in (told, silent):
        starts, ends, version = before[request.receipt]
        assert request.window_starts == starts  # the closure is not on the first day
        assert request.window_ends > ends
        assert closed not in open_days(request)
        assert len(open_days(request)) == len(days)  # as many open days as before
        assert request.version > version
    # The calendar entry is replaced: same UID, a higher SEQUENCE, a later end.
    after = calendar_fields(client, told.receipt)
    assert int(after["SEQUENCE"]) > int(entry["SEQUENCE"])
    assert after["DTSTART"] == entry["DTSTART"] and after["DTEND"] != entry["DTEND"]
    # One message, to the citizen who agreed, in the same unit as the closure.
    messages = moved_messages(session)
    assert [(m.request_id, m.channel) for m in messages] == [(told.id, Channel.SMS)]
    actions = session.scalars(
        select(AuditEntry.target).where(AuditEntry.action == "window_moved")
    ).all()
    assert sorted(actions) == sorted([told.receipt, silent.receipt])
    session.commit()


def test_a_closure_outside_every_window_changes_nothing(
    client, make_account, make_request, session
) -> None:
    told = waiting(make_request, session, consent=True)
    announce.publish(session, utcnow())
    session.commit()
    after_window = told.window_ends.astimezone(JAKARTA).date() + dt.timedelta(days=1)
    before = (told.window_starts, told.window_ends, told.version)
    boss_signs_in(client, make_account)
    assert add_closure(client, after_window).status_code == 303
    session.expire_all()
    assert (told.window_starts, told.window_ends, told.version) == before
    assert moved_messages(session) == []
    # Control: the same closure a day inside the window moves it.
    assert add_closure(client, open_days(told)[-1]).status_code == 303
    session.expire_all()
    assert told.window_ends > before[1] and len(moved_messages(session)) == 1


def test_a_refused_closure_changes_no_window_and_queues_nothing(
    client, make_account, make_request, session
) -> None:
    told = waiting(make_request, session, consent=True)
    announce.publish(session, utcnow())
    session.commit()
    closures = session.scalar(select(func.count()).select_from(Closure))
    messages = session.scalar(select(func.count()).select_from(OutboxMessage))
    before = (told.window_starts, told.window_ends, told.version)
    boss_signs_in(client, make_account)
    answer = add_closure(client, open_days(told)[1], reason="x" * 201)
    assert answer.status_code == 400
    session.expire_all()
    assert (told.window_starts, told.window_ends, told.version) == before
    assert session.scalar(select(func.count()).select_from(Closure)) == closures
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == messages
    session.commit()
    # Control: the same closure with a reason that fits is added and moves the window.
    assert add_closure(client, open_days(told)[1]).status_code == 303
    session.expire_all()
    assert told.window_ends > before[1] and len(moved_messages(session)) == 1


def test_the_status_page_and_pengumuman_list_the_coming_closures(
    client, make_request, session
) -> None:
    told = waiting(make_request, session, consent=False)
    point = make_request.point(POINT)
    today = utcnow().astimezone(JAKARTA).date()
    soon, far = today + dt.timedelta(days=3), today + dt.timedelta(days=60)
    point.closures.append(Closure(day=soon, reason="<b>Rapat</b> & apel"))
    point.closures.append(Closure(day=far, reason="Jauh sekali"))
    session.commit()
    for page in (f"/s/{told.receipt}", f"/pengumuman?titik={POINT}"):
        body = client.get(page).get_data(as_text=True)
        assert "Tutup pada" in body, page
        assert f'datetime="{soon.isoformat()}"' in body, page
        assert "&lt;b&gt;Rapat&lt;/b&gt; &amp; apel" in body and "<b>Rapat" not in body, page
        assert "Jauh sekali" not in body, page  # beyond the next 30 days
    # Control: a point without coming closures lists none.
    other = client.get("/pengumuman?titik=srg-cipocok").get_data(as_text=True)
    assert "Tutup pada" not in other


def a_plain_weekday(point: Any, start: dt.date) -> dt.date:
    """The first day from ``start`` on which the point opens and the next day too (so that
    the board's "opens again" is the next morning)."""
    day = start
    while not (pickup.hours_on(point, day) and pickup.hours_on(point, day + dt.timedelta(1))):
        day += dt.timedelta(days=1)
    return day


def hours_line(client: Any, query: str = "") -> str:
    body = client.get(f"/board/{POINT}{query}").get_data(as_text=True)
    found = re.search(r'data-role="hours">([^<]*)<', body)
    assert found is not None
    return found[1]


def test_the_board_says_closed_and_when_it_opens_next(client, make_request, session) -> None:
    point = make_request.point(POINT)
    day = a_plain_weekday(point, dt.date(2027, 3, 8))
    assert not is_holiday(day)
    opens, closes = pickup.hours_on(point, day)[0][0], pickup.hours_on(point, day)[-1][1]
    next_day = day + dt.timedelta(days=1)
    next_opens = pickup.hours_on(point, next_day)[0][0]
    at = dt.datetime.combine(day, dt.time(22, 49), JAKARTA)
    with time_machine.travel(at, tick=False):
        line = hours_line(client)
    assert line.startswith("Tutup · buka lagi"), line
    assert "Buka hari ini" not in line
    assert f"{next_opens:%H.%M}" in line
    # Before opening the same day: closed, opens again today.
    with time_machine.travel(dt.datetime.combine(day, dt.time(6, 0), JAKARTA), tick=False):
        assert hours_line(client) == f"Tutup · buka lagi hari ini {opens:%H.%M}"
    # Control: in its hours it is open.
    middle = dt.datetime.combine(day, opens, JAKARTA) + dt.timedelta(minutes=30)
    with time_machine.travel(middle, tick=False):
        line = hours_line(client)
    assert line.startswith("Buka hari ini") and f"{closes:%H.%M}" in line, line
    # A closure that day: closed all day, and the board lists it with its reason.
    point.closures.append(Closure(day=day, reason="Rapat dinas"))
    session.commit()
    with time_machine.travel(middle, tick=False):
        line = hours_line(client)
        body = client.get(f"/board/{POINT}").get_data(as_text=True)
        data = client.get(f"/api/v1/points/{POINT}/board").get_json()
    assert line.startswith("Tutup · buka lagi") and f"{next_opens:%H.%M}" in line, line
    assert "Rapat dinas" in body
    assert data["today"]["periods"] == []
    assert data["today"]["next_open"].startswith(next_day.isoformat())
    assert data["closures"][0] == {"date": day.isoformat(), "reason": "Rapat dinas"}


@pytest.fixture
def no_leave_days() -> Any:
    """The test starts and ends with a calendar of national holidays only."""
    workdays.set_leave_days(frozenset())
    yield
    workdays.set_leave_days(frozenset())


def add_leave_day(client: Any, day: dt.date) -> Any:
    token = csrf_token(client, "/staff/leave-days")
    data = {"day": day.isoformat(), "name": "Cuti bersama", "csrf_token": token}
    return client.post("/staff/leave-days", data=data)


def common_day(*requests: Request) -> dt.date:
    """A day on which every request's point is open within its window, after its first."""
    shared = set.intersection(*(set(open_days(r)[1:]) for r in requests))
    return min(shared)


def windows(session: Any, *requests: Request) -> list[tuple]:
    session.expire_all()
    found = [(r.window_starts, r.window_ends, r.version) for r in requests]
    session.commit()
    return found


def test_a_leave_day_inside_waiting_windows_lengthens_them_at_every_point(
    client, make_account, make_request, session, no_leave_days
) -> None:
    """Cuti bersama shuts every office: a leave day added in the console lengthens the windows
    of the documents waiting over it, at the points of every office, and tells who agreed, as
    a closure does at one point. Control: a leave day after every window moves none, and
    removing the day moves none back."""
    told = waiting(make_request, session, consent=True)
    elsewhere = make_request(Status.PROCESSING, office="36.02", nik="3602015212900003")
    make_request.move(elsewhere, Status.READY, point="lbk-dinas")
    session.commit()
    announce.publish(session, utcnow())
    session.commit()
    day = common_day(told, elsewhere)
    counts = [len(open_days(told)), len(open_days(elsewhere))]
    before = windows(session, told, elsewhere)
    after_all = max(r.window_ends for r in (told, elsewhere)).astimezone(JAKARTA).date()
    later = after_all + dt.timedelta(days=1)
    admin = make_account("admin")
    assert sign_in(client, admin.username).status_code == 303

    assert add_leave_day(client, later).status_code == 303  # control: after every window
    assert windows(session, told, elsewhere) == before and moved_messages(session) == []

    answer = add_leave_day(client, day)
    assert answer.status_code == 303
    flashed = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "2 dokumen yang menunggu" in flashed, flashed
    moved = windows(session, told, elsewhere)
    workdays.set_leave_days(frozenset({later, day}))  # what every worker counts from now
    for (starts, ends, version), (starts2, ends2, version2), request, count in zip(
        before, moved, (told, elsewhere), counts, strict=True
    ):
        assert starts2 == starts and ends2 > ends and version2 > version
        assert day not in open_days(request) and len(open_days(request)) == count
    messages = moved_messages(session)
    assert [(m.request_id, m.channel) for m in messages] == [(told.id, Channel.SMS)]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "window_moved")).all()
    assert sorted(a.target for a in audit) == sorted([told.receipt, elsewhere.receipt])
    added = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "leave_day_added").order_by(AuditEntry.id)
    ).all()
    assert [a.details["moved"] for a in added] == [0, 2]
    leave_id = session.scalar(select(LeaveDay.id).where(LeaveDay.day == day))
    session.commit()

    token = csrf_token(client, "/staff/leave-days")
    removed = client.post(f"/staff/leave-days/{leave_id}/delete", data={"csrf_token": token})
    assert removed.status_code == 303
    assert windows(session, told, elsewhere) == moved  # nobody is told to come sooner


def test_setup_load_of_a_new_leave_day_lengthens_waiting_windows_once(
    runner, make_request, session, tmp_path, no_leave_days
) -> None:
    """A new leave day from ``setup load`` does what one added in the console does; loading
    the same file again moves nothing more."""
    told = waiting(make_request, session, consent=True)
    announce.publish(session, utcnow())
    session.commit()
    day = common_day(told)
    count = len(open_days(told))
    before = windows(session, told)
    path = tmp_path / "leave.yaml"
    path.write_text(f'leave_days:\n  - {{day: "{day.isoformat()}", name: Cuti bersama}}\n')

    first = runner.invoke(args=["setup", "load", str(path)])
    assert first.exit_code == 0, first.output
    assert "1 dokumen yang menunggu" in first.output, first.output
    moved = windows(session, told)
    assert moved[0][0] == before[0][0] and moved[0][1] > before[0][1]
    workdays.set_leave_days(frozenset({day}))
    assert day not in open_days(told) and len(open_days(told)) == count
    assert len(moved_messages(session)) == 1

    again = runner.invoke(args=["setup", "load", str(path)])  # control: the day is on file
    assert again.exit_code == 0, again.output
    assert "dokumen yang menunggu" not in again.output
    assert windows(session, told) == moved and len(moved_messages(session)) == 1


def expected(session: Any, *requests: Request) -> list[tuple[dt.date, int]]:
    session.expire_all()
    found = [(r.expected_on, r.version) for r in requests]
    session.commit()
    return found


def test_a_leave_day_moves_the_expected_dates_of_requests_in_progress_over_it(
    client, make_account, make_request, session, no_leave_days
) -> None:
    """A leave day is not a working day of the legal target: added in the console, it moves
    the expected date of each request still being worked on (the clock running, or waiting on
    the citizen) a working day later, when it falls after the day of application in the
    office's zone and on or before the expected date; the API answers the new date. Controls:
    a request applied for on the day itself (00.30 WIB, still the day before in UTC), a
    document already ready, and a leave day after every expected date move nothing."""
    monday = dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC)  # Monday 1 February 2027, 09.00 WIB
    day = dt.date(2027, 2, 3)  # the Wednesday
    working = make_request(Status.PROCESSING, at=monday)
    paused = make_request(Status.NEEDS_FIX, at=monday)
    evening = make_request(at=dt.datetime(2027, 2, 2, 16, 30, tzinfo=dt.UTC))  # 23.30 WIB, 2nd
    same_day = make_request(at=dt.datetime(2027, 2, 2, 17, 30, tzinfo=dt.UTC))  # 00.30 WIB, 3rd
    ready = make_request(Status.READY, at=monday)
    everyone = (working, paused, evening, same_day, ready)
    before = expected(session, *everyone)
    assert all(on >= day for on, _ in before)  # each one's count of working days takes it in
    admin = make_account("admin")
    assert sign_in(client, admin.username).status_code == 303

    later = max(on for on, _ in before) + dt.timedelta(days=1)
    assert add_leave_day(client, later).status_code == 303  # control: after every date
    # (the ready document's window may take the day in and grow: its version goes up then)
    assert expected(session, *everyone)[:4] == before[:4]
    before = expected(session, *everyone)

    answer = add_leave_day(client, day)
    assert answer.status_code == 303
    flashed = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "3 permohonan yang sedang diproses kini mundur satu hari kerja" in flashed, flashed
    after = expected(session, *everyone)
    with workdays.counting_also(frozenset({later, day})):
        for (on, version), (on2, version2) in zip(before[:3], after[:3], strict=True):
            assert on2 == workdays.add_working_days(on, 1) and on2 > on and version2 > version
    assert after[3] == before[3]  # applied for on the day itself: as it was
    assert after[4][0] == before[4][0]  # ready: its expected date is history
    api = client.get(f"/api/v1/requests/{working.receipt}").get_json()
    assert api["expected_ready_on"] == after[0][0].isoformat()
    [row] = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "expected_dates_deferred")
    ).all()
    assert (row.target, row.details["requests"]) == (day.isoformat(), 3)
    session.commit()


def test_the_status_page_says_which_leave_days_its_expected_date_counts_as_closed(
    client, make_account, make_request, session, no_leave_days
) -> None:
    """A citizen whose expected date a leave day put off reads why beside it. Controls: a
    request applied for on the leave day itself (the day is not counted for it), and a
    document already ready (its expected date is history), say nothing of it."""
    monday = dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC)  # Monday 1 February 2027, 09.00 WIB
    day = dt.date(2027, 2, 3)
    working = make_request(Status.PROCESSING, at=monday)
    same_day = make_request(at=dt.datetime(2027, 2, 3, 2, 0, tzinfo=dt.UTC))
    ready = make_request(Status.READY, at=monday)
    said = f"cuti bersama {format_day(day, 'id')} tidak dihitung sebagai hari kerja"
    assert said not in client.get(f"/s/{working.receipt}").get_data(as_text=True)  # control
    admin = make_account("admin")
    assert sign_in(client, admin.username).status_code == 303
    assert add_leave_day(client, day).status_code == 303

    assert said in client.get(f"/s/{working.receipt}").get_data(as_text=True)
    for control in (same_day, ready):
        assert said not in client.get(f"/s/{control.receipt}").get_data(as_text=True)
    english = client.get(f"/s/{working.receipt}?lang=en").get_data(as_text=True)
    assert f"the collective leave day of {format_day(day, 'en')} is not counted" in english


def test_setup_load_of_a_new_leave_day_moves_expected_dates_once(
    runner, make_request, session, tmp_path, no_leave_days
) -> None:
    """``setup load`` of a new leave day moves expected dates as the console does; loading
    the same file again (the day on file) moves nothing more."""
    monday = dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC)
    working = make_request(Status.VERIFYING, at=monday)
    [(on, _)] = expected(session, working)
    path = tmp_path / "leave.yaml"
    path.write_text('leave_days:\n  - {day: "2027-02-02", name: Cuti bersama}\n')

    first = runner.invoke(args=["setup", "load", str(path)])
    assert first.exit_code == 0, first.output
    assert "1 permohonan yang sedang diproses" in first.output, first.output
    with workdays.counting_also(frozenset({dt.date(2027, 2, 2)})):
        assert expected(session, working)[0][0] == workdays.add_working_days(on, 1)
    moved = expected(session, working)

    again = runner.invoke(args=["setup", "load", str(path)])  # control: the day is on file
    assert again.exit_code == 0, again.output
    assert "sedang diproses" not in again.output and expected(session, working) == moved


def test_a_setup_load_longer_than_the_settling_lists_its_changes_again(
    app, runner, make_request, session, tmp_path, no_leave_days
) -> None:
    """The changes of a unit of work carry its start, and a bridge's list shows them
    ``CHANGES_SETTLE_SECONDS`` after that. A ``setup load`` that moved dates and took longer
    committed behind where a bridge that read meanwhile may have got to: it marks what it
    changed as changed again at its end, and says so. Control: one within the settling
    leaves the stamp of its start."""
    monday = dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC)
    request = make_request(Status.VERIFYING, at=monday)
    path = tmp_path / "leave.yaml"

    def stamps() -> tuple[dt.datetime, dt.datetime]:
        session.expire_all()
        began = session.scalars(
            select(AuditEntry.at)
            .where(AuditEntry.action == "expected_dates_deferred")
            .order_by(AuditEntry.id.desc())
        ).first()
        changed = session.get(Request, request.id).changed_at
        session.commit()
        return began, changed

    path.write_text('leave_days:\n  - {day: "2027-02-02", name: Cuti bersama}\n')
    app.config["CHANGES_SETTLE_SECONDS"] = 3600  # control
    within = runner.invoke(args=["setup", "load", str(path)])
    assert within.exit_code == 0 and "1 permohonan" in within.output, within.output
    assert "CHANGES_SETTLE_SECONDS" not in within.output
    began, changed = stamps()
    assert changed == began  # the unit's own moment

    path.write_text(
        'leave_days:\n  - {day: "2027-02-02", name: Cuti bersama}\n'
        '  - {day: "2027-02-03", name: Cuti bersama}\n'
    )
    app.config["CHANGES_SETTLE_SECONDS"] = 0.001  # a load takes longer than a millisecond
    longer = runner.invoke(args=["setup", "load", str(path)])
    assert longer.exit_code == 0 and "1 permohonan" in longer.output, longer.output
    found = re.search(
        r"lebih lama dari CHANGES_SETTLE_SECONDS \(0.001 detik\): 1 permohonan yang diubahnya "
        r"didaftarkan lagi .* (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\.",
        longer.output,
    )
    assert found, longer.output
    began, changed = stamps()
    assert changed > began  # listed again, after the unit committed
    assert changed.isoformat(timespec="seconds").replace("+00:00", "Z") == found.group(1)


def test_a_window_changed_meanwhile_is_a_conflict_and_nothing_is_stored(
    app, make_request, session, no_leave_days
) -> None:
    """The windows a closure or a leave day moves are stored in one statement, each only while
    its version is the one read: a document another writer changed after it was read (here:
    collected) makes the whole move a ConflictError, and its row keeps the other writer's
    change. Control: the same move of a document nobody touched is stored, version up."""
    first, second = (waiting(make_request, session, consent=False) for _ in range(2))
    day = common_day(first, second)
    [before] = windows(session, first)
    ids, receipt = (first.id, second.id), first.receipt
    session.commit()  # on SQLite the test's session must hold no lock while the units write
    writer = app.extensions["siapambil.db"]["writer"]
    with writer() as unit:
        held = [unit.get(Request, i) for i in ids]
        point = held[0].pickup_point
        unit.commit()  # read, transaction ended: what a long form's unit holds meanwhile
        with writer() as other:
            operations.move(
                other, other.get(Request, ids[1]), Status.COLLECTED, actor=Actor("op1"),
                now=utcnow(), config=app.config,
                collector=Collector(CollectorKind.SELF, id_checked=True),
            )  # fmt: skip
            other.commit()
        counted = closures._open_days(point, held)
        point.closures.append(Closure(day=day, reason="Rapat"))
        with pytest.raises(ConflictError):
            closures._lengthen(unit, point, day, held, counted, Actor("admin1"), utcnow())
        unit.rollback()
    assert windows(session, first) == [before]  # nothing stored

    with writer() as unit:  # control: only the untouched one
        held = [unit.get(Request, ids[0])]
        point = held[0].pickup_point
        counted = closures._open_days(point, held)
        point.closures.append(Closure(day=day, reason="Rapat"))
        moved = closures._lengthen(unit, point, day, held, counted, Actor("admin1"), utcnow())
        unit.commit()
    assert moved == [receipt]
    [(starts, ends, version)] = windows(session, first)
    assert (starts, version) == (before[0], before[2] + 1) and ends > before[1]


def test_the_console_refuses_a_leave_day_over_more_than_it_moves_in_a_page(
    app, client, make_account, make_request, session, no_leave_days
) -> None:
    """A leave day over more waiting documents and requests in progress than
    ``LEAVE_DAY_CONSOLE_MOST`` is refused in the console, naming how many and ``setup
    load``, and nothing changes (no leave day, no date moved); control: with the bound at
    the count, the same form adds it and moves them."""
    monday = dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC)
    day = dt.date(2027, 2, 3)
    working = [make_request(Status.PROCESSING, at=monday) for _ in range(3)]
    before = expected(session, *working)
    admin = make_account("admin")
    assert sign_in(client, admin.username).status_code == 303
    app.config["LEAVE_DAY_CONSOLE_MOST"] = 2

    refused = add_leave_day(client, day)
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "sekitar 3 dokumen dan permohonan" in text and "setup load" in text, text
    assert (
        session.scalars(select(LeaveDay.day)).all() == [] and expected(session, *working) == before
    )
    session.commit()

    app.config["LEAVE_DAY_CONSOLE_MOST"] = 3  # control
    assert add_leave_day(client, day).status_code == 303
    assert all(a[0] > b[0] for a, b in zip(expected(session, *working), before, strict=True))


def read_every_change(client: Any, token: str) -> tuple[dict, str]:
    """What a bridge reads of every change so far, a page of one at a time: the last row,
    and the cursor after it."""
    cursor, last = None, None
    while True:
        url = "/api/v1/requests?limit=1" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bearer(token)).get_json()
        if not page["requests"]:
            break
        last, cursor = page["requests"][-1], page["next_cursor"] or cursor
    assert last is not None and cursor is not None
    return last, cursor


def test_a_bridge_reads_a_window_a_closure_moved_as_a_change(
    client, make_account, make_request, session
) -> None:
    """An office's bridge that has read every change (its last full page's cursor) finds the
    document again once a closure moves its window: the new window and a higher version.
    ``updated_at`` in the database, the moment it became ready that the board orders by,
    stays. Control: from the same cursor, before the closure, there is nothing new."""
    ready = waiting(make_request, session, consent=False)
    ready_since = ready.updated_at
    token = make_key(session, "bridge")
    last, cursor = read_every_change(client, token)
    assert last["receipt"] == ready.receipt
    news = f"/api/v1/requests?cursor={cursor}"
    assert client.get(news, headers=bearer(token)).get_json()["requests"] == []  # control

    boss_signs_in(client, make_account)
    assert add_closure(client, open_days(ready)[1]).status_code == 303
    [seen] = client.get(news, headers=bearer(token)).get_json()["requests"]
    assert seen["receipt"] == ready.receipt and seen["version"] > last["version"]
    assert seen["pickup"]["window"]["ends"] > last["pickup"]["window"]["ends"]
    assert seen["updated_at"] > last["updated_at"]
    session.expire_all()
    assert ready.updated_at == ready_since  # the board still counts it ready since then
    session.commit()


def test_a_bridge_reads_an_expected_date_a_leave_day_put_off_as_a_change(
    client, make_account, make_request, session, no_leave_days
) -> None:
    """An office's bridge that has read every change finds a request in progress again once
    a collective leave day puts its expected date off: the new date and a higher version,
    ordered after everything it read. Control: from the same cursor, before the leave day,
    there is nothing new."""
    monday = dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC)  # Monday 1 February 2027, 09.00 WIB
    day = dt.date(2027, 2, 3)
    with time_machine.travel(monday, tick=True):
        working = make_request(Status.PROCESSING, at=monday)
        token = make_key(session, "bridge")
        last, cursor = read_every_change(client, token)
        assert last["receipt"] == working.receipt
        assert last["expected_ready_on"] == expected(session, working)[0][0].isoformat()
        news = f"/api/v1/requests?cursor={cursor}"
        assert client.get(news, headers=bearer(token)).get_json()["requests"] == []  # control

        admin = make_account("admin")
        assert sign_in(client, admin.username).status_code == 303
        assert add_leave_day(client, day).status_code == 303
        [seen] = client.get(news, headers=bearer(token)).get_json()["requests"]
    [(on, version)] = expected(session, working)
    assert seen["receipt"] == working.receipt and seen["version"] == version > last["version"]
    assert seen["expected_ready_on"] == on.isoformat() > last["expected_ready_on"]
    assert seen["updated_at"] > last["updated_at"] and seen["status"] == last["status"]
