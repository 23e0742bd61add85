"""Status by WhatsApp and SMS: signed webhooks in, replies out through the outbox and Apprise
to real receivers on loopback; NIK and names refused, mistyped numbers told, the per-sender
limit (one refusal, then silence), one SMS per reply, the language, and a log without the
sender's number."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from typing import Any

import pytest
import time_machine
from apprise.plugins.whatsapp import NotifyWhatsApp
from limits.storage import storage_from_string
from sqlalchemy import select

from tests import test_rate_limits
from tests.test_api_contract import fits
from tests.test_notify import config, outbox
from tests.test_rate_limits import remove_keys
from tracker import create_app, receipts
from tracker.announcements import operations as announce
from tracker.api import inbound, replies
from tracker.models import Channel, Office, OutboxStatus, utcnow
from tracker.outbox import dispatch
from tracker.status import Status

WA_SECRET = "meta-app-secret-for-tests"
SMS_SECRET = "sms-gateway-secret-for-tests"
VERIFY = "verify-me-please"
CITIZEN = "6281299990017"  # the sender, as WhatsApp writes it
# An instant a test chooses, well inside an hour's window.
NOON_WIB = dt.datetime(2026, 12, 2, 5, 10, tzinfo=dt.UTC)
redis_url = test_rate_limits.redis_url  # a Redis database of the test's own


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {
        **app_config,
        "WHATSAPP_APP_SECRET": WA_SECRET,
        "SMS_INBOUND_SECRET": SMS_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY,
        "LOG_MASKING_KEY": "log-masking-key-for-tests",
        "NOTIFY_QUIET_HOURS": "",
    }


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def whatsapp_body(text: str, sender: str = CITIZEN, message_id: str = "wamid.1") -> bytes:
    """A Cloud API webhook with one text message (and a delivery status, to be ignored)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "6281100000000", "phone_number_id": "1065403"},
        "contacts": [{"profile": {"name": "Budi"}, "wa_id": sender}],
        "messages": [
            {"from": sender, "id": message_id, "timestamp": "1764300000", "type": "text",
             "text": {"body": text}},
        ],
        "statuses": [{"id": "wamid.0", "status": "delivered", "recipient_id": sender}],
    }  # fmt: skip
    entry = {"id": "1022901", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def post_whatsapp(client: Any, body: bytes, secret: str | None = WA_SECRET) -> Any:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[inbound.WHATSAPP_SIGNATURE] = sign(secret, body)
    return client.post("/api/v1/inbound/whatsapp", data=body, headers=headers)


def post_sms(client: Any, text: str, sender: str = "+6281299990017", **extra: Any) -> Any:
    body = json.dumps({"from": sender, "text": text, **extra}).encode()
    headers = {"Content-Type": "application/json", "X-Signature": sign(SMS_SECRET, body)}
    return client.post("/api/v1/inbound/sms", data=body, headers=headers)


def replies_in(session: Any) -> list[str]:
    return [m.body for m in outbox(session) if m.event == "reply"]


def test_a_signed_whatsapp_cek_gets_its_masked_reply_through_apprise_and_an_unsigned_one_nothing(
    app, client, session, make_request, httpserver
):
    httpserver.expect_request("/wa", method="POST").respond_with_data("ok")
    ready = make_request(Status.READY, point="srg-cipocok", name="Budi Santoso")
    before = len(outbox(session))
    body = whatsapp_body(f"cek {receipts.format_grouped(ready.receipt).lower()}")
    for refused in (post_whatsapp(client, body, secret=None), post_whatsapp(client, body, "x")):
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "unauthorized"
        fits(refused, "/api/v1/inbound/whatsapp", "post")
    assert len(outbox(session)) == before  # nothing written
    answered = post_whatsapp(client, body)
    assert answered.status_code == 200 and answered.get_json() == {"received": 1, "answered": 1}
    fits(answered, "/api/v1/inbound/whatsapp", "post")
    url = f"json://127.0.0.1:{httpserver.port}/wa?:to={{to}}"
    with app.app_context():
        assert dispatch.dispatch(config(app, NOTIFY_WHATSAPP_URL=url), utcnow()) == {"sent": 1}
    [(received, _)] = httpserver.log
    payload = json.loads(received.data)
    assert payload["to"] == CITIZEN
    zone = dt.timezone(dt.timedelta(hours=7))
    start, end = (ready.window_starts.astimezone(zone), ready.window_ends.astimezone(zone))
    assert payload["message"].startswith(
        f"KTP-el a.n. B*** SIAP DIAMBIL no. {ready.pickup_number} di Kantor Kecamatan Cipocok "
        f"Jaya, {start:%d/%m}-{end:%d/%m}. Bawa tanda terima + Kartu Keluarga asli."
    )
    assert "Budi" not in payload["message"] and "Santoso" not in payload["message"]
    assert len(payload["message"]) <= 160
    [reply] = [m for m in outbox(session) if m.event == "reply"]
    assert (reply.channel, reply.status, reply.office_id) == (
        Channel.WHATSAPP, OutboxStatus.SENT, ready.office_id,
    )  # fmt: skip
    # Meta sends a webhook again when unsure: the same message is answered once.
    assert post_whatsapp(client, body).get_json() == {"received": 1, "answered": 0}
    assert len(replies_in(session)) == 1


def test_the_handshake_answers_the_challenge_only_to_the_verify_token(client) -> None:
    path = "/api/v1/inbound/whatsapp?hub.mode=subscribe&hub.challenge=1158201444"
    answer = client.get(f"{path}&hub.verify_token={VERIFY}")
    assert (answer.status_code, answer.mimetype, answer.get_data(as_text=True)) == (
        200, "text/plain", "1158201444",
    )  # fmt: skip
    fits(answer, "/api/v1/inbound/whatsapp")
    wrong = client.get(f"{path}&hub.verify_token=guess")
    assert wrong.status_code == 403 and "1158201444" not in wrong.get_data(as_text=True)
    fits(wrong, "/api/v1/inbound/whatsapp")
    assert client.get(path).status_code == 403  # no token at all
    not_subscribe = "/api/v1/inbound/whatsapp?hub.mode=unsubscribe&hub.challenge=1"
    assert client.get(f"{not_subscribe}&hub.verify_token={VERIFY}").status_code == 403


def test_a_channel_without_its_secret_is_off_and_takes_nothing(app_config, session) -> None:
    off = create_app({**app_config, "WHATSAPP_APP_SECRET": "", "SMS_INBOUND_SECRET": "",
                      "WHATSAPP_VERIFY_TOKEN": ""})  # fmt: skip
    try:
        client = off.test_client()
        body = whatsapp_body("CEK 7KQ2-M9XA-4RTN")
        for answer in (
            post_whatsapp(client, body, secret=""),  # signed with the empty secret
            post_whatsapp(client, body, secret=None),
            client.post("/api/v1/inbound/sms", json={"from": "+6281299990017", "text": "CEK"}),
            client.get("/api/v1/inbound/whatsapp?hub.mode=subscribe&hub.verify_token="),
        ):
            assert answer.status_code == 404, answer.request.path
            assert answer.get_json()["error"]["code"] == "not_found"
        fits(answer, "/api/v1/inbound/whatsapp")
        assert outbox(session) == []
    finally:
        off.extensions["siapambil.db"]["engine"].dispose()


def test_an_nik_or_a_name_is_never_looked_up_and_the_reply_says_why(
    client, session, make_request
) -> None:
    request = make_request(Status.PROCESSING, nik="3673011203850001")
    asked = ["CEK 3673011203850001", "Cek#KTP#3673011203850001", "cek: 3673 0112 0385 0001",
             "CEK Budi Santoso", "CHECK Budi Santoso"]  # fmt: skip
    for number, text in enumerate(asked):
        assert (
            post_whatsapp(client, whatsapp_body(text, message_id=f"w{number}")).status_code == 200
        )
    said = replies_in(session)
    assert said[:4] == [replies.phrase("private", "id")] * 4
    assert said[4] == replies.phrase("private", "en")
    assert "NIK" in said[0] and "calo" in said[0] and "nomor tanda terima" in said[0]
    assert all("DIPROSES" not in text and "PROCESSED" not in text for text in said)
    # Control: the same request's receipt is answered with its status.
    post_whatsapp(client, whatsapp_body(f"CEK {request.receipt}", message_id="w9"))
    assert "SEDANG DIPROSES" in replies_in(session)[-1]


def test_sms_mistyped_unknown_and_english_answers(client, session, make_request) -> None:
    request = make_request(Status.VERIFYING)
    wrong_check = request.receipt[:-1] + ("0" if request.receipt[-1] != "0" else "1")
    assert post_sms(client, f"CEK {wrong_check}", id="s1").get_json()["answered"] == 1
    assert post_sms(client, f"cek {receipts.generate()}", id="s2").status_code == 200
    assert post_sms(client, f"Check: {request.receipt}", id="s3").status_code == 200
    bare_number = f"  {receipts.format_grouped(request.receipt)} "
    assert post_sms(client, bare_number, id="s4").status_code == 200
    mistyped, unknown, english, bare = outbox(session)
    assert mistyped.body == replies.phrase("mistyped", "id") and "salah ketik" in mistyped.body
    assert unknown.body == replies.phrase("not_found", "id")
    assert english.body.startswith("Electronic ID card (KTP-el): BEING VERIFIED.")
    assert bare.body.startswith("KTP-el: SEDANG DIVERIFIKASI.")  # a bare number: Indonesian
    assert {(m.channel, m.recipient) for m in (mistyped, english)} == {
        (Channel.SMS, "+6281299990017")
    }
    bad = post_sms(client, "CEK", sender="not a number")
    assert bad.status_code == 422 and bad.get_json()["error"]["field"] == "from"
    fits(bad, "/api/v1/inbound/sms", "post")
    unsigned = client.post("/api/v1/inbound/sms", json={"from": "+62812", "text": "CEK"})
    assert unsigned.status_code == 401 and len(outbox(session)) == 4


def test_a_text_no_provider_sends_is_refused_and_what_citizens_type_is_not(
    client, session, make_request
) -> None:
    """A lone surrogate, which nothing can store, is a 422 naming the field, even signed; a
    control character a citizen typed is theirs, and answered (the console's rule for staff
    text is not theirs). A WhatsApp sender in digits other than ASCII's is no number to
    answer; the same sender in ASCII is answered."""
    request = make_request(Status.VERIFYING)
    refused = post_sms(client, f"CEK {request.receipt} \ud800", id="s1")
    assert refused.status_code == 422, refused.get_data(as_text=True)
    assert refused.get_json()["error"]["field"] == "text"
    fits(refused, "/api/v1/inbound/sms", "post")
    assert outbox(session) == []
    answered = post_sms(client, f"CEK {request.receipt}\u0007", id="s2")
    assert answered.status_code == 200 and answered.get_json()["answered"] == 1
    arabic = "".join(chr(0x0660 + int(d)) for d in CITIZEN)  # ٦٢٨١…
    body = whatsapp_body(f"cek {request.receipt}", sender=arabic, message_id="wamid.9")
    assert post_whatsapp(client, body).get_json() == {"received": 0, "answered": 0}
    ascii_sender = whatsapp_body(f"cek {request.receipt}", message_id="wamid.10")
    assert post_whatsapp(client, ascii_sender).get_json() == {"received": 1, "answered": 1}
    assert len(replies_in(session)) == 2


def test_an_inbound_office_that_names_no_office_is_logged_and_the_first_office_answers(
    app_config, session, caplog
) -> None:
    """A reply to a message that names no request belongs to INBOUND_OFFICE. A code that
    names no office leaves no citizen unanswered: the first office answers, and the log names
    the setting. Control: a code that names an office gets its replies."""
    offices = dict(session.execute(select(Office.code, Office.id)).all())
    first = session.scalar(select(Office.id).order_by(Office.id).limit(1))
    session.commit()
    for code, expected, sender in (("36.02", offices["36.02"], "+6281200000001"),
                                   ("99.99", first, "+6281200000002")):  # fmt: skip
        app = create_app({**app_config, "INBOUND_OFFICE": code})
        try:
            answer = post_sms(app.test_client(), "halo", sender=sender, id=code)
            assert answer.get_json()["answered"] == 1
        finally:
            app.extensions["siapambil.db"]["engine"].dispose()
        reply = outbox(session)[-1]
        assert reply.recipient == sender and reply.office_id == expected
    assert offices["36.02"] != first
    named = [r for r in caplog.records if "INBOUND_OFFICE" in r.getMessage()]
    assert [r.getMessage() for r in named] == [
        "INBOUND_OFFICE='99.99' names no office: the first office answers instead"
    ]
    assert named[0].levelname == "ERROR"


@pytest.mark.parametrize(
    "typed",
    ["CEK {g}", "cek {g}", "Cek#{c}", "CEK:{c}", "cek   {s}  ", "CEK # {g}", "{g}", "{c}", "{l}"],
)
def test_the_receipt_is_read_as_people_type_it(typed: str) -> None:
    number = "7KQ2M9XA4RTN"
    asked = replies.read(typed.format(
        g="7KQ2-M9XA-4RTN", c=number, s="7KQ2 M9XA 4RTN", l=number.lower()
    ))  # fmt: skip
    assert (asked.kind, asked.language) == ("receipt", "id")
    assert receipts.parse(asked.number) == number


def test_check_asks_in_english_and_other_words_are_not_receipts() -> None:
    assert replies.read("check 7KQ2-M9XA-4RTN").language == "en"
    assert replies.read("CHECK#7KQ2M9XA4RTN").kind == "receipt"
    assert replies.read("CEK").kind == "help"
    assert replies.read("Halo, dokumen saya sudah jadi?").kind == "name"
    assert replies.read("CEK 7KQ2-M9XA-4RTX").kind == "receipt"  # mistyped, still a number
    assert replies.read("CHECKUP 7KQ2-M9XA-4RTN").kind == "receipt"  # not the keyword: read whole
    assert replies.read("3673011203850001").kind == "nik"


def test_the_limit_answers_n_refuses_once_then_is_silent_until_the_window_passes() -> None:
    storage = storage_from_string("memory://")
    settings = {"INBOUND_RATE_LIMIT": "3/hour", "RATELIMIT_KEY_PREFIX": ""}
    said = [inbound.allow(storage, settings, "sender-a", NOON_WIB) for _ in range(6)]
    assert said == ["answer"] * 3 + ["refuse", "silent", "silent"]
    assert inbound.allow(storage, settings, "sender-b", NOON_WIB) == "answer"  # another sender
    later = NOON_WIB + dt.timedelta(hours=1)
    assert inbound.allow(storage, settings, "sender-a", later) == "answer"


def test_over_the_limit_one_polite_refusal_then_nothing(app_config, session, make_request):
    limited = create_app({**app_config, "INBOUND_RATE_LIMIT": "2 per hour"})
    try:
        client = limited.test_client()
        request = make_request(Status.PROCESSING)
        with time_machine.travel(NOON_WIB, tick=False):
            taken = [
                post_sms(client, f"CEK {request.receipt}", id=f"n{i}").get_json()["answered"]
                for i in range(4)
            ]
            other = post_sms(client, f"CEK {request.receipt}", sender="+6281300000001", id="o")
        assert taken == [1, 1, 1, 0] and other.get_json()["answered"] == 1
        bodies = [m.body for m in outbox(session)]
        assert bodies[2] == replies.phrase("limited", "id") and len(bodies) == 4
        assert bodies[3].startswith("KTP-el: SEDANG DIPROSES")  # the other sender's
    finally:
        limited.extensions["siapambil.db"]["engine"].dispose()


def test_a_message_sent_again_by_the_provider_is_counted_once(app_config, session, make_request):
    """A gateway that was not sure the webhook arrived sends it again: the reply is queued once,
    and the copies use none of the sender's allowance. Control: new messages do."""
    limited = create_app({**app_config, "INBOUND_RATE_LIMIT": "2 per hour"})
    try:
        client = limited.test_client()
        request = make_request(Status.PROCESSING)
        with time_machine.travel(NOON_WIB, tick=False):
            copies = [post_sms(client, f"CEK {request.receipt}", id="same").get_json()
                      for _ in range(4)]  # fmt: skip
            second = post_sms(client, f"CEK {request.receipt}", id="second").get_json()
            third = post_sms(client, f"CEK {request.receipt}", id="third").get_json()
        assert [c["answered"] for c in copies] == [1, 0, 0, 0]
        assert second["answered"] == 1  # still within 2 per hour: the copies were not counted
        bodies = [m.body for m in outbox(session)]
        assert len(bodies) == 3 and bodies[1].startswith("KTP-el: SEDANG DIPROSES")
        assert third["answered"] == 1 and bodies[2] == replies.phrase("limited", "id")
    finally:
        limited.extensions["siapambil.db"]["engine"].dispose()


def test_the_limit_holds_across_workers_through_redis(app_config, session, make_request, redis_url):
    prefix = f"test-inbound-{utcnow().timestamp()}:"
    shared = {**app_config, "INBOUND_RATE_LIMIT": "2/hour", "RATELIMIT_STORAGE_URI": redis_url,
              "RATELIMIT_KEY_PREFIX": prefix}  # fmt: skip
    first, second = create_app(shared), create_app(shared)
    try:
        request = make_request(Status.PROCESSING)
        with time_machine.travel(NOON_WIB, tick=False):
            answered = [
                post_sms(app.test_client(), f"CEK {request.receipt}", id=f"r{i}").get_json()
                for i, app in enumerate((first, second, second))
            ]
        assert [a["answered"] for a in answered] == [1, 1, 1]
        assert [m.body for m in outbox(session)][-1] == replies.phrase("limited", "id")
        assert remove_keys(redis_url, prefix) >= 1
    finally:
        for app in (first, second):
            app.extensions["siapambil.db"]["engine"].dispose()


def test_the_log_has_the_senders_hash_and_never_the_number_or_text(
    app_config, session, make_request
) -> None:
    logged = create_app({**app_config, "LOG_FORMAT": "json"})
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    keep = Keep(level=logging.DEBUG)
    watched = [logging.getLogger(), logging.getLogger("siapambil.requests")]
    levels = [w.level for w in watched]
    for logger in watched:
        logger.addHandler(keep)
        logger.setLevel(logging.DEBUG)
    try:
        request = make_request(Status.PROCESSING)
        client = logged.test_client()
        post_whatsapp(client, whatsapp_body(f"CEK {request.receipt}"))
        post_sms(client, "CEK 3673011203850001", sender="081299990017")
    finally:
        for logger, level in zip(watched, levels, strict=True):
            logger.removeHandler(keep)
            logger.setLevel(level)
        logged.extensions["siapambil.db"]["engine"].dispose()
    text = "\n".join(lines)
    tag = inbound.sender_tag("log-masking-key-for-tests", CITIZEN)
    assert f"inbound whatsapp from S:{tag}: status" in text
    assert f"inbound sms from S:{tag}: nik" in text  # 0812… and 62812… are one sender
    assert '"route":"/api/v1/inbound/sms"' in text  # the JSON request line was kept too
    for secret in ("1299990017", "3673011203850001", request.receipt, "CEK"):
        assert secret not in text


def test_every_reply_fits_one_sms_for_every_status_and_both_languages(
    app, session, make_request
) -> None:
    long_point = "Mal Pelayanan Publik Kabupaten Tangerang Selatan Lantai Dasar Gedung Utama"
    point = make_request.point("srg-cipocok")
    point.name = long_point
    session.commit()
    from tracker.demo import PATHS
    from tracker.requests import public

    engine = app.extensions["siapambil.db"]["engine"]
    for status in PATHS:
        for service in ("ktp-el", "kia", "akta-kelahiran"):
            request = make_request(status, point="srg-cipocok", service=service,
                                   name="Bernadette Kusumawardhani Wiraatmadja")  # fmt: skip
            found = public.find(engine, request.receipt, utcnow())
            for language in ("id", "en"):
                text = replies.compose(found, language, 10)
                assert replies.septets(text) <= 160, (status, language, text)
                assert set(text) <= replies.GSM7, text
                assert "Bernadette" not in text and "Kusumawardhani" not in text
                if status in (Status.READY, Status.RETURNED):
                    assert found.pickup_number in text, text
                if status == Status.READY:
                    assert found.masked_name.split()[0] in text, text
                    assert long_point in text or "MPP Kab. Tangerang" in text, text
    # A note with characters of GSM-7's extension table (two septets each) still fits.
    assert replies.septets(replies.fit("{note}", {"note": "[KK] {~} " * 40})) <= 160
    for language in ("id", "en"):
        for name in replies.PHRASES[language]:
            assert replies.septets(replies.phrase(name, language)) <= 160


def test_a_whatsapp_message_about_a_request_goes_as_its_template_and_a_reply_as_text(
    app, client, session, make_request, httpserver, monkeypatch
) -> None:
    httpserver.expect_request("/v21.0/1065403/messages", method="POST").respond_with_json({})
    # Apprise's own WhatsApp plugin, sending to a receiver on loopback instead of Meta's
    loopback = f"http://127.0.0.1:{httpserver.port}/{{fb_ver}}/{{phone_id}}/messages"
    monkeypatch.setattr(NotifyWhatsApp, "notify_url", loopback)
    parameters = ["service", "number", "point", "start", "end"]
    templates = {"ready": {"id": {"name": "siapambil_siap", "parameters": parameters}}}
    settings = config(app, NOTIFY_WHATSAPP_URL="whatsapp://tok3n@1065403/{to}",
                      WHATSAPP_TEMPLATES=json.dumps(templates))  # fmt: skip
    request = make_request(Status.PROCESSING)
    request.consent_notify, request.channel = True, Channel.WHATSAPP
    session.commit()
    make_request.move(request, Status.READY, point="srg-cipocok")
    session.commit()
    announce.publish(session, utcnow())
    session.commit()
    post_whatsapp(client, whatsapp_body(f"CEK {request.receipt}"))
    with app.app_context():
        assert dispatch.dispatch(settings, utcnow()) == {"sent": 2}
    sent = [json.loads(r.data) for r, _ in httpserver.log]
    template = next(p for p in sent if p["type"] == "template")
    zone = dt.timezone(dt.timedelta(hours=7))
    assert template["to"] == "+6281234567890"
    assert template["template"]["name"] == "siapambil_siap"
    assert template["template"]["language"] == {"code": "id"}
    assert [p["text"] for p in template["template"]["components"][0]["parameters"]] == [
        "KTP-el", request.pickup_number, "Kantor Kecamatan Cipocok Jaya",
        f"{request.window_starts.astimezone(zone):%d/%m}",
        f"{request.window_ends.astimezone(zone):%d/%m}",
    ]  # fmt: skip
    reply = next(p for p in sent if p["type"] == "text")  # the reply, inside the 24 hours
    assert reply["to"] == "+" + CITIZEN and "SIAP DIAMBIL" in reply["text"]["body"]


def test_without_a_template_for_its_language_a_whatsapp_notice_is_not_sent_as_text(
    app, session, make_request, httpserver
) -> None:
    request = make_request(Status.VERIFYING)
    request.consent_notify, request.channel, request.language = True, Channel.WHATSAPP, "en"
    session.commit()
    make_request.move(request, Status.NEEDS_FIX)
    session.commit()
    templates = {"needs_fix": {"id": {"name": "siapambil_perbaikan", "parameters": ["note"]}}}
    settings = config(app, NOTIFY_WHATSAPP_URL="whatsapp://tok3n@1065403/{to}",
                      WHATSAPP_TEMPLATES=templates)  # fmt: skip
    with app.app_context():
        assert dispatch.dispatch(settings, utcnow()) == {"retry": 1}
    [message] = outbox(session)
    assert message.last_error == "no WhatsApp template is set for needs_fix (en)"
    assert not httpserver.log


def test_templates_that_cannot_be_read_stop_the_start(app_config) -> None:
    from tracker.config import ConfigError

    for wrong in ("{", "[]", '{"ready": {"id": {"parameters": []}}}',
                  '{"ready": {"id": {"name": "x", "parameters": ["nik"]}}}'):  # fmt: skip
        with pytest.raises(ConfigError, match="WHATSAPP_TEMPLATES"):
            create_app({**app_config, "WHATSAPP_TEMPLATES": wrong})
    with pytest.raises(ConfigError, match="INBOUND_RATE_LIMIT"):
        create_app({**app_config, "INBOUND_RATE_LIMIT": "often"})


def test_the_access_log_hides_the_verify_token_and_never_has_the_sender(live_server) -> None:
    import urllib.request

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    access = logging.getLogger("werkzeug")
    keep, level = Keep(level=logging.INFO), access.level
    access.addHandler(keep)
    access.setLevel(logging.INFO)
    try:
        path = (
            f"/api/v1/inbound/whatsapp?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=7"
        )
        with urllib.request.urlopen(live_server + path) as answer:
            assert answer.read() == b"7"
        body = json.dumps({"from": "+6281299990017", "text": "CEK 3673011203850001"}).encode()
        asked = urllib.request.Request(
            live_server + "/api/v1/inbound/sms", data=body, method="POST",
            headers={"Content-Type": "application/json", "X-Signature": sign(SMS_SECRET, body)},
        )  # fmt: skip
        with urllib.request.urlopen(asked) as answer:
            assert json.load(answer) == {"received": 1, "answered": 1}
    finally:
        access.removeHandler(keep)
        access.setLevel(level)
    text = "\n".join(lines)
    assert "hub.verify_token=***" in text and "POST /api/v1/inbound/sms" in text  # control
    for secret in (VERIFY, "1299990017", "3673011203850001"):
        assert secret not in text
