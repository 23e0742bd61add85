"""After a provider's outage: a supervisor sends every dead message of one channel that is
still worth sending again with one button (and IT staff with ``outbox retry-dead``), in the
offices they see. Left dead: messages about a request that moved on since (a "ready" SMS to
a citizen who has collected the document would mislead), of an anonymised request, replies
to a citizen's question (they answered with the status of that moment), other channels and
other offices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update

from tests.factories import csrf_token, sign_in
from tests.test_notify import MORNING_WIB, NOON_WIB, config, ready_with_sms, sms_url
from tests.test_outbox_kinds import queue_reply
from tracker.announcements import operations as announce
from tracker.models import AuditEntry, Channel, OutboxMessage, OutboxStatus, Request
from tracker.outbox import dispatch, operations
from tracker.status import Status

DEAD, PENDING = OutboxStatus.DEAD, OutboxStatus.PENDING


def messages(session: Any) -> dict[int, OutboxMessage]:
    session.expire_all()
    found = {m.id: m for m in session.scalars(select(OutboxMessage))}
    session.commit()
    return found


def of(session: Any, request_id: int) -> OutboxMessage:
    [message] = [m for m in messages(session).values() if m.request_id == request_id]
    return message


def die(session: Any, message_id: int, now: dt.datetime) -> None:
    """A message given up after its one attempt, through the outbox's own moves."""
    assert message_id in operations.claim(session, now=now, limit=100, lease_seconds=60)
    message = session.get(OutboxMessage, message_id)
    session.refresh(message)  # claimed by an UPDATE of its own
    last = operations.Retries(attempts=1, base_seconds=60, cap_seconds=60)
    operations.failed(session, message, "HTTP 503", now=now, retries=last)
    session.commit()


def outage(app: Any, make_request: Any, session: Any, httpserver: Any) -> dict[str, int]:
    """Ready documents announced at noon while the SMS provider is down: every SMS dies.
    Then one of them is collected, one request is anonymised, a reply and a WhatsApp
    message die too, and Lebak's SMS. The ids of the requests (and of the reply)."""
    httpserver.expect_request("/sms").respond_with_data("down", status=503)
    made = {
        name: ready_with_sms(make_request, session, MORNING_WIB, **kw)
        for name, kw in {
            "waiting": {},
            "collected": {},
            "anonymised": {},
            "lebak": {"office": "36.02", "point": "lbk-dinas"},
        }.items()
    }
    whatsapp = ready_with_sms(make_request, session, MORNING_WIB)
    with app.app_context():
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.request_id == whatsapp.id)
            .values(channel=Channel.WHATSAPP)
        )
        session.commit()
        announce.publish(session, NOON_WIB)
        session.commit()
        down = config(app, NOTIFY_SMS_URL=sms_url(httpserver), NOTIFY_MAX_ATTEMPTS=1,
                      NOTIFY_WHATSAPP_URL="")  # fmt: skip
        dispatch.dispatch(down, NOON_WIB)
    if of(session, whatsapp.id).status != DEAD:
        die(session, of(session, whatsapp.id).id, NOON_WIB)
    queue_reply(session, made["waiting"].office_id, key="reply:after-outage")
    [reply] = [m for m in messages(session).values() if m.event == "reply"]
    die(session, reply.id, reply.next_attempt_at)
    make_request.move(made["collected"], Status.COLLECTED, at=NOON_WIB + dt.timedelta(hours=1))
    session.commit()
    session.execute(
        update(Request)
        .where(Request.id == made["anonymised"].id)
        .values(anonymised_at=NOON_WIB + dt.timedelta(hours=2))
    )
    session.commit()
    ids = {name: request.id for name, request in made.items()}
    ids.update(whatsapp=whatsapp.id, reply=reply.id)
    session.commit()
    assert all(m.status == DEAD for m in messages(session).values())
    return ids


def test_a_supervisor_sends_the_channel_s_dead_messages_still_worth_sending_again(
    app, client, make_account, make_request, session, httpserver
) -> None:
    made = outage(app, make_request, session, httpserver)
    before = {i: m.status for i, m in messages(session).items()}
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    page = client.get("/staff/outbox").get_data(as_text=True)
    # Serang's dead SMS: waiting, collected, anonymised and the reply; one worth sending.
    assert "4 pesan SMS gagal; 1 masih layak dikirim ulang." in page
    assert "Kirim ulang 1 pesan" in page
    # Asking for Lebak's office, as an admin may, changes nothing of a supervisor's scope.
    lebak_office = session.get(Request, made["lebak"]).office_id
    session.commit()
    answer = client.post(
        f"/staff/outbox/retry?office={lebak_office}",
        data={"channel": "sms", "csrf_token": csrf_token(client, "/staff/outbox")},
    )
    assert answer.status_code == 303
    assert "1 pesan akan dikirim ulang; 3 lainnya dibiarkan" in client.get(
        "/staff/outbox"
    ).get_data(as_text=True)
    after = messages(session)
    again = of(session, made["waiting"])
    assert again.status == PENDING and again.attempts == 0
    for name in ("collected", "anonymised", "lebak", "whatsapp"):
        assert of(session, made[name]).status == DEAD, name
    assert after[made["reply"]].status == DEAD
    assert {i for i, m in after.items() if m.status != before[i]} == {again.id}
    [row] = session.scalars(select(AuditEntry).where(AuditEntry.action == "messages_retried"))
    assert row.target == "sms" and row.details["count"] == 1 and row.details["left"] == 3
    session.commit()

    # The provider is back: the one sent again arrives, through the real library, when the
    # dispatcher next runs (the button made it due at the moment it was pressed, the real
    # clock's; quiet hours, which apply as ever, are off here so that any hour will do).
    httpserver.clear()
    httpserver.expect_request("/sms").respond_with_data("ok")
    with app.app_context():
        up = config(app, NOTIFY_SMS_URL=sms_url(httpserver), NOTIFY_QUIET_HOURS="")
        assert dispatch.dispatch(up, again.next_attempt_at) == {"sent": 1}
    [(received, _answer)] = httpserver.log
    assert received.headers["Idempotency-Key"] == again.idempotency_key


def test_a_bad_or_forged_bulk_retry_changes_nothing(
    app, client, make_account, make_request, session, httpserver
) -> None:
    outage(app, make_request, session, httpserver)
    before = {i: m.status for i, m in messages(session).items()}
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    token = csrf_token(client, "/staff/outbox")
    for data in ({"channel": "fax"}, {"channel": ""}, {}):
        answer = client.post("/staff/outbox/retry", data={**data, "csrf_token": token})
        assert answer.status_code == 400, data
        body = answer.get_data(as_text=True)
        assert "Tidak ada pesan yang dikirim ulang" in body and "Saluran:" in body
    forged = client.post("/staff/outbox/retry", data={"channel": "sms"})  # no token
    assert forged.status_code == 400
    assert {i: m.status for i, m in messages(session).items()} == before
    # Control: the same post with its token sends one again.
    done = client.post("/staff/outbox/retry", data={"channel": "sms", "csrf_token": token})
    assert done.status_code == 303
    assert sum(m.status == PENDING for m in messages(session).values()) == 1


def test_operators_may_not_send_messages_again_in_bulk(
    app, client, make_account, make_request, session, httpserver
) -> None:
    outage(app, make_request, session, httpserver)
    assert sign_in(client, make_account("operator").username).status_code == 303
    token = csrf_token(client, "/staff/")
    answer = client.post("/staff/outbox/retry", data={"channel": "sms", "csrf_token": token})
    assert answer.status_code == 403
    assert all(m.status == DEAD for m in messages(session).values())


def test_the_command_sends_an_office_s_or_every_office_s_again(
    app, runner, make_request, session, httpserver
) -> None:
    made = outage(app, make_request, session, httpserver)
    lebak = runner.invoke(args=["outbox", "retry-dead", "--channel", "sms", "--office", "36.02"])
    assert lebak.exit_code == 0, lebak.output
    assert "1 sms messages will be sent again; 0 left dead." in lebak.output
    assert of(session, made["lebak"]).status == PENDING
    assert of(session, made["waiting"]).status == DEAD  # control: Serang's is not touched
    every = runner.invoke(args=["outbox", "retry-dead", "--channel", "sms"])
    assert "1 sms messages will be sent again; 3 left dead." in every.output
    assert of(session, made["waiting"]).status == PENDING
    for name in ("collected", "anonymised", "whatsapp"):
        assert of(session, made[name]).status == DEAD, name
    unknown = runner.invoke(args=["outbox", "retry-dead", "--channel", "sms", "--office", "99"])
    assert unknown.exit_code != 0 and "No office has the code" in unknown.output
    fax = runner.invoke(args=["outbox", "retry-dead", "--channel", "fax"])
    assert fax.exit_code != 0
