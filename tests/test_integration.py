"""Another system's day from end to end, through the real parts: a bridge registers a request
and moves it to ready through the API with a write key; the scheduler's own jobs announce it
and send the outbox; a webhook receiver and an SMS gateway on loopback receive what they
would in production (the webhook checked with the ``standardwebhooks`` library, the SMS sent
through Apprise); and the status page and Open311 tell the citizen the same thing."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select
from standardwebhooks import Webhook, WebhookVerificationError

from jobs import work
from tests.test_api_keys import bearer, make_key
from tests.test_notify import sms_url
from tracker.audit.trail import Actor
from tracker.models import KeyScope, Office, PickupPoint, utcnow
from tracker.webhooks import sealing, subscriptions

WIB = ZoneInfo("Asia/Jakarta")
REGISTRATION = {
    "service": "ktp-el", "applicant_name": "Siti Aminah", "nik": "3673015507900002",
    "phone": "0812 3456 7890", "consent_notify": True, "channel": "sms", "language": "id",
    "handover": "pickup", "point": "srg-dinas", "external_ref": "SIAK-2026-000777",
}  # fmt: skip


def next_office_morning(after: dt.datetime) -> dt.datetime:
    """10.00 WIB after ``after``: outside the SMS quiet hours, whatever hour the suite runs."""
    local = after.astimezone(WIB)
    morning = local.replace(hour=10, minute=0, second=0, microsecond=0)
    return (morning if morning > local else morning + dt.timedelta(days=1)).astimezone(dt.UTC)


def test_a_request_registered_and_made_ready_through_the_api_reaches_every_receiver(
    app: Any, client: Any, session: Any, httpserver: Any
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    httpserver.expect_request("/sms", method="POST").respond_with_data("ok")
    serang = session.scalars(select(Office).where(Office.code == "36.73")).one()
    events = ["request.status_changed", "announcement.published"]
    _hook, secret = subscriptions.add(
        session, utcnow(), Actor("it"), office=serang, url=httpserver.url_for("/hook"),
        events=events, ring=sealing.keyring(app.config),
    )  # fmt: skip
    session.commit()
    key = bearer(make_key(session, "siak-serang", scope=KeyScope.WRITE))

    made = client.post("/api/v1/requests", json=REGISTRATION, headers=key)
    assert made.status_code == 201, made.get_data(as_text=True)
    receipt, version = made.get_json()["receipt"], made.get_json()["version"]
    for to in ("verifying", "processing", "ready"):
        body = {"to": to, "version": version, **({"point": "srg-dinas"} if to == "ready" else {})}
        moved = client.post(
            "/api/v1/requests/ext:SIAK-2026-000777/transitions", json=body, headers=key
        )
        assert moved.status_code == 200, moved.get_data(as_text=True)
        version = moved.get_json()["version"]

    # The scheduler's jobs, at a moment of the office's day: announce, then send.
    now = next_office_morning(utcnow())
    config = {**app.config, "NOTIFY_SMS_URL": sms_url(httpserver)}
    with app.app_context():
        assert work.announce(session, config, now) == 1
        session.commit()
        sent = work.notify(session, config, now)
    assert sent == {"sent": 5}  # three status changes, one announcement, one SMS

    hooks = [r for r, _ in httpserver.log if r.path == "/hook"]
    texts = [r for r, _ in httpserver.log if r.path == "/sms"]
    with time_machine.travel(now, tick=False):
        delivered = [Webhook(secret).verify(r.get_data(), dict(r.headers)) for r in hooks]
        try:  # control: a receiver with another secret refuses every delivery
            Webhook(subscriptions.make_secret()).verify(hooks[0].get_data(), dict(hooks[0].headers))
            raise AssertionError("a delivery verified under another secret")
        except WebhookVerificationError:
            pass
    changes = [d["data"] for d in delivered if d["type"] == "request.status_changed"]
    assert [(c["receipt"], c["status"]) for c in changes] == [
        (receipt, "verifying"), (receipt, "processing"), (receipt, "ready")
    ]  # fmt: skip
    assert changes[-1]["version"] == version
    [announced] = [d["data"] for d in delivered if d["type"] == "announcement.published"]
    assert announced["point"]["code"] == "srg-dinas" and announced["count"] == 1
    [pickup_number] = [item["pickup_number"] for item in announced["items"]]

    [sms] = texts
    message = json.loads(sms.get_data())
    assert message["to"] == "081234567890" or message["to"].endswith("81234567890")
    assert pickup_number in message["message"]
    assert "3673015507900002" not in sms.get_data(as_text=True) + "".join(
        h.get_data(as_text=True) for h in hooks
    )  # no NIK travels

    page = client.get(f"/s/{receipt}").get_data(as_text=True)
    [open311] = client.get(f"/open311/v2/requests/{receipt}.json?extensions=true").get_json()
    point = session.scalars(select(PickupPoint).where(PickupPoint.code == "srg-dinas")).one()
    assert open311["service_request_id"] == receipt
    assert open311["status"] == "open"
    assert open311["extended_attributes"]["status_code"] == "ready"
    assert open311["extended_attributes"]["pickup_number"] == pickup_number
    assert open311["address"] == point.address
    assert re.search(rf">\s*{re.escape(pickup_number)}\s*<", page), "the page's pickup number"
    assert point.name in page and point.name in message["message"]
