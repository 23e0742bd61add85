"""The GeoReport v2 documents, as plain data (dicts and lists) that ``formats`` writes as JSON
or XML: discovery, services, service requests and errors.

A request is built from ``tracker.requests.public.PublicStatus``, the public view, so nothing
personal can reach it: no name (not even masked), NIK, phone, e-mail or address of the
citizen. Its status is ``closed`` once it has ended (collected, delivered, rejected,
cancelled: nothing can follow) and ``open`` otherwise, a document that waits at a pickup
point, is held at the main office (returned) or is out with a courier included: the citizen
still has something to do or to wait for. Datetimes carry the offset of the office's zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from tracker.models import Service
from tracker.requests.public import PublicStatus, Step
from tracker.status import ENDED, LABELS, Status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00+07:00"  # when these documents last changed their shape
FORMATS = ["application/xml", "application/json"]
GROUP = "Dukcapil"


def open_or_closed(status: Status) -> str:
    """``closed`` once nothing can follow (``tracker.status.ENDED``), else ``open``."""
    return "closed" if status in ENDED else "open"


def moment(at: dt.datetime, zone: str) -> str:
    """An instant in ISO 8601, to the second, with the offset of the office's zone."""
    if at.tzinfo is None:  # stored as UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(ZoneInfo(zone)).isoformat(timespec="seconds")


def day_start(day: dt.date, zone: str) -> str:
    """The start of a day in the office's zone: a date said as a GeoReport datetime."""
    return dt.datetime.combine(day, dt.time(), ZoneInfo(zone)).isoformat(timespec="seconds")


def discovery(endpoint_url: str, docs_url: str) -> dict[str, Any]:
    """Where the GeoReport v2 endpoint is, what it speaks, and whom to ask."""
    return {
        "changeset": CHANGESET,
        "contact": _(
            "Ask at the Dukcapil office where you applied. The whole API: %(url)s",
            url=docs_url,
        ),
        "key_service": _(
            "No key is needed: this endpoint only reads. A request is registered at the "
            "counter of a Dukcapil office."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS),
            }
        ],
    }


def services(rows: Iterable[Service], language: str) -> list[dict[str, Any]]:
    """Every service, named in the caller's language, with its service-time target."""
    return [
        {
            "service_code": row.code,
            "service_name": row.name_en if language == "en" else row.name_id,
            "description": _("Service-time target: %(days)d working days.", days=row.target_days),
            "metadata": False,
            "type": "realtime",
            "keywords": row.code,
            "group": GROUP,
        }
        for row in rows
    ]


def service_request(found: PublicStatus, language: str, extensions: bool) -> dict[str, Any]:
    """One request as GeoReport v2 says it; with ``extensions``, its history in ``notes``
    and our own status and pickup details in ``extended_attributes``."""
    zone = found.timezone
    place = found.place
    english = language == "en"
    document: dict[str, Any] = {
        "service_request_id": found.receipt,
        "status": open_or_closed(found.status),
        "status_notes": status_notes(found.timeline[-1]),
        "service_name": found.service_name_en if english else found.service_name_id,
        "service_code": found.service_code,
        "description": None,
        "agency_responsible": found.office_name,
        "service_notice": (found.bring_en if english else found.bring_id) if place else None,
        "requested_datetime": moment(found.submitted_at, zone),
        "updated_datetime": moment(found.timeline[-1].at, zone),
        "expected_datetime": (day_start(found.expected_on, zone) if found.status.is_open else None),
        "address": place.address if place else None,
        "address_id": None,
        "zipcode": None,
        "lat": place.latitude if place and place.located else None,
        "long": place.longitude if place and place.located else None,
        "media_url": None,
    }
    if extensions:
        document["extended_attributes"] = extended_attributes(found)
        document["notes"] = [note(step, zone) for step in found.timeline]
    return document


def status_notes(step: Step) -> str:
    """The public words of the latest change: its status, and the note the citizen reads."""
    label = _(LABELS[step.status])
    return f"{label}: {step.note}" if step.note else label


def extended_attributes(found: PublicStatus) -> dict[str, Any]:
    zone = found.timezone
    return {
        "status_code": found.status.value,
        "pickup_point": found.place.code if found.place else None,
        "pickup_number": found.pickup_number,
        "pickup_window_starts": moment(found.window_starts, zone) if found.window_starts else None,
        "pickup_window_ends": moment(found.window_ends, zone) if found.window_ends else None,
    }


def note(step: Step, zone: str) -> dict[str, Any]:
    """One change of the history (the ``notes`` extension): when, to what, the public note."""
    return {
        "datetime": moment(step.at, zone),
        "summary": _(LABELS[step.status]),
        "type": "activity",
        "description": step.note,
    }


def errors(code: int, description: str) -> list[dict[str, Any]]:
    """The spec's error document: an array of ``{code, description}``."""
    return [{"code": code, "description": description}]
