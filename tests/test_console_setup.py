"""The admins' console for what ``setup load`` loads: services (names, legal target, what to
bring), the collective leave days of a year, and an office's name, kind, time zone and
address. Only admins may change them; a refused form changes nothing; every change leaves
one audit row; a leave day changed on one app reaches another app on the same database."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.factories import csrf_token, sign_in, wait_until_blocked, week, while_held
from tracker import create_app
from tracker.audit.trail import Actor
from tracker.db import unit_of_work
from tracker.errors import CodeTaken, NoOpeningHours
from tracker.intake import operations as intake
from tracker.models import (
    AuditEntry,
    LeaveDay,
    Office,
    PickupPoint,
    PointKind,
    Request,
    Service,
    utcnow,
)
from tracker.places import leave, pickup, services, workdays
from tracker.status import Status
from tracker.web.errorpages import taken_meanwhile


@pytest.fixture(autouse=True)
def no_leave_days() -> Any:
    """Each test starts and ends with a calendar of national holidays only."""
    workdays.set_leave_days(frozenset())
    yield
    workdays.set_leave_days(frozenset())


def post(client: Any, path: str, data: dict[str, Any], page: str = "/staff/") -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def audit_rows(session: Any, action: str) -> list[AuditEntry]:
    session.expire_all()
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
    session.rollback()
    return rows


def service_row(session: Any, code: str) -> tuple:
    session.expire_all()
    found = session.scalars(select(Service).where(Service.code == code)).one()
    values = (found.name_id, found.name_en, found.target_days, found.bring_id, found.bring_en)
    session.rollback()
    return values


@pytest.fixture
def admin(client: Any, make_account: Any) -> Any:
    account = make_account("admin")
    assert sign_in(client, account.username).status_code == 303
    return account


KK = {
    "name_id": "Kartu Keluarga",
    "name_en": "Family card",
    "target_days": "7",
    "bring_id": "Formulir F-1.01 dan surat pengantar RT/RW.",
    "bring_en": "Form F-1.01 and a letter from the RT/RW.",
    "offered": "y",
}


def test_an_admin_lists_and_changes_a_service_from_then_on(
    client, admin, session, make_request
):  # fmt: skip
    listed = client.get("/staff/services")
    assert listed.status_code == 200
    assert "/staff/services/kk" in listed.get_data(as_text=True)
    old_target = service_row(session, "kk")[2]
    before = make_request(Status.SUBMITTED, service="kk")
    expected_before = before.expected_on
    assert old_target != 7

    saved = post(client, "/staff/services/kk", KK, "/staff/services/kk")
    assert saved.status_code == 303
    assert service_row(session, "kk") == (
        KK["name_id"], KK["name_en"], 7, KK["bring_id"], KK["bring_en"],
    )  # fmt: skip
    [row] = audit_rows(session, "service_changed")
    assert row.target == "kk" and row.actor == admin.username
    assert row.details["target_days"] == {"from": old_target, "to": 7}

    # A request registered before keeps its expected date; one registered after counts 7.
    session.expire_all()
    assert session.get(Request, before.id).expected_on == expected_before
    after = make_request(Status.SUBMITTED, service="kk")
    local_day = after.created_at.astimezone(ZoneInfo("Asia/Jakarta")).date()
    assert after.expected_on == workdays.add_working_days(local_day, 7)
    assert before.expected_on == workdays.add_working_days(
        before.created_at.astimezone(ZoneInfo("Asia/Jakarta")).date(), old_target
    )

    # The same form again changes nothing and leaves no second row.
    again = post(client, "/staff/services/kk", KK, "/staff/services/kk")
    assert again.status_code == 303
    assert len(audit_rows(session, "service_changed")) == 1


@pytest.mark.parametrize(
    ("field", "value", "told"),
    [
        ("target_days", "0", "Target (working days)"),
        ("target_days", "91", "Target (working days)"),
        ("target_days", "tiga", "Target (working days)"),
        ("target_days", "", "Target (working days)"),
        ("name_id", "   ", "Name (Indonesian)"),
        ("name_en", "Family\x00card", "Name (English)"),
        ("bring_id", "x" * 1001, "What to bring (Indonesian)"),
    ],
)
def test_a_refused_service_form_changes_nothing_and_names_the_field(
    client, admin, session, field, value, told
):  # fmt: skip
    before = service_row(session, "kk")
    answer = post(client, "/staff/services/kk", {**KK, field: value}, "/staff/services/kk")
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert "Layanan tidak disimpan" in body  # Indonesian first
    assert f'id="{field}-error"' in body
    assert service_row(session, "kk") == before
    assert audit_rows(session, "service_changed") == []
    # Control: the same form with the field as it was is saved.
    assert post(client, "/staff/services/kk", KK, "/staff/services/kk").status_code == 303
    assert service_row(session, "kk") != before


def test_an_unknown_service_is_not_found(client, admin):
    assert client.get("/staff/services/tidak-ada").status_code == 404
    assert client.get("/staff/services/kk").status_code == 200  # control


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_staff_and_supervisors_are_refused_the_admins_pages(
    client, make_account, session, role
):  # fmt: skip
    account = make_account(role)
    assert sign_in(client, account.username).status_code == 303
    session.add(LeaveDay(day=dt.date(2031, 1, 9), name="Cuti bersama"))
    session.commit()
    leave_id = session.scalars(select(LeaveDay.id)).one()
    session.rollback()
    before = (service_row(session, "kk"), _days(session))
    token = csrf_token(client, "/staff/")
    calls = [
        client.get("/staff/services"),
        client.get("/staff/services/kk"),
        client.get("/staff/leave-days"),
        client.post("/staff/services/kk", data={**KK, "csrf_token": token}),
        client.post(
            "/staff/leave-days", data={"day": "2031-01-10", "name": "Cuti", "csrf_token": token}
        ),  # fmt: skip
        client.post(f"/staff/leave-days/{leave_id}/delete", data={"csrf_token": token}),
        client.post(
            "/staff/offices/36.73/details",
            data={
                "name": "Dinas",
                "kind": "dinas",
                "timezone": "Asia/Makassar",
                "address": "",
                "csrf_token": token,
            },
        ),  # fmt: skip
    ]
    assert [c.status_code for c in calls] == [403] * len(calls)
    assert (service_row(session, "kk"), _days(session)) == before
    assert len(audit_rows(session, "denied")) == len(calls)


def _days(session: Any) -> list[tuple[dt.date, str]]:
    session.expire_all()
    found = [(d.day, d.name) for d in session.scalars(select(LeaveDay).order_by(LeaveDay.day))]
    session.rollback()
    return found


def test_an_admin_adds_and_removes_leave_days_of_a_year(client, admin, session):
    page = client.get("/staff/leave-days?tahun=2031")
    assert page.status_code == 200 and "2031" in page.get_data(as_text=True)
    added = post(client, "/staff/leave-days",
                 {"day": "2031-03-21", "name": "Cuti bersama Nyepi"})  # fmt: skip
    assert added.status_code == 303 and added.headers["Location"].endswith("tahun=2031")
    assert _days(session) == [(dt.date(2031, 3, 21), "Cuti bersama Nyepi")]
    listed = client.get("/staff/leave-days?tahun=2031").get_data(as_text=True)
    assert "Cuti bersama Nyepi" in listed
    assert "Cuti bersama Nyepi" not in client.get("/staff/leave-days?tahun=2030").get_data(
        as_text=True
    )  # another year's list does not show it

    twice = post(client, "/staff/leave-days", {"day": "2031-03-21", "name": "Lagi"})
    assert twice.status_code == 409
    assert "sudah" in twice.get_data(as_text=True)
    assert _days(session) == [(dt.date(2031, 3, 21), "Cuti bersama Nyepi")]

    leave_id = session.scalars(select(LeaveDay.id)).one()
    session.rollback()
    removed = post(client, f"/staff/leave-days/{leave_id}/delete", {})
    assert removed.status_code == 303
    assert _days(session) == []
    gone = post(client, f"/staff/leave-days/{leave_id}/delete", {})  # a second click
    assert gone.status_code == 303
    assert [r.target for r in audit_rows(session, "leave_day_added")] == ["2031-03-21"]
    assert [r.target for r in audit_rows(session, "leave_day_removed")] == ["2031-03-21"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"day": "", "name": "Cuti"}, "day"),
        ({"day": "31-03-2031", "name": "Cuti"}, "day"),
        ({"day": "1999-12-31", "name": "Cuti"}, "day"),
        ({"day": "2031-03-21", "name": ""}, "name"),
        ({"day": "2031-03-21", "name": "Cuti\nbersama"}, "name"),
    ],
)
def test_a_refused_leave_day_changes_nothing(client, admin, session, data, field):
    answer = post(client, "/staff/leave-days", data)
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert "Hari cuti bersama tidak ditambahkan" in body and f'id="{field}-error"' in body
    assert _days(session) == [] and audit_rows(session, "leave_day_added") == []
    ok = post(client, "/staff/leave-days", {"day": "2031-03-21", "name": "Cuti"})
    assert ok.status_code == 303  # control


def test_a_post_without_its_csrf_token_is_refused(client, admin, session):
    answer = client.post("/staff/leave-days", data={"day": "2031-03-21", "name": "Cuti"})
    assert answer.status_code == 400
    changed = client.post("/staff/services/kk", data=KK)
    assert changed.status_code == 400
    assert _days(session) == [] and audit_rows(session, "service_changed") == []


def _next_working_day(day: dt.date) -> dt.date:
    return workdays.add_working_days(day, 1)


def test_a_leave_day_added_on_one_app_reaches_another_on_the_same_database(
    app, app_config, client, admin, session
):  # fmt: skip
    """Two apps stand for two workers (or hosts) on one database. The second registers a
    request after the first added a leave day inside its service time: a unit that writes
    reads the leave days again, whatever the interval, so its expected date moves a working
    day later. Control: an app without the hook that reads them keeps the old date."""
    username = admin.username
    kk = session.scalars(select(Service).where(Service.code == "kk")).one()
    target, kk_id = kk.target_days, kk.id
    session.rollback()
    other = create_app({**app_config, "LEAVE_DAYS_CHECK_SECONDS": 3600})
    stale = create_app({**app_config, "LEAVE_DAYS_CHECK_SECONDS": 3600})
    for hooks in ("on_unit", "on_write_begin"):  # no propagation: the days of its start
        stale.extensions["siapambil.db"][hooks].clear()
    today = utcnow().astimezone(ZoneInfo("Asia/Jakarta")).date()
    leave_day = _next_working_day(today)

    added = post(client, "/staff/leave-days", {"day": leave_day.isoformat(), "name": "Cuti"})
    assert added.status_code == 303

    def register(on: Any, nik: str) -> dt.date:
        desk = on.test_client()
        assert sign_in(desk, username).status_code == 303
        taken = post(desk, "/staff/intake", {
            "service": str(kk_id), "applicant_name": "Siti Rahmawati",
            "nik": nik, "handover": "pickup", "channel": "sms"}, "/staff/intake")  # fmt: skip
        assert taken.status_code == 303, taken.get_data(as_text=True)
        receipt = taken.headers["Location"].split("/r/")[1].split("/")[0]
        found = session.scalars(select(Request).where(Request.receipt == receipt)).one()
        created_at, expected_on = found.created_at, found.expected_on
        session.rollback()  # the test's session is a writer: end its transaction at once
        day = created_at.astimezone(ZoneInfo("Asia/Jakarta")).date()
        assert day == today  # the same local day as the leave day was chosen for
        return expected_on

    without = frozenset()
    with_leave = frozenset({leave_day})
    workdays.set_leave_days(without)
    old_date = workdays.add_working_days(today, target)
    workdays.set_leave_days(with_leave)
    new_date = workdays.add_working_days(today, target)
    assert new_date > old_date
    workdays.set_leave_days(without)  # what every app of this process knew before the change

    try:
        assert register(other, "3673015212900003") == new_date
        # Control: its own process would hold the days it read at its start.
        workdays.set_leave_days(stale.extensions["siapambil.calendar"].days)
        assert register(stale, "3673015212900004") == old_date
    finally:
        for made in (other, stale):
            made.extensions["siapambil.db"]["engine"].dispose()


# A Monday, 10.00 WIB, and the Wednesday after it: inside any service's working days.
RACE_NOW = dt.datetime(2031, 3, 17, 3, 0, tzinfo=dt.UTC)
RACE_DAY = dt.date(2031, 3, 19)


def _registering(app: Any) -> tuple[Any, Any, Any]:
    """A writing unit of work entered (its days handed over, no transaction yet), with the
    office and service it registers for, and the expected dates without and with the day."""
    with unit_of_work(app) as reading:
        office_id = reading.scalars(select(Office.id).where(Office.code == "36.73")).one()
        service_id = reading.scalars(select(Service.id).where(Service.code == "kk")).one()
        target = reading.get(Service, service_id).target_days
        on_file = frozenset(reading.scalars(select(LeaveDay.day)))
    workdays.set_leave_days(on_file)
    without = workdays.add_working_days(RACE_NOW.date(), target)
    workdays.set_leave_days(on_file | {RACE_DAY})
    with_day = workdays.add_working_days(RACE_NOW.date(), target)
    workdays.set_leave_days(on_file)
    assert RACE_NOW.date() < RACE_DAY < without < with_day
    return (office_id, service_id), without, with_day


def _register(unit: Any, ids: tuple[int, int]) -> str:
    return intake.register(
        unit, office=unit.get(Office, ids[0]), service=unit.get(Service, ids[1]),
        applicant_name="Siti Rahmawati", actor=Actor("loket"), now=RACE_NOW,
    ).receipt  # fmt: skip


def _expected(app: Any, receipt: str) -> dt.date:
    with unit_of_work(app) as check:
        return check.scalars(select(Request.expected_on).where(Request.receipt == receipt)).one()


def _add_day(app: Any, done: list[Any]) -> None:
    try:
        with unit_of_work(app) as unit:
            leave.add(unit, RACE_NOW, Actor("admin"), RACE_DAY, "Cuti bersama", most=1000)
        done.append("added")
    except Exception as error:  # noqa: BLE001 - the test reports it
        done.append(error)


@pytest.mark.parametrize("hooked", [True, False], ids=["locked", "control"])
def test_a_leave_day_added_while_a_request_is_registered_waits_and_moves_its_date(app, hooked):
    """A counter's unit has begun writing (its days read: no leave day) when an admin adds
    one inside the service time. The adding waits for the counter's transaction (PostgreSQL:
    the calendar's lock, seen in ``pg_stat_activity``; SQLite: the one writer), so its moves
    find the new request on file and put its expected date a working day later. Control on
    PostgreSQL: a writing transaction that does not take the calendar's lock (its hook
    removed) lets the adding finish first, and the request keeps a date that does not count
    the day."""
    if not hooked:
        if not app.config["DATABASE_URL"].startswith("postgresql"):
            pytest.skip("on SQLite the one-writer rule makes the adding wait anyway")
        app.extensions["siapambil.db"]["on_write_begin"].clear()
    ids, without, with_day = _registering(app)
    done: list[Any] = []
    adding = threading.Thread(target=_add_day, args=(app, done))
    with unit_of_work(app) as counter:
        counter.execute(select(1))  # its transaction begins: the days as they are
        adding.start()
        if hooked:
            wait_until_blocked(app, "the adding of the leave day")
        else:
            adding.join(timeout=30)
            assert done == ["added"]  # it did not wait
        receipt = _register(counter, ids)
    adding.join(timeout=30)
    assert done == ["added"]
    assert _expected(app, receipt) == (with_day if hooked else without)


@pytest.mark.parametrize("hooked", [True, False], ids=["read-in", "control"])
def test_a_unit_that_begins_writing_after_a_leave_day_was_added_counts_it(app, hooked):
    """A counter's unit of work was entered before an admin added a leave day, and begins
    its transaction after: it reads the days as that transaction begins, so the new
    request's expected date counts the day. Control: without that read (its hook removed),
    the unit counts with the days it held when entered, as units did before."""
    if not hooked:
        app.extensions["siapambil.db"]["on_write_begin"].clear()
    ids, without, with_day = _registering(app)
    done: list[Any] = []
    with unit_of_work(app) as counter:
        _add_day(app, done)
        assert done == ["added"]
        receipt = _register(counter, ids)
    assert _expected(app, receipt) == (with_day if hooked else without)


def test_a_worker_reads_the_days_again_only_once_its_interval_passed(app, session):
    engine = app.extensions["siapambil.db"]["engine"]
    calendar = leave.Calendar(every=5.0)
    assert leave.refresh(engine, calendar, at=100.0) and calendar.days == frozenset()
    session.add(LeaveDay(day=dt.date(2031, 3, 21), name="Cuti"))
    session.commit()
    leave.refresh(engine, calendar, at=104.9)
    assert calendar.days == frozenset()  # within the interval: the days it had
    assert workdays.leave_days() == frozenset()
    leave.refresh(engine, calendar, at=105.0)
    assert calendar.days == {dt.date(2031, 3, 21)}
    assert workdays.is_holiday(dt.date(2031, 3, 21))
    # A unit that writes reads them as its transaction begins, within the interval too.
    session.add(LeaveDay(day=dt.date(2031, 3, 24), name="Cuti"))
    session.commit()
    kept = app.extensions["siapambil.calendar"]
    kept.days, kept.read_at = frozenset(), time.monotonic()  # as if read a moment ago
    leave.on_unit(app, engine, writes=False)
    assert kept.days == frozenset()  # control: a reading unit, within its interval, does not
    with unit_of_work(app) as writing:
        writing.execute(select(1))
        assert dt.date(2031, 3, 24) in kept.days and workdays.is_holiday(dt.date(2031, 3, 24))


def test_an_admin_changes_an_office_s_zone_and_name(client, admin, session):
    page = client.get("/staff/offices/36.73").get_data(as_text=True)
    assert 'name="timezone"' in page
    data = {"name": "Dinas Dukcapil Kota Serang", "kind": "dinas",
            "timezone": "Asia/Makassar", "address": "Jl. Jenderal Sudirman No. 5"}  # fmt: skip
    saved = post(client, "/staff/offices/36.73/details", data)
    assert saved.status_code == 303
    session.expire_all()
    office = session.scalars(select(Office).where(Office.code == "36.73")).one()
    assert (office.timezone, office.address) == ("Asia/Makassar", data["address"])
    session.rollback()
    [row] = audit_rows(session, "office_details")
    assert row.details["timezone"] == {"from": "Asia/Jakarta", "to": "Asia/Makassar"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Europe/Berlin"), ("kind", "kantor"), ("name", ""), ("address", "a\x00")],
)
def test_a_refused_office_form_changes_nothing(client, admin, session, field, value):
    data = {"name": "Dinas", "kind": "dinas", "timezone": "Asia/Makassar", "address": ""}
    answer = post(client, "/staff/offices/36.73/details", {**data, field: value})
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert "Kantor tidak disimpan" in body and f'id="{field}-error"' in body
    session.expire_all()
    office = session.scalars(select(Office).where(Office.code == "36.73")).one()
    assert office.timezone == "Asia/Jakarta"
    session.rollback()
    assert session.scalar(select(func.count()).where(AuditEntry.action == "office_details")) == 0
    session.rollback()


def test_an_admin_renames_a_pickup_point_and_citizens_read_the_new_name(
    client, admin, session, make_request
):
    """The name, kind and address ``setup load`` sets, changed in the console: audited, and
    read by the status page of a document waiting there. The control: the page before."""
    waiting = make_request(Status.READY, point="srg-cipocok")
    session.commit()
    before = client.get(f"/s/{waiting.receipt}").get_data(as_text=True)
    assert "Pojok Dukcapil Cipocok" not in before
    page = client.get("/staff/points/srg-cipocok").get_data(as_text=True)
    assert 'name="address"' in page and 'name="kind"' in page
    data = {"name": "Pojok  Dukcapil Cipocok", "kind": "kecamatan",
            "address": "Jl. Kenari No. 3, Cipocok Jaya"}  # fmt: skip
    assert post(client, "/staff/points/srg-cipocok/details", data).status_code == 303
    session.expire_all()
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == "srg-cipocok")).one()
    assert (point.name, point.address) == ("Pojok Dukcapil Cipocok", data["address"])
    session.rollback()
    [row] = audit_rows(session, "point_details")
    assert row.details["name"]["to"] == "Pojok Dukcapil Cipocok" and "kind" not in row.details
    after = client.get(f"/s/{waiting.receipt}").get_data(as_text=True)
    assert "Pojok Dukcapil Cipocok" in after and "Jl. Kenari No. 3" in after


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", " "), ("kind", "mobile"), ("address", ""), ("address", "a\x00")],
)
def test_a_refused_point_form_changes_nothing(client, admin, session, field, value):
    data = {"name": "Pojok Dukcapil", "kind": "kecamatan", "address": "Jl. Kenari No. 3"}
    answer = post(client, "/staff/points/srg-cipocok/details", {**data, field: value})
    assert answer.status_code == 400
    body = answer.get_data(as_text=True)
    assert "Lokasi pengambilan tidak disimpan" in body and f'id="{field}-error"' in body
    session.expire_all()
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == "srg-cipocok")).one()
    assert (point.name, point.kind, point.address) == (
        "Kantor Kecamatan Cipocok Jaya",
        "kecamatan",
        "Jl. Bhayangkara No. 12, Cipocok Jaya, Serang",
    )
    session.rollback()
    assert session.scalar(select(func.count()).where(AuditEntry.action == "point_details")) == 0
    session.rollback()


def test_supervisors_see_the_contacts_but_not_the_office_s_details(
    client, make_account
):  # fmt: skip
    account = make_account("supervisor")
    assert sign_in(client, account.username).status_code == 303
    page = client.get("/staff/offices/36.73").get_data(as_text=True)
    assert 'name="phone"' in page and 'name="timezone"' not in page


def test_console_forms_work_over_https_without_a_referer(app, client, make_account):
    """Behind the TLS proxy every request is HTTPS; the pages' Referrer-Policy (no-referrer)
    means browsers send no Referer. A form with its token is taken; control: without it, not."""
    account = make_account("admin")
    https = "https://cek.example.go.id"
    page = client.get("/staff/login", base_url=https)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    data = {"username": account.username, "password": "kopi-tubruk-pagi-7"}
    refused = client.post("/staff/login", data=data, base_url=https)
    assert refused.status_code == 400  # control: no token
    taken = client.post("/staff/login", data={**data, "csrf_token": token}, base_url=https)
    assert taken.status_code == 303, taken.get_data(as_text=True)[:300]


NEW_POINT = {
    "office": "36.73", "code": "srg-walantaka", "name": "Kantor  Kecamatan Walantaka",
    "kind": "kecamatan", "address": "Jl. Raya Walantaka No. 1", "counters": "Loket 1, Loket 2",
    "number_prefix": "w",
}  # fmt: skip


def points_of(session: Any) -> list[str]:
    session.expire_all()
    codes = list(session.scalars(select(PickupPoint.code).order_by(PickupPoint.id)))
    session.rollback()
    return codes


def test_an_admin_adds_a_pickup_point_that_takes_documents_once_it_has_hours(
    client, admin, session, make_request
):
    """A new point, as ``setup load`` makes one, added in the console: audited, listed, and
    offered for ready documents once it has opening hours. Before it has them no document can
    wait there (the control), after them one does, and its status page names the point."""
    assert "/staff/new-point" in client.get("/staff/points").get_data(as_text=True)
    assert 'name="number_prefix"' in client.get("/staff/new-point").get_data(as_text=True)
    answer = post(client, "/staff/new-point", NEW_POINT, "/staff/new-point")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith("/staff/points/srg-walantaka")
    session.expire_all()
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == "srg-walantaka")).one()
    made = (point.office.code, point.name, point.kind.value, point.counters, point.number_prefix)
    assert made == ("36.73", "Kantor Kecamatan Walantaka", "kecamatan", ["Loket 1", "Loket 2"],
                    "W")  # fmt: skip
    assert point.hours == [] and not point.is_main
    session.rollback()
    [row] = audit_rows(session, "point_added")
    assert row.target == "srg-walantaka" and row.details["office"] == "36.73"
    assert client.get("/board/srg-walantaka").status_code == 200

    waiting = make_request(Status.PROCESSING)
    with pytest.raises(NoOpeningHours):
        make_request.move(waiting, Status.READY, point="srg-walantaka")
    make_request.session.rollback()

    hours = week(**{f"d{d}_p0_{edge}": t for d in range(7) for edge, t in (("opens", "08:00"),
                  ("closes", "15:00"))})  # fmt: skip
    assert post(client, "/staff/points/srg-walantaka/hours", hours).status_code == 303
    session.expire_all()
    waiting = session.get(Request, waiting.id)
    make_request.move(waiting, Status.READY, point="srg-walantaka")
    session.commit()
    assert waiting.pickup_number.startswith("W-")
    status = client.get(f"/s/{waiting.receipt}").get_data(as_text=True)
    assert "Kantor Kecamatan Walantaka" in status and "Jl. Raya Walantaka No. 1" in status


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("code", "Kode Baru!", 400),
        ("code", "srg-dinas", 409),  # another point's
        ("office", "99.99", 400),
        ("name", " ", 400),
        ("kind", "mobile", 400),
        ("number_prefix", "A1", 400),
        ("counters", "a\x00", 400),
    ],
)
def test_a_refused_new_point_changes_nothing(client, admin, session, field, value, code):
    before = points_of(session)
    answer = post(client, "/staff/new-point", {**NEW_POINT, field: value}, "/staff/new-point")
    assert answer.status_code == code
    body = answer.get_data(as_text=True)
    assert f'id="{field}-error"' in body
    assert points_of(session) == before and audit_rows(session, "point_added") == []
    # Control: the same form, every field right, adds the point.
    assert post(client, "/staff/new-point", NEW_POINT, "/staff/new-point").status_code == 303
    assert points_of(session) == [*before, "srg-walantaka"]


def test_only_an_admin_adds_a_pickup_point(client, make_account, session):
    supervisor = make_account("supervisor")
    assert sign_in(client, supervisor.username).status_code == 303
    assert client.get("/staff/new-point").status_code == 403
    assert "/staff/new-point" not in client.get("/staff/points").get_data(as_text=True)
    before = points_of(session)
    assert post(client, "/staff/new-point", NEW_POINT).status_code == 403
    assert points_of(session) == before


IKD = {
    "code": "IKD", "name_id": "Aktivasi  IKD", "name_en": "Digital ID activation",
    "target_days": "1", "bring_id": "KTP-el dan ponsel.", "bring_en": "The KTP-el and a phone.",
}  # fmt: skip


def service_codes(session: Any) -> list[str]:
    session.expire_all()
    codes = sorted(session.scalars(select(Service.code)))
    session.rollback()
    return codes


def test_an_admin_adds_a_service_that_intake_offers_from_then_on(
    client, admin, session, make_request
):
    """A new service, as ``setup load`` makes one, added in the console: audited, offered at
    intake, and a request for it is given its target. Control: intake did not offer it
    before."""
    assert "Aktivasi IKD" not in client.get("/staff/intake").get_data(as_text=True)
    assert "/staff/new-service" in client.get("/staff/services").get_data(as_text=True)
    answer = post(client, "/staff/new-service", IKD, "/staff/new-service")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/staff/services")
    assert service_row(session, "ikd") == (
        "Aktivasi IKD", "Digital ID activation", 1, IKD["bring_id"], IKD["bring_en"],
    )  # fmt: skip
    [row] = audit_rows(session, "service_added")
    assert row.target == "ikd" and row.details["target_days"] == 1
    assert "Aktivasi IKD" in client.get("/staff/intake").get_data(as_text=True)
    made = make_request(Status.SUBMITTED, service="ikd")
    local_day = made.created_at.astimezone(ZoneInfo("Asia/Jakarta")).date()
    assert made.expected_on == workdays.add_working_days(local_day, 1)
    status = client.get(f"/s/{made.receipt}").get_data(as_text=True)
    assert "Aktivasi IKD" in status  # what to bring shows once the document is ready


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("code", "ikd baru", 400),
        ("code", "kk", 409),  # another service's
        ("name_id", " ", 400),
        ("target_days", "0", 400),
        ("bring_en", "a\x00", 400),
    ],
)
def test_a_refused_new_service_changes_nothing(client, admin, session, field, value, code):
    before = service_codes(session)
    answer = post(client, "/staff/new-service", {**IKD, field: value}, "/staff/new-service")
    assert answer.status_code == code
    assert f'id="{field}-error"' in answer.get_data(as_text=True)
    assert service_codes(session) == before and audit_rows(session, "service_added") == []
    # Control: the same form, every field right, adds the service.
    assert post(client, "/staff/new-service", IKD, "/staff/new-service").status_code == 303
    assert service_codes(session) == sorted([*before, "ikd"])


def test_only_an_admin_adds_a_service(client, make_account, session):
    supervisor = make_account("supervisor")
    assert sign_in(client, supervisor.username).status_code == 303
    assert client.get("/staff/new-service").status_code == 403
    before = service_codes(session)
    assert post(client, "/staff/new-service", IKD).status_code == 403
    assert service_codes(session) == before


def test_a_service_no_longer_offered_leaves_intake_and_keeps_its_requests(
    client, admin, session, make_request
):
    """An admin stops offering a service: the console's intake no longer lists it and the API
    refuses it naming the field, while its requests keep their pages. Offered again, both
    take it (the control)."""
    from tests.test_api_keys import bearer, make_key
    from tests.test_api_writes import REGISTER, new
    from tracker.models import KeyScope

    kept = make_request(Status.PROCESSING, service="kk")
    session.commit()
    token = make_key(session, "bridge", scope=KeyScope.WRITE)
    assert "Kartu Keluarga" in client.get("/staff/intake").get_data(as_text=True)
    off = {key: value for key, value in KK.items() if key != "offered"}
    assert post(client, "/staff/services/kk", off, "/staff/services/kk").status_code == 303
    [row] = audit_rows(session, "service_changed")
    assert row.details["offered"] == {"from": True, "to": False}
    assert "Kartu Keluarga" not in client.get("/staff/intake").get_data(as_text=True)
    assert "tidak dilayani lagi" in client.get("/staff/services").get_data(as_text=True)
    refused = client.post(REGISTER, json=new(service="kk"), headers=bearer(token))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["field"] == "service"
    assert "tidak dilayani lagi" in refused.get_json()["error"]["message"]
    assert "Kartu Keluarga" in client.get(f"/s/{kept.receipt}").get_data(as_text=True)

    assert post(client, "/staff/services/kk", KK, "/staff/services/kk").status_code == 303
    assert "Kartu Keluarga" in client.get("/staff/intake").get_data(as_text=True)
    taken = client.post(REGISTER, json=new(service="kk"), headers=bearer(token))
    assert taken.status_code == 201, taken.get_data(as_text=True)


def _add(kind: str, session: Any, code: str) -> Any:
    now, actor = utcnow(), Actor("admin1")
    if kind == "service":
        values = {"name_id": "Layanan Baru", "name_en": "New service", "target_days": 5}
        return services.add(session, now, actor, code, values)
    office = session.scalars(select(Office).where(Office.code == "36.73")).one()
    return pickup.add_point(
        session, now, actor, office, code=code, name="Titik Baru", kind=PointKind.KECAMATAN,
        address="Jl. Baru 1", counters=["Loket 1"], number_prefix="B",
    )  # fmt: skip


@pytest.mark.parametrize("kind", ["service", "point"])
def test_two_admins_adding_one_code_at_once_get_a_refusal_not_an_error(app, kind):
    """The second of two admins adding one code at the same moment passes the look-up before
    the first commits; on PostgreSQL its insert then waits on the unique index (seen in
    ``pg_stat_activity``) and fails there. That failure is ``CodeTaken`` (the form's "another
    one has this code", 409), not a database error (a 500), and the second admin's unit can
    still write. On SQLite the second writer waits for the first at its first statement and
    its look-up finds the code: the same answer."""
    writer = app.extensions["siapambil.db"]["writer"]
    first = writer()
    _add(kind, first, "kode-baru")  # flushed, not committed: the unique index entry is held

    def second_admin() -> Any:
        with writer() as second:
            try:
                _add(kind, second, "kode-baru")
                refused = None
            except CodeTaken as error:
                refused = error
            # the unit is still usable after the refusal: another code goes in
            _add(kind, second, "kode-lain")
            second.commit()
        return refused

    error, _ = while_held(app, first, second_admin, "the second insert")
    assert isinstance(error, CodeTaken), error
    assert error.details == {"kind": kind, "taken": "kode-baru"}
    with writer() as check:
        model = Service if kind == "service" else PickupPoint
        codes = set(check.scalars(select(model.code).where(model.code.like("kode-%"))))
        assert codes == {"kode-baru", "kode-lain"}
        added = check.scalars(
            select(AuditEntry.target).where(
                AuditEntry.action == f"{kind}_added", AuditEntry.target.like("kode-%")
            )
        ).all()
        assert sorted(added) == ["kode-baru", "kode-lain"]  # the refused one left no row


def test_two_admins_adding_one_leave_day_at_once_get_a_409_not_a_500(app, client, admin, caplog):
    """Another admin's unit has added 2031-03-21 and not committed when this admin's form
    adds it. On PostgreSQL the form waits for the calendar's lock, which the other's
    transaction holds shared (seen in ``pg_stat_activity``); on SQLite it waits for the
    other's transaction at its first statement. Either way it then finds the day taken: a
    409 in the admin's language, nothing of this form kept, no error logged as unexpected.
    (A unique index refusing a row, were the check passed, is answered as saved meanwhile:
    ``test_only_a_unique_index_refusal_is_answered_as_saved_meanwhile``.)"""
    writer = app.extensions["siapambil.db"]["writer"]
    other = writer()
    other.add(LeaveDay(day=dt.date(2031, 3, 21), name="Cuti bersama"))
    other.flush()
    token = csrf_token(client, "/staff/leave-days")
    form = {"day": "2031-03-21", "name": "Cuti bersama", "csrf_token": token}
    answer, _on_postgres = while_held(
        app, other, lambda: client.post("/staff/leave-days", data=form), "the form's lock"
    )
    assert answer.status_code == 409
    text = answer.get_data(as_text=True)
    assert "2031-03-21 sudah menjadi hari cuti bersama" in text, text
    assert not [r for r in caplog.records if "unhandled error" in r.getMessage()]
    with writer() as check:
        assert check.scalars(select(LeaveDay.day)).all() == [dt.date(2031, 3, 21)]
        assert (
            check.scalars(select(AuditEntry.id).where(AuditEntry.action == "leave_day_added")).all()
            == []
        )  # the other unit wrote its row directly, without an audit row


def test_only_a_unique_index_refusal_is_answered_as_saved_meanwhile(app, session):
    """``taken_meanwhile``: a unique index's refusal on this database is one; a missing
    value (NOT NULL) is not, and stays a 500 that is logged."""
    session.add(LeaveDay(day=dt.date(2031, 3, 22), name="Cuti"))
    session.commit()
    for row, unique in ((LeaveDay(day=dt.date(2031, 3, 22), name="Lagi"), True),
                        (LeaveDay(day=None, name="Tanpa tanggal"), False)):  # fmt: skip
        session.add(row)
        with pytest.raises(IntegrityError) as raised:
            session.flush()
        session.rollback()
        assert taken_meanwhile(raised.value) is unique
