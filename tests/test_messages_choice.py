"""Messages by choice: the status page says whether messages go to this request and by which
channel (no more of the number than its last two digits); a small control stops them after
a confirmation and turns them back on; intake records the citizen's language, which decides
the language of their messages and calendar entry."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from tests.factories import CSRF, csrf_token, sign_in
from tracker import receipts
from tracker.models import AuditEntry, Channel, Request, Service
from tracker.outbox import texts
from tracker.status import Status

PHONE = "081298765434"
STOP = "Hentikan pesan"
RESUME = "Kirim pesan lagi"


def with_channel(make_request: Any, session: Any, status: Status, channel: Channel | None,
                 **kw: Any) -> Request:  # fmt: skip
    request = make_request(status, phone=PHONE, email="budi.santoso@contoh.go.id", **kw)
    request.channel, request.consent_notify = channel, channel is not None
    session.commit()
    return request


def page(client: Any, request: Request, query: str = "") -> str:
    answer = client.get(f"/s/{request.receipt}{query}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def without_what_varies(body: str, request: Request) -> str:
    """The page less what differs from run to run and may hold any few digits: the times'
    machine-readable values (their microseconds) and the receipt number."""
    body = re.sub(r'\sdatetime="[^"]*"', "", body)
    return body.replace(request.receipt, "").replace(receipts.format_grouped(request.receipt), "")


def test_the_page_names_the_channel_and_only_the_last_two_digits(
    client, make_request, session
) -> None:
    whatsapp = with_channel(make_request, session, Status.PROCESSING, Channel.WHATSAPP)
    body = page(client, whatsapp)
    assert "Pesan dikirim lewat WhatsApp ke nomor berakhiran 34." in body
    assert PHONE not in body and "+62" not in body
    # Three or four digits may turn up by chance in what varies (a time's microseconds were
    # ".243472" once), so the short parts are looked for in the rest.
    rest = without_what_varies(body, whatsapp)
    for part in (PHONE[-4:], PHONE[-3:], "98765"):
        assert part not in rest, part
    assert "berakhiran 34." in rest  # control: the two digits it may show are still there
    sms = with_channel(make_request, session, Status.READY, Channel.SMS)
    assert "Pesan dikirim lewat SMS ke nomor berakhiran 34." in page(client, sms)
    email = with_channel(make_request, session, Status.PROCESSING, Channel.EMAIL)
    body = page(client, email)
    assert "Pesan tentang permohonan ini dikirim lewat e-mail." in body
    assert "budi" not in body.lower() and "contoh" not in body
    english = page(client, whatsapp, "?lang=en")
    assert "Messages about this request go by WhatsApp to the number ending in 34." in english


def test_stopping_needs_a_confirmation_and_can_be_undone(client, make_request, session) -> None:
    request = with_channel(make_request, session, Status.PROCESSING, Channel.WHATSAPP)
    body = page(client, request)
    assert STOP in body and RESUME not in body
    # The first step only asks (and carries the token the second step needs).
    asked = client.post(f"/s/{request.receipt}/berhenti")
    assert asked.status_code == 200 and "Hentikan pesan?" in asked.get_data(as_text=True)
    session.refresh(request)
    assert request.consent_notify
    # The second step without the token is refused, and changes nothing.
    forged = client.post(f"/s/{request.receipt}/berhenti", data={"yakin": "1"})
    assert forged.status_code == 400
    session.refresh(request)
    assert request.consent_notify
    token = CSRF.search(asked.get_data(as_text=True)).group(1)
    stopped = client.post(
        f"/s/{request.receipt}/berhenti", data={"yakin": "1", "csrf_token": token}
    )
    assert stopped.status_code == 303
    session.refresh(request)
    assert not request.consent_notify
    # The page says so at the top, offers the way back, and no longer offers to stop.
    body = page(client, request)
    top = body[: body.index("<h2")]
    assert "Anda tidak akan menerima pesan lagi" in top and RESUME in top
    assert STOP + "</button>" not in body
    token = CSRF.search(body).group(1)
    resumed = client.post(f"/s/{request.receipt}/pesan-lagi", data={"csrf_token": token})
    assert resumed.status_code == 303
    session.refresh(request)
    assert request.consent_notify
    body = page(client, request, "?pesan=1")
    assert "akan dikirim lagi" in body and STOP in body and RESUME not in body
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.target == request.receipt, AuditEntry.action.like("messages_%"))
        .order_by(AuditEntry.id)
    ).all()
    assert actions == ["messages_stopped", "messages_resumed"]
    session.commit()


def test_the_control_shows_only_where_messages_can_go(client, make_request, session) -> None:
    open_with = with_channel(make_request, session, Status.READY, Channel.SMS)
    assert STOP in page(client, open_with)  # control
    without = with_channel(make_request, session, Status.PROCESSING, None)
    collected = with_channel(make_request, session, Status.COLLECTED, Channel.SMS)
    for request in (without, collected):
        body = page(client, request)
        assert STOP not in body and "berakhiran" not in body and RESUME not in body
    # Turning messages on is refused where the page offers no control.
    asked = client.post(f"/s/{open_with.receipt}/berhenti").get_data(as_text=True)
    token = CSRF.search(asked).group(1)
    for request in (without, collected):
        answer = client.post(f"/s/{request.receipt}/pesan-lagi", data={"csrf_token": token})
        assert answer.status_code == 404
        session.refresh(request)
        assert request.consent_notify == (request is collected)
    stopped = with_channel(make_request, session, Status.COLLECTED, Channel.SMS)
    stopped.consent_notify = False
    session.commit()
    body = page(client, stopped)
    assert RESUME not in body


def test_intake_records_the_language_and_messages_and_calendar_follow_it(
    client, make_account, make_request, session
) -> None:
    account = make_account("operator")
    assert sign_in(client, account.username).status_code == 303
    kk = session.scalars(select(Service).where(Service.code == "kk")).one()
    session.commit()
    made = {}
    for language, nik in (("en", "3673015505900002"), ("id", "3673011203850001")):
        data = {
            "csrf_token": csrf_token(client, "/staff/intake"), "service": str(kk.id),
            "applicant_name": "Siti Rahmawati", "nik": nik, "phone": PHONE,
            "consent_notify": "y", "channel": "sms", "handover": "pickup",
            "language": language, "confirm_duplicate": "y",
        }  # fmt: skip
        answer = client.post("/staff/intake", data=data)
        assert answer.status_code == 303, answer.get_data(as_text=True)
        receipt = re.search(r"/staff/r/([^/]+)/receipt", answer.headers["Location"])
        made[language] = session.scalars(select(Request).where(Request.receipt == receipt[1])).one()
    assert made["en"].language == "en" and made["id"].language == "id"
    session.commit()
    for request in made.values():
        for step in (Status.VERIFYING, Status.PROCESSING, Status.READY):
            make_request.move(request, step, point="srg-dinas")
        session.commit()
    url = "https://siapambil.example"
    english = texts.render(made["en"], "ready", Channel.SMS, base_url=url).body
    indonesian = texts.render(made["id"], "ready", Channel.SMS, base_url=url).body
    assert "READY at" in english and "SIAP DIAMBIL" not in english
    assert "SIAP DIAMBIL" in indonesian and "READY" not in indonesian
    mail = texts.render(made["en"], "window_moved", Channel.EMAIL, base_url=url)
    assert mail.subject.startswith("New pickup dates") and "Dear " in mail.body
    en_entry = client.get(f"/s/{made['en'].receipt}/pickup.ics").get_data(as_text=True)
    id_entry = client.get(f"/s/{made['id'].receipt}/pickup.ics").get_data(as_text=True)
    assert "SUMMARY:Collect " in en_entry
    assert "Bring the receipt" in en_entry.replace("\r\n ", "") and "Bawa" not in en_entry
    assert "SUMMARY:Ambil " in id_entry and "Bawa tanda terima" in id_entry.replace("\r\n ", "")
