"""The console's forms (Flask-WTF: every one carries a CSRF token), and the query arguments
of its lists. Every text field refuses control characters and invisible-only text
(``tracker.edge``); numbers and dates have sane ranges."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
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
from wtforms.validators import Email, Length, Optional
from wtforms.widgets import HiddenInput

from tracker.models import Channel, CollectorKind
from tracker.web.edge import (
    LARGEST_ID,
    Bounded,
    CleanText,
    DayRange,
    Form,
    PersonName,
    QueryForm,
    Required,
    Visible,
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


class LoginForm(Form):
    username = StringField(_l("Username"), [CleanText(), Visible(), Length(max=60)])
    password = PasswordField(_l("Password"), [Required(), Length(max=200)])
    next = HiddenField()


class IntakeForm(Form):
    service = SelectField(_l("Service"), coerce=int, validators=[Required()])
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
    handover = RadioField(
        _l("How the document is received"),
        choices=options(
            [("pickup", _l("Collected at a pickup point")), ("delivery", _l("Delivered"))]
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


class MoveForm(Form):
    to = HiddenField(validators=[CleanText(), Visible()])
    version = VersionField()
    public_note = TextAreaField(_l("Note for the citizen"), NOTE)
    internal_note = TextAreaField(_l("Internal note"), NOTE)
    point = SelectField(_l("Pickup point"), coerce=int, validators=[Optional()])
    courier = StringField(_l("Courier"), [CleanText(), Optional(), Length(max=80)])
    tracking_ref = StringField(_l("Tracking reference"), [CleanText(), Optional(), Length(max=80)])


class BatchForm(Form):
    receipts = TextAreaField(
        _l("Receipt numbers, one per line"), [CleanText(multiline=True), Length(max=40_000)]
    )
    to = SelectField(_l("Move them to"))
    point = SelectField(_l("Pickup point"), coerce=int, validators=[Optional()])


class HandoverForm(Form):
    version = VersionField()
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
    collector_name = StringField(
        _l("Representative's name"), [CleanText(), Optional(), PersonName()]
    )
    relation = StringField(
        _l("Relation to the applicant"), [CleanText(), Optional(), Length(max=80)]
    )
    attorney_checked = BooleanField(_l("Power of attorney (surat kuasa) checked"))


class CallForm(Form):
    """Call a ready document to a counter; the choices are its point's counters."""

    version = VersionField()
    counter = SelectField(_l("Counter"), validators=[Required()])


class ClosureForm(Form):
    day = DateField(_l("Date"), validators=[Required(), DayRange()])
    reason = StringField(_l("Reason"), [CleanText(), Optional(), Length(max=200)])


class CountersForm(Form):
    counters = StringField(
        _l("Counters, separated by commas"), [CleanText(), Optional(), Length(max=300)]
    )

    def names(self) -> list[str]:
        """The counters typed, in order; each once."""
        typed = [c.strip() for c in (self.counters.data or "").split(",")]
        return list(dict.fromkeys(c for c in typed if c))

    def validate(self, extra_validators: object = None) -> bool:
        if not super().validate(extra_validators):  # type: ignore[arg-type]
            return False
        names = self.names()
        if len(names) > MAX_COUNTERS or any(len(name) > COUNTER_LENGTH for name in names):
            self.counters.errors = [
                _l(
                    "At most %(count)d counters, each at most %(length)d characters.",
                    count=MAX_COUNTERS,
                    length=COUNTER_LENGTH,
                )
            ]
            return False
        return True


class VisitForm(Form):
    name = StringField(_l("Place visited"), [CleanText(), Visible(), Length(max=200)])
    address = StringField(_l("Address"), [CleanText(), Visible(), Length(max=300)])
    day = DateField(_l("Date"), validators=[Required(), DayRange()])
    opens = TimeField(_l("From"), validators=[Required()])
    closes = TimeField(_l("Until"), validators=[Required()])


PERIODS_PER_DAY = 2


class HoursForm(Form):
    """Opening hours per weekday, up to two periods a day (fields ``d0_p0_opens`` ...)."""

    @staticmethod
    def field_name(weekday: int, period: int, edge: str) -> str:
        return f"d{weekday}_p{period}_{edge}"

    def periods(self) -> list[tuple[int, dt.time, dt.time]]:
        """The periods typed, both ends given, by weekday."""
        found = []
        for weekday in range(7):
            for index in range(PERIODS_PER_DAY):
                opens = self[self.field_name(weekday, index, "opens")].data
                closes = self[self.field_name(weekday, index, "closes")].data
                if opens and closes:
                    found.append((weekday, opens, closes))
        return found

    def validate(self, extra_validators: object = None) -> bool:
        """Each period has both ends or neither, and a point keeps at least one: an empty
        form would otherwise close the point for good."""
        valid = super().validate(extra_validators)  # type: ignore[arg-type]
        for weekday in range(7):
            for index in range(PERIODS_PER_DAY):
                opens = self[self.field_name(weekday, index, "opens")]
                closes = self[self.field_name(weekday, index, "closes")]
                if bool(opens.data) != bool(closes.data) and not (opens.errors or closes.errors):
                    (closes if opens.data else opens).errors = [REQUIRED]
                    valid = False
        if valid and not self.periods():
            self.form_errors.append(_l("Give at least one opening period."))
            valid = False
        return valid


for _weekday in range(7):
    for _period in range(PERIODS_PER_DAY):
        for _edge in ("opens", "closes"):
            setattr(
                HoursForm,
                HoursForm.field_name(_weekday, _period, _edge),
                TimeField(validators=[Optional()]),
            )


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


class SearchQuery(OfficeQuery):
    q = StringField(_l("Search"), [CleanText(), Optional(), Length(max=100)])


class ReceiptQuery(QueryForm):
    """``?no=``: a receipt number as typed or scanned."""

    no = StringField(_l("Receipt number"), [CleanText(), Optional(), Length(max=200)])


class BatchCheckQuery(ReceiptQuery):
    to = StringField(_l("Move them to"), [CleanText(), Optional(), Length(max=20)])
    point = IntegerField(_l("Pickup point"), [Optional(), Bounded(1, LARGEST_ID)])


class LoginQuery(QueryForm):
    """``?next=``: where to go after signing in (a path of the console, else its home)."""

    next = StringField(validators=[Optional(), Length(max=2000)])
