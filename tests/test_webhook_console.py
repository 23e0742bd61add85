"""Webhook subscriptions by command and in the console: a signing secret printed once in the
Standard Webhooks form, bad input refused with words naming what is wrong and nothing
changed; the console page for supervisors of their own office, audited, with its CSRF
token, and another office's subscriptions neither shown, rotated nor removed."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import func, select

from tests.factories import csrf_token, sign_in
from tracker.audit.trail import Actor
from tracker.models import AuditEntry, Office, WebhookSubscription, utcnow
from tracker.webhooks import sealing, subscriptions

SERANG, LEBAK = "36.73", "36.02"
HOOK = "https://siak.example.go.id/hook"


def stored(session: Any) -> list[WebhookSubscription]:
    session.expire_all()
    rows = list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))
    session.commit()
    return rows


def audited(session: Any, action: str) -> list[AuditEntry]:
    rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
    session.commit()
    return rows


def secret_in(output: str) -> str:
    return next(word for word in output.split() if word.startswith("whsec_"))


def test_webhook_add_prints_a_standard_secret_once(app, runner, session) -> None:
    made = runner.invoke(
        args=["webhook", "add", HOOK, "--office", SERANG,
              "--events", "request.status_changed,announcement.published"]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    secret = secret_in(made.output)
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 32
    [subscription] = stored(session)
    assert sealing.keyring(app.config).open(subscription.secret) == secret
    assert subscription.secret.startswith("sealed.") and subscription.active
    assert subscription.event_names == ["request.status_changed", "announcement.published"]
    listed = runner.invoke(args=["webhook", "list"])
    assert listed.exit_code == 0 and HOOK in listed.output and secret not in listed.output
    assert audited(session, "webhook_added")[-1].target == str(subscription.id)
    assert secret not in str(audited(session, "webhook_added")[-1].details)


def test_webhook_rotate_keeps_the_old_secret_for_a_day_and_remove_stops_it(app, runner, session):
    old = secret_in(runner.invoke(args=["webhook", "add", HOOK, "--office", SERANG,
                                        "--events", "request.status_changed"]).output)  # fmt: skip
    [subscription] = stored(session)
    rotated = runner.invoke(args=["webhook", "rotate", str(subscription.id)])
    assert rotated.exit_code == 0, rotated.output
    new = secret_in(rotated.output)
    [subscription] = stored(session)
    ring = sealing.keyring(app.config)
    assert (ring.open(subscription.secret), ring.open(subscription.previous_secret)) == (new, old)
    assert subscription.previous_until - subscription.created_at >= subscriptions.OVERLAP
    removed = runner.invoke(args=["webhook", "remove", str(subscription.id)])
    assert removed.exit_code == 0, removed.output
    assert not stored(session)[0].active
    assert "Webhooks: 0" in runner.invoke(args=["webhook", "list"]).output
    again = runner.invoke(args=["webhook", "remove", str(subscription.id)])
    assert again.exit_code == 2 and str(subscription.id) in again.output


def test_webhook_commands_refuse_bad_input_and_change_nothing(runner, session) -> None:
    cases = {
        ("ftp://siak.example/hook", SERANG, "request.status_changed"): "http",
        ("https:///no-host", SERANG, "request.status_changed"): "http",
        ("https://" + "x" * 200 + ".id", SERANG, "request.status_changed"): "200",
        (HOOK, SERANG, "request.deleted"): "request.deleted",
        (HOOK, SERANG, ","): "request.status_changed",
        (HOOK, "99.99", "request.status_changed"): "99.99",
    }
    for (url, office, events), named in cases.items():
        answer = runner.invoke(args=["webhook", "add", url, "--office", office, "--events", events])
        assert answer.exit_code == 2, (url, answer.output)
        assert named in answer.output and "whsec_" not in answer.output, answer.output
    assert stored(session) == []
    for command in ("rotate", "remove"):
        for number in ("999", str(2**64)):  # none such; and one no database column holds
            answer = runner.invoke(args=["webhook", command, number])
            assert answer.exit_code == 2 and number in answer.output
    control = runner.invoke(args=["webhook", "add", HOOK, "--office", SERANG, "--events",
                                  "request.status_changed"])  # fmt: skip
    assert control.exit_code == 0 and len(stored(session)) == 1


# --- the console ---------------------------------------------------------------------------


def lebak_subscription(session: Any, ring: sealing.Keyring) -> int:
    office = session.scalars(select(Office).where(Office.code == LEBAK)).one()
    made, _secret = subscriptions.add(
        session, utcnow(), Actor("tester"), office=office, url="https://lebak.example/hook",
        events=["request.status_changed"], ring=ring,
    )  # fmt: skip
    session.commit()
    return made.id


def test_a_supervisor_adds_rotates_and_removes_their_office_s_webhooks(
    app, client, session, make_account
) -> None:
    ring = sealing.keyring(app.config)
    lebak = lebak_subscription(session, ring)
    boss = make_account("supervisor")
    assert sign_in(client, boss.username).status_code == 303
    token = csrf_token(client, "/staff/webhooks")
    assert "lebak.example" not in client.get("/staff/webhooks").get_data(as_text=True)
    made = client.post("/staff/webhooks", data={
        "url": HOOK, "events": ["request.status_changed", "announcement.published"],
        "csrf_token": token,
    })  # fmt: skip
    assert made.status_code == 200
    mine = stored(session)[-1]
    assert mine.office.code == SERANG and mine.created_by == boss.username
    assert ring.open(mine.secret) in made.get_data(as_text=True)
    assert ring.open(mine.secret) not in client.get("/staff/webhooks").get_data(as_text=True)
    assert audited(session, "webhook_added")[-1].actor == boss.username

    rotated = client.post(f"/staff/webhooks/{mine.id}/rotate", data={"csrf_token": token})
    assert rotated.status_code == 200
    mine = stored(session)[-1]
    assert ring.open(mine.secret) in rotated.get_data(as_text=True) and mine.previous_secret
    assert audited(session, "webhook_rotated")[-1].actor == boss.username

    # Another office's subscription: neither rotated nor removed, and the refusal audited.
    before = stored(session)[0].secret
    for action in ("rotate", "remove"):
        answer = client.post(f"/staff/webhooks/{lebak}/{action}", data={"csrf_token": token})
        assert answer.status_code == 403
    assert stored(session)[0].active and stored(session)[0].secret == before
    assert {r.details.get("attempted") for r in audited(session, "denied")} >= {
        "rotate_webhook", "remove_webhook",
    }  # fmt: skip

    removed = client.post(f"/staff/webhooks/{mine.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303 and not stored(session)[-1].active


def test_webhook_forms_need_their_csrf_token(client, session, make_account) -> None:
    boss = make_account("supervisor")
    assert sign_in(client, boss.username).status_code == 303
    token = csrf_token(client, "/staff/webhooks")
    form = {"url": HOOK, "events": "request.status_changed"}
    assert client.post("/staff/webhooks", data=form).status_code == 400
    assert stored(session) == []
    assert client.post("/staff/webhooks", data={**form, "csrf_token": token}).status_code == 200
    [mine] = stored(session)
    assert client.post(f"/staff/webhooks/{mine.id}/remove").status_code == 400
    assert stored(session)[0].active  # control above: with the token it was made


def test_the_console_names_a_bad_url_and_unknown_events(client, session, make_account) -> None:
    boss = make_account("supervisor")
    assert sign_in(client, boss.username).status_code == 303
    token = csrf_token(client, "/staff/webhooks")
    bad = client.post("/staff/webhooks", data={
        "url": "ftp://x.example", "events": "request.status_changed", "csrf_token": token,
    })  # fmt: skip
    assert bad.status_code == 400 and "http://" in bad.get_data(as_text=True)
    none = client.post("/staff/webhooks", data={"url": HOOK, "csrf_token": token})
    assert none.status_code == 400 and "request.status_changed" in none.get_data(as_text=True)
    assert session.scalar(select(func.count(WebhookSubscription.id))) == 0


def test_operators_may_not_see_or_add_webhooks(client, session, make_account) -> None:
    clerk = make_account("operator")
    assert sign_in(client, clerk.username).status_code == 303
    assert client.get("/staff/webhooks").status_code == 403
    token = csrf_token(client, "/staff/intake")
    form = {"url": HOOK, "events": "request.status_changed", "csrf_token": token}
    assert client.post("/staff/webhooks", data=form).status_code == 403
    assert stored(session) == []


def test_an_admin_sees_every_office_s_webhooks_and_adds_one_for_another(
    app, client, session, make_account
) -> None:
    lebak_subscription(session, sealing.keyring(app.config))
    lebak = session.scalars(select(Office).where(Office.code == LEBAK)).one().id
    session.commit()
    assert sign_in(client, make_account("admin").username).status_code == 303
    token = csrf_token(client, "/staff/webhooks")
    assert "lebak.example" in client.get("/staff/webhooks").get_data(as_text=True)
    made = client.post("/staff/webhooks", data={
        "url": HOOK, "events": "announcement.published", "office": str(lebak),
        "csrf_token": token,
    })  # fmt: skip
    assert made.status_code == 200
    assert [s.office.code for s in stored(session)] == [LEBAK, LEBAK]
