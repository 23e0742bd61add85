"""The texts of messages to citizens, rendered in the outbox's own Jinja environment.

The templates are ``templates/messages/<event>.sms.txt``, ``<event>.subject.txt`` and
``<event>.txt``, in Indonesian, and the same names under ``templates/messages/en/`` in
English: a message is in the language the citizen chose at intake (``Request.language``).
They render without a Flask app: the dispatcher runs in the
scheduler's process and passes what it needs from the settings (the public base URL). The
environment has the i18n extension with the Babel catalogue of ``tracker/translations``, and
the filters the templates use, bound to the message's language. An SMS is one GSM-7 message
of at most 160 characters (``sms_text``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader

from tracker.models import Channel, Request
from tracker.web.formatters import format_day, format_ddmm, format_moment, mask_name

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "messages"
TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"
LANGUAGE = "id"
LANGUAGES = ("id", "en")
SMS_LENGTH = 160
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


class Text(NamedTuple):
    """What a message says: a subject (empty for SMS and WhatsApp) and a body."""

    subject: str
    body: str


@lru_cache(maxsize=4)
def environment(locale: str = LANGUAGE) -> Environment:
    """The message templates' environment for one language (made once per process).

    No autoescaping: these are plain texts, as Flask renders ``.txt`` templates."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=False, extensions=["jinja2.ext.i18n"]
    )
    env.install_gettext_translations(  # type: ignore[attr-defined]
        Translations.load(str(TRANSLATIONS), [locale]), newstyle=True
    )
    env.filters["ddmm"] = format_ddmm
    env.filters["day"] = partial(format_day, locale=locale)
    env.filters["moment"] = partial(format_moment, locale=locale)
    return env


def language_of(request: Request) -> str:
    """The language of the citizen's messages: the one chosen at intake, else Indonesian."""
    return request.language if request.language in LANGUAGES else LANGUAGE


def render(
    request: Request, event: str, channel: Channel, *, base_url: str, locale: str | None = None
) -> Text:
    """The subject and body of the message about ``event`` for ``request``, in the citizen's
    language (or ``locale``); ``base_url`` is the public site (``PUBLIC_BASE_URL``), where
    the citizen checks the status."""
    locale = locale or language_of(request)
    env = environment(locale)
    folder = "" if locale == LANGUAGE else f"{locale}/"
    context: dict[str, Any] = {
        "r": request,
        "name": mask_name(request.applicant_name)
        if request.anonymised_at
        else request.applicant_name,
        "status_url": f"{base_url}/s/{request.receipt}",
        "zone": request.office.timezone,
        # The note of the change the message is about, even if the request moved on since.
        "note": next((e.public_note for e in reversed(request.events) if e.to_status == event), ""),
        # The point's closures inside the window (a window that moved for them says which).
        "closed": _closed_in_window(request),
    }
    if channel == Channel.SMS:
        return Text("", sms_text(env.get_template(f"{folder}{event}.sms.txt").render(context)))
    subject = env.get_template(f"{folder}{event}.subject.txt").render(context).strip()
    body = env.get_template(f"{folder}{event}.txt").render(context).strip() + "\n"
    return Text(subject, body)


def _closed_in_window(request: Request) -> list[Any]:
    point = request.pickup_point
    if point is None or request.window_starts is None or request.window_ends is None:
        return []
    zone = ZoneInfo(request.office.timezone)
    first = request.window_starts.astimezone(zone).date()
    last = request.window_ends.astimezone(zone).date()
    return [c for c in point.closures if first <= c.day <= last]


def sms_text(text: str) -> str:
    """One line of GSM-7 characters, at most 160: accents dropped, spaces folded, and the
    text cut at a word with an ellipsis of dots when it is still too long."""
    flat = gsm7(text)
    if len(flat) <= SMS_LENGTH:
        return flat
    cut = flat[: SMS_LENGTH - 3]
    return re.sub(r"\s+\S*$", "", cut) + "..."


def gsm7(text: str) -> str:
    """One line of GSM-7 characters: accents dropped, spaces folded (never cut)."""
    flat = " ".join(text.split())
    return "".join(c if c in GSM7 else _plain(c) for c in flat)


def _plain(character: str) -> str:
    if character in "–—":
        return "-"
    if character in "“”":
        return '"'
    if character in "‘’":
        return "'"
    return unicodedata.normalize("NFKD", character).encode("ascii", "ignore").decode()
