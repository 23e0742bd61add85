"""The supervisors' forms for pickup points (closures, counters, visits, opening hours and
where the point is) and for their office's contacts; the admins' forms for services, the
collective leave days, an office's name, kind, time zone and address, and a new pickup
point or service."""

from __future__ import annotations

import datetime as dt
import math
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Email, Length, Optional, ValidationError

from tracker.intake.checks import is_office_phone, normalise_phone
from tracker.models.base import TIMEZONES
from tracker.models.places import OfficeKind, PointKind
from tracker.places import pickup
from tracker.web.edge import (
    FIRST_DAY,
    LAST_DAY,
    Bounded,
    CleanText,
    DayRange,
    Form,
    QueryForm,
    Required,
    Sent,
    Visible,
)
from tracker.web.formatters import weekday_name
from tracker.web.forms import COUNTER_LENGTH, MAX_COUNTERS, REQUIRED, options

PERIODS_PER_DAY = 2

OFFICE_KINDS = {
    OfficeKind.DINAS.value: _l("Dinas (regency or city office)"),
    OfficeKind.UPT.value: _l("UPT (technical unit)"),
    OfficeKind.KECAMATAN.value: _l("Kecamatan (district)"),
    OfficeKind.KELURAHAN.value: _l("Kelurahan or desa (village)"),
    OfficeKind.MALL.value: _l("Mall kiosk"),
    OfficeKind.MPP.value: _l("Mal Pelayanan Publik"),
}


class ClosureForm(Form):
    day = DateField(_l("Date"), validators=[Required(), DayRange()])
    reason = StringField(_l("Reason"), [CleanText(), Optional(), Length(max=200)])


class CountersForm(Form):
    counters = StringField(
        _l("Counters, separated by commas"), [Sent(), CleanText(), Optional(), Length(max=300)]
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

    @classmethod
    def every_field_name(cls) -> list[str]:
        return [
            cls.field_name(weekday, period, edge)
            for weekday in range(7)
            for period in range(PERIODS_PER_DAY)
            for edge in ("opens", "closes")
        ]

    def validate(self, extra_validators: object = None) -> bool:
        """Every field came with the post, as a browser sends them (empty or not), each
        period has both ends or neither, and a point keeps at least one: a post that lacks
        fields (made by hand or cut short), or an empty one, would otherwise take periods
        away, or close the point for good."""
        if any(not self[name].raw_data for name in self.every_field_name()):
            self.form_errors.append(
                _l("Not every opening time was sent: reload the page and try again.")
            )
            return False
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
        if valid:
            for weekday in pickup.overlapping(self.periods()):
                self.form_errors.append(
                    _(
                        "%(day)s: the periods overlap. Give the second one after the first closes.",
                        day=weekday_name(weekday),
                    )
                )
                valid = False
        return valid


for _name in HoursForm.every_field_name():
    setattr(HoursForm, _name, TimeField(validators=[Optional()]))


def office_phone(_form: object, field: object) -> None:
    """A telephone number in Indonesia as people write it (``(0254) 200-123``,
    ``+62 254 200123``, ``1500 537``)."""
    typed = (field.data or "").strip()  # type: ignore[attr-defined]
    if typed and not is_office_phone(typed):
        raise ValidationError(
            _l(
                "“Phone” must be a telephone number in Indonesia: with its area code, such as "
                "(0254) 200-123, or a service number, such as 1500 537."
            )
        )


def mobile_number(_form: object, field: object) -> None:
    """An Indonesian mobile number (WhatsApp), kept as ``08…``."""
    typed = (field.data or "").strip()  # type: ignore[attr-defined]
    if not typed:
        return
    number = normalise_phone(typed)
    if number is None:
        raise ValidationError(_l("“WhatsApp” must be a mobile number, such as 0812 3456 7890."))
    field.data = number  # type: ignore[attr-defined]


class ContactForm(Form):
    """Where citizens can reach an office; every field may be left empty, none left out."""

    phone = StringField(
        _l("Phone"), [Sent(), CleanText(), Optional(), Length(max=20), office_phone]
    )
    whatsapp = StringField(
        _l("WhatsApp"), [Sent(), CleanText(), Optional(), Length(max=20), mobile_number]
    )
    email = StringField(
        _l("E-mail"),
        [
            Sent(),
            CleanText(),
            Optional(),
            Length(max=200),
            Email(_l("This e-mail address is not valid.")),
        ],
    )


def _degrees(field: StringField, limit: int, message: object) -> float | None:
    typed = (field.data or "").strip().replace(",", ".")
    if not typed:
        return None
    try:
        value = float(typed)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -limit <= value <= limit:
        field.errors = [message]
        raise ValueError(typed)
    return round(value, 6)


class LocationForm(Form):
    """Where a pickup point is, in degrees (WGS 84, as a map app shows them): both or neither."""

    latitude = StringField(_l("Latitude"), [Sent(), CleanText(), Optional(), Length(max=20)])
    longitude = StringField(_l("Longitude"), [Sent(), CleanText(), Optional(), Length(max=20)])

    def coordinates(self) -> tuple[float | None, float | None]:
        """The coordinates typed (call after ``validate``)."""
        return self._latitude, self._longitude

    def validate(self, extra_validators: object = None) -> bool:
        if not super().validate(extra_validators):  # type: ignore[arg-type]
            return False
        try:
            self._latitude = _degrees(
                self.latitude,
                90,
                _l("“Latitude” must be a number from -90 to 90, such as -6.1203."),
            )
        except ValueError:
            return False
        try:
            self._longitude = _degrees(
                self.longitude,
                180,
                _l("“Longitude” must be a number from -180 to 180, such as 106.1503."),
            )
        except ValueError:
            return False
        if (self._latitude is None) != (self._longitude is None):
            missing = self.longitude if self._longitude is None else self.latitude
            missing.errors = [_l("Give both the latitude and the longitude, or neither.")]
            return False
        return True


# --- The admins' forms: services, collective leave days, an office's details ---------------

TARGET_DAYS = (1, 90)  # as the setup file's schema allows
BRING_LENGTH = 1000


class ServiceForm(Form):
    """A service's names, its legal target in working days and what to bring."""

    name_id = StringField(_l("Name (Indonesian)"), [CleanText(), Visible(), Length(max=120)])
    name_en = StringField(_l("Name (English)"), [CleanText(), Visible(), Length(max=120)])
    target_days = IntegerField(_l("Target (working days)"), [Required(), Bounded(*TARGET_DAYS)])
    bring_id = TextAreaField(
        _l("What to bring (Indonesian)"),
        [Sent(), CleanText(multiline=True), Optional(), Length(max=BRING_LENGTH)],
    )
    bring_en = TextAreaField(
        _l("What to bring (English)"),
        [Sent(), CleanText(multiline=True), Optional(), Length(max=BRING_LENGTH)],
    )
    offered = BooleanField(_l("Offered at intake"), default=True)

    def values(self) -> dict[str, object]:
        """What was typed, trimmed, by the service's column names."""
        typed: dict[str, object] = {
            "name_id": " ".join(self.name_id.data.split()),
            "name_en": " ".join(self.name_en.data.split()),
            "target_days": self.target_days.data,
            "bring_id": (self.bring_id.data or "").strip(),
            "bring_en": (self.bring_en.data or "").strip(),
        }
        if "offered" in self._fields:
            typed["offered"] = bool(self.offered.data)
        return typed


SERVICE_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


class NewServiceForm(ServiceForm):
    """A new service, as ``setup load`` makes one (admins): its code, names, legal target and
    what to bring."""

    code = StringField(_l("Code"), [CleanText(), Visible(), Length(max=32)])
    offered = None  # a new service is offered at intake

    def validate_code(self, field: StringField) -> None:
        field.data = field.data.strip().lower()
        if not SERVICE_CODE.match(field.data):
            raise ValidationError(
                _l("A code is 2 to 32 small letters, digits, dots, dashes or underscores.")
            )


class LeaveDayForm(Form):
    day = DateField(_l("Date"), validators=[Required(), DayRange()])
    name = StringField(_l("Name"), [CleanText(), Visible(), Length(max=200)])


class YearQuery(QueryForm):
    """``?tahun=2027``: the year whose leave days are shown (default: this year)."""

    tahun = IntegerField(_l("Year"), [Optional(), Bounded(FIRST_DAY.year, LAST_DAY.year)])


POINT_KINDS = {
    PointKind.OFFICE.value: _l("The office itself"),
    PointKind.KECAMATAN.value: _l("Kecamatan (district)"),
    PointKind.KELURAHAN.value: _l("Kelurahan or desa (village)"),
    PointKind.MALL.value: _l("Mall kiosk"),
}  # as the setup file's schema allows: a mobile service's point is a visit


class PointForm(Form):
    """What ``setup load`` sets of a pickup point besides its hours, counters and place on the
    map: the name and address citizens read, and its kind."""

    name = StringField(_l("Name"), [CleanText(), Visible(), Length(max=200)])
    kind = SelectField(_l("Kind of point"), choices=options(POINT_KINDS.items()))
    address = StringField(_l("Address"), [CleanText(), Visible(), Length(max=300)])


POINT_CODE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")  # in the board's address: /board/CODE
NUMBER_PREFIX = re.compile(r"^[A-Z]{1,2}$")


class NewPointForm(PointForm, CountersForm):
    """A new pickup point of an office, as ``setup load`` makes one (admins): its code (in the
    board's address), name, kind, address, counters and the prefix of its pickup numbers. Its
    opening hours are set on its own page next."""

    office = SelectField(_l("Office"), validators=[Required()])
    code = StringField(_l("Code"), [CleanText(), Visible(), Length(max=40)])
    number_prefix = StringField(
        _l("Prefix of pickup numbers"), [CleanText(), Visible(), Length(max=2)], default="A"
    )

    def validate_code(self, field: StringField) -> None:
        field.data = field.data.strip().lower()
        if not POINT_CODE.match(field.data):
            raise ValidationError(
                _l("A code is 2 to 40 small letters, digits, dots, dashes or underscores.")
            )

    def validate_number_prefix(self, field: StringField) -> None:
        field.data = field.data.strip().upper()
        if not NUMBER_PREFIX.match(field.data):
            raise ValidationError(_l("One or two letters, as in A-017."))


class OfficeForm(Form):
    """What ``setup load`` sets of an office besides its contacts: name, kind, time zone and
    address."""

    name = StringField(_l("Name"), [CleanText(), Visible(), Length(max=200)])
    kind = SelectField(_l("Kind of office"), choices=options(OFFICE_KINDS.items()))
    timezone = SelectField(
        _l("Time zone"),
        choices=options((zone, f"{short} ({zone})") for zone, short in TIMEZONES.items()),
    )
    address = StringField(_l("Address"), [Sent(), CleanText(), Optional(), Length(max=300)])
