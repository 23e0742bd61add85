"""Every ``/open311/v2`` route: GeoReport v2's discovery, services and requests, each in XML
(``.xml``, which the spec requires) and JSON (``.json``), read only.

A request is named by its receipt number, alone (``requests/{receipt}``, a one-element
array, as the spec answers) or with others (``requests?service_request_id=A,B``). A list
without numbers is refused: it would let anyone enumerate requests. Every number asked counts
against the client's look-up budget, shared with the status page and the JSON API. Errors are
the spec's array of ``{code, description}``, in the format the address asks for.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from flask_babel import get_locale
from sqlalchemy import select

from tracker import receipts
from tracker.db import get_read_engine, get_session
from tracker.errors import QueryError, ReceiptMistyped, RequestNotFound
from tracker.extensions import lookup_rate, lookups_rate
from tracker.models import Service, utcnow
from tracker.open311 import documents
from tracker.open311.formats import JSON, XML, answer
from tracker.open311.forms import ExtensionsQuery, RequestsQuery, no_numbers, numbers_asked
from tracker.requests import public
from tracker.web import errorpages
from tracker.web.arguments import declare, query
from tracker.web.wording import explain

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

LISTS_CACHE = "public, max-age=300"


@bp.record_once
def _answer_errors(state: BlueprintSetupState) -> None:
    errorpages.answer_errors_under(state.app, "/open311/", error_answer)


def error_answer(code: int, description: str) -> Response:
    """Any error under ``/open311/``, as the spec's errors, in the format asked (JSON when
    the address names none)."""
    fmt = XML if request.path.endswith(".xml") else JSON
    return answer(documents.errors(code, description), "errors", fmt, code)


def _language() -> str:
    return str(get_locale() or "id")


@bp.get("/discovery.xml")
@declare()
def discovery_xml() -> Response:
    return _discovery(XML)


@bp.get("/discovery.json")
@declare()
def discovery_json() -> Response:
    return _discovery(JSON)


def _discovery(fmt: str) -> Response:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    document = documents.discovery(base + str(bp.url_prefix), base + "/api/v1/docs")
    return _kept(answer(document, "discovery", fmt))


@bp.get("/services.xml")
@declare()
def services_xml() -> Response:
    return _services(XML)


@bp.get("/services.json")
@declare()
def services_json() -> Response:
    return _services(JSON)


def _services(fmt: str) -> Response:
    rows = get_session().scalars(select(Service).order_by(Service.code)).all()
    return _kept(answer(documents.services(rows, _language()), "services", fmt))


def _kept(found: Response) -> Response:
    """A document any cache may keep a while, once per language (chosen by the header or
    the language switch's cookie)."""
    found.headers["Cache-Control"] = LISTS_CACHE
    found.vary.update(("Accept-Language", "Cookie"))
    return found


@bp.get("/requests/<receipt>.xml")
@lookup_rate
@declare(query=ExtensionsQuery)
def request_xml(receipt: str) -> Response:
    return _one(receipt, XML)


@bp.get("/requests/<receipt>.json")
@lookup_rate
@declare(query=ExtensionsQuery)
def request_json(receipt: str) -> Response:
    return _one(receipt, JSON)


def _one(receipt: str, fmt: str) -> Response:
    found = public.lookup(get_read_engine(), receipt, utcnow(), office_place=False)
    shown = documents.service_request(found, _language(), query(ExtensionsQuery).wanted())
    return answer([shown], "service_requests", fmt)


@bp.get("/requests.xml")
@lookups_rate(numbers_asked)
@declare(query=RequestsQuery)
def requests_xml() -> Response:
    return _several(XML)


@bp.get("/requests.json")
@lookups_rate(numbers_asked)
@declare(query=RequestsQuery)
def requests_json() -> Response:
    return _several(JSON)


def _several(fmt: str) -> Response:
    """The requests of the numbers asked, in their order, each once however it was written;
    a number no request has is left out, a mistyped one refuses the call (naming it: the
    caller typed it)."""
    asked = query(RequestsQuery)
    if not asked.numbers():
        raise QueryError(no_numbers())
    now, engine, language = utcnow(), get_read_engine(), _language()
    shown, seen = [], set()
    for typed in asked.numbers():
        try:
            number = receipts.parse(typed)
            if number in seen:
                continue
            seen.add(number)
            found = public.find(engine, number, now, office_place=False)
        except RequestNotFound:
            continue
        except ReceiptMistyped as error:
            raise QueryError(f"“service_request_id” {typed}: {explain(error)}") from None
        shown.append(documents.service_request(found, language, asked.wanted()))
    return answer(shown, "service_requests", fmt)
