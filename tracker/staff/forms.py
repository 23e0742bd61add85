"""The console's forms (Flask-WTF: every one carries a CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from tracker.models import Channel, CollectorKind

REQUIRED = _l("This field is required.")


def options(pairs: object) -> list[SelectChoice]:
    """WTForms' choices from ``(value, label)`` pairs."""
    return [SelectChoice(value, label) for value, label in pairs]  # type: ignore[attr-defined]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), [DataRequired(REQUIRED), Length(max=60)])
    password = PasswordField(_l("Password"), [DataRequired(REQUIRED), Length(max=200)])
    next = HiddenField()


class IntakeForm(FlaskForm):
    service = SelectField(_l("Service"), coerce=int, validators=[InputRequired(REQUIRED)])
    applicant_name = StringField(
        _l("Applicant's full name"), [DataRequired(REQUIRED), Length(min=2, max=200)]
    )
    nik = StringField(_l("NIK (16 digits)"), [DataRequired(REQUIRED), Length(max=40)])
    phone = StringField(_l("Mobile phone"), [Optional(), Length(max=30)])
    email = StringField(
        _l("E-mail"), [Optional(), Length(max=200), Email(_l("This e-mail address is not valid."))]
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
    handover = RadioField(
        _l("How the document is received"),
        choices=options(
            [("pickup", _l("Collected at a pickup point")), ("delivery", _l("Delivered"))]
        ),
        default="pickup",
    )
    point = SelectField(_l("Preferred pickup point"), coerce=int, validators=[Optional()])
    address = TextAreaField(_l("Delivery address"), [Optional(), Length(max=300)])
    representative_allowed = BooleanField(
        _l("A representative with a power of attorney may collect"), default=True
    )
    confirm_duplicate = BooleanField(_l("Register it anyway"))


class MoveForm(FlaskForm):
    to = HiddenField(validators=[DataRequired(REQUIRED)])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(REQUIRED)])
    public_note = TextAreaField(_l("Note for the citizen"), [Optional(), Length(max=1000)])
    internal_note = TextAreaField(_l("Internal note"), [Optional(), Length(max=1000)])
    point = SelectField(_l("Pickup point"), coerce=int, validators=[Optional()])
    courier = StringField(_l("Courier"), [Optional(), Length(max=80)])
    tracking_ref = StringField(_l("Tracking reference"), [Optional(), Length(max=80)])


class BatchForm(FlaskForm):
    receipts = TextAreaField(_l("Receipt numbers, one per line"), [Length(max=40_000)])
    to = SelectField(_l("Move them to"))
    point = SelectField(_l("Pickup point"), coerce=int, validators=[Optional()])


class HandoverForm(FlaskForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(REQUIRED)])
    collector = RadioField(
        _l("Who collects"),
        choices=options(
            [
                (CollectorKind.SELF.value, _l("The applicant")),
                (CollectorKind.REPRESENTATIVE.value, _l("A representative")),
            ]
        ),
        default=CollectorKind.SELF.value,
    )
    id_checked = BooleanField(_l("Identity card checked"))
    collector_name = StringField(_l("Representative's name"), [Optional(), Length(max=200)])
    relation = StringField(_l("Relation to the applicant"), [Optional(), Length(max=80)])
    attorney_checked = BooleanField(_l("Power of attorney (surat kuasa) checked"))


class CallForm(FlaskForm):
    """Call a ready document to a counter; the choices are its point's counters."""

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired(REQUIRED)])
    counter = SelectField(_l("Counter"), validators=[InputRequired(REQUIRED)])


class ClosureForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(REQUIRED)])
    reason = StringField(_l("Reason"), [Optional(), Length(max=200)])


class CountersForm(FlaskForm):
    counters = StringField(_l("Counters, separated by commas"), [Optional(), Length(max=300)])


class VisitForm(FlaskForm):
    name = StringField(_l("Place visited"), [DataRequired(REQUIRED), Length(max=200)])
    address = StringField(_l("Address"), [DataRequired(REQUIRED), Length(max=300)])
    day = DateField(_l("Date"), validators=[InputRequired(REQUIRED)])
    opens = TimeField(_l("From"), validators=[InputRequired(REQUIRED)])
    closes = TimeField(_l("Until"), validators=[InputRequired(REQUIRED)])


PERIODS_PER_DAY = 2


class HoursForm(FlaskForm):
    """Opening hours per weekday, up to two periods a day (fields ``d0_p0_opens`` ...)."""

    @staticmethod
    def field_name(weekday: int, period: int, edge: str) -> str:
        return f"d{weekday}_p{period}_{edge}"


for _weekday in range(7):
    for _period in range(PERIODS_PER_DAY):
        for _edge in ("opens", "closes"):
            setattr(
                HoursForm,
                HoursForm.field_name(_weekday, _period, _edge),
                TimeField(validators=[Optional()]),
            )


class AccountForm(FlaskForm):
    """An empty form: the CSRF token of the account actions."""
