"""The public statistics: ``/statistik`` (a page with charts and tables), and the same figures
as open data in ``/statistik.csv`` and ``/statistik.json``.

Arguments: ``kantor=OFFICE`` (an office code; all offices without it) and ``minggu=N`` (a
period of 4, 12, 26 or 52 weeks ending yesterday; 12 without it). A worker builds each
answer at most once every ``STATS_CACHE_SECONDS`` and keeps it in memory; its ETag comes from
the figures alone, so every worker gives the same one and a reader that has them gets a 304.
Only counts are shown: statistics.py reads no personal data at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length, Optional

from tracker.db import get_session
from tracker.errors import QueryError
from tracker.models import Office, utcnow
from tracker.statistics import charts
from tracker.statistics.figures import (
    DEFAULT_WEEKS,
    LONGEST,
    WEEK_CHOICES,
    Figures,
    Period,
    ServiceFigures,
    Statistics,
    Week,
    gather,
)
from tracker.status import N_
from tracker.web.arguments import declare, query
from tracker.web.cache import Kept, worker_cache
from tracker.web.edge import CleanText, QueryForm
from tracker.web.formatters import format_short_day

bp = Blueprint("statistik", __name__)

CSV_COLUMNS = [
    "office_code", "office_name", "service_code", "service_name_id", "service_name_en",
    "target_working_days", "period_from", "period_to", "received", "finished",
    "within_target", "within_target_percent", "median_working_days", "p90_working_days",
    "collected", "waiting_uncollected",
]  # fmt: skip
# The day that ends every period is yesterday in the westernmost zone: by then it is over in
# every office (each zone's figures are rolled up at 06.00 local time).
PERIOD_ZONE = "Asia/Jakarta"
ONE_DAY = dt.timedelta(days=1)


DEFINITIONS = (
    ("received", N_("Received"), N_(
        "Applications received, counted on the day they were made, in the office's own "
        "time zone."
    )),
    ("finished", N_("Finished"), N_(
        "Documents made: the day a document became ready for pickup (or for delivery)."
    )),
    ("within_target", N_("Within the service time"), N_(
        "The share of finished documents that were ready within the service's target: at "
        "most that many working days after the day of application. Working days leave out "
        "weekends, national public holidays and the days the office waited for the "
        "applicant to correct something (the clock stops then)."
    )),
    ("median_days", N_("Median"), N_(
        "At least half of the finished documents were ready within this many working "
        "days of application."
    )),
    ("p90_days", N_("90th percentile"), N_(
        "At least nine in ten finished documents were ready within this many working "
        "days. Both use the nearest rank; 60 means 60 working days or more."
    )),
    ("collected", N_("Collected"), N_(
        "Documents collected at a pickup point or delivered to the applicant."
    )),
    ("waiting", N_("Waiting to be collected"), N_(
        "Documents that are ready but not yet collected, now, including those kept at the "
        "main office after their pickup window."
    )),
    ("weekly", N_("Weeks"), N_(
        "Each week runs from Monday to Sunday; the last week of the period holds the days "
        "up to yesterday. Figures are updated every morning."
    )),
)  # fmt: skip


@dataclass(frozen=True)
class Query:
    weeks: int
    office: str | None


# --- Views ----------------------------------------------------------------------------------


class StatsQuery(QueryForm):
    """``?minggu=N&kantor=CODE`` (see the module's docstring)."""

    minggu = StringField(_l("Period"), [CleanText(), Optional(), Length(max=10)])
    kantor = StringField(_l("Office"), [CleanText(), Optional(), Length(max=20)])


@bp.get("/statistik")
@declare(query=StatsQuery)
def page() -> Response:
    lang = str(get_locale() or "id")
    return _send("html", _query(), lang, partial(_page, lang=lang), "text/html")


@bp.get("/statistik.csv")
@declare(query=StatsQuery)
def as_csv() -> Response:
    answer = _send("csv", _query(), "", lambda stats: to_csv(stats).encode(), "text/csv")
    answer.headers["Content-Disposition"] = "inline; filename=statistik.csv"
    return answer


@bp.get("/statistik.json")
@declare(query=StatsQuery)
def as_json() -> Response:
    return _send("json", _query(), "", _json_body, "application/json")


def _json_body(stats: Statistics) -> bytes:
    return json.dumps(to_json(stats), ensure_ascii=False).encode()


@bp.errorhandler(QueryError)
def bad_query(error: QueryError) -> tuple[Any, int]:
    """A bad argument, told in the reader's language in the answer's own format."""
    message = error.message or ""
    if request.path.endswith(".json"):
        return {"error": {"code": error.code, "message": message}}, 400
    if request.path.endswith(".csv"):
        return Response(message + "\n", mimetype="text/plain"), 400
    return render_template("errors/error.html", message=message, code=400), 400


def _query() -> Query:
    """The period and office asked for; the office is checked when the figures are read."""
    args = query(StatsQuery)
    raw = (args.minggu.data or "").strip()
    weeks = DEFAULT_WEEKS if not raw else int(raw) if raw.isascii() and raw.isdigit() else 0
    if weeks not in WEEK_CHOICES:
        raise QueryError(
            _(
                "The period must be 4, 12, 26 or 52 weeks; “%(weeks)s” is not one of them.",
                weeks=raw,
            )
        )
    return Query(weeks, (args.kantor.data or "").strip() or None)


def _office_choices() -> list[tuple[str, str]]:
    """Every office, (code, name) by name: the choices of the form."""
    query = select(Office.code, Office.name).order_by(Office.name)
    return [(code, name) for code, name in get_session().execute(query)]


def _send(
    kind: str, query: Query, lang: str, render: Callable[[Statistics], bytes], mimetype: str
) -> Response:
    """The cached answer for ``query``, with its caching headers, or a 304."""
    seconds = current_app.config["STATS_CACHE_SECONDS"]
    now = utcnow()
    last = period_end(now)
    answer = worker_cache("statistics").get(
        (kind, lang, query, last), seconds, lambda: _build(kind, query, last, lang, render, now)
    )
    response = Response(answer.body, mimetype=mimetype)
    response.set_etag(answer.etag, weak=True)
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    if kind == "html":
        response.vary.update(("Accept-Language", "Cookie"))
    return response.make_conditional(request)


def _build(
    kind: str,
    query: Query,
    last: dt.date,
    lang: str,
    render: Callable[[Statistics], bytes],
    now: dt.datetime,
) -> Kept:
    try:
        period = Period.ending(last, query.weeks)
        figures = gather(get_session(), period, query.office, now=now)
    except LookupError:
        raise QueryError(
            _("There is no office with the code “%(code)s”.", code=query.office)
        ) from None
    counted = to_json(figures)
    del counted["generated_at"]  # the same figures give the same ETag, whenever worked out
    digest = hashlib.blake2b(
        json.dumps([kind, lang, counted], sort_keys=True).encode(), digest_size=12
    ).hexdigest()
    return Kept(render(figures), digest)


def period_end(now: dt.datetime) -> dt.date:
    """Yesterday, the last day of every period (see ``PERIOD_ZONE``)."""
    return now.astimezone(ZoneInfo(PERIOD_ZONE)).date() - ONE_DAY


# --- The answers' contents ------------------------------------------------------------------


def definitions() -> list[tuple[str, str, str]]:
    """What each figure means, in plain words: (key, name, meaning) in the current language."""
    return [(key, _(name), _(meaning)) for key, name, meaning in DEFINITIONS]


def figures_json(f: Figures) -> dict[str, Any]:
    return {
        "received": f.received,
        "finished": f.finished,
        "within_target": f.within_target,
        "within_target_percent": _percent(f.share_within_target),
        "median_working_days": f.median_days,
        "p90_working_days": f.p90_days,
        "collected": f.collected,
        "waiting_uncollected": f.waiting,
    }


def _service_json(s: ServiceFigures) -> dict[str, Any]:
    return {
        "code": s.code,
        "name_id": s.name_id,
        "name_en": s.name_en,
        "target_working_days": s.target_days,
        **figures_json(s.figures),
    }


def to_json(stats: Statistics) -> dict[str, Any]:
    """The open-data shape: the period, when it was worked out, what each figure means (in
    Indonesian and English), the totals, each office with each service, each service over
    the offices shown, and the weeks."""
    period = stats.period
    return {
        "period": {
            "weeks": period.weeks,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
        },
        "office": stats.office,
        "generated_at": stats.generated_at.isoformat(timespec="seconds"),
        "definitions": _meanings(),
        "totals": figures_json(stats.total),
        "offices": [
            {
                "code": o.code,
                "name": o.name,
                "timezone": o.timezone,
                "totals": figures_json(o.total),
                "services": [_service_json(s) for s in o.services],
            }
            for o in stats.offices
        ],
        "services": [_service_json(s) for s in stats.services],
        "weekly": [_week_json(w) for w in stats.weekly],
    }


def _meanings() -> dict[str, dict[str, str]]:
    meanings: dict[str, dict[str, str]] = {}
    for lang in ("id", "en"):
        with force_locale(lang):
            for key, _name, meaning in definitions():
                meanings.setdefault(key, {})[lang] = meaning
    return meanings


def _week_json(week: Week) -> dict[str, Any]:
    return {
        "week": week.iso,
        "from": week.monday.isoformat(),
        "to": week.last.isoformat(),
        "received": week.received,
        "finished": week.finished,
        "within_target": week.within_target,
        "within_target_percent": _percent(week.share_within_target),
    }


def to_csv(stats: Statistics) -> str:
    """One row per office and service, with a header row. A name that a spreadsheet would
    take for a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return) is given a leading ``'``, as OWASP advises against CSV injection: the file is
    public, and the names are typed by staff."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    first, last = stats.period.first.isoformat(), stats.period.last.isoformat()
    for o in stats.offices:
        for s in o.services:
            counts = ["" if v is None else v for v in figures_json(s.figures).values()]
            names = [_inert(x) for x in (o.code, o.name, s.code, s.name_id, s.name_en)]
            writer.writerow([*names, s.target_days, first, last, *counts])
    return out.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


def _page(stats: Statistics, lang: str) -> bytes:
    args = {"minggu": stats.period.weeks, **({"kantor": stats.office} if stats.office else {})}
    return render_template(
        "statistik/index.html",
        stats=stats,
        args=args,
        offices=_office_choices(),
        weeks=WEEK_CHOICES,
        longest=LONGEST,
        charts=_charts(stats, lang),
        definitions=definitions(),
    ).encode()


def _charts(stats: Statistics, lang: str) -> dict[str, Markup]:
    """The page's charts, titled and labelled in the page's language."""
    weeks = [format_short_day(w.monday, lang) for w in stats.weekly]
    within = _("Within the service time")
    empty = _("No figures yet")
    trend = [
        (_("Received"), [w.received for w in stats.weekly]),
        (_("Finished"), [w.finished for w in stats.weekly]),
    ]
    trend_share = [(within, [_percent(w.share_within_target) for w in stats.weekly])]
    services = [
        (s.name_en if lang == "en" else s.name_id, _percent(s.figures.share_within_target))
        for s in stats.services
    ]
    offices = [(o.name, _percent(o.total.share_within_target)) for o in stats.offices]
    return {
        "trend": charts.trend(
            "chart-trend", _("Received and finished per week"), weeks, trend, no_data=empty
        ),
        "trend_share": charts.trend(
            "chart-trend-share",
            _("Finished within the service time per week (%)"),
            weeks,
            trend_share,
            percent=True,
            no_data=empty,
        ),
        "services": charts.shares(
            "chart-services",
            _("Finished within the service time, per service (%)"),
            services,
            within,
            no_data=empty,
        ),
        "offices": charts.shares(
            "chart-offices",
            _("Finished within the service time, per office (%)"),
            offices,
            within,
            no_data=empty,
        ),
    }
