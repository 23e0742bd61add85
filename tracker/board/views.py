"""The pickup board on the lobby TV (``/board/POINT``, or up to four points on one screen)
and the list of boards. The TV polls its JSON from the API (``api.board``); what a board
shows is read in ``tracker.board.queries``."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional

from tracker.board.queries import Waiting, find_points, listed_points, open_now, waiting_counts
from tracker.db import get_session
from tracker.errors import DomainError
from tracker.models import utcnow
from tracker.places.closures import upcoming
from tracker.web.arguments import declare, query
from tracker.web.cache import worker_cache
from tracker.web.edge import CleanText, QueryForm, TextList

bp = Blueprint("board", __name__)

MAX_POINTS = 4  # points on one screen


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
    # A count over every waiting document: this worker makes it at most once a
    # BOARD_CACHE_SECONDS, however often the public list is asked for.
    waiting = worker_cache("board-list").get(
        "waiting", current_app.config["BOARD_CACHE_SECONDS"], lambda: waiting_counts(session)
    )
    return render_template(
        "board/index.html",
        points=listed_points(session, utcnow()),
        waiting=waiting,
        nothing=Waiting(),
    )


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
    now = utcnow()
    states = {p.code: open_now(p, now) for p in points}
    coming = {p.code: upcoming(p, states[p.code].day) for p in points}
    config = current_app.config
    settings = {
        "refresh": config["BOARD_REFRESH_SECONDS"],
        "page": config["BOARD_PAGE_SECONDS"],
        "new": config["BOARD_NEW_MINUTES"] * 60,
        "call": config["BOARD_CALL_MINUTES"] * 60,
        "speech": query(ScreenQuery).suara.data in ("1", "ya", "on"),
    }
    return render_template(
        "board/screen.html", points=points, settings=settings, states=states, coming=coming
    )
