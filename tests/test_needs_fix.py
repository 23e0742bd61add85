"""Needs fix, done right: the status page says what to correct, where to bring it or how to
send it, and by when; the service-time clock stops while the office waits on the citizen, so
neither the page, the API, the overdue lists nor the statistics count that time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests.factories import sign_in
from tests.test_lookup import visible_text
from tracker import demo
from tracker.models import DailyFigure, Request, utcnow
from tracker.places.workdays import add_working_days, working_days_between
from tracker.requests import lifecycle
from tracker.statistics import figures as statistics
from tracker.status import Status
from tracker.web.formatters import format_day

S = Status
JAKARTA = ZoneInfo("Asia/Jakarta")
# A fortnight without public holidays: Monday 2 to Friday 13 February 2026 (09.00 WIB).
MONDAY = dt.datetime(2026, 2, 2, 2, 0, tzinfo=dt.UTC)


def days_later(days: int) -> dt.datetime:
    return MONDAY + dt.timedelta(days=days)


def test_a_needs_fix_request_past_its_date_is_not_late_and_says_what_where_by_when(
    client, make_request, session
) -> None:
    asked = utcnow() - dt.timedelta(days=40)
    request = make_request(S.NEEDS_FIX, at=asked)
    stored = session.get(Request, request.id)
    assert stored.expected_on < utcnow().astimezone(JAKARTA).date()  # its old date has passed
    session.commit()
    text = visible_text(client.get(f"/s/{request.receipt}").get_data(as_text=True))
    assert "Terlambat" not in text and "Ombudsman" not in text
    assert "Waktu layanan dihentikan sementara" in text
    # what: the office's public note
    assert "Catatan dari kantor: Foto kopi KK kurang jelas; bawa KK asli." in text
    # where: the office's main point, its counters and hours, and how to send it instead
    assert "Tempat membawa perbaikan" in text
    assert "Jl. Jenderal Sudirman No. 5, Sumurpecung, Serang" in text
    assert "Loket: Loket 1, Loket 2, Loket 3" in text
    assert "Senin–Kamis: 08.00–15.00" in text
    assert "WhatsApp: 081100003673" in text and "dukcapil.serang@contoh.go.id" in text
    # by when: FIX_WITHIN_DAYS working days after the office asked
    fix_by = add_working_days(asked.astimezone(JAKARTA).date(), 10)
    assert f"Bawa atau kirim paling lambat {format_day(fix_by, 'id')}." in text
    assert client.get(f"/api/v1/requests/{request.receipt}").get_json()["overdue"] is False


def test_the_fix_by_day_is_a_setting(app, client, make_request) -> None:
    asked = utcnow() - dt.timedelta(days=2)
    request = make_request(S.NEEDS_FIX, at=asked)
    app.config["FIX_WITHIN_DAYS"] = 3
    text = visible_text(client.get(f"/s/{request.receipt}").get_data(as_text=True))
    fix_by = add_working_days(asked.astimezone(JAKARTA).date(), 3)
    assert f"Bawa atau kirim paling lambat {format_day(fix_by, 'id')}." in text


def test_leaving_needs_fix_moves_the_expected_date_by_the_working_days_paused(
    make_request, session
) -> None:
    request = make_request(S.VERIFYING, at=MONDAY)
    first_date = request.expected_on
    make_request.move(request, S.NEEDS_FIX, at=MONDAY)
    make_request.move(request, S.VERIFYING, at=days_later(7))  # the next Monday: 5 working days
    session.commit()
    stored = session.get(Request, request.id)
    assert stored.paused_days == 5
    assert stored.expected_on == add_working_days(first_date, 5)
    # a second round adds to the first
    make_request.move(stored, S.NEEDS_FIX, at=days_later(7))
    make_request.move(stored, S.VERIFYING, at=days_later(9))  # Wednesday: 2 more
    session.commit()
    assert (stored.paused_days, stored.expected_on) == (7, add_working_days(first_date, 7))


def test_a_request_waiting_on_the_citizen_is_not_on_the_overdue_lists(
    make_request, session, client, make_account
) -> None:
    late_fix = make_request(S.NEEDS_FIX, at=utcnow() - dt.timedelta(days=40))
    late_work = make_request(S.VERIFYING, at=utcnow() - dt.timedelta(days=40))
    assert lifecycle.overdue_counts(session, utcnow()) == {late_work.office_id: 1}
    session.commit()
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    page = client.get("/staff/overdue").get_data(as_text=True)
    assert late_work.receipt in page and late_fix.receipt not in page


def test_statistics_leave_the_days_paused_out(make_request, session) -> None:
    """KTP-el (target 3 working days): taken in on Monday 2, asked to correct at once,
    corrected on Monday 9 (5 working days), ready on Tuesday 10. Six working days from
    intake, one of them the office's: within the target."""
    request = make_request(S.VERIFYING, at=MONDAY)
    for to, at in [
        (S.NEEDS_FIX, MONDAY),
        (S.VERIFYING, days_later(7)),
        (S.PROCESSING, days_later(8)),
        (S.READY, days_later(8)),
    ]:
        make_request.move(request, to, at=at)
    session.commit()
    statistics.roll_up(session, "Asia/Jakarta", today=dt.date(2026, 2, 12))
    session.commit()
    ready_day = session.scalars(
        select(DailyFigure).where(
            DailyFigure.office_id == request.office_id, DailyFigure.day == dt.date(2026, 2, 10)
        )
    ).one()
    assert (ready_day.finished, ready_day.within_target, ready_day.durations) == (1, 1, [0, 1])


def test_the_statistics_page_says_the_pause_is_left_out(client) -> None:
    text = visible_text(client.get("/statistik").get_data(as_text=True))
    assert "hari-hari saat kantor menunggu pemohon memperbaiki sesuatu" in text


def test_demo_requests_that_were_corrected_paused_their_clock(session) -> None:
    """The demo's requests that passed through needs fix carry the working days they waited,
    counted as ``move`` counts them, and an expected date moved by as many."""
    demo.add_requests(session, 300, mix={S.PROCESSING: 1}, seed=5, now=utcnow())
    session.flush()
    corrected = 0
    for request in session.scalars(select(Request).where(Request.status == S.PROCESSING)):
        path = [e.to_status for e in request.events]
        if S.NEEDS_FIX not in path:
            assert request.paused_days == 0
            continue
        asked = request.events[path.index(S.NEEDS_FIX)].at.astimezone(JAKARTA).date()
        fixed = request.events[path.index(S.NEEDS_FIX) + 1].at.astimezone(JAKARTA).date()
        target = request.service.target_days
        unpaused = add_working_days(request.created_at.astimezone(JAKARTA).date(), target)
        assert request.paused_days == working_days_between(asked, fixed)
        assert request.expected_on == add_working_days(unpaused, request.paused_days)
        corrected += request.paused_days > 0
    assert corrected >= 5
    session.rollback()
