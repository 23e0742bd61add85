"""The public JSON API (read-only for now): a request's status by receipt number."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from tracker.api.serialisers import public_status
from tracker.db import get_engine
from tracker.extensions import lookup_rate
from tracker.models import utcnow
from tracker.requests import public
from tracker.web.arguments import declare

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/requests/<receipt>")
@lookup_rate
@declare()
def request_status(receipt: str) -> Response:
    found = public.lookup(get_engine(), receipt, utcnow())
    return jsonify(public_status(found))
