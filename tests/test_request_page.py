"""One request's page in the console: cancelling with a reason and a confirmation, the
handover record, and every message the request caused (its last error masked)."""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy import func, select

from tests.factories import csrf_token
from tracker.config import DEFAULTS
from tracker.models import Channel, CollectorKind, OutboxMessage, Request, StatusEvent, utcnow
from tracker.outbox import operations as outbox
from tracker.requests.operations import Collector
from tracker.status import Status

REASON = "Pemohon pindah domisili ke Kota Cilegon."


def cancel(client: Any, request: Request, **fields: Any) -> Any:
    data = {"cancelled-to": "cancelled", "cancelled-version": str(request.version)}
    data.update({f"cancelled-{key}": value for key, value in fields.items()})
    data["csrf_token"] = csrf_token(client, "/staff/")
    return client.post(f"/staff/r/{request.receipt}/move/cancelled", data=data)


def events(session: Any, request: Request) -> int:
    query = select(func.count()).where(StatusEvent.request_id == request.id)
    return session.scalar(query.select_from(StatusEvent))


def test_cancel_without_a_reason_is_refused_and_changes_nothing(
    client, operator, make_request, session
) -> None:
    request = make_request(Status.PROCESSING)
    before = (request.version, events(session, request))
    session.commit()
    answer = cancel(client, request, confirm="y", internal_note="telepon pemohon")
    body = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert "Alasan pembatalan (akan dibaca pemohon)" in body and 'class="field-error"' in body
    assert "telepon pemohon" in body  # what was typed is kept
    session.expire_all()
    fresh = session.get(Request, request.id)
    assert (fresh.status, fresh.version, events(session, fresh)) == (Status.PROCESSING, *before)


def test_cancel_without_the_confirmation_is_refused(client, operator, make_request, session):
    request = make_request(Status.PROCESSING)
    answer = cancel(client, request, public_note=REASON)
    body = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert "Mohon centang “Ya, batalkan permohonan ini”" in body
    assert REASON in body  # the reason typed is kept for the second try
    session.expire_all()
    assert session.get(Request, request.id).status == Status.PROCESSING
    # Both missing: both told at once, each beside its field.
    both = cancel(client, request).get_data(as_text=True)
    assert both.count('class="field-error"') == 2


def test_cancel_with_a_reason_and_the_confirmation_tells_the_citizen_why(
    client, operator, make_request, session
) -> None:
    request = make_request(Status.PROCESSING)
    page = client.get(f"/staff/r/{request.receipt}").get_data(as_text=True)
    assert 'name="cancelled-confirm"' in page and "Ya, batalkan permohonan ini" in page
    answer = cancel(client, request, public_note=REASON, confirm="y")
    assert answer.status_code == 303
    session.expire_all()
    fresh = session.get(Request, request.id)
    assert fresh.status == Status.CANCELLED and fresh.events[-1].public_note == REASON
    assert REASON in client.get(f"/s/{request.receipt}").get_data(as_text=True)


def test_the_page_shows_who_collected_for_the_applicant(
    client, operator, make_request, session
) -> None:
    request = make_request(Status.READY)
    collector = Collector(
        CollectorKind.REPRESENTATIVE, id_checked=True, name="Ahmad Fauzi", relation="Suami",
        attorney_checked=True,
    )  # fmt: skip
    make_request.move(request, Status.COLLECTED, collector=collector)
    session.commit()
    page = html.unescape(client.get(f"/staff/r/{request.receipt}").get_data(as_text=True))
    assert "Diambil oleh" in page and "Wakil pemohon: Ahmad Fauzi (Suami)" in page
    assert "Kartu identitas sudah diperiksa; Surat kuasa sudah diperiksa" in page
    assert "factory" in page  # the staff account that handed it over


def test_the_page_lists_messages_with_the_last_error_masked(
    client, operator, make_request, session
) -> None:
    request = make_request(Status.VERIFYING)
    request.consent_notify, request.channel = True, Channel.SMS
    now = utcnow()
    assert outbox.queue(session, request, "needs_fix", now=now)
    session.flush()
    message = session.scalars(
        select(OutboxMessage).where(OutboxMessage.request_id == request.id)
    ).one()
    outbox.claim(session, now=now, limit=10, lease_seconds=60)
    session.refresh(message)
    error = "gateway 400: nomor 081234567834 tidak aktif (cc siti@example.id)"
    outbox.failed(session, message, error, now=now, retries=outbox.Retries.from_config(DEFAULTS))
    session.commit()
    page = html.unescape(client.get(f"/staff/r/{request.receipt}").get_data(as_text=True))
    assert "081234567834" not in page and "siti@example.id" not in page
    assert "nomor 08••••••••34 tidak aktif (cc s•••@•••.id)" in page  # control: it is shown
    assert "<td>Perlu perbaikan</td>" in page and "<td>SMS</td>" in page
    assert "<td>Menunggu dikirim</td>" in page
    from tracker.outbox import queries as outbox_queries  # new here: its test fails before

    lines = outbox_queries.of_request(session, request.id)
    assert [(m.channel, m.state, m.attempts) for m in lines] == [("SMS", "Waiting to be sent", 1)]


def test_mask_contacts_hides_numbers_and_addresses_only() -> None:
    from tracker.web.formatters import mask_contacts

    assert mask_contacts("ke 081234567834 gagal") == "ke 08••••••••34 gagal"
    assert mask_contacts("to +62 812-3456-7890: 21211") == "to +62•••••••••90: 21211"
    assert mask_contacts("550 <siti.rahma@example.co.id>") == "550 <s•••@•••.id>"
    assert mask_contacts("NIK 3673011203850001") == "NIK 36••••••••••••01"
    # Control: what names no one stays as it was.
    kept = "HTTP 503 at 2026-11-27 10:00 (code 0123)"
    assert mask_contacts(kept) == kept
    assert mask_contacts("") == ""


def test_a_request_without_messages_or_handover_says_so(client, operator, make_request) -> None:
    request = make_request(Status.PROCESSING)
    page = client.get(f"/staff/r/{request.receipt}").get_data(as_text=True)
    assert "Pesan kepada pemohon" in page and "Diambil oleh" not in page
