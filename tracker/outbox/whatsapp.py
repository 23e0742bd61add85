"""WhatsApp's approved templates, for the messages that go outside its 24-hour window.

WhatsApp delivers free text only within 24 hours of the citizen's own last message: a reply
to their question goes as text, but a ready notice, a reminder or any other message about a
request must use a template the business had approved, with its parameters. The setting
``WHATSAPP_TEMPLATES`` (JSON) names them per event and language::

    {"ready": {"id": {"name": "siapambil_siap", "parameters": ["service", "name", "point",
                                                                "start", "end", "number"]},
               "en": {"name": "siapambil_ready", "language": "en_US", "parameters": [...]}}}

``language`` is the template's language code at Meta (the citizen's language when not
given). The dispatcher sends them through Apprise's own WhatsApp plugin (``whatsapp://``):
its URL's ``TEMPLATE:TOKEN@FROM`` form with ``lang=`` and ``:1=…``, ``:2=…`` for the body's
parameters, built here from ``NOTIFY_WHATSAPP_URL`` and the request. A channel URL of
another scheme (a gateway through ``json://``, which has no templates) is left as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from apprise.plugins.whatsapp import NotifyWhatsApp

from tracker.config import ConfigError
from tracker.models import Request
from tracker.outbox.texts import language_of
from tracker.web.formatters import format_ddmm, mask_name

SCHEME = "whatsapp://"


def _first_name(request: Request) -> str:
    name = mask_name(request.applicant_name) if request.anonymised_at else request.applicant_name
    return (name.split() or [""])[0]


def _ddmm(moment: Any, request: Request) -> str:
    return format_ddmm(moment, request.office.timezone) if moment else ""


# What a template's parameters may be, each worked out from the request.
PARAMETERS: dict[str, Callable[[Request, str, str], str]] = {
    "service": lambda r, lang, _: r.service.name_en if lang == "en" else r.service.name_id,
    "name": lambda r, _lang, _url: _first_name(r),
    "point": lambda r, _lang, _url: r.pickup_point.name if r.pickup_point else "",
    "start": lambda r, _lang, _url: _ddmm(r.window_starts, r),
    "end": lambda r, _lang, _url: _ddmm(r.window_ends, r),
    "number": lambda r, _lang, _url: r.pickup_number or "",
    "office": lambda r, _lang, _url: r.office.name,
    "note": lambda r, _lang, _url: next((e.public_note for e in reversed(r.events)), "") or "-",
    "status_url": lambda r, _lang, base_url: f"{base_url}/s/{r.receipt}",
}


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    parameters: tuple[str, ...]


def parse(raw: str | Mapping[str, Any] | None) -> dict[tuple[str, str], Template]:
    """``WHATSAPP_TEMPLATES`` read and checked: (event, language) -> template. A value that
    cannot be read stops the start with a message naming the problem."""
    if not raw:
        return {}
    try:
        given = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError as error:
        raise ConfigError(f"WHATSAPP_TEMPLATES is not JSON ({error})") from None
    if not isinstance(given, Mapping):
        raise ConfigError("WHATSAPP_TEMPLATES must be a JSON object: event -> language -> template")
    found = {}
    for event, languages in given.items():
        for language, entry in (languages if isinstance(languages, Mapping) else {}).items():
            found[(event, language)] = _template(f"{event}.{language}", language, entry)
        if not isinstance(languages, Mapping) or not languages:
            raise ConfigError(f"WHATSAPP_TEMPLATES: {event} needs a template per language")
    return found


def _template(where: str, language: str, entry: Any) -> Template:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
        raise ConfigError(f"WHATSAPP_TEMPLATES: {where} needs a name")
    parameters = entry.get("parameters", [])
    unknown = [p for p in parameters if p not in PARAMETERS] if isinstance(parameters, list) else 1
    if unknown:
        raise ConfigError(
            f"WHATSAPP_TEMPLATES: {where} has parameters that are not among "
            f"{', '.join(PARAMETERS)}: {unknown}"
        )
    return Template(entry["name"], str(entry.get("language") or language), tuple(parameters))


def service(url: str, request: Request, event: str, config: Mapping[str, Any]) -> Any:
    """What Apprise sends a message about a request with: ``url`` itself for a channel that
    is not the Cloud API; for ``whatsapp://``, the plugin made with the event's template and
    its parameters. None when no template is set for the event in the citizen's language."""
    if not url.startswith(SCHEME):
        return url
    language = language_of(request)
    template = parse(config.get("WHATSAPP_TEMPLATES")).get((event, language))
    if template is None:
        return None
    made = NotifyWhatsApp.parse_url(url)
    made["targets"] = [international(t) for t in made.get("targets", [])]
    made["template"] = template.name
    made["language"] = template.language
    base_url = config["PUBLIC_BASE_URL"]
    made["template_mapping"] = {
        str(index): PARAMETERS[name](request, language, base_url) or "-"
        for index, name in enumerate(template.parameters, start=1)
    }
    return made


def international(number: str) -> str:
    """A number as the Cloud API wants it: ``0812…`` (as typed at intake) is ``62812…``."""
    digits = "".join(c for c in number if c.isdigit())
    return "62" + digits[1:] if digits.startswith("0") else number
