"""The query arguments of the GeoReport routes. Their labels are the parameters' own names,
which a caller types whatever its language."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from wtforms import Field, StringField
from wtforms import Form as BaseForm
from wtforms.validators import Optional, StopValidation

from tracker.web.edge import CleanText, QueryForm

MOST_NUMBERS = 10  # receipt numbers one call may ask for; each counts as one look-up
NUMBER_LENGTH = 40  # a receipt number with spaces or dashes fits easily
NUMBERS = "service_request_id"


def split(text: str) -> list[str]:
    """Comma-separated receipt numbers, each once, in the order given."""
    return list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))


def numbers_asked() -> int:
    """How many look-ups a call of ``requests.{fmt}`` counts for (before it is checked)."""
    return min(max(len(split(request.args.get(NUMBERS, ""))), 1), MOST_NUMBERS)


class TrueOrFalse:
    def __call__(self, form: BaseForm, field: Field) -> None:
        if (field.data or "").lower() not in ("", "true", "false"):
            raise StopValidation(_("“%(field)s” is true or false.", field=field.name))


def no_numbers() -> str:
    """Why a list of requests without numbers is refused (the view refuses it, so that the
    form's other arguments are checked on their own)."""
    return _(
        "“%(field)s” is required: name the receipt numbers (comma separated). "
        "Requests are never listed without their numbers.",
        field=NUMBERS,
    )


class ReceiptNumbers:
    """At most ``MOST_NUMBERS`` receipt numbers, comma separated."""

    def __call__(self, form: BaseForm, field: Field) -> None:
        numbers = split(field.data or "")
        if len(numbers) > MOST_NUMBERS or any(len(n) > NUMBER_LENGTH for n in numbers):
            raise StopValidation(
                _(
                    "“%(field)s” takes at most %(count)d receipt numbers, comma separated.",
                    field=field.name,
                    count=MOST_NUMBERS,
                )
            )


class ExtensionsQuery(QueryForm):
    """``?extensions=true``: the history (``notes``) and our own details as well."""

    extensions = StringField("extensions", [CleanText(), Optional(), TrueOrFalse()])

    def wanted(self) -> bool:
        return (self.extensions.data or "").lower() == "true"


class RequestsQuery(ExtensionsQuery):
    """``?service_request_id=A,B``: the requests of these receipt numbers, and no other."""

    service_request_id = StringField(NUMBERS, [CleanText(), ReceiptNumbers()])

    def numbers(self) -> list[str]:
        return split(self.service_request_id.data or "")
