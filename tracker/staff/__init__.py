"""The staff console (``/staff/...``): intake, queues, moving requests on, marking ready in
bulk, handover, pickup points and accounts. Every view needs a signed-in account; what it
may see and change follows its role and office (``access``)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from tracker.staff import (  # noqa: E402  (the views register themselves on bp)
    access,
    auth,
    casework,
    counter,
    intake,
    outbox,
    people,
    places,
    queues,
    scanning,
)

access.setup()
bp.before_request(access.end_idle_session)

__all__ = [
    "access",
    "auth",
    "bp",
    "casework",
    "counter",
    "intake",
    "outbox",
    "people",
    "places",
    "queues",
    "scanning",
]
