"""Announcements for everyone: ``/pengumuman`` (per point) and its Atom feed (the JSON that
apps read is ``api.announcements``). Nothing here names a person or shows a receipt number:
an item is a pickup number, a masked name and a service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, current_app, render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select

from tracker.announcements.queries import (
    FEW,
    SHOWN,
    Part,
    closures_ahead,
    items_of,
    recent,
    waiting_now,
)
from tracker.db import get_session
from tracker.models import Announcement, PickupPoint, Service, utcnow
from tracker.web.arguments import declare, query
from tracker.web.edge import AnnouncementsQuery, PointsQuery, without_controls
from tracker.web.formatters import format_moment

bp = Blueprint("announcements", __name__)
FEED_CACHE = "public, max-age=60"


def _recent() -> list[Announcement]:
    return recent(get_session(), query(PointsQuery).codes())


@bp.get("/pengumuman")
@declare(query=AnnouncementsQuery)
def page() -> str:
    session = get_session()
    asked = query(AnnouncementsQuery)
    points = session.scalars(select(PickupPoint).order_by(PickupPoint.code)).all()
    announcements = _recent()
    number = asked.hal.data or 1
    first = SHOWN if len(asked.codes()) == 1 else FEW
    waiting = waiting_now(session, announcements, start=(number - 1) * first, first=first)
    return render_template(
        "announcements/index.html",
        announcements=announcements,
        waiting=waiting,
        items=items_of(session, [a for a in announcements if a.id not in waiting], first),
        number=number,
        services_of=services_of,
        points=points,
        chosen=asked.codes(),
        closures=closures_ahead(get_session(), utcnow(), asked.codes()),
    )


@bp.get("/pengumuman.atom")
@declare(query=PointsQuery)
def feed() -> Response:
    base = current_app.config["PUBLIC_BASE_URL"]
    generator = FeedGenerator()
    generator.id(f"{base}/pengumuman")
    generator.title("SiapAmbil — Pengumuman pengambilan dokumen")
    generator.link(href=f"{base}/pengumuman", rel="alternate")
    generator.link(href=f"{base}/pengumuman.atom", rel="self")
    generator.language("id")
    generator.author({"name": "SiapAmbil"})
    announcements = _recent()
    parts = items_of(get_session(), announcements)
    generator.updated(announcements[0].published_at if announcements else _epoch())
    with force_locale("id"):
        for item in reversed(announcements):  # add_entry prepends: oldest first, newest on top
            entry = generator.add_entry()
            entry.id(f"{base}/pengumuman/{item.id}")
            entry.title(without_controls(_title(item)))
            link = f"{base}/pengumuman?titik={quote(item.point.code)}"
            entry.link(href=link)
            entry.updated(item.published_at)
            entry.published(item.published_at)
            entry.content(without_controls(_text(item, parts[item.id], link)), type="text")
    answer = Response(generator.atom_str(pretty=True), mimetype="application/atom+xml")
    answer.headers["Cache-Control"] = FEED_CACHE
    return answer


def _epoch() -> dt.datetime:
    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _title(item: Announcement) -> str:
    return ngettext(
        "%(num)d document ready at %(point)s",
        "%(num)d documents ready at %(point)s",
        item.count,
        point=item.point.name,
    )


def _text(item: Announcement, part: Part, link: str) -> str:
    """The entry's text: the point, its first documents (``SHOWN``), where the rest are, and
    what to bring."""
    zone = item.point.office.timezone
    lines = [f"{item.point.name}, {item.point.address}"]
    for entry in part.rows:
        lines.append(
            f"{entry.pickup_number} · {entry.masked_name} · {entry.service.name_id} · "
            f"{format_moment(entry.window_starts, zone)} – {format_moment(entry.window_ends, zone)}"
        )
    if part.after:
        lines.append(
            ngettext(
                "… and %(num)d more document: %(link)s",
                "… and %(num)d more documents: %(link)s",
                part.after,
                link=link,
            )
        )
    lines.append(_("What to bring: the receipt, and for each service:"))
    for service in services_of(part.rows):
        lines.append(f"{service.name_id}: {service.bring_id or _('nothing else.')}")
    return "\n".join(lines)


def services_of(items: Iterable[Any]) -> list[Service]:
    """The services of an announcement's documents, each once, by name."""
    return sorted({entry.service.id: entry.service for entry in items}.values(), key=_by_name)


def _by_name(service: Service) -> str:
    return service.name_id
