"""The words people read when a look-up cannot be answered, in one place for pages and API."""

from __future__ import annotations

from flask_babel import gettext as _

from tracker.errors import DomainError, ReceiptMistyped, RequestNotFound


def explain(error: DomainError) -> str:
    """A plain sentence for a domain error, in the current language."""
    if isinstance(error, ReceiptMistyped):
        return _mistyped(error.details.get("reason", "check"), error.details.get("length", 0))
    if isinstance(error, RequestNotFound):
        return _(
            "No request has this receipt number. Check it against your receipt, "
            "or ask at the office where you applied."
        )
    return error.message or _("This cannot be done.")


def _mistyped(reason: str, length: int) -> str:
    if reason == "empty":
        return _("Type the receipt number printed on your receipt.")
    if reason == "length":
        return _(
            "A receipt number has 12 characters; you typed %(count)d. "
            "Check it against your receipt.",
            count=length,
        )
    if reason == "character":
        return _(
            "A receipt number has only digits and the letters A–Z without I, L, O and U. "
            "Check it against your receipt."
        )
    return _(
        "This number looks mistyped: one of its characters does not fit. "
        "Check each character against your receipt."
    )


def rate_limited() -> str:
    return _("Too many look-ups from your connection. Please wait a minute and try again.")
