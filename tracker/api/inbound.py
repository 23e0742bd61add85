"""Status by WhatsApp and SMS: the WhatsApp Business Cloud API's webhook and a generic SMS
gateway's, under ``/api/v1/inbound``.

Every POST is checked first, on its raw bytes, for the HMAC-SHA256 of the body under the
channel's secret (``X-Hub-Signature-256`` with ``WHATSAPP_APP_SECRET``, ``X-Signature`` with
``SMS_INBOUND_SECRET``), compared in constant time: unsigned or wrongly signed is a 401 that
writes nothing. A channel whose secret is not set answers 404, as if it were not there, and
so never takes an unsigned message. The WhatsApp verification handshake (``GET``) echoes
``hub.challenge`` when ``hub.verify_token`` is ``WHATSAPP_VERIFY_TOKEN``.

Each message counts against its sender's limit (``INBOUND_RATE_LIMIT``), kept where the
look-up limits are (``RATELIMIT_STORAGE_URI``, so Redis holds it across workers and hosts),
under a keyed hash of the sender (``LOG_MASKING_KEY``), in fixed windows counted from the
``now`` the view read. Over it, the sender gets one polite refusal, then silence until the
window passes. The reply itself is ``tracker.api.replies``. The log gets one line per
message: the channel, the sender's keyed hash and what was answered; never the number or
the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from flask import request as http
from limits import parse
from limits.storage import Storage, storage_from_string
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length, Optional

from tracker.api import contract, replies
from tracker.db import close_session, get_engine, get_session
from tracker.errors import BodyInvalid, ChannelOff, InboundRefused, VerifyRefused
from tracker.models import Channel, Office, utcnow
from tracker.web.arguments import declare, query
from tracker.web.edge import CleanText, QueryForm
from tracker.web.wording import explain

bp = Blueprint("inbound", __name__, url_prefix="/api/v1/inbound")
log = logging.getLogger(__name__)
STORAGE = "siapambil.inbound_limits"
WHATSAPP_SIGNATURE = "X-Hub-Signature-256"
SMS_SIGNATURE = "X-Signature"


# The Cloud API's verification handshake: ``hub.mode``, ``hub.verify_token``,
# ``hub.challenge`` (names with a dot, so the form's fields are given by name).
VerifyQuery = type(
    "VerifyQuery",
    (QueryForm,),
    {
        "hub.mode": StringField("hub.mode", [CleanText(), Optional(), Length(max=20)]),
        "hub.verify_token": StringField(
            "hub.verify_token", [CleanText(), Optional(), Length(max=200)]
        ),
        "hub.challenge": StringField("hub.challenge", [CleanText(), Optional(), Length(max=200)]),
    },
)


@bp.get("/whatsapp")
@declare(query=VerifyQuery)
def whatsapp_verify() -> Response:
    """Answer Meta's handshake with the challenge, when the token is ours."""
    token = current_app.config["WHATSAPP_VERIFY_TOKEN"]
    if not token:
        raise ChannelOff()
    asked = query(VerifyQuery)
    given = (asked["hub.verify_token"].data or "").encode()
    if asked["hub.mode"].data != "subscribe" or not hmac.compare_digest(given, token.encode()):
        raise VerifyRefused()
    return Response(asked["hub.challenge"].data or "", mimetype="text/plain")


@bp.post("/whatsapp")
@declare()
def whatsapp() -> Response:
    """The Cloud API's webhook: each text message answered; statuses and the rest ignored."""
    check_signature("WHATSAPP_APP_SECRET", WHATSAPP_SIGNATURE)
    body = contract.checked_body("WhatsAppWebhook", clean_text=False)
    return _answer_all(list(whatsapp_messages(body)))


@bp.post("/sms")
@declare()
def sms() -> Response:
    """A generic SMS gateway's webhook: ``{"from", "text"}`` (and its own ``id``, if any)."""
    check_signature("SMS_INBOUND_SECRET", SMS_SIGNATURE)
    body = contract.checked_body("InboundSms", clean_text=False)
    own = body.get("id") or f"{http.get_data().hex()}:{utcnow().isoformat()}"
    return _answer_all([replies.Inbound(Channel.SMS, body["from"].strip(), body["text"], own)])


@bp.errorhandler(BodyInvalid)
def refused_body(error: BodyInvalid) -> tuple[Response, int]:
    """A signed body that does not fit: 422 in the API's error shape, naming the field."""
    close_session()
    found = {"code": error.code, "message": explain(error), "field": error.details.get("field", "")}
    return jsonify(error=found), error.status


def check_signature(setting: str, header: str) -> None:
    """404 when the channel's secret is not set; 401 unless ``header`` is
    ``sha256=<hex HMAC-SHA256 of the raw body>`` under it."""
    secret = current_app.config[setting]
    if not secret:
        raise ChannelOff()
    if not signed(secret, http.get_data(), http.headers.get(header, "")):
        raise InboundRefused()


def signed(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` carries the body's HMAC-SHA256 under ``secret`` (constant time)."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


def _digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` takes any script's, and superscripts)."""
    return text.isascii() and text.isdigit()


def whatsapp_messages(body: dict[str, Any]) -> Iterator[replies.Inbound]:
    """The text messages of a Cloud API webhook (``entry[].changes[].value.messages[]``)."""
    for entry in body.get("entry") or ():
        for change in (entry or {}).get("changes") or ():
            value = (change or {}).get("value") or {}
            for message in value.get("messages") or ():
                text = (message.get("text") or {}).get("body")
                sender = str(message.get("from") or "")
                if message.get("type") == "text" and isinstance(text, str) and _digits(sender):
                    own = message.get("id") or f"{sender}:{message.get('timestamp')}:{text}"
                    yield replies.Inbound(Channel.WHATSAPP, sender, text, str(own))


def _answer_all(messages: list[replies.Inbound]) -> Response:
    """Count and answer each message, read at one instant; log only the sender's hash."""
    now = utcnow()
    config = current_app.config
    fallback = fallback_office()
    answered = 0
    for message in messages:
        tag = sender_tag(config["LOG_MASKING_KEY"], message.sender)
        if replies.answered(get_session(), message):
            # A webhook the provider sent again: answered once, and counted once.
            outcome = "repeated"
        else:
            allowance = allow(limit_storage(current_app), config, tag, now)
            outcome = replies.answer(
                get_session(), now, engine=get_engine(), message=message, allowance=allowance,
                fallback_office=fallback, fix_days=config["FIX_WITHIN_DAYS"],
            )  # fmt: skip
        answered += outcome not in ("silent", "repeated", "no_office")
        log.info("inbound %s from S:%s: %s", message.channel.value, tag, outcome)
    return jsonify(received=len(messages), answered=answered)


def fallback_office() -> int | None:
    """Whose outbox answers a message that names no request: ``INBOUND_OFFICE``, else the
    deployment's first office. A code that names no office is logged as an error, and the
    first office answers: a citizen is not left without a reply for a typing slip in the
    settings."""
    code = current_app.config["INBOUND_OFFICE"]
    session = get_session()
    if code:
        named = session.scalar(select(Office.id).where(Office.code == code))
        if named is not None:
            return named
        log.error("INBOUND_OFFICE=%r names no office: the first office answers instead", code)
    return session.scalar(select(Office.id).order_by(Office.id).limit(1))


def sender_tag(key: str, sender: str) -> str:
    """A keyed hash of the sender's number, the same for 0812…, 62812… and +62812…."""
    digits = "".join(c for c in sender if c.isdigit())
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return hmac.new(key.encode(), b"sender:" + digits.encode(), hashlib.sha256).hexdigest()[:16]


def limit_storage(app: Flask) -> Storage:
    """This app's store of the senders' counts (``RATELIMIT_STORAGE_URI``), made once."""
    if STORAGE not in app.extensions:
        app.extensions[STORAGE] = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    return app.extensions[STORAGE]


def allow(storage: Storage, config: Any, tag: str, now: dt.datetime) -> str:
    """Count one look-up of the sender in the window ``now`` falls in: ``answer`` within the
    limit, ``refuse`` for the first one over it, ``silent`` after that."""
    rule = parse(config["INBOUND_RATE_LIMIT"])
    seconds = rule.get_expiry()
    window = int(now.timestamp()) // seconds
    key = f"{config['RATELIMIT_KEY_PREFIX']}siapambil/inbound/{tag}/{seconds}/{window}"
    hits = storage.incr(key, seconds)
    if hits <= rule.amount:
        return replies.ANSWER
    return replies.REFUSE if hits == rule.amount + 1 else replies.SILENT
