"""The counter's forms: handover, a call to a counter, a batch, and their query arguments."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, ValidationError

from tracker import receipts
from tracker.models import CollectorKind
from tracker.web.edge import (
    LARGEST_ID,
    Bounded,
    CleanText,
    Form,
    PersonName,
    QueryForm,
    Required,
    TextList,
)
from tracker.web.forms import VersionField, options


class PointChoices:
    """Each value of a batch's point choices reads ``RECEIPT:own`` or ``RECEIPT:batch``."""

    def __call__(self, form: Form, field: TextList) -> None:
        for value in field.data or []:
            receipt, _sep, where = value.rpartition(":")
            if where not in ("own", "batch") or not receipts.is_valid(receipt):
                raise ValidationError(
                    _("“%(field)s”: “%(value)s” is not a choice of this page.",
                      field=field.label.text, value=value[:20])
                )  # fmt: skip


class BatchForm(Form):
    receipts = TextAreaField(
        _l("Receipt numbers, one per line"), [CleanText(multiline=True), Length(max=40_000)]
    )
    to = SelectField(_l("Move them to"))
    point = SelectField(_l("Pickup point"), coerce=int, validators=[Optional()])
    # Where a document whose citizen chose another point waits: "RECEIPT:own" or
    # "RECEIPT:batch", one per such document (a select per line on the page).
    choice = TextList(_l("Pickup point of each document"), [PointChoices()], count=4000, length=20)
    everyone = SelectField(
        _l("Every such document"),
        choices=options([("", ""), ("own", _l("its own point")), ("batch", _l("the batch's"))]),
        validators=[Optional()],
    )


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


class ReceiptQuery(QueryForm):
    """``?no=``: a receipt number as typed or scanned."""

    no = StringField(_l("Receipt number"), [CleanText(), Optional(), Length(max=200)])


class HandoverQuery(ReceiptQuery):
    """``?no=``: a receipt (typed or scanned), a pickup number, an NIK or a name; an admin's
    ``?office=``."""

    office = IntegerField(_l("Office"), [Optional(), Bounded(1, LARGEST_ID)])


class BatchCheckQuery(ReceiptQuery):
    to = StringField(_l("Move them to"), [CleanText(), Optional(), Length(max=20)])
    point = IntegerField(_l("Pickup point"), [Optional(), Bounded(1, LARGEST_ID)])
