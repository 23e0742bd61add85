"""``setup load``: a real office from one file, on an empty database, without the demo; the
load is idempotent, checked as a whole (every problem named by its path, nothing changed), and
its leave days close offices like a public holiday."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select, text

from tests.factories import csrf_token, sign_in, while_held
from tracker import create_app, schema
from tracker.db import make_engine
from tracker.models import (
    AuditEntry,
    Base,
    LeaveDay,
    Office,
    OpeningHours,
    PickupPoint,
    Request,
    Service,
)
from tracker.places import pickup, workdays
from tracker.status import Status

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "setup.example.yaml"
NIK_LEBAK = "3602015212900003"  # Lebak (36.02), born 12 December 1990, a woman
PLACES = (Office, PickupPoint, OpeningHours, Service, LeaveDay)


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """An empty, migrated database: no demo offices, points or services."""
    if database_url.startswith("sqlite"):
        database_url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
        engine = make_engine(database_url)
        schema.upgrade(engine)
    else:  # the fixture empties the server's tables and loads the demo again after the test
        engine = make_engine(database_url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": "https://cek.example.go.id",
        "RATELIMIT_ENABLED": False,
        "PASSWORD_HASHING": "CHEAPEST",  # argon2-cffi's profile for tests (see test_staff_auth)
        "BOARD_CACHE_SECONDS": 0,
    }


@pytest.fixture(autouse=True)
def no_leave_days() -> Any:
    """Each test starts and ends with a calendar of national holidays only."""
    workdays.set_leave_days(frozenset())
    yield
    workdays.set_leave_days(frozenset())


def load(runner: Any, session: Any, path: Path = EXAMPLE) -> Any:
    """Run the command as an admin would, the test's own session done with (on SQLite its
    open transaction would hold the lock the command needs)."""
    session.commit()
    return runner.invoke(args=["setup", "load", str(path)])


def rows(session: Any) -> dict[str, list[tuple]]:
    """Every place row, every column: what a second load must leave as it was."""
    session.expire_all()
    found = {}
    for model in PLACES:
        columns = [c for c in model.__table__.columns]
        found[model.__tablename__] = sorted(
            tuple(map(str, row)) for row in session.execute(select(*columns))
        )
    return found


def post(client: Any, path: str, data: dict[str, Any], page: str) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def test_the_example_sets_up_a_working_office_without_the_demo(
    runner, client, session, make_account
) -> None:
    assert session.scalar(select(func.count()).select_from(Office)) == 0  # no demo here
    loaded = load(runner, session)
    assert loaded.exit_code == 0, loaded.output
    assert "kantor: 1 baru, 0 diubah, 0 tetap" in loaded.output  # Indonesian, as commands are
    assert "titik pengambilan: 4 baru" in loaded.output

    operator = make_account("operator", office="36.02")
    assert sign_in(client, operator.username).status_code == 303
    ktp = session.scalars(select(Service).where(Service.code == "ktp-el")).one()
    made = post(client, "/staff/intake", {
        "service": str(ktp.id), "applicant_name": "Siti Rahmawati", "nik": NIK_LEBAK,
        "phone": "0812 3456 7890", "consent_notify": "y", "channel": "whatsapp",
        "handover": "pickup", "representative_allowed": "y",
    }, "/staff/intake")  # fmt: skip
    assert made.status_code == 303, made.get_data(as_text=True)
    request = session.scalars(select(Request)).one()
    assert request.office.code == "36.02" and request.expected_on is not None

    malingping = session.scalars(select(PickupPoint).where(PickupPoint.code == "lbk-malingping"))
    point = malingping.one()
    for to in ("verifying", "processing"):
        session.refresh(request)
        data = {f"{to}-to": to, f"{to}-version": str(request.version)}
        assert (
            post(client, f"/staff/r/{request.receipt}/move/{to}", data, "/staff/").status_code
            == 303
        )
    session.refresh(request)
    data = {"ready-to": "ready", "ready-version": str(request.version), "ready-point": point.id}
    ready = post(client, f"/staff/r/{request.receipt}/move/ready", data, "/staff/")
    assert ready.status_code == 303
    session.refresh(request)
    assert request.status == Status.READY and re.fullmatch(r"M-\d{3}", request.pickup_number)

    assert client.get("/board/lbk-malingping").status_code == 200
    board = client.get("/api/v1/points/lbk-malingping/board").get_json()
    assert [d["number"] for d in board["documents"]] == [request.pickup_number]
    assert board["point"]["counters"] == ["Loket Adminduk"]


def test_loading_twice_changes_nothing(runner, session) -> None:
    assert load(runner, session).exit_code == 0
    first = rows(session)
    audited = session.scalar(select(func.count()).select_from(AuditEntry))
    again = load(runner, session)
    assert again.exit_code == 0, again.output
    assert rows(session) == first
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audited + 1
    last = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert last.action == "setup_loaded" and last.actor == "system"
    assert last.details["made"] == {} and last.details["changed"] == {}
    assert last.details["same"] == {"offices": 1, "points": 4, "services": 5, "leave_days": 8}
    assert "0 baru, 0 diubah, 1 tetap" in again.output  # the office
    assert "0 baru, 0 diubah, 8 tetap" in again.output  # the leave days
    assert first["offices"] and len(first["leave_days"]) == 8


def test_a_changed_file_updates_hours_and_targets(runner, session, tmp_path) -> None:
    assert load(runner, session).exit_code == 0
    data = yaml.safe_load(EXAMPLE.read_text())
    data["offices"][0]["points"][0]["hours"]["friday"] = "07:30-11:00"
    data["offices"][0]["points"][0]["counters"] = ["Loket A"]
    data["services"][0]["target_days"] = 7
    data["services"][1]["offered"] = False
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True))
    answer = load(runner, session, changed)
    assert answer.exit_code == 0, answer.output
    assert "titik pengambilan: 0 baru, 1 diubah, 3 tetap" in answer.output
    session.expire_all()
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == "lbk-dinas")).one()
    friday = [(h.opens, h.closes) for h in point.hours if h.weekday == 4]
    assert friday == [(dt.time(7, 30), dt.time(11))]
    assert point.counters == ["Loket A"]
    ktp = session.scalars(select(Service).where(Service.code == "ktp-el")).one()
    assert ktp.target_days == 7
    # Control: another point and another service were left as they were.
    bayah = session.scalars(select(PickupPoint).where(PickupPoint.code == "lbk-bayah")).one()
    assert [(h.opens, h.closes) for h in bayah.hours if h.weekday == 4] == [
        (dt.time(8), dt.time(11))
    ]
    assert session.scalars(select(Service).where(Service.code == "kk")).one().target_days == 3
    # The second service is no longer offered; the first, whose entry does not say, still is.
    first, second = (data["services"][i]["code"] for i in (0, 1))
    offered = dict(session.execute(select(Service.code, Service.offered)).all())
    assert (offered[first], offered[second]) == (True, False)


def test_a_bad_file_is_refused_naming_each_problem_and_changes_nothing(
    runner, session, tmp_path
) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["offices"][0]["kind"] = "kabupaten"
    data["offices"][0]["points"][1]["hours"]["monday"] = "8-14"
    data["offices"][0]["points"][2]["hours"]["friday"] = "11:00-08:00"
    data["services"][1]["target_days"] = "tiga"
    del data["services"][2]["name_en"]
    data["leave_days"][0]["day"] = "24-12-2026"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    before = rows(session)
    answer = load(runner, session, bad)
    assert answer.exit_code == 1
    said = answer.output
    assert "tidak dimuat" in said  # Indonesian: not loaded, nothing changed
    for path in (
        "offices[0].kind: ",
        'offices[0].points[1].hours.monday: "8-14" ',
        "services[1].target_days: ",
        "services[2].name_en: ",
        'leave_days[0].day: "24-12-2026" ',
    ):
        assert path in said, (path, said)
    assert "kabupaten" in said and "08:00-15:00" in said and "2026-12-24" in said
    assert rows(session) == before and not before["offices"]
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    # What a schema cannot say is checked once the schema passes: periods in order.
    data = yaml.safe_load(EXAMPLE.read_text())
    data["offices"][0]["points"][2]["hours"]["friday"] = "11:00-08:00"
    data["offices"][0]["phone"] = "29-11-2026"  # a date in the telephone's place
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    answer = load(runner, session, bad)
    assert answer.exit_code == 1 and "offices[0].points[2].hours.friday: " in answer.output
    assert "offices[0].phone: 29-11-2026 harus nomor telepon di Indonesia" in answer.output
    assert rows(session) == before
    # Control: the example itself passes.
    assert load(runner, session).exit_code == 0


def test_a_leave_day_closes_offices_like_a_public_holiday(app, runner, session, app_config):
    tuesday = dt.date(2026, 12, 22)
    after_closing = dt.datetime(2026, 12, 23, 10, 0, tzinfo=dt.UTC)  # Wednesday, 17.00 WIB
    assert load(runner, session).exit_code == 0
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == "lbk-dinas")).one()
    assert dt.date(2026, 12, 24) in workdays.leave_days()  # the load handed them on
    # Thursday 24 December is a leave day, Friday 25 Christmas, then the weekend.
    assert workdays.add_working_days(tuesday, 2) == dt.date(2026, 12, 28)
    assert pickup.next_window(point, after_closing, 1).first_day == dt.date(2026, 12, 28)
    assert pickup.hours_on(point, dt.date(2026, 12, 24)) == []
    # Control: without the leave day the Thursday is an ordinary working day.
    workdays.set_leave_days(frozenset())
    assert workdays.add_working_days(tuesday, 2) == dt.date(2026, 12, 24)
    assert pickup.next_window(point, after_closing, 1).first_day == dt.date(2026, 12, 24)
    # A process started later (a web worker) reads them from the database.
    later = create_app(app_config)
    later.extensions["siapambil.db"]["engine"].dispose()
    assert dt.date(2026, 12, 24) in workdays.leave_days()


def test_a_service_added_in_the_console_during_a_load_stops_it_cleanly(app, runner, session):
    """An admin adds service ``ktp-el`` in the console while ``setup load`` of a file that
    adds it runs. On PostgreSQL the load's insert waits on the admin's (seen in
    ``pg_stat_activity``) and then fails on the unique index: the command says the file was
    not loaded and why, exits 1 without a traceback, and nothing of the file is stored. On
    SQLite the load waits for the admin's transaction at its first statement, then finds the
    service and changes it to the file's values: loaded."""
    writer = app.extensions["siapambil.db"]["writer"]
    admin = writer()
    admin.add(Service(code="ktp-el", name_id="KTP", name_en="ID card", target_days=9))
    admin.flush()
    result, on_postgres = while_held(app, admin, lambda: load(runner, session), "the load's insert")
    session.expire_all()
    if on_postgres:
        assert result.exit_code == 1, result.output
        assert "tidak dimuat; tidak ada yang diubah" in result.output  # in Bahasa Indonesia
        assert "muat lagi" in result.output and "Traceback" not in result.output
        assert session.scalars(select(Service.code)).all() == ["ktp-el"]  # the admin's only
        assert session.scalar(select(func.count()).select_from(Office)) == 0
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    else:
        assert result.exit_code == 0, result.output
        assert (
            session.scalars(select(Service.target_days).where(Service.code == "ktp-el")).one() == 3
        )
        assert session.scalar(select(func.count()).select_from(Office)) > 0
