"""The public JSON API (read-only), every route under ``/api/v1``: a request's status by
receipt number, the pickup points, what a point's lobby board shows, and announcements.

A board asks ``/api/v1/points/POINT/board`` every few seconds with the ETag of what it shows;
the answer is a 304 unless something on the board changed. A worker builds a point's board
at most once every ``BOARD_CACHE_SECONDS`` and answers every other poll from memory, so two
hundred TVs cost little more than one. The body holds nothing that depends on the clock, so
every worker builds the same bytes, and the same ETag, from the same data.
"""

from __future__ import annotations

from functools import partial

from flask import Blueprint, Response, current_app, jsonify, request

from tracker.announcements.queries import recent as recent_announcements
from tracker.api import serialisers
from tracker.board import queries as boards
from tracker.db import get_engine, get_session
from tracker.extensions import lookup_rate
from tracker.models import utcnow
from tracker.requests import public
from tracker.web.arguments import declare, query
from tracker.web.cache import Kept, etag_of, worker_cache
from tracker.web.edge import PointsQuery

bp = Blueprint("api", __name__, url_prefix="/api/v1")

POINTS_CACHE = "public, max-age=60"
POLL_CACHE = "no-cache"  # a board may keep the answer, but asks again with its ETag


@bp.get("/requests/<receipt>")
@lookup_rate
@declare()
def request_status(receipt: str) -> Response:
    found = public.lookup(get_engine(), receipt, utcnow())
    return jsonify(serialisers.public_status(found))


@bp.get("/points")
@declare()
def points() -> Response:
    listed = boards.listed_points(get_session(), utcnow())
    answer = current_app.json.response({"points": [serialisers.listed_point(p) for p in listed]})
    answer.headers["Cache-Control"] = POINTS_CACHE
    return answer


@bp.get("/points/<code>/board")
@declare()
def board(code: str) -> Response:
    seconds = current_app.config["BOARD_CACHE_SECONDS"]
    kept = worker_cache("boards").get(code, seconds, partial(_build_board, code))
    if request.if_none_match.contains(kept.etag):
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
@declare(query=PointsQuery)
def announcements() -> Response:
    found = recent_announcements(get_session(), query(PointsQuery).codes())
    return jsonify(announcements=[serialisers.announcement(a) for a in found])
