"""The scheduled jobs called as functions (and through ``jobs run-once``): announcements and
their pages, the feed, the JSON and the calendar entry; reminders, expiry, the overdue list
and retention; each safe to run twice."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, update

from jobs import lease, scheduler
from jobs.commands import jobs as jobs_cli
from tracker.announcements import operations as announce
from tracker.models import (
    Announcement,
    AnnouncementItem,
    Channel,
    OutboxMessage,
    Request,
    StatusEvent,
    utcnow,
)
from tracker.requests import lifecycle
from tracker.status import Status
from tracker.web.formatters import mask_name

ATOM = "{http://www.w3.org/2005/Atom}"


def count(session: Any, what: Any) -> int:
    found = session.scalar(select(func.count()).select_from(what))
    session.commit()
    return found


def test_announce_publishes_each_ready_document_once(make_request, session, runner) -> None:
    first = make_request(Status.READY, point="srg-cipocok", name="Siti Rahmawati")
    make_request(Status.READY, point="srg-dinas")
    result = runner.invoke(jobs_cli, ["run-once", "announce"])
    assert result.exit_code == 0 and "announce: 2" in result.output
    again = runner.invoke(jobs_cli, ["run-once", "announce"])
    assert "announce: 0" in again.output
    assert count(session, Announcement) == 2 and count(session, AnnouncementItem) == 2
    item = session.scalars(
        select(AnnouncementItem).where(AnnouncementItem.request_id == first.id)
    ).one()
    assert (item.pickup_number, item.masked_name) == (
        first.pickup_number,
        mask_name("Siti Rahmawati"),
    )
    session.commit()


def test_the_announcement_pages_show_numbers_not_people(client, make_request, session) -> None:
    request = make_request(Status.READY, point="srg-cipocok", name="Siti Rahmawati")
    announce.publish(session, utcnow())
    session.commit()
    page = client.get("/pengumuman?titik=srg-cipocok").get_data(as_text=True)
    assert request.pickup_number in page and mask_name("Siti Rahmawati") in page
    assert "Siti" not in page and request.receipt not in page and request.nik not in page
    elsewhere = client.get("/pengumuman?titik=srg-dinas").get_data(as_text=True)
    assert request.pickup_number not in elsewhere

    feed = client.get("/pengumuman.atom")
    assert feed.mimetype == "application/atom+xml"
    root = ET.fromstring(feed.data)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}author/{ATOM}name") is not None
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 1
    for required in ("id", "title", "updated", "content"):
        assert entries[0].find(f"{ATOM}{required}") is not None
    assert request.pickup_number in entries[0].find(f"{ATOM}content").text
    assert "Siti" not in feed.get_data(as_text=True)

    data = client.get("/api/v1/announcements?point=srg-cipocok").get_json()
    [published] = data["announcements"]
    [item] = published["items"]
    assert published["point"]["code"] == "srg-cipocok"
    assert (item["pickup_number"], item["name"]) == (
        request.pickup_number,
        mask_name("Siti Rahmawati"),
    )
    assert "Siti" not in str(data) and request.receipt not in str(data)


def test_the_pickup_window_goes_into_a_calendar(client, make_request) -> None:
    request = make_request(Status.READY, point="srg-cipocok")
    answer = client.get(f"/s/{request.receipt}/pickup.ics")
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    calendar = Calendar.from_ical(answer.data)
    [event] = calendar.walk("VEVENT")
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Asia/Jakarta"
    assert event.decoded("DTSTART").astimezone(dt.UTC) == request.window_starts
    assert event.decoded("DTEND").astimezone(dt.UTC) == request.window_ends
    assert "Cipocok" in str(event["LOCATION"]) and request.pickup_number in str(event["SUMMARY"])
    assert request.receipt not in answer.get_data(as_text=True)
    waiting = make_request(Status.PROCESSING)
    assert client.get(f"/s/{waiting.receipt}/pickup.ics").status_code == 404


def test_the_morning_digest_is_published_once_a_day(make_request, session) -> None:
    make_request(Status.READY, point="srg-dinas")
    now = utcnow()
    assert len(announce.digest(session, "Asia/Jakarta", now)) == 1
    session.commit()
    assert announce.digest(session, "Asia/Jakarta", now) == []
    assert announce.digest(session, "Asia/Jayapura", now) == []  # no office there has any
    session.rollback()


def consenting(make_request: Any, session: Any, status: Status) -> Request:
    request = make_request(status, point="srg-cipocok")
    request.consent_notify, request.channel = True, Channel.WHATSAPP
    session.commit()
    return request


def test_reminders_are_queued_once(app, make_request, session) -> None:
    request = consenting(make_request, session, Status.READY)
    soon = request.window_ends - dt.timedelta(days=1)
    assert lifecycle.remind(session, app.config, soon)["reminder_closing"] == 1
    session.commit()
    assert lifecycle.remind(session, app.config, soon)["reminder_closing"] == 0
    session.commit()
    waited = request.window_starts + dt.timedelta(days=app.config["REMIND_WAITING_DAYS"], hours=1)
    if waited < request.window_ends - dt.timedelta(days=app.config["REMIND_BEFORE_CLOSE_DAYS"]):
        assert lifecycle.remind(session, app.config, waited)["reminder_waiting"] == 1
        session.commit()
    events = session.scalars(select(OutboxMessage.event)).all()
    assert events.count("reminder_closing") == 1
    session.commit()


def test_expiry_returns_the_document_to_the_main_office(app, client, make_request, session):
    request = consenting(make_request, session, Status.READY)
    after = request.window_ends + dt.timedelta(hours=1)
    assert lifecycle.expire(session, app.config, after) == 1
    session.commit()
    assert lifecycle.expire(session, app.config, after) == 0
    session.commit()
    session.refresh(request)
    assert request.status == Status.RETURNED
    assert request.pickup_point.code == "srg-dinas" and request.window_ends > after
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.event == "returned")).one()
    assert message.recipient == request.phone
    session.commit()
    page = client.get(f"/s/{request.receipt}").get_data(as_text=True)
    assert "Disdukcapil Kota Serang" in page


def test_retention_removes_personal_data_and_keeps_statistics(app, make_request, session):
    request = make_request(Status.COLLECTED, name="Siti Rahmawati", email="siti@contoh.id")
    later = utcnow() + dt.timedelta(days=app.config["RETENTION_DAYS"] + 1)
    assert lifecycle.anonymise(session, app.config, later) == 1
    session.commit()
    assert lifecycle.anonymise(session, app.config, later) == 0
    session.commit()
    session.refresh(request)
    assert request.applicant_name == mask_name("Siti Rahmawati")
    assert (request.nik, request.phone, request.email, request.address) == (None,) * 4
    assert request.status == Status.COLLECTED and request.service.code == "ktp-el"
    assert (
        count(session, select(StatusEvent).where(StatusEvent.request_id == request.id).subquery())
        >= 4
    )
    fresh = make_request(Status.COLLECTED)
    assert lifecycle.anonymise(session, app.config, utcnow()) == 0  # not old enough
    session.refresh(fresh)
    assert fresh.nik is not None
    session.commit()


@pytest.mark.parametrize("waiting", [Status.READY, Status.RETURNED, Status.DELIVERING])
def test_retention_leaves_a_document_that_still_waits(app, make_request, session, waiting):
    """A document at a pickup point, back at the main office or with a courier has not
    ended: however old, its applicant can still come for it, and must be recognised."""
    request = make_request(waiting)
    ended = make_request(Status.CANCELLED)  # control: an ended request of the same age goes
    later = utcnow() + dt.timedelta(days=app.config["RETENTION_DAYS"] + 1)
    assert lifecycle.anonymise(session, app.config, later) == 1
    session.commit()
    session.refresh(request)
    session.refresh(ended)
    assert request.nik is not None and request.anonymised_at is None
    assert ended.nik is None and ended.anonymised_at is not None
    session.commit()


def test_the_overdue_list_counts_per_office(make_request, session) -> None:
    late = make_request(Status.PROCESSING, at=utcnow() - dt.timedelta(days=60))
    make_request(Status.PROCESSING)
    assert lifecycle.overdue_counts(session, utcnow()) == {late.office_id: 1}
    session.commit()


def test_a_held_lease_keeps_a_second_run_out(app, session, runner) -> None:
    with app.app_context():
        assert lease.take(session, "announce", 60, utcnow())
        session.commit()
        result = runner.invoke(jobs_cli, ["run-once", "announce"])
        assert "skipped" in result.output
        lease.give_back(session, "announce", utcnow())
        session.commit()
        assert "announce: 0" in runner.invoke(jobs_cli, ["run-once", "announce"]).output


def test_every_job_is_declared_once_with_its_rules(app, runner) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    built = scheduler.build(app, BackgroundScheduler)
    built.start(paused=True)
    try:
        ids = [job.id for job in built.get_jobs()]
        assert len(ids) == len(set(ids)) and "announce" in ids and "notify" in ids
        for job in built.get_jobs():
            assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time >= 60
    finally:
        built.shutdown(wait=False)
    for zone in ("wib", "wita", "wit"):
        assert {f"digest-{zone}", f"remind-{zone}", f"expire-{zone}"} <= set(ids)
    listed = runner.invoke(jobs_cli, ["list"])
    assert listed.exit_code == 0 and all(i in listed.output for i in ids)
    assert "next" in listed.output
    unknown = runner.invoke(jobs_cli, ["run-once", "nothing"])
    assert unknown.exit_code != 0 and "announce" in unknown.output


def test_the_scheduler_marks_what_the_release_before_changed_as_it_starts(
    app, make_request, session
) -> None:
    """During an upgrade the release before writes only ``updated_at``: a request it made
    (``changed_at`` empty) or moved (``changed_at`` older) is marked changed at the moment
    the scheduler starts, after every web host runs the new release — not at its
    ``updated_at``, which a bridge may have read past already — so a bridge's list finds
    it. Control: a request whose window a closure moved later than its last move keeps that
    ``changed_at``."""
    made, moved, closed = (make_request(Status.PROCESSING) for _ in range(3))
    at = dt.datetime(2027, 2, 1, 2, 0, tzinfo=dt.UTC)
    starts = at + dt.timedelta(days=3)
    for request, changed in ((made, None), (moved, at - dt.timedelta(days=1)),
                             (closed, at + dt.timedelta(days=1))):  # fmt: skip
        session.execute(
            update(Request)
            .where(Request.id == request.id)
            .values(updated_at=at, changed_at=changed)
            .execution_options(synchronize_session=False)
        )
    session.commit()
    scheduler.prepare(app, starts)
    session.expire_all()
    got = [r.changed_at for r in (made, moved, closed)]
    assert got == [starts, starts, at + dt.timedelta(days=1)]
    session.commit()
