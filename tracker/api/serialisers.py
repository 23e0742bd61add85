"""Public JSON shapes. Labels come in both languages, so that an app can show either."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from flask_babel import force_locale, gettext

from tracker.requests.public import Place, PublicStatus
from tracker.requests.status import LABELS, NEXT_STEPS, Status


def both(text: str) -> dict[str, str]:
    """A translatable text in each of the app's languages."""
    out = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            out[language] = gettext(text)
    return out


def status_labels(status: Status) -> dict[str, Any]:
    cache = current_app.extensions.setdefault("siapambil.status_labels", {})
    if status not in cache:
        cache[status] = {
            "code": status.value,
            "label": both(LABELS[status]),
            "next_step": both(NEXT_STEPS[status]),
        }
    return cache[status]


def iso(moment: dt.datetime | dt.date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def place(p: Place) -> dict[str, Any]:
    return {
        "code": p.code,
        "name": p.name,
        "address": p.address,
        "counters": list(p.counters),
        "opening_hours": [
            {
                "weekday": h.weekday,
                "opens": h.opens.strftime("%H:%M"),
                "closes": h.closes.strftime("%H:%M"),
            }
            for h in p.hours
        ],
    }


def public_status(s: PublicStatus) -> dict[str, Any]:
    labels = status_labels(s.status)
    pickup = None
    if s.place is not None:
        pickup = {
            "point": place(s.place),
            "window": {"starts": iso(s.window_starts), "ends": iso(s.window_ends)},
            "pickup_number": s.pickup_number,
            "bring": {"id": s.bring_id, "en": s.bring_en},
        }
    return {
        "status": labels,
        "service": {
            "code": s.service_code,
            "name": {"id": s.service_name_id, "en": s.service_name_en},
            "target_working_days": s.target_days,
        },
        "applicant": {"masked_name": s.masked_name},
        "office": {"code": s.office_code, "name": s.office_name, "timezone": s.timezone},
        "submitted_at": iso(s.submitted_at),
        "expected_ready_on": iso(s.expected_on),
        "overdue": s.overdue,
        "timeline": [
            {
                "at": iso(step.at),
                "status": step.status.value,
                "label": status_labels(step.status)["label"],
                "note": step.note,
            }
            for step in s.timeline
        ],
        "pickup": pickup,
    }
