"""The outbox page's forms: sending every dead message of one channel again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField

from tracker.models import Channel
from tracker.outbox.queries import CHANNELS
from tracker.web.edge import Form, Required
from tracker.web.forms import options


class RetryDeadForm(Form):
    """One button per channel: its dead messages still worth sending go again."""

    channel = SelectField(
        _l("Channel"),
        choices=options([(channel.value, _l(CHANNELS[channel])) for channel in Channel]),
        validators=[Required()],
    )
