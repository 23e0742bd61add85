"""What each view reads from a request: its query arguments and the form it takes.

Every view declares both with ``@declare(query=SomeQuery, form=SomeForm)`` (a bare
``@declare()`` when it reads neither), directly above the function, beneath its route and
role decorators. The query arguments are a ``QueryForm``: they are checked before the view
runs, and a bad one is refused with a 400 naming it (``QueryError``). The view reads them
with ``query(SomeQuery)``.

The declarations live on the view functions, so ``app.view_functions`` is the registry:
``declaration(view)`` reads it back. ``tests/test_sweep.py`` walks ``app.url_map`` and sends
bad input to every declared argument and form field; a route without a declaration fails
it. With ``STRICT_ARGUMENTS`` set (the tests set it) the request's ``args`` tell on a view
that reads a query argument it did not declare: the read raises ``UndeclaredArgument``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, wraps
from typing import Any, TypeVar

from flask import Flask, Request, current_app, g, has_request_context, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import BaseConverter, IntegerConverter, Map
from werkzeug.utils import cached_property
from wtforms.fields.core import UnboundField

from tracker.errors import QueryError
from tracker.web.edge import LARGEST_ID, Form, QueryForm

COMMON = frozenset({"lang"})  # the language switch: every page may read it
Q = TypeVar("Q", bound=QueryForm)


@dataclass(frozen=True)
class Declaration:
    query: type[QueryForm] | None = None
    form: type[Form] | None = None

    def query_names(self) -> frozenset[str]:
        if self.query is None:
            return COMMON
        return COMMON | field_names(self.query)


@cache
def field_names(form_class: type[QueryForm]) -> frozenset[str]:
    """The arguments a form class reads (a field's ``name=``, else its own name), without
    making a form (whose labels would ask for the language, which reads ``?lang=``, which
    asks for these names)."""
    return frozenset(
        getattr(form_class, name).name or name
        for name in dir(form_class)
        if isinstance(getattr(form_class, name), UnboundField)
    )


def declare(
    query: type[QueryForm] | None = None, form: type[Form] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The query arguments and the form a view reads; the arguments are checked first."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        if query is None:
            checked = view
        else:

            @wraps(view)
            def checked(*args: Any, **kwargs: Any) -> Any:
                if not request.args and _nothing_is_valid(query):
                    g.query = None  # made if the view reads it (most pages are asked bare)
                    g.query_declared = query
                    return view(*args, **kwargs)
                parsed = query(request.args)
                if not parsed.validate():
                    raise QueryError(parsed.errors_text())
                g.query = parsed
                return view(*args, **kwargs)

        checked.declared = Declaration(query, form)  # type: ignore[attr-defined]
        return checked

    return decorate


@cache
def _nothing_is_valid(kind: type[QueryForm]) -> bool:
    """Whether a request without query arguments passes this form's checks: then such a
    request skips making the form (and its translated labels) unless the view reads it."""
    return kind(ImmutableMultiDict()).validate()


def query(kind: type[Q]) -> Q:
    """The checked query arguments of this request's view."""
    parsed = g.query
    if parsed is None:  # none were sent, and none is valid (``declare``): the declared form
        parsed = g.query = g.query_declared(request.args)
        parsed.validate()
    assert isinstance(parsed, kind)
    return parsed


def declaration(view: Callable[..., Any]) -> Declaration | None:
    return getattr(view, "declared", None)


class IdConverter(IntegerConverter):
    """``<id:name>``: a row's key in a path, from 1 to the largest a database integer holds
    (a larger number is a 404, not an overflow in the database driver)."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=LARGEST_ID)


class TextConverter(BaseConverter):
    """A path's text (the default converter): at most 200 characters and no control
    character, else a 404. (PostgreSQL refuses NUL in a query's text; nothing has a longer
    code or name.)"""

    regex = r"[^/\x00-\x1f\x7f-\x9f]{1,200}"


class UndeclaredArgument(RuntimeError):
    """A view read a query argument it did not declare."""


class WatchedArgs(ImmutableMultiDict):  # type: ignore[type-arg]
    """Query arguments that refuse to be read by a view that did not declare them."""

    def _check(self, key: Any) -> None:
        if not has_request_context():
            return
        view = current_app.view_functions.get(request.endpoint or "")
        declared = declaration(view) if view is not None else None
        allowed = declared.query_names() if declared is not None else COMMON
        if key not in allowed:
            raise UndeclaredArgument(f"{request.endpoint} reads ?{key}= without declaring it")

    def __getitem__(self, key: Any) -> Any:
        self._check(key)
        return super().__getitem__(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        self._check(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> list[Any]:  # noqa: A002
        self._check(key)
        return super().getlist(key, type)

    def __contains__(self, key: object) -> bool:
        self._check(key)
        return super().__contains__(key)


class WatchedRequest(Request):
    @cached_property
    def args(self) -> ImmutableMultiDict[str, str]:  # type: ignore[override]
        return WatchedArgs(super().args)


def register(app: Flask) -> None:
    """The path converters (``id``, and text for the default); the watch on query
    arguments where it is wanted."""
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    watch(app)


def watch(app: Flask) -> None:
    """Where ``STRICT_ARGUMENTS`` is set (by default when testing), an undeclared read
    fails the request."""
    if app.config.get("STRICT_ARGUMENTS", app.testing):
        app.request_class = WatchedRequest
