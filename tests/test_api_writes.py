"""The API's writes: registering a request with the intake's rules and moving one with the one
``move``; ``Idempotency-Key``; every write route refuses keys of another office, of the read
scope, revoked and missing, and changes nothing."""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.test_api_contract import fits
from tests.test_api_keys import TESTER, audit_rows, bearer, make_key, stored
from tracker import receipts
from tracker.api import guard, idempotency, keys
from tracker.models import ApiIdempotency, AuditEntry, Channel, KeyScope, Request, utcnow
from tracker.status import Status

SERANG, LEBAK = "36.73", "36.02"
NIK = "3673015507900002"
REGISTER = "/api/v1/requests"
MOVE = "/api/v1/requests/{ref}/transitions"
W = KeyScope.WRITE


def new(**changed: Any) -> dict[str, Any]:
    body = {
        "service": "ktp-el", "applicant_name": "Siti Aminah", "nik": NIK,
        "phone": "+62 812-3456-7890", "consent_notify": True, "channel": "sms",
        "language": "en", "point": "srg-dinas", "external_ref": "SIAK-0001",
    }  # fmt: skip
    body.update(changed)
    return {k: v for k, v in body.items() if v is not None}


def count(session: Any, model: Any = Request) -> int:
    found = session.scalar(select(func.count()).select_from(model))
    session.commit()
    return found


def fresh(session: Any, receipt: str) -> Request:
    found = session.scalars(select(Request).where(Request.receipt == receipt)).one()
    session.refresh(found)
    session.commit()
    return found


def test_register_answers_201_and_the_request_has_the_intakes_choices(client, session) -> None:
    token = make_key(session, "bridge", scope=W)
    answer = client.post(REGISTER, json=new(), headers=bearer(token))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    fits(answer, REGISTER, "post")
    body = answer.get_json()
    made = fresh(session, body["receipt"])
    assert body["receipt_grouped"] == receipts.format_grouped(made.receipt)
    assert body["status"] == "submitted" and body["version"] == made.version == 1
    assert body["status_url"].endswith(f"/s/{made.receipt}")
    assert body["qr_url"].endswith(f"/s/{made.receipt}/qr.svg")
    assert client.get("/" + body["qr_url"].split("/", 3)[3]).status_code == 200
    assert (made.office.code, made.language, made.channel) == (SERANG, "en", Channel.SMS)
    assert made.phone == "081234567890" and made.nik == NIK and made.external_ref == "SIAK-0001"
    assert made.preferred_point.code == "srg-dinas" and made.applicant_name == "Siti Aminah"
    assert [r.actor for r in audit_rows(session, "register")] == ["apikey:bridge"]
    # The bridge's list shows the reference now.
    listed = client.get(REGISTER, headers=bearer(token)).get_json()["requests"]
    assert [(r["receipt"], r["external_ref"]) for r in listed] == [(made.receipt, "SIAK-0001")]


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"nik": "123"}, "nik"),
        ({"nik": "9973015507900002"}, "nik"),  # no such province
        ({"nik": "3673019907900002"}, "nik"),  # no such birth date
        ({"phone": "12345"}, "phone"),
        ({"applicant_name": "Siti 4minah"}, "applicant_name"),
        ({"phone": None}, "phone"),  # SMS needs a phone
        ({"channel": "email"}, "email"),  # e-mail needs an address
        ({"email": "not-an-address"}, "email"),
        ({"handover": "delivery"}, "address"),
        ({"point": "lbk-dinas"}, "point"),  # another office's point
        ({"service": "passport"}, "service"),
        ({"language": "fr"}, "language"),
        ({"external_ref": ""}, "external_ref"),
        ({"nik": None}, "nik"),
    ],
)
def test_each_intake_rule_is_refused_with_422_naming_the_field(
    client, session, changed, field
) -> None:
    token = make_key(session, "bridge", scope=W)
    answer = client.post(REGISTER, json=new(**changed), headers=bearer(token))
    assert answer.status_code == 422, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert error["field"] == field and field in error["message"]
    assert "Isian" in error["message"] or "field" in error["message"]  # Indonesian by default
    fits(answer, REGISTER, "post")
    assert count(session) == 0


@pytest.mark.parametrize(
    ("body", "field", "said", "english"),
    [
        (new(nik=3673015507900002), "nik", "harus berupa teks", "must be text"),
        (new(extra="x"), "extra", "bukan isian panggilan ini", "is not a field of this call"),
        ([new()], "", "harus berupa objek berisi isian", "must be an object of fields"),
        (new(language="fr"), "language", "harus salah satu dari: id, en",
         "must be one of: id, en"),
        (new(applicant_name=None) | {"applicant_name": None}, "applicant_name",
         "harus berupa teks", "must be text"),
        ({k: v for k, v in new().items() if k != "service"}, "service", "belum diisi",
         "is missing"),
        (new(consent_notify="ya"), "consent_notify", "harus berupa true atau false",
         "must be true or false"),
    ],
)  # fmt: skip
def test_a_body_that_does_not_fit_is_told_in_the_callers_language_without_its_values(
    client, session, body, field, said, english
) -> None:
    """The contract's refusals name the field and what it asks, in the caller's language
    (JSON Schema's own messages are English, and repeat the value sent: a NIK, a body)."""
    token = make_key(session, "bridge", scope=W)
    for language, expected in (("id", said), ("en", english)):
        answer = client.post(
            REGISTER, json=body, headers={**bearer(token), "Accept-Language": language}
        )
        assert answer.status_code == 422, answer.get_data(as_text=True)
        error = answer.get_json()["error"]
        assert (error["code"], error["field"]) == ("invalid_body", field), error
        assert f"{field or '(body)'} " in error["message"], error["message"]
        assert expected in error["message"], error["message"]
        for english_only in ("is not of type", "Additional properties", "is a required property",
                             "is not one of", NIK, "Siti"):  # fmt: skip
            assert english_only not in error["message"], error["message"]
        fits(answer, REGISTER, "post")
    assert count(session) == 0
    not_json = client.post(REGISTER, data="nik=1", content_type="application/json",
                           headers=bearer(token))  # fmt: skip
    assert not_json.status_code == 422
    assert "bukan JSON" in not_json.get_json()["error"]["message"]


DELIVERY = {"handover": "delivery", "point": None}


@pytest.mark.parametrize(
    ("changed", "clean", "field", "said"),
    [
        ({"service": "\ud800"}, {"service": "ktp-el"}, "service", "surrogate tunggal"),
        ({"office": "36.73\udfff"}, {"office": "36.73"}, "office", "surrogate tunggal"),
        ({"applicant_name": "Siti \ud83d"}, {}, "applicant_name", "surrogate tunggal"),
        ({**DELIVERY, "address": "Jl. \ud800 No. 1"}, {**DELIVERY, "address": "Jl. Merdeka 1"},
         "address", "surrogate tunggal"),
        ({**DELIVERY, "address": "\u0000"}, {**DELIVERY, "address": "Jl. Merdeka 1"}, "address",
         "karakter kendali"),
        ({"point": "srg-dinas\u001b[31m"}, {}, "point", "karakter kendali"),
        ({"applicant_name": "Siti\nAminah"}, {}, "applicant_name", "karakter kendali"),
        ({"email": "siti@contoh.id\u0085"}, {"email": "siti@contoh.id"}, "email",
         "karakter kendali"),
    ],
)  # fmt: skip
def test_a_text_no_form_could_send_is_refused_naming_the_field(
    client, session, changed, clean, field, said
) -> None:
    """JSON carries what a form cannot: a lone surrogate (which no database takes: a 500
    before) and control characters (stored as sent before, and served on the status page).
    Each is a 422 naming the field, in Indonesian, and nothing is registered."""
    token = make_key(session, "bridge", scope=W)
    answer = client.post(REGISTER, json=new(**changed), headers=bearer(token))
    assert answer.status_code == 422, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_field", field)
    assert said in error["message"] and f"“{field}”" in error["message"]
    fits(answer, REGISTER, "post")
    assert count(session) == 0
    # Control: the same body, the field written clean, is registered.
    registered = client.post(REGISTER, json=new(**clean), headers=bearer(token))
    assert registered.status_code == 201, registered.get_data(as_text=True)


def test_a_note_may_hold_line_breaks_but_no_other_control(client, session, make_request) -> None:
    """The notes, as the console's, may hold line breaks and tabs; not NUL or an escape, and
    a courier's name (one line) no line break either."""
    request = make_request(Status.VERIFYING)
    token = make_key(session, "bridge", scope=W)
    path, version = MOVE.format(ref=request.receipt), request.version
    for body, field, said in (
        ({"public_note": "Bawa KK asli\u0000"}, "public_note", "hanya baris baru dan tab"),
        ({"internal_note": "\u001b[31mmerah"}, "internal_note", "hanya baris baru dan tab"),
        ({"public_note": "Bawa KK \udc00"}, "public_note", "surrogate tunggal"),
    ):
        refused = client.post(
            path, json={"to": "needs_fix", "version": version, **body}, headers=bearer(token)
        )
        assert refused.status_code == 422, refused.get_data(as_text=True)
        error = refused.get_json()["error"]
        assert error["field"] == field and said in error["message"], error
        fits(refused, MOVE, "post")
        assert fresh(session, request.receipt).version == version
    note = "Bawa:\n\t1. KK asli\r\n\t2. Akta kelahiran"
    moved = client.post(
        path, json={"to": "needs_fix", "version": version, "public_note": note},
        headers=bearer(token),
    )  # fmt: skip
    assert moved.status_code == 200, moved.get_data(as_text=True)
    assert fresh(session, request.receipt).events[-1].public_note == note
    ready = make_request(Status.READY, point="srg-dinas")
    courier = client.post(
        MOVE.format(ref=ready.receipt),
        json={"to": "delivering", "version": ready.version, "courier": "JNE\nExpress",
              "reference": "JNE-1"}, headers=bearer(token),
    )  # fmt: skip
    assert courier.status_code == 422 and courier.get_json()["error"]["field"] == "courier"


def test_a_body_nested_deeper_than_the_parser_goes_is_refused_as_not_json(client, session) -> None:
    """``[`` a hundred thousand times exhausts Python's JSON parser: a 422 like any body that
    is not JSON, nothing registered, never a 500."""
    token = make_key(session, "bridge", scope=W)
    nested_a_little = client.post(REGISTER, data="[" * 50 + "]" * 50, headers=bearer(token),
                                  content_type="application/json")  # fmt: skip
    assert nested_a_little.status_code == 422  # JSON, but not a request: the schema says so
    for body in ("[" * 100_000, '{"a":' * 100_000):
        answer = client.post(
            REGISTER, data=body, headers=bearer(token), content_type="application/json"
        )
        assert answer.status_code == 422, answer.status_code
        assert answer.get_json()["error"]["code"] == "invalid_body"
        fits(answer, REGISTER, "post")
    assert count(session) == 0
    made = client.post(REGISTER, json=new(), headers=bearer(token))  # the key registers
    assert made.status_code == 201


def test_a_body_over_max_content_length_is_refused_413_unread(app, client, session) -> None:
    """Over ``MAX_CONTENT_LENGTH`` (1 MiB) a write is refused before its body is read, with
    or without a Content-Length (a chunked body is cut where it passes the limit)."""
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    token = make_key(session, "bridge", scope=W)
    under = json.dumps(new(applicant_name="A" * 900_000))  # the limit is not what refuses it
    assert client.post(REGISTER, data=under, headers=bearer(token),
                       content_type="application/json").status_code == 422  # fmt: skip
    over = json.dumps(new(applicant_name="A" * 1_100_000))
    answer = client.post(
        REGISTER, data=over, headers=bearer(token), content_type="application/json"
    )
    assert answer.status_code == 413
    assert answer.get_json()["error"] == {
        "code": "too_large",
        "message": "Yang dikirim terlalu besar.",
    }
    fits(answer, REGISTER, "post")
    chunked = client.post(
        REGISTER,
        input_stream=io.BytesIO(over.encode()),
        headers={**bearer(token), "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert chunked.status_code == 413
    assert count(session) == 0
    assert client.post(REGISTER, json=new(), headers=bearer(token)).status_code == 201


def test_the_duplicate_guard_409_lists_only_the_offices_own_receipts(
    client, session, make_request
) -> None:
    ours = make_request(Status.PROCESSING, nik=NIK)
    make_request(Status.VERIFYING, nik=NIK, office=LEBAK)
    token = make_key(session, "bridge", scope=W)
    refused = client.post(REGISTER, json=new(), headers=bearer(token))
    assert refused.status_code == 409
    fits(refused, REGISTER, "post")
    error = refused.get_json()["error"]
    assert error["code"] == "duplicate"
    assert error["duplicates"] == {"count": 2, "receipts": [ours.receipt]}
    text = refused.get_data(as_text=True)
    assert NIK not in text and "Budi" not in text and "081234567890" not in text
    assert count(session) == 2
    accepted = client.post(REGISTER, json=new(confirm_duplicate=True), headers=bearer(token))
    assert accepted.status_code == 201
    assert count(session) == 3


def test_external_ref_is_unique_per_office_and_another_office_may_reuse_it(client, session) -> None:
    token = make_key(session, "bridge", SERANG, LEBAK, scope=W)
    first = client.post(REGISTER, json=new(office=SERANG), headers=bearer(token))
    assert first.status_code == 201
    again = client.post(
        REGISTER, json=new(office=SERANG, nik="3673011203850001"), headers=bearer(token)
    )
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "external_ref_taken"
    fits(again, REGISTER, "post")
    other = client.post(
        REGISTER, json=new(office=LEBAK, point=None, confirm_duplicate=True), headers=bearer(token)
    )
    assert other.status_code == 201, other.get_data(as_text=True)
    assert count(session) == 2
    # A key of two offices must say which.
    unnamed = client.post(REGISTER, json=new(external_ref="X-9"), headers=bearer(token))
    assert unnamed.status_code == 422 and unnamed.get_json()["error"]["field"] == "office"


def test_transitions_by_receipt_and_by_external_ref(client, session, make_request) -> None:
    token = make_key(session, "bridge", scope=W)
    made = client.post(REGISTER, json=new(), headers=bearer(token)).get_json()
    by_ref = MOVE.format(ref="ext:SIAK-0001")
    moved = client.post(by_ref, json={"to": "verifying", "version": 1}, headers=bearer(token))
    assert moved.status_code == 200, moved.get_data(as_text=True)
    fits(moved, MOVE, "post")
    assert moved.get_json()["status"] == "verifying" and moved.get_json()["version"] == 2
    by_receipt = MOVE.format(ref=made["receipt_grouped"])
    step = client.post(by_receipt, json={"to": "processing", "version": 2}, headers=bearer(token))
    assert step.status_code == 200
    # ready needs a point of the office; the window is the console's.
    no_point = client.post(by_receipt, json={"to": "ready", "version": 3}, headers=bearer(token))
    assert no_point.status_code == 422 and no_point.get_json()["error"]["field"] == "point"
    foreign = {"to": "ready", "version": 3, "point": "lbk-dinas"}
    assert client.post(by_receipt, json=foreign, headers=bearer(token)).status_code == 422
    ready = client.post(
        by_receipt, json={"to": "ready", "version": 3, "point": "srg-dinas"}, headers=bearer(token)
    )
    assert ready.status_code == 200, ready.get_data(as_text=True)
    pickup = ready.get_json()["pickup"]
    assert pickup["point"] == "srg-dinas" and pickup["pickup_number"] and pickup["window"]
    request = fresh(session, made["receipt"])
    assert request.status == Status.READY and request.window_starts is not None
    actors = {e.actor for e in request.events}
    assert "apikey:bridge" in actors
    unknown = client.post(
        MOVE.format(ref="ext:NOPE"), json={"to": "verifying", "version": 1}, headers=bearer(token)
    )
    assert unknown.status_code == 404
    fits(unknown, MOVE, "post")


def test_a_stale_version_is_409_with_the_current_version(client, session, make_request) -> None:
    request = make_request(Status.VERIFYING)
    token = make_key(session, "bridge", scope=W)
    path = MOVE.format(ref=request.receipt)
    stale = client.post(path, json={"to": "processing", "version": 1}, headers=bearer(token))
    assert stale.status_code == 409, stale.get_data(as_text=True)
    fits(stale, MOVE, "post")
    assert stale.get_json()["error"] == {
        **stale.get_json()["error"], "code": "conflict", "current_version": request.version,
    }  # fmt: skip
    assert fresh(session, request.receipt).status == Status.VERIFYING
    # A version the request never had is the caller's mistake, not someone else's change.
    future = client.post(
        path, json={"to": "processing", "version": request.version + 3}, headers=bearer(token)
    )
    assert future.status_code == 409 and future.get_json()["error"]["code"] == "conflict"
    assert future.get_json()["error"]["current_version"] == request.version
    said = future.get_json()["error"]["message"]
    assert f"belum pernah berversi {request.version + 3}" in said
    assert "petugas lain" not in said  # the stale answer's "another staff member"
    assert "petugas lain" in stale.get_json()["error"]["message"]  # control: the stale one
    fits(future, MOVE, "post")
    assert fresh(session, request.receipt).status == Status.VERIFYING
    not_allowed = client.post(
        path, json={"to": "delivered", "version": request.version}, headers=bearer(token)
    )
    assert not_allowed.status_code == 409
    assert not_allowed.get_json()["error"]["code"] == "transition_not_allowed"
    fits(not_allowed, MOVE, "post")


def test_collected_is_refused_and_a_courier_and_reason_are_required(
    client, session, make_request
) -> None:
    request = make_request(Status.READY, point="srg-dinas")
    token = make_key(session, "bridge", scope=W)
    path, version = MOVE.format(ref=request.receipt), request.version
    collected = client.post(path, json={"to": "collected", "version": version},
                            headers=bearer(token))  # fmt: skip
    assert collected.status_code == 422
    assert collected.get_json()["error"]["code"] == "handover_at_counter"
    assert "loket" in collected.get_json()["error"]["message"]
    fits(collected, MOVE, "post")
    for body, field in (
        ({"to": "delivering", "version": version, "reference": "JNE-1"}, "courier"),
        ({"to": "delivering", "version": version, "courier": "JNE"}, "reference"),
        ({"to": "cancelled", "version": version, "public_note": "  "}, "public_note"),
    ):
        refused = client.post(path, json=body, headers=bearer(token))
        assert refused.status_code == 422, refused.get_data(as_text=True)
        assert refused.get_json()["error"]["field"] == field
    assert fresh(session, request.receipt).status == Status.READY
    sent = client.post(
        path, json={"to": "delivering", "version": version, "courier": "JNE",
                    "reference": "JNE-1"}, headers=bearer(token),
    )  # fmt: skip
    assert sent.status_code == 200
    done = client.post(path, json={"to": "delivered", "version": version + 1, "courier": "JNE",
                                   "reference": "JNE-1"}, headers=bearer(token))  # fmt: skip
    assert done.status_code == 200 and done.get_json()["status"] == "delivered"
    assert fresh(session, request.receipt).status == Status.DELIVERED


def test_an_idempotent_replay_returns_the_same_answer_and_registers_once(client, session) -> None:
    token = make_key(session, "bridge", scope=W)
    headers = {**bearer(token), "Idempotency-Key": "abc-123"}
    first = client.post(REGISTER, json=new(), headers=headers)
    again = client.post(REGISTER, json=new(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    fits(again, REGISTER, "post")
    assert count(session) == 1
    other = client.post(REGISTER, json=new(external_ref="SIAK-2"), headers=headers)
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(session) == 1
    # A refusal is kept too, and another key's same text is another key.
    refused = client.post(REGISTER, json=new(nik="1"), headers={**headers, "Idempotency-Key": "n"})
    replayed = client.post(REGISTER, json=new(nik="1"), headers={**headers, "Idempotency-Key": "n"})
    assert refused.status_code == replayed.status_code == 422
    assert replayed.headers["Idempotent-Replayed"] == "true"
    second = make_key(session, "bridge-two", scope=W)
    theirs = client.post(REGISTER, json=new(external_ref="SIAK-3", confirm_duplicate=True),
                         headers={**bearer(second), "Idempotency-Key": "abc-123"})  # fmt: skip
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert client.post(REGISTER, json=new(), headers={**headers, "Idempotency-Key": " "}
                       ).status_code == 422  # fmt: skip


def test_an_idempotency_key_is_kept_24_hours(session) -> None:
    now = dt.datetime(2027, 3, 1, 3, 0, tzinfo=dt.UTC)
    token = make_key(session, "bridge", scope=W)
    holder = keys.recognise(session, token, now)
    session.commit()
    hashed = idempotency.call_hash("POST", REGISTER, b"{}")
    idempotency.keep(session, holder.id, "k", hashed, 201, "{}", now)
    session.commit()
    later = now + dt.timedelta(hours=23, minutes=59)
    assert idempotency.stored(session, holder.id, "k", hashed, later) is not None
    day = now + dt.timedelta(hours=24)
    assert idempotency.stored(session, holder.id, "k", hashed, day) is None
    idempotency.expire(session, holder.id, later)
    assert count(session, ApiIdempotency) == 1
    idempotency.expire(session, holder.id, day)
    session.commit()
    assert count(session, ApiIdempotency) == 0
    idempotency.keep(session, holder.id, "k", hashed, 500, "{}", day)  # a 5xx is never kept
    session.commit()
    assert count(session, ApiIdempotency) == 0


def test_a_replay_after_24_hours_acts_again(app, client, session) -> None:
    token = make_key(session, "bridge", scope=W)
    headers = {**bearer(token), "Idempotency-Key": "old"}
    first = client.post(REGISTER, json=new(), headers=headers)
    assert first.status_code == 201
    # The kept answer was written a day ago.
    row = session.scalars(select(ApiIdempotency)).one()
    row.created_at = utcnow() - dt.timedelta(hours=24, seconds=1)
    session.commit()
    again = client.post(REGISTER, json=new(), headers=headers)
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers  # acted
    assert count(session, ApiIdempotency) == 1


WRITE_CALLS = {
    "api.register_request": (REGISTER, lambda r: new()),
    "api.transition": (MOVE, lambda r: {"to": "verifying", "version": r.version}),
}


def test_every_write_route_refuses_other_offices_read_keys_revoked_and_missing(
    app, client, session, make_request
) -> None:
    writes = {e for e, scope in guard.keyed_views(app).items() if scope == KeyScope.WRITE}
    assert writes == set(WRITE_CALLS)
    request = make_request(Status.SUBMITTED, nik="3673011203850001")
    lebak = make_key(session, "lebak-writer", LEBAK, scope=W)
    reader = make_key(session, "serang-reader", SERANG)
    revoked = make_key(session, "gone", SERANG, scope=W)
    keys.revoke(session, utcnow(), TESTER, session.merge(stored(session, "gone")))
    session.commit()
    before = (count(session), fresh(session, request.receipt).version)
    for endpoint, (path, body) in sorted(WRITE_CALLS.items()):
        url = path.format(ref=request.receipt)
        sent = body(request)
        if endpoint == "api.register_request":
            sent = {**sent, "office": SERANG}
        for token, status, reason in (
            (lebak, 403, "office"), (reader, 403, "scope"), (revoked, 401, None), (None, 401, None),
        ):  # fmt: skip
            headers = bearer(token) if token else {}
            denied_before = len(audit_rows(session, "denied"))
            answer = client.post(url, json=sent, headers=headers)
            assert answer.status_code == status, (endpoint, token, answer.get_data(as_text=True))
            fits(answer, path, "post")
            denied = audit_rows(session, "denied")
            if reason:
                assert len(denied) == denied_before + 1
                assert denied[-1].details["reason"] == reason and denied[-1].target == url
            else:
                assert len(denied) == denied_before
            assert (count(session), fresh(session, request.receipt).version) == before
            assert count(session, ApiIdempotency) == 0
    assert count(session, AuditEntry) > 0


def test_the_docs_page_shows_what_each_write_takes(client) -> None:
    text = client.get("/api/v1/docs").get_data(as_text=True)
    for schema in ("NewRequest", "Transition"):
        assert f'<a href="#schema-{schema}"><code>{schema}</code></a> (application/json)' in text
    assert "SIAK-2026-000123" in text  # the body's example
