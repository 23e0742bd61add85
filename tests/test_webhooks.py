"""Webhooks out: events written to the outbox with the change that causes them, delivered to
a real HTTP receiver on loopback, signed per Standard Webhooks and checked with the
``standardwebhooks`` library; retries, dead letters and "send again" with the same
``webhook-id``; a rotated secret signing beside the new one for a day; an office's
subscription told only of that office; no personal data in any body."""

from __future__ import annotations

import datetime as dt
import json
import socket
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from tests.factories import csrf_token, sign_in
from tests.test_api_keys import bearer, make_key
from tracker.announcements import operations as announce
from tracker.api import contract
from tracker.audit.trail import Actor
from tracker.db import unit_of_work
from tracker.models import Channel, KeyScope, Office, OutboxMessage, OutboxStatus, Request
from tracker.outbox import dispatch
from tracker.requests import operations as moves
from tracker.status import Status
from tracker.webhooks import events as webhook_events
from tracker.webhooks import sealing, subscriptions

SERANG, LEBAK = "36.73", "36.02"
TESTER = Actor("tester")
BOTH = ["request.status_changed", "announcement.published"]
T = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)  # 09.00 WIB, a Wednesday


@pytest.fixture
def ring(app: Any) -> sealing.Keyring:
    """The keys the app seals and opens webhook secrets with."""
    return sealing.keyring(app.config)


def subscribe(
    session: Any, ring: Any, url: str, office: str = SERANG, events: list[str] = BOTH
) -> Any:
    """A subscription, committed; returns (its id, its secret)."""
    found = session.scalars(select(Office).where(Office.code == office)).one()
    made, secret = subscriptions.add(
        session, T, TESTER, office=found, url=url, events=events, ring=ring
    )
    session.commit()
    return made.id, secret


def webhooks(session: Any) -> list[OutboxMessage]:
    session.expire_all()
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == Channel.WEBHOOK)
        .order_by(OutboxMessage.id)
    ).all()
    session.commit()
    return list(rows)


def verify(secret: str, received: Any, at: dt.datetime) -> Any:
    """The body as the receiver's own library reads it, at the moment it arrived."""
    with time_machine.travel(at, tick=False):
        return Webhook(secret).verify(received.get_data(), dict(received.headers))


def settings(app: Any, **changes: Any) -> dict[str, Any]:
    return {**app.config, **changes}


def test_a_status_change_arrives_signed_and_verifies(app, make_request, session, httpserver, ring):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    _sid, secret = subscribe(session, ring, httpserver.url_for("/hook"))
    request = make_request(Status.SUBMITTED, at=T)
    make_request.move(request, Status.VERIFYING, at=T)
    session.commit()
    [message] = webhooks(session)
    assert (message.event, message.status, message.request_id) == (
        "webhook",
        OutboxStatus.PENDING,
        None,
    )
    sent_at = T + dt.timedelta(minutes=1)
    with app.app_context():
        assert dispatch.dispatch(settings(app), sent_at) == {"sent": 1}
        assert dispatch.dispatch(settings(app), sent_at) == {}  # nothing twice
    [(received, _)] = httpserver.log
    assert received.headers["webhook-id"] == message.idempotency_key
    assert received.headers["webhook-timestamp"] == str(int(sent_at.timestamp()))
    assert received.headers["content-type"] == "application/json"
    payload = verify(secret, received, sent_at)
    assert payload["type"] == "request.status_changed"
    assert payload["data"] == {
        "receipt": request.receipt,
        "office": SERANG,
        "status": "verifying",
        "previous_status": "submitted",
        "version": 2,
        "time": "2026-12-02T02:00:00Z",
        "public_note": "",
    }
    session.refresh(request)
    assert request.version == payload["data"]["version"]  # the version a bridge sends next
    with pytest.raises(WebhookVerificationError):  # control: another secret does not verify
        verify(subscriptions.make_secret(), received, sent_at)
    assert webhooks(session)[0].status == OutboxStatus.SENT


def test_a_move_that_rolls_back_writes_no_webhook(app, make_request, session, ring) -> None:
    subscribe(session, ring, "https://bridge.example/hook")
    request_id = make_request(Status.SUBMITTED, at=T).id
    session.commit()

    def verifying(s: Any) -> None:
        request = s.get(Request, request_id)
        moves.move(s, request, Status.VERIFYING, actor=TESTER, now=T, config=app.config)

    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work() as s:
            verifying(s)
            assert len(s.scalars(select(OutboxMessage.id)).all()) == 1  # written, in the unit
            raise RuntimeError("the view failed after the move")
        assert webhooks(session) == []
        with unit_of_work() as s:  # control: the same move, committed, leaves its delivery
            verifying(s)
    assert len(webhooks(session)) == 1


def test_a_failing_receiver_is_retried_then_dead_and_sent_again_with_the_same_id(
    app, client, make_account, make_request, session, httpserver, ring
):
    httpserver.expect_request("/hook").respond_with_data("down", status=503)
    _sid, secret = subscribe(session, ring, httpserver.url_for("/hook"))
    request = make_request(Status.SUBMITTED, at=T)
    make_request.move(request, Status.VERIFYING, at=T)
    session.commit()
    config = settings(app, NOTIFY_MAX_ATTEMPTS=2)
    with app.app_context():
        assert dispatch.dispatch(config, T) == {"retry": 1}
        [message] = webhooks(session)
        assert message.attempts == 1 and message.next_attempt_at > T
        assert dispatch.dispatch(config, message.next_attempt_at) == {"dead": 1}
        [message] = webhooks(session)
        assert message.status == OutboxStatus.DEAD and "503" in message.last_error
        assert dispatch.dispatch(config, message.next_attempt_at + dt.timedelta(days=1)) == {}
        httpserver.clear_all_handlers()
        httpserver.expect_request("/hook").respond_with_data("ok")
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    page = client.get("/staff/outbox").get_data(as_text=True)
    assert "Kiriman ke sistem kantor" in page and "Webhook" in page
    token = csrf_token(client, "/staff/outbox")
    sent_again = client.post(f"/staff/outbox/{message.id}/retry", data={"csrf_token": token})
    assert sent_again.status_code == 303  # a supervisor's "send again"
    again = webhooks(session)[0].next_attempt_at
    with app.app_context():
        assert dispatch.dispatch(config, again) == {"sent": 1}
    ids = {received.headers["webhook-id"] for received, _ in httpserver.log}
    assert ids == {message.idempotency_key} and len(httpserver.log) == 3
    assert verify(secret, httpserver.log[-1][0], again)["data"]["status"] == "verifying"


def test_a_receiver_that_refuses_the_delivery_is_given_up_at_once(
    app, make_request, session, httpserver, ring
):
    httpserver.expect_request("/hook").respond_with_data("gone", status=410)
    subscribe(session, ring, httpserver.url_for("/hook"))
    make_request.move(make_request(Status.SUBMITTED, at=T), Status.VERIFYING, at=T)
    session.commit()
    with app.app_context():
        assert dispatch.dispatch(settings(app, NOTIFY_MAX_ATTEMPTS=5), T) == {"dead": 1}
    [message] = webhooks(session)
    assert message.attempts == 1 and "410" in message.last_error


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(
    app, make_request, session, ring
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes the connection, says nothing
        subscribe(session, ring, f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        make_request.move(make_request(Status.SUBMITTED, at=T), Status.VERIFYING, at=T)
        session.commit()
        with app.app_context():
            assert dispatch.dispatch(settings(app, WEBHOOK_TIMEOUT_SECONDS=1), T) == {"retry": 1}
    [message] = webhooks(session)
    assert message.status == OutboxStatus.PENDING and message.attempts == 1
    assert message.last_error == "no answer within 1 s"


def test_after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new(
    app, make_request, session, httpserver, ring
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    sid, old = subscribe(session, ring, httpserver.url_for("/hook"))
    rotated_at = T + dt.timedelta(hours=1)
    new = subscriptions.rotate(
        session, rotated_at, TESTER, subscriptions.find(session, sid), ring=ring
    )
    session.commit()
    assert new != old and new.startswith("whsec_")
    within = rotated_at + dt.timedelta(hours=23)
    after = rotated_at + dt.timedelta(hours=25)
    request = make_request(Status.SUBMITTED, at=T)
    with app.app_context():
        make_request.move(request, Status.VERIFYING, at=within)
        session.commit()
        assert dispatch.dispatch(settings(app), within) == {"sent": 1}
        make_request.move(request, Status.PROCESSING, at=after)
        session.commit()
        assert dispatch.dispatch(settings(app), after) == {"sent": 1}
    (during, _), (later, _) = httpserver.log
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert verify(old, during, within) == verify(new, during, within)
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    assert verify(new, later, after)["data"]["status"] == "processing"
    with pytest.raises(WebhookVerificationError):
        verify(old, later, after)


def test_an_office_s_subscription_is_told_only_of_its_own_office(
    make_request, session, ring
) -> None:
    subscribe(session, ring, "https://serang.example/hook", office=SERANG)
    lebak = make_request(Status.SUBMITTED, office=LEBAK, at=T)
    make_request.move(lebak, Status.VERIFYING, at=T)
    session.commit()
    assert webhooks(session) == []
    serang = make_request(Status.SUBMITTED, office=SERANG, at=T)  # control
    make_request.move(serang, Status.VERIFYING, at=T)
    session.commit()
    [message] = webhooks(session)
    assert json.loads(message.body)["data"]["receipt"] == serang.receipt


def test_a_subscription_is_told_only_of_the_events_it_chose(make_request, session, ring) -> None:
    subscribe(session, ring, "https://a.example/announcements", events=["announcement.published"])
    request = make_request(Status.PROCESSING, at=T)
    assert webhooks(session) == []
    make_request.move(request, Status.READY, point="srg-cipocok", at=T)
    session.commit()
    assert webhooks(session) == []
    announce.publish(session, T)  # control: the event it chose
    session.commit()
    [message] = webhooks(session)
    assert json.loads(message.body)["type"] == "announcement.published"


def test_no_body_carries_personal_data(make_request, session, ring) -> None:
    request = make_request(Status.PROCESSING, name="Budi Santoso", at=T)
    subscribe(session, ring, "https://bridge.example/hook")
    nik, phone = request.nik, request.phone
    assert nik and phone  # the request holds them: their absence below means something
    make_request.move(
        request, Status.READY, point="srg-cipocok", at=T,
        internal_note="KTP lama disimpan di laci 3",
    )  # fmt: skip
    announce.publish(session, T)
    session.commit()
    changed, published = webhooks(session)
    for body in (changed.body, published.body):
        for private in (nik, phone, "Budi Santoso", "Santoso", "laci 3"):
            assert private not in body
    assert request.receipt in changed.body and '"status":"ready"' in changed.body  # control
    item = json.loads(published.body)["data"]["items"][0]
    assert item["name"] == "B*** S******" and item["pickup_number"] == request.pickup_number
    assert json.loads(published.body)["data"]["count"] == 1
    assert request.receipt not in published.body  # the announcement is public: no receipt


def test_bodies_fit_the_contract_s_webhooks(make_request, session, ring) -> None:
    request = make_request(Status.PROCESSING, at=T)
    subscribe(session, ring, "https://bridge.example/hook")
    make_request.move(request, Status.READY, point="srg-cipocok", at=T)
    announce.publish(session, T)
    session.commit()
    changed, published = (json.loads(m.body) for m in webhooks(session))
    assert contract.problems("WebhookStatusChanged", changed) == []
    assert contract.problems("WebhookAnnouncementPublished", published) == []
    hooks = contract.spec()["webhooks"]
    assert set(hooks) == {"request.status_changed", "announcement.published"}
    changed["data"]["nik"] = request.nik  # control: a body with personal data does not fit
    assert contract.problems("WebhookStatusChanged", changed) == [
        ("data.nik", "Additional properties are not allowed ('nik' was unexpected)")
    ]


def test_a_large_announcement_comes_in_parts_each_its_own_delivery(
    make_request, session, ring
) -> None:
    """A busy point's digest lists thousands: each delivery carries a part, all of them the
    whole list once. Control: parts as large as the list give the one delivery of before."""
    subscribe(session, ring, "https://bridge.example/hook")
    pile = [make_request(Status.PROCESSING, at=T) for _ in range(5)]
    for request in pile:
        make_request.move(request, Status.READY, point="srg-cipocok", at=T)
    [announcement] = announce.publish(session, T)
    session.flush()
    items = [webhook_events.Item(r.pickup_number, "B*** S******", r.service_id, T, T) for r in pile]
    parts = webhook_events.announcement_published(session, announcement, items, per_delivery=2)
    bodies = [json.loads(d.body) for d in parts]
    assert [b["data"]["part"] for b in bodies] == [{"number": n, "of": 3} for n in (1, 2, 3)]
    assert [len(b["data"]["items"]) for b in bodies] == [2, 2, 1]
    assert [i["pickup_number"] for b in bodies for i in b["data"]["items"]] == [
        r.pickup_number for r in pile
    ]
    assert {b["data"]["count"] for b in bodies} == {5}
    keys = [d.key for d in parts]
    assert len(set(keys)) == 3 and keys[0] == f"msg_{parts[0].subscription_id}_a{announcement.id}"
    for body in bodies:
        assert contract.problems("WebhookAnnouncementPublished", body) == []
    [whole] = webhook_events.announcement_published(session, announcement, items, per_delivery=5)
    assert whole.key == keys[0] and len(json.loads(whole.body)["data"]["items"]) == 5
    session.rollback()


def test_a_removed_subscription_gets_nothing_more(app, make_request, session, httpserver, ring):
    sid, _secret = subscribe(session, ring, httpserver.url_for("/hook"))
    make_request.move(make_request(Status.SUBMITTED, at=T), Status.VERIFYING, at=T)
    session.commit()
    subscriptions.remove(session, T, TESTER, subscriptions.find(session, sid))
    session.commit()
    assert [m.status for m in webhooks(session)] == [OutboxStatus.CANCELLED]
    make_request.move(make_request(Status.SUBMITTED, at=T), Status.VERIFYING, at=T)
    session.commit()
    with app.app_context():
        assert dispatch.dispatch(settings(app), T) == {}
    assert len(webhooks(session)) == 1 and not httpserver.log


def test_the_docs_page_shows_both_webhooks_and_their_bodies(client) -> None:
    page = client.get("/api/v1/docs").get_data(as_text=True)
    for name, schema in (
        ("request.status_changed", "WebhookStatusChanged"),
        ("announcement.published", "WebhookAnnouncementPublished"),
    ):
        section = page[page.index(f'id="webhook-{name}"') :]
        assert f'href="#schema-{schema}"' in section[: section.index("</section>")]
        assert f'id="schema-{schema}"' in page
    assert "webhook-signature" in page


def test_a_bridge_moves_a_request_through_the_api_and_its_webhook_verifies(
    app, client, session, httpserver, ring
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    _sid, secret = subscribe(session, ring, httpserver.url_for("/hook"))
    token = make_key(session, "bridge", scope=KeyScope.WRITE)
    body = {
        "service": "ktp-el", "applicant_name": "Siti Aminah", "nik": "3673015507900002",
        "phone": "0812 3456 7890", "point": "srg-dinas", "external_ref": "SIAK-0001",
    }  # fmt: skip
    made = client.post("/api/v1/requests", json=body, headers=bearer(token))
    assert made.status_code == 201, made.get_data(as_text=True)
    assert webhooks(session) == []  # registering is no change of status
    moved = client.post(
        "/api/v1/requests/ext:SIAK-0001/transitions",
        json={"to": "verifying", "version": 1, "public_note": "Berkas sedang diperiksa."},
        headers=bearer(token),
    )
    assert moved.status_code == 200, moved.get_data(as_text=True)
    [message] = webhooks(session)
    with app.app_context():
        assert dispatch.dispatch(settings(app), message.next_attempt_at) == {"sent": 1}
    [(received, _)] = httpserver.log
    data = verify(secret, received, message.next_attempt_at)["data"]
    assert (data["receipt"], data["status"]) == (made.get_json()["receipt"], "verifying")
    assert data["version"] == moved.get_json()["version"] == 2
    assert data["public_note"] == "Berkas sedang diperiksa."
