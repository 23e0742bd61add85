"""The console's forms for one request's moves, and the search's query argument.

A move that needs a reason (``workflow.NEEDS_REASON``) takes ``ReasonForm``; cancelling
takes ``CancelForm``, which also asks for a confirmation. Both refuse at the edge, so that
every missing thing is told beside its field at once; ``operations.move`` checks the reason
again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional

from tracker.requests.workflow import NEEDS_REASON
from tracker.status import Status
from tracker.web.edge import (
    CleanText,
    Form,
    Visible,
)
from tracker.web.forms import NOTE, OfficeQuery, VersionField

REASON = [CleanText(multiline=True), Visible(), Length(max=1000)]


class MoveForm(Form):
    to = HiddenField(validators=[CleanText(), Visible()])
    version = VersionField()
    public_note = TextAreaField(_l("Note for the citizen"), NOTE)
    internal_note = TextAreaField(_l("Internal note"), NOTE)
    point = SelectField(_l("Pickup point"), coerce=int, validators=[Optional()])
    courier = StringField(_l("Courier"), [CleanText(), Optional(), Length(max=80)])
    tracking_ref = StringField(_l("Tracking reference"), [CleanText(), Optional(), Length(max=80)])


class ReasonForm(MoveForm):
    public_note = TextAreaField(_l("Reason (the citizen will read it)"), REASON)


class CancelForm(ReasonForm):
    public_note = TextAreaField(_l("Reason for cancelling (the citizen will read it)"), REASON)
    confirm = BooleanField(
        _l("Yes, cancel this request"),
        [InputRequired(_l("Tick “Yes, cancel this request” to cancel it."))],
    )


def form_for(to: str) -> type[MoveForm]:
    """The form a move to ``to`` takes."""
    if to == Status.CANCELLED.value:
        return CancelForm
    return ReasonForm if to in {status.value for status in NEEDS_REASON} else MoveForm


class SearchQuery(OfficeQuery):
    q = StringField(_l("Search"), [CleanText(), Optional(), Length(max=100)])
