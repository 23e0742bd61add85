"""Presentation helpers: pure functions, registered as template filters in one place."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from functools import lru_cache, partial
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Flask, current_app, request
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

from tracker.models import TIMEZONES
from tracker.receipts import EXAMPLE, format_grouped, qr_inline, status_url


def _locale() -> str:
    locale = get_locale()
    return str(locale) if locale else "id"


@lru_cache(maxsize=8)
def _names(locale: str) -> tuple[dict[int, str], dict[int, str]]:
    """Weekday (0 = Monday) and month (1 = January) names of a locale, from CLDR."""
    data = Locale.parse(locale)
    return dict(data.days["format"]["wide"]), dict(data.months["format"]["wide"])


def mask_name(name: str) -> str:
    """``Budi Santoso`` -> ``B*** S******``: the first letter of each word, the rest hidden."""
    return " ".join(word[0] + "*" * (len(word) - 1) for word in name.split() if word)


# A phone number as gateways write it (08…, 62…, +62…, with spaces or dashes), any other run
# of ten digits or more (a NIK), and an e-mail address.
_PHONE = re.compile(r"(?<![\w+])(?:(?:\+?62|0)[\d -]{6,}\d|\d{10,})(?!\w)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.(\w+)")
HIDDEN = "\u2022"  # •


def mask_contacts(text: str) -> str:
    """Phone numbers and e-mail addresses in ``text`` hidden: ``081234567834`` ->
    ``08••••••••34``, ``siti@example.id`` -> ``s•••@•••.id``; the rest as it was."""

    def phone(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group())
        if len(digits) < 8:
            return match.group()
        plus = "+" if match.group().startswith("+") else ""
        return plus + digits[:2] + HIDDEN * (len(digits) - 4) + digits[-2:]

    def address(match: re.Match[str]) -> str:
        return f"{match.group()[0]}{HIDDEN * 3}@{HIDDEN * 3}.{match.group(1)}"

    return _PHONE.sub(phone, _EMAIL.sub(address, text))


def local(moment: dt.datetime, zone: str) -> dt.datetime:
    return moment.astimezone(ZoneInfo(zone))


def format_day(day: dt.date, locale: str | None = None) -> str:
    """``Senin, 1 Desember 2026`` (``Monday, 1 December 2026`` in English)."""
    weekdays, months = _names(locale or _locale())
    return f"{weekdays[day.weekday()]}, {day.day} {months[day.month]} {day.year}"


def format_clock(moment: dt.time, locale: str | None = None) -> str:
    """``08.00`` in Indonesian, ``08:00`` in English."""
    separator = ":" if (locale or _locale()) == "en" else "."
    return f"{moment.hour:02d}{separator}{moment.minute:02d}"


def format_moment(moment: dt.datetime, zone: str, locale: str | None = None) -> str:
    """``Senin, 1 Desember 2026, 08.00 WIB`` in the office's time zone."""
    there = local(moment, zone)
    return (
        f"{format_day(there.date(), locale)}, {format_clock(there.time(), locale)} "
        f"{TIMEZONES.get(zone, zone)}"
    )


def format_local_clock(moment: dt.datetime, zone: str, locale: str | None = None) -> str:
    """``15.00`` for a moment, in the office's time zone."""
    return format_clock(local(moment, zone).time(), locale)


def format_short_day(day: dt.date, locale: str | None = None) -> str:
    """``1 Des`` (``1 Dec``): a day in a chart's axis or a narrow table."""
    return format_date(day, "d MMM", locale=locale or _locale())


def format_percent(share: float | None, locale: str | None = None) -> str:
    """A fraction as a percentage with one decimal in the reader's way (``92,5%``, ``92.5%``);
    a dash when there is nothing to divide."""
    if share is None:
        return "–"
    return format_decimal(round(share * 100, 1), "0.#", locale=locale or _locale()) + "%"


def format_count(count: int, locale: str | None = None) -> str:
    """A whole number grouped in the reader's way (``138.404``, ``138,404``)."""
    return format_decimal(count, locale=locale or _locale())


def weekday_name(weekday: int, locale: str | None = None) -> str:
    return _names(locale or _locale())[0][weekday]


def opening_lines(hours: Iterable[Any], locale: str | None = None) -> list[tuple[str, str]]:
    """Opening hours as lines, runs of weekdays with the same hours merged:
    ``[("Senin–Kamis", "08.00–15.00"), ("Jumat", "08.00–11.00, 13.00–15.00")]``."""
    by_day: dict[int, list[str]] = {}
    for h in hours:
        by_day.setdefault(h.weekday, []).append(
            f"{format_clock(h.opens, locale)}–{format_clock(h.closes, locale)}"
        )
    lines: list[tuple[str, str]] = []
    runs: list[list[int]] = []
    for weekday in sorted(by_day):
        if runs and runs[-1][-1] == weekday - 1 and by_day[runs[-1][0]] == by_day[weekday]:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    for run in runs:
        days = weekday_name(run[0], locale)
        if len(run) > 1:
            days += "–" + weekday_name(run[-1], locale)
        lines.append((days, ", ".join(by_day[run[0]])))
    return lines


def language_url(code: str) -> str:
    """This page's address in another language (same path and arguments, ``lang`` set)."""
    args = request.args.to_dict()
    args["lang"] = code
    return f"{request.script_root}{request.path}?{urlencode(args)}"


def asset_url(name: str) -> str:
    """The address of a static file (what ``url_for('static', ...)`` gives, without building
    it through the URL map on every page)."""
    return _asset_url(request.script_root, current_app.static_url_path or "/static", name)


@lru_cache(maxsize=64)
def _asset_url(root: str, static_path: str, name: str) -> str:
    return f"{root}{static_path}/{name}"


def _template_context() -> dict[str, Any]:
    """What every template sees. ``_``/``gettext``/``ngettext`` are bound to this render's
    catalogue: Flask-Babel's own template functions look the catalogue up again on every
    call, through several context proxies, and a page makes dozens of calls. They return
    plain text, which autoescaping escapes with the values put into it."""
    translations = get_translations()

    def gettext(text: str, **variables: Any) -> str:
        translated = translations.ugettext(text)
        return translated % variables if variables else translated

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return translations.ungettext(singular, plural, num) % variables

    lang = _locale()
    return {
        "lang": lang,
        "language_url": language_url,
        "asset_url": asset_url,
        "opening_lines": partial(opening_lines, locale=lang),
        "gettext": gettext,
        "_": gettext,
        "ngettext": ngettext,
    }


def _in_page_language(function: Callable[..., str]) -> Callable[..., str]:
    """A template filter that passes the page's language (asked for once per render)."""

    @pass_context
    def filtered(context: Any, value: Any, *args: Any) -> str:
        return function(value, *args, locale=context["lang"])

    return filtered


def format_ddmm(moment: dt.datetime, zone: str) -> str:
    """``07/12``: a short day in the office's time zone, for text messages."""
    there = local(moment, zone)
    return f"{there.day:02d}/{there.month:02d}"


def status_qr(receipt: str, base_url: str) -> Markup:
    """The QR code of a receipt's status page, as an inline ``<svg>`` (nothing loaded from
    elsewhere); the SVG is made by ``qrcode`` from the number alone, never from typed text."""
    return Markup(qr_inline(status_url(base_url, receipt)))  # noqa: S704 - made by qrcode


def register(app: Flask) -> None:
    app.context_processor(_template_context)
    app.jinja_env.globals["example_receipt"] = EXAMPLE
    app.add_template_filter(mask_name, "masked")
    app.add_template_filter(format_grouped, "grouped")
    app.add_template_filter(status_qr, "status_qr")
    app.add_template_filter(_in_page_language(format_day), "day")
    app.add_template_filter(_in_page_language(format_clock), "clock")
    app.add_template_filter(_in_page_language(format_moment), "moment")
    app.add_template_filter(_in_page_language(format_local_clock), "local_clock")
    app.add_template_filter(_in_page_language(weekday_name), "weekday")
    app.add_template_filter(_in_page_language(format_short_day), "short_day")
    app.add_template_filter(_in_page_language(format_percent), "percent")
    app.add_template_filter(format_ddmm, "ddmm")
