"""Notifications: the outbox is written with the change, released by the announcement, and
sent through Apprise to real receivers on loopback (an HTTP endpoint, an SMTP server), with
the exact texts checked; retries, dead letters, quiet hours and the opt-out."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import CSRF
from tracker.announcements import operations as announce
from tracker.models import Channel, OutboxMessage, OutboxStatus, PickupPoint, Service
from tracker.outbox import dispatch, operations, texts
from tracker.status import Status

MORNING_WIB = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC)  # 08.00 WIB: the changes are made
NOON_WIB = dt.datetime(2026, 12, 2, 5, 0, tzinfo=dt.UTC)  # 12.00 WIB
NIGHT_WIB = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)  # 22.00 WIB


def sms_url(httpserver: Any) -> str:
    return f"json://127.0.0.1:{httpserver.port}/sms?:to={{to}}&+Idempotency-Key={{key}}"


def config(app: Any, **changes: Any) -> dict[str, Any]:
    return {**app.config, **changes}


def outbox(session: Any) -> list[OutboxMessage]:
    session.expire_all()
    rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    session.commit()
    return rows


def ready_with_sms(
    make_request: Any,
    session: Any,
    at: dt.datetime | None = None,
    point: str = "srg-cipocok",
    **kw: Any,
) -> Any:
    """A request with SMS consent made ready at ``at`` (the real clock when None)."""
    request = make_request(Status.PROCESSING, at=at, **kw)
    request.consent_notify, request.channel = True, Channel.SMS
    session.commit()
    make_request.move(request, Status.READY, point=point, at=at)
    session.commit()
    return request


def test_ready_is_held_until_announced_then_sent_once(app, make_request, session, httpserver):
    httpserver.expect_request("/sms", method="POST").respond_with_data("ok")
    request = ready_with_sms(make_request, session, MORNING_WIB)
    [message] = outbox(session)
    assert (message.status, message.event, message.channel) == (
        OutboxStatus.HELD,
        "ready",
        Channel.SMS,
    )
    settings = config(app, NOTIFY_SMS_URL=sms_url(httpserver))
    with app.app_context():
        assert dispatch.dispatch(settings, NOON_WIB) == {}  # held: nothing to send
        announce.publish(session, NOON_WIB)
        session.commit()
        assert dispatch.dispatch(settings, NOON_WIB) == {"sent": 1}
        assert dispatch.dispatch(settings, NOON_WIB) == {}  # nothing twice
    [(received, _)] = httpserver.log
    payload = json.loads(received.data)
    assert payload["to"] == "081234567890"
    assert received.headers["Idempotency-Key"] == message.idempotency_key
    zone_day = request.window_starts.astimezone(dt.timezone(dt.timedelta(hours=7)))
    until = request.window_ends.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert payload["message"] == (
        f"KTP-el a.n. Budi SIAP DIAMBIL di Kantor Kecamatan Cipocok Jaya "
        f"{zone_day:%d/%m}-{until:%d/%m}, no. {request.pickup_number}. "
        "Bawa tanda terima."
    )
    assert outbox(session)[0].status == OutboxStatus.SENT


def test_an_email_arrives_with_where_when_and_what_to_bring(
    app, make_request, session, smtp_receiver
):
    request = make_request(Status.VERIFYING, email="siti@contoh.id", at=MORNING_WIB)
    request.consent_notify, request.channel = True, Channel.EMAIL
    session.commit()
    make_request.move(request, Status.NEEDS_FIX, at=MORNING_WIB)  # the note: a blurred KK copy
    session.commit()
    url = f"mailto://127.0.0.1:{smtp_receiver.port}?from=siapambil@serangkota.go.id&to={{to}}&mode=insecure"
    with app.app_context():
        assert dispatch.dispatch(config(app, NOTIFY_EMAIL_URL=url), NIGHT_WIB) == {
            "sent": 1
        }  # e-mail keeps no quiet hours
    [mail] = smtp_receiver.messages
    assert mail["To"] == "siti@contoh.id"
    assert mail["Subject"] == "Permohonan KTP-el perlu perbaikan"
    text = mail.get_body(("plain",)).get_content()
    assert text.replace("\r\n", "\n") == (
        "Yth. Budi Santoso,\n\n"
        "Permohonan KTP-el Anda perlu PERBAIKAN sebelum dapat diproses:\n"
        "Foto kopi KK kurang jelas; bawa KK asli.\n\n"
        "Di mana: Disdukcapil Kota Serang, Jl. Jenderal Sudirman No. 5, Kota Serang\n"
        "Kapan: pada jam layanan kantor.\n"
        "Yang dibawa: tanda terima dan dokumen yang disebut di atas.\n\n"
        f"Status: https://cek.example.go.id/s/{request.receipt}\n"
    )


def test_every_ready_sms_fits_one_gsm7_message(app, make_request, session) -> None:
    request = ready_with_sms(make_request, session, name="Bernadette Kusumawardhani")
    points = session.scalars(select(PickupPoint)).all()
    services = session.scalars(select(Service)).all()
    base_url = app.config["PUBLIC_BASE_URL"]
    for point in points:
        for service in services:
            request.pickup_point, request.service = point, service
            for event in ("ready", "returned", "reminder_closing", "reminder_waiting"):
                _, text = texts.render(request, event, Channel.SMS, base_url=base_url)
                assert len(text) <= texts.SMS_LENGTH, text
                assert set(text) <= texts.GSM7, text
                assert "Bawa tanda terima" in text and point.name[:20] in text
    session.rollback()


def test_sms_waits_out_the_quiet_hours(app, make_request, session, httpserver):
    httpserver.expect_request("/sms").respond_with_data("ok")
    ready_with_sms(make_request, session, MORNING_WIB)
    with app.app_context():
        announce.publish(session, NIGHT_WIB)
        session.commit()
        assert dispatch.dispatch(config(app, NOTIFY_SMS_URL=sms_url(httpserver)), NIGHT_WIB) == {
            "quiet": 1
        }
    [message] = outbox(session)
    assert message.status == OutboxStatus.PENDING
    assert message.next_attempt_at == dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC)  # 07.00 WIB
    assert not httpserver.log


def test_a_provider_that_is_down_is_retried_then_given_up(app, make_request, session, httpserver):
    httpserver.expect_request("/sms").respond_with_data("down", status=503)
    ready_with_sms(make_request, session, MORNING_WIB)
    settings = config(app, NOTIFY_SMS_URL=sms_url(httpserver), NOTIFY_MAX_ATTEMPTS=3)
    with app.app_context():
        announce.publish(session, NOON_WIB)
        session.commit()
        assert dispatch.dispatch(settings, NOON_WIB) == {"retry": 1}
        [message] = outbox(session)
        assert message.attempts == 1 and message.status == OutboxStatus.PENDING
        assert (
            NOON_WIB + dt.timedelta(seconds=30)
            <= message.next_attempt_at
            <= NOON_WIB + dt.timedelta(seconds=60)
        )
        later = message.next_attempt_at
        assert dispatch.dispatch(settings, later) == {"retry": 1}
        second = outbox(session)[0]
        assert (
            later + dt.timedelta(seconds=60)
            <= second.next_attempt_at
            <= later + dt.timedelta(seconds=120)
        )
        assert dispatch.dispatch(settings, second.next_attempt_at) == {"dead": 1}
    assert outbox(session)[0].status == OutboxStatus.DEAD
    assert len(httpserver.log) == 3


def test_backoff_is_capped() -> None:
    for attempt in range(1, 30):
        assert operations.backoff(attempt, 60, 3600) <= dt.timedelta(hours=1)


def test_the_citizen_opts_out(app, client, make_request, session, httpserver):
    request = ready_with_sms(make_request, session)
    asked = client.post(f"/s/{request.receipt}/berhenti")  # the first step only asks
    assert asked.status_code == 200
    assert [m.status for m in outbox(session)] == [OutboxStatus.HELD]
    token = CSRF.search(asked.get_data(as_text=True)).group(1)
    answer = client.post(f"/s/{request.receipt}/berhenti", data={"yakin": "1", "csrf_token": token})
    assert answer.status_code == 303
    assert [m.status for m in outbox(session)] == [OutboxStatus.CANCELLED]
    session.refresh(request)
    assert not request.consent_notify
    make_request.move(request, Status.RETURNED)
    session.commit()
    assert [m.status for m in outbox(session)] == [OutboxStatus.CANCELLED]  # nothing new


def test_a_collected_document_cancels_what_still_waits(make_request, session) -> None:
    request = ready_with_sms(make_request, session)
    make_request.move(request, Status.COLLECTED)
    session.commit()
    assert [m.status for m in outbox(session)] == [OutboxStatus.CANCELLED]


@pytest.mark.parametrize("event", ["rejected", "returned"])
def test_other_events_go_straight_to_the_outbox(event, make_request, session) -> None:
    if event == "rejected":
        request = make_request(Status.VERIFYING)
        request.consent_notify, request.channel = True, Channel.WHATSAPP
        session.commit()
        make_request.move(request, Status.REJECTED)
    else:
        request = ready_with_sms(make_request, session)
        make_request.move(request, Status.RETURNED)
    session.commit()
    last = outbox(session)[-1]
    assert (last.event, last.status) == (event, OutboxStatus.PENDING)


def test_a_message_is_due_from_the_moment_of_its_change(make_request, session) -> None:
    """The outbox row is due at the instant of the change that wrote it, not at the real
    time the test happens to run at."""
    request = make_request(Status.VERIFYING, at=MORNING_WIB)
    request.consent_notify, request.channel = True, Channel.WHATSAPP
    session.commit()
    make_request.move(request, Status.REJECTED, at=MORNING_WIB)
    session.commit()
    assert outbox(session)[-1].next_attempt_at == MORNING_WIB


def test_no_quiet_hours_when_the_setting_is_empty(app, make_request, session, httpserver):
    httpserver.expect_request("/sms").respond_with_data("ok")
    ready_with_sms(make_request, session, MORNING_WIB)
    settings = config(app, NOTIFY_SMS_URL=sms_url(httpserver), NOTIFY_QUIET_HOURS="")
    with app.app_context():
        announce.publish(session, NIGHT_WIB)
        session.commit()
        assert dispatch.dispatch(settings, NIGHT_WIB) == {"sent": 1}
    assert len(httpserver.log) == 1


@pytest.mark.parametrize(
    ("quiet", "at", "waits_until"),
    [
        # 22.00 WIB inside 21.00-07.00: until 07.00 WIB the next morning
        ("21:00-07:00", NIGHT_WIB, dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC)),
        # 06.59 WIB, just before the end: until 07.00 that same morning
        ("21:00-07:00", dt.datetime(2026, 12, 2, 23, 59, tzinfo=dt.UTC), None),
        # a window within one day: 12.00-13.00 WIB
        ("12:00-13:00", NOON_WIB, dt.datetime(2026, 12, 2, 6, 0, tzinfo=dt.UTC)),
    ],
)
def test_quiet_hours_come_from_the_setting(
    app, make_request, session, httpserver, quiet, at, waits_until
):
    httpserver.expect_request("/sms").respond_with_data("ok")
    ready_with_sms(make_request, session, MORNING_WIB)
    settings = config(app, NOTIFY_SMS_URL=sms_url(httpserver), NOTIFY_QUIET_HOURS=quiet)
    with app.app_context():
        announce.publish(session, at)
        session.commit()
        assert dispatch.dispatch(settings, at) == {"quiet": 1}
    [message] = outbox(session)
    expected = waits_until or dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC)
    assert message.next_attempt_at == expected and not httpserver.log
    with app.app_context():  # control: at the end of the quiet hours it goes
        assert dispatch.dispatch(settings, expected) == {"sent": 1}


def test_quiet_hours_are_kept_in_the_office_s_own_zone(app, make_request, session, httpserver):
    """20.00 WIB is 22.00 in Jayapura (WIT): an SMS of a Jayapura office waits, one of a
    Serang office goes."""
    httpserver.expect_request("/sms").respond_with_data("ok")
    serang = ready_with_sms(make_request, session, MORNING_WIB)
    jayapura = ready_with_sms(make_request, session, MORNING_WIB, "lbk-dinas", office="36.02")
    jayapura.office.timezone = "Asia/Jayapura"  # Lebak, moved east for the test
    session.commit()
    evening = dt.datetime(2026, 12, 2, 13, 0, tzinfo=dt.UTC)  # 20.00 WIB, 22.00 WIT
    with app.app_context():
        announce.publish(session, evening)
        session.commit()
        tally = dispatch.dispatch(config(app, NOTIFY_SMS_URL=sms_url(httpserver)), evening)
    assert tally == {"sent": 1, "quiet": 1}
    [(received, _)] = httpserver.log
    assert received.headers["Idempotency-Key"].startswith(f"{serang.id}:")
    session.rollback()


@pytest.mark.parametrize("raw", ["21-07", "25:00-07:00", "21:00", "07:00-07:00"])
def test_a_setting_of_quiet_hours_that_cannot_be_read_is_refused(raw) -> None:
    from tracker import create_app
    from tracker.config import ConfigError

    with pytest.raises(ConfigError, match="NOTIFY_QUIET_HOURS"):
        create_app({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "NOTIFY_QUIET_HOURS": raw})


def test_an_empty_quiet_hours_setting_in_the_environment_means_none() -> None:
    from tracker.config import from_environment

    assert from_environment({"NOTIFY_QUIET_HOURS": ""}) == {"NOTIFY_QUIET_HOURS": ""}
    assert from_environment({"NOTIFY_BATCH": ""}) == {}  # control: other empties are "unset"


@settings(max_examples=300, deadline=None)
@given(
    now=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(dt.UTC),
    ),
    start=st.times(),
    end=st.times(),
    zone=st.sampled_from(["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]),
)
def test_quiet_hours_end_after_the_moment_they_cover(now, start, end, zone) -> None:
    """Whatever the instant and the window, a message held for quiet hours is held until a
    moment that is later, at most a day away, and no longer quiet."""
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    assume(start != end)
    quiet = dispatch.QuietHours(start, end)
    there = ZoneInfo(zone)
    if not quiet.covers(now.astimezone(there).time()):
        return
    until = quiet.end_after(now, there)
    assert now < until <= now + dt.timedelta(days=1)
    assert not quiet.covers(until.astimezone(there).time())
