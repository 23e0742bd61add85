"""Every word of the console in the reader's language: message states, channels and events,
and roles, in Indonesian and in English (never the code's own values)."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import sign_in
from tracker.models import Channel, OutboxMessage, OutboxStatus
from tracker.status import Status


def dead_message(make_request, session) -> OutboxMessage:
    request = make_request(Status.NEEDS_FIX)
    message = OutboxMessage(
        request_id=request.id, office_id=request.office_id, event="needs_fix",
        channel=Channel.WHATSAPP, idempotency_key=f"{request.id}:words", recipient="081234567834",
        body="", status=OutboxStatus.DEAD, attempts=8,
        last_error="HTTP 400: 081234567834 is not on WhatsApp",
    )  # fmt: skip
    session.add(message)
    session.commit()
    return message


def test_the_outbox_page_speaks_the_readers_language(client, make_account, make_request, session):
    dead_message(make_request, session)
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    indonesian = client.get("/staff/outbox?lang=id").get_data(as_text=True)
    assert "Gagal, tidak dicoba lagi" in indonesian and "Ditahan hingga pengumuman" in indonesian
    assert "> dead<" not in indonesian and "> held<" not in indonesian
    assert "<td>whatsapp</td>" not in indonesian and "<td>WhatsApp</td>" in indonesian
    assert "<td>needs_fix</td>" not in indonesian
    assert "081234567834" not in indonesian  # the error is masked, as on the request page
    english = client.get("/staff/outbox?lang=en").get_data(as_text=True)
    assert "Failed, given up" in english  # control: the English words in English


def test_roles_are_named_not_coded(client, make_account, session):
    assert sign_in(client, make_account("supervisor").username).status_code == 303
    page = client.get("/staff/accounts?lang=id").get_data(as_text=True)
    rows = page[page.index("<tbody>") : page.index("</tbody>")]
    assert "<td>Supervisor</td>" in rows and "<td>supervisor</td>" not in rows
    session.rollback()
    assert session.scalars(select(OutboxMessage)).all() == []  # nothing was written
