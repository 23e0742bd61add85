"""The console's webhook form: the receiver's URL, the events it wants, and (for an admin)
the office."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.models import WebhookEvent
from tracker.web.edge import CleanText, Form, Visible
from tracker.web.forms import options

EVENT_NAMES = {
    WebhookEvent.STATUS_CHANGED: _l("A request changed status"),
    WebhookEvent.ANNOUNCEMENT_PUBLISHED: _l("An announcement was published at a pickup point"),
}


class NewWebhookForm(Form):
    """A subscription made in the console. Every office is a valid choice here; the view
    offers, and allows, only those the signed-in account sees."""

    url = StringField(_l("Receiver's URL"), [CleanText(), Visible(), Length(max=200)])
    events = SelectMultipleField(
        _l("Events"),
        choices=options((e.value, label) for e, label in EVENT_NAMES.items()),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    office = SelectField(_l("Office"), coerce=int, validators=[Optional()], validate_choice=False)
