"""Messages that belong to no request: each kind says whether consent and quiet hours apply;
a reply goes out at once, at any hour, through a real HTTP receiver, while a message about a
request waits for the morning; the console shows and sends again a dead one; migration 0006
lets the outbox hold them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from tests.factories import csrf_token, sign_in
from tests.test_notify import config, outbox, sms_url
from tracker import schema
from tracker.models import Channel, OutboxMessage, OutboxStatus
from tracker.outbox import dispatch, operations, texts
from tracker.outbox.kinds import KINDS
from tracker.status import Status

NIGHT_WIB = dt.datetime(2026, 12, 2, 16, 0, tzinfo=dt.UTC)  # 23.00 WIB
MORNING_AFTER = dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC)  # 07.00 WIB, the next day
ANSWER = "Dokumen Anda sedang diproses. Cek status: https://cek.example.go.id"


def queue_reply(session: Any, office_id: int, key: str = "reply:wa-1", **kw: Any) -> bool:
    queued = operations.queue_text(
        session, kind="reply", channel=kw.pop("channel", Channel.SMS),
        recipient="081299990000", body=ANSWER, office_id=office_id, key=key, now=NIGHT_WIB, **kw,
    )  # fmt: skip
    session.commit()
    return queued


def test_the_kinds_say_what_applies_to_each() -> None:
    about_a_request = {name for name, kind in KINDS.items() if kind.rendered}
    assert about_a_request == set(operations.EVENTS)
    assert all(KINDS[name].consent and KINDS[name].quiet for name in about_a_request)
    for name in ("reply", "webhook"):
        assert not (KINDS[name].consent or KINDS[name].quiet or KINDS[name].rendered)
    for name in about_a_request:  # the texts rendered when sent have their templates
        for suffix in (".sms.txt", ".subject.txt", ".txt"):
            assert (texts.TEMPLATES / f"{name}{suffix}").is_file(), name


def test_a_reply_at_night_goes_at_once_while_an_ordinary_sms_waits(
    app, make_request, session, httpserver
) -> None:
    httpserver.expect_request("/sms").respond_with_data("ok")
    request = make_request(Status.VERIFYING, at=NIGHT_WIB)
    request.consent_notify, request.channel = True, Channel.SMS
    session.commit()
    make_request.move(request, Status.REJECTED, at=NIGHT_WIB)  # its SMS: due at 23.00
    session.commit()
    assert queue_reply(session, request.office_id)  # the same office, the same instant
    settings = config(app, NOTIFY_SMS_URL=sms_url(httpserver))  # 21.00-07.00 by default
    with app.app_context():
        assert dispatch.dispatch(settings, NIGHT_WIB) == {"sent": 1, "quiet": 1}
    [(received, _)] = httpserver.log
    payload = json.loads(received.data)
    assert (payload["to"], payload["message"]) == ("081299990000", ANSWER)
    assert received.headers["Idempotency-Key"] == "reply:wa-1"
    rejected, reply = outbox(session)
    assert (reply.event, reply.status, reply.request_id) == ("reply", OutboxStatus.SENT, None)
    # Control: the message about the request waits for the end of the quiet hours, then goes.
    assert (rejected.event, rejected.status) == ("rejected", OutboxStatus.PENDING)
    assert rejected.next_attempt_at == MORNING_AFTER
    with app.app_context():
        assert dispatch.dispatch(settings, MORNING_AFTER) == {"sent": 1}
    assert json.loads(httpserver.log[1][0].data)["message"].startswith("KTP-el DITOLAK")


def test_a_reply_is_queued_once_per_key_and_each_kind_only_its_own_way(
    make_request, session
) -> None:
    request = make_request(Status.SUBMITTED)
    office_id = request.office_id
    assert queue_reply(session, office_id)
    assert not queue_reply(session, office_id)  # the same key: nothing more
    assert queue_reply(session, office_id, key="reply:wa-2")  # control: another key
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    session.commit()
    with pytest.raises(ValueError, match="about a request"):
        operations.queue_text(
            session, kind="ready", channel=Channel.SMS, recipient="0812", body="Siap",
            office_id=office_id, key="ready:without-request", now=NIGHT_WIB,
        )  # fmt: skip
    with pytest.raises(ValueError, match="its own text"):  # and a reply is not rendered
        operations.queue(session, request, "reply", now=NIGHT_WIB)


def test_a_dead_reply_is_listed_and_can_be_sent_again(
    client, make_account, make_request, session
) -> None:
    office_id = make_request(Status.SUBMITTED).office_id
    queue_reply(session, office_id)
    [message] = outbox(session)
    assert message.id in operations.claim(session, now=NIGHT_WIB, limit=10, lease_seconds=60)
    session.refresh(message)
    last = operations.Retries(attempts=1, base_seconds=60, cap_seconds=60)
    operations.failed(session, message, "HTTP 503", now=NIGHT_WIB, retries=last)
    session.commit()
    assert message.status == OutboxStatus.DEAD
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    page = client.get("/staff/outbox")
    assert page.status_code == 200
    assert "<td>Balasan kepada pemohon</td>" in page.get_data(as_text=True)  # in words; no receipt
    answer = client.post(
        f"/staff/outbox/{message.id}/retry", data={"csrf_token": csrf_token(client, "/staff/")}
    )
    assert answer.status_code == 303
    assert outbox(session)[0].status == OutboxStatus.PENDING


def _row(request_id: int | None, office_id: int, key: str) -> dict[str, Any]:
    return {"request_id": request_id, "office_id": office_id, "event": "reply",
            "channel": "sms", "idempotency_key": key, "recipient": "0812", "subject": "",
            "body": "Ya", "status": "pending", "attempts": 0, "next_attempt_at": NIGHT_WIB,
            "last_error": "", "created_at": NIGHT_WIB}  # fmt: skip


def test_migration_0006_lets_a_message_belong_to_no_request(app, make_request) -> None:
    request = make_request(Status.SUBMITTED)
    engine = app.extensions["siapambil.db"]["engine"]
    table = OutboxMessage.__table__
    schema.downgrade(engine, "0005")
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert(table).values(_row(None, request.office_id, "a")))
        with engine.begin() as connection:  # control: with a request it is taken
            connection.execute(insert(table).values(_row(request.id, request.office_id, "b")))
        schema.upgrade(engine, "head")
        with engine.begin() as connection:
            connection.execute(insert(table).values(_row(None, request.office_id, "c")))
        schema.downgrade(engine, "0005")  # going back drops what 0005 cannot hold
        with engine.connect() as connection:
            assert connection.scalars(select(table.c.idempotency_key)).all() == ["b"]
    finally:
        schema.upgrade(engine)
