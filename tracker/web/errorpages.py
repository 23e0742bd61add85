"""Error answers: a page in the reader's language, or JSON under /api/. Never a bare 500.

A part of the app that speaks another error format under its own prefix (Open311's array of
``{code, description}``) says so with ``answer_errors_under``: every error under that prefix,
a route's refusal as well as an unknown address or a rate limit, is then answered its way.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.exceptions import (
    BadHost,
    HTTPException,
    InternalServerError,
    SecurityError,
    ServiceUnavailable,
)

from tracker.db import close_session
from tracker.errors import DomainError, SavedMeanwhile
from tracker.web.wording import explain, rate_limited

JSON_PREFIX = "/api/"
Answer = tuple[Response | str, int, dict[str, str]]
ErrorAnswer = Callable[[int, str], Response]  # (status, the words) -> the answer
ANSWERERS = "siapambil.error_answerers"
HTTP_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}
RETRY_UNAVAILABLE_SECONDS = 5


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)


def answer_errors_under(app: Flask, prefix: str, answer: ErrorAnswer) -> None:
    """Errors of every address under ``prefix`` are answered by ``answer``."""
    app.extensions.setdefault(ANSWERERS, {})[prefix] = answer


def _own_answer(code: int, message: str, headers: dict[str, str]) -> Answer | None:
    for prefix, answer in current_app.extensions.get(ANSWERERS, {}).items():
        if request.path.startswith(prefix):
            return answer(code, message), code, headers
    return None


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIX)


def _http_message(code: int) -> str:
    if code == 429 and request.path.startswith("/staff/"):
        return _("Too many sign-in attempts. Please wait a few minutes and try again.")
    messages = {
        400: _("The request could not be understood."),
        403: _("Your account may not do this. The attempt has been recorded."),
        404: _("This page does not exist."),
        405: _("This page cannot be used this way."),
        413: _("What was sent is too large."),
        429: rate_limited(),
        503: _("The service cannot reach its records just now. Please try again in a minute."),
    }
    return messages.get(code, _("Something went wrong on our side. Please try again later."))


def handle_domain_error(error: DomainError) -> Answer:
    close_session()
    message = explain(error)
    if (own := _own_answer(error.status, message, {})) is not None:
        return own
    if _wants_json():
        return jsonify(error={"code": error.code, "message": message}), error.status, {}
    return _page(message, error.status), error.status, {}


def handle_csrf_error(_error: CSRFError) -> Answer:
    close_session()
    message = _(
        "This form has expired or did not come from this site. Reload the page and try again."
    )
    return _page(message, 400), 400, {}


def handle_http_error(error: HTTPException) -> Answer:
    code = error.code or 500
    message = _http_message(code)
    # The exception's own headers (a 405's ``Allow``, as RFC 9110 asks), not its content type.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    if code == 429:
        headers["Retry-After"] = "60"
    if code == 503:
        headers["Retry-After"] = str(RETRY_UNAVAILABLE_SECONDS)
    if (own := _own_answer(code, message, headers)) is not None:
        return own
    if _wants_json():
        body = jsonify(error={"code": HTTP_CODES.get(code, "http_error"), "message": message})
        return body, code, headers
    return _page(message, code), code, headers


def _page(message: str, code: int) -> Response | str:
    """The error page; plain text when the request's host was refused before routing (a
    ``Host`` that names no host, such as an empty or overlong label, or one outside
    ``TRUSTED_HOSTS``): no address can be built for that request, and the page's links need
    one."""
    if isinstance(request.routing_exception, BadHost | SecurityError):
        return Response(message + "\n", mimetype="text/plain")
    return render_template("errors/error.html", message=message, code=code)


def handle_unexpected(error: Exception) -> Answer:
    close_session()
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    if unreachable(error):
        current_app.logger.warning(
            "the database is unreachable on %s %s: %s", request.method, request.path, error
        )
        return handle_http_error(ServiceUnavailable())
    if taken_meanwhile(error):
        current_app.logger.warning(
            "saved meanwhile by another on %s %s: %s", request.method, request.path, error.orig
        )
        return handle_domain_error(SavedMeanwhile())
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())


def taken_meanwhile(error: Exception) -> bool:
    """A unique index refusing a row another writer committed a moment before: two people
    saving the same thing at once (a leave day, an account's name, a point's closure), after
    each one's check found it free. A 409 telling them to look again, nothing saved; any
    other broken rule (a missing value, a foreign key) is a mistake, and stays a 500."""
    if not isinstance(error, IntegrityError):
        return False
    cause = error.orig
    if getattr(cause, "sqlstate", None) == "23505":  # PostgreSQL's unique_violation
        return True
    return type(cause).__name__ == "IntegrityError" and "UNIQUE constraint failed" in str(cause)


def unreachable(error: Exception) -> bool:
    """An error that says the database cannot be reached for now (a server restarting or gone,
    a connection it cut, SQLite's lock held past the busy timeout), which a moment may mend:
    a 503 with Retry-After, not a 500. A mistake in a query is not one of them."""
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        error = error.orig  # type: ignore[assignment]
    # The driver's own error where no SQLAlchemy connection wrapped it (the look-up's pool).
    # psycopg's OperationalError and its kinds (the server shutting down, too many
    # connections, a statement cancelled): the server's state, never the statement's text.
    if any(
        k.__name__ == "OperationalError" and k.__module__.startswith("psycopg")
        for k in type(error).__mro__
    ):
        return True
    return type(error).__name__ == "OperationalError" and "database is locked" in str(error)
