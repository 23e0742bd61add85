"""The floor for bench/lookup.py's ``--floor``: the product app (every hook: request id,
metrics, request log, security headers, language, session) with two routes that read
nothing, so that what they cost against the bare endpoint is what the app costs around any
answer before it looks anything up, and one that reads the bare endpoint's row:

- ``/floor/json/<receipt>``: a constant JSON answer the size of a look-up's;
- ``/floor/page/<receipt>``: the look-up form (``lookup/index.html``), the site's layout with
  no request in it;
- ``/floor/row/<receipt>``: the bare endpoint's one indexed row (status, expected date, date
  of application) read through the app's engine of reads, as the look-up reads, and answered
  as JSON: the least any look-up in this app could cost, and so the ceiling of a design that
  keeps each request's answer ready-made and reads it in one query.
"""

from __future__ import annotations

from flask import Response, jsonify, render_template
from sqlalchemy import bindparam, select

from tracker.db import PreparedQuery, get_read_engine
from tracker.models import Request
from tracker.web.arguments import declare
from wsgi import app

ANSWER = {
    "receipt": "",
    "status": "processing",
    "status_label": {"id": "Sedang diproses", "en": "Being processed"},
    "expected_ready_on": "2026-12-10",
    "service": {"code": "ktp-el", "name": {"id": "KTP-el", "en": "KTP-el"}},
    "history": [
        {"status": "submitted", "at": "2026-11-20T02:00:00Z"},
        {"status": "verifying", "at": "2026-11-21T03:00:00Z"},
        {"status": "processing", "at": "2026-11-23T04:00:00Z"},
    ],
}


@declare()
def floor_json(receipt: str) -> Response:
    return jsonify({**ANSWER, "receipt": receipt})


@declare()
def floor_page(receipt: str) -> str:
    del receipt
    return render_template("lookup/index.html")


ROW = PreparedQuery(
    select(Request.status, Request.expected_on, Request.created_at).where(
        Request.receipt == bindparam("receipt")
    )
)


@declare()
def floor_row(receipt: str) -> Response | tuple[Response, int]:
    engine = get_read_engine()
    rows = ROW.fetch(engine, receipt=receipt)
    if not rows:
        return jsonify(error={"code": "not_found"}), 404
    row = ROW.convert(engine, rows[0])
    return jsonify(
        status=row.status, expected_on=str(row.expected_on), created_at=str(row.created_at)
    )


app.add_url_rule("/floor/json/<receipt>", view_func=floor_json)
app.add_url_rule("/floor/page/<receipt>", view_func=floor_page)
app.add_url_rule("/floor/row/<receipt>", view_func=floor_row)
