"""The supervisors' forms for pickup points: closures, counters, visits and opening hours."""

from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    StringField,
    TimeField,
)
from wtforms.validators import Length, Optional

from tracker.web.edge import (
    CleanText,
    DayRange,
    Form,
    Required,
    Visible,
)
from tracker.web.forms import COUNTER_LENGTH, MAX_COUNTERS, REQUIRED

PERIODS_PER_DAY = 2


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
