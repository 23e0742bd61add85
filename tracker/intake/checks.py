"""Checks of what the counter types at intake: a phone number and the intake's choices."""

from __future__ import annotations

import re

PHONE_SEPARATORS = re.compile(r"[\s().\-]")


def normalise_phone(text: str) -> str | None:
    """An Indonesian mobile number as ``08…`` (from ``+62 8…``, ``62 8…`` or ``08…``), or
    None when it is not one (10 to 13 digits, starting 08)."""
    digits = PHONE_SEPARATORS.sub("", text or "")
    if digits.startswith("+62"):
        digits = "0" + digits[3:]
    elif digits.startswith("62"):
        digits = "0" + digits[2:]
    if re.fullmatch(r"08[0-9]{8,11}", digits):
        return digits
    return None
