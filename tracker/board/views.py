"""The pickup board on the lobby TV (``/board/POINT``) and the JSON it polls.

A board asks ``/api/v1/points/POINT/board`` every few seconds with the ETag of what it shows;
the answer is a 304 unless something on the board changed. A worker builds a point's board
at most once every ``BOARD_CACHE_SECONDS`` and answers every other poll from memory, so two
hundred TVs cost little more than one. The body holds nothing that depends on the clock
(which rows are new, which calls are recent: the board works that out from the times given),
so every worker builds the same bytes, and the same ETag, from the same data.

What a board shows is DESIGN §5's public minimum: pickup number, masked name, service,
counter and window. Never a receipt number, a NIK, a phone number or a full name.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, joinedload, selectinload
from wtforms import StringField
from wtforms.validators import Length, Optional

from tracker.db import get_session
from tracker.errors import DomainError, PointNotFound
from tracker.models import (
    TIMEZONES,
    Announcement,
    AnnouncementItem,
    PickupPoint,
    Request,
    Service,
    utcnow,
)
from tracker.places.pickup import hours_on
from tracker.requests.status import Status
from tracker.web.arguments import declare, query
from tracker.web.cache import Kept, etag_of, worker_cache
from tracker.web.edge import CleanText, QueryForm, TextList
from tracker.web.formatters import mask_name

bp = Blueprint("board", __name__)

MAX_POINTS = 4  # points on one screen
TICKER_NUMBERS = 40  # pickup numbers read out in the ticker
POLL_CACHE = "no-cache"  # a board may keep the answer, but asks again with its ETag


def find_points(session: Session, codes: list[str]) -> list[PickupPoint]:
    """The points named by ``codes``, in that order; PointNotFound names any unknown one."""
    found = {
        point.code: point
        for point in session.scalars(
            select(PickupPoint)
            .where(PickupPoint.code.in_(codes))
            .options(
                joinedload(PickupPoint.office),
                selectinload(PickupPoint.hours),
                selectinload(PickupPoint.closures),
            )
        )
    }
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise PointNotFound(
            _("There is no pickup point with the code %(codes)s.", codes=", ".join(unknown))
        )
    return [found[code] for code in codes]


def listed_points(session: Session, now: dt.datetime) -> list[PickupPoint]:
    """Every point that has a board today: all fixed points and the visits not yet over."""
    return list(
        session.scalars(
            select(PickupPoint)
            .where(or_(PickupPoint.visit_ends.is_(None), PickupPoint.visit_ends > now))
            .options(joinedload(PickupPoint.office), selectinload(PickupPoint.hours))
            .order_by(PickupPoint.office_id, PickupPoint.is_main.desc(), PickupPoint.name)
        )
    )


def board(session: Session, point: PickupPoint, now: dt.datetime) -> dict[str, Any]:
    """What the board of ``point`` shows, as the JSON the TV reads: the documents ready
    there, newest first. (A document held at the main office after its window closed keeps
    the number of its first point, so it is asked for by receipt, not called from the
    board.) For a ready document ``updated_at`` is the moment it became ready: calling it to
    a counter does not touch it."""
    zone = point.office.timezone
    today = now.astimezone(ZoneInfo(zone)).date()
    default_counter = point.counters[0] if point.counters else None
    rows = session.execute(
        select(
            Request.pickup_number,
            Request.pickup_day,
            Request.applicant_name,
            Request.updated_at,
            Request.window_ends,
            Request.counter,
            Request.called_at,
            Service.code,
            Service.name_id,
            Service.name_en,
        )
        .join(Service, Service.id == Request.service_id)
        .where(Request.pickup_point_id == point.id, Request.status == Status.READY)
        .order_by(Request.updated_at.desc(), Request.pickup_number, Request.id)
    ).all()
    documents = [
        {
            "number": row.pickup_number,
            "day": row.pickup_day.isoformat() if row.pickup_day else None,
            "name": mask_name(row.applicant_name),
            "service": {"code": row.code, "id": row.name_id, "en": row.name_en},
            "counter": row.counter or default_counter,
            "called_at": _iso(row.called_at),
            "ready_since": _iso(row.updated_at),
            "until": _iso(row.window_ends),
        }
        for row in rows
    ]
    return {
        "point": point_json(point),
        "today": {
            "date": today.isoformat(),
            "open": [
                {"opens": opens.strftime("%H:%M"), "closes": closes.strftime("%H:%M")}
                for opens, closes in hours_on(point, today)
            ],
        },
        "documents": documents,
        "ticker": _ticker(session, point),
    }


def _ticker(session: Session, point: PickupPoint) -> dict[str, str] | None:
    """The point's latest announcement as one line in each language, for the ticker."""
    latest = session.scalars(
        select(Announcement)
        .where(Announcement.point_id == point.id)
        .order_by(Announcement.published_at.desc(), Announcement.id.desc())
        .limit(1)
    ).first()
    if latest is None:
        return None
    numbers = list(
        session.scalars(
            select(AnnouncementItem.pickup_number)
            .where(AnnouncementItem.announcement_id == latest.id)
            .order_by(AnnouncementItem.pickup_number)
            .limit(TICKER_NUMBERS)
        )
    )
    if latest.count > TICKER_NUMBERS:
        numbers.append("…")
    line = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            line[language] = " ".join(
                [
                    ngettext(
                        "%(num)d document ready at %(point)s:",
                        "%(num)d documents ready at %(point)s:",
                        latest.count,
                        point=point.name,
                    ),
                    ", ".join(numbers) + ".",
                    _("Bring the receipt and your KTP-el."),
                ]
            )
    return line


def point_json(point: PickupPoint) -> dict[str, Any]:
    """A pickup point as the public API shows it."""
    return {
        "code": point.code,
        "name": point.name,
        "kind": point.kind.value,
        "address": point.address,
        "office": {"code": point.office.code, "name": point.office.name},
        "timezone": point.office.timezone,
        "zone": TIMEZONES.get(point.office.timezone, point.office.timezone),
        "counters": list(point.counters or []),
        "opening_hours": [
            {
                "weekday": h.weekday,
                "opens": h.opens.strftime("%H:%M"),
                "closes": h.closes.strftime("%H:%M"),
            }
            for h in point.hours
        ],
        "visit": (
            {"starts": _iso(point.visit_starts), "ends": _iso(point.visit_ends)}
            if point.is_visit
            else None
        ),
    }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


class ScreenQuery(QueryForm):
    """``?suara=1``: the board reads the calls out."""

    suara = StringField(_l("Sound"), [CleanText(), Optional(), Length(max=5)])


class BoardQuery(ScreenQuery):
    """``?points=A,B`` or ``?points=A&points=B``: the points of one screen."""

    points = TextList(_l("Pickup points"), [CleanText()], count=MAX_POINTS, length=200)


def _chosen_codes() -> list[str]:
    """The codes of ``?points=``, in order, each once."""
    codes: list[str] = []
    for value in query(BoardQuery).points.data:
        for code in value.split(","):
            code = code.strip()
            if code and code not in codes:
                codes.append(code[:40])
    return codes


@bp.get("/board")
@declare(query=BoardQuery)
def index() -> str:
    codes = _chosen_codes()
    if codes:
        return screen_of(codes)
    session = get_session()
    return render_template("board/index.html", points=listed_points(session, utcnow()))


@bp.get("/board/<code>")
@declare(query=ScreenQuery)
def screen(code: str) -> str:
    return screen_of([code])


def screen_of(codes: list[str]) -> str:
    """A board speaks Indonesian unless ``?lang=en`` asks otherwise: the browser of a lobby
    TV says nothing about the people in front of it."""
    chosen = request.args.get("lang")
    with force_locale(chosen if chosen in current_app.config["LANGUAGES"] else "id"):
        return _screen(codes)


def _screen(codes: list[str]) -> str:
    if len(codes) > MAX_POINTS:
        raise DomainError(_("A board shows at most %(count)d pickup points.", count=MAX_POINTS))
    points = find_points(get_session(), codes)
    config = current_app.config
    settings = {
        "refresh": config["BOARD_REFRESH_SECONDS"],
        "page": config["BOARD_PAGE_SECONDS"],
        "new": config["BOARD_NEW_MINUTES"] * 60,
        "call": config["BOARD_CALL_MINUTES"] * 60,
        "speech": query(ScreenQuery).suara.data in ("1", "ya", "on"),
    }
    return render_template("board/screen.html", points=points, settings=settings)


@bp.get("/api/v1/points")
@declare()
def points_json() -> Response:
    session = get_session()
    points = [
        {
            **point_json(point),
            "board_url": url_for("board.screen", code=point.code),
            "board_api_url": url_for("board.board_json", code=point.code),
            "announcements_url": url_for("announcements.page", titik=point.code),
        }
        for point in listed_points(session, utcnow())
    ]
    answer = current_app.json.response({"points": points})
    answer.headers["Cache-Control"] = "public, max-age=60"
    return answer


@bp.get("/api/v1/points/<code>/board")
@declare()
def board_json(code: str) -> Response:
    seconds = current_app.config["BOARD_CACHE_SECONDS"]
    kept = worker_cache("boards").get(code, seconds, partial(_build, code))
    if request.if_none_match.contains(kept.etag):
        answer = Response(status=304)
    else:
        answer = Response(kept.body, mimetype="application/json")
    answer.set_etag(kept.etag)
    answer.headers["Cache-Control"] = POLL_CACHE
    return answer


def _build(code: str) -> Kept:
    point = find_points(get_session(), [code])[0]
    data = board(get_session(), point, utcnow())
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return Kept(body, etag_of(body))
