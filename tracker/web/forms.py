"""What the console's forms share (Flask-WTF: every one carries a CSRF token): the version
field, choices, a button that only posts, the office and page arguments of its lists; each
feature keeps its own forms beside its views (``<feature>/forms.py``). Every text field
refuses control characters and invisible-only text (``tracker.web.edge``); numbers and
dates have sane ranges."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    IntegerField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import HiddenInput

from tracker.web.edge import (
    LARGEST_ID,
    Bounded,
    CleanText,
    Form,
    QueryForm,
    Required,
)

REQUIRED = _l("This field is required.")
NOTE = [CleanText(multiline=True), Optional(), Length(max=1000)]
MAX_COUNTERS = 20
COUNTER_LENGTH = 40


def VersionField() -> IntegerField:  # noqa: N802 (reads as the field it makes)
    """The version of a request the form was made from (optimistic locking)."""
    return IntegerField(widget=HiddenInput(), validators=[Required(), Bounded(0, LARGEST_ID)])


def options(pairs: object) -> list[SelectChoice]:
    """WTForms' choices from ``(value, label)`` pairs."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[attr-defined]


class ButtonForm(Form):
    """A button that posts: nothing but its CSRF token (signing out, switching an account
    off or on, removing a closure, sending a message again)."""


# --- Query arguments ------------------------------------------------------------------------

PAGES = 10_000


class OfficeQuery(QueryForm):
    """``?office=ID``: the office an admin chooses (others always see their own)."""

    office = IntegerField(_l("Office"), [Optional(), Bounded(1, LARGEST_ID)])


class PageQuery(OfficeQuery):
    page = IntegerField(_l("Page"), [Optional(), Bounded(1, PAGES)], default=1)
