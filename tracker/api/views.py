"""The public JSON API (read-only), every route under ``/api/v1``: a request's status by
receipt number, the pickup points, what a point's lobby board shows, and announcements.

A board asks ``/api/v1/points/POINT/board`` every few seconds with the ETag of what it shows;
the answer is a 304 unless something on the board changed. A worker builds a point's board
at most once every ``BOARD_CACHE_SECONDS`` and answers every other poll from memory, so two
hundred TVs cost little more than one. The body holds nothing that depends on the clock, so
every worker builds the same bytes, and the same ETag, from the same data.

The public routes need no key. A call may carry one (``Authorization: Bearer KEY``,
``tracker.api.guard``): it then counts against its key's rate limit instead of its
address's, and an unknown or revoked key is a 401 anywhere. ``GET /api/v1/requests`` (what
changed, for an office's bridge) needs a read key and shows only the key's offices. The
contract (``contract``, ``openapi.yaml``) is served at ``/api/v1/openapi.json`` and
``/api/v1/docs``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import partial

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tracker import receipts
from tracker.announcements.queries import items_of as announced_items
from tracker.announcements.queries import recent as recent_announcements
from tracker.api import contract, guard, idempotency, serialisers, writes
from tracker.api.forms import ChangesQuery, make_cursor
from tracker.api.guard import key_rate, keyed
from tracker.audit.trail import Actor
from tracker.board import queries as boards
from tracker.db import discard, get_read_engine, get_session, unit_of_work
from tracker.errors import (
    BodyInvalid,
    ConflictError,
    DomainError,
    DuplicateRequest,
    ExternalRefTaken,
    FieldRefused,
)
from tracker.extensions import lookup_rate
from tracker.models import KeyScope, Office, utcnow
from tracker.requests import changes, public
from tracker.web.arguments import declare, query
from tracker.web.cache import Kept, etag_of, worker_cache
from tracker.web.edge import PointsQuery
from tracker.web.wording import explain

bp = Blueprint("api", __name__, url_prefix="/api/v1")

POINTS_CACHE = "public, max-age=60"
DOCS_KEPT_SECONDS = 3600  # the contract changes with the code, which a restart brings
POLL_CACHE = "no-cache"  # a board may keep the answer, but asks again with its ETag

bp.before_request(guard.authenticate)
bp.after_request(guard.challenge)


@bp.get("/openapi.json")
@key_rate
@declare()
def openapi() -> Response:
    answer = Response(contract.spec_json(), mimetype="application/json")
    answer.headers["Cache-Control"] = POINTS_CACHE
    return answer


@bp.get("/docs")
@key_rate
@declare()
def docs() -> str:
    """The contract as a page. It changes only with the code, and drawing it costs about ten
    times a look-up, so each worker keeps it once per language (and path under a proxy): a
    page anyone may ask for, with no budget counting it, costs its drawing once. An address
    with arguments other than ``lang`` (its language link keeps them) is drawn each time."""
    if set(request.args) - {"lang"}:
        return _docs_page()
    key = (str(get_locale() or "id"), request.script_root)
    return worker_cache("api-docs").get(key, DOCS_KEPT_SECONDS, _docs_page)


def _docs_page() -> str:
    return render_template(
        "api/docs.html", spec=contract.spec(), operations=contract.operations(),
        resolve=contract.resolve, with_code=contract.with_code,
    )  # fmt: skip


@bp.get("/requests")
@key_rate
@keyed(KeyScope.READ)
@declare(query=ChangesQuery)
def changed_requests() -> Response:
    """A page of the key's offices' requests in the order they changed (a bridge's feed)."""
    asked = query(ChangesQuery)
    key = guard.holder()
    office_ids = set(key.office_ids)
    if asked.office.data:
        session = get_session()
        wanted = session.scalars(select(Office).where(Office.code.in_(asked.office.data))).all()
        known = {o.code: o.id for o in wanted}
        for code in asked.office.data:
            if code not in known:
                guard.refuse(key, reason="office", office=code[:40])
            guard.require_office(known[code], code)
        office_ids = set(known.values())
    settled = utcnow() - dt.timedelta(seconds=current_app.config["CHANGES_SETTLE_SECONDS"])
    rows = changes.changed(
        get_session(), office_ids, since=asked.since(), after=asked.after(), limit=asked.size(),
        until=settled,
    )  # fmt: skip
    last = rows[-1] if len(rows) == asked.size() else None
    return jsonify(
        requests=[serialisers.changed_request(row) for row in rows],
        next_cursor=make_cursor(last.updated_at, last.id) if last is not None else None,
    )


@bp.post("/requests")
@key_rate
@keyed(KeyScope.WRITE)
@declare()
def register_request() -> Response:
    """Register a request for one of the key's offices, as intake does (201)."""
    return _idempotent(_register)


def _register(now: dt.datetime, actor: Actor) -> tuple[int, dict]:
    body = contract.checked_body("NewRequest")
    key = guard.holder()
    session = get_session()
    code = body.get("office")
    if code is None:
        if len(key.office_ids) != 1:
            raise FieldRefused(field="office", rule="office")
        office = session.get(Office, next(iter(key.office_ids)))
    else:
        office = session.scalars(select(Office).where(Office.code == code)).first()
        if office is None:
            guard.refuse(key, reason="office", office=code[:40])
        guard.require_office(office.id, code)
    try:
        made = writes.register(session, now, actor, current_app.config, office=office, body=body)
    except IntegrityError:  # a call with the same external_ref registered it a moment ago
        if body.get("external_ref") is None:
            raise
        discard()
        raise ExternalRefTaken(external_ref=body["external_ref"]) from None
    base = current_app.config["PUBLIC_BASE_URL"]
    return 201, {
        "receipt": made.receipt,
        "receipt_grouped": receipts.format_grouped(made.receipt),
        "status": made.status.value,
        "version": made.version,
        "office": office.code,
        "external_ref": made.external_ref,
        "status_url": receipts.status_url(base, made.receipt),
        "qr_url": base.rstrip("/") + url_for("lookup.qr", receipt=made.receipt),
    }


@bp.post("/requests/<ref>/transitions")
@key_rate
@keyed(KeyScope.WRITE)
@declare()
def transition(ref: str) -> Response:
    """Move a request of the key's offices, named by receipt or ``ext:REF``, with ``move``."""
    return _idempotent(partial(_transition, ref))


def _transition(ref: str, now: dt.datetime, actor: Actor) -> tuple[int, dict]:
    body = contract.checked_body("Transition")
    key = guard.holder()
    session = get_session()
    found = writes.find(session, key.office_ids, ref)
    guard.require_office(found.office_id, found.office.code)
    current = found.version
    try:
        writes.transition(session, now, actor, current_app.config, request=found, body=body)
    except ConflictError as error:
        error.details["current_version"] = current
        raise
    return 200, serialisers.changed_request(writes.summary(found))


def _idempotent(act: Callable[[dt.datetime, Actor], tuple[int, dict]]) -> Response:
    """Answer a write once per ``Idempotency-Key``: a refusal is answered (and kept) as a
    success is, having changed nothing; a call sent again gets the kept answer."""
    now = utcnow()
    key = guard.holder()
    actor = Actor(key.actor_name, request.remote_addr or "")
    session = get_session()
    given = idempotency.checked_key(request.headers.get(idempotency.HEADER))
    hashed = idempotency.call_hash(request.method, request.path, request.get_data())
    if given is not None:
        idempotency.expire(session, key.id, now)
        kept = idempotency.stored(session, key.id, given, hashed, now)
        if kept is not None:
            return _replayed(kept.response_body, kept.status_code)
    try:
        status, body = act(now, actor)
    except DomainError as error:
        if error.status in (401, 403):
            raise
        discard()
        status, body = error.status, {"error": _error_body(error)}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    if given is not None and status < 400:
        try:
            idempotency.keep(get_session(), key.id, given, hashed, status, text, now)
        except IntegrityError:  # the same key's other call answered first: undo this one
            discard()
            kept = idempotency.stored(get_session(), key.id, given, hashed, now)
            if kept is None:
                raise
            return _replayed(kept.response_body, kept.status_code)
    elif given is not None:  # the unit rolls a refusal back: its answer is kept apart
        try:
            with unit_of_work() as apart:
                idempotency.keep(apart, key.id, given, hashed, status, text, now)
        except IntegrityError:
            pass  # the same key's other call kept its answer first; this one changed nothing
    return Response(text, status, mimetype="application/json")


def _replayed(text: str, status: int) -> Response:
    answer = Response(text, status, mimetype="application/json")
    answer.headers["Idempotent-Replayed"] = "true"
    return answer


def _error_body(error: DomainError) -> dict:
    """The API's error shape, with what a bridge acts on: the current version of a request
    that changed, and the duplicates' count (receipts only of the key's own office)."""
    found = {"code": error.code, "message": explain(error)}
    if isinstance(error, ConflictError) and "current_version" in error.details:
        found["current_version"] = error.details["current_version"]
    if isinstance(error, DuplicateRequest):
        found["duplicates"] = {
            "count": error.details["count"],
            "receipts": error.details["receipts"],
        }
    if isinstance(error, FieldRefused | BodyInvalid):
        found["field"] = error.details.get("field", "")
    return found


@bp.get("/requests/<receipt>")
@key_rate
@lookup_rate
@declare()
def request_status(receipt: str) -> Response:
    found = public.lookup(get_read_engine(), receipt, utcnow(), office_place=False)
    return jsonify(serialisers.public_status(found))


@bp.get("/points")
@key_rate
@declare()
def points() -> Response:
    listed = boards.listed_points(get_session(), utcnow())
    answer = current_app.json.response({"points": [serialisers.listed_point(p) for p in listed]})
    answer.headers["Cache-Control"] = POINTS_CACHE
    return answer


@bp.get("/points/<code>/board")
@key_rate
@declare()
def board(code: str) -> Response:
    seconds = current_app.config["BOARD_CACHE_SECONDS"]
    kept = worker_cache("boards").get(code, seconds, partial(_build_board, code))
    # The weak comparison that RFC 9110 gives If-None-Match: a proxy that compresses the
    # answer (nginx's gzip, HAProxy's compression, a CDN) hands the board W/"…" instead.
    if request.if_none_match.contains_weak(kept.etag):
        answer = Response(status=304)
    else:
        answer = Response(kept.body, mimetype="application/json")
    answer.set_etag(kept.etag)
    answer.headers["Cache-Control"] = POLL_CACHE
    return answer


def _build_board(code: str) -> Kept:
    point = boards.find_points(get_session(), [code])[0]
    body = serialisers.compact(serialisers.board(boards.board(get_session(), point, utcnow())))
    return Kept(body, etag_of(body))


@bp.get("/announcements")
@key_rate
@declare(query=PointsQuery)
def announcements() -> Response:
    found = recent_announcements(get_session(), query(PointsQuery).codes())
    parts = announced_items(get_session(), found)
    return jsonify(announcements=[serialisers.announcement(a, parts[a.id]) for a in found])
