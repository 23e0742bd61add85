"""What the API's keyed routes read from a query, and the console's API-key form."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import Field, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms import Form as BaseForm
from wtforms.validators import Length, Optional, StopValidation

from tracker.models import KeyScope
from tracker.web.edge import Bounded, CleanText, Form, QueryForm, TextList, Visible
from tracker.web.forms import options

PAGE_SIZE, LARGEST_PAGE = 100, 500
EARLIEST = dt.datetime(1970, 1, 2, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
SCOPE_NAMES = {
    KeyScope.READ: _l("Read: statuses and the list of what changed"),
    KeyScope.WRITE: _l("Write: also register requests and change their status"),
}


def parse_moment(text: str) -> dt.datetime | None:
    """An ISO 8601 instant; one without an offset is read as UTC."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if not EARLIEST <= moment <= LATEST:
        return None
    return moment.astimezone(dt.UTC)


def make_cursor(moment: dt.datetime, row_id: int) -> str:
    """Where a page ended, as an opaque text: the last row's (updated_at, id)."""
    raw = f"{moment.astimezone(dt.UTC).isoformat(timespec='microseconds')}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def read_cursor(text: str) -> tuple[dt.datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        moment_text, id_text = raw.split("|")
        row_id = int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    moment = parse_moment(moment_text)
    if moment is None or not 0 < row_id < 2**31:
        return None
    return moment, row_id


class Moment:
    def __call__(self, form: BaseForm, field: Field) -> None:
        if field.data and parse_moment(field.data) is None:
            raise StopValidation(
                _(
                    "“%(field)s” must be a moment in ISO 8601, e.g. 2026-11-27T08:00:00+07:00.",
                    field=field.name,
                )
            )


class Cursor:
    def __call__(self, form: BaseForm, field: Field) -> None:
        if field.data and read_cursor(field.data) is None:
            raise StopValidation(
                _("“%(field)s” is not a cursor this API gave: start again without it.",
                  field=field.name)
            )  # fmt: skip


class Given:
    """Like ``Optional``, but only an argument left out is absent: ``?limit=`` is a limit
    that is not a number, and refused as one."""

    field_flags = {"optional": True}

    def __call__(self, form: BaseForm, field: Field) -> None:
        if not field.raw_data:
            field.errors[:] = []
            raise StopValidation()


class ChangesQuery(QueryForm):
    """``?updated_since=&cursor=&limit=&office=``: a bridge's page of what changed."""

    updated_since = StringField("updated_since", [Optional(), Length(max=40), Moment()])
    cursor = StringField("cursor", [Optional(), Length(max=200), Cursor()])
    limit = IntegerField("limit", [Given(), Bounded(1, LARGEST_PAGE)], default=PAGE_SIZE)
    office = TextList("office", [CleanText()])

    def since(self) -> dt.datetime | None:
        return parse_moment(self.updated_since.data) if self.updated_since.data else None

    def after(self) -> tuple[dt.datetime, int] | None:
        return read_cursor(self.cursor.data) if self.cursor.data else None

    def size(self) -> int:
        return self.limit.data or PAGE_SIZE


class NewKeyForm(Form):
    """A key made in the console. Every office is a valid choice here; the view offers, and
    allows, only those the signed-in account sees."""

    name = StringField(_l("Name of the key"), [CleanText(), Visible(), Length(max=60)])
    offices = SelectMultipleField(_l("Offices"), coerce=int, validators=[Optional()])
    scope = SelectField(
        _l("Scope"), choices=options((s.value, label) for s, label in SCOPE_NAMES.items())
    )

    def chosen(self) -> list[Any]:
        return list(self.offices.data or [])
