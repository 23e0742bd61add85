"""The clock is an argument: a whole day of one request, from the counter to the message and
the end of its window, at instants chosen to break code that reads the real clock — a
weekday night, a Sunday morning, and one minute before local midnight on New Year's Eve.
time-machine moves this process's clock; every entry point (views, job runs) reads it
once, so the outcome depends on the instant chosen here and on nothing else."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from sqlalchemy import select

from jobs.commands import jobs as jobs_cli
from tests.factories import csrf_token, sign_in
from tracker.models import OutboxMessage, OutboxStatus, Request
from tracker.status import Status

WIB = ZoneInfo("Asia/Jakarta")
UTC = dt.UTC


@pytest.fixture
def app_config(app_config: dict[str, Any], httpserver: Any) -> dict[str, Any]:
    url = f"json://127.0.0.1:{httpserver.port}/wa?:to={{to}}&+Idempotency-Key={{key}}"
    return {**app_config, "NOTIFY_WHATSAPP_URL": url}


def post(client: Any, path: str, data: dict[str, Any], page: str) -> Any:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def run_job(runner: Any, name: str) -> str:
    result = runner.invoke(jobs_cli, ["run-once", name])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("instant", "message_waits_until"),
    [
        # Wednesday 22.30 WIB: quiet hours, the WhatsApp waits for 07.00 on Thursday
        (dt.datetime(2027, 4, 21, 15, 30, tzinfo=UTC), dt.datetime(2027, 4, 22, 0, 0, tzinfo=UTC)),
        # Sunday 10.00 WIB: no quiet hours, it goes at once
        (dt.datetime(2027, 4, 25, 3, 0, tzinfo=UTC), None),
        # 31 December, 23.59 WIB: it waits for 07.00 on New Year's Day
        (dt.datetime(2026, 12, 31, 16, 59, tzinfo=UTC), dt.datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
    ],
    ids=["weekday-night", "sunday-morning", "new-years-eve-2359"],
)
def test_a_request_s_day_depends_on_the_chosen_instant_only(
    app, client, runner, make_account, make_request, session, httpserver, instant,
    message_waits_until,
):  # fmt: skip
    httpserver.expect_request("/wa").respond_with_data("ok")
    with time_machine.travel(instant, tick=True):
        account = make_account("operator")
        assert sign_in(client, account.username).status_code == 303
        kk = make_request.service("kk")
        taken = post(client, "/staff/intake", {
            "service": str(kk.id), "applicant_name": "Siti Rahmawati",
            "nik": "3673015212900003", "phone": "0812 3456 7890", "consent_notify": "y",
            "channel": "whatsapp", "handover": "pickup"}, "/staff/intake")  # fmt: skip
        assert taken.status_code == 303, taken.get_data(as_text=True)
        receipt = taken.headers["Location"].split("/r/")[1].split("/")[0]
        request = session.scalars(select(Request).where(Request.receipt == receipt)).one()
        local_day = instant.astimezone(WIB).date()
        assert request.created_at == request.events[0].at
        assert abs(request.created_at - instant) < dt.timedelta(minutes=1)
        assert request.expected_on > local_day  # counted in working days from the office's day
        session.commit()

        point = make_request.point("srg-dinas")
        for to in ("verifying", "processing", "ready"):
            session.refresh(request)
            data = {f"{to}-to": to, f"{to}-version": str(request.version)}
            if to == "ready":
                data["ready-point"] = str(point.id)
            session.commit()
            moved = post(client, f"/staff/r/{receipt}/move/{to}", data, "/staff/")
            assert moved.status_code == 303, moved.get_data(as_text=True)
        session.refresh(request)
        starts = request.window_starts.astimezone(WIB)
        assert request.window_starts > instant  # the next opening, never one that has passed
        assert starts.date() not in holidays.Indonesia(years=starts.year)
        assert request.pickup_day == starts.date()
        session.commit()

        assert "announce: 1" in run_job(runner, "announce")
        run_job(runner, "notify")
        [message] = session.scalars(select(OutboxMessage)).all()
        if message_waits_until is None:
            assert message.status == OutboxStatus.SENT and len(httpserver.log) == 1
        else:
            assert message.status == OutboxStatus.PENDING and not httpserver.log
            assert message.next_attempt_at == message_waits_until
        session.commit()

        status = client.get(f"/s/{receipt}")
        assert status.status_code == 200 and request.pickup_number in status.get_data(True)

    if message_waits_until is not None:  # the morning after: the message goes
        with time_machine.travel(message_waits_until + dt.timedelta(minutes=1), tick=True):
            run_job(runner, "notify")
        assert len(httpserver.log) == 1

    # A day after the window closed, the expiry returns the document to the main office.
    with time_machine.travel(request.window_ends + dt.timedelta(days=1), tick=True):
        assert "expire-wib: 1" in run_job(runner, "expire-wib")
    session.expire_all()
    assert request.status == Status.RETURNED
    session.commit()


@pytest.mark.parametrize(
    "instant",
    [
        dt.datetime(2027, 4, 21, 15, 30, tzinfo=UTC),
        dt.datetime(2027, 4, 25, 3, 0, tzinfo=UTC),
        dt.datetime(2026, 12, 31, 16, 59, tzinfo=UTC),
    ],
)
def test_a_moved_clock_is_seen_by_the_entry_points(app, make_request, session, instant) -> None:
    """Control for the test above: the factory, which reads the clock as an entry point does,
    sees the moved clock — so the day above really ran at the chosen instant."""
    with time_machine.travel(instant, tick=False):
        request = make_request(Status.SUBMITTED)
    assert request.created_at == instant
    session.commit()
