"""Validation at the edge: what every form and query argument refuses before a view reads it.

- Text: no C0 or C1 control character (a newline and a tab only in multi-line fields), and
  text that is not blank has at least one visible character. Format characters (zero-width
  joiners, direction marks) are kept inside otherwise visible text: Indonesian names and
  notes in other scripts need them.
- Applicants' names follow Dukcapil's rule (Permendagri 73/2022): Latin letters and spaces,
  an apostrophe as in Ma'ruf, at most 60 characters, no digits or other symbols.
- Integers and dates have sane ranges, so that 2**63 or the year 9999 never reach the
  database.
- Every message, WTForms' own included, is translated by the app's catalogue (WTForms ships
  no Indonesian), and the edge's own messages name the field.

``Form`` is the base of the console's forms (with a CSRF token); ``QueryForm`` that of the
query arguments a view declares with ``tracker.arguments.declare``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from flask import request
from flask.json.provider import DefaultJSONProvider
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, StringField
from wtforms import Form as BaseForm
from wtforms.meta import DefaultMeta
from wtforms.validators import Length, Optional, StopValidation, ValidationError

# C0 and C1 controls, and the two non-characters XML cannot carry either
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufffe\uffff]")
CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Cs", "Co", "Cn"}
INVISIBLE_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}  # fillers, blank braille
NAME = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*(?: [A-Za-z]+(?:'[A-Za-z]+)*)*")
NAME_LENGTH = 60
FIRST_DAY = dt.date(2000, 1, 1)  # dates typed by staff: closures, visits
LAST_DAY = dt.date(2099, 12, 31)
LARGEST_ID = 2**31 - 1  # a database integer key


def visible(text: str) -> bool:
    """Whether ``text`` has a character a reader can see."""
    return any(
        unicodedata.category(ch) not in INVISIBLE_CATEGORIES and ch not in INVISIBLE_LETTERS
        for ch in text
    )


def without_controls(text: str) -> str:
    """``text`` with C0/C1 controls but newline and tab dropped: for stored text read back
    into XML (the feed), written before the edge refused them."""
    return CONTROL_BUT_LINES.sub("", text)


def _label(field: Field) -> str:
    return str(field.label.text) if field.label and field.label.text else field.name


class CleanText:
    """No control character (newline, carriage return and tab only if ``multiline``); text
    that is not blank must show something."""

    def __init__(self, multiline: bool = False) -> None:
        self.pattern = CONTROL_BUT_LINES if multiline else CONTROL
        self.multiline = multiline

    def __call__(self, form: BaseForm, field: Field) -> None:
        values = field.raw_data or []
        for value in values:
            if not isinstance(value, str):
                continue
            if self.pattern.search(value):
                raise StopValidation(self._control_message(field))
            if value.strip() and not visible(value):
                raise StopValidation(
                    _("“%(field)s” has no visible character.", field=_label(field))
                )

    def _control_message(self, field: Field) -> str:
        if self.multiline:
            return _(
                "“%(field)s” contains a control character that cannot be stored "
                "(only line breaks and tabs are allowed).",
                field=_label(field),
            )
        return _(
            "“%(field)s” contains a control character that cannot be stored "
            "(such as a line break or NUL).",
            field=_label(field),
        )


class Visible:
    """A required text: blank, or made only of invisible characters, is refused."""

    field_flags = {"required": True}

    def __init__(self, message: Any = None) -> None:
        self.message = message

    def __call__(self, form: BaseForm, field: Field) -> None:
        if not isinstance(field.data, str) or not visible(field.data):
            field.errors[:] = []
            message = self.message or _("“%(field)s” is required.", field=_label(field))
            raise StopValidation(str(message))


class Sent:
    """The field came with the post, if only empty: a form that edits what is stored and
    whose fields may be left empty (an office's contacts, a point's place on the map) would
    otherwise read a post that lacks a field, made by hand or cut short, as that field
    cleared, and blank what it holds. A browser sends every text field of the form it shows,
    empty or not; a checkbox it leaves out when unticked, so this is for text fields only."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        if not field.raw_data:
            field.errors[:] = []
            raise StopValidation(
                _(
                    "“%(field)s” was not sent: reload the page and try again.",
                    field=_label(field),
                )
            )


class Required:
    """Something typed or chosen (a date, a time, a choice), told with the field's name."""

    field_flags = {"required": True}

    def __call__(self, form: BaseForm, field: Field) -> None:
        if not field.raw_data or not field.raw_data[0]:
            field.errors[:] = []
            raise StopValidation(_("“%(field)s” is required.", field=_label(field)))


class PersonName:
    """Dukcapil's rule for a name (Permendagri 73/2022)."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        name = " ".join((field.data or "").split())
        if not name:
            return
        if len(name) > NAME_LENGTH or not NAME.fullmatch(name):
            raise ValidationError(
                _(
                    "“%(field)s” may hold only Latin letters, spaces and an apostrophe "
                    "(as in Ma'ruf), at most %(max)d characters: no digits or other symbols "
                    "(Permendagri 73/2022).",
                    field=_label(field),
                    max=NAME_LENGTH,
                )
            )


class Bounded:
    """An integer from ``low`` to ``high``, told with the field's name."""

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def __call__(self, form: BaseForm, field: Field) -> None:
        if field.data is None:
            return
        if not self.low <= field.data <= self.high:
            raise StopValidation(
                _(
                    "“%(field)s” must be a whole number from %(low)d to %(high)d.",
                    field=_label(field),
                    low=self.low,
                    high=self.high,
                )
            )


class DayRange:
    """A date between ``FIRST_DAY`` and ``LAST_DAY``."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        if field.data is None:
            return
        if not FIRST_DAY <= field.data <= LAST_DAY:
            raise StopValidation(
                _(
                    "“%(field)s” must be a date from %(first)s to %(last)s.",
                    field=_label(field),
                    first=FIRST_DAY.isoformat(),
                    last=LAST_DAY.isoformat(),
                )
            )


class TextList(Field):
    """An argument that may come more than once (``?titik=A&titik=B``): its non-blank
    values, each at most ``length`` characters, at most ``count`` of them."""

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        count: int = 20,
        length: int = 40,
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, **kwargs)
        self.count, self.length = count, length

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = [v.strip() for v in valuelist if isinstance(v, str) and v.strip()]
        self.given = len(valuelist)  # blank ones too: they count against ``count``

    def _value(self) -> str:
        return ",".join(self.data or [])

    def pre_validate(self, form: BaseForm) -> None:
        values = self.data or []
        given = max(getattr(self, "given", 0), len(values))
        if given > self.count or any(len(v) > self.length for v in values):
            raise StopValidation(
                _(
                    "“%(field)s” takes at most %(count)d values of at most %(length)d "
                    "characters each.",
                    field=_label(self),
                    count=self.count,
                    length=self.length,
                )
            )


class Translations:
    """WTForms' messages through the app's catalogue (``messages.po`` holds them)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


TRANSLATIONS = Translations()


class Form(FlaskForm):
    """A console form: CSRF token, and every message in the reader's language. It reads what
    a browser posts (urlencoded or multipart), never a JSON body: Flask-WTF would take one as
    the form, and JSON that is not an object of texts (``[1, 2]``, ``"a"``, ``{"x": null}``)
    breaks it. A JSON post is an empty form, refused field by field."""

    class Meta:
        def get_translations(self, form: BaseForm) -> Translations:
            return TRANSLATIONS

        def wrap_formdata(self, form: BaseForm, formdata: Any) -> Any:
            # Neither None (no data) nor a MultiDict a caller gave: Flask-WTF's marker for
            # "the request's", which it would take from a JSON body.
            if request.is_json and formdata is not None and not hasattr(formdata, "getlist"):
                return request.form if request.method in SUBMIT_METHODS else None
            return super().wrap_formdata(form, formdata)  # type: ignore[misc]


SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # Flask-WTF's own


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested deeper than Python's parser goes (thousands of
    ``[``) is a ``ValueError``, like any other text that is not JSON, where it would raise
    ``RecursionError``: ``request.get_json`` then refuses it as it refuses any bad body."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class QueryForm(BaseForm):
    """The query arguments a view reads (no CSRF token: a GET changes nothing)."""

    class Meta(DefaultMeta):
        def get_translations(self, form: BaseForm) -> Translations:
            return TRANSLATIONS

    def errors_text(self) -> str:
        """Every error, each naming its argument."""
        told = []
        for name, errors in self.errors.items():
            label = _label(self[name])
            told += [str(e) if label in str(e) else f"“{label}”: {e}" for e in errors]
        return " ".join(told)


class PaperQuery(QueryForm):
    """``?paper=``: the printable receipt's paper size (A5 unless a known one is named)."""

    paper = StringField(_l("Paper"), [CleanText(), Optional(), Length(max=10)])


class PointsQuery(QueryForm):
    """``?titik=CODE`` (or ``?point=CODE``), as often as wanted: the points to show (the
    announcement pages and their JSON)."""

    titik = TextList(_l("Pickup point"), [CleanText()])
    point = TextList(_l("Pickup point"), [CleanText()])

    def codes(self) -> list[str]:
        """The points asked for, in order, each once."""
        return list(dict.fromkeys(self.titik.data + self.point.data))


class AnnouncementsQuery(PointsQuery):
    """The points, and ``?hal=N``: which part of each list of what waits now (the page shows
    a part at a time)."""

    hal = IntegerField(_l("Page"), [Optional(), Bounded(1, LARGEST_ID)])
