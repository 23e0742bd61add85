"""The intake form: every error at once, beside its field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Email, Length, Optional

from tracker.models import Channel
from tracker.web.edge import (
    CleanText,
    Form,
    PersonName,
    Required,
    Visible,
)
from tracker.web.forms import options


def optional_id(value: object) -> int | None:
    """A select's value as an id; the empty first choice ("choose …") is None."""
    return None if value in ("", None) else int(value)  # type: ignore[arg-type]


class IntakeForm(Form):
    service = SelectField(_l("Service"), coerce=optional_id, validators=[Required()])
    applicant_name = StringField(
        _l("Applicant's full name"), [CleanText(), Visible(), PersonName()]
    )
    nik = StringField(_l("NIK (16 digits)"), [CleanText(), Visible(), Length(max=40)])
    phone = StringField(_l("Mobile phone"), [CleanText(), Optional(), Length(max=30)])
    email = StringField(
        _l("E-mail"),
        [CleanText(), Optional(), Length(max=200), Email(_l("This e-mail address is not valid."))],
    )
    consent_notify = BooleanField(_l("The applicant agrees to be notified about this request"))
    channel = RadioField(
        _l("Preferred channel"),
        choices=options(
            [
                (Channel.WHATSAPP.value, "WhatsApp"),
                (Channel.SMS.value, "SMS"),
                (Channel.EMAIL.value, _l("E-mail")),
            ]
        ),
        default=Channel.WHATSAPP.value,
    )
    language = RadioField(
        _l("Language of messages"),
        choices=options([("id", "Bahasa Indonesia"), ("en", "English")]),
        default="id",
    )
    handover = RadioField(
        _l("How the document is received"),
        choices=options(
            [
                ("pickup", _l("Collected at a pickup point")),
                ("delivery", _l("Delivered to an address")),
            ]
        ),
        default="pickup",
    )
    point = SelectField(_l("Preferred pickup point"), coerce=int, validators=[Optional()])
    address = TextAreaField(
        _l("Delivery address"), [CleanText(multiline=True), Optional(), Length(max=300)]
    )
    representative_allowed = BooleanField(
        _l("A representative with a power of attorney may collect"), default=True
    )
    confirm_duplicate = BooleanField(_l("Register it anyway"))
