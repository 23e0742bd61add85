"""The console's forms for one request's moves, and the search's query argument."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from tracker.web.edge import (
    CleanText,
    Form,
    Visible,
)
from tracker.web.forms import NOTE, OfficeQuery, VersionField


class MoveForm(Form):
    to = HiddenField(validators=[CleanText(), Visible()])
    version = VersionField()
    public_note = TextAreaField(_l("Note for the citizen"), NOTE)
    internal_note = TextAreaField(_l("Internal note"), NOTE)
    point = SelectField(_l("Pickup point"), coerce=int, validators=[Optional()])
    courier = StringField(_l("Courier"), [CleanText(), Optional(), Length(max=80)])
    tracking_ref = StringField(_l("Tracking reference"), [CleanText(), Optional(), Length(max=80)])


class SearchQuery(OfficeQuery):
    q = StringField(_l("Search"), [CleanText(), Optional(), Length(max=100)])
