"""Personal data has an end: after ``jobs run-once retention``, with the clock past
``RETENTION_DAYS``, nothing in the whole database names the people of an old, finished
request, while an open request of the same age keeps its data, the daily statistics stay as
they were, and the audit trail still verifies."""

from __future__ import annotations

import datetime as dt
from typing import Any

import time_machine
from sqlalchemy import Text, cast, select, update

from jobs.commands import jobs as jobs_cli
from tests.factories import sign_in
from tracker.api import keys
from tracker.audit import trail as audit
from tracker.audit.trail import SYSTEM, Actor
from tracker.config import DEFAULTS
from tracker.models import (
    AnnouncementItem,
    ApiIdempotency,
    Base,
    Channel,
    CollectorKind,
    DailyFigure,
    KeyScope,
    Office,
    OutboxMessage,
    OutboxStatus,
    Request,
    StatusEvent,
    utcnow,
)
from tracker.outbox import operations as outbox
from tracker.outbox import texts
from tracker.requests import operations
from tracker.requests.operations import Collector
from tracker.status import Status

# A Monday morning in Serang (09:00 WIB): the office is open, whatever the real date.
START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)

FINISHED = {
    "name": "Sulastri Wahyuningsih",
    "nik": "3673015508900002",
    "phone": "081298765432",
    "email": "sulastri.w@contoh.id",
    "address": "Jl. Kenanga No. 17, Cipocok Jaya",
    "collector": "Rina Kartikasari",
}
OPEN = {
    "name": "Bambang Suryadinata",
    "nik": "3673021107880003",
    "phone": "081377788899",
    "email": "bambang.s@contoh.id",
    "address": "Jl. Flamboyan No. 4, Taktakan",
    "collector": "Joko Prasetyawan",
}


def dump(session: Any) -> str:
    """Every column of every table, as the database renders it as text, in one string."""
    parts = []
    for table in Base.metadata.sorted_tables:
        query = select(*[cast(column, Text) for column in table.columns])
        for row in session.execute(query):
            parts.extend("" if value is None else str(value) for value in row)
    session.rollback()
    return "\n".join(parts).casefold()


def figures(session: Any) -> list[tuple[Any, ...]]:
    rows = session.execute(select(DailyFigure).order_by(DailyFigure.id)).scalars()
    found = [(f.office_id, f.service_id, f.day, f.received, f.finished, f.collected) for f in rows]
    session.rollback()
    return found


def traces(person: dict[str, str]) -> list[str]:
    """What of a person could be found: each value whole, each part of the names, and the
    phone number without its leading 0 (as +62 forms would carry it)."""
    names = [*person["name"].split(), *person["collector"].split()]
    return [*person.values(), *names, person["phone"][1:]]


def person_request(make_request: Any, session: Any, person: dict[str, str], to: Status) -> Request:
    """A request that went by needs_fix (notes naming people) on to ``to``, with messages."""
    request = make_request(
        Status.VERIFYING,
        name=person["name"],
        nik=person["nik"],
        phone=person["phone"],
        email=person["email"],
        address=person["address"],
        point="srg-cipocok",
    )
    request.consent_notify, request.channel = True, Channel.WHATSAPP
    operations.move(
        session,
        request,
        Status.NEEDS_FIX,
        actor=Actor("operator"),
        public_note=f"Ibu/Bapak {person['name']}: KK belum dilampirkan.",
        internal_note=f"Ditelepon ke {person['phone']}; akan diambil {person['collector']}.",
        now=utcnow(),
        config=DEFAULTS,
    )
    for step in (Status.VERIFYING, Status.PROCESSING, Status.READY):
        make_request.move(request, step, point="srg-cipocok")
        if step == to:
            break
    session.commit()
    return request


def around_the_request(app: Any, client: Any, session: Any, request: Request, person: Any):
    """Staff search for the person and open the request; messages fail naming the recipient;
    an audit row about the request quotes people."""
    for query in (person["nik"], person["name"]):
        client.get("/staff/search", query_string={"q": query})
    client.get(f"/staff/r/{request.receipt}")
    base_url = app.config["PUBLIC_BASE_URL"]
    for message in session.scalars(
        select(OutboxMessage).where(OutboxMessage.request_id == request.id)
    ):
        message.subject, message.body = texts.render(
            request, message.event, Channel.SMS, base_url=base_url
        )
        message.last_error = f"HTTP 400: {message.recipient} is not on WhatsApp"
    audit.record(
        session,
        "note",
        actor=SYSTEM,
        at=utcnow(),
        target=request.receipt,
        text=f"{person['collector']} ({person['email']}) bertanya untuk {person['name']}",
    )
    session.commit()


def test_retention_leaves_nothing_of_an_old_finished_request_in_the_database(
    app, client, make_account, make_request, session, runner
) -> None:
    with time_machine.travel(START, tick=True):
        account = make_account("operator")
        assert sign_in(client, account.username).status_code == 303
        finished = person_request(make_request, session, FINISHED, Status.READY)
        still_open = person_request(make_request, session, OPEN, Status.PROCESSING)
        with app.app_context():
            assert "announce: 1" in runner.invoke(jobs_cli, ["run-once", "announce"]).output
        collector = Collector(
            CollectorKind.REPRESENTATIVE,
            id_checked=True,
            name=FINISHED["collector"],
            relation="kakak",
            attorney_checked=True,
        )
        operations.move(
            session, finished, Status.COLLECTED, actor=Actor(account.username), now=utcnow(),
            config=DEFAULTS, collector=collector,
        )  # fmt: skip
        session.commit()
        for request, person in ((finished, FINISHED), (still_open, OPEN)):
            around_the_request(app, client, session, request, person)
        finished_id, events = finished.id, len(finished.events)
        session.rollback()

    with time_machine.travel(START + dt.timedelta(days=1), tick=True), app.app_context():
        assert runner.invoke(jobs_cli, ["run-once", "deadlines-wib"]).exit_code == 0
    statistics = figures(session)
    assert statistics, "the deadlines job rolled up no figures"

    before = dump(session)
    for trace in traces(FINISHED) + traces(OPEN):
        assert trace.casefold() in before, f"{trace!r} was never stored: the test proves nothing"
    assert session.scalar(select(AnnouncementItem.id).limit(1)) is not None
    session.rollback()

    later = START + dt.timedelta(days=app.config["RETENTION_DAYS"] + 1)
    with time_machine.travel(later, tick=True), app.app_context():
        result = runner.invoke(jobs_cli, ["run-once", "retention"])
    assert result.exit_code == 0 and "retention: 1" in result.output, result.output

    after = dump(session)
    left = [trace for trace in traces(FINISHED) if trace.casefold() in after]
    assert left == [], f"retention left {left} of the finished request"
    for trace in traces(OPEN):  # the control: an open request keeps its data
        assert trace.casefold() in after, f"retention removed {trace!r} of an open request"

    assert figures(session) == statistics
    kept = session.get(Request, finished_id)
    assert kept.status == Status.COLLECTED and kept.service.code == "ktp-el"
    history = select(StatusEvent).where(StatusEvent.request_id == finished_id)
    assert len(session.scalars(history).all()) == events
    session.rollback()
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0 and "intact" in verified.output, verified.output


def test_retention_scrubs_old_replies_and_forgets_kept_api_answers(app, session, runner) -> None:
    """A reply to a citizen's own question belongs to no request, and an API answer kept
    under an Idempotency-Key may name people: retention scrubs the replies sent, dead or
    cancelled before ``RETENTION_DAYS`` and forgets the answers past their 24 hours. The
    controls: a reply as old but still pending, a recent reply, an answer of the last day."""
    office = session.scalar(select(Office).where(Office.code == "36.73"))
    key, _token = keys.create(
        session, START, Actor("tester"), name="bridge", offices=[office], scope=KeyScope.WRITE
    )
    later = START + dt.timedelta(days=app.config["RETENTION_DAYS"] + 1)
    replies = {
        "old-sent": (START, OutboxStatus.SENT, "081211110001"),
        "old-pending": (START, OutboxStatus.PENDING, "081211110002"),
        "recent-sent": (later - dt.timedelta(days=1), OutboxStatus.SENT, "081211110003"),
    }
    for name, (queued, status, phone) in replies.items():
        assert outbox.queue_text(
            session, kind="reply", channel=Channel.SMS, recipient=phone, body=f"Status {name}",
            office_id=office.id, key=f"reply:sms:{name}", now=queued,
        )  # fmt: skip
        session.flush()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key == f"reply:sms:{name}")
            .values(status=status)
        )
    answers = {"old": later - dt.timedelta(hours=25), "fresh": later - dt.timedelta(hours=1)}
    for name, kept_at in answers.items():
        session.add(
            ApiIdempotency(
                api_key_id=key.id, key=name, request_hash="0" * 64, status_code=201,
                response_body=f'{{"applicant": "Sulastri {name}"}}', created_at=kept_at,
            )
        )  # fmt: skip
    session.commit()

    with time_machine.travel(later, tick=True), app.app_context():
        result = runner.invoke(jobs_cli, ["run-once", "retention"])
    assert result.exit_code == 0, result.output

    left = {
        m.idempotency_key.rpartition(":")[2]: (m.recipient, m.body, m.status)
        for m in session.scalars(select(OutboxMessage).where(OutboxMessage.event == "reply"))
    }
    assert left["old-sent"] == ("", "", OutboxStatus.SENT)
    assert left["old-pending"] == ("081211110002", "Status old-pending", OutboxStatus.PENDING)
    assert left["recent-sent"] == ("081211110003", "Status recent-sent", OutboxStatus.SENT)
    kept = session.scalars(select(ApiIdempotency.key)).all()
    assert kept == ["fresh"]
    session.rollback()
