"""The outbox: its transition table and the functions that make its moves, refusing the
others; that nothing else sets a message's state; its texts, rendered without a Flask app."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import has_app_context
from jinja2 import nodes

from tests.test_notify import MORNING_WIB, ready_with_sms
from tracker.errors import MessageMoveRefused
from tracker.models import Channel, OutboxMessage, OutboxStatus
from tracker.outbox import operations, texts
from tracker.outbox.operations import TRANSITIONS
from tracker.status import Status

BASE_URL = "https://cek.example.go.id"
# What the templates gave through Flask's render_template before the outbox had its own
# environment, for this request (the receipt number is drawn at random).
READY_SMS = (
    "KTP-el a.n. Budi SIAP DIAMBIL di Kantor Kecamatan Cipocok Jaya 02/12-15/12, no. C-001. "
    "Bawa tanda terima."
)
READY_SUBJECT = "KTP-el Anda siap diambil (C-001)"
READY_EMAIL = (
    "Yth. Budi Santoso,\n\n"
    "KTP-el Anda sudah SIAP DIAMBIL.\n\n"
    "Di mana: Kantor Kecamatan Cipocok Jaya, Jl. Bhayangkara No. 12, Cipocok Jaya, Serang\n"
    "Kapan: Rabu, 2 Desember 2026, 08.00 WIB sampai Selasa, 15 Desember 2026, 14.00 WIB\n"
    "Nomor pengambilan: C-001\n"
    "Yang dibawa: tanda terima. "
    "Kartu Keluarga asli. Bila menggantikan kartu lama, serahkan kartu lama itu atau surat "
    "kehilangan dari kepolisian.\n"
    "Boleh diwakilkan dengan surat kuasa.\n\n"
    "Status dan jam buka: https://cek.example.go.id/s/{receipt}\n"
    "Layanan ini gratis. Petugas tidak pernah meminta bayaran.\n"
)


def test_texts_render_without_a_flask_app_as_they_did_with_one(make_request, session) -> None:
    request = ready_with_sms(make_request, session, MORNING_WIB)
    assert not has_app_context()  # the factories and the session need none either
    sms = texts.render(request, "ready", Channel.SMS, base_url=BASE_URL)
    mail = texts.render(request, "ready", Channel.EMAIL, base_url=BASE_URL)
    assert sms == ("", READY_SMS)
    assert mail == (READY_SUBJECT, READY_EMAIL.format(receipt=request.receipt))
    assert not has_app_context()
    # Control: the base URL is the one given, not one read from an app.
    other = texts.render(request, "ready", Channel.EMAIL, base_url="https://x.example")
    assert f"https://x.example/s/{request.receipt}\n" in other.body
    session.rollback()


def filters_used() -> dict[str, set[str]]:
    """Every filter each message template uses, from its syntax tree."""
    env = texts.environment()
    used: dict[str, set[str]] = {}
    for name in env.list_templates():
        source = env.loader.get_source(env, name)[0]  # type: ignore[union-attr]
        tree = env.parse(source)
        used[name] = {node.name for node in tree.find_all(nodes.Filter)}
    return used


def test_the_outbox_environment_has_every_filter_the_message_templates_use() -> None:
    used = filters_used()
    missing = {name: names - set(texts.environment().filters) for name, names in used.items()}
    assert not any(missing.values()), missing
    # Control: the walk finds the filters that are there.
    assert set().union(*used.values()) == {"truncate", "ddmm", "day", "moment"}


# The moves, as the outbox's table must allow them: from which states each function may move
# a message. ``queue`` makes new messages and starts from none.
ALLOWED = {
    "queue": set(),
    "release": {OutboxStatus.HELD, OutboxStatus.SENDING},
    "claim": {OutboxStatus.PENDING, OutboxStatus.SENDING},
    "sent": {OutboxStatus.SENDING},
    "failed": {OutboxStatus.SENDING},
    "retry": {OutboxStatus.DEAD},
    "cancel": {OutboxStatus.HELD, OutboxStatus.PENDING, OutboxStatus.SENDING},
    "scrub": set(OutboxStatus),
}
NOW = dt.datetime(2026, 12, 2, 5, 0, tzinfo=dt.UTC)
LONG_AGO = NOW - dt.timedelta(days=1)
RETRIES = operations.Retries(attempts=3, base_seconds=60, cap_seconds=3600)


def test_the_table_allows_what_the_outbox_needs_and_no_more() -> None:
    assert {name: set(move.sources) for name, move in TRANSITIONS.items()} == ALLOWED
    # Sent and cancelled are final: only retention (which keeps the state) starts there.
    for final in (OutboxStatus.SENT, OutboxStatus.CANCELLED):
        assert {n for n, move in TRANSITIONS.items() if final in move.sources} == {"scrub"}


def one_in_every_state(make_request: Any, session: Any) -> dict[OutboxStatus, OutboxMessage]:
    """A message in each state, all of them due long ago and claimed long ago."""
    request = make_request(Status.SUBMITTED)
    made = {}
    for status in OutboxStatus:
        made[status] = OutboxMessage(
            request_id=request.id, office_id=request.office_id, event="ready",
            channel=Channel.SMS, idempotency_key=f"{request.id}:test:{status.value}",
            recipient="081234567890", subject="", body="Siap diambil", status=status,
            next_attempt_at=LONG_AGO, claimed_at=LONG_AGO, last_error="HTTP 503",
        )  # fmt: skip
        session.add(made[status])
    session.commit()
    return made


def states(session: Any, made: dict[OutboxStatus, OutboxMessage]) -> dict[OutboxStatus, str]:
    """The state each message has in the database now, by the state it was made in."""
    session.expire_all()
    now = {status: session.get(OutboxMessage, m.id).status for status, m in made.items()}
    session.commit()
    return now


SINGLE = {
    "sent": lambda session, message: operations.sent(session, message, now=NOW),
    "failed": lambda session, message: operations.failed(
        session, message, "HTTP 503", now=NOW, retries=RETRIES
    ),
    "retry": lambda session, message: operations.retry(session, message, now=NOW),
}


@pytest.mark.parametrize("name", SINGLE)
def test_a_function_of_one_message_refuses_what_the_table_forbids(
    name, make_request, session
) -> None:
    made = one_in_every_state(make_request, session)
    move = TRANSITIONS[name]
    refused = set()
    for status, message in made.items():
        if status in move.sources:
            SINGLE[name](session, message)
            assert message.status in move.targets
            continue
        with pytest.raises(MessageMoveRefused):
            SINGLE[name](session, message)
        assert message.status == status  # refused: unchanged
        refused.add(status)
    session.commit()
    after = states(session, made)
    assert {s for s in made if after[s] == s} >= refused
    assert refused and refused != set(OutboxStatus)  # control: some allowed, some refused


def test_send_again_only_a_dead_message(make_request, session) -> None:
    made = one_in_every_state(make_request, session)
    with pytest.raises(MessageMoveRefused):
        operations.retry(session, made[OutboxStatus.SENT], now=NOW)
    operations.retry(session, made[OutboxStatus.DEAD], now=NOW)  # control
    session.commit()
    after = states(session, made)
    assert after[OutboxStatus.SENT] == OutboxStatus.SENT
    assert after[OutboxStatus.DEAD] == OutboxStatus.PENDING
    assert made[OutboxStatus.DEAD].attempts == 0


def test_a_failure_backs_off_then_gives_up(make_request, session) -> None:
    message = one_in_every_state(make_request, session)[OutboxStatus.SENDING]
    outcomes, due = [], NOW
    for _ in range(RETRIES.attempts):
        outcomes.append(operations.failed(session, message, "503", now=due, retries=RETRIES))
        if message.status == OutboxStatus.PENDING:
            waited = message.next_attempt_at - due
            assert dt.timedelta(seconds=30) * 2 ** (len(outcomes) - 1) <= waited
            assert waited <= dt.timedelta(seconds=60) * 2 ** (len(outcomes) - 1)
            due = message.next_attempt_at
            assert message.id in operations.claim(session, now=due, limit=100, lease_seconds=60)
            session.refresh(message)
    assert outcomes == [OutboxStatus.PENDING, OutboxStatus.PENDING, OutboxStatus.DEAD]
    assert message.attempts == 3
    session.rollback()


BULK = {
    "release": lambda session, made: operations.release(session, ids(made), now=NOW),
    "cancel": lambda session, made: operations.cancel(session, ids(made)),
    "claim": lambda session, made: len(
        operations.claim(session, now=NOW, limit=100, lease_seconds=60)
    ),
}
TARGETS = {
    "release": OutboxStatus.PENDING,
    "cancel": OutboxStatus.CANCELLED,
    "claim": OutboxStatus.SENDING,
}


def ids(made: dict[OutboxStatus, OutboxMessage]) -> list[int]:
    return [message.id for message in made.values()]


@pytest.mark.parametrize("name", BULK)
def test_a_function_of_many_messages_moves_only_those_the_table_allows(
    name, make_request, session
) -> None:
    made = one_in_every_state(make_request, session)
    moved = BULK[name](session, made)
    session.commit()
    after = states(session, made)
    assert moved == len(ALLOWED[name])
    for status in OutboxStatus:
        assert after[status] == (TARGETS[name] if status in ALLOWED[name] else status), status


def test_a_bulk_cancel_leaves_sent_and_dead_messages_alone(make_request, session) -> None:
    made = one_in_every_state(make_request, session)
    request_id = made[OutboxStatus.SENT].request_id
    assert operations.cancel(session, operations.of_requests([request_id])) == 3
    session.commit()
    after = states(session, made)
    assert after[OutboxStatus.SENT] == OutboxStatus.SENT
    assert after[OutboxStatus.DEAD] == OutboxStatus.DEAD
    assert after[OutboxStatus.PENDING] == OutboxStatus.CANCELLED  # control


def test_release_leaves_a_sent_message_alone(make_request, session) -> None:
    made = one_in_every_state(make_request, session)
    assert operations.release(session, [made[OutboxStatus.SENT].id], now=NOW) == 0
    assert operations.release(session, [made[OutboxStatus.HELD].id], now=NOW) == 1  # control
    session.commit()
    after = states(session, made)
    assert (after[OutboxStatus.SENT], after[OutboxStatus.HELD]) == (
        OutboxStatus.SENT,
        OutboxStatus.PENDING,
    )


def test_scrub_blanks_every_message_of_the_requests_and_keeps_its_state(
    make_request, session
) -> None:
    made = one_in_every_state(make_request, session)
    other = one_in_every_state(make_request, session)
    operations.scrub(session, [made[OutboxStatus.SENT].request_id])
    session.commit()
    session.expire_all()
    for status, message in made.items():
        assert (message.status, message.recipient, message.body, message.last_error) == (
            status, "", "", ""
        )  # fmt: skip
    assert {m.recipient for m in other.values()} == {"081234567890"}  # control
    session.commit()


def test_no_message_asks_a_ktp_el_collector_for_a_ktp_el(make_request, session) -> None:
    """Each service's own list says what to bring; the messages add only the receipt. Control:
    the list itself asks a KK collector for their KTP-el, and that message says so."""
    ktp, kk = make_request(Status.READY), make_request(Status.READY, service="kk")
    for lang in ("id", "en"):
        for request in (ktp, kk):
            for kind in ("ready", "reminder_closing", "reminder_waiting", "returned"):
                mail = texts.render(request, kind, Channel.EMAIL, base_url=BASE_URL, locale=lang)
                sms = texts.render(request, kind, Channel.SMS, base_url=BASE_URL, locale=lang)
                words = mail.body + sms.body
                asks = "KTP-el asli" in words or "original KTP-el" in words
                assert asks == (request is kk), (lang, kind, request.service.code)
    session.rollback()
