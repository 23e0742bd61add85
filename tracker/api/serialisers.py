"""Public JSON shapes, all of them: a request's status, pickup points, what a lobby board
shows, and announcements. Labels come in both languages, so that an app can show either."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, Protocol

from flask import current_app, url_for
from flask_babel import force_locale, gettext, ngettext

from tracker.announcements.queries import Part
from tracker.board.queries import Board, Ticker
from tracker.models import TIMEZONES, Announcement, PickupPoint
from tracker.requests.public import Place, PublicStatus
from tracker.status import LABELS, NEXT_STEPS, Status
from tracker.web.formatters import mask_name


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


def iso_seconds(moment: dt.datetime | None) -> str | None:
    """A moment to the second, as the board reads it."""
    return moment.isoformat(timespec="seconds") if moment is not None else None


class WeekdayHours(Protocol):
    """One opening period of a weekday (an ``OpeningHours`` row, or a public place's)."""

    weekday: int
    opens: dt.time
    closes: dt.time


def period(opens: dt.time, closes: dt.time) -> dict[str, str]:
    return {"opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M")}


def opening_hours(hours: Iterable[WeekdayHours]) -> list[dict[str, Any]]:
    """A point's opening hours: each period with its weekday (0 is Monday)."""
    return [{"weekday": h.weekday, **period(h.opens, h.closes)} for h in hours]


def place(p: Place) -> dict[str, Any]:
    """Where to collect: with the point's closures of the coming days (a citizen must not
    come on one) and where it is on the map, when known."""
    return {
        "code": p.code,
        "name": p.name,
        "address": p.address,
        "counters": list(p.counters),
        "opening_hours": opening_hours(p.hours),
        "closures": [{"day": iso(c.day), "reason": c.reason} for c in p.closures],
        "latitude": p.latitude,
        "longitude": p.longitude,
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
        "office": {
            "code": s.office_code,
            "name": s.office_name,
            "timezone": s.timezone,
            "contact": {
                "address": s.contact.address,
                "phone": s.contact.phone,
                "whatsapp": s.contact.whatsapp,
                "email": s.contact.email,
            },
        },
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


def point(p: PickupPoint) -> dict[str, Any]:
    """A pickup point (or a mobile-service visit) as the public API shows it."""
    return {
        "code": p.code,
        "name": p.name,
        "kind": p.kind.value,
        "address": p.address,
        "office": {"code": p.office.code, "name": p.office.name},
        "timezone": p.office.timezone,
        "zone": TIMEZONES.get(p.office.timezone, p.office.timezone),
        "counters": list(p.counters or []),
        "opening_hours": opening_hours(p.hours),
        "visit": (
            {"starts": iso_seconds(p.visit_starts), "ends": iso_seconds(p.visit_ends)}
            if p.is_visit
            else None
        ),
    }


def listed_point(p: PickupPoint) -> dict[str, Any]:
    """A point in the list of points, with the addresses of its board and announcements."""
    return {
        **point(p),
        "board_url": url_for("board.screen", code=p.code),
        "board_api_url": url_for("api.board", code=p.code),
        "announcements_url": url_for("announcements.page", titik=p.code),
    }


def board(shown: Board) -> dict[str, Any]:
    """What a lobby board shows, as the JSON its TV reads. Nothing in it depends on the
    clock (the TV works out which rows are new and which calls recent from the times)."""
    default_counter = shown.point.counters[0] if shown.point.counters else None
    return {
        "point": point(shown.point),
        "today": {
            "date": shown.today.isoformat(),
            "open": [period(opens, closes) for opens, closes in shown.open],
            "periods": [
                {"opens": iso_seconds(opens), "closes": iso_seconds(closes)}
                for opens, closes in shown.periods()
            ],
            "next_open": iso_seconds(shown.next_open),
        },
        "closures": [{"date": c.day.isoformat(), "reason": c.reason} for c in shown.closures],
        "documents": [document(row, default_counter) for row in shown.documents],
        "ticker": ticker(shown.point, shown.ticker),
    }


def document(row: Any, default_counter: str | None) -> dict[str, Any]:
    """One ready document on a board: its pickup number, never its receipt; a masked name."""
    return {
        "number": row.pickup_number,
        "day": row.pickup_day.isoformat() if row.pickup_day else None,
        "name": mask_name(row.applicant_name),
        "service": {"code": row.code, "id": row.name_id, "en": row.name_en},
        "counter": row.counter or default_counter,
        "called_at": iso_seconds(row.called_at),
        "ready_since": iso_seconds(row.updated_at),
        "until": iso_seconds(row.window_ends),
    }


def ticker(p: PickupPoint, latest: Ticker | None) -> dict[str, str] | None:
    """The point's latest announcement as one line in each language."""
    if latest is None:
        return None
    line = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            line[language] = " ".join(
                [
                    ngettext(
                        "%(num)d document ready at %(point)s:",
                        "%(num)d documents ready at %(point)s:",
                        latest.count,
                        point=p.name,
                    ),
                    ", ".join(latest.numbers) + ".",
                    gettext("Bring the receipt."),
                ]
            )
    return line


def compact(data: Any) -> bytes:
    """JSON as a worker keeps it: the same data gives the same bytes (and ETag) anywhere."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def announcement(item: Announcement, part: Part) -> dict[str, Any]:
    """An announcement: its point, how many documents it announced (``count``) and, for the
    first of them by pickup number (``part``), pickup number, masked name, service, what to
    bring and the window. Never a receipt number."""
    return {
        "id": item.id,
        "kind": item.kind.value,
        "published_at": item.published_at.isoformat(),
        "count": part.total,
        "point": {
            "code": item.point.code,
            "name": item.point.name,
            "address": item.point.address,
            "timezone": item.point.office.timezone,
            "url": url_for("announcements.page", titik=item.point.code),
        },
        "items": [
            {
                "pickup_number": entry.pickup_number,
                "name": entry.masked_name,
                "service": {"code": entry.service.code, "name_id": entry.service.name_id,
                            "name_en": entry.service.name_en},
                "bring_id": entry.service.bring_id,
                "bring_en": entry.service.bring_en,
                "window": {"starts": entry.window_starts.isoformat(),
                           "ends": entry.window_ends.isoformat()},
            }
            for entry in part.rows
        ],
    }  # fmt: skip


def changed_request(row: Any) -> dict[str, Any]:
    """A request as its office's bridge reads it: progress, never personal data."""
    pickup = None
    if row.point is not None:
        pickup = {
            "point": row.point,
            "pickup_number": row.pickup_number,
            "window": {"starts": iso(row.window_starts), "ends": iso(row.window_ends)},
        }
    return {
        "receipt": row.receipt,
        "status": Status(row.status).value,
        "version": row.version,
        "updated_at": iso(row.updated_at),
        "office": row.office,
        "service": row.service,
        "expected_ready_on": row.expected_on.isoformat(),
        "pickup": pickup,
        "external_ref": row.external_ref,
    }
